"""Sizing math (pure: numbers in, numbers out; no I/O).

Method: measure unit costs on real runs (bytes per live session, base memory per master, server CPU
per Redis command, Redis commands per persistence operation, p99 vs master CPU utilisation), then
predict a target deployment from them, and check the prediction against runs it was not fitted on
(``loadsim validate``). Every rule and default is a field you can override; each says where it
comes from.
"""

from __future__ import annotations

import functools
import heapq
import math
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np

from loadsim import defaults as D
from loadsim import options as O
from loadsim.errors import FitError, OptionsError
from loadsim.model import footprint as fp
from loadsim.model import latency as lat
from loadsim.model import unitcosts as uc
from loadsim.model import workload as wl
from loadsim.model.question import (  # noqa: F401  (the question's names, as sizing has always offered them)
    ASSUMPTIONS,
    DEPLOYMENT_RANGES,
    NOT_FLAGS,
    PLAN_CPU_CEILING,
    PLAN_DEFAULTS,
    Deployment,
    Question,
    cpu_ceiling_share,
    deployment_for,
    estate_changes,
    number_text,
    option_of,
)
from loadsim.model.runclass import RIG_BOUND
from loadsim.model.workload import PRESETS  # noqa: F401  (the presets, as sizing has always offered them)

GIB = D.GIB


# ------------------------------------------------------------------------------------------ inputs
# The unit costs (what a cluster costs, with provenance) have their own module; re-exported here for the surfaces
# that read them through sizing.
MIN_RUNS_FOR_SPREAD = uc.MIN_RUNS_FOR_SPREAD
RunFigures = uc.RunFigures
UnitCosts = uc.UnitCosts

# When no runs are given: memory and commands from the model of the sessions (loadsim.model.footprint: Redis
# internals + the workload model) uncalibrated, server CPU from the reference values (loadsim.defaults).
DEFAULT_COSTS = UnitCosts(source=uc.DEFAULT_COSTS_SOURCE)




# ------------------------------------------------------------------------------------------ fitting
def cpu_per_command(cpu_s: list[float], commands: list[float]) -> tuple[float, float | None]:
    """Server CPU seconds per command (pooled) and the spread between runs (standard deviation).

    Uses ``used_cpu_sys + used_cpu_user`` deltas, not ``commandstats usec_per_call``: the latter counts
    only command execution and leaves out socket I/O, protocol parsing and TLS.
    """
    pairs = [(c, n) for c, n in zip(cpu_s, commands, strict=True) if n > 0]
    if not pairs:
        raise FitError("cpu_per_command needs runs with commands > 0")
    pooled = sum(c for c, _ in pairs) / sum(n for _, n in pairs)
    per_run = [c / n for c, n in pairs]
    return pooled, float(np.std(per_run, ddof=1)) if len(per_run) >= MIN_RUNS_FOR_SPREAD else None


# Run classes (the run's summary, ``run_class.class``): a rig-bound run's Redis execution times stay out of the fit
# (``redis_latency``: a busy host can stop Redis mid-command too); memory and CPU fits take every run whose counters
# are sound. Runs from before the classification are "unclassified".
UNCLASSIFIED = "unclassified"
IN_PROGRESS = "in progress"  # the live view's run: its class is decided when it ends


@dataclass(frozen=True)
class MeasuredRun:
    """What sizing needs of one run, typed. ``loadsim.results.runs.read_runs`` is the one reader that builds
    these from run folders; nothing in the model reaches into summary.json."""

    name: str
    run_class: str  # clean, rig-bound, redis-bound or unclassified (a run from before the classification)
    evidence: str  # the classification's one line ("" when unclassified)
    tls: bool
    ha_pairs: int
    masters: int
    live_sessions: float  # mean over the steady window
    used_memory: float  # all masters, mean over the steady window
    cpu_s: float  # server CPU over the steady window, all masters
    master_seconds: float  # masters x steady window
    commands: float  # commands in the steady window, all masters
    operations_steady: float  # persistence operations completed in the steady window
    cpu_us_per_command: float  # the run's own server CPU per command over its steady window (idle included)
    workload: wl.WorkloadParams | None = None  # the run's sessions, to model them (None: unknown)
    eager_connections: bool = False  # the backup's connections open at start too (lazy pools: on first use)
    redis_version: tuple[int, int] = (7, 0)
    allocator: str = "jemalloc"
    path: str = ""  # the run folder
    bytes_in: float | None = None  # bytes the masters received in the steady window (None: not measured)
    idle_share: float | None = None  # share of a core an idle master used before the load (None: not measured)

    def cpu_sample(self) -> uc.CpuSample:
        """What the CPU fit needs; a run from before the byte counters were kept counts its sessions' modelled
        bytes (else its per-command figure would hold its bytes, and a prediction would add them again)."""
        bytes_in = self.bytes_in
        if bytes_in is None and self.workload is not None:
            bytes_in = self.commands * uc.bytes_per_command(self.workload)
        return uc.CpuSample(self.name, self.tls, self.cpu_s, self.master_seconds, self.commands, bytes_in,
                            self.idle_share, self.replicas,
                            uc.write_share(self.workload) if self.workload is not None else 1.0)

    @property
    def bytes_per_command(self) -> float:
        """Bytes received per command in the steady window (0: not measured)."""
        return (self.bytes_in or 0.0) / self.commands if self.commands else 0.0
    # INFO latencystats p50, p99, p99.9 per command (None: not recorded)
    redis_exec_us: tuple[float | None, float | None, float | None] = (None, None, None)
    replicas: int = 0  # replicas per master of the run's cluster (its CPU per command carries their propagation)


@dataclass(frozen=True)
class RunModel:
    """The model of one run's sessions: bytes all masters hold for them and commands per operation."""

    data_bytes: float  # all masters, at the run's measured live sessions (bucket arrays included)
    connection_bytes_per_master: float
    bytes_per_session: float  # per live session, no bucket arrays
    commands_per_op: float


def model_run(r: MeasuredRun) -> RunModel:
    """The model's figures for a measured run (its workload at its measured live sessions)."""
    assert r.workload is not None
    p = replace(r.workload, ha_pairs=1)
    f = fp.footprint(p, r.redis_version, r.allocator)
    live = r.live_sessions
    keys = sum(f.keys_per_session.values()) * live
    ttl = sum(f.ttl_keys_per_session.values()) * live
    buckets = r.masters * fp.buckets_bytes(keys / r.masters, ttl / r.masters, f.hash_fields_per_session * live)
    per_thread = fp.connection_bytes(p, True, r.allocator) + (
        fp.connection_bytes(p, False, r.allocator) if r.eager_connections else 0.0)
    return RunModel(live * f.bytes_per_live_session + buckets, r.ha_pairs * p.worker_threads * per_thread,
                    f.bytes_per_live_session, f.commands_per_op)


def predict_run(r: MeasuredRun, c: UnitCosts) -> tuple[float, float]:
    """(used_memory of all masters, server CPU s of the steady window) the calibrated model predicts for a run
    that was not fitted (``loadsim validate``)."""
    m = model_run(r)
    memory = r.masters * (c.base_bytes_per_master + m.connection_bytes_per_master) + c.memory_factor * m.data_bytes
    assert r.workload is not None
    # the bytes the run's sessions send (the model's), so that the prediction does not lean on the measured run
    bytes_in = r.commands * uc.bytes_per_command(r.workload)
    arm = c.cpu_for(r.tls).for_replicas(r.replicas, uc.write_share(r.workload))  # at the run's own replicas
    return memory, arm.seconds(r.master_seconds, r.commands, bytes_in)


def fit_calibration(runs: list[MeasuredRun]) -> tuple[float, float, float | None, str]:
    """(base bytes per master, memory factor, its standard error, how) from runs whose sessions are known.

    Least squares of used_memory - modelled connections = base x masters + factor x modelled session bytes.
    Runs at one size cannot separate the base from the factor: then the base is the model's empty master
    (measured: loadsim.model.footprint.EMPTY_MASTER_BYTES) and only the factor is fitted."""
    models = [model_run(r) for r in runs]
    y = np.asarray([r.used_memory - r.masters * m.connection_bytes_per_master
                    for r, m in zip(runs, models, strict=True)])
    x_m = np.asarray([float(r.masters) for r in runs])
    x_d = np.asarray([m.data_bytes for m in models])
    if len(runs) >= 2 and len(set(np.round(x_d / max(x_d.max(), 1.0), 3))) >= 2:
        design = np.column_stack([x_m, x_d])
        coef, _, rank, _ = np.linalg.lstsq(design, y, rcond=None)
        if rank == 2 and coef[0] > 0 and coef[1] > 0:
            se = None
            if len(y) >= MIN_RUNS_FOR_SPREAD:
                residual = y - design @ coef
                cov = float(residual @ residual) / (len(y) - 2) * np.linalg.pinv(design.T @ design)
                se = float(math.sqrt(max(0.0, cov[1, 1])))
            return float(coef[0]), float(coef[1]), se, f"base and factor fitted on {len(runs)} runs"
    base = fp.EMPTY_MASTER_BYTES
    factor = float((y - base * x_m).sum() / x_d.sum()) if x_d.sum() > 0 else 1.0
    return base, factor, None, (f"factor fitted on {len(runs)} run(s); base per master the model's "
                                f"{base / 2**20:.2f} MiB (the runs do not separate the two)")


def _cpu_us_for(r: MeasuredRun, plain: uc.CpuCosts, tls: uc.CpuCosts) -> float:
    """Server CPU per command the unit costs give for a run's steady window (its idle CPU included): beside the
    run's own measured figure, what the report's per-run table shows."""
    sample = r.cpu_sample()
    arm = (tls if r.tls else plain).for_replicas(r.replicas, sample.write_share)  # at the run's own replicas
    return arm.seconds(r.master_seconds, r.commands, sample.bytes_in or 0.0) * 1e6 / r.commands if r.commands else 0.0


def fit_unit_costs(runs: list[MeasuredRun]) -> UnitCosts:
    """The model's calibration from measured runs (``loadsim.results.runs.read_runs``): memory factor and base,
    commands factor and server CPU from every run whose counters are sound; Redis's own execution times from the
    runs that were not rig-bound (``redis_latency``)."""
    usable = [r for r in runs if r.masters > 0]
    if not usable:
        raise FitError("no complete runs with server samples to fit unit costs from")
    modelled = [r for r in usable if r.workload is not None and r.live_sessions > 0]
    if not modelled and any(r.workload is not None for r in usable):  # modelled, but no live sessions measured
        raise FitError("no run with a steady window to calibrate the model on (a run stopped during its warm-up or "
                       "pre-fill has none): run longer than --warmup and the pre-fill")
    if not modelled:
        raise FitError("no run whose sessions can be modelled (config.json missing) to calibrate the model on")
    base, factor, factor_se, how = fit_calibration(modelled)
    models = {r.name: model_run(r) for r in modelled}
    # steady window only: the pre-fill writes sessions with commands that are no persistence operation
    cmd_model = sum(r.operations_steady * models[r.name].commands_per_op for r in modelled)
    cmd_factor = sum(r.commands for r in modelled) / cmd_model if cmd_model else 1.0
    # CPU over the steady window only: the pre-fill burst runs at another rate (more commands per
    # event-loop wake-up) and would mix two regimes into one per-command cost. Plain and TLS runs apart; an arm
    # without runs (or without commands, e.g. the live view after the test stopped) keeps the reference values.
    source = f"model calibrated on {len(usable)} measured runs"
    samples = [r.cpu_sample() for r in usable]
    plain, tls = uc.fit_cpu(samples, tls=False), uc.fit_cpu(samples, tls=True)
    if not any(r.commands > 0 for r in usable):
        source += " (no commands measured: CPU the reference values)"
    per_run = tuple(RunFigures(
        r.name, r.run_class,
        (r.used_memory - r.masters * (base + models[r.name].connection_bytes_per_master)) / r.live_sessions,
        models[r.name].bytes_per_session, r.cpu_us_per_command, r.bytes_per_command, r.tls,
        _cpu_us_for(r, plain, tls)) for r in modelled)
    live = [r.live_sessions for r in usable]
    return UnitCosts(plain=plain, tls=tls, base_bytes_per_master=base, memory_factor=factor,
                     redis_latency=redis_latency(usable), memory_factor_se=factor_se, commands_factor=cmd_factor,
                     runs=len(usable), source=source,
                     live_sessions_range=(min(live), max(live)), per_run=per_run, memory_note=how)


def redis_latency(runs: list[MeasuredRun]) -> lat.RedisLatency:
    """Redis's own execution per command (p50, p99, and p99.9 when every run kept it): the median over the runs that
    are not rig-bound and recorded INFO latencystats (a busy host can stop Redis mid-command too, so a rig-bound run's
    figures stay out of the fit); the reference machine's without one."""
    seen = [r.redis_exec_us for r in runs
            if r.run_class != RIG_BOUND and r.redis_exec_us[0] is not None and r.redis_exec_us[1] is not None]
    if not seen:
        return lat.DEFAULT_REDIS
    p50, p99 = float(np.median([s[0] for s in seen])), float(np.median([s[1] for s in seen]))
    p999s = [s[2] for s in seen if len(s) > 2 and s[2] is not None]
    p999 = max(p99, float(np.median(p999s))) if p999s and len(p999s) == len(seen) else None
    return lat.RedisLatency(p50, max(p50, p99), f"INFO latencystats of {len(seen)} run{'s' if len(seen) != 1 else ''} "
                                                 "that were not rig-bound (median)", exec_us_p999=p999)


OPERATION_NAMES = {wl.CREATE: "session create", wl.UPDATE: "session update", wl.DELETE: "session delete",
                   wl.RECOVER: "session recovery"}


def operation_commands(d: Deployment) -> tuple[tuple[str, int], ...]:
    """(operation, Redis commands) of every persistence operation the question's pairs send, each at its most
    commands over the pairs and the operation's variants (``footprint.operation_variants``, counted on the lists the
    generator sends; a run's latency split reads the same variants): a create (with its timers record when sessions
    have one), an update (one that also rewrites the timers record, when some do), a delete (unless every session
    leaks) and the recovery after a switchover (read the records back, write the new owner). The index layout's
    periodic cleaning is a batch procedure, not an operation a call waits for: it is left out."""
    most: dict[str, int] = {}
    for _, p in d.pair_groups():
        for kind, n in _operation_commands(d.key_layout, p.ors_cluster_name, p.complexity, p.leaked_share < 1.0):
            most[kind] = max(most.get(kind, 0), n)
    return tuple((kind, most[kind]) for kind in OPERATION_NAMES if kind in most)


@functools.lru_cache(maxsize=256)  # the envelope's searches predict thousands of times for the same pairs
def _operation_commands(layout_name: str, cluster: str, complexity: wl.Complexity, deletes: bool
                        ) -> tuple[tuple[str, int], ...]:
    variants = fp.operation_variants(wl.KeyLayout(layout_name, cluster), complexity, 0.0 if deletes else 1.0)
    return tuple((kind, max(k for k, _ in v)) for kind, v in variants.items())


# ------------------------------------------------------------------------------------------ predicting
@dataclass(frozen=True)
class Constraint:
    name: str
    value: float
    limit: float
    unit: str
    structural: bool = False  # a yes/no requirement (replicas, 3 masters): binding only when it fails
    not_assessed: str = ""  # why this constraint could not be checked ("" = it was)
    detail: str = ""  # how the value was obtained (the latency model, extrapolation)
    fix: str = ""  # what fixes it when it fails (more masters, a replica, maxclients, the key layout, a faster NIC)
    fix_changes: tuple[tuple[str, Any], ...] = ()  # that fix as changes to the question (empty: none to compute)
    masters_fix: bool = True  # more masters fix it (False: its own fix is the answer, more masters are not)

    @property
    def assessed(self) -> bool:
        return not self.not_assessed

    @property
    def margin(self) -> float:
        """Headroom as a share of the limit (negative = over the limit; +inf when not assessed)."""
        if not self.assessed:
            return math.inf
        return (self.limit - self.value) / self.limit if self.limit else -math.inf

    @property
    def ok(self) -> bool:
        """Not over its limit. A constraint not assessed does not fail the verdict; the verdict says it."""
        return not self.assessed or self.value <= self.limit

    @property
    def status(self) -> str:
        return "NOT ASSESSED" if not self.assessed else "PASS" if self.ok else "FAIL"

    def text(self) -> str:
        if not self.assessed:
            return f"{self.name}: NOT ASSESSED: {self.not_assessed}"
        return f"{self.name}: {self.status}: {self.figures}"

    @property
    def short(self) -> str:
        """``memory``, ``CPU``, ``network``: the name without its explanation."""
        return self.name.split(" (")[0]

    @property
    def figures(self) -> str:
        """``12.0 Mbit/s of 700 Mbit/s, margin +98 %``: value, limit and margin as every surface shows them."""
        if not self.assessed:
            return f"not assessed: {self.not_assessed}"
        return f"{_fmt(self.value, self.unit)} of {_limit(self.limit, self.unit)}, {_margin(self.margin)}"


LATENCY = LATENCY_SLO = "latency SLO"  # the latency constraint's name starts so; the binding operation follows


def latency_name(p: Prediction) -> str:
    """``latency SLO (p99 of a session delete: 3 commands)``: the constraint named by the operation that binds it
    (the SLO binds every operation; the one with the highest predicted p99)."""
    if p.latency is None:
        return f"{LATENCY_SLO} (p99)"
    k = p.latency.commands
    return f"{LATENCY_SLO} (p99 of a {p.latency.operation}: {k:g} command{'s' if k != 1 else ''})"


def latency_line(p: Prediction) -> str:
    """The verdict's latency line, the same on every surface (plan's text and --json, the report, the web tab): the
    binding operation first, then its parts, every operation's p99 and where the inputs come from."""
    if p.latency is None:
        return ""
    d, r, b = p.deployment, p.costs.redis_latency, p.latency
    each = ", ".join(f"{c.operation.removeprefix('session ')} {_fmt(c.p99_us, 'µs')} ({c.commands:g})"
                     for c in p.latencies)
    return (f"predicted p99 in production, every operation against the SLO {d.latency_slo_p99_us:,.0f} µs: "
            f"{b.headline()}; {b.text()}; per operation (commands): {each}; ORS client "
            f"{lat.client_us_per_command(d.tls):g} µs per command (assumption{', with TLS' if d.tls else ''}); Redis "
            f"execution p50 {r.exec_us_p50:g} / p99 {r.exec_us_p99:g}"
            + (f" / p99.9 {r.exec_us_p999:g}" if r.exec_us_p999 is not None else "")
            + f" µs per command from {r.source}")


def _latency_masters_fix(p: Prediction) -> bool:
    return _fixed_latency(p) < p.deployment.latency_slo_p99_us


# Why 70 %: a NIC's line rate is not its usable rate: Ethernet framing and TCP/IP headers are counted below, but
# bursts (a switchover's restores, a failover's full resync, an RDB transfer to a new replica) share the same link;
# 70 % of line rate is the usual planning ceiling for a link that must absorb them (the same headroom as plan's
# CPU ceiling of 0.7 for one core).
NIC_CEILING = 0.7
# On the wire, per TCP segment (MSS 1,448 B with timestamps): Ethernet 38 B (preamble 8, header 14, FCS 4,
# inter-frame gap 12; IEEE 802.3) + IPv4 20 B + TCP 32 B (RFC 9293, RFC 7323 timestamps) = 90 B. ORS waits for each
# reply (one command per round trip per connection), so every request and every reply is its own segment(s).
WIRE_OVERHEAD_BYTES, MSS_BYTES = 90, 1448
# Redis's reply to a persistence write: "+OK\r\n" (SET, 5 B) or ":1\r\n" (DEL, EXPIRE, HSET, 4 B) (RESP). Not the
# runs' total_net_output_bytes: the monitor's own INFO reply (5,008 B per node per second, Redis 7.0.15) is most of
# it at a rig's rate (225 commands/s on a master would read 27 B per command).
REPLY_BYTES = 5
# TLS 1.3 adds 22 B per record (5 B header, 1 B content type, 16 B AEAD tag; RFC 8446 5.2); one record per command.
TLS_RECORD_BYTES = 22


def on_the_wire(payload: float, tls: bool) -> float:
    """Bytes a message of ``payload`` bytes takes on an Ethernet link (TLS record, TCP/IP headers, framing)."""
    payload += TLS_RECORD_BYTES if tls else 0
    return payload + math.ceil(payload / MSS_BYTES) * WIRE_OVERHEAD_BYTES


def network_directions(p: Prediction) -> tuple[float, float]:
    """(received, sent) bytes/s on the busiest master's NIC: the requests of its commands in; the replies and the
    replication stream out (a master sends every write to each replica, the request's bytes again: measured,
    master_repl_offset grew 412,315 B for 200 SETs whose requests were 410,744 B)."""
    d, cmds = p.deployment, p.busiest_commands_per_s
    received = cmds * on_the_wire(p.bytes_per_command, p.tls)
    sent = cmds * (on_the_wire(REPLY_BYTES, p.tls) + d.replicas * on_the_wire(p.bytes_per_command, p.tls))
    return received, sent


def _network_detail(p: Prediction) -> str:
    received, sent = network_directions(p)
    return (f"in {_fmt(received, 'bytes/s')} (requests), out {_fmt(sent, 'bytes/s')} (replies, and the writes again "
            f"to {p.deployment.replicas} replica{'s' if p.deployment.replicas != 1 else ''}) at "
            f"{p.busiest_commands_per_s:,.0f} commands/s of {p.bytes_per_command:,.0f} B, with TCP/IP and Ethernet "
            f"framing; limit: {100 * NIC_CEILING:g} % of a {p.deployment.nic_gbps:g} Gbit/s NIC (full duplex: the "
            "busier direction binds)")


HOT = " (hot slot: ORS:<cluster> on one master)"
# the hot slot's share stays on one master however many there are: its fix is the key layout
HOT_FIX = ("the one slot of ORS:<cluster> stays on one master whatever the master count: use a layout that spreads "
           "the sessions (--key-layout per-session)")


def _hot(p: Prediction) -> str:
    return HOT if p.hot_slot else ""


def _hot_layout(p: Prediction) -> tuple[tuple[str, Any], ...]:
    return (("key_layout", "per-session"),) if p.hot_slot else ()


def _fixed_latency(p: Prediction) -> float:
    """The part of the predicted p99 no master count changes: the round trips and the client's own time."""
    return p.latency.network_us + p.latency.client_us if p.latency is not None else 0.0


def labels() -> dict[str, str]:
    """What each constraint of the registry is, by the label surfaces print (the glossary's entries for them)."""
    return {r.label.split(" (")[0]: r.explain for r in RULES if r.explain}


def short_name(name: str) -> str:
    """A constraint's short name (``Constraint.short``: ``memory``, ``latency SLO``) from its full name or a
    binding's (``memory (hot slot ...)``), by the registry's row it comes from; a text no row makes (``nothing up
    to 100,000 pairs``) stays as it is."""
    for rule in RULES:
        short = rule.label.split(" (")[0]
        if name == short or name.startswith(short + " ("):
            return short
    return name


def _when(x: Any, p: Prediction) -> Any:
    return x(p) if callable(x) else x


@dataclass(frozen=True)
class Rule:
    """One sizing constraint as a row of ``RULES``. Every surface (plan's text and --json, the report, the web tab,
    the sweep's closing line) iterates over the constraints these rows make, and none names one: a new constraint
    is a new row. Fields that depend on the prediction are functions of it (``Prediction``: its deployment, unit
    costs and figures); the others are plain values."""

    label: str  # the name surfaces print ("memory PASS"); ``loadsim explain LABEL`` gives ``explain``
    value: Callable[[Prediction], float]  # the figure: the busiest master's, or every node's
    limit: Callable[[Deployment], float]
    unit: str  # how value and limit are shown (``_fmt``)
    fix: str | Callable[[Prediction], str]  # what fixes it when it fails
    explain: str = ""  # what it is, for the glossary ("": the glossary has the label already)
    name: Callable[[Prediction], str] | None = None  # the label with why, when it depends on the prediction
    masters_fix: bool | Callable[[Prediction], bool] = True  # more masters fix it
    fix_changes: Callable[[Prediction], tuple[tuple[str, Any], ...]] = lambda p: ()  # that fix as the question's
    applies: Callable[[Prediction], bool] = lambda p: True  # does this deployment ask for it
    structural: bool = False  # a yes/no requirement (replicas, 3 masters): binding only when it fails
    detail: Callable[[Prediction], str] = lambda p: ""  # how the value was obtained

    def check(self, p: Prediction) -> Constraint:
        return Constraint(self.name(p) if self.name else self.label, self.value(p), self.limit(p.deployment), self.unit,
                          structural=self.structural, detail=self.detail(p), fix=_when(self.fix, p),
                          fix_changes=self.fix_changes(p), masters_fix=_when(self.masters_fix, p))


RULES: tuple[Rule, ...] = (
    Rule("memory", lambda p: p.ram_needed_per_node, lambda d: d.node_ram_bytes, "bytes",
         lambda p: HOT_FIX if p.hot_slot else "more masters (the sessions spread over them) or nodes with more RAM "
                                               "(--node-ram-gib)",
         explain="used_memory per master from Redis's internals for the target's sessions (x the runs' calibration "
                 "with --from), against maxmemory (a share of the node's RAM, less the fork/AOF copy-on-write room)",
         name=lambda p: f"memory{_hot(p)}", masters_fix=lambda p: not p.hot_slot, fix_changes=_hot_layout),
    Rule("CPU", lambda p: p.cpu_utilisation, lambda d: d.cpu_ceiling, "of one core",
         lambda p: HOT_FIX if p.hot_slot else "more masters (the commands spread over them): Redis runs commands on "
                                               "one core, more cores per node do not help",
         explain="the busiest master's main-thread CPU, % of one core (Redis executes commands on one thread), "
                 "against the CPU ceiling; with n_plus_1 also with one master fewer",
         name=lambda p: f"CPU{_hot(p)}", masters_fix=lambda p: not p.hot_slot, fix_changes=_hot_layout),
    # every ORS worker thread holds a connection to every node: the count per node does not fall with masters
    Rule("connections", lambda p: p.connections_per_node, lambda d: d.maxclients, "clients per node",
         lambda p: f"every node needs maxclients of at least {p.connections_per_node:,} (--maxclients, CONFIG SET "
                   "maxclients) or fewer ORS worker threads: the count per node does not fall with more masters",
         explain="connections each Redis node accepts from ORS (2 ORS nodes x worker threads x HA pairs) against "
                 "maxclients",
         masters_fix=False,
         fix_changes=lambda p: (("maxclients", max(p.connections_per_node, p.deployment.maxclients)),)),
    Rule("failover: a replica per master (without one a dead master's slots and sessions are lost)", lambda p: 1,
         lambda d: d.replicas, "replicas per master",
         "add a replica per master (--replicas 1): more masters do not make a dead master's slots survive",
         masters_fix=False, fix_changes=lambda p: (("replicas", 1),), applies=lambda p: p.deployment.n_plus_1,
         structural=True),
    # latency is assessed for production on any machine: the composition holds no time of the rig's
    Rule(LATENCY_SLO, lambda p: p.p99_us if p.p99_us is not None else math.inf, lambda d: d.latency_slo_p99_us, "µs",
         lambda p: (f"the round trips and the client's own time ({_fixed_latency(p):,.0f} µs) are over the SLO by "
                    "themselves: more masters do not shorten them; a nearer Redis (a shorter round trip) or a looser "
                    "SLO") if not _latency_masters_fix(p) else "more masters (less queueing on each)",
         name=latency_name, masters_fix=lambda p: _latency_masters_fix(p), detail=latency_line),
    # bytes on the busiest master's NIC against its line rate: more masters spread them, or a faster NIC
    Rule("network bandwidth", lambda p: max(network_directions(p)), lambda d: NIC_CEILING * d.nic_gbps * 1e9 / 8,
         "bytes/s", lambda p: HOT_FIX if p.hot_slot else "more masters (the traffic spreads over them) or a faster "
                                                         "NIC (--nic-gbps)",
         explain="the busiest master's bytes on its NIC, the busier direction (in: the requests; out: the replies "
                 "and the writes again to each replica), with TCP/IP and Ethernet framing, against 70 % of the "
                 "NIC's line rate (--nic-gbps)",
         name=lambda p: f"network bandwidth{_hot(p)}", masters_fix=lambda p: not p.hot_slot,
         fix_changes=_hot_layout, detail=_network_detail),
    Rule("Redis Cluster minimum of 3 masters", lambda p: 3, lambda d: d.masters, "masters",
         "at least 3 masters (--masters 3): Redis Cluster needs a majority of masters to fail one over",
         explain="Redis Cluster needs at least 3 masters: a failover is voted by a majority of the masters",
         applies=lambda p: p.deployment.masters < 3, structural=True),
)


@dataclass(frozen=True)
class Prediction:
    deployment: Deployment
    costs: UnitCosts
    live_sessions: float
    ops_per_s: float
    commands_per_s: float
    busiest_share: float  # share of the session data on the busiest master
    memory_per_master: float  # used_memory of the busiest master
    ram_needed_per_node: float  # with maxmemory fraction and fork headroom
    cpu_utilisation: float  # busiest master, one core
    p99_us: float | None
    connections_per_node: int
    nodes: int
    memory_source: str = ""  # "model (...)" or "measured (...)"
    hot_master_commands_per_s: float = 0.0  # commands/s that must go to the one slot of ORS:<cluster>
    bytes_per_session: float = 0.0  # as used: the model's x the calibration (no bucket arrays)
    failover: str = ""  # what one master down does to this deployment
    notes: tuple[str, ...] = ()
    constraints: list[Constraint] = field(default_factory=list)
    bytes_per_command: float = 0.0  # bytes a master receives per command of these pairs (the model's)
    tls: bool = False
    latency: lat.Composition | None = None  # the predicted p99's parts (loadsim.model.latency)
    busiest_commands_per_s: float = 0.0  # commands/s on the busiest master
    hot_slot: bool = False  # one slot (ORS:<cluster>) holds a share of the sessions: it stays on one master
    latencies: tuple[lat.Composition, ...] = ()  # every operation's predicted p99 (``latency``: the binding one)

    @property
    def cpu_line(self) -> str:
        """The server CPU per command this prediction uses, with its sources (``UnitCosts.cpu_line``)."""
        return self.costs.cpu_line(self.bytes_per_command, self.tls)

    @property
    def passed(self) -> bool:
        return all(c.ok for c in self.constraints)

    @property
    def master_ceiling_commands_per_s(self) -> float:
        """Commands/s of this workload (its bytes per command) one master carries at the CPU ceiling, less its base
        share: the ceiling the CPU constraint uses, and the one ``loadsim capacity`` prints for its folder."""
        return self.costs.cpu_for(self.tls).ceiling_commands_per_s(self.bytes_per_command, self.deployment.cpu_ceiling)

    # the promoted replica carries exactly what its master carried (Redis Cluster failover)
    @property
    def cpu_utilisation_n1(self) -> float:
        return self.cpu_utilisation


def _spread_over_masters(loads: list[tuple[int, float]], masters: int) -> float:
    """The largest total on one master when pairs' loads, each bound to one slot, are spread as evenly
    as possible (largest first onto the least loaded master): the best case of slot placement."""
    heap = [0.0] * masters
    for count, load in sorted(loads, key=lambda x: -x[1]):
        if count > 4 * masters:  # many identical pairs: whole rounds first
            rounds = count // masters
            heap = [h + rounds * load for h in heap]
            count -= rounds * masters
        for _ in range(count):
            heapq.heapreplace(heap, heap[0] + load)
    return max(heap) if heap else 0.0


def predict(d: Deployment, c: UnitCosts) -> Prediction:
    """Memory, CPU, latency and connections per node for deployment ``d`` with unit costs ``c``.

    Memory and commands come from the model of the target's sessions (``loadsim.model.footprint``), times the
    calibration measured runs give (``c.memory_factor``, ``c.commands_factor``; 1 without runs)."""
    groups = d.pair_groups()
    m = d.masters
    version = (int(d.redis_version.split(".")[0]), int(d.redis_version.split(".")[1]))
    feet = [(n, p, fp.footprint(p, version, d.allocator)) for n, p in groups]
    live = sum(n * f.live_sessions for n, _, f in feet)
    ops = sum(n * f.ops_per_s for n, _, f in feet)
    notes: list[str] = []
    # -- commands per second by placement (the model's, x the measured factor)
    k = c.commands_factor
    spread_cmds = k * sum(n * f.commands_per_s[fp.SPREAD] for n, _, f in feet)
    hot_cmds = k * sum(n * f.commands_per_s[fp.HOT] for n, _, f in feet)
    pair_cmds = [(n, k * f.commands_per_s[fp.PAIR]) for n, _, f in feet]
    commands = spread_cmds + hot_cmds + sum(n * x for n, x in pair_cmds)
    busiest_cmds = spread_cmds / m + _spread_over_masters(pair_cmds, m) + hot_cmds
    # -- memory of the busiest master
    # every pair's primary (working) and backup (idle) hold one connection per worker thread to each master
    conn_bytes = sum(n * d.worker_threads * (fp.connection_bytes(p, True, d.allocator)
                                             + fp.connection_bytes(p, False, d.allocator)) for n, p in groups)
    spread_b = sum(n * f.live_sessions * f.bytes_per_session[fp.SPREAD] for n, _, f in feet)
    hot_b = sum(n * f.live_sessions * f.bytes_per_session[fp.HOT] for n, _, f in feet)
    pair_b = [(n, f.live_sessions * f.bytes_per_session[fp.PAIR]) for n, _, f in feet]
    keys = {k: sum(n * f.live_sessions * f.keys_per_session[k] for n, _, f in feet) for k in fp.PLACEMENTS}
    ttl = {k: sum(n * f.live_sessions * f.ttl_keys_per_session[k] for n, _, f in feet) for k in fp.PLACEMENTS}
    fields_ = sum(n * f.live_sessions * f.hash_fields_per_session for n, _, f in feet)
    busiest_pair = _spread_over_masters(pair_b, m)
    pair_key_count = busiest_pair / max(1.0, sum(x * n for n, x in pair_b)) * keys[fp.PAIR]
    busiest_keys = keys[fp.SPREAD] / m + pair_key_count + (1 if hot_b else 0)
    busiest_ttl = ttl[fp.SPREAD] / m + pair_key_count + (1 if d.key_layout == "single-hash" else 0)
    buckets = fp.buckets_bytes(busiest_keys, busiest_ttl, fields_)
    busiest_model = spread_b / m + busiest_pair + hot_b + buckets
    memory = c.base_bytes_per_master + conn_bytes + c.memory_factor * busiest_model
    model_per_session = (spread_b + hot_b + sum(x * n for n, x in pair_b)) / live if live else 0.0
    per_session = c.memory_factor * model_per_session
    source = (f"model (Redis {d.redis_version} internals, {d.allocator}): {model_per_session:,.0f} B per live "
              f"session + bucket arrays; {conn_bytes / 2**20:.1f} MiB of ORS connections per master")
    if c.calibrated:
        source += (f"; calibration {c.factor_text()} on the session bytes, base "
                   f"{c.base_bytes_per_master / 2**20:.2f} MiB per master: {per_session:,.0f} B per live session")
    data_total = spread_b + hot_b + sum(x * n for n, x in pair_b)
    share_busiest = (busiest_model - buckets) / data_total if data_total else 1.0 / m
    fork = d.fork_cow_factor if d.aof else 1.0
    # maxmemory must hold the data; the node must also hold the fork's copy-on-write peak
    ram_needed = max(memory / d.maxmemory_fraction, memory * fork)
    # bytes per command: the pairs' commands weighted by their rates (what the masters receive)
    group_cmds = [n * sum(f.commands_per_s.values()) for n, _, f in feet]
    bytes_per_cmd = (sum(x * uc.bytes_per_command(p) for x, (_, p, _) in zip(group_cmds, feet, strict=True))
                     / sum(group_cmds)) if sum(group_cmds) else 0.0
    # the CPU per command at the question's replicas (the unit costs hold the replicas they were measured with):
    # every figure of this prediction (its CPU line, ceiling, utilisation, latency) reads these adjusted costs
    writes = (sum(x * uc.write_share(p) for x, (_, p, _) in zip(group_cmds, feet, strict=True))
              / sum(group_cmds)) if sum(group_cmds) else 1.0
    c = c.for_replicas(d.replicas, writes)
    tls = d.tls
    util = c.cpu_for(tls).utilisation(busiest_cmds, busiest_cmds * bytes_per_cmd)
    # latency for production (loadsim.model.latency): the question's round trip and the ORS client's time, Redis's
    # own execution and its queueing at this utilisation (service time: CPU per command); no time of the rig's. The
    # SLO binds every operation the pairs send: each is composed with its own command count, the highest p99 binds
    # queueing reads the question's transport's measured curve only where it is valid for the question: its levels
    # must reach the connections that can queue at one master, every working ORS node's worker threads (each has a
    # connection to each master; a backup's connections stay idle until it takes over, then the primary's are gone)
    sending = sum(n for n, _ in groups) * d.worker_threads
    latencies = tuple(lat.compose(k, d.network_rtt_us, lat.client_us_per_command(tls), c.redis_latency, util,
                                  c.service_s(bytes_per_cmd, tls) * 1e6, lat.rtt_source(d.network_rtt_us),
                                  OPERATION_NAMES[kind], connections=sending, tls=tls)
                      for kind, k in operation_commands(d))
    latency = lat.binding(latencies)
    p99 = latency.p99_us
    connections = 2 * sum(n for n, _ in groups) * d.worker_threads  # primary and warm backup
    if d.replicas >= 1:
        failover = ("one master down: its replica is promoted and carries the same slots, memory and "
                    f"{100 * util:.1f} % CPU; the other masters are unchanged")
    else:
        failover = "one master down: its slots are down and their sessions lost (no replica to promote)"
    stale_per_s = sum(n * f.stale_index_per_s for n, _, f in feet)
    if stale_per_s and d.cleanup_period_s == 0:
        notes.append(f"index layout without cleaning: {stale_per_s * 86400:,.0f} entries of leaked sessions stay in "
                     "the index per day, for ever; set --cleanup-period")
    p = Prediction(d, c, live, ops, commands, share_busiest, memory, ram_needed, util, p99,
                   connections, m * (1 + d.replicas), source, hot_cmds, per_session, failover, tuple(notes),
                   [], bytes_per_cmd, tls, latency, busiest_cmds, bool(hot_cmds or hot_b), latencies=latencies)
    return replace(p, constraints=[rule.check(p) for rule in RULES if rule.applies(p)])


def ceiling_text(p: Prediction) -> str:
    """The one CPU ceiling of a master that the CPU constraint uses, for people (``plan`` and ``loadsim capacity``
    print this line for the same folder)."""
    a, d = p.costs.cpu_for(p.tls), p.deployment
    return (f"a master's ceiling {p.master_ceiling_commands_per_s:,.0f} commands/s of this workload = "
            f"(--cpu-ceiling {100 * d.cpu_ceiling:.0f} % of a core less a master's base CPU {100 * a.base.value:.2f} %)"
            " / "
            f"{p.costs.service_s(p.bytes_per_command, p.tls) * 1e6:.1f} µs per command at "
            f"{p.bytes_per_command:,.0f} B ({uc.SOURCE_TEXT[a.source]})")


def extrapolation(d: Deployment, c: UnitCosts) -> str | None:
    """One line when the target lies outside the live-session range the unit costs were measured on."""
    if c.live_sessions_range is None:
        return None
    low, high = c.live_sessions_range
    live = d.live_sessions
    if high > 0 and live > high * 1.05:
        return (f"warning: the target ({live:,.0f} live sessions) is {live / high:.1f}x the largest measured "
                f"({high:,.0f}): the prediction extrapolates; measure nearer the target")
    if low > 0 and live < low / 1.05:
        return (f"warning: the target ({live:,.0f} live sessions) is {low / max(live, 1e-9):.1f}x below the "
                f"smallest measured ({low:,.0f}): the prediction extrapolates; measure nearer the target")
    return None


def smallest_masters(d: Deployment, c: UnitCosts, limit: int = 64) -> int | None:
    """The fewest masters (3..limit) for which every constraint passes, or None."""
    for m in range(3, limit + 1):
        if predict(replace(d, masters=m), c).passed:
            return m
    return None


def masters_cannot_fix(d: Deployment, c: UnitCosts, limit: int = 64) -> list[Constraint]:
    """The constraints that still fail at ``limit`` masters and have a fix of their own (a replica, maxclients, the
    key layout): more masters are not the answer to them."""
    return [k for k in predict(replace(d, masters=max(limit, d.masters)), c).constraints
            if not k.ok and not k.masters_fix]


def masters_text(v: Verdict) -> str:
    """The verdict's line on master counts: the smallest that passes; or what more masters cannot fix, with each
    one's own fix and the master count once they are fixed. Never "none" without saying what binds."""
    if v.smallest_masters is not None:
        return f"smallest master count that passes: {v.smallest_masters}"
    d, c = v.prediction.deployment, v.prediction.costs
    own = masters_cannot_fix(d, c, v.masters_limit)
    if not own:
        beyond = [k.name for k in predict(replace(d, masters=v.masters_limit), c).constraints if not k.ok]
        return (f"smallest master count that passes: more than {v.masters_limit} (still failing there: "
                f"{', '.join(beyond)})")
    fixes = "; ".join(f"{k.short}: {k.fix}" for k in own)
    changes = {name: value for k in own for name, value in k.fix_changes}
    then = ""
    if changes:
        fixed = replace(d, **changes)
        m = smallest_masters(fixed, c, v.masters_limit)
        shown = ", ".join(f"--{n.replace('_', '-')} {x}" for n, x in changes.items())
        then = (f"; with {shown}: {m} masters pass" if m is not None else
                f"; with {shown} still no master count up to {v.masters_limit} passes")
    return f"more masters do not fix it: {fixes}{then}"


@dataclass(frozen=True)
class Verdict:
    """The assessment of one deployment: every constraint PASS / FAIL / NOT ASSESSED (with why), the binding
    one and its margin, the smallest master count and the capacity envelope. Built only by ``verdict``; every
    surface (plan, report, TLS report, live view, sweep) renders this."""

    passed: bool
    binding: Constraint
    prediction: Prediction
    smallest_masters: int | None
    envelope: Envelope | None = None
    masters_limit: int = 64
    question: Question | None = None  # what was asked (None: the deployment alone, e.g. a sweep's point)

    @property
    def head(self) -> str:
        """PASS or FAIL, and what was not assessed: the one word every surface shows first."""
        missing = [k.name.split(" ")[0] for k in self.prediction.constraints if not k.assessed]
        return ("PASS" if self.passed else "FAIL") + (f" ({', '.join(missing)} not assessed)" if missing else "")

    @property
    def headline(self) -> str:
        """The first line every surface shows: PASS or FAIL, the cluster, and the question it answers when it is not
        plan's defaults (a run's own deployment, a sweep's point) with the what-if's changes."""
        p, d = self.prediction, self.prediction.deployment
        asked = ""
        if self.question is not None and (self.question.asked != PLAN_DEFAULTS or self.question.changed):
            changes = self.question.changes_text()
            asked = f"; for {self.question.asked}" + (f", {changes}" if changes else "")
        rtt = (f"; p99 at a {d.network_rtt_us:,.0f} µs network round trip ({lat.rtt_source(d.network_rtt_us)})"
               if p.latency is not None else "")
        return (f"{'PASS' if self.passed else 'FAIL'}: {d.ha_pairs} HA pairs on {d.masters} masters x "
                f"{1 + d.replicas} nodes ({p.nodes} Redis nodes of {d.node_ram_bytes / GIB:.1f} GiB"
                f"{', TLS' if d.tls else ''})" + rtt + asked
                + "".join(f"; {k.name.split(' ')[0]} not assessed" for k in self.not_assessed))

    @property
    def not_assessed(self) -> list[Constraint]:
        return [k for k in self.prediction.constraints if not k.assessed]

    def text(self) -> str:
        p, d, b = self.prediction, self.prediction.deployment, self.binding
        lines = [
            self.headline,
            f"binding constraint: {b.name}: {_fmt(b.value, b.unit)}, limit {_limit(b.limit, b.unit)} "
            f"({_margin(b.margin)})",
            *(f"{k.name}: NOT ASSESSED: {k.not_assessed}" for k in self.not_assessed),
            f"live sessions {p.live_sessions:,.0f}; {p.ops_per_s:,.0f} persistence ops/s = "
            f"{p.commands_per_s:,.0f} Redis commands/s",
            f"busiest master: {p.memory_per_master / 2**20:,.0f} MiB used_memory, needs "
            f"{p.ram_needed_per_node / 2**20:,.0f} MiB RAM; CPU {100 * p.cpu_utilisation:.1f} % of a core "
            f"({p.busiest_commands_per_s:,.0f} commands/s; {ceiling_text(p)})"
            + (f"; {p.hot_master_commands_per_s:,.0f} commands/s on the hot slot ORS:<cluster>"
               if p.hot_master_commands_per_s else ""),
            f"memory: {p.memory_source}",
            f"unit costs: {p.costs.source}",
            p.cpu_line,
            p.failover,
            f"connections per node: {p.connections_per_node} (2 ORS nodes x {d.worker_threads} threads x "
            f"{d.ha_pairs} pairs)",
        ]
        if p.latency is not None:
            lines.append(latency_line(p))
        # every constraint of the registry, as it is (RULES): a new row shows here without a line of its own
        lines.append("constraints: " + "; ".join(f"{k.short} {k.status}" + (f" ({k.figures})" if k.assessed else "")
                                                 for k in p.constraints))
        lines.append(masters_text(self))
        lines.extend(f"note: {n}" for n in p.notes)
        warning = extrapolation(d, p.costs)
        if warning:
            lines.append(warning)
        if self.envelope is not None:
            lines.extend(self.envelope.lines())
        return "\n".join(lines)


def _finite(value: Any) -> Any:
    """JSON has no inf/nan: None stands for "no finite value" (e.g. the p99 of a saturated master)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def verdict_dict(v: Verdict) -> dict[str, Any]:
    """A verdict for scripts (``loadsim plan --json``): plain numbers, no inf/nan."""
    p, d = v.prediction, v.prediction.deployment
    constraints = [{"name": c.name, "short": c.short, "status": c.status, "value": c.value if c.assessed else None,
                    "limit": c.limit, "unit": c.unit, "margin": c.margin if c.assessed else None, "ok": c.ok,
                    "figures": c.figures, "not_assessed": c.not_assessed or None, "detail": c.detail or None,
                    "fix": c.fix or None, "masters_fix": c.masters_fix} for c in p.constraints]
    return _finite({
        "passed": v.passed, "head": v.head, "headline": v.headline,
        "question": v.question.as_dict() if v.question is not None else None,
        "binding": constraints[p.constraints.index(v.binding)],
        "constraints": constraints, "smallest_masters": v.smallest_masters, "masters_text": masters_text(v),
        "deployment": {f.name: getattr(d, f.name) if f.name != "estate" else (d.estate.source if d.estate else None)
                       for f in fields(d)},
        "prediction": {"live_sessions": p.live_sessions, "ops_per_s": p.ops_per_s,
                       "commands_per_s": p.commands_per_s, "memory_per_master_bytes": p.memory_per_master,
                       "ram_needed_per_node_bytes": p.ram_needed_per_node, "cpu_utilisation": p.cpu_utilisation,
                       "cpu_utilisation_one_master_down": p.cpu_utilisation_n1, "p99_us": p.p99_us,
                       "master_ceiling_commands_per_s": p.master_ceiling_commands_per_s,
                       "busiest_master_commands_per_s": p.busiest_commands_per_s,
                       "connections_per_node": p.connections_per_node, "nodes": p.nodes,
                       "bytes_per_session": p.bytes_per_session, "memory_source": p.memory_source,
                       "hot_slot_commands_per_s": p.hot_master_commands_per_s, "failover": p.failover,
                       "latency": p.latency.as_dict() if p.latency is not None else None,
                       "latency_by_operation": [c.as_dict() for c in p.latencies],
                       "latency_line": latency_line(p) or None,
                       "notes": list(p.notes)},
        # bytes_per_session above is the one predictions use: the model's for the target's sessions x the
        # calibration; the runs' own measured figures (their sessions, not the target's) are per_run below
        "unit_costs": {"source": p.costs.source, "runs": p.costs.runs,
                       "memory_factor": p.costs.memory_factor, "memory_factor_se": p.costs.memory_factor_se,
                       "memory_calibration": p.costs.memory_note or None,
                       "base_bytes_per_master": p.costs.base_bytes_per_master,
                       "commands_factor": p.costs.commands_factor,
                       "cpu_s_per_command": p.costs.cpu_s_per_command,
                       "cpu_s_per_command_sd": p.costs.cpu_s_per_command_sd,
                       "base_cpu_per_master": p.costs.base_cpu_per_master,
                       "cpu_s_per_byte": p.costs.cpu_s_per_byte,
                       # what the prediction uses: CPU per command at its bytes per command, with the sources
                       "server_cpu": {"us_per_command": p.costs.service_s(p.bytes_per_command, p.tls) * 1e6,
                                      "bytes_per_command": p.bytes_per_command, "tls": p.tls, "line": p.cpu_line,
                                      # replicas per master the CPU per command was measured with, and what the
                                      # question's replicas add to it (None: the same replicas)
                                      "measured_replicas": p.costs.cpu_for(p.tls).replicas,
                                      "replicas_us_per_command": p.costs.cpu_for(p.tls).replica_extra_s * 1e6,
                                      "replicas_note": p.costs.cpu_for(p.tls).replica_note or None},
                       "table": p.costs.rows(p.bytes_per_command),
                       "redis_execution_us": {"p50": p.costs.redis_latency.exec_us_p50,
                                              "p99": p.costs.redis_latency.exec_us_p99,
                                              "source": p.costs.redis_latency.source,
                                              "queueing": p.costs.redis_latency.curve_text(p.tls)},
                       "live_sessions_range": p.costs.live_sessions_range,
                       "per_run": [{"run": r.name, "class": r.run_class,
                                    "measured_bytes_per_session": r.bytes_per_session,
                                    "model_bytes_per_session": r.model_bytes_per_session,
                                    "cpu_us_per_command_steady_window": r.cpu_us_per_command,
                                    "bytes_per_command": r.bytes_per_command, "tls": r.tls}
                                   for r in p.costs.per_run]},
        "warning": extrapolation(d, p.costs),
        "envelope": v.envelope.as_dict() if v.envelope is not None else None,
    })


def _fmt(value: float, unit: str) -> str:
    if not math.isfinite(value):
        return "unbounded (the master is saturated)" if unit == "µs" else "no finite value"
    if unit == "bytes":
        return f"{value / 2**20:,.0f} MiB"
    if unit == "of one core":
        return f"{100 * value:.1f} % of one core"
    if unit == "bytes/s":
        return f"{8 * value / 1e6:,.1f} Mbit/s"
    return f"{value:,.0f} {unit}"


def _limit(limit: float, unit: str) -> str:
    """A constraint's limit beside its value: "70 %" after "0.8 % of one core" (the unit is said once)."""
    if unit == "of one core" and math.isfinite(limit):
        return f"{100 * limit:g} %"
    # a count's unit was said after the value ("72 clients per node of 10,000"); a scaled one is said again
    return _fmt(limit, unit) if unit in ("bytes", "bytes/s", "µs") or not math.isfinite(limit) else f"{limit:,.0f}"


def _margin(margin: float) -> str:
    return f"margin {100 * margin:+.0f} %" if math.isfinite(margin) else "no margin: over any limit"


def verdict(d: Deployment | Question, c: UnitCosts, with_envelope: bool = True, with_search: bool = True) -> Verdict:
    """The one assessment of deployment ``d`` with unit costs ``c`` (latency composed for production from them,
    ``loadsim.model.latency``). PASS/FAIL over the constraints assessed, the binding
    one (smallest margin), the smallest master count that passes and the capacity envelope. Every surface calls
    this; none decides PASS or FAIL on its own. ``with_search`` False leaves out the smallest master count (None):
    the web tab's live projection shows PASS or FAIL so far only, and the search (up to 64 predictions, about 50 ms)
    ran inside the generator's event loop at every poll of the page."""
    question = d if isinstance(d, Question) else None
    d = d.deployment if isinstance(d, Question) else d
    p = predict(d, c)
    assessed = [k for k in p.constraints if k.assessed]
    binding = min(assessed, key=lambda k: (k.ok and k.structural, k.margin))
    limit = max(64, d.masters)  # a PASS on more masters than the search's end must not read "none up to 64"
    return Verdict(p.passed, binding, p, smallest_masters(d, c, limit) if with_search else None,
                   envelope(d, c) if with_envelope else None, limit, question)


# ------------------------------------------------------------------------------------------ envelope
@dataclass(frozen=True)
class Limit:
    """One edge of the capacity envelope: the largest value that still passes, and what stops it there."""

    what: str
    value: float | None  # None: not bounded within the search, or not computable
    unit: str
    binding: str  # the constraint that fails just beyond
    note: str = ""

    def text(self) -> str:
        if self.value is None:
            return f"{self.what}: {self.note}"
        shown = f"{self.value:,.0f}" if self.value >= 100 or self.unit in ("HA pairs", "B") else f"{self.value:,.2f}"
        return f"{self.what}: {shown} {self.unit} (then {self.binding} binds){' ' + self.note if self.note else ''}"


@dataclass(frozen=True)
class Envelope:
    max_pairs: Limit
    max_rate: Limit
    max_size: Limit

    latency_assessed: bool = True

    def lines(self) -> list[str]:
        return ["capacity envelope (everything else as given"
                + ("" if self.latency_assessed else "; latency not assessed") + "):",
                *("  " + x.text() for x in (self.max_pairs, self.max_rate, self.max_size))]

    def as_dict(self) -> dict[str, Any]:
        return {k: {"value": v.value, "unit": v.unit, "binding": v.binding, "note": v.note}
                for k, v in (("max_ha_pairs", self.max_pairs), ("max_calls_per_s_per_pair", self.max_rate),
                             ("max_session_bytes", self.max_size))}


def _binding(d: Deployment, c: UnitCosts) -> str:
    p = predict(d, c)
    failing = [k for k in p.constraints if not k.ok] or [k for k in p.constraints if k.assessed]
    return min(failing, key=lambda k: k.margin).name


def _largest(passes: Any, low: float, high: float, integer: bool, steps: int = 40) -> float | None:
    """The largest x in [low, high] with passes(x), assuming passes is monotone (None if low fails)."""
    if not passes(low):
        return None
    if passes(high):
        return high
    for _ in range(steps):
        if integer and high - low <= 1:
            break
        mid = (low + high) // 2 if integer else (low + high) / 2
        low, high = (mid, high) if passes(mid) else (low, mid)
    return low


def most_pairs(d: Deployment, c: UnitCosts, limit: int = int(O.HA_PAIRS.high or 1)) -> Limit:
    """The most HA pairs ``d``'s masters carry (pairs added like the given ones), and what binds beyond."""
    def ok(n: float) -> bool:
        try:
            return predict(replace(d, ha_pairs=int(n)), c).passed
        except OptionsError:
            return False

    pairs = _largest(ok, 1, limit, integer=True)
    if pairs is None:
        return Limit("most HA pairs", None, "HA pairs", "", "not even 1 pair passes")
    beyond = f"nothing up to {limit:,} pairs" if pairs >= limit else _binding(replace(d, ha_pairs=int(pairs) + 1), c)
    return Limit("most HA pairs", int(pairs), "HA pairs", beyond, "(the estate repeated)" if d.estate else "")


def envelope(d: Deployment, c: UnitCosts) -> Envelope:
    """Three edges of what ``d``'s masters carry: the most HA pairs (pairs added like the given ones), the
    highest calls/s per pair and the largest session size at which the given pairs still pass."""
    def ok(**changes: Any) -> bool:
        try:
            return predict(replace(d, **changes), c).passed
        except OptionsError:
            return False

    max_pairs = most_pairs(d, c)
    rate = _largest(lambda f: ok(rate_scale=f), 1e-6, 10_000.0, integer=False)
    base_rate = d.cps_per_pair if d.estate is None else None
    if rate is None or rate <= 0:
        max_rate = Limit("highest calls/s per pair", None, "calls/s", "", "the given pairs fail at any rate")
    else:
        where = _binding(replace(d, rate_scale=rate * 1.01), c)
        max_rate = (Limit("highest calls/s per pair", base_rate * rate, "calls/s", where) if base_rate is not None
                    else Limit("highest call rate", rate, "x the estate's rates", where))
    groups = d.pair_groups()
    mean = sum(n * p.complexity.record_bytes for n, p in groups) / sum(n for n, _ in groups)
    size = _largest(lambda f: ok(size_scale=f), 1.0 / mean, (O.RECORD_BYTES.high or 1) / mean, integer=False)
    if size is None:
        max_size = Limit("largest session size", None, "B", "", "the given pairs fail at any size")
    else:
        where = _binding(replace(d, size_scale=size * 1.01), c)
        max_size = Limit("largest session size", mean * size, "B", where,
                         "(mean over the pairs)" if d.estate else "")
    return Envelope(max_pairs, max_rate, max_size, True)
