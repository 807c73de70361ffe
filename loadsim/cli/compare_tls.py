"""``loadsim compare-tls``: TLS vs plain, interleaved repeats."""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from loadsim import defaults as D
from loadsim import options as O
from loadsim.errors import OptionsError
from loadsim.options import add_flag


def register(sub: Any) -> None:
    p = sub.add_parser("compare-tls", help="what TLS costs: plain vs TLS, interleaved repeats, report-ready",
                       description="Same workload and seed on a plain and a TLS embedded cluster, A/B "
                                   "interleaved, at a fixed load and stepping up to saturation; plus a "
                                   "redis-benchmark cross-check. Render with 'loadsim report OUT'.")
    # --scenario as sweep names it; the positional SCENARIO stays accepted (older scripts give it)
    p.add_argument("scenario_arg", nargs="?", default=None, metavar="SCENARIO",
                   help="scenario name in scenarios/ (default ha9; same as --scenario)")
    p.add_argument("--scenario", default=None, help="scenario name in scenarios/ or a .py path (default ha9)")
    # the options other commands take too: their rows (loadsim.options), with compare-tls's own defaults
    add_flag(p, O.HA_PAIRS, default=3, shown_default="3, in every run")
    add_flag(p, O.EMBEDDED_MASTERS, default=D.value("masters"), help="Both embedded clusters'.")
    p.add_argument("--repeats", type=int, default=3, help="at least 3 (default 3)")
    p.add_argument("--run-time", default="30s", help="per run, Locust syntax (default 30s)")
    add_flag(p, O.CPS_PER_PAIR, default=20.0, shown_default="20, the fixed offered load")
    add_flag(p, O.COMPLEXITY, default=D.value("complexity"))
    # --embedded-mutual-tls true, as `locust -f` names it; the flag --mutual-tls (no value) stays accepted
    p.add_argument("--embedded-mutual-tls", dest="mutual_tls", choices=["true", "false"], default="false",
                   help="the TLS arm uses client certificates (default false; --mutual-tls is the old name)")
    p.add_argument("--mutual-tls", dest="mutual_tls", action="store_const", const="true", help=argparse.SUPPRESS)
    add_flag(p, O.LATENCY_SLO_P99_US, dest="slo_p99_us", default=D.value("latency_slo_p99_us"),
             help="Saturation stops past it.")
    p.add_argument("--saturation-steps", type=int, default=4, help="x1.6 load steps per arm (default 4; 0 = none)")
    p.add_argument("--precision", default=None,
                   help="after --repeats, add plain+TLS pairs until the 95 %% intervals of the server CPU/command "
                        "and p99 ratios are within this relative half-width, e.g. 5%% or 0.05, judged from the 10th "
                        "pair on (default: none)")
    p.add_argument("--budget", default=None,
                   help="wall-clock budget of the fixed-load repeats, e.g. 90s, 10m, 1h: no further pair is "
                        "started that would not fit (default: none)")
    p.add_argument("--fips", action="store_true",
                   help="add a fixed-load arm: TLS with the client restricted as ORS in FIPS mode "
                        "(scxml\\fips-enabled: FIPS-approved versions, AES-GCM suites, NIST groups), with this "
                        "machine's OpenSSL FIPS provider when it has one, else FIPS-approved settings (said so); "
                        "its ratios to plain and to TLS are printed and kept in compare.json")
    p.add_argument("--out", default=None, help="folder (default results/compare-tls-<timestamp>)")
    p.add_argument("--json", action="store_true",
                   help="progress on stderr, and on stdout one JSON object at the end: the ratios, the max sustained "
                        "rates, the cross-check, every run (name, folder, ok) and the next command (shape: "
                        "docs/results.md)")
    p.set_defaults(func=_cmd_compare_tls)


def _cmd_compare_tls(args: argparse.Namespace) -> int:
    import json
    import sys
    import time

    from loadsim.experiments.precision import parse_budget, parse_precision
    from loadsim.experiments.sweep import failed_runs, ignored_connection_note
    from loadsim.experiments.tlscompare import CompareSpec, run_compare
    from loadsim.results.compare import answer, ratio_view

    goal = parse_precision(args.precision) if args.precision is not None else None
    budget = parse_budget(args.budget) if args.budget is not None else None
    spec = CompareSpec(ha_pairs=args.ha_pairs, masters=args.masters, repeats=args.repeats, run_time=args.run_time,
                       cps_per_pair=args.cps_per_pair, complexity=args.complexity, mutual_tls=args.mutual_tls == "true",
                       slo_p99_us=args.slo_p99_us, saturation_steps=args.saturation_steps, scenario=_scenario(args),
                       precision=goal, budget_s=budget, fips=args.fips)
    out = Path(args.out or f"results/compare-tls-{time.strftime('%Y%m%d-%H%M%S')}")
    progress = sys.stderr if args.json else sys.stdout  # with --json, stdout holds only the JSON
    note = ignored_connection_note()
    if note:
        print(note, file=progress, flush=True)
    run_compare(spec, out, echo=lambda m: print(m, file=progress, flush=True))
    index = json.loads((out / "compare.json").read_text())
    analysis = index["analysis"]
    failed = failed_runs([*index["fixed"], *index.get("fips", []), *index["saturation"]["plain"],
                          *index["saturation"]["tls"]])
    if args.json:
        from loadsim.cli.jsonout import emit

        emit(compare_json(out, index))
        return 1 if failed else 0
    for line in analysis.get("fixed_load_shortfalls", []):
        print(f"did not achieve the offered load: {line}")
    print("\nTLS/plain, geometric mean of the repeats (95 % CI):")
    for metric, r in analysis["ratios"].items():
        print(f"  {metric:<28} {ratio_view(r, index).text}")
    fips = analysis.get("fips")
    if fips:
        for against in ("plain", "tls"):
            print(f"\nFIPS/{'TLS' if against == 'tls' else against} ({fips['mode']}), geometric mean (95 % CI):")
            for metric, r in fips[f"ratios_to_{against}"].items():
                print(f"  {metric:<28} {ratio_view(r, index).text}")
    print(f"max sustained ops/s: {sustained_text(analysis)}")
    print("\nanswer (as the report opens):")
    for line in answer(out, index).lines():
        print(f"  {line}")
    print(f"next: loadsim report {out}")
    if failed:
        print(f"{len(failed)} run(s) failed: {', '.join(failed)} (logs: {out}/<run>.log)", flush=True)
        return 1
    return 0


def _scenario(args: argparse.Namespace) -> str:
    """--scenario or the positional SCENARIO (one of them; ha9 without either)."""
    if args.scenario and args.scenario_arg and args.scenario != args.scenario_arg:
        raise OptionsError(f"two scenarios given ({args.scenario_arg} and --scenario {args.scenario}): give one")
    return args.scenario or args.scenario_arg or "ha9"


def sustained_text(analysis: dict[str, Any]) -> str:
    """``plain 1,234, TLS at least 980 (its last step still met the SLO)``; ``-`` for an arm without a figure."""
    bounds = analysis.get("max_sustained_is_lower_bound", {})
    parts = []
    for arm, value in analysis.get("max_sustained_ops_per_s", {}).items():
        name = "TLS" if arm == "tls" else arm
        if value is None:
            parts.append(f"{name} -")
        elif bounds.get(arm):
            parts.append(f"{name} at least {value:,.0f} (its last step still met the SLO)")
        else:
            parts.append(f"{name} {value:,.0f}")
    return ", ".join(parts) or "-"


def _finite(value: Any) -> Any:
    """``value`` with every NaN or infinity replaced by None (JSON has neither)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def compare_json(out: Path, index: dict[str, Any]) -> dict[str, Any]:
    """``loadsim compare-tls --json``'s closing object (shape: loadsim.results.shapes) from compare.json."""
    from loadsim.experiments.sweep import failed_runs

    entries = [("fixed", e) for e in index["fixed"]] + [("fixed fips", e) for e in index.get("fips", [])] + [
        (f"saturation {arm}", e) for arm in ("plain", "tls") for e in index["saturation"][arm]]
    runs = [{"run": e["path"], "path": str(out / e["path"]), "label": e["label"], "part": part,
             "tls": bool(e["point"]["tls"]), "ok": e["ok"], "seconds": e["seconds"],
             **{k: e[k] for k in ("error", "interrupted") if k in e}} for part, e in entries]
    from loadsim.results.compare import ratio_view

    analysis = index.get("analysis", {})
    ratios = {m: {**r, **ratio_view(r, index).as_dict()} for m, r in analysis.get("ratios", {}).items()}
    head = {}
    if analysis and (out / "compare.json").exists():
        from loadsim.results.compare import answer

        a = answer(out, index)
        head = {"answer": {"lines": a.lines(), "masters_needed": {"plain": a.plain.masters_text,
                                                                  "tls": a.tls.masters_text},
                           "most_ha_pairs": {"plain": a.plain.most_pairs_text, "tls": a.tls.most_pairs_text},
                           "p99": a.p99_label,
                           "question": a.question.as_dict() if a.question is not None else None}}
    failed = failed_runs([e for _, e in entries])
    return _finite({"ok": not failed, "compare": str(out), "complete": bool(index.get("complete")), **head,
                    "ratios": ratios,
                    **({"fips": analysis["fips"]} if "fips" in analysis else {}),
                    "max_sustained_ops_per_s": analysis.get("max_sustained_ops_per_s", {}),
                    "cross_check": index.get("cross_check", {}), "runs": runs,
                    "failed": failed, "next": f"loadsim report {out}"})
