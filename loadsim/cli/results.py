"""``loadsim results show|compare``: runs' summaries as text or JSON, and several runs side by side."""

from __future__ import annotations

import argparse
import json
from typing import Any

from loadsim.errors import OptionsError


def register(sub: Any) -> None:
    p = sub.add_parser("results", help="show the results of runs, or compare runs side by side")
    rsub = p.add_subparsers(dest="action", required=True, metavar="show|compare")
    show = rsub.add_parser("show", help="print a run's summary as a table (or every run of a sweep)")
    show.add_argument("path", help="a run folder, a sweep folder or a folder of runs")
    show.add_argument("--json", action="store_true",
                      help="print summary.json (upgraded to the current schema); a list for several runs")
    compare = rsub.add_parser("compare", help="two or more runs side by side, with ratios to the first",
                              description="Key figures of each run in a column; the ratio columns divide "
                                          "each run's figure by the first run's.")
    compare.add_argument("paths", nargs="+", metavar="RUN", help="run folders (two or more)")
    p.set_defaults(func=_cmd_results)


def _cmd_results(args: argparse.Namespace) -> int:
    from loadsim.results.reader import find_runs, load  # pandas: only when a command reads results
    from loadsim.results.text import compare_table, summary_table

    if args.action == "compare":
        if len(args.paths) < 2:
            raise OptionsError("results compare needs two or more run folders, e.g. "
                               "loadsim results compare results/run-a results/run-b")
        runs = [load(p) for p in args.paths]
        print(compare_table([(str(r.path.name), r.summary) for r in runs]))
        return 0
    runs = find_runs(args.path)
    if args.json:
        summaries = [load(run).summary for run in runs]
        print(json.dumps(summaries[0] if len(summaries) == 1 else summaries, indent=2))
        return 0
    for i, run in enumerate(runs):
        if i:
            print("\n" + "-" * 100)
        print(summary_table(load(run).summary) + f"\n\nresults: {run}")
    return 0
