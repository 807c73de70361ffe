"""Locust glue: one Locust User = one ORS HA pair. A scenario file is a few lines::

    from loadsim.locust.users import HaPairUser, scenario

    class HaPair(HaPairUser):
        pass

    scenario("ha9", ha_pairs=9, masters=3)

``scenario`` declares the name, the HA pairs (Locust ``-u`` default) and simulation defaults, and wires
loadsim into Locust's start-up (``loadsim.locust.plugin``). Everything a test needs lives on the Locust
``Environment`` (``environment.loadsim``): a user reaches the engine through ``self.environment``.
"""

from __future__ import annotations

import time
from typing import Any

import gevent
import gevent.event
from locust import User, task

from loadsim.locust.engine import OrsNode, Recovery, find_sessions
from loadsim.locust.plugin import Scenario, engine_of
from loadsim.model import workload as wl

__all__ = ["HaPairUser", "scenario"]


def scenario(name: str, ha_pairs: int = 9, **defaults: Any) -> Scenario:
    """Declare a scenario: its name, HA pairs (Locust ``-u`` default) and simulation defaults (any
    simulation option by its dest name, e.g. ``masters=3, cps_per_pair=5``). Call it once per locustfile."""
    spec = Scenario.declare(name, ha_pairs, defaults)
    spec.register_with_locust()
    return spec


class HaPairUser(User):
    """One ORS HA pair. Subclass it in a scenario file (see module docstring)."""

    abstract = True
    # Locust's form asks for a "Host" (HTTP users need one); an HA pair talks to the Redis Cluster of
    # the redis-nodes option (or the embedded one), so the field says that instead of warning it is unset.
    host = "not used: Redis nodes come from redis-nodes (empty = embedded cluster)"

    def __init__(self, environment: Any):
        super().__init__(environment)
        self.schedule: wl.PairSchedule | None = None
        self.primary: OrsNode | None = None
        self.backup: OrsNode | None = None

    def on_start(self) -> None:
        eng = engine_of(self.environment)
        self.pair = eng.next_pair()
        self.primary = OrsNode(eng, self.pair.primary_dbid, self.pair.node_id)
        self.backup = OrsNode(eng, self.pair.backup_dbid, self.pair.node_id)
        if eng.settings.migrating:
            # the migration runbook starts with every application's persistence type not redis
            self.primary.persists = self.backup.persists = False
        if self.primary.persists:
            self.primary.connect()
            self.backup.connect()  # warm standby: sends nothing (lazy pool: holds no connection either)
        now = time.perf_counter()
        self.schedule = wl.PairSchedule(eng.pair_params(self.pair), self.pair, now, id_base=eng.id_base)
        self.primary.acked = self.backup.acked = self.schedule.acked
        made = 0
        if eng.params.prefill:
            # the sessions already in progress join the schedule; their creates are made as the workers take
            # them (with another persistence type than redis, none is made)
            creates = self.schedule.prefill(now)
            if self.primary.persists and len(creates):
                made = len(creates)
                eng.recorder.due += made  # each is then sent (ok or failed) or never sent
                self.primary.prefill, self.primary.prefill_left = iter(creates), made
        eng.add_pair(self, made)
        if self.primary.persists:
            self.primary.start()

    def on_stop(self) -> None:
        eng = engine_of(self.environment)
        eng.unschedule_pair(self)  # first: nothing of this pair is released while its nodes stop
        for node in (self.primary, self.backup):
            if node is not None:
                node.stop()
        eng.flush_stats(time.perf_counter())  # before Locust's final statistics

    @task
    def run_pair(self) -> None:
        """Hand this pair's open-loop schedule to the process's scheduler (``loadsim.locust.scheduler``: one
        wake-up releases every pair's due operations), then wait for Locust to stop this user (``on_stop``)."""
        engine_of(self.environment).schedule_pair(self)
        gevent.event.Event().wait()  # never set: Locust kills this greenlet to stop the user

    def crash_pair(self) -> dict[str, Any]:
        """Primary and backup both die: nobody deletes this pair's sessions, which live until their TTL."""
        eng = engine_of(self.environment)
        assert self.schedule is not None and self.primary and self.backup
        dropped = self.primary.stop(grace_s=0.0) if self.primary.working else 0
        self.backup.stop(grace_s=0.0)
        now = time.perf_counter()
        left, last_expiry = self.schedule.abandon(now)
        return {"pair": self.pair.index, "sessions_left": left, "dropped_operations": dropped,
                "last_expiry_s": round(last_expiry - eng.start_perf, 3)}

    def switchover(self, crash: bool = False) -> None:
        """The primary stops; the backup becomes primary and restores the sessions it owns. With ``crash``
        the primary dies at once: operations in flight are cut off and its queue is lost (no graceful stop).

        As in ORS, the new primary's worker threads restore the sessions in parallel while new calls keep
        arriving: the pair's scheduler goes on (it put this switchover in a greenlet of its own), and the
        recovery operations share the new primary's queue with them. Returns when every session found is
        restored; the recovery entry is in ``engine.recovery`` from the start and completed then."""
        eng = engine_of(self.environment)
        assert self.schedule is not None and self.primary and self.backup
        started = time.perf_counter()
        old, new = self.primary, self.backup
        self.primary, self.backup = new, old  # new operations go to the new primary's queue from now on
        # The sessions to recover are the old primary's: those created before this moment. The scheduler goes
        # on while the old primary stops (up to 5 s) and the new one scans, and the creates it makes meanwhile
        # wait in the new primary's queue, unwritten until the recovery starts it: they are the new primary's
        # own calls, neither lost nor dropped. Counting them (the live sessions after the stop) made a session
        # "lost, never written" with no dropped operation whenever an arrival fell in that window (seen under
        # load 8-13, where the stop and scan take longest).
        owned = len(self.schedule.acked)
        dropped = old.stop(grace_s=0.0 if crash else 5.0) if old.working or old.client else 0
        acked = self.schedule.acked
        # taken after the stop: a session of the old primary that ended meanwhile is no longer expected
        expected = self.schedule.sessions(created=owned)
        # never written: no write of it was ever acknowledged by Redis (its create was queued in or cut off with
        # the old primary, refused, or made by an application whose persistence type was not redis)
        never_written = {sid for sid in expected if not acked[self.schedule.seq_of(sid) - 1]}
        entry: dict[str, Any] = {
            "pair": self.pair.index, "node_id": self.pair.node_id, "from_dbid": old.dbid, "to_dbid": new.dbid,
            "crash": crash, "at_s": round(started - eng.start_perf, 3), "expected": len(expected), "found": 0,
            "recovered": 0, "lost": len(expected), "lost_never_written": 0, "lost_written": 0,
            "dropped_operations": dropped, "complete": False, "seconds": None}
        eng.add_recovery(entry)
        if not new.persists:
            # the new primary's persistence type is not redis: it restores nothing from Redis (its sessions
            # would come from Cassandra, or be lost); as the vendor's runbook says, in-progress sessions are not
            # restored from Redis
            if old.persists:
                old.connect()
            lost_unwritten = sum(1 for s in expected if s in never_written)
            entry.update(recovered=0, lost=len(expected), lost_never_written=lost_unwritten, lost_written=0,
                         not_restored_by_design=len(expected) - lost_unwritten, complete=True, seconds=0.0)
            return
        if not new.client:
            new.connect()  # it just became a redis application (restarted with type = redis)
        found = find_sessions(eng, new) or []
        entry["found"] = len(found)
        entry["scan_seconds"] = round(time.perf_counter() - started, 3)
        state = new.recovery = Recovery(len(found))
        opened = -sum(w.opened for w in new.workers)  # connections the takeover opens (lazy pools: on first use)
        new.start()
        eng.recorder.due += len(found)
        for sid in found:
            # a session of an earlier run under the same node id (its numbers are not this run's) has no
            # acknowledged version here: seq 0
            seq = self.schedule.seq_of(sid)
            new.submit(wl.Op(time.perf_counter(), wl.RECOVER, sid, 0, 0, seq=seq if seq <= len(acked) else 0))
        if old.persists:
            old.connect()  # the old primary comes back as the backup (warm standby)
        state.done.wait()
        opened += sum(w.opened for w in new.workers) + sum(w.opened for w in old.workers)
        recovered = state.recovered & set(expected)
        lost = [s for s in expected if s not in recovered]
        # A session whose create was still queued in (or cut off with) the old primary, or whose create Redis
        # refused, was never in Redis: lost as ORS would lose it. A session that was written and is not found
        # is data loss.
        lost_unwritten = sum(1 for s in lost if s in never_written)
        entry.update(recovered=len(recovered), restored=len(state.recovered), lost=len(lost),
                     lost_never_written=lost_unwritten, lost_written=len(lost) - lost_unwritten,
                     recover_failed=state.failed, read_back=dict(state.verdicts), complete=True,
                     connections_opened=opened, seconds=round((state.finished or time.perf_counter()) - started, 3))
