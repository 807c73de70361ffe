"""``loadsim options``: every option a scenario run takes, with its default and source.

Locust prints ``locust -f scenarios/ha9.py --help`` before it imports the locustfile, so loadsim's own
options cannot appear there; this command lists them (the ORS ``[persistence]`` options and the
simulation parameters), as ``locust -f`` and ``LOCUST_*`` environment variables accept them.
"""

from __future__ import annotations

import argparse
from typing import Any

from loadsim.config.persistence import add_arguments
from loadsim.config.simulation import add_simulation_arguments


def register(sub: Any) -> None:
    p = sub.add_parser("options", help="list the options of 'locust -f <scenario>' runs (defaults and sources)",
                       description="The options loadsim adds to Locust's command line (locust --help cannot show "
                                   "them: Locust prints its help before it imports the scenario).")
    p.set_defaults(func=_cmd)


def _cmd(args: argparse.Namespace) -> int:
    parser = argparse.ArgumentParser(prog="locust -f scenarios/ha9.py", add_help=False,
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     description="Locust's own options: locust --help. loadsim's options:")
    add_arguments(parser)
    add_simulation_arguments(parser, {})
    print(parser.format_help())
    return 0
