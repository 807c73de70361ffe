"""The question: the deployment and load asked about (pure: no I/O).

One record, ``Deployment``, holds everything a verdict is asked about: the HA pairs and their load (calls/s per pair,
handle time and lifetimes, session preset and size), the Redis Cluster (masters, replicas, TLS, node RAM), ORS's
worker threads, the production network round trip and the SLO. Every surface builds it the same way:

* ``loadsim plan`` from its flags over loadsim's defaults (the vendor rule, 9 HA pairs on 3 masters);
* ``loadsim plan --from RUN`` (and the web UI's Redis Cluster tab, and ``loadsim report RUN``) from the run's own
  configuration and cluster (``own_deployment``): its pairs, load, masters, replicas and TLS; a sweep's from its
  largest point; flags on top make a what-if, and ``ask`` records what they changed.

``Question`` carries the record with what it is (``asked``) and the what-if's changes, so the verdict's first line
can say which question it answers.
"""

from __future__ import annotations

import functools
import math
from dataclasses import MISSING, dataclass, field, fields, replace
from typing import Any

from loadsim import defaults as D
from loadsim import options as O
from loadsim.errors import OptionsError
from loadsim.model import workload as wl
from loadsim.model.estate import Estate
from loadsim.model.workload import PRESETS

# re-exported (the redundant aliases say so): plan, the report and capacity read them here too
from loadsim.options import cpu_ceiling_share as cpu_ceiling_share
from loadsim.options import number_text as number_text

GIB = D.GIB


# The plan's CPU ceiling as the model computes with it: a share of one core (as every utilisation in the model).
# People give it in % of one core (the row's unit): cpu_ceiling_share converts what they type.
PLAN_CPU_CEILING = D.value("cpu_ceiling") / 100


def _asked(row: O.Option, default: Any = MISSING) -> Any:
    """A field of the question: its option's row (name, type, unit, range, default, help: ``loadsim.options``) is
    what ``loadsim plan``'s flags, the report's parameters and the range check read."""
    return field(default=row.default_value if default is MISSING else default, metadata={"option": row})


@dataclass(frozen=True)
class Deployment:
    """A target deployment. Every field is overridable (``loadsim plan --help``)."""

    ha_pairs: int = _asked(O.HA_PAIRS)
    cps_per_pair: float = _asked(O.CPS_PER_PAIR.with_range((0, O.CPS_PER_PAIR.range[1])))  # a plan may ask about 0
    aht_s: float = _asked(O.AHT)
    complexity: str = _asked(O.COMPLEXITY)  # preset for writes per session (loadsim.model.workload.PRESETS)
    digital_share: float = _asked(O.DIGITAL_SHARE)
    session_ttl_s: int = _asked(O.SESSION_TTL)  # only leaked sessions live that long: not in the steady state
    masters: int = _asked(O.MASTERS)
    replicas: int = _asked(O.REPLICAS)  # replicas hold the same data as their master
    tls: bool = _asked(O.TLS)  # TLS between ORS and Redis (with runs: the runs with this setting are fitted)
    node_ram_bytes: float = _asked(O.NODE_RAM_BYTES)  # RAM of one Redis node
    node_cores: int = _asked(O.NODE_CORES)
    aof: bool = _asked(O.AOF)  # an AOF rewrite forks (copy-on-write)
    worker_threads: int = _asked(O.WORKER_THREADS)
    maxmemory_fraction: float = _asked(O.MAXMEMORY_FRACTION)
    fork_cow_factor: float = _asked(O.FORK_COW_FACTOR)
    # a share of the one main-thread core; the row's unit, and the flag's, is % of one core (cpu_ceiling_share)
    cpu_ceiling: float = _asked(O.CPU_CEILING, PLAN_CPU_CEILING)
    n_plus_1: bool = _asked(O.N_PLUS_1)  # the ceilings must still hold with one master fewer
    latency_slo_p99_us: float = _asked(O.LATENCY_SLO_P99_US)  # p99 of a persistence operation
    network_rtt_us: float = _asked(O.NETWORK_RTT_US)  # the production round trip ORS host <-> Redis node
    key_layout: str = _asked(O.KEY_LAYOUT)  # per-session, single-hash (one slot), node-tag (slot per pair), index
    maxclients: int = _asked(O.MAXCLIENTS)
    nic_gbps: float = _asked(O.NIC_GBPS)  # line rate of each Redis node's NIC, Gbit/s
    record_bytes: float | None = _asked(O.RECORD_BYTES)  # mean session size, bytes (None: the complexity preset's)
    records_per_session: int = _asked(O.RECORDS_PER_SESSION)
    routed_share: float = _asked(O.ROUTED_SHARE)
    routing_s: float = _asked(O.ROUTING_TIME)
    extended_share: float = _asked(O.EXTENDED_SHARE)
    extended_s: float = _asked(O.EXTENDED_TIME)
    leaked_share: float = _asked(O.LEAKED_SHARE)
    cleanup_period_s: float = _asked(O.CLEANUP_PERIOD)
    cleanup_batch: int = _asked(O.CLEANUP_BATCH)
    redis_version: str = _asked(O.REDIS_VERSION)  # version family of the memory model's constants (7.0 or 7.2)
    allocator: str = _asked(O.ALLOCATOR)  # INFO server mem_allocator family (the memory model has jemalloc's)
    estate: Estate | None = None  # the operator's pairs (--estate): per-pair workloads instead of the flat ones
    rate_scale: float = 1.0  # calls/s of every pair x this (the capacity envelope's search)
    size_scale: float = 1.0  # session size of every pair x this (the capacity envelope's search)

    def pair_groups(self) -> tuple[tuple[int, wl.WorkloadParams], ...]:
        """(pairs, workload of one of them) for the ``ha_pairs`` pairs (an estate repeats past its end)."""
        return _pair_groups(self)

    @property
    def sessions_per_s(self) -> float:
        """Persisted sessions started per second, all pairs."""
        return sum(n * p.voice_cps_per_pair for n, p in self.pair_groups())

    @property
    def live_sessions(self) -> float:
        """Little's law per pair (its lifetimes), summed: persisted sessions alive at once."""
        return sum(n * wl.littles_law(p.voice_cps_per_pair, p.mean_lifetime_s) for n, p in self.pair_groups())

    def __post_init__(self) -> None:
        if self.masters < 1 or self.ha_pairs < 1 or self.cps_per_pair < 0 or self.aht_s <= 0:
            raise OptionsError("masters and ha-pairs must be >= 1, cps-per-pair >= 0, aht > 0")
        if not 0 < self.maxmemory_fraction <= 1 or not 0 < self.cpu_ceiling <= 1:
            raise OptionsError("maxmemory-fraction and cpu-ceiling must be in (0, 1]")
        if self.complexity not in PRESETS:
            raise OptionsError(f"complexity '{self.complexity}' unknown; use one of {', '.join(PRESETS)}")
        if self.key_layout not in wl.KEY_LAYOUTS:
            raise OptionsError(f"key-layout must be one of {', '.join(wl.KEY_LAYOUTS)}")
        if self.record_bytes is not None and not 1 <= self.record_bytes <= (O.RECORD_BYTES.high or 0):
            raise OptionsError("record-bytes must be 1 .. 512 MiB (Redis's largest string)")
        if self.redis_version not in ("7.0", "7.2"):
            raise OptionsError(f"redis-version {self.redis_version}: the memory model has constants for 7.0 and 7.2")
        if self.replicas < 0:
            raise OptionsError("replicas must be >= 0")
        for name, (low, high) in DEPLOYMENT_RANGES.items():  # NaN, inf, negative, zero, absurd: one line each
            v = getattr(self, name, None)  # None: a simulation number (seed, warm-up) the question does not have
            if v is not None and not (math.isfinite(v) and low <= v <= high):
                raise OptionsError(f"--{name.replace('_', '-')}: {v:g} is out of range; give a number from "
                                   f"{number_text(low)} to {number_text(high)}")
        self.pair_groups()  # the workload model checks the rest (shares, times) and names the option


def option_of(name: str) -> O.Option | None:
    """The option row of a Deployment field (None: not an option, e.g. the estate or the envelope's scales)."""
    return _OPTION_OF.get(name)


_OPTION_OF: dict[str, O.Option] = {f.name: f.metadata["option"] for f in fields(Deployment) if "option" in f.metadata}
# Valid range (inclusive) of every number of a Deployment, from its row, so that an impossible one is refused in one
# line instead of becoming a verdict. The CPU ceiling's row is in % of one core; the field holds a share.
DEPLOYMENT_RANGES: dict[str, tuple[float, float]] = {
    name: ((o.range[0] / 100, o.range[1] / 100) if o.percent else o.range)
    for name, o in _OPTION_OF.items() if o.range is not None}


def deployment_for(p: wl.WorkloadParams, **changes: Any) -> Deployment:
    """The Deployment whose pairs run workload ``p`` (what a run simulates, e.g. the live view's), with
    ``changes`` (masters, replicas, node RAM ...). A preset changed by flags is kept as its name, mean size and
    records."""
    c = p.complexity
    base = c.name.split("+")[0]
    return replace(Deployment(), ha_pairs=p.ha_pairs, cps_per_pair=p.cps_per_pair, aht_s=p.aht_s,
                   complexity=base if base in PRESETS else D.value("complexity"), record_bytes=c.record_bytes,
                   records_per_session=c.records, digital_share=p.digital_share, session_ttl_s=p.session_ttl_s,
                   worker_threads=p.worker_threads, key_layout=p.key_layout, routed_share=p.routed_share,
                   routing_s=p.routing_s, extended_share=p.extended_share, extended_s=p.extended_s,
                   leaked_share=p.leaked_share, cleanup_period_s=p.cleanup_period_s, cleanup_batch=p.cleanup_batch,
                   **changes)


def _flat_params(d: Deployment) -> wl.WorkloadParams:
    c = PRESETS[d.complexity]
    if d.record_bytes is not None:
        c = replace(c, record_bytes=int(d.record_bytes))
    return wl.WorkloadParams(
        ha_pairs=1, cps_per_pair=d.cps_per_pair, aht_s=d.aht_s, complexity=replace(c, records=d.records_per_session),
        session_ttl_s=d.session_ttl_s, digital_share=d.digital_share, worker_threads=d.worker_threads,
        key_layout=d.key_layout, routed_share=d.routed_share, routing_s=d.routing_s, extended_share=d.extended_share,
        extended_s=d.extended_s, leaked_share=d.leaked_share, cleanup_period_s=d.cleanup_period_s,
        cleanup_batch=d.cleanup_batch)


def _scaled(p: wl.WorkloadParams, d: Deployment) -> wl.WorkloadParams:
    """A pair's workload under the deployment's estate-wide settings and the envelope's scales."""
    c = p.complexity
    if d.size_scale != 1.0:
        hist = tuple((max(1, int(b * d.size_scale)), w) for b, w in c.size_histogram)
        c = replace(c, record_bytes=max(1, int(c.record_bytes * d.size_scale)), size_histogram=hist)
    return replace(p, ha_pairs=1, cps_per_pair=p.cps_per_pair * d.rate_scale, complexity=c, key_layout=d.key_layout,
                   session_ttl_s=d.session_ttl_s, worker_threads=d.worker_threads,
                   cleanup_period_s=d.cleanup_period_s, cleanup_batch=d.cleanup_batch)


@functools.lru_cache(maxsize=1024)
def _pair_groups(d: Deployment) -> tuple[tuple[int, wl.WorkloadParams], ...]:
    if d.estate is None:
        return ((d.ha_pairs, _scaled(_flat_params(d), d)),)
    total = d.estate.ha_pairs
    full, rest = divmod(d.ha_pairs, total)
    out = []
    for g in d.estate.groups:
        n = full * g.pairs + min(g.pairs, rest)
        rest = max(0, rest - g.pairs)
        if n:
            out.append((n, _scaled(g.params, d)))
    return tuple(out)


# Deployment fields that are not options: the estate comes from an estate file, the scales are the envelope's
NOT_FLAGS = ("estate", "rate_scale", "size_scale")


def estate_changes(data: dict[str, Any], name: str, given: dict[str, Any]) -> dict[str, Any]:
    """Deployment changes for an estate document (``given``: the Deployment fields set explicitly, which
    override the file for every pair): the estate, its pair count and its estate-wide keys."""
    from loadsim.model.estate import estate_with_flags

    flags = {("records" if k == "records_per_session" else k): v for k, v in given.items()}
    estate = estate_with_flags(data, name, flags)
    out: dict[str, Any] = {"estate": estate}
    if "ha_pairs" not in given:
        out["ha_pairs"] = estate.ha_pairs
    first = estate.groups[0].params
    for key in ("session_ttl_s", "key_layout", "worker_threads"):  # estate-wide keys
        if key not in given and key in data:
            out[key] = getattr(first, key)
    return out


# "source: basis" of every Deployment default (what `loadsim plan` and the report print beside the values)
ASSUMPTIONS: dict[str, str] = D.labels(tuple(f.name for f in fields(Deployment) if f.name in D.DEFAULTS))


# ------------------------------------------------------------------------------------------ the question
PLAN_DEFAULTS = "plan's defaults (the vendor rule: 9 HA pairs on 3 masters)"


@dataclass(frozen=True)
class Question:
    """The deployment asked about, what it is (``asked``: plan's defaults, a run's own deployment, a sweep's point)
    and the what-if's changes over it (field, from, to)."""

    deployment: Deployment
    asked: str = PLAN_DEFAULTS
    changed: tuple[tuple[str, Any, Any], ...] = ()

    def changes_text(self) -> str:
        """``what-if: masters 3 -> 6, replicas 0 -> 1`` ("" when nothing changed)."""
        if not self.changed:
            return ""
        return "what-if: " + ", ".join(f"{name.replace('_', '-')} {_shown(a)} -> {_shown(b)}"
                                       for name, a, b in self.changed)

    def text(self) -> str:
        """One line: which question, and the what-if's changes."""
        d = self.deployment
        what = (f"{d.ha_pairs} HA pairs x {d.cps_per_pair:g} calls/s, {d.masters} masters, {d.replicas} "
                f"replica{'s' if d.replicas != 1 else ''} per master, {'TLS' if d.tls else 'plain'}")
        if d.estate is not None:
            what = f"estate {d.estate.name!r}: " + what.split(" x ", 1)[0] + ", " + what.split(", ", 1)[1]
        changes = self.changes_text()
        return f"question: {self.asked}: {what}" + (f"; {changes}" if changes else "")

    def as_dict(self) -> dict[str, Any]:
        return {"asked": self.asked, "text": self.text(),
                "changed": [{"name": n, "from": _plain(a), "to": _plain(b)} for n, a, b in self.changed]}


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, Estate):
        return value.source
    return str(value)


def _plain(value: Any) -> Any:
    return value.source if isinstance(value, Estate) else value


def ask(base: Deployment, asked: str = PLAN_DEFAULTS, **changes: Any) -> Question:
    """The question ``base`` (what ``asked`` says it is) with the what-if ``changes`` applied; the changes that differ
    from ``base`` are recorded, in the order of the record's fields."""
    d = replace(base, **changes) if changes else base
    order = [f.name for f in fields(Deployment)]
    changed = tuple((n, getattr(base, n), getattr(d, n)) for n in order
                    if n in changes and getattr(base, n) != getattr(d, n))
    return Question(d, asked, changed)


def cluster_maxmemory(masters: list[dict[str, Any]]) -> float | None:
    """The smallest maxmemory of the masters (each a dict with INFO memory's ``maxmemory``: a summary's masters or
    the live samples) when every one has it set: the limit a run's question is asked about; None when any is
    unset (0) or not recorded (a summary before the figure)."""
    limits = []
    for m in masters:
        try:
            limits.append(float(m.get("maxmemory") or 0))
        except (TypeError, ValueError):
            limits.append(0.0)
    return min(limits) if limits and all(x > 0 for x in limits) else None


def own_deployment(p: wl.WorkloadParams, masters: int, replicas: int, tls: bool = False, aof: bool | None = None,
                   network_rtt_us: float | None = None, maxmemory: float | None = None, **changes: Any
                   ) -> Deployment:
    """The deployment a run simulated: its pairs and their workload ``p``, its cluster's masters, replicas per
    master, TLS and AOF (None: the plan's default, e.g. a summary that does not say), the production round trip
    it was given (None: the plan's default) and its masters' maxmemory (None or 0: not set; set, it is the memory
    limit asked about: node RAM = maxmemory / the maxmemory fraction). Everything a run does not have (node RAM
    without a maxmemory, SLO) stays the plan's default, unless ``changes`` give it. The one builder of a run's
    question: ``plan --from RUN``, the web tab's verdict on the finished run and its live projection."""
    extra: dict[str, Any] = {} if aof is None else {"aof": aof}
    if network_rtt_us is not None:
        extra["network_rtt_us"] = network_rtt_us
    if maxmemory:
        fraction = changes.get("maxmemory_fraction", Deployment.maxmemory_fraction)
        extra["node_ram_bytes"] = maxmemory / fraction
    return deployment_for(p, masters=masters, replicas=replicas, tls=tls, **extra, **changes)
