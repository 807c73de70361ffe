"""Tables and figures of the sizing report (``notebooks/sizing.ipynb`` calls these; it stays thin).

No backend is forced: matplotlib picks Agg where there is no display, and a live Jupyter kernel
shows the figures inline.
"""

from __future__ import annotations

import html
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.ticker import MaxNLocator

from loadsim.errors import FitError, ResultsError
from loadsim.model import sizing as sz
from loadsim.model.runclass import CLEAN, RIG_BOUND
from loadsim.model.workload import operation_percentile
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


def costs_for(folder: str | Path, tls: bool = False) -> tuple[sz.UnitCosts, str]:
    """The unit costs the report's predictions use: the model calibrated on the runs with this TLS setting (every
    run when none has it), or the uncalibrated model with the reason no calibration was possible."""
    from loadsim.results.runs import read_runs, unit_costs

    try:
        runs = read_runs(folder)
        arm = tls if any(r.tls == tls for r in runs) else None
        costs, chosen = unit_costs(folder, arm)  # as plan --from builds them (capacity > runs > reference)
        return costs, f"the model calibrated on {len(chosen)} of the runs"
    except (FitError, ResultsError) as exc:
        return sz.DEFAULT_COSTS, f"the model uncalibrated (assumptions) because: {exc}"


# The notebook's target parameters: exactly `loadsim plan`'s flags (node RAM also as node_ram_gib, the estate file)
PLAN_PARAMETERS = tuple(f.name for f in fields(sz.Deployment) if f.name not in sz.NOT_FLAGS)


def changes(node_ram_gib: float | None = None, estate: str | None = None, **overrides: Any) -> dict[str, Any]:
    """The what-if the notebook's parameters make: every parameter that is not None (node RAM in GiB as bytes, an
    estate file's pairs), as ``loadsim plan``'s flags make it."""
    out = {k: v for k, v in overrides.items() if v is not None}
    if "cpu_ceiling" in out:  # in % of one core, as plan's flag (0.7, the older share, still read as 70 %)
        out["cpu_ceiling"] = sz.cpu_ceiling_share(out["cpu_ceiling"], "cpu_ceiling")
    if node_ram_gib is not None:
        out["node_ram_bytes"] = node_ram_gib * sz.GIB
    if estate:
        from loadsim.config.estate import read_estate_file

        data, name = read_estate_file(estate)
        out.update(sz.estate_changes(data, name, out))
    return out


def verdict_for(folder: str | Path, what_if: dict[str, Any]) -> tuple[sz.Verdict, str]:
    """The verdict ``loadsim plan --from FOLDER`` gives with the same flags (the folder's own question, the same unit
    costs), and how the costs were had; the uncalibrated model when no run can be fitted, with the reason."""
    from loadsim.model import question
    from loadsim.results import runs

    try:
        v, fitted = runs.verdict_for(folder, what_if)
        return v, f"the model calibrated on {len(fitted)} of the runs"
    except (FitError, ResultsError) as exc:
        q = runs.ask_folder(folder, what_if) if not isinstance(exc, ResultsError) else question.ask(
            sz.Deployment(), question.PLAN_DEFAULTS, **what_if)
        return sz.verdict(q, sz.DEFAULT_COSTS), f"the model uncalibrated (assumptions) because: {exc}"


def run_table(summaries: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per run: shape, load, memory, CPU and latency as measured."""
    rows = []
    for s in summaries:
        w, c, masters = s["workload"], s.get("cluster", {}), s["masters"]
        steady_util = max((m["cpu_s_steady"] / m["steady_s"] for m in masters if m.get("steady_s")), default=0.0)
        rows.append({
            "run": Path(s["_path"]).name, "class": (s.get("run_class") or {}).get("class", sz.UNCLASSIFIED),
            "ha_pairs": w["ha_pairs"], "masters": len(masters),
            "tls": c.get("tls"), "complexity": w["complexity"], "layout": w["key_layout"],
            "live_sessions": s["live_sessions"]["steady_mean"],
            "achieved_ops_per_s": s["rates"]["achieved_ops_per_s"],
            "used_memory_mib": sum(m["used_memory_steady_mean"] for m in masters) / 2**20,
            "busiest_master_cpu_percent": round(100 * steady_util, 2),  # % of one core, as the chart and plan
            "server_cpu_us_per_command": s["server"]["cpu_us_per_command"],
            "p99_update_us": operation_percentile(s, "p99"),
            "flags": ",".join(k for k, v in s["flags"].items() if v) or "-",
        })
    return pd.DataFrame(rows).sort_values(["masters", "ha_pairs"]).reset_index(drop=True)


def costs_table(costs: sz.UnitCosts, d: sz.Deployment | None = None) -> pd.DataFrame:
    """The unit costs the predictions use, each with its source (capacity measurement > fitted runs > reference
    value) and how it was obtained; with the target ``d``, the CPU per command at its bytes per command (the
    figure the verdict uses and ``plan`` prints)."""
    p = sz.predict(d, costs) if d is not None else None
    at = p.bytes_per_command if p is not None else None
    # the target's costs: at its replicas per master (what plan --json's table shows for the same question)
    costs = p.costs if p is not None else costs
    tls = p.tls if p is not None else False
    curve = costs.redis_latency.curve_for(tls)
    curve = curve if curve is not None and curve.points else None  # one that kept no level is no measurement
    rows = [{"unit cost": r["unit cost"] + (f" ({r['unit']})" if r["unit"] else ""), "value": round(r["value"], 3),
             "source": r["source"], "how": r["basis"],
             "95 % interval": (f"{r['interval'][0]:,.3f} .. {r['interval'][1]:,.3f}" if r["interval"] else "-")}
            for r in costs.rows(at)]
    rows += [
        {"unit cost": "commands per persistence op: the model's x", "value": round(costs.commands_factor, 3),
         "source": "fitted runs" if costs.calibrated else "reference value",
         "how": "measured / modelled, steady windows" if costs.calibrated else "no runs", "95 % interval": "-"},
        {"unit cost": "Redis execution per command (µs), p99",
         "value": round(costs.redis_latency.exec_us_p99, 2),
         "source": "reference value" if costs.redis_latency.source.startswith("the reference") else "fitted runs",
         "how": f"p50 {costs.redis_latency.exec_us_p50:g} µs; {costs.redis_latency.source}", "95 % interval": "-"},
        # the measured queueing curve of the target's transport (plan --json's unit_costs queueing, the same text);
        # whether a prediction may read it is its own latency line's label (loadsim.model.latency.queueing)
        {"unit cost": "Redis queueing: latency-vs-load curve measured up to (% of a core)",
         "value": round(100 * curve.top, 1) if curve else 0.0,
         "source": "capacity measurement" if curve else "assumption",
         "how": costs.redis_latency.curve_text(tls), "95 % interval": "-"},
    ]
    return pd.DataFrame(rows).set_index("unit cost")


# Why a run's own figures differ from the unit costs, said where they are shown (the notebook prints it above
# the per-run table)
PER_RUN_CAPTION = (
    "Each run's own figures beside the unit costs. Bytes per live session are the run's own sessions' (the model x "
    "the calibration gives the target's). A run's server CPU per command is its steady window's, the masters' base "
    "CPU included (at a few hundred commands/s that is much of it); the unit costs take a master's base CPU apart "
    "(a line in the command rate, never below the idle share measured before each run's load) and charge the bytes "
    "per command apart, so a run with bigger records or a lower rate reads more per command. 'unit costs give' is "
    "what the unit costs predict for the run's own steady "
    "window: the gap to the measured figure is the fit's error on that run.")


def per_run_costs_table(costs: sz.UnitCosts) -> pd.DataFrame:
    """Each fitted run's own figures beside what the unit costs give for it (``PER_RUN_CAPTION`` says why they
    differ)."""
    rows = [{"run": r.name, "class": r.run_class, "bytes per live session (measured)": round(r.bytes_per_session),
             "model for its sessions": round(r.model_bytes_per_session),
             "measured / model": round(r.bytes_per_session / r.model_bytes_per_session, 3)
             if r.model_bytes_per_session else None,
             "server CPU µs/command (steady window, idle included)": round(r.cpu_us_per_command, 2),
             "bytes received per command (steady window)": round(r.bytes_per_command) if r.bytes_per_command else None,
             "unit costs give (µs/command, same window)": round(r.unit_cpu_us_per_command, 2)}
            for r in costs.per_run]
    return pd.DataFrame(rows).set_index("run") if rows else pd.DataFrame()


def assumptions_table(d: sz.Deployment) -> pd.DataFrame:
    return pd.DataFrame([{"parameter": f.name, "value": getattr(d, f.name),
                          "source": sz.ASSUMPTIONS.get(f.name, "given / default")} for f in fields(d)]
                        ).set_index("parameter")


# ------------------------------------------------------------------------------------------ figures
def pair_range(d: sz.Deployment, costs: sz.UnitCosts, points: int = 60) -> list[int]:
    """HA-pair counts to plot: up to twice where 3 masters stop passing (at least 30, at most 5000)."""
    most = sz.most_pairs(replace(d, masters=3), costs, limit=5000).value or 0
    top = min(5000, max(30, 2 * int(most)))
    step = max(1, top // points)
    return list(range(1, top + 1, step))


def live_per_pair(d: sz.Deployment) -> float:
    return d.live_sessions / d.ha_pairs


def equivalent_pairs(summary: dict[str, Any], d: sz.Deployment) -> float:
    """A measured run placed on the deployment's axis: its live sessions / the deployment's per pair."""
    return summary["live_sessions"]["steady_mean"] / live_per_pair(d)


def _shade_extrapolation(ax: plt.Axes, d: sz.Deployment, costs: sz.UnitCosts, top: float) -> None:
    """Grey out the HA-pair range beyond the live sessions the unit costs were measured on."""
    if costs.live_sessions_range is None:
        ax.text(0.01, 0.98, "unit costs assumed (no runs): every curve is a model", transform=ax.transAxes,
                va="top", fontsize=8, color="dimgrey")
        return
    measured_top = costs.live_sessions_range[1] / live_per_pair(d)
    if measured_top < top:
        ax.axvspan(measured_top, top, color="0.9", zorder=0, label="extrapolated (beyond measured)")


def _limit_line(ax: plt.Axes, value: float, top: float, label: str, fmt: str) -> float:
    """A limit as a dashed line, or, when it would flatten the curves, as a note that it lies above.
    Returns the top the y axis needs."""
    if value <= 1.5 * top:
        ax.axhline(value, color="red", linestyle="--", linewidth=1, label=label)
        return max(top, value)
    ax.text(0.99, 0.02, f"{label}: {fmt.format(value)} (above the plot)", transform=ax.transAxes,
            ha="right", va="bottom", fontsize=8, color="red")
    return top


def plot_memory_curves(d: sz.Deployment, costs: sz.UnitCosts,
                       summaries: list[dict[str, Any]] | None = None) -> plt.Figure:
    """used_memory of the busiest master vs HA pairs for 3/6/9/12 masters: the model's curves with a 95 %
    band from the fit's standard error, the measured runs as points, maxmemory as the limit."""
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    # around the target and the measured runs (the masters figure shows where 3 masters stop passing)
    measured = max((equivalent_pairs(s, d) for s in summaries or []), default=0.0)
    last = int(max(30, 3 * d.ha_pairs, 2 * measured))
    pairs = list(range(1, last + 1, max(1, last // 60)))
    top = 0.0
    for masters in (3, 6, 9, 12):
        preds = [sz.predict(replace(d, ha_pairs=p, masters=masters), costs) for p in pairs]
        mib = [p.memory_per_master / 2**20 for p in preds]
        line, = ax.plot(pairs, mib, label=f"{masters} masters (model)")
        if costs.memory_factor_se:  # the busiest master's session bytes x the factor's 95 % interval
            half = [1.96 * costs.memory_factor_se / costs.memory_factor
                    * (p.memory_per_master - costs.base_bytes_per_master) / 2**20 for p in preds]
            ax.fill_between(pairs, [m - h for m, h in zip(mib, half, strict=True)],
                            [m + h for m, h in zip(mib, half, strict=True)], color=line.get_color(), alpha=0.15)
        top = max(top, *mib)
    for s in summaries or []:
        busiest = max(m["used_memory_steady_mean"] for m in s["masters"]) / 2**20
        ax.plot(equivalent_pairs(s, d), busiest, "k o", markersize=5,
                label="measured (busiest master)" if s is summaries[0] else None)
    _shade_extrapolation(ax, d, costs, pairs[-1])
    top = _limit_line(ax, d.node_ram_bytes * d.maxmemory_fraction / 2**20, top,
                      f"maxmemory ({d.maxmemory_fraction:.0%} of {d.node_ram_bytes / 2**30:.1f} GiB node RAM)",
                      "{:,.0f} MiB")
    ax.axvline(d.ha_pairs, color="grey", linestyle=":", linewidth=1)
    ax.set_xlim(0, pairs[-1])
    ax.set_ylim(0, top * 1.1)
    ax.set_xlabel(f"ORS HA pairs (at {d.cps_per_pair:g} calls/s per pair, {d.aht_s:g} s handle time)")
    ax.set_ylabel("used_memory of the busiest master, MiB")
    ax.set_title("Memory per master (band: 95 % from the fit; dotted: the target)")
    ax.legend(fontsize=8, loc="upper left")
    return fig


def plot_recommended_masters(d: sz.Deployment, costs: sz.UnitCosts) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    pairs = pair_range(d, costs)
    masters = [sz.smallest_masters(replace(d, ha_pairs=p), costs) for p in pairs]
    ax.step(pairs, [m if m is not None else float("nan") for m in masters], where="mid", label="model")
    if all(m is None for m in masters):
        ax.text(0.5, 0.5, "no master count up to 64 passes at any of these HA-pair counts\n"
                f"({sz._binding(replace(d, ha_pairs=1, masters=64), costs)} binds)", transform=ax.transAxes,
                ha="center", va="center", fontsize=9, color="#c62828")
    _shade_extrapolation(ax, d, costs, pairs[-1])
    ax.axvline(d.ha_pairs, color="grey", linestyle=":", linewidth=1)
    ax.axhline(3, color="grey", linestyle=":", linewidth=1)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlim(0, pairs[-1])
    ax.set_ylim(bottom=0)
    ax.set_xlabel(f"ORS HA pairs (at {d.cps_per_pair:g} calls/s per pair, {d.aht_s:g} s handle time)")
    ax.set_ylabel("smallest passing master count (masters)")
    ax.set_title("Recommended masters (vendor rule: 3 for up to 9 HA pairs)")
    ax.legend(fontsize=8, loc="upper left")
    return fig


def plot_envelope(d: sz.Deployment, costs: sz.UnitCosts, masters: tuple[int, ...] = (3, 6, 9)) -> plt.Figure:
    """The capacity envelope: the most HA pairs the masters carry against the session size, for 3/6/9
    masters, with the same unit costs as the verdict (so the text's "most HA pairs" lies on the curve at the
    target's size). Sizes where not even one pair passes are said in words, never plotted as zero (a log axis
    cannot show them: that was the report's crash)."""
    sizes = [1024 * 2 ** (i / 2) for i in range(17)]  # 1 KiB .. 256 KiB
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    plotted, failing = False, []
    for m in masters:
        pairs = [sz.most_pairs(replace(d, masters=m, record_bytes=size, estate=None), costs, limit=20_000).value
                 for size in sizes]
        if all(p is None for p in pairs):
            failing.append(m)
            continue
        ax.plot([s / 1024 for s in sizes], [p if p is not None else float("nan") for p in pairs], marker=".",
                label=f"{m} masters")
        plotted = True
    if failing:
        ax.text(0.01, 0.02, f"not even 1 HA pair passes on {', '.join(map(str, failing))} masters at any size "
                f"({sz._binding(replace(d, ha_pairs=1, masters=failing[0]), costs)} binds)",
                transform=ax.transAxes, fontsize=8, color="#c62828")
    ax.axhline(d.ha_pairs, color="grey", linestyle=":", linewidth=1, label=f"target: {d.ha_pairs} HA pairs")
    ax.set_xscale("log", base=2)
    if plotted:
        ax.set_yscale("log")
    ax.set_xlabel(f"mean session size, KiB ({d.cps_per_pair:g} calls/s per pair, {d.aht_s:g} s handle time)")
    ax.set_ylabel("most HA pairs that pass")
    ax.set_title(f"Capacity envelope: HA pairs vs session size (p99 at a {d.network_rtt_us:,.0f} µs round trip)")
    ax.legend(fontsize=8)
    return fig


def plot_measured(table: pd.DataFrame, column: str, ylabel: str, title: str, limit: float | None = None,
                  limit_label: str = "", scale: float = 1.0, unit: str = "", latency: bool = False) -> plt.Figure:
    """Measured runs: every run a point, one line through the mean per HA-pair count for each (masters, TLS),
    integer HA-pair axis, the limit if given. One run gives one point; runs without the figure are said.
    A run that is not clean (its ``class`` column) is marked as such (a cross, its class in the legend); with
    ``latency`` the mean line goes through the clean runs only: a rig-bound run's latency is the machine's."""
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    top = 0.0
    values_all = pd.to_numeric(table[column], errors="coerce") * scale if column in table else pd.Series(dtype=float)
    classes = table["class"] if "class" in table else pd.Series(CLEAN, index=table.index)
    marked: set[str] = set()
    for (masters, tls), rows in table.assign(_v=values_all, _c=classes).groupby(["masters", "tls"], dropna=False):
        rows = rows.dropna(subset=["_v"])
        if rows.empty:
            continue
        top = max(top, float(rows["_v"].max()))
        label = f"{masters} masters{' TLS' if tls else ''}"
        clean = rows[rows["_c"] == CLEAN]
        colour = None
        if not clean.empty:
            colour = ax.plot(clean["ha_pairs"], clean["_v"], "o", alpha=0.6,
                             label=f"{label} (clean runs)")[0].get_color()
        for cls, other in rows[rows["_c"] != CLEAN].groupby("_c"):
            ax.plot(other["ha_pairs"], other["_v"], "x", color=colour or "#c62828", markersize=8, mew=2,
                    label=f"{label} ({cls} runs" + (": the rig's latency, not Redis's)" if latency and cls ==
                                                    RIG_BOUND else ")"))
            marked.add(str(cls))
        line = clean if latency else rows
        means = line.groupby("ha_pairs")["_v"].mean()
        if len(means) > 1 or len(line) > len(means):
            ax.plot(means.index, means.values, "-", color=colour or "#c62828", label=f"{label} (mean"
                    + (" of the clean runs)" if latency else ")"))
    if values_all.dropna().empty:
        ax.text(0.5, 0.5, "no run has this figure", transform=ax.transAxes, ha="center", va="center")
    pairs = pd.to_numeric(table["ha_pairs"], errors="coerce").dropna() if "ha_pairs" in table else pd.Series()
    if not pairs.empty:  # whole HA pairs from 0: one run at 9 pairs must not read 8.6 .. 9.4
        ax.set_xlim(0, float(pairs.max()) * 1.1 + 1)
    if limit is not None:
        top = _limit_line(ax, limit * scale, top, limit_label, "{:,.0f}" + unit)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(bottom=0, top=max(top * 1.15, 1e-9))
    ax.set_xlabel("ORS HA pairs (measured runs)")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)
    return fig


def question_html(d: sz.Deployment, summaries: list[dict[str, Any]], how: str) -> str:
    """The report's question (for the target deployment, not a fixed 9 on 3) and what the answer rests on: how many
    runs of which class, from which folder (its name: the report travels without the machine's paths)."""
    classes: dict[str, int] = {}
    for s in summaries:
        cls = (s.get("run_class") or {}).get("class", sz.UNCLASSIFIED)
        classes[cls] = classes.get(cls, 0) + 1
    folders = sorted({Path(s["_path"]).parent.name if len(summaries) > 1 else Path(s["_path"]).name
                      for s in summaries})
    told = ", ".join(f"{n} {k}" for k, n in sorted(classes.items()))
    return (f"<h2>Do {d.masters} Redis masters handle {d.ha_pairs} ORS HA pairs at {d.cps_per_pair:g} calls/s per "
            f"pair?</h2><p>Measured on {len(summaries)} run{'s' if len(summaries) != 1 else ''} ({told}) in "
            f"<code>{html.escape(', '.join(folders))}</code>; the predictions use {html.escape(how)}.</p>")


def verdict_html(v: sz.Verdict) -> str:
    """The verdict as the report's headline: PASS/FAIL, the binding constraint, its margin, any warning."""
    lines = v.text().splitlines()
    colour = "#1a7f37" if v.passed else "#c62828"
    rest = "".join(f"<li>{html.escape(line)}</li>" for line in lines[1:])
    return (f'<div style="border-left:6px solid {colour};padding:4px 12px;margin:8px 0">'
            f'<h2 style="color:{colour};margin:4px 0">{html.escape(lines[0])}</h2><ul>{rest}</ul></div>')


def key_runs_table(table: pd.DataFrame) -> pd.DataFrame:
    """The runs table cut to the columns that fit a page (the whole table goes to the appendix)."""
    keep = [c for c in ("run", "class", "ha_pairs", "masters", "tls", "complexity", "live_sessions", "p99_update_us",
                        "busiest_master_cpu_percent") if c in table.columns]
    return table[keep].set_index("run") if "run" in keep else table[keep]


# ------------------------------------------------------------------------------------------ live what-if
# The question's fields a JupyterLab user changes live: (Deployment field, label, kind, step). The network round
# trip is offered when the deployment has it (the latency prediction's production round trip).
# The what-if's fields: the question's, with the step of their control; label, type and range are the option's row
# (loadsim.options), as the web form's
WHAT_IF_FIELDS: tuple[tuple[str, float], ...] = (
    ("ha_pairs", 1), ("cps_per_pair", 0.5), ("aht_s", 10), ("record_bytes", 512), ("masters", 1), ("replicas", 1),
    ("network_rtt_us", 50),
)


def what_if_fields(d: sz.Deployment) -> list[tuple[str, str, str, float, float]]:
    """The what-if's fields this deployment has, with their starting values (the session size: the preset's
    when the target does not give one)."""
    have = {f.name for f in fields(d)}
    out = []
    for name, step in WHAT_IF_FIELDS:
        row = sz.option_of(name)
        assert row is not None, name  # a question's field with its row
        label, kind = row.label, row.type.__name__
        if name not in have or (d.estate is not None and name in ("cps_per_pair", "aht_s", "record_bytes")):
            continue  # an estate's pairs carry their own rates and sizes
        value = getattr(d, name)
        if name == "record_bytes" and value is None:
            value = sz.PRESETS[d.complexity].record_bytes
        out.append((name, label, kind, step, value))
    return out


def what_if_view(d: sz.Deployment, costs: sz.UnitCosts, summaries: list[dict[str, Any]] | None = None) -> list[Any]:
    """What the report shows for deployment ``d`` (the verdict as HTML, then the memory and recommended-masters
    figures), from the same functions the report and ``loadsim plan`` use."""
    from IPython.display import HTML

    return [HTML(verdict_html(sz.verdict(d, costs))), plot_memory_curves(d, costs, summaries),
            plot_recommended_masters(d, costs)]


def what_if(d: sz.Deployment, costs: sz.UnitCosts, summaries: list[dict[str, Any]] | None = None) -> Any:
    """In JupyterLab: the question's fields as widgets under the report's verdict; each change redraws the verdict
    and the curves with the report's own functions (``what_if_view``). A value the model refuses is said in one
    line, as ``loadsim plan`` says it. Needs ipywidgets (the notebooks extra); without it, says so."""
    from IPython.display import display

    try:
        import ipywidgets as w
    except ImportError:
        print("the live what-if needs ipywidgets: pip install -e '.[notebooks]'")
        return None
    from loadsim.errors import LoadsimError

    controls = {}
    for name, label, kind, step, value in what_if_fields(d):
        make = w.BoundedIntText if kind == "int" else w.BoundedFloatText
        low, high = sz.DEPLOYMENT_RANGES[name]  # the row's range
        controls[name] = make(value=value, min=low, max=high, step=step, description=label,
                              style={"description_width": "150px"}, layout=w.Layout(width="300px"))
    out = w.Output()

    def redraw(_: Any = None) -> None:
        out.clear_output(wait=True)
        with out:
            try:
                changed = replace(d, **{k: c.value for k, c in controls.items()})
                for item in what_if_view(changed, costs, summaries):
                    display(item)
                    if isinstance(item, plt.Figure):
                        plt.close(item)
            except LoadsimError as exc:
                print(f"not a deployment loadsim can assess: {exc}")

    for c in controls.values():
        c.observe(redraw, names="value")
    box = w.VBox([w.HTML("<b>What if?</b> Change the question; the verdict and the curves below follow."),
                  w.GridBox(list(controls.values()), layout=w.Layout(grid_template_columns="repeat(2, 320px)")),
                  out])
    display(box)
    redraw()
    return box
