"""Tables and figures of the recovery report (``notebooks/recovery.ipynb`` calls these; it stays thin): a run
with faults, switchovers or the migration runbook. The report reads as a document: the verdict first (was any
acknowledged write lost, how long were writes refused, how fast did it recover), then timelines with fault
markers, then one formatted table per measurement the run has."""

from __future__ import annotations

from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from loadsim.results.reader import RunResults  # noqa: E402
from loadsim.results.text import outage_line, recovery_line, run_class_line  # noqa: E402

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


# (summary key, heading) of the report's sections, in the order a reader asks
SECTIONS = (("faults", "Faults"), ("error_windows", "Error windows per master"),
            ("failovers", "Failovers (as the monitor saw them)"), ("outages", "Cluster down"),
            ("fault_impact", "Impact of each fault"), ("recovery", "Switchover recovery per pair"),
            ("read_back", "Read-back of the sessions believed live"),
            ("migration", "Migration runbook: expected (vendor) vs observed"))


def lost_writes(summary: dict[str, Any]) -> int | None:
    """Acknowledged writes lost (stale + missing + corrupt) in the read-back after the test and in the switchover
    recovery's; None when nothing was read back."""
    recovery = summary.get("recovery") or {}
    found = [rb for rb in (summary.get("read_back"), recovery.get("read_back")) if rb]
    # a switchover without its own read-back: the sessions written but not found are its lost writes
    written = recovery.get("lost_written") if recovery and not recovery.get("read_back") else None
    if not found and written is None:
        return None
    return sum(rb.get("stale", 0) + rb.get("missing", 0) + rb.get("corrupt", 0) for rb in found) + (written or 0)


def verdict(summary: dict[str, Any]) -> tuple[str, list[str]]:
    """The report's first words: a headline about acknowledged writes, then one line per thing a reader asks
    (writes refused, failover time, recovery time, latency) with its number."""
    lost = lost_writes(summary)
    if lost is None:
        head = "Acknowledged writes: not checked (no read-back in this run; --read-back checks them)"
    elif lost:
        head = f"ACKNOWLEDGED WRITES LOST: {lost:,}"
    else:
        head = "No acknowledged write was lost"
    lines = []
    down = outage_line(summary)
    if down:
        lines.append(down.replace("CLUSTER DOWN", "Cluster down", 1))
    for w in summary.get("error_windows", []):
        span = (f"for {w['seconds']:.1f} s" if w.get("to_s") is not None
                else f"from {w['from_s']:.1f} s until the end of the run")
        failed = f"{w['failures']:,} failed command{'' if w['failures'] == 1 else 's'}"
        lines.append(f"Writes to {w['master']}'s slots failed {span} ({failed})")
    for f in summary.get("failovers", []):
        if f.get("replaced_by"):
            lines.append(f"Failover of {f['node']}: {f['replaced_by']} master after {f['failover_s']:.1f} s")
        else:
            lines.append(f"{f['node']} {f.get('how', 'stopped answering')} at {f['down_at_s']:.1f} s: no replica "
                         "took over")
    rv = summary.get("recovery")
    if rv:
        line = recovery_line(rv)  # the run's own line: one answer wherever it is read
        lines.append(line[0].upper() + line[1:])
    for fi in summary.get("fault_impact", []):
        back = (f"back under 2x after {fi['latency_recovered_s']:.1f} s" if fi.get("latency_recovered_s") is not None
                else "not back under 2x by the end")
        before = (f"before {fi['latency_max_us_before'] / 1000:,.1f} ms" if fi.get("latency_max_us_before")
                  else "nothing measured before it")
        lines.append(f"Latency after {fi['fault']}: max {fi['latency_max_us_peak'] / 1000:,.1f} ms ({before}), {back}")
    for m in summary.get("migration", []):
        if not m.get("ok"):
            lines.append(f"Migration step {m['step']} not as documented: {m['observed']} (vendor: {m['expected']})")
    return head, lines


def verdict_markdown(summary: dict[str, Any]) -> str:
    """The verdict as Markdown, for the report's first output."""
    head, lines = verdict(summary)
    w = summary.get("workload", {})
    about = (f"{w.get('ha_pairs', '?')} HA pairs x {w.get('cps_per_pair', '?')} calls/s, "
             f"{summary.get('duration_s', 0):.0f} s, {summary.get('cluster', {}).get('masters', '?')} masters")
    rig = [] if (summary.get("run_class") or {}).get("class", "clean") == "clean" else [run_class_line(summary)]
    return "\n".join([f"## {head}", "", f"*{about}*", "", *(f"- {line}" for line in lines + rig)])


WIDE = 9  # columns a table can have and still fit the page; wider ones are turned on their side


def styled(frame: pd.DataFrame) -> Any:
    """A table formatted for people: no index, thousands separators, at most 3 decimals, no NaN."""
    if frame.empty:
        return frame

    def fmt(v: Any) -> str:
        if v is None or (isinstance(v, float) and pd.isna(v)):
            return ""
        if isinstance(v, bool):
            return "yes" if v else "no"
        if isinstance(v, int):
            return f"{v:,}"
        if isinstance(v, float):
            return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:,.3f}".rstrip("0").rstrip(".")
        return str(v)

    if len(frame.columns) > WIDE:  # too wide for a page: one column per entry, one row per field
        shown = frame.T
        shown.columns = [f"#{i + 1}" for i in range(len(frame))]
        return shown.style.format(fmt)
    return frame.style.format(fmt).hide(axis="index")


def sections(summary: dict[str, Any]) -> list[tuple[str, Any]]:
    """(heading, formatted table) of every section this run has data for; absent ones are left out."""
    out = []
    for key, heading in SECTIONS:
        t = table(summary, key)
        if not t.empty:
            out.append((heading, styled(t)))
    return out


def absent(summary: dict[str, Any]) -> list[str]:
    """Headings of the sections this run has no data for (the report names them once, at the end)."""
    return [heading for key, heading in SECTIONS if table(summary, key).empty]
