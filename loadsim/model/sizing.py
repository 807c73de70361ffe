"""Sizing math (pure: numbers in, numbers out; no I/O).

Method: measure unit costs on real runs (bytes per live session, base memory per master, server CPU
per Redis command, Redis commands per persistence operation, p99 vs master CPU utilisation), then
predict a target deployment from them, and check the prediction against runs it was not fitted on
(``loadsim validate``). Every rule and default is a field you can override; each says where it
comes from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np

from loadsim import defaults as D
from loadsim.errors import FitError, OptionsError
from loadsim.model.workload import PRESETS, littles_law, operation_percentile, voice_sessions_per_s

GIB = D.GIB


# ------------------------------------------------------------------------------------------ inputs
@dataclass(frozen=True)
class UnitCosts:
    """What one live session and one command cost on a master. Build with ``fit_unit_costs``."""

    bytes_per_session: float  # used_memory per live session (all its records, key overhead, TTL)
    base_bytes_per_master: float  # used_memory of an empty master
    cpu_s_per_command: float  # server CPU (used_cpu_sys+user, includes I/O and TLS) per command
    commands_per_op: float  # Redis commands per persistence operation (depends on layout, timers)
    base_cpu_per_master: float = 0.0  # share of a core an idle master uses (cron, cluster bus, INFO polls)
    bytes_per_session_se: float | None = None  # standard error of the fit; None below MIN_RUNS_FOR_SPREAD runs
    cpu_s_per_command_sd: float | None = None  # spread between runs; None below MIN_RUNS_FOR_SPREAD runs
    latency_points: tuple[tuple[float, float], ...] = ()  # (master CPU utilisation, p99 µs), measured
    runs: int = 0
    source: str = "assumption"
    live_sessions_range: tuple[float, float] | None = None  # smallest and largest measured (None: not measured)

    def spread_text(self, value: float | None, scale: float = 1.0, unit: str = "") -> str:
        """A standard error or spread for people: "n/a (2 runs)" when too few runs give one."""
        if value is None or not math.isfinite(value):
            return f"n/a ({self.runs} run{'s' if self.runs != 1 else ''})" if self.runs else "n/a (assumed)"
        return f"{value * scale:,.2f}{unit}"


# Fewer runs than this give no standard error: two points fit two parameters exactly (zero degrees of freedom),
# and a spread of two runs says little.
MIN_RUNS_FOR_SPREAD = 3


# Fallback when no runs are given: reference-machine measurements (values and how measured: loadsim.defaults).
DEFAULT_COSTS = UnitCosts(bytes_per_session=D.value("bytes_per_session"),
                          base_bytes_per_master=D.value("base_bytes_per_master"),
                          cpu_s_per_command=D.value("cpu_s_per_command"), commands_per_op=D.value("commands_per_op"),
                          base_cpu_per_master=D.value("base_cpu_per_master"),
                          source="assumption: reference-machine measurements (standard preset, no TLS), "
                                 "not your runs")


@dataclass(frozen=True)
class Deployment:
    """A target deployment. Every field is overridable (``loadsim plan --help``)."""

    ha_pairs: int = D.value("ha_pairs")
    cps_per_pair: float = D.value("cps_per_pair")
    aht_s: float = D.value("aht_s")
    complexity: str = D.value("complexity")  # preset for writes per session (loadsim.model.workload.PRESETS)
    digital_share: float = D.value("digital_share")
    session_ttl_s: int = D.value("session_ttl_s")  # only leaked sessions live that long: not in the steady state
    masters: int = D.value("masters")
    replicas: int = D.value("replicas")  # replicas hold the same data as their master
    node_ram_bytes: float = D.value("node_ram_bytes")  # RAM of one Redis node
    node_cores: int = D.value("node_cores")
    aof: bool = D.value("aof")  # an AOF rewrite forks (copy-on-write)
    worker_threads: int = D.value("worker_threads")
    maxmemory_fraction: float = D.value("maxmemory_fraction")
    fork_cow_factor: float = D.value("fork_cow_factor")
    cpu_ceiling: float = D.value("cpu_ceiling")  # of the one main-thread core
    n_plus_1: bool = D.value("n_plus_1")  # the ceilings must still hold with one master fewer
    latency_slo_p99_us: float = D.value("latency_slo_p99_us")  # p99 of a persistence operation
    key_layout: str = D.value("key_layout")  # per-session, single-hash (one slot) or node-tag (slot per node)
    maxclients: int = D.value("maxclients")

    @property
    def sessions_per_s(self) -> float:
        """Persisted sessions started per second, all pairs."""
        return voice_sessions_per_s(self.ha_pairs, self.cps_per_pair, self.digital_share)

    @property
    def live_sessions(self) -> float:
        """Little's law: persisted sessions alive at once, all pairs."""
        return littles_law(self.sessions_per_s, self.aht_s)

    def __post_init__(self) -> None:
        if self.masters < 1 or self.ha_pairs < 1 or self.cps_per_pair < 0 or self.aht_s <= 0:
            raise OptionsError("masters and ha-pairs must be >= 1, cps-per-pair >= 0, aht > 0")
        if not 0 < self.maxmemory_fraction <= 1 or not 0 < self.cpu_ceiling <= 1:
            raise OptionsError("maxmemory-fraction and cpu-ceiling must be in (0, 1]")
        if self.complexity not in PRESETS:
            raise OptionsError(f"complexity '{self.complexity}' unknown; use one of {', '.join(PRESETS)}")
        if self.key_layout not in ("per-session", "single-hash", "node-tag"):
            raise OptionsError("key-layout must be per-session, single-hash or node-tag")


# "source: basis" of every Deployment default (what `loadsim plan` and the report print beside the values)
ASSUMPTIONS: dict[str, str] = D.labels(tuple(f.name for f in fields(Deployment) if f.name in D.DEFAULTS))


# ------------------------------------------------------------------------------------------ fitting
@dataclass(frozen=True)
class MemoryFit:
    bytes_per_session: float
    base_bytes_per_master: float
    bytes_per_session_se: float | None  # None below MIN_RUNS_FOR_SPREAD runs
    r2: float
    points: int


def fit_memory(live_sessions: list[float], masters: list[int], used_memory: list[float]) -> MemoryFit:
    """Least squares of total used_memory = base x masters + bytes_per_session x live sessions.

    One point per run (sums over its masters). Needs two or more distinct live-session counts.
    """
    x_live = np.asarray(live_sessions, dtype=float)
    x_m = np.asarray(masters, dtype=float)
    y = np.asarray(used_memory, dtype=float)
    if len(set(np.round(x_live, 6))) < 2:
        raise FitError("fit_memory needs runs with at least 2 different live-session counts "
                         "(sweep over --ha-pairs or --cps-per-pair)")
    design = np.column_stack([x_m, x_live])
    coef, _, rank, _ = np.linalg.lstsq(design, y, rcond=None)
    if rank < 2:
        raise FitError("fit_memory: live sessions are proportional to masters in these runs; vary them")
    residual = y - design @ coef
    se: float | None = None
    if len(y) >= MIN_RUNS_FOR_SPREAD:
        sigma2 = float(residual @ residual) / (len(y) - 2)
        cov = sigma2 * np.linalg.pinv(design.T @ design)
        se = float(math.sqrt(max(0.0, cov[1, 1])))
    ss_tot = float(((y - y.mean()) ** 2).sum()) or 1.0
    return MemoryFit(bytes_per_session=float(coef[1]), base_bytes_per_master=float(coef[0]),
                     bytes_per_session_se=se, r2=1.0 - float(residual @ residual) / ss_tot, points=len(y))


def fit_cpu(cpu_s: list[float], master_seconds: list[float], commands: list[float]
            ) -> tuple[float, float, float | None]:
    """Least squares of server CPU s = base x (masters x seconds) + per_command x commands.

    Returns (base share of a core per master, CPU s per command, its standard error). An idle master
    still spends CPU (serverCron, cluster bus, monitoring), so a per-command ratio alone overstates the
    cost at low load. Falls back to the pooled ratio (base 0) when the runs cannot separate the two.
    """
    x_base = np.asarray(master_seconds, dtype=float)
    x_cmd = np.asarray(commands, dtype=float)
    y = np.asarray(cpu_s, dtype=float)
    design = np.column_stack([x_base, x_cmd])
    coef, _, rank, _ = np.linalg.lstsq(design, y, rcond=None)
    if rank < 2 or len(y) < 3 or coef[0] < 0 or coef[1] <= 0:
        pooled, sd = cpu_per_command(list(cpu_s), list(commands))
        return 0.0, pooled, sd
    residual = y - design @ coef
    sigma2 = float(residual @ residual) / max(1, len(y) - 2)
    cov = sigma2 * np.linalg.pinv(design.T @ design)
    return float(coef[0]), float(coef[1]), float(math.sqrt(max(0.0, cov[1, 1])))


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


def p99_at(points: tuple[tuple[float, float], ...], utilisation: float) -> float | None:
    """p99 µs at a master utilisation, by linear interpolation of measured points (None if no points;
    beyond the highest point, the highest measured p99 scaled by the M/M/1 factor 1/(1-u))."""
    if not points:
        return None
    pts = sorted(points)
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    if utilisation <= xs[-1]:
        return float(np.interp(utilisation, xs, ys))
    if utilisation >= 1.0:
        return math.inf
    return ys[-1] * (1 - xs[-1]) / (1 - utilisation)


def steady_cpu(summary: dict[str, Any]) -> tuple[float, float, float]:
    """(server CPU s, master-seconds, commands) of a run's steady window (a current-schema summary:
    ``loadsim.results.schema.upgrade`` gives older runs the whole-run figures)."""
    masters = summary["masters"]
    return (sum(m["cpu_s_steady"] for m in masters), sum(m["steady_s"] for m in masters),
            sum(m["commands_steady"] for m in masters))


def fit_unit_costs(summaries: list[dict[str, Any]]) -> UnitCosts:
    """Unit costs from run summaries (``summary.json`` dicts, see docs/results.md)."""
    usable = [s for s in summaries if s.get("complete") and s.get("masters")]
    if not usable:
        raise FitError("no complete runs with server samples to fit unit costs from")
    live = [s["live_sessions"]["steady_mean"] for s in usable]
    masters = [len(s["masters"]) for s in usable]
    memory = [sum(m["used_memory_steady_mean"] for m in s["masters"]) for s in usable]
    mem = fit_memory(live, masters, memory)
    # CPU over the steady window only: the pre-fill burst runs at another rate (more commands per
    # event-loop wake-up) and would mix two regimes into one per-command cost.
    base_cpu, cpu, cpu_sd = fit_cpu(*zip(*(steady_cpu(s) for s in usable), strict=True))
    ops = [sum(o["count"] for o in s["operations"].values()) for s in usable]
    cmds = [s["server"]["commands_client_counted"] for s in usable]
    points = []
    for s in usable:
        util = max((m["cpu_s_steady"] / m["steady_s"] for m in s["masters"] if m.get("steady_s")), default=0.0)
        p99 = operation_percentile(s, "p99")
        if p99:
            points.append((round(util, 4), float(p99)))
    return UnitCosts(bytes_per_session=mem.bytes_per_session, base_bytes_per_master=mem.base_bytes_per_master,
                     cpu_s_per_command=cpu, commands_per_op=sum(cmds) / max(1, sum(ops)),
                     bytes_per_session_se=mem.bytes_per_session_se, cpu_s_per_command_sd=cpu_sd,
                     base_cpu_per_master=base_cpu,
                     latency_points=tuple(points), runs=len(usable), source=f"measured: {len(usable)} runs",
                     live_sessions_range=(min(live), max(live)))


# ------------------------------------------------------------------------------------------ predicting
@dataclass(frozen=True)
class Constraint:
    name: str
    value: float
    limit: float
    unit: str

    @property
    def margin(self) -> float:
        """Headroom as a share of the limit (negative = over the limit)."""
        return (self.limit - self.value) / self.limit if self.limit else -math.inf

    @property
    def ok(self) -> bool:
        return self.value <= self.limit


@dataclass(frozen=True)
class Prediction:
    deployment: Deployment
    costs: UnitCosts
    live_sessions: float
    ops_per_s: float
    commands_per_s: float
    busiest_share: float  # share of data and load on the busiest master
    busiest_share_n1: float  # the same with one master fewer
    memory_per_master: float  # used_memory of the busiest master
    ram_needed_per_node: float  # with maxmemory fraction and fork headroom
    cpu_utilisation: float  # busiest master, one core
    cpu_utilisation_n1: float
    p99_us: float | None
    connections_per_node: int
    nodes: int
    constraints: list[Constraint] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(c.ok for c in self.constraints)


def busiest_share(layout: str, masters: int, ha_pairs: int) -> float:
    """Share of all session data and operations on the busiest master, by key layout."""
    if masters < 1:
        return math.inf
    if layout == "single-hash":
        return 1.0  # one key, one slot, one master, whatever the master count
    if layout == "node-tag":
        # one slot per primary ORS node: at best spread evenly, so a master holds ceil(pairs/masters)
        return math.ceil(ha_pairs / masters) / ha_pairs
    return 1.0 / masters  # 16384 slots spread evenly


def predict(d: Deployment, c: UnitCosts) -> Prediction:
    """Memory, CPU, latency and connections per node for deployment ``d`` with unit costs ``c``."""
    live = d.live_sessions
    ops = d.sessions_per_s * PRESETS[d.complexity].writes_per_session
    commands = ops * c.commands_per_op
    share = busiest_share(d.key_layout, d.masters, d.ha_pairs)
    share_n1 = busiest_share(d.key_layout, d.masters - 1, d.ha_pairs) if d.n_plus_1 and d.masters > 1 else share
    memory = c.base_bytes_per_master + share * live * c.bytes_per_session
    fork = d.fork_cow_factor if d.aof else 1.0
    # maxmemory must hold the data; the node must also hold the fork's copy-on-write peak
    ram_needed = max(memory / d.maxmemory_fraction, memory * fork)
    util = c.base_cpu_per_master + commands * share * c.cpu_s_per_command
    util_n1 = c.base_cpu_per_master + commands * share_n1 * c.cpu_s_per_command
    worst_util = util_n1 if d.n_plus_1 else util
    p99 = p99_at(c.latency_points, worst_util)
    connections = 2 * d.ha_pairs * d.worker_threads  # primary and warm backup, one per worker per master
    hot = " (hot slot: one master holds everything)" if d.key_layout == "single-hash" else ""
    constraints = [
        Constraint(f"memory{hot}", ram_needed, d.node_ram_bytes, "bytes"),
        Constraint(f"CPU{hot}" + (" with one master down" if d.n_plus_1 else ""), worst_util, d.cpu_ceiling,
                   "of one core"),
        Constraint("connections", connections, d.maxclients, "clients per node"),
    ]
    if p99 is not None:
        constraints.append(Constraint("latency SLO (p99)", p99, d.latency_slo_p99_us, "µs"))
    if d.masters < 3:
        constraints.append(Constraint("Redis Cluster minimum of 3 masters", 3, d.masters, "masters"))
    return Prediction(d, c, live, ops, commands, share, share_n1, memory, ram_needed, util, util_n1, p99,
                      connections, d.masters * (1 + d.replicas), constraints)


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


@dataclass(frozen=True)
class Verdict:
    passed: bool
    binding: Constraint
    prediction: Prediction
    smallest_masters: int | None

    def text(self) -> str:
        p, d, b = self.prediction, self.prediction.deployment, self.binding
        head = "PASS" if self.passed else "FAIL"
        lines = [
            f"{head}: {d.ha_pairs} HA pairs on {d.masters} masters x {1 + d.replicas} nodes "
            f"({p.nodes} Redis nodes of {d.node_ram_bytes / GIB:.1f} GiB)",
            f"binding constraint: {b.name}: {_fmt(b.value, b.unit)} of {_fmt(b.limit, b.unit)} "
            f"({_margin(b.margin)})",
            f"live sessions {p.live_sessions:,.0f}; {p.ops_per_s:,.0f} persistence ops/s = "
            f"{p.commands_per_s:,.0f} Redis commands/s",
            f"busiest master: {p.memory_per_master / 2**20:,.0f} MiB used_memory, needs "
            f"{p.ram_needed_per_node / 2**20:,.0f} MiB RAM; CPU {100 * p.cpu_utilisation:.1f} % of a core "
            f"({100 * p.cpu_utilisation_n1:.1f} % with one master down)",
            f"connections per node: {p.connections_per_node} (2 ORS nodes x {d.worker_threads} threads x "
            f"{d.ha_pairs} pairs)",
        ]
        if p.p99_us is not None:
            lines.append(f"predicted p99: {_fmt(p.p99_us, 'µs')} (SLO {d.latency_slo_p99_us:,.0f} µs)")
        lines.append(f"smallest master count that passes: {self.smallest_masters or 'none up to 64'}")
        lines.append(f"unit costs: {p.costs.source}")
        warning = extrapolation(d, p.costs)
        if warning:
            lines.append(warning)
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
    constraints = [{"name": c.name, "value": c.value, "limit": c.limit, "unit": c.unit, "margin": c.margin,
                    "ok": c.ok} for c in p.constraints]
    return _finite({
        "passed": v.passed, "binding": constraints[p.constraints.index(v.binding)],
        "constraints": constraints, "smallest_masters": v.smallest_masters,
        "deployment": {f.name: getattr(d, f.name) for f in fields(d)},
        "prediction": {"live_sessions": p.live_sessions, "ops_per_s": p.ops_per_s,
                       "commands_per_s": p.commands_per_s, "memory_per_master_bytes": p.memory_per_master,
                       "ram_needed_per_node_bytes": p.ram_needed_per_node, "cpu_utilisation": p.cpu_utilisation,
                       "cpu_utilisation_one_master_down": p.cpu_utilisation_n1, "p99_us": p.p99_us,
                       "connections_per_node": p.connections_per_node, "nodes": p.nodes},
        "unit_costs": {"source": p.costs.source, "runs": p.costs.runs,
                       "bytes_per_session": p.costs.bytes_per_session,
                       "bytes_per_session_se": p.costs.bytes_per_session_se,
                       "base_bytes_per_master": p.costs.base_bytes_per_master,
                       "cpu_s_per_command": p.costs.cpu_s_per_command,
                       "cpu_s_per_command_sd": p.costs.cpu_s_per_command_sd,
                       "commands_per_op": p.costs.commands_per_op,
                       "live_sessions_range": p.costs.live_sessions_range},
        "warning": extrapolation(d, p.costs),
    })


def _fmt(value: float, unit: str) -> str:
    if not math.isfinite(value):
        return "unbounded (the master is saturated)" if unit == "µs" else "no finite value"
    if unit == "bytes":
        return f"{value / 2**20:,.0f} MiB"
    if unit == "of one core":
        return f"{100 * value:.1f} % of one core"
    return f"{value:,.0f} {unit}"


def _margin(margin: float) -> str:
    return f"margin {100 * margin:+.0f} %" if math.isfinite(margin) else "no margin: over any limit"


def verdict(d: Deployment, c: UnitCosts) -> Verdict:
    """PASS/FAIL, the binding constraint (smallest margin) and the smallest master count that passes."""
    p = predict(d, c)
    binding = min(p.constraints, key=lambda k: k.margin)
    return Verdict(p.passed, binding, p, smallest_masters(d, c))
