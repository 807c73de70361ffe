"""``loadsim plan``: PASS/FAIL verdict for a target deployment."""

from __future__ import annotations

import argparse
import json
from dataclasses import MISSING, fields, replace
from typing import Any

from loadsim.model import sizing as sz

EXIT_FAIL = 3


def _add_deployment_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("target deployment (defaults: the vendor rule, 9 HA pairs on 3 masters)")
    for f in fields(sz.Deployment):
        default = f.default if f.default is not MISSING else None
        flag = "--" + f.name.replace("_", "-")
        note = sz.ASSUMPTIONS.get(f.name, "").replace("%", "%%")  # argparse formats help with %
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
    from loadsim.report.sizing import load_summaries, select

    return sz.fit_unit_costs(select(load_summaries(path), tls=tls))


def register(sub: Any) -> None:
    p = sub.add_parser("plan", help="PASS/FAIL verdict for a target deployment (default: 9 HA pairs on 3 masters)",
                       description="Predicts memory, CPU, latency and connections per Redis node from unit costs "
                                   "(measured with --from, else labelled defaults). Exit 0 PASS, 3 FAIL, 2 bad input.")
    p.add_argument("--from", dest="from_dir", default=None, metavar="DIR",
                   help="runs or a sweep to measure unit costs from (default: built-in assumptions)")
    p.add_argument("--json", action="store_true", help="print the verdict as JSON (same exit codes)")
    p.add_argument("--tls", choices=["true", "false"], default=None,
                   help="with --from: fit only the runs with (true) or without (false) TLS")
    _add_deployment_args(p)
    p.set_defaults(func=_cmd_plan)


def _cmd_plan(args: argparse.Namespace) -> int:
    d = deployment_from_args(args)
    costs = costs_from(args.from_dir, None if args.tls is None else args.tls == "true")
    if args.json:
        v = sz.verdict(d, costs)
        print(json.dumps(sz.verdict_dict(v), indent=2))
        return 0 if v.passed else EXIT_FAIL
    print("assumptions:")
    for f in fields(d):
        print(f"  {f.name:<20} {getattr(d, f.name)!s:<14} {sz.ASSUMPTIONS.get(f.name, '')}")
    print(f"unit costs ({costs.source}): {costs.bytes_per_session:,.0f} B/live session, "
          f"{costs.base_bytes_per_master / 2**20:.1f} MiB base/master, {costs.cpu_s_per_command * 1e6:.1f} µs "
          f"CPU/command, {costs.commands_per_op:.2f} commands/op\n")
    v = sz.verdict(d, costs)
    print(v.text())
    return 0 if v.passed else EXIT_FAIL
