"""``loadsim results show|compare``: runs' summaries as text or JSON, and several runs side by side."""

from __future__ import annotations

import argparse
from typing import Any

from loadsim.errors import OptionsError, ResultsError


def register(sub: Any) -> None:
    p = sub.add_parser("results", help="show the results of runs, or compare runs side by side")
    rsub = p.add_subparsers(dest="action", required=True, metavar="show|compare")
    show = rsub.add_parser("show", help="print a run's summary as a table (or every run of a sweep)")
    show.add_argument("path", help="a run folder, a sweep folder or a folder of runs")
    show.add_argument("--json", action="store_true",
                      help="print {\"runs\": [{\"run\", \"path\", \"summary\"}]}: every run's summary.json "
                           "(upgraded to the current schema) with its folder; one shape for one run or many "
                           "(docs/results.md)")
    compare = rsub.add_parser("compare", help="two or more runs side by side, with ratios to the first",
                              description="Key figures of each run in a column; the ratio columns divide "
                                          "each run's figure by the first run's.")
    compare.add_argument("paths", nargs="+", metavar="RUN", help="run folders (two or more)")
    compare.add_argument("--json", action="store_true",
                         help="print the figures and ratios as JSON (shape: docs/results.md)")
    p.set_defaults(func=_cmd_results)


def _cmd_results(args: argparse.Namespace) -> int:
    from loadsim.cli.jsonout import emit
    from loadsim.results.reader import (  # pandas: only when a command reads results
        INCOMPLETE,
        find_runs,
        incomplete_text,
        load,
        read_summary,
    )
    from loadsim.results.text import compare_figures, compare_table, summary_table

    if args.action == "compare":
        if len(args.paths) < 2:
            raise OptionsError("results compare needs two or more run folders, e.g. "
                               "loadsim results compare results/run-a results/run-b")
        runs = [load(p) for p in args.paths]
        for r in runs:
            if not r.complete:
                raise ResultsError(f"'{r.path}': {INCOMPLETE}; compare runs that wrote their summary")
        named = [(str(r.path.name), r.summary) for r in runs]
        if args.json:
            compared = compare_figures(named)
            labels = {key: label for key, label, _ in compared}
            out = {"baseline": named[0][0], "figures": labels, "runs": [
                {"run": name, "path": str(r.path),
                 "figures": {key: values[i] for key, _, (values, _) in compared},
                 "ratio_to_baseline": {key: ratios[i] for key, _, (_, ratios) in compared}}
                for i, ((name, _), r) in enumerate(zip(named, runs, strict=True))]}
            emit(out)
            return 0
        print(compare_table(named))
        return 0
    runs = find_runs(args.path)
    if args.json:
        emit({"runs": [{"run": run.name, "path": str(run), "summary": load(run).summary} for run in runs]})
        return 0
    for i, run in enumerate(runs):
        if i:
            print("\n" + "-" * 100)
        summary = read_summary(run)
        shown = summary_table(summary) if summary.get("complete") else incomplete_text(summary)
        print(shown + f"\n\nresults: {run}")
    return 0
