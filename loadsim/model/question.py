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
from dataclasses import dataclass, fields, replace
from typing import Any

from loadsim import defaults as D
from loadsim.errors import OptionsError
from loadsim.model import workload as wl
from loadsim.model.estate import Estate
from loadsim.model.workload import PRESETS

GIB = D.GIB


# Valid range (inclusive) of every number of a Deployment, so that an impossible one is refused in one line
# instead of becoming a verdict. Upper bounds are far beyond any real estate (Redis Cluster's documented limit is
# 1,000 nodes; one master serves ~100 k commands/s), low enough that the arithmetic stays finite. A number the
# simulation shares (handle time, lifetimes, shares, TTL, worker threads ...) has its range once, in loadsim.defaults.
DEPLOYMENT_RANGES: dict[str, tuple[float, float]] = {
    **{name: d.range for name, d in D.DEFAULTS.items() if d.range is not None},
    # the question's own: a plan may ask about 0 calls, a real estate's cluster and sessions up to Redis's limits
    "ha_pairs": (1, 100_000), "cps_per_pair": (0, 10_000), "masters": (1, 1000), "replicas": (0, 16),
    "node_ram_bytes": (2**26, 2**50), "node_cores": (1, 1024), "maxmemory_fraction": (0.01, 1),
    "fork_cow_factor": (1, 4), "cpu_ceiling": (0.01, 1), "latency_slo_p99_us": (1, 6e7),
    "maxclients": (1, 10_000_000), "record_bytes": (1, 1 << 29), "nic_gbps": (0.01, 1000),
}


# The plan's CPU ceiling as the model computes with it: a share of one core (as every utilisation in the model).
# People give it in % of one core: cpu_ceiling_share converts what they type.
PLAN_CPU_CEILING = D.value("cpu_ceiling") / 100


def cpu_ceiling_share(value: float | str, flag: str = "--cpu-ceiling") -> float:
    """A CPU ceiling as a user gives it (``plan --cpu-ceiling``, ``capacity --cpu-ceiling``, the report's parameter),
    as a share of one core. The unit is % of one core: ``70`` or ``70%``. A number below 1 is the older spelling of
    plan, a share (``0.7`` is 70 %), kept as an alias; ``1`` alone could be either (1 % or 100 %) and is refused.
    OptionsError in one line naming ``flag`` and the fix."""
    text = str(value).strip()
    percent = text.endswith("%")
    try:
        x = float(text.removesuffix("%").strip())
    except ValueError:
        raise OptionsError(f"{flag} {text}: not a number; give a percentage of one core, e.g. 70") from None
    if not percent and x == 1:
        raise OptionsError(f"{flag} 1 is ambiguous: 1 % or 100 % of one core? Write 100 (or 1%)")
    share = x / 100 if percent or x > 1 else x
    if not (math.isfinite(share) and 0.01 <= share <= 1):
        raise OptionsError(f"{flag} {text}: give a percentage of one core from 1 to 100, e.g. 70 (a share below 1, "
                           "such as 0.7, is read as 70 %)")
    return share


def number_text(x: float) -> str:
    """A range bound for people: ``67,108,864``, ``0.001``."""
    return f"{int(x):,}" if float(x).is_integer() else f"{x:g}"


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
    tls: bool = False  # TLS between ORS and Redis (with runs: the runs with this setting are fitted)
    node_ram_bytes: float = D.value("node_ram_bytes")  # RAM of one Redis node
    node_cores: int = D.value("node_cores")
    aof: bool = D.value("aof")  # an AOF rewrite forks (copy-on-write)
    worker_threads: int = D.value("worker_threads")
    maxmemory_fraction: float = D.value("maxmemory_fraction")
    fork_cow_factor: float = D.value("fork_cow_factor")
    cpu_ceiling: float = PLAN_CPU_CEILING  # share of the one main-thread core (flags: %, cpu_ceiling_share)
    n_plus_1: bool = D.value("n_plus_1")  # the ceilings must still hold with one master fewer
    latency_slo_p99_us: float = D.value("latency_slo_p99_us")  # p99 of a persistence operation
    network_rtt_us: float = D.value("network_rtt_us")  # the production round trip ORS host <-> Redis node
    key_layout: str = D.value("key_layout")  # per-session, single-hash (one slot), node-tag (slot per pair), index
    maxclients: int = D.value("maxclients")
    nic_gbps: float = D.value("nic_gbps")  # line rate of each Redis node's NIC, Gbit/s
    record_bytes: float | None = None  # mean session size, bytes (None: the complexity preset's)
    records_per_session: int = D.value("records_per_session")
    routed_share: float = D.value("routed_share")
    routing_s: float = D.value("routing_s")
    extended_share: float = D.value("extended_share")
    extended_s: float = D.value("extended_s")
    leaked_share: float = D.value("leaked_share")
    cleanup_period_s: float = D.value("cleanup_period_s")
    cleanup_batch: int = D.value("cleanup_batch")
    redis_version: str = "7.0"  # version family of the memory model's constants (7.0 or 7.2)
    allocator: str = "jemalloc"  # INFO server mem_allocator family (the memory model has jemalloc's constants)
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
        if self.record_bytes is not None and not 1 <= self.record_bytes <= 1 << 29:
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


def own_deployment(p: wl.WorkloadParams, masters: int, replicas: int, tls: bool = False, aof: bool | None = None
                   ) -> Deployment:
    """The deployment a run simulated: its pairs and their workload ``p``, its cluster's masters, replicas per
    master, TLS and AOF (None: the plan's default, e.g. a summary that does not say). Everything a run does not
    have (node RAM, SLO, the production round trip) stays the plan's default."""
    extra: dict[str, Any] = {} if aof is None else {"aof": aof}
    return deployment_for(p, masters=masters, replicas=replicas, tls=tls, **extra)
