"""Tables and figures of the recovery report (``notebooks/recovery.ipynb`` calls these; it stays thin): a run
with faults, switchovers or the migration runbook, as timelines with fault markers and tables."""

from __future__ import annotations

from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from loadsim.results.reader import RunResults  # noqa: E402

EVENT_KEYS = ("faults", "recovery", "failovers", "outages", "migration", "error_windows")


def has_events(summary: dict[str, Any]) -> bool:
    """True for a run the recovery report is about: faults, switchovers, failovers, outages or a migration."""
    return any(summary.get(k) for k in EVENT_KEYS)


def _markers(ax: plt.Axes, summary: dict[str, Any]) -> None:
    """Vertical lines at each fault, switchover and migration step, labelled."""
    events = [(f["done_s"], f["action"]) for f in summary.get("faults", [])]
    events += [(p["at_s"], "switchover") for p in summary.get("recovery", {}).get("per_pair", []) if "at_s" in p]
    events += [(m["at_s"], f"step {m['step']}") for m in summary.get("migration", [])]
    seen = set()
    for at, label in sorted(events):
        ax.axvline(at, color="red", linestyle="--", linewidth=0.8, alpha=0.7)
        if (round(at), label) not in seen:
            ax.annotate(label, (at, 1.0), xycoords=("data", "axes fraction"), rotation=90, fontsize=7,
                        va="top", ha="right", color="red")
            seen.add((round(at), label))
    for o in summary.get("outages", []):
        ax.axvspan(o["from_s"], o["to_s"] if o.get("to_s") is not None else ax.get_xlim()[1], color="grey",
                   alpha=0.2)


def plot_timelines(run: RunResults) -> plt.Figure:
    """Operations, errors by kind, maximum latency (per second) and used_memory per master, with markers."""
    c, n, s = run.client_series, run.node_series, run.summary
    fig, axes = plt.subplots(4, 1, figsize=(8, 10), sharex=True)
    t = c["elapsed_s"]
    axes[0].plot(t, c["ops_total"], label="operations/s")
    axes[0].set_ylabel("operations per second")
    kinds = [col for col in c.columns if col.startswith("errors:") and c[col].fillna(0).sum() > 0]
    for col in kinds:
        axes[1].plot(t, c[col].fillna(0), label=col.split(":", 1)[1])
    axes[1].set_ylabel("errors per second")
    if kinds:
        axes[1].legend(fontsize=7, loc="upper right")
    axes[2].plot(t, c["latency_max_us"].fillna(0) / 1000.0 if "latency_max_us" in c else t * 0, color="tab:purple")
    axes[2].set_ylabel("max latency per second, ms")
    if not n.empty and "used_memory" in n:
        for node, rows in n.groupby("node"):
            axes[3].plot(rows["elapsed_s"], rows["used_memory"] / 2**20, label=str(node))
        axes[3].legend(fontsize=7, loc="upper right")
    axes[3].set_ylabel("used_memory per node, MiB")
    axes[3].set_xlabel("seconds from the start of the run")
    for ax in axes:
        _markers(ax, s)
        ax.set_ylim(bottom=0)
    axes[0].set_title("Timeline: faults (red), cluster down (grey)")
    fig.tight_layout()
    return fig


def table(summary: dict[str, Any], key: str) -> pd.DataFrame:
    """One of the summary's event lists as a table (empty when absent)."""
    value = summary.get(key)
    if key == "recovery":
        value = (value or {}).get("per_pair", [])
    if key in ("read_back",):
        value = [value] if value else []
    rows = [{k: (", ".join(map(str, v)) if isinstance(v, list) else v) for k, v in r.items()
             if not isinstance(v, dict)} | {k: str(v) for k, v in r.items() if isinstance(v, dict)}
            for r in (value or [])]
    return pd.DataFrame(rows)
