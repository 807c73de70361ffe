"""``loadsim plan``, ``loadsim report`` and ``loadsim validate`` (registered by loadsim.cli)."""

from __future__ import annotations

import argparse
import json
from dataclasses import MISSING, fields, replace
from typing import Any

from . import sizing as sz

EXIT_FAIL = 3


def _add_deployment_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("target deployment (defaults: the vendor rule, 9 HA pairs on 3 masters)")
    for f in fields(sz.Deployment):
        default = f.default if f.default is not MISSING else None
        flag = "--" + f.name.replace("_", "-")
        note = sz.ASSUMPTIONS.get(f.name, "")
        if f.type in ("bool", bool):
            g.add_argument(flag, dest=f.name, default=None, choices=["true", "false"],
                           help=f"default {str(default).lower()}. {note}")
        else:
            kind = {"int": int, "float": float}.get(str(f.type), str)
            g.add_argument(flag, dest=f.name, default=None, type=kind, help=f"default {default}. {note}")
    g.add_argument("--node-ram-gib", type=float, default=None, help="node RAM in GiB (instead of --node-ram-bytes)")


def deployment_from_args(args: argparse.Namespace) -> sz.Deployment:
    changes: dict[str, Any] = {}
    for f in fields(sz.Deployment):
        value = getattr(args, f.name, None)
        if value is not None:
            changes[f.name] = value == "true" if isinstance(value, str) and value in ("true", "false") else value
    if getattr(args, "node_ram_gib", None) is not None:
        changes["node_ram_bytes"] = args.node_ram_gib * sz.GIB
    return replace(sz.Deployment(), **changes)


def costs_from(path: str | None, tls: bool | None = None) -> sz.UnitCosts:
    if not path:
        return sz.DEFAULT_COSTS
    from .report import load_summaries, select

    return sz.fit_unit_costs(select(load_summaries(path), tls=tls))


def add_plan(sub: Any) -> None:
    p = sub.add_parser("plan", help="PASS/FAIL verdict for a target deployment (default: 9 HA pairs on 3 masters)",
                       description="Predicts memory, CPU, latency and connections per Redis node from unit costs "
                                   "(measured with --from, else labelled defaults). Exit 0 PASS, 3 FAIL, 2 bad input.")
    p.add_argument("--from", dest="from_dir", default=None, metavar="DIR",
                   help="runs or a sweep to measure unit costs from (default: built-in assumptions)")
    p.add_argument("--tls", choices=["true", "false"], default=None,
                   help="with --from: fit only the runs with (true) or without (false) TLS")
    _add_deployment_args(p)
    p.set_defaults(func=_cmd_plan)


def _cmd_plan(args: argparse.Namespace) -> int:
    d = deployment_from_args(args)
    costs = costs_from(args.from_dir, None if args.tls is None else args.tls == "true")
    print("assumptions:")
    for f in fields(d):
        print(f"  {f.name:<20} {getattr(d, f.name)!s:<14} {sz.ASSUMPTIONS.get(f.name, '')}")
    print(f"unit costs ({costs.source}): {costs.bytes_per_session:,.0f} B/live session, "
          f"{costs.base_bytes_per_master / 2**20:.1f} MiB base/master, {costs.cpu_s_per_command * 1e6:.1f} µs "
          f"CPU/command, {costs.commands_per_op:.2f} commands/op\n")
    v = sz.verdict(d, costs)
    print(v.text())
    return 0 if v.passed else EXIT_FAIL


def add_report(sub: Any) -> None:
    p = sub.add_parser("report", help="execute the sizing or TLS notebook on a results folder -> report.html",
                       description="A sweep/run folder gets notebooks/sizing.ipynb, a compare-tls folder "
                                   "notebooks/tls_vs_plain.ipynb; writes DIR/report.html and DIR/figures/*.png.")
    p.add_argument("path", help="a run, sweep or compare-tls folder")
    p.add_argument("-p", "--parameter", action="append", default=[], metavar="NAME=VALUE",
                   help="notebook parameter, e.g. -p ha_pairs=12 -p node_ram_gib=16 (JSON values)")
    p.set_defaults(func=_cmd_report)


def _cmd_report(args: argparse.Namespace) -> int:
    from .report import render

    params: dict[str, Any] = {}
    for item in args.parameter:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise ValueError(f"-p '{item}': write NAME=VALUE, e.g. -p ha_pairs=12")
        try:
            params[name] = json.loads(value)
        except json.JSONDecodeError:
            params[name] = value
    render(args.path, params, echo=lambda m: print(m, flush=True))
    return 0


def add_validate(sub: Any) -> None:
    p = sub.add_parser("validate", help="fit on small runs, predict a larger one, print the error",
                       description="Fidelity check: unit costs from --fit runs predict the used_memory and server "
                                   "CPU of the --check run (not used in the fit). Targets: memory within 10 %%, "
                                   "CPU within 20 %%.")
    p.add_argument("--fit", required=True, help="folder of runs to fit on (e.g. a sweep at 1-3 HA pairs)")
    p.add_argument("--check", required=True, help="the run to predict (e.g. 9 HA pairs)")
    p.set_defaults(func=_cmd_validate)


def validation(fit_dir: str, check_dir: str) -> dict[str, float]:
    """Predicted vs measured used_memory and server CPU of the check run; relative errors."""
    from .report import load_summaries

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

