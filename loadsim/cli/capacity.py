"""``loadsim capacity``: one master's capacity with the ORS command mix (open loop stepped + closed loop)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from loadsim import options as O
from loadsim.defaults import value
from loadsim.errors import ExperimentError, OptionsError
from loadsim.options import add_flag


def register(sub: Any) -> None:
    p = sub.add_parser("capacity", help="what one master sustains: loadsim's open loop stepped to the SLO, the CPU "
                                        "ceiling or the generator's limit, then redis-benchmark's closed loop",
                       description="On one embedded cluster: (a) headless runs at increasing HA pairs until p99 is "
                                   "over the SLO, the busiest master reaches the CPU ceiling or the generator binds "
                                   "first; (b) redis-benchmark with the same command mix and record size, keys "
                                   "hash-tagged into the first master's slots. Writes capacity.json and "
                                   "capacity.png. Extra run options go after '--', e.g. -- --aht 60")
    p.add_argument("--steps", default="1,2,4,8,16,32", help="HA pairs of the open-loop steps, increasing "
                                                            "(default 1,2,4,8,16,32)")
    p.add_argument("--step-time", default="15s", help="length of each open-loop step, Locust syntax (default 15s)")
    # the options other commands take too: their rows (loadsim.options), as plan, the runs and the web form read them
    add_flag(p, O.EMBEDDED_MASTERS, default=value("masters"), help="The embedded cluster's.")
    p.add_argument("--tls", action="store_true", help="TLS between the drivers and Redis")
    add_flag(p, O.COMPLEXITY, default=value("complexity"))
    add_flag(p, O.CPS_PER_PAIR, shown_default="the scenario's")
    p.add_argument("--processes", type=int, default=1, help="generator processes per step (raises the open loop's "
                                                            "limit; default 1)")
    add_flag(p, O.LATENCY_SLO_P99_US, dest="slo_p99_us")
    add_flag(p, O.STOP_AT_CPU)
    # capacity's --cpu-ceiling was where stepping stops, not plan's --cpu-ceiling (the plan's limit): the old
    # spelling stays, and says what it means now
    p.add_argument("--cpu-ceiling", dest="old_cpu_ceiling", default=None, metavar="PERCENT",
                   help=f"the old name of --stop-at-cpu (plan's --cpu-ceiling, {value('cpu_ceiling'):g} %% by "
                        "default, is the plan's limit: another figure)")
    p.add_argument("--clients", type=int, default=50, help="closed-loop connections (default 50)")
    p.add_argument("--requests", type=int, default=50_000, help="closed-loop requests per command (default 50000)")
    p.add_argument("--concurrency", default=None,
                   help="connections of the latency-vs-load curve's closed-loop levels, increasing from 1 (default "
                        "1,2,4,8,16,32,64)")
    p.add_argument("--curve-requests", type=int, default=None,
                   help="requests per curve level over the command mix (default 6000)")
    p.add_argument("--memtier", default=None, metavar="PATH",
                   help="memtier_benchmark to drive the curve (the mix in one run; default: redis-benchmark)")
    p.add_argument("--redis-benchmark", default=None, help="path of redis-benchmark (default: from PATH)")
    p.add_argument("--out", default=None, help="results folder (default results/capacity-<timestamp>)")
    p.add_argument("extra", nargs=argparse.REMAINDER, help="after '--': options passed to every open-loop run")
    p.set_defaults(func=_cmd_capacity)


def _cmd_capacity(args: argparse.Namespace) -> int:
    import math
    import time

    from loadsim import paths
    from loadsim.defaults import DEFAULTS
    from loadsim.experiments.capacity import (
        CURVE_CONCURRENCY,
        CURVE_REQUESTS,
        CapacityPlan,
        plan_lines,
        run_capacity,
        verdict_lines,
    )
    from loadsim.experiments.sweep import (
        Point,
        check_complexity,
        check_run_options,
        check_runs,
        ignored_connection_note,
        parse_list,
    )
    from loadsim.model.question import cpu_ceiling_share

    steps = parse_list("steps", args.steps, int)
    concurrency = (parse_list("concurrency", args.concurrency, int) if args.concurrency is not None
                   else list(CURVE_CONCURRENCY))
    check_complexity(args.complexity)
    extra = [a for a in args.extra if a != "--"]
    for axis in ("-u", "--users", "--redis-nodes", "--results-dir", "--tls-enabled", "--complexity", "-t",
                 "--run-time", "--processes"):
        if axis in extra:
            raise ExperimentError(f"'{axis}' after '--' would override what capacity steps itself; give it as a "
                                  "capacity option (loadsim capacity --help)")
    check_run_options(extra)
    slo = args.slo_p99_us if args.slo_p99_us is not None else float(DEFAULTS["latency_slo_p99_us"].value)
    if args.stop_at_cpu is not None and args.old_cpu_ceiling is not None:
        raise OptionsError("--cpu-ceiling is the old name of --stop-at-cpu: give --stop-at-cpu only")
    given, flag = ((args.old_cpu_ceiling, "--cpu-ceiling") if args.old_cpu_ceiling is not None
                   else (args.stop_at_cpu, "--stop-at-cpu"))
    ceiling = 100 * cpu_ceiling_share(given, flag) if given is not None else float(DEFAULTS["master_cpu_knee"].value)
    plan = CapacityPlan(steps=steps, step_time=args.step_time, masters=args.masters, tls=args.tls,
                        complexity=args.complexity, cps_per_pair=args.cps_per_pair, processes=args.processes,
                        slo_p99_us=slo, cpu_ceiling_percent=ceiling, clients=args.clients,
                        requests=args.requests, redis_benchmark=args.redis_benchmark, concurrency=concurrency,
                        curve_requests=CURVE_REQUESTS if args.curve_requests is None else args.curve_requests,
                        memtier=args.memtier)
    plan.validate()
    O.EMBEDDED_MASTERS.check(args.masters)
    out = Path(args.out or f"results/capacity-{time.strftime('%Y%m%d-%H%M%S')}")
    if out.exists() and any(out.iterdir()):
        raise ExperimentError(f"'{out}' is not empty; choose a new --out folder")
    # the runs themselves, asked of the scenario before the cluster starts: what one generator process holds at
    # the largest step, Locust's own options after '--' (--bogus-opt), the scenario's defaults
    per_process = [math.ceil(s / plan.processes) for s in (steps[0], steps[-1])]
    check_runs(paths.scenario_file(plan.scenario), args.step_time,
               [Point(p, args.masters, 0, args.tls, args.complexity, 1, args.cps_per_pair) for p in per_process],
               extra)
    if args.old_cpu_ceiling is not None:  # accepted: say once what it is now, and that plan's is another figure
        print(f"note: capacity --cpu-ceiling is now --stop-at-cpu (where stepping stops: {ceiling:g} % of one core); "
              f"plan's --cpu-ceiling ({value('cpu_ceiling'):g} % by default) is the plan's limit", flush=True)
    note = ignored_connection_note()
    if note:
        print(note, flush=True)
    print(f"capacity of one master into {out} (open loop: {len(steps)} steps at most x {args.step_time})", flush=True)
    result = run_capacity(plan, out, echo=lambda m: print(m, flush=True), extra=extra)
    from loadsim.errors import LoadsimError
    from loadsim.results.runs import verdict_for

    lines = verdict_lines(result)
    try:  # what plan --from this folder answers: the same function, the same folder
        v, _ = verdict_for(out, with_envelope=False)
        lines += [f"plan --from {out} (its question: {v.question.asked if v.question else 'plan defaults'}):",
                  *plan_lines(v)]
    except LoadsimError as exc:
        lines.append(f"plan --from {out}: no verdict ({exc})")
    print("\n" + "\n".join(lines) + f"\n\nresults: {out}/capacity.json")
    return 0
