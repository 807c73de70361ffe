"""A ``loadsim compare-tls`` folder read for its answer: the paired ratios and what they mean for sizing.

``loadsim compare-tls`` (while it runs and at its end, text and ``--json``) and the TLS report
(``loadsim.report.tls``) read a comparison only through these functions, so every surface shows the same
figures: the TLS/plain ratios of the paired fixed-load repeats, and per arm the masters needed and the most HA
pairs, from the one assessment (``loadsim.model.sizing.verdict``).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from loadsim.errors import FitError
from loadsim.model import ratios as rt
from loadsim.model import sizing as sz
from loadsim.model import unitcosts as uc
from loadsim.model.workload import operation_percentile
from loadsim.results.reader import load

METRICS: dict[str, Callable[[dict[str, Any]], float]] = {
    "p50_us": lambda s: float(operation_percentile(s, "p50") or 0),
    "p99_us": lambda s: float(operation_percentile(s, "p99") or 0),
    "p999_us": lambda s: float(operation_percentile(s, "p999") or 0),
    "server_cpu_us_per_command": lambda s: s["server"]["cpu_us_per_command"],
    "client_cpu_us_per_command": lambda s: s["client"]["cpu_us_per_command"],
    "achieved_ops_per_s": lambda s: s["rates"]["achieved_ops_per_s"],
}

# Until production latency is composed from the network round trip and Redis's own time, the p99 ratio is the
# rig's: the Python client on loopback, whose own TLS cost is most of it (x1.275 ±14 % after 8 repeats, where
# the server's CPU per command was x1.345 ±4.2 %).
P99_RIG = "a Python client on loopback, not your ORS over your network"
P99_LABEL = f"the rig's: {P99_RIG}"


def fixed_summaries(folder: Path, index: dict[str, Any], part: str = "fixed") -> dict[str, list[dict[str, Any]]]:
    """The summaries of the fixed-load runs that wrote one, per arm (plain, tls), in the order they ran."""
    arms: dict[str, list[dict[str, Any]]] = {"plain": [], "tls": []}
    for e in index.get(part, []):
        if e["ok"]:
            arms["tls" if e["point"]["tls"] else "plain"].append(load(Path(folder) / e["path"]).summary)
    return arms


def paired_ratios(folder: Path, index: dict[str, Any]) -> dict[str, dict[str, float]]:
    """TLS/plain ratio with its 95 % interval per metric (``loadsim.model.ratios.ratio_ci``), from the paired
    fixed-load repeats so far."""
    arms = fixed_summaries(folder, index)
    n = min(len(arms["plain"]), len(arms["tls"]))
    return {m: rt.ratio_ci([f(s) for s in arms["plain"][:n]], [f(s) for s in arms["tls"][:n]])
            for m, f in METRICS.items()}


def seconds_per_repeat(index: dict[str, Any]) -> float | None:
    """Wall-clock seconds of one fixed-load repeat so far (its plain, TLS and FIPS runs, clusters included)."""
    entries = index["fixed"] + index.get("fips", [])
    pairs = len([e for e in index["fixed"] if not e["point"]["tls"]])
    return sum(e["seconds"] for e in entries) / pairs if pairs else None


def ratio_view(r: dict[str, float], index: dict[str, Any]) -> rt.RatioView:
    """How a ratio of this comparison reads (the one description every surface prints): against its
    ``--precision`` (±5 % without one), with the time more repeats would take at its pace."""
    return rt.describe(r, index.get("spec", {}).get("precision"), seconds_per_repeat(index))


def arm_costs(folder: Path, index: dict[str, Any], tls: bool) -> sz.UnitCosts:
    """Unit costs of one arm, with the server CPU per command of the ratio table.

    CPU: the arm's geometric mean ``server.cpu_us_per_command`` over the paired fixed-load repeats, the very
    figure the ratio table prints (so TLS's over plain's is the table's ratio). The idle-base + per-command
    fit cannot work here: the steady windows of short comparison runs hold a few hundred commands at nearly one
    load, so it cannot tell idle CPU from per-command CPU and puts the idle CPU into the per-command term
    (measured: 70.0 and 81.8 µs/command fitted for runs that measured 12.5-17.6 and 25.3-28.8). The memory
    calibration and Redis's execution times (runs not rig-bound) come from all the arm's runs, read as every report
    reads runs."""
    from loadsim.results.runs import read_runs

    def records(entries: list[dict[str, Any]]) -> list[sz.MeasuredRun]:
        out: list[sz.MeasuredRun] = []
        for e in entries:
            if e["ok"] and bool(e["point"]["tls"]) == tls:
                out.extend(read_runs(Path(folder) / e["path"]))
        return out
    name, arm = ("TLS", "tls") if tls else ("plain", "plain")
    r = paired_ratios(folder, index)["server_cpu_us_per_command"]
    own = [s["server"]["cpu_us_per_command"] for s in fixed_summaries(folder, index)[arm]
           if s["server"].get("cpu_us_per_command")]
    if r["n"]:  # the paired repeats: the ratio table's own figure
        cpu_us, per_run = r[f"{arm}_mean"], own[:r["n"]]
        how = f"geometric mean of {r['n']} paired fixed-load runs (the ratio table's)"
    elif own:  # the other arm has no run: this arm alone (no ratio to agree with)
        cpu_us, per_run = math.exp(statistics.fmean(math.log(x) for x in own)), own
        how = f"geometric mean of {len(own)} fixed-load runs (no pair with the other arm)"
    else:
        raise FitError(f"no fixed-load {name} run with server commands to size from")
    per_run = [x * 1e-6 for x in per_run]
    every = records(index["fixed"]) + records(index["saturation"]["tls" if tls else "plain"])
    try:
        costs = sz.fit_unit_costs(every)
        memory = f"memory model calibrated on {costs.runs} runs"
    except FitError:
        costs, memory = sz.DEFAULT_COSTS, "memory model uncalibrated"
    sd = statistics.stdev(per_run) if len(per_run) >= sz.MIN_RUNS_FOR_SPREAD else None
    cpu = uc.flat_cpu(cpu_us * 1e-6, how, sd)  # the arm's own figure whichever arm the deployment asks about
    return replace(costs, plain=cpu, tls=cpu, runs=len(per_run) if costs.calibrated else 0,
                   source=f"CPU: {how}; {memory}")


@dataclass(frozen=True)
class ArmSizing:
    """One arm's sizing consequence: the one assessment (``sizing.verdict``) with that arm's unit costs."""

    arm: str  # plain or TLS
    costs: sz.UnitCosts | None  # None: the arm has no run to size from (``why``)
    verdict: sz.Verdict | None
    most_pairs: sz.Limit | None  # on the deployment's masters
    most_pairs_by_cpu: sz.Limit | None  # the same with the connection limit lifted (when connections bind)
    why: str = ""
    most_pairs_with: str = ""  # the fix the most HA pairs assume ("--replicas 1"): no pair passes without it

    @property
    def cpu_us_per_command(self) -> float | None:
        return None if self.costs is None else self.costs.cpu_s_per_command * 1e6

    @property
    def masters_text(self) -> str:
        """``3``; or what more masters cannot fix with its own fix (``sizing.masters_text``, as ``loadsim plan``
        says it: a replica, maxclients, the key layout); or ``not assessed: why``."""
        v = self.verdict
        if v is None:
            return f"not assessed: {self.why}"
        if v.smallest_masters is not None:
            return f"{v.smallest_masters}"
        return sz.masters_text(v).removeprefix("smallest master count that passes: ")

    @property
    def most_pairs_text(self) -> str:
        """``1,250 (then connections bind)``: the most HA pairs and the constraint that stops them there."""
        if self.costs is None:
            return f"not assessed: {self.why}"
        return _limit_text(self.most_pairs) + (f" with {self.most_pairs_with}" if self.most_pairs_with else "")

    @property
    def most_pairs_by_cpu_text(self) -> str:
        return _limit_text(self.most_pairs_by_cpu)

    @property
    def latency_text(self) -> str:
        if self.verdict is None:
            return "not assessed"
        k = next(k for k in self.verdict.prediction.constraints if k.name.startswith(sz.LATENCY_SLO))
        return k.text().removeprefix(f"{k.name}: ")


def _limit_text(m: sz.Limit | None) -> str:
    if m is None or m.value is None:
        return "-" if m is None else f"none: {m.note}"
    name = sz.short_name(m.binding)
    return f"{m.value:,.0f} (then {name} {'bind' if name.endswith('s') else 'binds'})"


def _composes() -> bool:
    """Whether the sizing composes latency for production (``loadsim.model.latency``: a question with its network
    round trip and TLS); before it did, the TLS answer showed the rig's p99 alone."""
    return {"tls", "network_rtt_us"} <= {f.name for f in fields(sz.Deployment)}


def arm_deployment(d: sz.Deployment, tls: bool) -> sz.Deployment:
    """The question asked of one arm: the same deployment, with TLS between ORS and Redis or without."""
    return replace(d, tls=tls) if _composes() else d


def arm_sizing(folder: Path, index: dict[str, Any], d: sz.Deployment, tls: bool) -> ArmSizing:
    name = "TLS" if tls else "plain"
    try:
        costs = arm_costs(folder, index, tls)
    except FitError as exc:
        return ArmSizing(name, None, None, None, None, str(exc))
    d = arm_deployment(d, tls)
    v = sz.verdict(d, costs)
    most = v.envelope.max_pairs if v.envelope is not None else sz.most_pairs(d, costs)
    fixed = ""
    # no pair passes for a reason no load changes (no replica): the most HA pairs once that is fixed, said so
    structural = {n: x for k in v.prediction.constraints if not k.ok and k.structural for n, x in k.fix_changes}
    if most.value is None and structural:
        d = replace(d, **structural)
        most = sz.most_pairs(d, costs)
        fixed = ", ".join(f"--{n.replace('_', '-')} {x}" for n, x in structural.items())
    by_cpu = None
    if most.value is not None and sz.short_name(most.binding) == "connections":
        lifted = replace(d, maxclients=int(sz.DEPLOYMENT_RANGES["maxclients"][1]))
        by_cpu = sz.most_pairs(lifted, costs)
    return ArmSizing(name, costs, v, most, by_cpu, most_pairs_with=fixed)


@dataclass(frozen=True)
class ProductionP99:
    """The p99 of the binding operation in production per arm (the sizing's composition: the question's network round
    trip, Redis's execution and queueing at the arm's CPU per command, the ORS client's time with its TLS share),
    and TLS/plain with its interval from the server CPU ratio's (the composition's only measured TLS input)."""

    plain_us: float
    tls_us: float
    low: float | None  # TLS/plain at the ends of the CPU ratio's interval; None when that does not resolve
    high: float | None
    round_trip: str  # "a 200 µs network round trip (assumed: a LAN ...)"
    operation: str = "persistence operation"  # the binding one: "session create, delete or recovery (3 commands)"

    @property
    def ratio(self) -> float:
        return self.tls_us / self.plain_us

    def text(self) -> str:
        interval = (f" [{self.plain_us * self.low:,.0f}, {self.plain_us * self.high:,.0f}] (at the ends of the server "
                    "CPU ratio's interval)" if self.low is not None and self.high is not None
                    else " (no interval: the server CPU ratio is unresolved)")
        return (f"plain {self.plain_us:,.0f} µs, TLS {self.tls_us:,.0f} µs{interval}: TLS/plain "
                f"x{rt.number(self.ratio)}")


def production_p99(plain: ArmSizing, tls: ArmSizing, cpu: rt.RatioView) -> ProductionP99 | None:
    """Each arm's composed production p99 (None before the sizing composes latency, or without both arms)."""
    if not _composes() or plain.verdict is None or tls.verdict is None or tls.costs is None:
        return None
    pl, tl = plain.verdict.prediction, tls.verdict.prediction
    if pl.latency is None or tl.latency is None or not (math.isfinite(pl.p99_us) and math.isfinite(tl.p99_us)):
        return None
    ends: list[float | None] = [None, None]
    if cpu.resolved and cpu.low is not None and cpu.high is not None and plain.cpu_us_per_command:
        for i, end in enumerate((cpu.low, cpu.high)):
            arm = uc.flat_cpu(plain.cpu_us_per_command * end * 1e-6, "the CPU ratio's interval")
            p99 = sz.predict(tl.deployment, replace(tls.costs, plain=arm, tls=arm)).p99_us
            ends[i] = p99 / pl.p99_us if p99 is not None and math.isfinite(p99) else None
    c = tl.latency
    return ProductionP99(pl.p99_us, tl.p99_us, ends[0], ends[1],
                         f"a {c.rtt_us:,.0f} µs network round trip, {c.rtt_source}",
                         f"{c.operation} ({c.commands:g} command{'s' if c.commands != 1 else ''})")


@dataclass(frozen=True)
class TlsAnswer:
    """What TLS costs, as the report opens with it and ``compare-tls`` ends with it."""

    deployment: sz.Deployment
    plain: ArmSizing
    tls: ArmSizing
    cpu: rt.RatioView  # server CPU per command, TLS/plain
    p99: rt.RatioView  # p99 of a persistence operation, TLS/plain, as the rig measured it
    p99_label: str
    production: ProductionP99 | None = None  # the p99 a user should read (None: not composed)
    question: sz.Question | None = None  # what was asked (``own_question``: the comparison's own deployment)

    def lines(self) -> list[str]:
        d, p, t = self.deployment, self.plain, self.tls
        asked = ""
        if self.question is not None:
            changes = self.question.changes_text()
            asked = f" ({self.question.asked}" + (f"; {changes}" if changes else "") + ")"
        pairs = f"{d.ha_pairs:,} HA pair{'s' if d.ha_pairs != 1 else ''}"
        nodes = f"{1 + d.replicas} node{'s' if d.replicas else ''}"
        question = f"{pairs} at {d.cps_per_pair:g} calls/s per pair on {d.masters} masters x {nodes}"
        needed = (f"plain and TLS alike: {p.masters_text}" if p.masters_text == t.masters_text and p.verdict
                  else f"plain {p.masters_text}, TLS {t.masters_text}")
        lines = [f"masters needed for {question}{asked}: {needed}"]
        cpu = self.cpu.text if not self.cpu.resolved else f"x{self.cpu.text}"
        p99 = self.p99.text if not self.p99.resolved else f"x{self.p99.text}"
        lines.append(f"server CPU per command, TLS/plain: {cpu}")
        if self.production is not None:
            lines.append(f"p99 of a {self.production.operation} in production ({self.production.round_trip}): "
                         f"{self.production.text()}")
            lines.append(f"  p99 measured on this rig ({P99_RIG}), TLS/plain: {p99}")
        else:
            lines.append(f"p99 ({self.p99_label}), TLS/plain: {p99}")
        lines.append(f"most HA pairs on {d.masters} masters: plain {p.most_pairs_text}, TLS {t.most_pairs_text}")
        if p.most_pairs_by_cpu is not None or t.most_pairs_by_cpu is not None:
            lifted = [a.most_pairs_by_cpu_text if a.most_pairs_by_cpu is not None else a.most_pairs_text
                      for a in (p, t)]
            lines.append(f"  with the connection limit lifted (maxclients): plain {lifted[0]}, TLS {lifted[1]}")
        return lines


def compared_runs(folder: Path, index: dict[str, Any]) -> list[Path]:
    """The fixed-load runs that wrote a summary, in the order they ran (plain and TLS)."""
    return [Path(folder) / e["path"] for e in index.get("fixed", []) if e["ok"]]


def own_question(folder: Path, index: dict[str, Any], **changes: Any) -> sz.Question:
    """The comparison's own question: the deployment of the runs it compared (their HA pairs, load, sessions,
    masters, replicas), asked the way ``loadsim plan --from <one of those runs>`` asks it
    (``loadsim.results.runs.folder_question``), without TLS (each arm adds its own, ``arm_deployment``), with the
    comparison's own p99 SLO (``--latency-slo-p99-us``, plan's flag) and ``changes`` as a what-if over it. Plan's
    defaults when no fixed-load run completed (then no arm can be sized either, and the answer says why)."""
    from loadsim.model import question
    from loadsim.results.runs import folder_question

    own = next((q for run in compared_runs(folder, index) if (q := folder_question(run)) is not None), None)
    slo = (index.get("spec") or {}).get("slo_p99_us")
    if slo is not None and "latency_slo_p99_us" not in changes:
        changes = {**changes, "latency_slo_p99_us": float(slo)}
    if own is None:
        return question.ask(sz.Deployment(), question.PLAN_DEFAULTS, **changes)
    base = replace(own[0], tls=False)
    return question.ask(base, f"the comparison's own deployment, its runs' in {Path(folder).name}", **changes)


def answer(folder: Path, index: dict[str, Any], deployment: sz.Deployment | sz.Question | None = None) -> TlsAnswer:
    """The comparison's answer to its own question (``own_question``: the deployment of the runs it compared), or
    to ``deployment`` when given (a question, or a deployment asked as a what-if)."""
    from loadsim.model import question

    if deployment is None:
        q = own_question(folder, index)
    elif isinstance(deployment, sz.Question):
        q = deployment
    else:
        q = question.Question(deployment, "the deployment given")
    d = q.deployment
    ratios = paired_ratios(folder, index)
    plain, tls = arm_sizing(folder, index, d, False), arm_sizing(folder, index, d, True)
    cpu = ratio_view(ratios["server_cpu_us_per_command"], index)
    return TlsAnswer(d, plain, tls, cpu, ratio_view(ratios["p99_us"], index), P99_LABEL,
                     production_p99(plain, tls, cpu), q)
