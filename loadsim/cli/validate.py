"""``loadsim validate``: calibrate the model on some runs, predict another one, print the error."""

from __future__ import annotations

import argparse
from typing import Any

from loadsim.cli.plan import EXIT_FAIL
from loadsim.errors import FitError
from loadsim.model import sizing as sz

MEMORY_TARGET = 0.05  # used_memory within 5 %
# server CPU within 15 %: with a master's base CPU fitted as the intercept of CPU against the command rate and 0.40
# ns per byte (loadsim.model.unitcosts), standard runs (1 and 3 pairs) predicted a complex run (2 pairs) -14.4 ..
# +26.2 % in six trials of 6 s runs and -19.8 .. +10.1 % in three of 25 s, on a 2-core machine at 93-99 % CPU
# pressure (before: +8.7 .. +51.0 %); there the same run repeated minutes apart moved 10-12 % (sd), what a
# wake-up costs the master on a shared host (docs/workload.md), which no model takes out
CPU_TARGET = 0.15


def register(sub: Any) -> None:
    p = sub.add_parser("validate", help="calibrate the model on some runs, predict another one, print the error",
                       description="Fidelity check: the memory model calibrated on the --fit runs (another size, "
                                   "preset or layout is fine) predicts the used_memory and server CPU of the "
                                   "--check run (not used in the calibration). Targets: memory within "
                                   f"{MEMORY_TARGET:.0%}, CPU within {CPU_TARGET:.0%}.")
    p.add_argument("--fit", required=True, help="folder of runs to calibrate on (e.g. a sweep at 1-3 HA pairs)")
    p.add_argument("--check", required=True, help="the run to predict (e.g. 9 HA pairs, or the complex preset)")
    p.set_defaults(func=_cmd_validate)


def validation(fit_dir: str, check_dir: str) -> dict[str, Any]:
    """Predicted vs measured used_memory and server CPU of the check run; relative errors."""
    from loadsim.results.runs import read_runs

    fit = read_runs(fit_dir)
    target = read_runs(check_dir)[0]
    if target.workload is None:
        raise FitError(f"'{check_dir}' has no config.json describing its sessions: the model cannot predict it")
    costs = sz.fit_unit_costs(fit)
    mem_pred, cpu_pred = sz.predict_run(target, costs)
    return {"memory_predicted": mem_pred, "memory_measured": target.used_memory,
            "memory_error": mem_pred / target.used_memory - 1, "cpu_predicted": cpu_pred,
            "cpu_measured": target.cpu_s, "cpu_error": cpu_pred / target.cpu_s - 1 if target.cpu_s else 0.0,
            "fit_runs": len(fit), "factor": costs.factor_text(), "how": costs.memory_note}


def _cmd_validate(args: argparse.Namespace) -> int:
    r = validation(args.fit, args.check)
    print(f"calibrated on {r['fit_runs']} runs: memory model {r['factor']} ({r['how']}); predicting {args.check}")
    print(f"used_memory: predicted {r['memory_predicted'] / 2**20:,.2f} MiB, measured "
          f"{r['memory_measured'] / 2**20:,.2f} MiB, error {100 * r['memory_error']:+.1f} % "
          f"(target within {MEMORY_TARGET:.0%})")
    print(f"server CPU (steady window): predicted {r['cpu_predicted']:.2f} s, measured {r['cpu_measured']:.2f} s, "
          f"error {100 * r['cpu_error']:+.1f} % (target within {CPU_TARGET:.0%})")
    ok = abs(r["memory_error"]) <= MEMORY_TARGET and abs(r["cpu_error"]) <= CPU_TARGET
    print("within targets" if ok else "OUTSIDE targets")
    return 0 if ok else EXIT_FAIL
