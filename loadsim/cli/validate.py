"""``loadsim validate``: fit on small runs, predict a larger one, print the error."""

from __future__ import annotations

import argparse
from typing import Any

from loadsim.cli.plan import EXIT_FAIL
from loadsim.model import sizing as sz


def register(sub: Any) -> None:
    p = sub.add_parser("validate", help="fit on small runs, predict a larger one, print the error",
                       description="Fidelity check: unit costs from --fit runs predict the used_memory and server "
                                   "CPU of the --check run (not used in the fit). Targets: memory within 10 %, "
                                   "CPU within 20 %.")
    p.add_argument("--fit", required=True, help="folder of runs to fit on (e.g. a sweep at 1-3 HA pairs)")
    p.add_argument("--check", required=True, help="the run to predict (e.g. 9 HA pairs)")
    p.set_defaults(func=_cmd_validate)


def validation(fit_dir: str, check_dir: str) -> dict[str, float]:
    """Predicted vs measured used_memory and server CPU of the check run; relative errors."""
    from loadsim.report.sizing import load_summaries

    fit = load_summaries(fit_dir)
    target = load_summaries(check_dir)[0]
    costs = sz.fit_unit_costs(fit)
    masters = len(target["masters"])
    live = target["live_sessions"]["steady_mean"]
    mem_pred = masters * costs.base_bytes_per_master + live * costs.bytes_per_session
    mem_meas = sum(m["used_memory_steady_mean"] for m in target["masters"])
    cpu_meas, master_seconds, commands = sz.steady_cpu(target)
    cpu_pred = master_seconds * costs.base_cpu_per_master + commands * costs.cpu_s_per_command
    return {"memory_predicted": mem_pred, "memory_measured": mem_meas, "memory_error": mem_pred / mem_meas - 1,
            "cpu_predicted": cpu_pred, "cpu_measured": cpu_meas, "cpu_error": cpu_pred / cpu_meas - 1,
            "fit_runs": len(fit)}


def _cmd_validate(args: argparse.Namespace) -> int:
    r = validation(args.fit, args.check)
    print(f"fitted on {r['fit_runs']} runs; predicting {args.check}")
    print(f"used_memory: predicted {r['memory_predicted'] / 2**20:,.1f} MiB, measured "
          f"{r['memory_measured'] / 2**20:,.1f} MiB, error {100 * r['memory_error']:+.1f} % (target within 10 %)")
    print(f"server CPU (steady window): predicted {r['cpu_predicted']:.2f} s, measured {r['cpu_measured']:.2f} s, "
          f"error "
          f"{100 * r['cpu_error']:+.1f} % (target within 20 %)")
    ok = abs(r["memory_error"]) <= 0.10 and abs(r["cpu_error"]) <= 0.20
    print("within targets" if ok else "OUTSIDE targets")
    return 0 if ok else EXIT_FAIL

