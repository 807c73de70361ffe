"""The ORS persistence workload as a pure, seeded model: no sockets, no clocks, no Locust.

What an ORS HA pair does to Redis, as far as the vendor documents it (docs/workload.md):
a voice call arrives → the primary creates an SCXML session and persists it; every flushed burst of
queued events persists the session again (data + state, and the scheduled actions when they
changed); when the call ends the session's keys are deleted. Every record has a TTL. Digital
(eServices) interactions are counted but not persisted. After a switchover the backup becomes primary
and restores the sessions it owns from Redis.

Everything the vendor does not publish is a parameter here, with a default labelled as an
assumption (``ASSUMPTIONS``). The engine (``loadsim.locust.users``) asks a ``PairSchedule`` what is due and
turns each ``Op`` into Redis commands with ``commands_for``.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
from array import array
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from loadsim import defaults as D
from loadsim.errors import OptionsError

KEY_LAYOUTS = ("per-session", "single-hash", "node-tag", "index")

CREATE, UPDATE, DELETE, RECOVER = "session.create", "session.update", "session.delete", "session.recover"
CLEANUP = "session.cleanup"  # the index layout's periodic cleaning of entries whose body expired
MAX_RECORD_BYTES = 1 << 22  # largest record the generator writes (its payload); size draws are capped here
MAX_MEAN_RECORD_BYTES = 1 << 20  # largest mean record size an option or estate may ask for
MAX_LIVE_SESSIONS = 50_000_000  # sessions one generator process may hold (~85 B each: ~4 GB)
OPERATIONS = (CREATE, UPDATE, DELETE, RECOVER, CLEANUP)


def voice_sessions_per_s(ha_pairs: int, cps_per_pair: float, digital_share: float) -> float:
    """Persisted sessions started per second, all pairs: digital interactions are not persisted (vendor)."""
    return ha_pairs * cps_per_pair * (1.0 - digital_share)


def operation_percentile(summary: dict[str, Any], percentile: str, operation: str = UPDATE,
                         kind: str = "latency_us") -> float | None:
    """A percentile (``p50``, ``p99``, ``p999`` ...) of one operation in a run summary, µs; None if absent.
    ``session.update`` is the reference operation: the most frequent, and the same in every layout."""
    return summary.get("operations", {}).get(operation, {}).get(kind, {}).get(percentile)


def littles_law(arrivals_per_s: float, mean_time_in_system_s: float) -> float:
    """Items in the system on average (L = λW): here, sessions alive at once."""
    return arrivals_per_s * mean_time_in_system_s


@dataclass(frozen=True)
class Complexity:
    """Session complexity: how big the persisted records are and how often a session is written."""

    name: str
    record_bytes: int  # mean size of the session record (SCXML data model + state), bytes
    record_sigma: float  # spread: sigma of the lognormal size distribution (0 = fixed size)
    updates_per_session: float  # mean persistence writes between create and delete (flushed event bursts)
    timer_share: float  # share of writes that also rewrite the scheduled-actions record
    timer_bytes: int  # size of the scheduled-actions record, bytes
    source: str = "assumption"
    records: int = 1  # data records the session is split into (create writes all, an update one of them)
    size_histogram: tuple[tuple[int, float], ...] = ()  # (session bytes, weight): measured sizes, if given

    def __post_init__(self) -> None:
        if self.size_histogram:  # the mean follows the histogram
            total = sum(w for _, w in self.size_histogram)
            mean = sum(b * w for b, w in self.size_histogram) / total if total > 0 else 0
            object.__setattr__(self, "record_bytes", max(1, int(round(mean))))

    @property
    def writes_per_session(self) -> float:
        """Persistence operations per session: create + updates + delete."""
        return self.updates_per_session + 2


# Not published by Genesys: the presets are assumptions (values and reasons in loadsim.defaults).
PRESETS: dict[str, Complexity] = {name: Complexity(name, *numbers, source=source)  # type: ignore[arg-type]
                                  for name, (numbers, source) in D.PRESETS.items()}


@dataclass(frozen=True)
class WorkloadParams:
    """Every workload parameter; defaults and their sources in ``loadsim.defaults``."""

    ors_cluster_name: str = "ors1"
    ha_pairs: int = D.value("ha_pairs")
    cps_per_pair: float = D.value("cps_per_pair")  # calls per second per HA pair
    aht_s: float = D.value("aht_s")  # mean handle time of a call, s (exponential distribution)
    complexity: Complexity = PRESETS[D.value("complexity")]
    session_ttl_s: int = D.value("session_ttl_s")  # TTL on every record; must exceed any call
    digital_share: float = D.value("digital_share")  # digital interactions: counted, not persisted
    worker_threads: int = D.value("worker_threads")  # ORS worker threads per ORS node
    key_layout: str = D.value("key_layout")  # see KEY_LAYOUTS
    seed: int = D.value("seed")
    prefill: bool = D.value("prefill")  # start with the Little's-law population of calls already in progress
    # session lifetime, apart from the handle time (docs/workload.md "Session lifetime"): the rest of the
    # sessions end with the call (after --aht)
    routed_share: float = D.value("routed_share")  # the strategy ends the session when the call is routed
    routing_s: float = D.value("routing_s")  # mean time from arrival to routing, s (exponential)
    extended_share: float = D.value("extended_share")  # sessions extended beyond the call
    extended_s: float = D.value("extended_s")  # mean lifetime of an extended session, s (exponential)
    leaked_share: float = D.value("leaked_share")  # never deleted (e.g. primary crashed): live until the TTL
    cleanup_period_s: float = D.value("cleanup_period_s")  # index layout: cleaning period, s (0 = none)
    cleanup_batch: int = D.value("cleanup_batch")  # index entries examined per cleaning (HSCAN COUNT)

    def __post_init__(self) -> None:
        checks = [
            (self.ha_pairs >= 1, "--ha-pairs must be >= 1"),
            (self.cps_per_pair > 0, "--cps-per-pair must be > 0"),
            (self.aht_s > 0, "--aht must be > 0 seconds"),
            (self.session_ttl_s >= 1, "--session-ttl must be >= 1 second"),
            (0.0 <= self.digital_share <= 1.0, "--digital-share must be between 0 and 1"),
            (D.WORKER_THREADS_RANGE[0] <= self.worker_threads <= D.WORKER_THREADS_RANGE[1],
             "--worker-threads must be {}..{}".format(*D.WORKER_THREADS_RANGE)),
            (self.key_layout in KEY_LAYOUTS, f"--key-layout must be one of {', '.join(KEY_LAYOUTS)}"),
            (self.complexity.record_bytes >= 1, "--record-bytes must be >= 1"),
            (self.complexity.updates_per_session >= 0, "--updates-per-session must be >= 0"),
            (0.0 <= self.complexity.timer_share <= 1.0, "--timer-share must be between 0 and 1"),
            (1 <= self.complexity.records <= 64, "--records-per-session must be 1..64"),
            (self.complexity.timer_bytes >= 0, "--timer-bytes must be >= 0"),
            (all(0.0 <= v <= 1.0 for v in (self.routed_share, self.extended_share, self.leaked_share))
             and self.routed_share + self.extended_share + self.leaked_share <= 1.0,
             "--routed-share, --extended-share and --leaked-share must be between 0 and 1 and sum to at most 1"),
            (self.routing_s > 0 and self.extended_s > 0, "--routing-time and --extended-time must be > 0 seconds"),
            (self.cleanup_period_s >= 0, "--cleanup-period must be >= 0 seconds (0 = no cleaning)"),
            (self.cleanup_batch >= 1, "--cleanup-batch must be >= 1"),
            (self.cleanup_period_s == 0 or self.key_layout == "index",
             "--cleanup-period applies to --key-layout index only (other layouts rely on key TTLs)"),
        ]
        for ok, message in checks:
            if not ok:
                raise OptionsError(message)

    @property
    def voice_cps_per_pair(self) -> float:
        return voice_sessions_per_s(1, self.cps_per_pair, self.digital_share)

    @property
    def called_share(self) -> float:
        """Share of sessions that end with the call (after the handle time)."""
        return max(0.0, 1.0 - self.routed_share - self.extended_share - self.leaked_share)

    def lifetime_classes(self) -> tuple[tuple[float, float, bool], ...]:
        """(share, mean active time s, leaked) per lifetime class; see ``mean_lifetime_s``."""
        return ((self.called_share, self.aht_s, False), (self.routed_share, self.routing_s, False),
                (self.extended_share, self.extended_s, False), (self.leaked_share, self.aht_s, True))

    @property
    def leaked_idle_s(self) -> float:
        """Mean time a leaked session stays in Redis after its call ended: the TTL, counted from its last
        write, minus the part of the call after that write (k uniform writes in a call of mean length A
        leave A/(k+1) after the last; for Poisson k of mean u, E[1/(k+1)] = (1 - e^-u)/u)."""
        u = self.complexity.updates_per_session
        tail = self.aht_s * ((1.0 - math.exp(-u)) / u if u > 0 else 1.0)
        return max(0.0, self.session_ttl_s - tail)

    @property
    def mean_lifetime_s(self) -> float:
        """Mean time a persisted session lives in Redis, over the lifetime classes: ends at call end (AHT),
        at routing, extended, or leaked (its call, then until its TTL expires)."""
        return (sum(share * mean for share, mean, _ in self.lifetime_classes())
                + self.leaked_share * self.leaked_idle_s)

    @property
    def expected_live_sessions(self) -> float:
        """Little's law: persisted sessions alive at once, all pairs (arrivals x mean lifetime)."""
        return littles_law(voice_sessions_per_s(self.ha_pairs, self.cps_per_pair, self.digital_share),
                           self.mean_lifetime_s)

    def ttl_warning(self) -> str | None:
        """One line when the TTL is shorter than sessions stay alive between writes: Redis would expire
        sessions the model still counts as live (and ORS would lose them)."""
        longest = max((mean for share, mean, _ in self.lifetime_classes() if share > 0), default=self.aht_s)
        gap = longest / (self.complexity.updates_per_session + 1)
        if self.session_ttl_s < 3 * gap:
            return (f"--session-ttl {self.session_ttl_s} s is shorter than 3x the mean time between writes of the "
                    f"longest-lived sessions ({gap:,.0f} s): Redis expires sessions still alive; raise the TTL")
        return None

    @property
    def writes_per_session(self) -> float:
        """Persistence operations per session: create + updates + delete (leaked sessions are never deleted)."""
        return self.complexity.updates_per_session + 2 - self.leaked_share

    @property
    def expected_ops_per_s(self) -> float:
        """Persistence operations per second, all pairs (create + updates + delete per session)."""
        return voice_sessions_per_s(self.ha_pairs, self.cps_per_pair, self.digital_share) * self.writes_per_session

    def describe(self) -> dict[str, object]:
        d = asdict(self)
        d["complexity"] = asdict(self.complexity)
        d.update(writes_per_session=self.writes_per_session, record_bytes_mean=self.complexity.record_bytes,
                 mean_lifetime_s=self.mean_lifetime_s,
                 expected_live_sessions=self.expected_live_sessions, expected_ops_per_s=self.expected_ops_per_s)
        return d


ASSUMPTIONS: dict[str, str] = {
    **D.labels(("cps_per_pair", "aht_s", "complexity", "session_ttl_s", "worker_threads", "key_layout",
                "digital_share", "routed_share", "extended_share", "leaked_share")),
    "session_id": "assumption: sessionid-with-nodeid: ids start with the HA pair's ORS node id (format assumed)",
}


# ---------------------------------------------------------------------------------------- HA pairs
@dataclass(frozen=True)
class HaPair:
    """An ORS HA pair: primary and warm-standby backup.

    Genesys: "A pair of Primary and Backup Orchestration Servers is called an ORS Node. An ORS Node has a
    Node ID, which is a DBID of an ORS Application configured as a Primary" (ORS Deployment Guide, High
    Availability). So the pair has ONE node id, the configured primary's DBID, before and after a
    switchover; the applications have their own DBIDs (here primary 2i+1, backup 2i+2), which the owner
    record names.
    """

    index: int  # 0-based

    @property
    def primary_dbid(self) -> int:
        """DBID of the application configured as primary."""
        return 2 * self.index + 1

    @property
    def backup_dbid(self) -> int:
        return 2 * self.index + 2

    @property
    def node_id(self) -> int:
        """The ORS Node id: the configured primary's DBID, the same whichever application is working."""
        return self.primary_dbid


def session_id(node_id: int, seq: int) -> str:
    """Session id carrying the ORS node id (``sessionid-with-nodeid = true``); format assumed."""
    return session_prefix(node_id) + _seq_digits(seq)


def _seq_digits(seq: int) -> str:
    # the same digits as f"{seq % SEQ_SPACE:010d}" in a third of its time (0.14 against 0.45 us, timeit): one id per
    # operation, and PairSchedule.sid keeps its pair's prefix
    return str(seq % SEQ_SPACE).zfill(10)


SEQ_SPACE = 10 ** 10  # a session id's number has 10 digits
RUN_ID_STRIDE = 100_000  # session numbers one run's pair uses before the next second's run could reuse them


def run_id_base(wall_s: float) -> int:
    """Where a run's session numbers start (its ids are ``session_id(node, base + seq)``), from its start time:
    runs on the same cluster never write each other's sessions. Before, every run of the same pairs wrote the same
    ids: a second run overwrote the first's leftovers while it went, and what it added to the cluster (what memory
    calibrates on) could not be told from what was there. A pair past RUN_ID_STRIDE sessions shares numbers with a
    run started a second later (the ids stay 10 digits: the key sizes, and the memory model, do not change)."""
    return (int(wall_s) % (SEQ_SPACE // RUN_ID_STRIDE)) * RUN_ID_STRIDE


def session_prefix(node_id: int) -> str:
    return f"{node_id:03d}-"


def record_names(records: int) -> tuple[str, ...]:
    """Names of a session's data records: ``session``, then ``session1`` ... when it is split."""
    return ("session",) + tuple(f"session{i}" for i in range(1, records))


# ---------------------------------------------------------------------------------------- key layout
@dataclass(frozen=True)
class KeyLayout:
    """Where a session's records live.

    * ``per-session``: ``ORS:<c>:session:<sid>``, ``ORS:<c>:timers:<sid>``, ``ORS:<c>:owner:<sid>``
      — spread over all slots (assumed default).
    * ``single-hash``: the literal vendor text — one hash ``ORS:<c>`` with fields ``session:<sid>`` ...;
      one key = one slot = one master holds every session of the ORS cluster.
    * ``node-tag``: per-session keys with the ORS node id as hash tag, ``ORS:<c>:{<node>}:session:<sid>``;
      every session of one HA pair in one slot.
    * ``index``: the vendor's key ``ORS:<c>`` as an index, a hash of session id → owner, plus per-session
      bodies with a TTL (``ORS:<c>:session:<sid>``, ``ORS:<c>:timers:<sid>``). Every create and delete
      and every recovery scan lands on the master of that one slot; index entries carry no TTL (Redis <
      7.4 has no per-field TTL), so entries of sessions nobody deleted need the vendor's "periodical
      cleaning up procedure" (``--cleanup-period``).
    """

    name: str
    cluster: str

    def __post_init__(self) -> None:
        if self.name not in KEY_LAYOUTS:
            raise OptionsError(f"key layout '{self.name}' unknown; use one of {', '.join(KEY_LAYOUTS)}")
        # every command's key is built here (two or three per operation): the prefix once, not per key
        object.__setattr__(self, "_prefix", "" if self.name == "single-hash" else f"ORS:{self.cluster}:")
        object.__setattr__(self, "_node_tag", self.name == "node-tag")

    @property
    def hash_key(self) -> str:
        """The single hash (single-hash) or the index (index): ``ORS:<cluster>``."""
        return f"ORS:{self.cluster}"

    @property
    def has_index(self) -> bool:
        return self.name == "index"

    def _tag(self, sid: str) -> str:
        return f"{{{sid.split('-', 1)[0]}}}:" if self.name == "node-tag" else ""

    def key(self, record: str, sid: str) -> str:
        """Key (per-session / node-tag / index bodies) or hash field (single-hash) of a record."""
        if self._node_tag:
            return f"{self._prefix}{self._tag(sid)}{record}:{sid}"
        return f"{self._prefix}{record}:{sid}"

    def scan_pattern(self, node_id: int) -> str:
        """Pattern matching the sessions of one ORS node (SCAN MATCH, or HSCAN MATCH of the hash)."""
        if self.has_index:
            return session_prefix(node_id) + "*"
        return self.key("session", session_prefix(node_id) + "*")

    def sid_from_key(self, key: str) -> str:
        return key.rsplit(":", 1)[1]

    def recovery_reads(self, sid: str, records: int = 1) -> list[Command]:
        """Commands reading a session's records back (recovery after a switchover)."""
        names = (*record_names(records), "timers")
        if self.name == "single-hash":
            return [("HMGET", self.hash_key, *(self.key(n, sid) for n in names))]
        return [("GET", self.key(n, sid)) for n in names]


Command = tuple  # (b"SET", key, value, ...) — the routing key is always element 1


def commands_for(layout: KeyLayout, kind: str, sid: str, owner: int, session_bytes: bytes | None,
                 timer_bytes: bytes | None, ttl_ms: int, records: int = 1, record: int = -1) -> list[Command]:
    """Redis commands ORS sends for one persistence operation, in order.

    ``session_bytes``/``timer_bytes`` are the payloads (None = record not written this time); with
    ``records`` > 1 the session data is split into that many records and ``session_bytes`` is one
    record's payload: ``record`` = -1 writes every record (create), else that one. Every write carries
    the TTL. The routing key of each command is element 1.
    """
    ttl = str(ttl_ms)
    names = ("session",) if records == 1 else record_names(records)
    if layout.name == "single-hash":
        h = layout.hash_key
        if kind == DELETE:
            return [("HDEL", h, *(layout.key(n, sid) for n in (*names, "timers", "owner")))]
        fields: list[object] = []
        if session_bytes is not None:
            for n in (names if record < 0 else (names[record],)):
                fields += [layout.key(n, sid), session_bytes]
        if timer_bytes is not None:
            fields += [layout.key("timers", sid), timer_bytes]
        if kind in (CREATE, RECOVER):
            fields += [layout.key("owner", sid), str(owner)]
        # Redis 7.0 has no per-field TTL: the TTL is on the whole hash, refreshed on every write.
        return [("HSET", h, *fields), ("PEXPIRE", h, ttl)]
    indexed = layout.has_index
    if kind == DELETE:
        cmds: list[Command] = [("DEL", layout.key(n, sid)) for n in (*names, "timers")]
        cmds.append(("HDEL", layout.hash_key, sid) if indexed else ("DEL", layout.key("owner", sid)))
        return cmds
    cmds = []
    if session_bytes is not None:
        for n in (names if record < 0 else (names[record],)):
            cmds.append(("SET", layout.key(n, sid), session_bytes, "PX", ttl))
    if timer_bytes is not None:
        cmds.append(("SET", layout.key("timers", sid), timer_bytes, "PX", ttl))
    if kind in (CREATE, RECOVER):
        # the index entry has no TTL (hash fields cannot expire before Redis 7.4)
        cmds.append(("HSET", layout.hash_key, sid, str(owner)) if indexed
                    else ("SET", layout.key("owner", sid), str(owner), "PX", ttl))
    return cmds


def recovery_commands(layout: KeyLayout, sid: str, owner: int, ttl_ms: int, records: int = 1) -> list[Command]:
    """Redis commands ORS sends to restore one session after a switchover, in order: read its records back, then
    write the new owner (what the engine's recovery sends)."""
    return layout.recovery_reads(sid, records) + commands_for(layout, RECOVER, sid, owner, None, None, ttl_ms, records)


# ---------------------------------------------------------------------------------------- schedule
@dataclass(order=True, slots=True)  # slots: one per due operation, made and read on the generator's hot path
class Op:
    """One due persistence operation of one session."""

    due: float
    kind: str = field(compare=False)
    sid: str = field(compare=False)
    session_size: int = field(compare=False)  # bytes of each session record written; 0 = none written
    timer_size: int = field(compare=False)  # 0 = timers record not written
    record: int = field(default=-1, compare=False)  # data record an update writes (-1 = every record)
    ttl_ms: int = field(default=0, compare=False)  # 0 = the session TTL; less for a pre-filled leaked session
    seq: int = field(default=0, compare=False)  # the session's number in its pair (its id's second part)
    version: int = field(default=0, compare=False)  # the session's write count with this write (create = 1)


# A live session is a slot in the schedule's tables (array.array columns: 29 bytes) plus one heap entry, a
# Python int ``due_us << SLOT_BITS | slot`` (due in µs from the schedule's origin: 40 bytes with its list
# pointer). A tuple of floats per session cost 241 bytes of RSS at 10 M sessions (2,377 MiB), this layout 85
# (910 MiB), measured with bench/generator.py (figures in the README's benchmark section).
SLOT_BITS = 26  # slots per pair: 67 M, more than MAX_LIVE_SESSIONS
SLOT_MASK = (1 << SLOT_BITS) - 1
SEQ_BITS = 32  # leaked heap entries: ``expiry_us << SEQ_BITS | seq`` (seq numbers fit the acked array's "I")
SEQ_MASK = (1 << SEQ_BITS) - 1
PREFILL_CHUNK = 1 << 16  # sessions the pre-fill draws per numpy call while it is written
SIZE_BLOCK = 1024  # record sizes a schedule draws per numpy call


class Prefill:
    """The pre-fill's creates, in session order, made as they are taken (a list of 10 M ``Op`` would cost
    ~2 GB): ``len()`` tells how many, iterating yields them. The record sizes come from a numpy generator
    seeded by the pair, so every iteration yields the same creates."""

    def __init__(self, schedule: PairSchedule, first_seq: int, count: int, ttl_ms: array, now: float):
        self.node_id = schedule.node_id
        self.sid = schedule.sid
        self.first_seq = first_seq
        self.count = count
        self.ttl_ms = ttl_ms  # the TTL left of the last len(ttl_ms) creates (leaked sessions past their call)
        self.now = now
        self._sizes = schedule.record_sizes
        self._seed = schedule.numpy_seed("prefill-sizes")
        self._timer_bytes = schedule.params.complexity.timer_bytes

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[Op]:
        gen = np.random.default_rng(self._seed)
        sid, now, timer, ttls = self.sid, self.now, self._timer_bytes, self.ttl_ms
        plain = self.count - len(ttls)  # creates with the full session TTL
        for start in range(0, self.count, PREFILL_CHUNK):
            stop = min(self.count, start + PREFILL_CHUNK)
            for i, size in enumerate(self._sizes(gen, stop - start).tolist(), start):
                seq = self.first_seq + i
                yield Op(now, CREATE, sid(seq), size, timer, seq=seq, version=1,
                         ttl_ms=ttls[i - plain] if i >= plain else 0)


class PairSchedule:
    """The open-loop schedule of one HA pair's primary: Poisson arrivals, updates, deletes, and, with
    the index layout, the periodic cleaning.

    Times are seconds on the caller's clock; the model never looks at a clock itself. Sessions are
    data (a slot in array columns and one heap entry each, see ``SLOT_BITS``), not greenlets, so ten million
    live sessions fit in well under a GB. A leaked session is never deleted: at its end it moves to a second
    heap until its TTL (counted from its last write) expires in Redis.
    """

    def __init__(self, params: WorkloadParams, pair: HaPair, start: float, rng: random.Random | None = None,
                 id_base: int = 0):
        self.params = params
        self.pair = pair
        self.node_id = pair.node_id
        self.id_base = id_base  # the run's first session number (run_id_base); ``seq`` counts from 1 in it
        self._sid_prefix = session_prefix(self.node_id)
        self.rng = rng or random.Random(f"{params.seed}:{pair.index}")
        self._origin = start  # heap keys count µs from here
        self._seq = 0
        self._heap: list[int] = []  # due_us << SLOT_BITS | slot, per active session
        # the slot tables: per active session its number, end, last write, updates left, version of the last
        # write (create = 1) and whether it leaks; freed slots are reused
        self._seqs, self._ends, self._lasts = array("I"), array("d"), array("d")
        self._remaining, self._versions, self._leaks = array("I"), array("I"), bytearray()
        self._free = array("I")
        # per session (index seq - 1): the version of its last write Redis acknowledged (0 = none), set by the
        # engine; what the read-back after a run or a recovery compares Redis's records with
        self.acked = array("I")
        self._leaked: list[int] = []  # expiry_us << SEQ_BITS | seq of the sessions nobody deletes
        self.active = 0  # sessions created and not yet ended
        self.arrivals = 0
        self.digital = 0
        self.expired = 0  # leaked sessions whose TTL has expired
        self._next_arrival = start + self.rng.expovariate(params.cps_per_pair)
        self._ttl_s = params.session_ttl_s
        period = params.cleanup_period_s if params.key_layout == "index" else 0.0
        self._cleanup_period = period
        self._next_cleanup = start + period if period > 0 else math.inf
        c = params.complexity
        # lognormal with the requested mean: mu = ln(mean) - sigma^2 / 2
        self._size_mu = math.log(c.record_bytes) - c.record_sigma ** 2 / 2
        # what every operation's draws read, held on the schedule (one attribute read per draw, not params.complexity.x)
        self._records = c.records
        self._timer_share, self._timer_bytes = c.timer_share, c.timer_bytes
        self._hist_sizes = [b for b, _ in c.size_histogram]
        self._hist_cum = list(itertools.accumulate(w for _, w in c.size_histogram))
        self._size_gen = np.random.default_rng(self.numpy_seed("sizes"))  # the record sizes' own stream
        self._size_block: list[int] = []  # drawn and not yet used (taken from the end)
        # lifetime classes: (cumulative share, mean active time, leaked)
        classes = [(share, mean, leak) for share, mean, leak in params.lifetime_classes() if share > 0]
        self._classes = [(cum, mean, leak) for cum, (_, mean, leak) in
                         zip(itertools.accumulate(s for s, _, _ in classes), classes, strict=True)]

    @property
    def live(self) -> int:
        """Sessions alive in Redis: active ones and leaked ones whose TTL has not expired yet."""
        return self.active + len(self._leaked)

    def numpy_seed(self, purpose: str) -> np.random.SeedSequence:
        """The seed of one vectorised draw: the run's seed, the pair and what the draw is for."""
        return np.random.SeedSequence([self.params.seed & 0xFFFFFFFF, self.pair.index, *purpose.encode()])

    # -- keys
    def _key(self, t: float, slot: int) -> int:
        return round((t - self._origin) * 1e6) << SLOT_BITS | slot

    def _time(self, key: int, bits: int = SLOT_BITS) -> float:
        return self._origin + (key >> bits) * 1e-6

    def _leak(self, expiry: float, seq: int) -> None:
        heapq.heappush(self._leaked, round((expiry - self._origin) * 1e6) << SEQ_BITS | seq)

    @staticmethod
    def _check_slots(slots: int) -> None:
        if slots > SLOT_MASK + 1:
            raise OptionsError(f"one HA pair holds more than {SLOT_MASK + 1:,} active sessions; spread the load over "
                               "more HA pairs")

    def _slot(self, seq: int, end: float, last: float, remaining: int, leaked: bool) -> int:
        """A free slot filled with a new session's state."""
        if self._free:
            slot = self._free.pop()
            self._seqs[slot], self._ends[slot], self._lasts[slot] = seq, end, last
            self._remaining[slot], self._versions[slot], self._leaks[slot] = remaining, 1, leaked
            return slot
        slot = len(self._seqs)
        self._check_slots(slot + 1)
        self._seqs.append(seq)
        self._ends.append(end)
        self._lasts.append(last)
        self._remaining.append(remaining)
        self._versions.append(1)
        self._leaks.append(leaked)
        return slot

    # -- sizes
    def _session_size(self) -> int:
        """Bytes of one data record: the session's size (lognormal, or the histogram) over its records, taken
        from a block of ``record_sizes`` draws. Python's ``lognormvariate`` (a rejection loop) cost ~90 of the
        ~1,800 bytecodes of an operation, 740 ns a draw; a block is 37 µs per 1,024 (timeit)."""
        sizes = self._size_block
        if not sizes:
            sizes = self._size_block = self.record_sizes(self._size_gen, SIZE_BLOCK).tolist()
        return sizes.pop()

    def record_sizes(self, gen: np.random.Generator, n: int) -> np.ndarray:
        """``n`` record sizes (bytes of one data record) from numpy's ``gen``: the distribution's one definition,
        for the pre-fill and, block by block, for every create and update (``_session_size``)."""
        c = self.params.complexity
        if self._hist_sizes:
            weights = np.diff(np.asarray([0.0, *self._hist_cum]))
            size = gen.choice(np.asarray(self._hist_sizes, dtype=np.int64), size=n, p=weights / weights.sum())
        elif c.record_sigma == 0:
            size = np.full(n, c.record_bytes, dtype=np.int64)
        else:
            size = np.clip(gen.lognormal(self._size_mu, c.record_sigma, n), 16, MAX_RECORD_BYTES).astype(np.int64)
        return np.maximum(1, size // c.records) if c.records > 1 else size

    def _timer_size(self) -> int:
        return self._timer_bytes if self.rng.random() < self._timer_share else 0

    def _updates(self) -> int:
        """Updates of one session: Poisson around the mean (at least 0)."""
        mean = self.params.complexity.updates_per_session
        if mean <= 0:
            return 0
        # Knuth's method is fine for the small means used here
        limit, k, p = math.exp(-mean), 0, self.rng.random()
        while p > limit:
            k += 1
            p *= self.rng.random()
        return k

    def _lifetime_class(self) -> tuple[float, bool]:
        """(mean active time, leaked) of a new session, drawn by the lifetime shares."""
        classes = self._classes
        if len(classes) == 1:
            return classes[0][1], classes[0][2]
        u = self.rng.random() * classes[-1][0]
        for cum, mean, leak in classes:
            if u < cum:
                return mean, leak
        return classes[-1][1], classes[-1][2]

    def _start_session(self, now: float, end: float, leaked: bool = False) -> Op:
        self._seq += 1
        self.acked.append(0)
        self.active += 1
        remaining = self._updates()
        slot = self._slot(self._seq, end, now, remaining, leaked)
        heapq.heappush(self._heap, self._key(self._next_update(now, end, remaining), slot))
        # a new session always schedules actions (e.g. its timeouts): the timers record is written
        # positional: keyword arguments to the dataclass's __init__ cost the call their mapping (109,111 -> 107,459
        # CPU instructions an operation with the update's and the delete's, bench/hot_path.py --valgrind)
        return Op(now, CREATE, self.sid(self._seq), self._session_size(), self.params.complexity.timer_bytes, -1, 0,
                  self._seq, 1)

    def _next_update(self, now: float, end: float, remaining: int) -> float:
        """Next of ``remaining`` uniform update times in (now, end): the minimum of k uniforms."""
        if remaining <= 0:
            return end
        return now + (end - now) * (1.0 - self.rng.random() ** (1.0 / remaining))

    def prefill(self, now: float) -> Prefill:
        """The sessions already alive at ``now`` (Little's law population, per lifetime class): they join the
        schedule, and the returned ``Prefill`` yields their creates.

        A session in progress is length-biased: for exponential lifetimes of mean m its whole duration D
        is Gamma(2, m), it is a uniform fraction through, and only the updates that fall in its remaining
        part are still to come (a Poisson count of mean u thinned by that fraction: Poisson of mean u x
        fraction). So both the live population and the update rate start at steady state. Leaked sessions
        past their call wait for their TTL: their expiry is uniform over the idle time, and their create
        carries the TTL that is left. Drawn with numpy, seeded by the run's seed and the pair (10 M
        sessions in seconds; one Python draw per session took ~100 s).
        """
        gen = np.random.default_rng(self.numpy_seed("prefill"))
        lam, u = self.params.voice_cps_per_pair, self.params.complexity.updates_per_session
        first_seq = self._seq + 1
        for share, mean, leaked in self.params.lifetime_classes():
            if share <= 0:
                continue
            n = int(gen.poisson(lam * share * mean))
            duration = gen.gamma(2.0, mean, n)
            left = gen.random(n)  # share of the session still to come
            end = now + left * duration
            remaining = gen.poisson(u * left) if u > 0 else np.zeros(n, dtype=np.int64)
            # the first of k uniform update times in (now, end)
            wait = 1.0 - gen.random(n) ** (1.0 / np.maximum(remaining, 1))
            first = np.where(remaining > 0, now + (end - now) * wait, end)
            self._add_active(now, end, remaining, first, leaked)
        idle = self.params.leaked_idle_s
        n = int(gen.poisson(lam * self.params.leaked_share * idle)) if self.params.leaked_share > 0 else 0
        ttl_left = np.maximum(0.001, gen.random(n) * idle)
        expiry_us = np.rint((now + ttl_left - self._origin) * 1e6).astype(np.int64)
        seqs = np.arange(self._seq + 1, self._seq + 1 + n, dtype=np.int64)
        self._leaked.extend(_combine(expiry_us, seqs, SEQ_BITS))
        heapq.heapify(self._leaked)
        self._seq += n
        self.acked.frombytes(bytes(4 * n))
        return Prefill(self, first_seq, self._seq - first_seq + 1,
                       array("I", np.maximum(1, (ttl_left * 1000).astype(np.int64)).astype(np.uint32).tobytes()), now)

    def _add_active(self, now: float, end: np.ndarray, remaining: np.ndarray, first: np.ndarray, leaked: bool) -> None:
        """Append ``len(end)`` active sessions (numbered on from ``_seq``) to the tables and the heap."""
        n = len(end)
        if n == 0:
            return
        base = len(self._seqs)
        self._check_slots(base + n)
        self._seqs.frombytes(np.arange(self._seq + 1, self._seq + 1 + n, dtype=np.uint32).tobytes())
        self._ends.frombytes(end.astype(np.float64).tobytes())
        self._lasts.frombytes(np.full(n, now, dtype=np.float64).tobytes())
        self._remaining.frombytes(remaining.astype(np.uint32).tobytes())
        self._versions.frombytes(np.ones(n, dtype=np.uint32).tobytes())
        self._leaks.extend(bytes([leaked]) * n)
        self.acked.frombytes(bytes(4 * n))
        self._seq += n
        self.active += n
        due_us = np.rint((first - self._origin) * 1e6).astype(np.int64)
        self._heap.extend(_combine(due_us, np.arange(base, base + n, dtype=np.int64), SLOT_BITS))
        heapq.heapify(self._heap)

    def next_due(self) -> float:
        """Time of the next operation, arrival, cleaning or expiry of a leaked session (inf: nothing left)."""
        due = self._next_arrival if self._next_arrival < self._next_cleanup else self._next_cleanup
        if self._heap:
            top = self._origin + (self._heap[0] >> SLOT_BITS) * 1e-6
            if top < due:
                due = top
        if self._leaked:
            expiry = self._origin + (self._leaked[0] >> SEQ_BITS) * 1e-6
            if expiry < due:
                due = expiry
        return due

    def abandon(self, now: float) -> tuple[int, float]:
        """The whole pair is gone (primary and backup): no more arrivals, updates or deletes; every live
        session stays in Redis until its TTL, counted from its last write. Returns (sessions left, the
        time the last of them expires)."""
        for key in self._heap:
            slot = key & SLOT_MASK
            self._leak(self._lasts[slot] + self._ttl_s, self._seqs[slot])
        self._heap.clear()
        for column in (self._seqs, self._ends, self._lasts, self._remaining, self._versions, self._leaks, self._free):
            del column[:]
        self.active = 0
        self._next_arrival = self._next_cleanup = math.inf
        return len(self._leaked), max((self._time(k, SEQ_BITS) for k in self._leaked), default=now)

    def pop_due(self, now: float) -> list[Op]:
        """Every operation due at or before ``now``, in due order.

        Called on every wake-up of the pair's scheduler, mostly for one operation or none: what a call costs
        before its first operation counts as much as the operations (a list, not a generator; the slot tables
        are looked up only for a session's operation)."""
        out: list[Op] = []
        heap, origin = self._heap, self._origin
        if self._leaked and origin + (self._leaked[0] >> SEQ_BITS) * 1e-6 <= now:
            self.expire(now)
        while True:
            arrival, cleanup = self._next_arrival, self._next_cleanup
            top_due = origin + (heap[0] >> SLOT_BITS) * 1e-6 if heap else math.inf
            if arrival <= top_due and arrival <= cleanup:
                if arrival > now:
                    return out
                self._arrive(arrival, out)
            elif cleanup <= top_due:
                if cleanup > now:
                    return out
                self._next_cleanup = cleanup + self._cleanup_period
                out.append(Op(cleanup, CLEANUP, session_prefix(self.node_id), 0, 0))
            elif top_due > now:
                return out
            else:
                self._session_due(top_due, heap[0] & SLOT_MASK, out)

    def _arrive(self, t: float, out: list[Op]) -> None:
        """A call arrives at ``t``: a new session unless it is digital; the next arrival is drawn."""
        p, rng = self.params, self.rng
        self._next_arrival = t + rng.expovariate(p.cps_per_pair)
        self.arrivals += 1
        if rng.random() < p.digital_share:
            self.digital += 1  # digital: counted, never persisted (vendor)
            return
        mean, leak = self._lifetime_class()
        out.append(self._start_session(t, t + rng.expovariate(1.0 / mean), leaked=leak))

    def _session_due(self, due: float, slot: int, out: list[Op]) -> None:
        """The session on top of the heap is due: its next update, or its end (a delete, or a leak)."""
        seq, remaining, end = self._seqs[slot], self._remaining[slot], self._ends[slot]
        if remaining > 0 and due < end:
            remaining -= 1
            version = self._versions[slot] + 1
            self._remaining[slot], self._versions[slot], self._lasts[slot] = remaining, version, due
            heapq.heapreplace(self._heap, round((self._next_update(due, end, remaining) - self._origin) * 1e6)
                              << SLOT_BITS | slot)
            records = self._records
            # positional (record, ttl_ms, seq, version), as _start_session's
            out.append(Op(due, UPDATE, self.sid(seq), self._session_size(), self._timer_size(),
                          self.rng.randrange(records) if records > 1 else -1, 0, seq, version))
            return
        heapq.heappop(self._heap)
        self._free.append(slot)
        self.active -= 1
        if self._leaks[slot]:  # nobody deletes it: it lives in Redis until its TTL from the last write
            self._leak(self._lasts[slot] + self._ttl_s, seq)
        else:
            out.append(Op(due, DELETE, self.sid(seq), 0, 0, -1, 0, seq))

    def expire(self, now: float) -> None:
        """Forget the leaked sessions whose TTL has expired in Redis by ``now``."""
        leaked, limit = self._leaked, (math.floor((now - self._origin) * 1e6) + 1) << SEQ_BITS
        while leaked and leaked[0] < limit:
            heapq.heappop(leaked)
            self.expired += 1

    def live_seqs(self) -> list[int]:
        """Numbers of the sessions alive in Redis (see ``sessions``)."""
        seqs = self._seqs
        return [seqs[key & SLOT_MASK] for key in self._heap] + [key & SEQ_MASK for key in self._leaked]

    def sessions(self, created: int | None = None) -> list[str]:
        """Ids of the sessions alive in Redis (for recovery checks and the cleanup at the end of a test); with
        ``created``, only those among the first ``created`` sessions (``len(acked)`` taken at some moment: the
        sessions that existed then, e.g. the ones an old primary owned at a switchover)."""
        seqs = self.live_seqs()
        return [self.sid(seq) for seq in seqs if created is None or seq <= created]

    def sid(self, seq: int) -> str:
        """The id of this pair's session number ``seq`` (1 = its first) in this run: ``session_id``'s."""
        return self._sid_prefix + _seq_digits(self.id_base + seq)

    def seq_of(self, sid: str) -> int:
        """The session number (1 = the first) of one of this pair's ids in this run (``sid``'s inverse)."""
        return (int(sid.rsplit("-", 1)[1]) - self.id_base) % SEQ_SPACE


def _combine(high: np.ndarray, low: np.ndarray, bits: int) -> Iterator[int]:
    """Python ints ``high << bits | low``, chunk by chunk (numpy's uint64 where they fit, which is 3x faster:
    10 M in 0.8 s against 2.7 s; Python's ints beyond, e.g. sessions lasting months)."""
    fits = len(high) == 0 or int(high.max()) < 1 << (64 - bits)
    for start in range(0, len(high), PREFILL_CHUNK):
        h, lo = high[start:start + PREFILL_CHUNK], low[start:start + PREFILL_CHUNK]
        if fits:
            yield from ((h.astype(np.uint64) << np.uint64(bits)) | lo.astype(np.uint64)).tolist()
        else:
            yield from (a << bits | b for a, b in zip(h.tolist(), lo.tolist(), strict=True))


def preset(name: str) -> Complexity:
    try:
        return PRESETS[name]
    except KeyError:
        raise OptionsError(f"--complexity '{name}' unknown; use one of {', '.join(PRESETS)}") from None


def check_generator_capacity(live_sessions: float, record_bytes: float) -> None:
    """What one generator process can simulate (the plan has no such limits): OptionsError beyond."""
    if not math.isfinite(live_sessions) or live_sessions > MAX_LIVE_SESSIONS:
        raise OptionsError(f"this workload keeps {live_sessions:,.0f} sessions alive (calls/s x lifetime), more than "
                           f"the {MAX_LIVE_SESSIONS:,} one generator can hold; lower --cps-per-pair, --aht, the "
                           "lifetimes or the HA pairs, or spread the pairs over Locust workers")
    if record_bytes > MAX_MEAN_RECORD_BYTES:
        raise OptionsError(f"--record-bytes {record_bytes:,.0f}: the generator writes records up to "
                           f"{MAX_MEAN_RECORD_BYTES:,} B (1 MiB) on average; give a smaller size")
