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
import math
import random
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from loadsim import defaults as D
from loadsim.errors import OptionsError

KEY_LAYOUTS = ("per-session", "single-hash", "node-tag")

CREATE, UPDATE, DELETE, RECOVER = "session.create", "session.update", "session.delete", "session.recover"
OPERATIONS = (CREATE, UPDATE, DELETE, RECOVER)


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

    def __post_init__(self) -> None:
        checks = [
            (self.ha_pairs >= 1, "--ha-pairs must be >= 1"),
            (self.cps_per_pair > 0, "--cps-per-pair must be > 0"),
            (self.aht_s > 0, "--aht must be > 0 seconds"),
            (self.session_ttl_s >= 1, "--session-ttl must be >= 1 second"),
            (0.0 <= self.digital_share <= 1.0, "--digital-share must be between 0 and 1"),
            (1 <= self.worker_threads <= 256, "--worker-threads must be 1..256"),
            (self.key_layout in KEY_LAYOUTS, f"--key-layout must be one of {', '.join(KEY_LAYOUTS)}"),
            (self.complexity.record_bytes >= 1, "--record-bytes must be >= 1"),
            (self.complexity.updates_per_session >= 0, "--updates-per-session must be >= 0"),
            (0.0 <= self.complexity.timer_share <= 1.0, "--timer-share must be between 0 and 1"),
        ]
        for ok, message in checks:
            if not ok:
                raise OptionsError(message)

    @property
    def voice_cps_per_pair(self) -> float:
        return voice_sessions_per_s(1, self.cps_per_pair, self.digital_share)

    @property
    def expected_live_sessions(self) -> float:
        """Little's law: persisted sessions alive at once, all pairs."""
        return littles_law(voice_sessions_per_s(self.ha_pairs, self.cps_per_pair, self.digital_share), self.aht_s)

    @property
    def expected_ops_per_s(self) -> float:
        """Persistence operations per second, all pairs (create + updates + delete per session)."""
        return (voice_sessions_per_s(self.ha_pairs, self.cps_per_pair, self.digital_share)
                * self.complexity.writes_per_session)

    def describe(self) -> dict[str, object]:
        d = asdict(self)
        d["complexity"] = asdict(self.complexity)
        d.update(writes_per_session=self.complexity.writes_per_session, record_bytes_mean=self.complexity.record_bytes,
                 expected_live_sessions=self.expected_live_sessions, expected_ops_per_s=self.expected_ops_per_s)
        return d


ASSUMPTIONS: dict[str, str] = {
    **D.labels(("cps_per_pair", "aht_s", "complexity", "session_ttl_s", "worker_threads", "key_layout",
                "digital_share")),
    "session_id": "assumption: sessionid-with-nodeid: ids start with the owning ORS node id (format assumed)",
}


# ---------------------------------------------------------------------------------------- HA pairs
@dataclass(frozen=True)
class HaPair:
    """An ORS HA pair: primary and warm-standby backup, each with its own ORS node id."""

    index: int  # 0-based

    @property
    def primary_node_id(self) -> int:
        return 2 * self.index + 1

    @property
    def backup_node_id(self) -> int:
        return 2 * self.index + 2


def session_id(node_id: int, seq: int) -> str:
    """Session id carrying the ORS node id (``sessionid-with-nodeid = true``); format assumed."""
    return f"{node_id:03d}-{seq:010d}"


def session_prefix(node_id: int) -> str:
    return f"{node_id:03d}-"


# ---------------------------------------------------------------------------------------- key layout
@dataclass(frozen=True)
class KeyLayout:
    """Where a session's records live.

    * ``per-session``: ``ORS:<c>:session:<sid>``, ``ORS:<c>:timers:<sid>``, ``ORS:<c>:owner:<sid>``
      — spread over all slots (assumed default).
    * ``single-hash``: the literal vendor text — one hash ``ORS:<c>`` with fields ``session:<sid>`` ...;
      one key = one slot = one master holds every session of the ORS cluster.
    * ``node-tag``: per-session keys with the ORS node id as hash tag, ``ORS:<c>:{<node>}:session:<sid>``;
      every session of one ORS node in one slot.
    """

    name: str
    cluster: str

    def __post_init__(self) -> None:
        if self.name not in KEY_LAYOUTS:
            raise OptionsError(f"key layout '{self.name}' unknown; use one of {', '.join(KEY_LAYOUTS)}")

    @property
    def hash_key(self) -> str:
        return f"ORS:{self.cluster}"

    def _tag(self, sid: str) -> str:
        return f"{{{sid.split('-', 1)[0]}}}:" if self.name == "node-tag" else ""

    def key(self, record: str, sid: str) -> str:
        """Key (per-session / node-tag) or hash field (single-hash) of a record: session|timers|owner."""
        if self.name == "single-hash":
            return f"{record}:{sid}"
        return f"ORS:{self.cluster}:{self._tag(sid)}{record}:{sid}"

    def scan_pattern(self, node_id: int) -> str:
        """Pattern matching the session records of one ORS node (SCAN / HSCAN MATCH)."""
        return self.key("session", session_prefix(node_id) + "*")

    def sid_from_key(self, key: str) -> str:
        return key.rsplit(":", 1)[1]


Command = tuple  # (b"SET", key, value, ...) — the routing key is always element 1


def commands_for(layout: KeyLayout, kind: str, sid: str, owner: int, session_bytes: bytes | None,
                 timer_bytes: bytes | None, ttl_ms: int) -> list[Command]:
    """Redis commands ORS sends for one persistence operation, in order.

    ``session_bytes``/``timer_bytes`` are the payloads (None = record not written this time). Every
    write carries the TTL. The routing key of each command is element 1.
    """
    ttl = str(ttl_ms)
    if layout.name == "single-hash":
        h = layout.hash_key
        if kind == DELETE:
            return [("HDEL", h, layout.key("session", sid), layout.key("timers", sid), layout.key("owner", sid))]
        fields: list[object] = []
        if session_bytes is not None:
            fields += [layout.key("session", sid), session_bytes]
        if timer_bytes is not None:
            fields += [layout.key("timers", sid), timer_bytes]
        if kind in (CREATE, RECOVER):
            fields += [layout.key("owner", sid), str(owner)]
        # Redis 7.0 has no per-field TTL: the TTL is on the whole hash, refreshed on every write.
        return [("HSET", h, *fields), ("PEXPIRE", h, ttl)]
    if kind == DELETE:
        return [("DEL", layout.key(r, sid)) for r in ("session", "timers", "owner")]
    cmds: list[Command] = []
    if session_bytes is not None:
        cmds.append(("SET", layout.key("session", sid), session_bytes, "PX", ttl))
    if timer_bytes is not None:
        cmds.append(("SET", layout.key("timers", sid), timer_bytes, "PX", ttl))
    if kind in (CREATE, RECOVER):
        cmds.append(("SET", layout.key("owner", sid), str(owner), "PX", ttl))
    return cmds


# ---------------------------------------------------------------------------------------- schedule
@dataclass(order=True)
class Op:
    """One due persistence operation of one session."""

    due: float
    kind: str = field(compare=False)
    sid: str = field(compare=False)
    session_size: int = field(compare=False)  # 0 = session record not written
    timer_size: int = field(compare=False)  # 0 = timers record not written


class PairSchedule:
    """The open-loop schedule of one HA pair's primary: Poisson arrivals, updates, deletes.

    Times are seconds on the caller's clock; the model never looks at a clock itself. Sessions are
    data (one heap entry each: ``(due, seq, remaining_updates, end)``), not greenlets, so a million
    live sessions fit in a few hundred MB.
    """

    def __init__(self, params: WorkloadParams, pair: HaPair, start: float, rng: random.Random | None = None):
        self.params = params
        self.pair = pair
        self.node_id = pair.primary_node_id
        self.rng = rng or random.Random(f"{params.seed}:{pair.index}")
        self._seq = 0
        # (due, seq, remaining updates, end, owner node id at creation)
        self._heap: list[tuple[float, int, int, float, int]] = []
        self.live = 0  # persisted sessions alive (created, not yet deleted)
        self.arrivals = 0
        self.digital = 0
        self._next_arrival = start + self.rng.expovariate(params.cps_per_pair)
        c = params.complexity
        # lognormal with the requested mean: mu = ln(mean) - sigma^2 / 2
        self._size_mu = math.log(c.record_bytes) - c.record_sigma ** 2 / 2

    # -- sizes
    def _session_size(self) -> int:
        c = self.params.complexity
        if c.record_sigma == 0:
            return c.record_bytes
        return max(16, int(self.rng.lognormvariate(self._size_mu, c.record_sigma)))

    def _timer_size(self) -> int:
        c = self.params.complexity
        return c.timer_bytes if self.rng.random() < c.timer_share else 0

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

    def _start_session(self, now: float, end: float, remaining: int | None = None) -> Op:
        self._seq += 1
        self.live += 1
        if remaining is None:
            remaining = self._updates()
        first = self._next_update(now, end, remaining)
        heapq.heappush(self._heap, (first, self._seq, remaining, end, self.node_id))
        # a new session always schedules actions (e.g. its timeouts): the timers record is written
        return Op(now, CREATE, session_id(self.node_id, self._seq), self._session_size(),
                  self.params.complexity.timer_bytes)

    def _next_update(self, now: float, end: float, remaining: int) -> float:
        """Next of ``remaining`` uniform update times in (now, end): the minimum of k uniforms."""
        if remaining <= 0:
            return end
        return now + (end - now) * (1.0 - self.rng.random() ** (1.0 / remaining))

    def prefill(self, now: float) -> list[Op]:
        """Creates for the calls already in progress at ``now`` (Little's law population).

        A call in progress is length-biased: its whole duration D is Gamma(2, AHT) for exponential
        handle times, it is a uniform fraction through, and only the updates that fall in its remaining
        part are still to come. So both the live population and the update rate start at steady state.
        """
        rng, aht = self.rng, self.params.aht_s
        ops = []
        for _ in range(_poisson(rng, self.params.voice_cps_per_pair * aht)):
            duration = rng.expovariate(1.0 / aht) + rng.expovariate(1.0 / aht)
            left = rng.random()  # share of the call still to come
            remaining = sum(1 for _ in range(self._updates()) if rng.random() < left)
            ops.append(self._start_session(now, now + left * duration, remaining))
        return ops

    def next_due(self) -> float:
        """Time of the next operation or arrival."""
        return min(self._next_arrival, self._heap[0][0]) if self._heap else self._next_arrival

    def pop_due(self, now: float) -> Iterator[Op]:
        """Yield every operation due at or before ``now``, in due order."""
        p = self.params
        heap = self._heap
        while True:
            if self._next_arrival <= now and (not heap or self._next_arrival <= heap[0][0]):
                t = self._next_arrival
                self._next_arrival = t + self.rng.expovariate(p.cps_per_pair)
                self.arrivals += 1
                if self.rng.random() < p.digital_share:
                    self.digital += 1  # digital: counted, never persisted (vendor)
                    continue
                op = self._start_session(t, t + self.rng.expovariate(1.0 / p.aht_s))
                yield op
                continue
            if not heap or heap[0][0] > now:
                return
            due, seq, remaining, end, node = heapq.heappop(heap)
            sid = session_id(node, seq)
            if remaining > 0 and due < end:
                heapq.heappush(heap, (self._next_update(due, end, remaining - 1), seq, remaining - 1, end, node))
                yield Op(due, UPDATE, sid, self._session_size(), self._timer_size())
            else:
                self.live -= 1
                yield Op(due, DELETE, sid, 0, 0)

    def sessions(self) -> list[str]:
        """Ids of the live sessions (for recovery checks)."""
        return [session_id(node, seq) for _, seq, _, _, node in self._heap]

    def take_over(self, new_node_id: int) -> None:
        """After a switchover the backup owns these sessions; ids keep the old node id (they are
        the same sessions), new sessions get the new node id."""
        self.node_id = new_node_id


def _poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 50:  # normal approximation; exact enough for population sizes
        return max(0, int(round(rng.gauss(mean, math.sqrt(mean)))))
    limit, k, p = math.exp(-mean), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def preset(name: str) -> Complexity:
    try:
        return PRESETS[name]
    except KeyError:
        raise OptionsError(f"--complexity '{name}' unknown; use one of {', '.join(PRESETS)}") from None
