"""Tables and figures for ``notebooks/tls_vs_plain.ipynb`` (the notebook stays thin)."""

from __future__ import annotations

import statistics
from dataclasses import replace
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd

from loadsim.errors import FitError
from loadsim.model import sizing as sz
from loadsim.model.workload import operation_percentile
from loadsim.results.reader import load

_LABELS = {
    "p50_us": "p50 latency (session.update)",
    "p99_us": "p99 latency (session.update)",
    "p999_us": "p99.9 latency (session.update)",
    "server_cpu_us_per_command": "server CPU per command",
    "client_cpu_us_per_command": "client CPU per command",
    "achieved_ops_per_s": "achieved ops/s at the fixed load",
}


def _sig(x: Any, digits: int = 3) -> Any:
    """A ratio to the digits its interval resolves, at most 3 decimals (a wide interval's 0.01823 -> 0.018)."""
    return round(float(f"{x:.{digits}g}"), 3) \
        if isinstance(x, float) and x == x and x not in (float("inf"), -float("inf")) else x


def ratio_table(index: dict[str, Any]) -> pd.DataFrame:
    """One row per metric: plain mean, TLS mean, TLS/plain ratio and its 95 % CI."""
    rows = []
    for metric, r in index["analysis"]["ratios"].items():
        rows.append({"metric": _LABELS.get(metric, metric), "plain": r.get("plain_mean"), "tls": r.get("tls_mean"),
                     "tls/plain": _sig(r["ratio"]), "ci95 low": _sig(r["ci_low"], 2),
                     "ci95 high": _sig(r["ci_high"], 2), "repeats": r["n"]})
    return pd.DataFrame(rows).set_index("metric")


def plot_ratios(table: pd.DataFrame) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(7, 3.5))
    y = range(len(table))
    ratio = table["tls/plain"].astype(float)
    err_low = (ratio - table["ci95 low"].astype(float)).clip(lower=0).fillna(0)
    err_high = (table["ci95 high"].astype(float) - ratio).clip(lower=0).fillna(0)
    ax.errorbar(ratio, list(y), xerr=[err_low, err_high], fmt="o", capsize=4)
    ax.axvline(1.0, color="grey", linestyle="--", linewidth=1)
    ax.set_yticks(list(y), table.index)
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
            # rounded to what the measurement resolves (the report shows the table as it is)
            rows.append({"arm": arm, "cps_per_pair": e["point"]["cps_per_pair"],
                         "offered_ops_per_s": round(s["rates"]["offered_ops_per_s"], 1),
                         "achieved_ops_per_s": round(s["rates"]["achieved_ops_per_s"], 1),
                         "p99_us": operation_percentile(s, "p99"),
                         "server_cpu_s": round(s["server"]["cpu_s"], 3), "sustained": e.get("sustained")})
    return pd.DataFrame(rows)


def plot_saturation(table: pd.DataFrame, slo_p99_us: float) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(7, 3.5))
    if not table.empty and "offered_ops_per_s" in table:
        for arm, rows in table.dropna(subset=["offered_ops_per_s"]).groupby("arm"):
            ax.plot(rows["offered_ops_per_s"], rows["p99_us"], marker="o", label=arm)
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


def _arm_costs(folder: Path, index: dict[str, Any], tls: bool) -> sz.UnitCosts:
    """Unit costs of one arm, with the server CPU per command the ratio table uses.

    CPU: the mean ``server.cpu_us_per_command`` of the arm's fixed-load runs — the very figures the
    TLS/plain ratio is computed from, so the sizing consequence cannot contradict the ratio table. The
    idle-base + per-command fit used before cannot work here: the steady windows of short comparison runs
    hold a few hundred commands at nearly one load, so it cannot tell idle CPU from per-command CPU and
    puts the idle CPU into the per-command term (measured: 70.0 and 81.8 µs/command fitted for runs that
    measured 12.5-17.6 and 25.3-28.8; an earlier report showed 88.7 against 15.6). The memory calibration and
    the latency curve (clean runs only) come from all the arm's runs, read as every report reads runs."""
    from loadsim.results.runs import read_runs

    def records(entries: list[dict[str, Any]]) -> list[sz.MeasuredRun]:
        out: list[sz.MeasuredRun] = []
        for e in entries:
            if e["ok"] and bool(e["point"]["tls"]) == tls:
                out.extend(read_runs(Path(folder) / e["path"]))
        return out
    fixed = records(index["fixed"])
    every = fixed + records(index["saturation"]["tls" if tls else "plain"])
    per_run = [r.cpu_us_per_command * 1e-6 for r in fixed if r.cpu_us_per_command]
    if not per_run:
        raise FitError(f"no fixed-load {'TLS' if tls else 'plain'} run with server commands to size from")
    try:
        costs = sz.fit_unit_costs(every)
        memory = f"memory model calibrated on {costs.runs} runs"
    except FitError:
        costs, memory = sz.DEFAULT_COSTS, "memory model uncalibrated"
    sd = statistics.stdev(per_run) if len(per_run) >= sz.MIN_RUNS_FOR_SPREAD else None
    return replace(costs, cpu_s_per_command=statistics.fmean(per_run), cpu_s_per_command_sd=sd,
                   base_cpu_per_master=0.0, runs=len(per_run) if costs.calibrated else 0,
                   source=f"CPU: mean of {len(per_run)} fixed-load runs (as the ratio table); {memory}")


def max_pairs(d: sz.Deployment, costs: sz.UnitCosts, limit: int = 5000) -> int:
    """Most HA pairs the deployment's masters pass with (0 if none): the envelope's own search."""
    return int(sz.most_pairs(d, costs, limit=limit).value or 0)


def sizing_consequence(folder: Path, index: dict[str, Any], deployment: sz.Deployment | None = None) -> pd.DataFrame:
    """Per arm, from the one assessment (``sizing.verdict``): server CPU per command, masters needed for the
    deployment, most HA pairs on its masters, and latency as assessed (or "not assessed: ..." with why)."""
    d = deployment or sz.Deployment()
    rows = []
    for tls in (False, True):
        try:
            costs = _arm_costs(folder, index, tls)
        except FitError as exc:
            rows.append({"arm": "TLS" if tls else "plain", "server CPU µs/command": None,
                         f"masters needed for {d.ha_pairs} HA pairs": f"not assessed: {exc}",
                         f"most HA pairs on {d.masters} masters": f"not assessed: {exc}",
                         "latency": "not assessed", "unit costs": "-"})
            continue
        v = sz.verdict(d, costs)
        latency = next(k for k in v.prediction.constraints if k.name == sz.LATENCY)
        most = v.envelope.max_pairs if v.envelope is not None else sz.most_pairs(d, costs)
        needed = (v.smallest_masters if v.smallest_masters is not None
                  else f"none up to {v.masters_limit}: "
                       f"{sz._binding(replace(d, masters=v.masters_limit), costs)} binds")
        rows.append({"arm": "TLS" if tls else "plain",
                     "server CPU µs/command": round(costs.cpu_s_per_command * 1e6, 2),
                     f"masters needed for {d.ha_pairs} HA pairs": needed,
                     f"most HA pairs on {d.masters} masters": most.value if most.value is not None else
                     f"none: {most.note}",
                     "latency": latency.text().removeprefix(f"{latency.name}: "),
                     "unit costs": costs.source})
    return pd.DataFrame(rows).set_index("arm")


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
    """Whether the sizing consequence agrees with the ratio table: its TLS/plain CPU ratio must lie in the
    ratio table's 95 % interval. Otherwise the report says so instead of a headline."""
    cpu = consequence["server CPU µs/command"]
    ratio = cpu["TLS"] / cpu["plain"] if cpu["plain"] and cpu["TLS"] else float("nan")
    if ratio != ratio:  # one arm has no fixed-load run to size from (e.g. TLS without plain)
        return "no TLS/plain comparison of the sizing: one arm has no fixed-load run with server commands"
    r = index["analysis"]["ratios"]["server_cpu_us_per_command"]
    low, high = r.get("ci_low"), r.get("ci_high")
    if low is None or high is None or not (low == low and high == high):  # NaN: too few repeats
        return (f"TLS costs {ratio:.2f}x the server CPU per command here; the ratio table has no interval "
                "(fewer than 2 repeats), so this is not a headline")
    if low <= ratio <= high:
        return (f"TLS costs {ratio:.2f}x the server CPU per command (ratio table: {r['ratio']:.2f}x, 95 % "
                f"interval {low:.2f}-{high:.2f}); the masters needed below follow from it")
    return (f"the sizing consequence ({ratio:.2f}x CPU per command) disagrees with the ratio table "
            f"({r['ratio']:.2f}x, 95 % interval {low:.2f}-{high:.2f}): no headline; add repeats")
