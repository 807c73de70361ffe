"""``loadsim scenario-path NAME``: the path of a bundled scenario, for ``locust -f "$(loadsim scenario-path ha9)"``.

Scenarios and notebooks ship inside the package (``loadsim/scenarios``, ``loadsim/notebooks``), so a
non-editable install can run them from any folder; a checkout shows them at the top level too.
"""

from __future__ import annotations

import argparse
from typing import Any

from loadsim.paths import scenario_file, scenario_names


def register(sub: Any) -> None:
    p = sub.add_parser("scenario-path", help="print the path of a bundled scenario (for locust -f)",
                       description="Prints the file of a scenario shipped with loadsim, e.g. "
                                   "locust -f \"$(loadsim scenario-path ha9)\". Without NAME, lists them.")
    p.add_argument("name", nargs="?", default=None, help="scenario name, e.g. ha9 (default: list the scenarios)")
    p.set_defaults(func=_cmd)


def _cmd(args: argparse.Namespace) -> int:
    if args.name is None:
        print("\n".join(scenario_names()))
        return 0
    print(scenario_file(args.name))
    return 0
