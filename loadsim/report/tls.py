"""Tables and figures for ``notebooks/tls_vs_plain.ipynb`` (the notebook stays thin)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd

from loadsim.model import ratios as rt
from loadsim.model import sizing as sz
from loadsim.model.workload import operation_percentile
from loadsim.results import compare as cmp
from loadsim.results.reader import load

_LABELS = {
    "p50_us": "p50 latency (session.update)",
    "p99_us": "p99 latency (session.update)",
    "p999_us": "p99.9 latency (session.update)",
    "server_cpu_us_per_command": "server CPU per command",
    "client_cpu_us_per_command": "client CPU per command",
    "achieved_ops_per_s": "achieved ops/s at the fixed load",
}


def answer_lines(folder: Path, index: dict[str, Any], deployment: sz.Deployment | None = None) -> list[str]:
    """The report's opening: masters needed plain vs TLS, server CPU x, p99 x (``loadsim.results.compare.answer``,
    the lines ``compare-tls`` ends with)."""
    return cmp.answer(Path(folder), index, deployment).lines()


def parameters_table(index: dict[str, Any]) -> pd.DataFrame:
    """What was asked and what was run: the planned repeats beside the repeats run and what stopped them."""
    spec = dict(index["spec"])
    planned = spec.pop("repeats")
    done = index.get("repeats_done") or min(sum(1 for e in index["fixed"] if not e["point"]["tls"]),
                                            sum(1 for e in index["fixed"] if e["point"]["tls"]))
    stopped = index.get("stopped_by")
    rows = {"repeats run": f"{done} ({planned} planned" + (f"; stopped by {stopped})" if stopped else ")")}
    if spec.get("precision") is not None:
        spec["precision"] = rt.width_text(spec["precision"])
    if spec.get("budget_s") is not None:
        spec["budget_s"] = f"{spec['budget_s']:,.0f} s"
    if not spec.get("saturation_steps"):
        spec["saturation_steps"] = "0 (none run)"
    rows.update({k: ("-" if v is None else str(v)) for k, v in spec.items()})
    return pd.DataFrame({"value": rows})


def ratio_table(index: dict[str, Any], folder: Path | None = None) -> pd.DataFrame:
    """One row per metric: the arms' geometric means, the TLS/plain ratio and its 95 % interval, as
    ``loadsim.model.ratios.describe`` reads it (an interval that does not resolve says how long to run)."""
    ratios = cmp.paired_ratios(Path(folder), index) if folder is not None else index["analysis"]["ratios"]
    rows = []
    for metric, r in ratios.items():
        view = cmp.ratio_view(r, index)
        shown = view.resolved
        rows.append({"metric": _LABELS.get(metric, metric), "plain": r.get("plain_mean"), "TLS": r.get("tls_mean"),
                     "TLS/plain": rt.number(view.ratio) if view.ratio is not None and (shown or view.half_width is None)
                     else "-",
                     "95 % interval": (f"[{rt.number(view.low)}, {rt.number(view.high)}] "
                                       f"{rt.width_text(view.half_width)}" if shown else view.text),
                     "repeats": r["n"],
                     "_ratio": view.ratio if shown else None, "_low": view.low if shown else None,
                     "_high": view.high if shown else None})
    return pd.DataFrame(rows).set_index("metric")


def shown_ratios(table: pd.DataFrame) -> pd.DataFrame:
    """The ratio table as the report prints it (the plotting columns left out)."""
    return table.drop(columns=[c for c in table.columns if c.startswith("_")])


def plot_ratios(table: pd.DataFrame) -> plt.Figure:
    """The resolved ratios with their intervals; an unresolved one is named on its row, not drawn (its interval
    would stretch the axis to 10^12)."""
    fig, ax = plt.subplots(figsize=(7, 3.5))
    y = list(range(len(table)))
    ratio = pd.to_numeric(table["_ratio"], errors="coerce")
    low = pd.to_numeric(table["_low"], errors="coerce")
    high = pd.to_numeric(table["_high"], errors="coerce")
    drawn = ratio.notna()
    ax.errorbar(ratio[drawn], [y[i] for i, ok in enumerate(drawn) if ok],
                xerr=[(ratio - low)[drawn].clip(lower=0), (high - ratio)[drawn].clip(lower=0)], fmt="o", capsize=4)
    ax.axvline(1.0, color="grey", linestyle="--", linewidth=1)
    ax.set_yticks(y, [name if ok else f"{name} (unresolved)" for name, ok in zip(table.index, drawn, strict=True)])
    ax.set_xlabel("TLS / plain (95 % CI from paired repeats)")
    ax.set_title("Cost of TLS at a fixed offered load")
    return fig


def saturation_table(folder: Path, index: dict[str, Any]) -> pd.DataFrame:
    rows = []
    for arm, entries in index["saturation"].items():
        for e in entries:
            if not e["ok"]:
                rows.append({"arm": arm, "cps_per_pair": e["point"]["cps_per_pair"], "sustained": False})
                continue
            s = load(Path(folder) / e["path"]).summary
            if s["flags"].get("no_steady_state"):  # no steady rates or percentiles: never plotted as 0 ops/s
                rows.append({"arm": arm, "cps_per_pair": e["point"]["cps_per_pair"], "sustained": False,
                             "note": "no steady state"})
                continue
            # rounded to what the measurement resolves (the report shows the table as it is)
            rows.append({"arm": arm, "cps_per_pair": e["point"]["cps_per_pair"],
                         "offered_ops_per_s": round(s["rates"]["offered_ops_per_s"], 1),
                         "achieved_ops_per_s": round(s["rates"]["achieved_ops_per_s"], 1),
                         "p99_us": operation_percentile(s, "p99"),
                         "server_cpu_s": None if s["server"]["cpu_s"] is None else round(s["server"]["cpu_s"], 3),
                         "sustained": e.get("sustained")})
    return pd.DataFrame(rows)


def plot_saturation(table: pd.DataFrame, slo_p99_us: float) -> plt.Figure | None:
    """p99 against the offered rate per arm, from 0 ops/s (one step per arm would otherwise get an axis of
    764.3-764.9); a step that was not sustained is drawn hollow. None when no step has figures: no empty chart."""
    if table.empty or "offered_ops_per_s" not in table or table["offered_ops_per_s"].dropna().empty:
        return None
    fig, ax = plt.subplots(figsize=(7, 3.5))
    rows_all = table.dropna(subset=["offered_ops_per_s"])
    for arm, rows in rows_all.groupby("arm"):
        line, = ax.plot(rows["offered_ops_per_s"], rows["p99_us"], marker="o", label=arm)
        missed = rows[~rows["sustained"].astype(bool)]
        ax.plot(missed["offered_ops_per_s"], missed["p99_us"], "o", markerfacecolor="white",
                markeredgecolor=line.get_color(), label=f"{arm}: not sustained" if len(missed) else None)
    ax.set_xlim(0, 1.15 * float(rows_all["offered_ops_per_s"].max()))
    ax.axhline(slo_p99_us, color="red", linestyle="--", linewidth=1, label="p99 SLO")
    ax.set_xlabel("offered persistence operations/s")
    ax.set_ylabel("p99 latency from intended start, µs")
    ax.set_yscale("log")
    ax.legend()
    ax.set_title("Latency as the offered load rises")
    return fig


def cross_check_table(index: dict[str, Any]) -> pd.DataFrame:
    c = index.get("cross_check", {})
    if not c:
        return pd.DataFrame()
    rows = []
    for arm in ("plain", "tls"):
        rows.append({"arm": arm, "connect median ms": c[arm]["connect"]["median_ms"],
                     "connect p90 ms": c[arm]["connect"]["p90_ms"],
                     "redis-benchmark SET ops/s": c[arm]["redis_benchmark_set_ops_per_s"]})
    table = pd.DataFrame(rows).set_index("arm")
    table.loc["tls/plain"] = table.loc["tls"] / table.loc["plain"]
    ours = index["analysis"]["max_sustained_ops_per_s"]
    if ours.get("plain") and ours.get("tls"):
        table.loc["loadsim max sustained tls/plain", "redis-benchmark SET ops/s"] = ours["tls"] / ours["plain"]
    # formatted for people (a report, not a data dump): ms to 3 decimals, rates whole, ratios as 1.23x
    ratio_rows = [i for i in table.index if "/" in str(i)]
    return table.astype(object).apply(lambda col: [
        "" if pd.isna(v) else f"{v:.2f}x" if row in ratio_rows else f"{v:,.3f}" if "ms" in col.name else f"{v:,.0f}"
        for row, v in zip(table.index, col, strict=True)])


def sizing_consequence(folder: Path, index: dict[str, Any], deployment: sz.Deployment | None = None) -> pd.DataFrame:
    """Per arm, from the one assessment (``sizing.verdict``, through ``loadsim.results.compare.answer``): server
    CPU per command, masters needed for the deployment, the most HA pairs on its masters and what binds there,
    and latency as assessed (or "not assessed: ..." with why)."""
    a = cmp.answer(Path(folder), index, deployment)
    d = a.deployment
    rows = []
    for arm in (a.plain, a.tls):
        rows.append({"arm": arm.arm,
                     "server CPU µs/command": None if arm.cpu_us_per_command is None
                     else round(arm.cpu_us_per_command, 2),
                     f"masters needed for {d.ha_pairs} HA pairs": arm.masters_text,
                     f"most HA pairs on {d.masters} masters": arm.most_pairs_text,
                     "latency": arm.latency_text})
    return pd.DataFrame(rows).set_index("arm")


def unit_cost_sources(folder: Path, index: dict[str, Any]) -> str:
    """Where each arm's unit costs come from, as a sentence under the table (too long for a cell)."""
    a = cmp.answer(Path(folder), index)
    return "\n".join(f"{arm.arm}: {arm.costs.source if arm.costs is not None else arm.why}"
                     for arm in (a.plain, a.tls))


def saturation_text(index: dict[str, Any]) -> str:
    """The saturation steps in words, per arm, consistent with the table under it."""
    analysis = index["analysis"]
    best, lower = analysis["max_sustained_ops_per_s"], analysis.get("max_sustained_is_lower_bound") or {}
    lines = []
    for arm, entries in index["saturation"].items():
        sustained = [e for e in entries if e.get("sustained")]
        failed = len(entries) - len(sustained)
        if not entries:
            lines.append(f"{arm}: no saturation step was run")
        elif not sustained:
            lines.append(f"{arm}: none of the {len(entries)} step(s) kept p99 under the SLO without errors or "
                         "falling behind the schedule, so no sustained rate is known (lower the first step's "
                         "--cps-per-pair)")
        elif lower.get(arm):
            lines.append(f"{arm}: every one of the {len(entries)} step(s) was sustained, up to {best[arm]:,.0f} "
                         "ops/s: the limit lies beyond, this is only a lower bound (add --saturation-steps)")
        else:
            lines.append(f"{arm}: sustained up to {best[arm]:,.0f} ops/s; {failed} of {len(entries)} step(s) "
                         "missed the SLO")
    return "\n".join(lines)


def consequence_check(consequence: pd.DataFrame, index: dict[str, Any]) -> str:
    """The sentence above the sizing table: the CPU ratio it follows from, as the ratio table prints it (the
    arms' CPU per command are that table's geometric means, so the two cannot disagree)."""
    cpu = consequence["server CPU µs/command"]
    if not all(pd.notna(cpu.get(arm)) and cpu.get(arm) for arm in ("plain", "TLS")):
        return "no TLS/plain comparison of the sizing: one arm has no fixed-load run with server commands"
    view = cmp.ratio_view(index["analysis"]["ratios"]["server_cpu_us_per_command"], index)
    if not view.resolved:
        return f"TLS/plain server CPU per command {view.text}: the masters needed below are not a headline yet"
    return (f"TLS costs x{rt.number(view.ratio)} the server CPU per command (95 % interval "
            f"{rt.number(view.low)}-{rt.number(view.high)}, the ratio table's); the masters needed below follow "
            "from it")
