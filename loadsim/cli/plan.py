"""``loadsim plan``: PASS/FAIL verdict for a target deployment."""

from __future__ import annotations

import argparse
import math
from dataclasses import fields, replace
from typing import Any

from loadsim.errors import OptionsError
from loadsim.model import sizing as sz
from loadsim.options import add_flag

EXIT_FAIL = 3


# Deployment fields that are not flags: the estate comes from --estate, the scales are the envelope's search
NOT_FLAGS = sz.NOT_FLAGS


def _add_deployment_args(p: argparse.ArgumentParser) -> None:
    """One flag per field of the question, from its option's row (loadsim.options): name (the one `locust -f`
    gives the same option; the field's older name stays an alias), type, range, default with its source, help."""
    g = p.add_argument_group("target deployment (defaults: the vendor rule, 9 HA pairs on 3 masters)")
    for f in fields(sz.Deployment):
        row = sz.option_of(f.name)
        if row is None:
            continue
        add_flag(g, row, dest=f.name)  # the CPU ceiling's default too: the row's is in % of one core, as the flag
    g.add_argument("--node-ram-gib", type=float, default=None, help="node RAM in GiB (instead of --node-ram-bytes)")
    g.add_argument("--estate", default=None, metavar="FILE",
                   help="estate TOML file: the operator's HA pairs, rates, session sizes and lifetimes (example: "
                        "scenarios/estate-example.toml); flags given override it for every pair")


def deployment_from_args(args: argparse.Namespace) -> sz.Deployment:
    """Plan's defaults with the flags given."""
    return replace(sz.Deployment(), **changes_from_args(args))


def changes_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """The question's fields the flags set (the what-if over plan's defaults or a folder's own question)."""
    changes: dict[str, Any] = {}
    for f in fields(sz.Deployment):
        value = getattr(args, f.name, None) if f.name not in NOT_FLAGS else None
        if value is not None and f.name == "cpu_ceiling":  # % of one core (the row's unit); the field, a share
            changes[f.name] = sz.cpu_ceiling_share(value)
        elif value is not None:
            changes[f.name] = value == "true" if isinstance(value, str) and value in ("true", "false") else value
    if getattr(args, "node_ram_gib", None) is not None:
        gib, (low, high) = args.node_ram_gib, sz.DEPLOYMENT_RANGES["node_ram_bytes"]
        if not (math.isfinite(gib) and low <= gib * sz.GIB <= high):  # named as given, not in bytes
            raise OptionsError(f"--node-ram-gib: {gib:g} is out of range; give a number from "
                               f"{sz.number_text(low / sz.GIB)} to {sz.number_text(high / sz.GIB)}")
        changes["node_ram_bytes"] = gib * sz.GIB
    if getattr(args, "estate", None):
        changes.update(_estate_changes(args.estate, changes))
    replace(sz.Deployment(), **changes)  # checked before anything is read: one line naming the flag
    return changes


def _estate_changes(path: str, given: dict[str, Any]) -> dict[str, Any]:
    from loadsim.config.estate import read_estate_file

    data, name = read_estate_file(path)
    return sz.estate_changes(data, name, given)


def costs_from(path: str | None, tls: bool | None = None) -> sz.UnitCosts:
    return costs_and_runs(path, tls)[0]


def costs_and_runs(path: str | None, tls: bool | None = None) -> tuple[sz.UnitCosts, list[str]]:
    """Unit costs of the folder (``loadsim.results.runs.unit_costs``: capacity > runs > reference values) and the
    folders of the runs fitted."""
    from loadsim.results.runs import unit_costs

    costs, runs = unit_costs(path, tls)
    return costs, [r.path for r in runs]


def verdict_line(path: str | Any) -> str:
    """One line for the end of a sweep: the verdict ``loadsim plan --from PATH`` gives (the sweep's own question),
    or why there is none."""
    from loadsim.errors import LoadsimError
    from loadsim.results.runs import verdict_for

    try:
        v, _ = verdict_for(str(path), with_envelope=False)
    except LoadsimError as exc:
        return f"verdict: none ({exc})"
    return (f"verdict: {v.headline}; binding {v.binding.name} ({sz._margin(v.binding.margin)}); details: "
            f"loadsim plan --from {path}")


def register(sub: Any) -> None:
    p = sub.add_parser("plan", help="PASS/FAIL verdict for a target deployment (default: 9 HA pairs on 3 masters)",
                       description="Predicts memory, CPU, latency and connections per Redis node from unit costs "
                                   "(measured with --from, else labelled defaults). Exit 0 PASS, 3 FAIL, 2 bad input.")
    p.add_argument("--from", dest="from_dir", default=None, metavar="DIR",
                   help="runs or a sweep to measure unit costs from (default: built-in assumptions)")
    p.add_argument("--json", action="store_true", help="print the verdict as JSON (same exit codes)")
    _add_deployment_args(p)
    p.set_defaults(func=_cmd_plan)


def _cmd_plan(args: argparse.Namespace) -> int:
    from loadsim.results.runs import verdict_for

    v, fitted = verdict_for(args.from_dir, changes_from_args(args))
    d, costs = v.prediction.deployment, v.prediction.costs
    if args.json:
        from pathlib import Path

        from loadsim.cli.jsonout import emit

        emit({**sz.verdict_dict(v), "from": args.from_dir,
              "runs": [{"run": Path(f).name, "path": f} for f in fitted]})
        return 0 if v.passed else EXIT_FAIL
    # the answer first; what it rests on after it
    print(v.text())
    print("\nassumptions (each is a flag of loadsim plan; vendor: documented by Genesys or Redis, assumption: "
          "not published):")
    q = v.question
    if q is not None:
        print(q.text())
    given, plain = {n for n, _, _ in (q.changed if q else ())}, sz.Deployment()
    for f in fields(d):
        if f.name in NOT_FLAGS[1:]:
            continue
        shown = d.estate.source if f.name == "estate" and d.estate else getattr(d, f.name)
        if f.name == "cpu_ceiling":
            shown = f"{100 * d.cpu_ceiling:g} %"  # of one core: the flag's unit
        where = ("given (what-if)" if f.name in given else
                 f"from {q.asked}" if q is not None and getattr(plain, f.name) != getattr(d, f.name) else
                 sz.ASSUMPTIONS.get(f.name, ""))
        print(f"  {f.name:<20} {shown!s:<14} {where}")
    if d.estate is not None:
        print(f"estate {d.estate.name!r} ({d.estate.source}):")
        for g in d.estate.groups:
            q = g.params
            print(f"  {g.name:<20} {g.pairs} pair(s) x {q.cps_per_pair:g} calls/s, session "
                  f"{q.complexity.record_bytes:,} B, {q.writes_per_session:g} writes, mean lifetime "
                  f"{q.mean_lifetime_s:,.0f} s")
    if not costs.calibrated:
        print(f"unit costs ({costs.source})")
    else:
        print(f"unit costs ({costs.source}): the memory model {costs.factor_text()} ({costs.memory_note}), "
              f"{costs.base_bytes_per_master / 2**20:.2f} MiB base/master; commands per operation the model's x "
              f"{costs.commands_factor:.3f}")
    print(v.prediction.cpu_line)
    return 0 if v.passed else EXIT_FAIL
