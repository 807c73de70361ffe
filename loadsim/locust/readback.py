"""The read-back after a test: what Redis holds for every session the generator believes live, against the last
write Redis acknowledged, and, as carefully, what could not be read and why.

Every live session lands in exactly one bucket:

* ``never_acknowledged``: its create was refused, cut off or still queued (ORS would lose it too);
* ``checked``: read back, then ``current``, ``stale`` (an acknowledged write lost), ``ahead`` (applied, reply
  lost), ``missing`` or ``corrupt`` (``loadsim.model.records.check``);
* ``unreadable``: the read failed, by error kind in ``unreadable_why``; of those, ``lost_with_dead_master`` are
  on a master that refuses connections at the end (its process is gone and no replica took its slots: with no
  replica, or AOF off, their data went with it); ``masters_down`` says, per master, what it did, and
  ``masters_down_codes`` the same as a run-class fault code (``loadsim.model.runclass``): dead, stopped (silent on
  the cluster bus too), paused (answers the bus: CLIENT PAUSE), silent or busy.

``live = never_acknowledged + checked + unreadable`` (times ``sampled_every`` when a sample was read). When no
node serves the slot map at all (every master down) nothing is read and ``not_done`` says why.

The read-back's own client has bounded connect and reply timeouts (``READ_BACK_TIMEOUT_MS``, or the user's
shorter ones); every master gets one PING first (``PROBE_TIMEOUT_MS``) and the sessions of a dead or silent one
are not tried; a master that fails ``GIVE_UP_AFTER`` reads in a row is given up too. A dead or silent master
costs about a second, never the whole end of the run.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from loadsim.config.persistence import PersistenceOptions
from loadsim.errors import RedisConnectionError, RedisError
from loadsim.model import records, runclass
from loadsim.redis.client import ClusterClient, Connection, key_slot
from loadsim.redis.topology import parse_nodes

READ_BACK_LIMIT = 100_000  # sessions read back at most (a sample of every pair beyond): ~5 s at 50 µs per GET
READ_BACK_TIMEOUT_MS = 3000  # connect and reply timeout of the read-back's client (the load stopped: a GET is µs)
PROBE_TIMEOUT_MS = 1000  # a master's PING before and after the reads: one second says it is silent
GIVE_UP_AFTER = 3  # failures in a row on one master: its other sessions are counted unreadable, not tried


def _bounded(opts: PersistenceOptions, limit_ms: int = READ_BACK_TIMEOUT_MS) -> PersistenceOptions:
    """The options with connect and socket timeouts of at most ``limit_ms`` (ORS's default is none)."""
    def bound(ms: int) -> int:
        return min(ms, limit_ms) if ms > 0 else limit_ms

    return replace(opts, redis_connect_timeout=bound(opts.redis_connect_timeout),
                   redis_socket_timeout=bound(opts.redis_socket_timeout))


def empty(live: int = 0) -> dict[str, Any]:
    """A read-back with nothing counted yet (the shape every surface reads)."""
    return {"live": live, "checked": 0, "never_acknowledged": 0, **dict.fromkeys(records.VERDICTS, 0),
            "unreadable": 0, "unreadable_why": {}, "lost_with_dead_master": 0, "masters_down": {},
            "masters_down_codes": {}, "errors": 0}


def read_back(eng: Any, pairs: list[Any], limit: int = READ_BACK_LIMIT) -> dict[str, Any]:
    """Read back the session record of every session the pairs believe live (a sample above ``limit``) and
    classify each (module docstring). ``eng``: the Engine (options, key layout, recorder)."""
    layout = eng.layout
    now = time.perf_counter()
    for user in pairs:
        if user.schedule is not None:
            user.schedule.expire(now)
    todo = [(user.schedule, seq) for user in pairs if user.schedule is not None and user.primary.persists
            for seq in user.schedule.live_seqs()]
    step = max(1, -(-len(todo) // limit))
    out = empty(len(todo))
    out["sampled_every"] = step
    if not todo or not eng.opts.persists:
        return out
    sample = todo[::step]
    acked_sample = [(sched, seq, sched.acked[seq - 1]) for sched, seq in sample]
    out["never_acknowledged"] = sum(1 for _, _, acked in acked_sample if not acked)
    readable = [(sched, seq, acked) for sched, seq, acked in acked_sample if acked]
    why: Counter[str] = Counter()
    started = time.perf_counter()
    try:
        client = ClusterClient(_bounded(eng.opts), name="loadsim-readback")
    except RedisError as exc:
        # no node serves the slot map: every master (and seed) is down; nothing can be read
        why[exc.kind] += len(readable)
        # every master the run knew, each probed: which are dead (before: an empty masters_down with all 3 dead)
        down = _masters_down(eng.opts, eng.opts.ssl_context(), sorted(eng.known_masters), PROBE_TIMEOUT_MS)
        out.update(unreadable=len(readable), errors=len(readable), unreadable_why=dict(why),
                   not_done=f"no Redis node answered ({exc})", seconds=round(time.perf_counter() - started, 3),
                   masters_down={_text(a): what for a, (what, _, _) in down.items()},
                   masters_down_codes={_text(a): code for a, (_, _, code) in down.items()})
        if isinstance(exc, RedisConnectionError):
            out["lost_with_dead_master"] = len(readable)
        return out
    conn = client.worker()
    failed_on: Counter[Any] = Counter()  # unreadable sessions per master address
    in_a_row: Counter[Any] = Counter()
    # masters down before the first read (one PING each, PROBE_TIMEOUT_MS): their sessions are not tried, so a
    # silent master costs a second, not a timeout (and a slot-map reload against it) per session
    down = _masters_down(client.opts, client.tls, client.masters(), PROBE_TIMEOUT_MS)
    # a master down is given up under the kind of error its probe met: BUSY replies are filed as busy (before:
    # "other"), a refused connection as connection, no answer as timeout
    gave_up: dict[Any, str] = {a: kind for a, (_, kind, _) in down.items()}
    try:
        for sched, seq, acked in readable:
            sid = sched.sid(seq)
            key = layout.hash_key if layout.name == "single-hash" else layout.key("session", sid)
            address = client.slots[key_slot(key.encode())]
            if address in gave_up:
                why[gave_up[address]] += 1
                failed_on[address] += 1
                continue
            try:
                if layout.name == "single-hash":
                    value = conn.execute(key, "HGET", key, layout.key("session", sid))
                else:
                    value = conn.execute(key, "GET", key)
            except RedisError as exc:
                why[exc.kind] += 1
                failed_on[address] += 1
                in_a_row[address] += 1
                if in_a_row[address] >= GIVE_UP_AFTER:
                    gave_up[address] = exc.kind
                continue
            in_a_row[address] = 0
            out["checked"] += 1
            out[records.check(sid, value, acked)] += 1
        down.update(_masters_down(client.opts, client.tls, [a for a in failed_on if a not in down],
                                  PROBE_TIMEOUT_MS))
    finally:
        eng.recorder.count_commands(conn.commands_ok)  # Redis counts these GETs too (the server cross-check)
        conn.close()
        client.close()
    unreadable = sum(failed_on.values())
    out.update(unreadable=unreadable, errors=unreadable, unreadable_why=dict(why),
               masters_down={_text(a): what for a, (what, _, _) in down.items()},
               masters_down_codes={_text(a): code for a, (_, _, code) in down.items()},
               lost_with_dead_master=sum(n for a, n in failed_on.items() if a in down and down[a][0] == DEAD))
    if gave_up:
        out["gave_up_on"] = sorted(f"{a[0]}:{a[1]}" for a in gave_up if failed_on[a])
    out["seconds"] = round(time.perf_counter() - started, 3)
    return out


DEAD = "refuses connections"
SILENT = "accepts connections but does not answer"
STOPPED = "accepts connections but answers neither its clients nor the cluster bus (a stopped process)"
PAUSED = "answers the cluster bus but not its clients (CLIENT PAUSE)"


def _text(address: Any) -> str:
    return f"{address[0]}:{address[1]}"


def _masters_down(opts: PersistenceOptions, tls: Any, addresses: Iterable[Any],
                  timeout_ms: int) -> dict[Any, tuple[str, str, str]]:
    """Of these masters, those that are down now, each as (what, the error kind its sessions are filed under, the
    run-class fault code): DEAD (connection refused: the process is gone), STOPPED or PAUSED (no answer within
    ``timeout_ms``; the other masters' view of the cluster bus tells a stopped process from CLIENT PAUSE), SILENT
    (no answer, and no other master to ask), or answering with errors (BUSY: a script past busy-reply-threshold).
    One PING each."""
    down: dict[Any, tuple[str, str, str]] = {}
    probe = _bounded(opts, timeout_ms)
    addresses = list(addresses)
    for address in addresses:
        try:
            conn = Connection(address, probe, tls)
        except RedisError as exc:
            down[address] = ((DEAD, exc.kind, runclass.MASTER_DEAD) if isinstance(exc, RedisConnectionError)
                             else (SILENT, exc.kind, runclass.MASTER_SILENT))
            continue
        try:
            conn.call("PING")
        except RedisError as exc:
            if exc.kind == "timeout":
                down[address] = (SILENT, exc.kind, runclass.MASTER_SILENT)
            else:
                down[address] = (f"answers with errors ({exc.kind})", exc.kind,
                                 runclass.MASTER_BUSY if exc.kind == "busy" else exc.kind)
        finally:
            conn.close()
    silent = [a for a, (what, _, _) in down.items() if what == SILENT]
    if silent:
        seen = _bus_view(probe, tls, [a for a in addresses if a not in down], silent)
        for a, stopped in seen.items():
            down[a] = ((STOPPED, "timeout", runclass.MASTER_STOPPED) if stopped
                       else (PAUSED, "timeout", runclass.MASTER_PAUSED))
    return down


def _bus_view(probe: PersistenceOptions, tls: Any, answering: list[Any], silent: list[Any]) -> dict[Any, bool]:
    """Per silent master, whether it is silent on the cluster bus too (True: a stopped or hung process) or answers
    it (False: it holds its clients, as CLIENT PAUSE does), as the first answering master's CLUSTER NODES says;
    masters it does not list are left out."""
    for address in answering:
        try:
            conn = Connection(address, probe, tls)
        except RedisError:
            continue
        try:
            reply = conn.call("CLUSTER", "NODES")
            now_ms = int(time.time() * 1000)
        except RedisError:
            continue
        finally:
            conn.close()
        text = reply.decode() if isinstance(reply, bytes) else str(reply)
        nodes = {(n.host, n.port): n for n in parse_nodes(text)}
        return {a: nodes[(a[0], int(a[1]))].bus_silent(now_ms) for a in silent if (a[0], int(a[1])) in nodes}
    return {}


def merge(parts: list[dict[str, Any]]) -> dict[str, Any] | None:
    """One read-back from the read-backs of several Locust workers (each read its own pairs' sessions)."""
    if not parts:
        return None
    out = empty()
    why: Counter[str] = Counter()
    for rb in parts:
        for k in ("live", "checked", "never_acknowledged", *records.VERDICTS, "unreadable", "lost_with_dead_master",
                  "errors"):
            out[k] += int(rb.get(k, 0))
        why.update(rb.get("unreadable_why", {}))
        out["masters_down"].update(rb.get("masters_down", {}))
        out["masters_down_codes"].update(rb.get("masters_down_codes", {}))
        if rb.get("not_done"):
            out["not_done"] = rb["not_done"]
    out["unreadable_why"] = dict(why)
    out["sampled_every"] = max(int(rb.get("sampled_every", 1)) for rb in parts)
    out["seconds"] = max(float(rb.get("seconds", 0.0)) for rb in parts)
    out["workers"] = len(parts)
    return out
