"""What one live session of a pair's workload costs Redis: bytes and commands, by where they land (pure).

It puts the workload model (``loadsim.model.workload``: records, sizes, layout, TTL, lifetimes) together with
the Redis-internals memory model (``loadsim.model.memory``), so ``loadsim plan`` computes memory from the
sessions loadsim actually simulates instead of a per-session constant measured on one preset.

Where a cost lands depends on the key layout (``PLACEMENTS``):

* ``spread``: a per-session key, hashed over all 16384 slots, so shared evenly by the masters;
* ``pair``: in the HA pair's own slot (node-tag layout: the node id is the hash tag);
* ``hot``: in the one slot of ``ORS:<cluster>`` (single-hash: everything; index: the index).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from statistics import NormalDist

from loadsim.model import memory as mm
from loadsim.model import workload as wl

# Per-connection memory (measured here: CLIENT LIST tot-mem and INFO mem_clients_normal on Redis 7.0.15 during
# runs of each preset, 72 ORS connections per master): a connection that never sent a command (the warm
# backup's) holds 1,800 B; one that works holds also its query buffer, 20,480 B (PROTO_IOBUF_LEN 16 KiB in its
# jemalloc class) while commands stay below 16 KiB, growing with bigger values: 41.8 KB average for the complex
# preset (16 KB mean record), i.e. about 2.5 x the mean record.
CLIENT_BYTES = 1800
QUERY_BUFFER_MIN = 20480
QUERY_BUFFER_PER_RECORD = 2.5
# used_memory of an empty master with no clients: 1.82 MB (measured here: embedded cluster, Redis 7.0.15;
# INFO used_memory_startup 1.60 MB + the cluster's own structures)
EMPTY_MASTER_BYTES = 1.82e6

SPREAD, PAIR, HOT = "spread", "pair", "hot"
PLACEMENTS = (SPREAD, PAIR, HOT)
SIZE_QUANTILES = 64  # points of the session-size distribution the memory model is averaged over
SID_LENGTH = len(wl.session_id(1, 1))  # "001-0000000001": node ids below 1000


@dataclass(frozen=True)
class Footprint:
    """Costs of one pair's workload. Bytes exclude the dicts' bucket arrays, which depend on the key
    count of each master (``buckets_bytes``)."""

    bytes_per_session: dict[str, float]  # by placement: values, keys, dict entries (no bucket arrays)
    keys_per_session: dict[str, float]  # top-level keys by placement
    ttl_keys_per_session: dict[str, float]  # of which with a TTL
    hash_fields_per_session: float  # fields of the big hash (hot placement), for its bucket array
    commands_per_s: dict[str, float]  # Redis commands per second of ONE pair, by placement
    live_sessions: float  # of one pair (Little's law)
    ops_per_s: float  # persistence operations per second of one pair (cleaning included)
    stale_index_entries: float  # index entries of expired sessions still waiting for the cleaning, one pair
    stale_index_per_s: float  # index entries left behind per second by leaked sessions, one pair

    @property
    def bytes_per_live_session(self) -> float:
        """All placements together (no bucket arrays)."""
        return sum(self.bytes_per_session.values())

    @property
    def commands_per_op(self) -> float:
        return sum(self.commands_per_s.values()) / self.ops_per_s if self.ops_per_s else 0.0


def _size_points(c: wl.Complexity) -> list[tuple[int, float]]:
    """(bytes of one data record, weight) over the session-size distribution, as the schedule draws it."""
    if c.size_histogram:
        total = sum(w for _, w in c.size_histogram)
        points = [(b, w / total) for b, w in c.size_histogram]
    elif c.record_sigma == 0:
        points = [(c.record_bytes, 1.0)]
    else:
        mu = math.log(c.record_bytes) - c.record_sigma ** 2 / 2
        normal = NormalDist(mu, c.record_sigma)
        points = [(max(16, int(math.exp(normal.inv_cdf((i + 0.5) / SIZE_QUANTILES)))), 1.0 / SIZE_QUANTILES)
                  for i in range(SIZE_QUANTILES)]
    return [(max(1, b // c.records) if c.records > 1 else b, w) for b, w in points]


def placement(layout: wl.KeyLayout, key: str) -> str:
    """Where a command routed on ``key`` lands: the one slot of ``ORS:<cluster>`` (the single hash or the
    index), the HA pair's slot (node-tag), or any slot (per-session keys)."""
    if key == layout.hash_key:
        return HOT
    return PAIR if layout.name == "node-tag" else SPREAD


def commands_per_op(layout: wl.KeyLayout, kind: str, records: int = 1, timers: bool = False) -> dict[str, int]:
    """Redis commands of one persistence operation, by placement, counted on the very list
    ``workload.commands_for`` sends (so the footprint cannot drift from the generator). An update writes one
    data record; ``timers``: the operation also rewrites the scheduled-actions record."""
    sid = wl.session_id(1, 1)
    writes = kind != wl.DELETE
    record = 0 if kind == wl.UPDATE and records > 1 else -1
    counts = dict.fromkeys(PLACEMENTS, 0)
    for cmd in wl.commands_for(layout, kind, sid, 4, b"s" if writes else None, b"t" if writes and timers else None,
                               1, records, record):
        counts[placement(layout, str(cmd[1]))] += 1
    return counts


def operation_variants(layout: wl.KeyLayout, c: wl.Complexity, leaked_share: float = 0.0
                       ) -> dict[str, tuple[tuple[int, float], ...]]:
    """Every persistence operation ORS sends for sessions of complexity ``c``, as its variants: (Redis commands,
    share of the operation), counted on the lists ``workload.commands_for`` sends. A create writes the timers record
    when sessions have one (every create: a new session schedules its timeouts); an update writes one data record,
    ``timer_share`` of them also the timers record; a delete (unless every session leaks); the recovery after a
    switchover (read the records back, write the new owner). The one list sizing's latency reads (each operation at
    its most commands: ``sizing.operation_commands``) and a run's latency split reads (the variant at each
    percentile: ``commands_at``)."""
    timers = c.timer_bytes > 0
    share = c.timer_share if timers else 0.0

    def n(kind: str, with_timers: bool = False) -> int:
        return sum(commands_per_op(layout, kind, c.records, with_timers).values())

    out = {wl.CREATE: ((n(wl.CREATE, timers), 1.0),)}
    if c.updates_per_session > 0:
        out[wl.UPDATE] = tuple((n(wl.UPDATE, t), w) for t, w in ((True, share), (False, 1.0 - share)) if w > 0)
    if leaked_share < 1.0:
        out[wl.DELETE] = ((n(wl.DELETE), 1.0),)
    out[wl.RECOVER] = ((len(wl.recovery_commands(layout, wl.session_id(1, 1), 1, 1000, c.records)), 1.0),)
    return out


def commands_at(variants: tuple[tuple[int, float], ...], q: float) -> int:
    """The commands of an operation at quantile ``q`` of its variants, fewest commands first (more round trips are
    slower): an update of which 30 % also rewrite the timers record is 1 command at p50 and 2 at p99."""
    ordered = sorted(variants)
    total = sum(w for _, w in ordered)
    cum = 0.0
    for k, w in ordered:
        cum += w / total
        if cum >= q - 1e-9:
            return k
    return ordered[-1][0]


def commands_per_session(p: wl.WorkloadParams) -> dict[str, float]:
    """Redis commands of one session's life, by placement: its create (which writes the timers record when
    there is one), its mean number of updates (``timer_share`` of them also rewrite the timers record), and its
    delete unless it leaked. The index's cleaning is per pair, not per session (see ``footprint``)."""
    c = p.complexity
    layout = wl.KeyLayout(p.key_layout, p.ors_cluster_name)
    timers = c.timer_bytes > 0
    share = c.timer_share if timers else 0.0
    u = c.updates_per_session
    mix = ((wl.CREATE, 1.0, timers), (wl.UPDATE, u * share, True), (wl.UPDATE, u * (1.0 - share), False),
           (wl.DELETE, 1.0 - p.leaked_share, False))
    out = dict.fromkeys(PLACEMENTS, 0.0)
    for kind, weight, with_timers in mix:
        if weight:
            for where, n in commands_per_op(layout, kind, c.records, with_timers).items():
                out[where] += weight * n
    return out


@functools.lru_cache(maxsize=4096)
def footprint(p: wl.WorkloadParams, version: tuple[int, int] = (7, 0), allocator: str = "jemalloc") -> Footprint:
    """Costs of one pair running ``p`` (MemoryModelError for an allocator without constants)."""
    c = p.complexity
    layout = wl.KeyLayout(p.key_layout, p.ors_cluster_name)
    sid = "0" * SID_LENGTH
    points = _size_points(c)
    records = wl.record_names(c.records)
    timers = c.timer_bytes > 0
    by = dict.fromkeys(PLACEMENTS, 0.0)
    keys = dict.fromkeys(PLACEMENTS, 0.0)
    ttl_keys = dict.fromkeys(PLACEMENTS, 0.0)
    fields = 0.0

    def string_key(where: str, record: str, value_bytes: float) -> None:
        by[where] += value_bytes + mm.top_level_key_bytes(len(layout.key(record, sid)), ttl=True, version=version,
                                                          allocator=allocator)
        keys[where] += 1
        ttl_keys[where] += 1

    def hash_field(field_length: int, value_bytes: float) -> None:
        # a field of a big hashtable-encoded hash: dictEntry (no cluster metadata) + field sds + value sds
        nonlocal fields
        by[HOT] += mm.alloc(mm.DICT_ENTRY, allocator) + mm.sds_bytes(field_length, allocator) + value_bytes
        fields += 1

    owner = str(2 * 1 + 2)  # an application DBID: a small integer
    if layout.name == "single-hash":
        for r in records:
            hash_field(len(layout.key(r, sid)), sum(w * mm.sds_bytes(b, allocator) for b, w in points))
        if timers:
            hash_field(len(layout.key("timers", sid)), mm.sds_bytes(c.timer_bytes, allocator))
        hash_field(len(layout.key("owner", sid)), mm.sds_bytes(len(owner), allocator))
    else:
        where = PAIR if layout.name == "node-tag" else SPREAD
        for r in records:
            string_key(where, r, sum(w * mm.string_value_bytes(b, allocator) for b, w in points))
        if timers:
            string_key(where, "timers", mm.string_value_bytes(c.timer_bytes, allocator))
        if layout.has_index:
            hash_field(SID_LENGTH, mm.sds_bytes(len(owner), allocator))
        else:
            string_key(where, "owner", mm.string_value_bytes(len(owner), allocator, text=owner))

    per_session = commands_per_session(p)
    sessions_per_s = p.voice_cps_per_pair  # of this one pair
    commands = {k: v * sessions_per_s for k, v in per_session.items()}
    live = wl.littles_law(sessions_per_s, p.mean_lifetime_s)
    ops = sessions_per_s * p.writes_per_session
    stale_per_s = sessions_per_s * p.leaked_share if layout.has_index else 0.0
    stale = 0.0
    if layout.has_index and p.cleanup_period_s > 0:
        # each cleaning examines cleanup_batch entries of this pair's index: a full pass takes
        # period x entries / batch; an expired entry waits half a pass on average
        entries = live + stale_per_s * p.cleanup_period_s
        passes_s = p.cleanup_period_s * max(1.0, entries / p.cleanup_batch)
        stale = stale_per_s * passes_s / 2
        examined = min(float(p.cleanup_batch), entries)
        commands[HOT] += 2 / p.cleanup_period_s  # HSCAN + HDEL
        commands[SPREAD] += examined / p.cleanup_period_s  # EXISTS per entry examined
        ops += 1 / p.cleanup_period_s
    if stale and live:
        # stale index entries cost like live ones
        by[HOT] += stale / live * (mm.alloc(mm.DICT_ENTRY, allocator) + mm.sds_bytes(SID_LENGTH, allocator)
                                   + mm.sds_bytes(len(owner), allocator))
        fields += stale / live
    return Footprint(by, keys, ttl_keys, fields, commands, live, ops, stale, stale_per_s)


def buckets_bytes(keys: float, ttl_keys: float, hash_fields: float = 0.0) -> float:
    """Bucket arrays on one master: main and expires dicts of its keys, plus the big hash's own dict."""
    return mm.keyspace_bytes(int(keys), int(ttl_keys)) + (mm.dict_buckets_bytes(int(hash_fields)) if hash_fields
                                                          else 0)


def connection_bytes(p: wl.WorkloadParams, active: bool, allocator: str = "jemalloc") -> float:
    """Memory one ORS connection holds on a master: the client, plus the query buffer once it has sent
    commands (see CLIENT_BYTES)."""
    if not active:
        return CLIENT_BYTES
    record = p.complexity.record_bytes / p.complexity.records
    return CLIENT_BYTES + max(QUERY_BUFFER_MIN, mm.alloc(int(QUERY_BUFFER_PER_RECORD * record), allocator))
