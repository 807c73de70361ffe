"""``loadsim sweep``: a grid of real runs."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from loadsim import options as O
from loadsim.errors import ExperimentError
from loadsim.options import add_list_flag


def register(sub: Any) -> None:
    p = sub.add_parser("sweep", help="run a grid of real runs (HA pairs x masters x replicas x TLS x repeats)",
                       description="Each point gets a fresh embedded cluster and a headless Locust run; "
                                   "one results folder per point plus sweep.json. Extra Locust/scenario "
                                   "options go after '--', e.g. -- --aht 60 --cps-per-pair 10")
    # the sweep's axes are options other commands take too: their rows (loadsim.options), as comma lists
    add_list_flag(p, O.HA_PAIRS, default="1,3,9")
    add_list_flag(p, O.EMBEDDED_MASTERS, default=str(O.EMBEDDED_MASTERS.default_value))
    add_list_flag(p, O.EMBEDDED_REPLICAS, default=str(O.EMBEDDED_REPLICAS.default_value))
    # --embedded-tls as `locust -f` names it (here a comma list: the sweep's axis); --tls stays accepted
    p.add_argument("--embedded-tls", "--tls", dest="tls", default="off",
                   help="comma list of off/on or false/true (default off)")
    add_list_flag(p, O.COMPLEXITY, default=O.COMPLEXITY.default_value)
    add_list_flag(p, O.CPS_PER_PAIR, default=None, shown_default="the scenario's")
    p.add_argument("--repeats", type=int, default=1, help="repeats of every point (default 1)")
    p.add_argument("--precision", default=None,
                   help="after --repeats, add repeats of every point until the 95 %% intervals of bytes per live "
                        "session and server CPU/command are within this relative half-width, e.g. 5%% or 0.05, judged "
                        "from the 10th repeat on (default: none)")
    p.add_argument("--budget", default=None,
                   help="wall-clock budget, e.g. 90s, 10m, 1h: no further repeat is started that would not fit "
                        "(default: none)")
    p.add_argument("--run-time", default="60s", help="per point, Locust syntax (default 60s)")
    p.add_argument("--scenario", default="ha9", help="scenario name in scenarios/ or a .py path (default ha9)")
    p.add_argument("--out", default=None, help="sweep folder (default results/sweep-<timestamp>)")
    p.add_argument("--json", action="store_true",
                   help="progress on stderr, and on stdout one JSON object at the end: the sweep folder, every run "
                        "(name, folder, ok) and the next command (shape: docs/results.md)")
    p.add_argument("extra", nargs=argparse.REMAINDER, help="after '--': options passed to every run")
    p.set_defaults(func=_cmd_sweep)


def _cmd_sweep(args: argparse.Namespace) -> int:
    import json
    import sys
    import time

    from loadsim.experiments.precision import parse_budget, parse_precision
    from loadsim.experiments.sweep import (
        SWEEP_INDEX,
        Grid,
        check_run_options,
        check_run_time,
        failed_runs,
        parse_list,
        parse_onoff,
        run_sweep,
    )

    goal = parse_precision(args.precision) if args.precision is not None else None
    budget = parse_budget(args.budget) if args.budget is not None else None
    grid = Grid(ha_pairs=parse_list("ha-pairs", args.ha_pairs, int), masters=parse_list("masters", args.masters, int),
                replicas=parse_list("replicas", args.replicas, int), tls=parse_list("tls", args.tls, parse_onoff),
                complexity=parse_list("complexity", args.complexity, str),
                cps_per_pair=parse_list("cps-per-pair", args.cps_per_pair, float) if args.cps_per_pair else [None],
                repeats=args.repeats)
    grid.validate()
    check_run_time(args.run_time)
    extra = [a for a in args.extra if a != "--"]
    for axis in ("--complexity", "--cps-per-pair", "-u", "--users", "--redis-nodes", "--results-dir", "--tls-enabled"):
        if axis in extra:
            raise ExperimentError(f"'{axis}' after '--' would override the sweep's own axis; give it as a sweep option "
                             "(loadsim sweep --help)")
    check_run_options(extra)
    out = Path(args.out or f"results/sweep-{time.strftime('%Y%m%d-%H%M%S')}")
    progress = sys.stderr if args.json else sys.stdout  # with --json, stdout holds only the JSON

    def echo(message: str) -> None:
        print(message, file=progress, flush=True)

    echo(f"sweep of {len(grid.points())} runs x {args.run_time} into {out}")
    from loadsim.experiments.sweep import ignored_connection_note

    note = ignored_connection_note()
    if note:
        echo(note)
    run_sweep(grid, out, args.run_time, args.scenario, extra, echo=echo, precision=goal, budget_s=budget)
    index = json.loads((out / SWEEP_INDEX).read_text())
    failed = failed_runs(index["runs"])
    if args.json:
        from loadsim.cli.jsonout import emit
        from loadsim.cli.plan import verdict_line

        emit(sweep_json(out, index, None if failed else verdict_line(out)))
        return 1 if failed else 0
    if failed:
        print(f"\nsweep done with {len(failed)} failed run(s): {', '.join(failed)} (logs: {out}/<run>.log)",
              flush=True)
        return 1
    from loadsim.cli.plan import verdict_line

    print(f"\nsweep done: {out}\n{verdict_line(out)}\nnext: loadsim report {out}")
    return 0


def sweep_json(out: Path, index: dict[str, Any], verdict: str | None = None) -> dict[str, Any]:
    """``loadsim sweep --json``'s closing object (shape: loadsim.results.shapes) from the sweep's index."""
    from loadsim.experiments.sweep import failed_runs

    runs = [{"run": e["path"], "path": str(out / e["path"]), "label": e["label"], "ok": e["ok"],
             "seconds": e["seconds"], **{k: e[k] for k in ("error", "interrupted") if k in e}}
            for e in index["runs"]]
    failed = failed_runs(index["runs"])
    return {"ok": not failed, "sweep": str(out), "complete": bool(index.get("complete")), "runs": runs,
            "failed": failed, "verdict": verdict, "next": f"loadsim report {out}"}
