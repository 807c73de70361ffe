"""``loadsim results show``: a run's summary as text."""

from __future__ import annotations

import argparse
from typing import Any

from loadsim.results.reader import find_runs, load
from loadsim.results.text import summary_table


def register(sub: Any) -> None:
    p = sub.add_parser("results", help="show the results of runs")
    rsub = p.add_subparsers(dest="action", required=True, metavar="show")
    show = rsub.add_parser("show", help="print a run's summary as a table (or every run of a sweep)")
    show.add_argument("path", help="a run folder, a sweep folder or a folder of runs")
    p.set_defaults(func=_cmd_results)


def _cmd_results(args: argparse.Namespace) -> int:
    for i, run in enumerate(find_runs(args.path)):
        if i:
            print("\n" + "-" * 100)
        print(summary_table(load(run).summary) + f"\n\nresults: {run}")
    return 0
