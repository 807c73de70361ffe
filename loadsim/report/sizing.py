"""Tables and figures of the sizing report (``notebooks/sizing.ipynb`` calls these; it stays thin).

No backend is forced: matplotlib picks Agg where there is no display, and a live Jupyter kernel
shows the figures inline.
"""

from __future__ import annotations

from dataclasses import fields, replace
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd

from loadsim.errors import FitError, ResultsError
from loadsim.model import sizing as sz
from loadsim.results.reader import find_runs, load


# ------------------------------------------------------------------------------------------ data
def load_summaries(folder: str | Path) -> list[dict[str, Any]]:
    """Summaries of every complete run under ``folder`` (path added as ``_path``)."""
    out = []
    for run in find_runs(folder):
        s = load(run).summary
        if s.get("complete"):
            out.append({**s, "_path": str(run)})
    if not out:
        raise ResultsError(f"no complete runs under '{folder}'")
    return out


def select(summaries: list[dict[str, Any]], tls: bool | None = None) -> list[dict[str, Any]]:
    """Runs with (True) or without (False) TLS; all runs for None. Unit costs differ with TLS."""
    if tls is None:
        return summaries
    chosen = [s for s in summaries if bool(s.get("cluster", {}).get("tls")) == tls]
    if not chosen:
        raise ResultsError(f"no runs {'with' if tls else 'without'} TLS among {len(summaries)} runs")
    return chosen


def runs_for_costs(summaries: list[dict[str, Any]], tls: bool) -> list[dict[str, Any]]:
    """The runs with this TLS setting to fit unit costs on, or every run when none has it."""
    chosen = [s for s in summaries if bool(s.get("cluster", {}).get("tls")) == tls]
    return chosen or summaries


def deployment(node_ram_gib: float | None = None, **overrides: Any) -> sz.Deployment:
    """The target deployment: loadsim's defaults, with every override that is not None."""
    changes = {k: v for k, v in overrides.items() if v is not None}
    if node_ram_gib is not None:
        changes["node_ram_bytes"] = node_ram_gib * sz.GIB
    return replace(sz.Deployment(), **changes)


def run_table(summaries: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per run: shape, load, memory, CPU and latency as measured."""
    rows = []
    for s in summaries:
        w, c, masters = s["workload"], s.get("cluster", {}), s["masters"]
        steady_util = max((m["cpu_s_steady"] / m["steady_s"] for m in masters if m.get("steady_s")), default=0.0)
        rows.append({
            "run": Path(s["_path"]).name, "ha_pairs": w["ha_pairs"], "masters": len(masters),
            "tls": c.get("tls"), "complexity": w["complexity"], "layout": w["key_layout"],
            "live_sessions": s["live_sessions"]["steady_mean"],
            "achieved_ops_per_s": s["rates"]["achieved_ops_per_s"],
            "used_memory_mib": sum(m["used_memory_steady_mean"] for m in masters) / 2**20,
            "busiest_master_cpu": round(steady_util, 4),
            "server_cpu_us_per_command": s["server"]["cpu_us_per_command"],
            "p99_update_us": sz.operation_percentile(s, "p99"),
            "flags": ",".join(k for k, v in s["flags"].items() if v) or "-",
        })
    return pd.DataFrame(rows).sort_values(["masters", "ha_pairs"]).reset_index(drop=True)


def costs_or_default(summaries: list[dict[str, Any]]) -> tuple[sz.UnitCosts, str]:
    """Measured unit costs, or the defaults with the reason the fit was not possible."""
    try:
        return sz.fit_unit_costs(summaries), "measured from the runs"
    except FitError as exc:
        return sz.DEFAULT_COSTS, f"defaults (assumptions) because: {exc}"


def costs_table(costs: sz.UnitCosts) -> pd.DataFrame:
    return pd.DataFrame([
        {"unit cost": "bytes per live session", "value": round(costs.bytes_per_session, 1),
         "spread (std error)": costs.spread_text(costs.bytes_per_session_se)},
        {"unit cost": "base used_memory per master (MiB)", "value": round(costs.base_bytes_per_master / 2**20, 2),
         "spread (std error)": "-"},
        {"unit cost": "server CPU µs per command", "value": round(costs.cpu_s_per_command * 1e6, 2),
         "spread (std error)": costs.spread_text(costs.cpu_s_per_command_sd, 1e6)},
        {"unit cost": "Redis commands per persistence op", "value": round(costs.commands_per_op, 3),
         "spread (std error)": "-"},
    ]).set_index("unit cost")


def assumptions_table(d: sz.Deployment) -> pd.DataFrame:
    return pd.DataFrame([{"parameter": f.name, "value": getattr(d, f.name),
                          "source": sz.ASSUMPTIONS.get(f.name, "given / default")} for f in fields(d)]
                        ).set_index("parameter")


# ------------------------------------------------------------------------------------------ figures
def pair_range(d: sz.Deployment, costs: sz.UnitCosts, points: int = 60) -> list[int]:
    """HA-pair counts to plot: up to twice where 3 masters stop passing (at least 30, at most 5000)."""
    from loadsim.report.tls import max_pairs

    top = min(5000, max(30, 2 * max_pairs(replace(d, masters=3), costs)))
    step = max(1, top // points)
    return list(range(1, top + 1, step))


def plot_memory_curves(d: sz.Deployment, costs: sz.UnitCosts) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(7, 4))
    pairs = pair_range(d, costs)
    top = 0.0
    for masters in (3, 6, 9, 12):
        mib = [sz.predict(replace(d, ha_pairs=p, masters=masters), costs).ram_needed_per_node / 2**20 for p in pairs]
        top = max(top, *mib)
        ax.plot(pairs, mib, label=f"{masters} masters")
    ram_mib = d.node_ram_bytes / 2**20
    if ram_mib <= 3 * top:  # draw the node's RAM only where it does not flatten the curves
        ax.axhline(ram_mib, color="red", linestyle="--", linewidth=1, label="node RAM")
    ax.axvline(9, color="grey", linestyle=":", linewidth=1)
    ax.set_xlabel("ORS HA pairs")
    ax.set_ylabel("RAM needed per Redis node, MiB")
    ax.set_title(f"Memory per node (fork headroom, maxmemory fraction; node RAM {ram_mib / 1024:.1f} GiB)")
    ax.legend()
    return fig


def plot_recommended_masters(d: sz.Deployment, costs: sz.UnitCosts) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(7, 4))
    pairs = pair_range(d, costs)
    masters = [sz.smallest_masters(replace(d, ha_pairs=p), costs) for p in pairs]
    ax.step(pairs, [m if m is not None else float("nan") for m in masters], where="mid")
    ax.axvline(9, color="grey", linestyle=":", linewidth=1)
    ax.axhline(3, color="grey", linestyle=":", linewidth=1)
    ax.set_xlabel("ORS HA pairs")
    ax.set_ylabel("smallest passing master count")
    ax.set_title("Recommended masters (vendor rule: 3 for up to 9 HA pairs)")
    return fig


def plot_measured(table: pd.DataFrame, column: str, ylabel: str, title: str) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(7, 4))
    for (masters, tls), rows in table.groupby(["masters", "tls"]):
        ax.plot(rows["ha_pairs"], rows[column], marker="o", label=f"{masters} masters{' TLS' if tls else ''}")
    ax.set_xlabel("ORS HA pairs (measured runs)")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend()
    return fig
