"""Executing a fault schedule (``--fault``) during a test: Redis faults on the embedded cluster, ORS faults on
the HA pairs of this process. Every fault is recorded with the time it was due and the time it was done.

The schedule itself is pure (``loadsim.model.faults``); here gevent timers act on it. A Redis fault's target is
a master by its index in slot order at the moment of the fault (master 0 serves slot 0).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import gevent

from loadsim.embedded.cluster import EmbeddedCluster
from loadsim.errors import LoadsimError
from loadsim.model import faults as F

log = logging.getLogger("loadsim")


class FaultRunner:
    """Runs one test's faults; ``done`` holds one record per fault (see docs/results.md, ``faults``)."""

    def __init__(self, engine: Any, faults: tuple[F.Fault, ...], cluster: EmbeddedCluster | None):
        self.engine = engine
        self.faults = faults
        self.cluster = cluster
        self.done: list[dict[str, Any]] = []
        self._greenlets: list[gevent.Greenlet] = []

    def start(self) -> None:
        start = self.engine.start_perf
        for fault in self.faults:
            delay = max(0.0, start + fault.at_s - time.perf_counter())
            self._greenlets.append(gevent.spawn_later(delay, self._run, fault))

    def stop(self) -> None:
        """Cancel faults not yet due; a paused node is resumed (never left stopped after the test)."""
        gevent.killall([g for g in self._greenlets if not g.dead], block=False)
        for record in self.done:
            if record["action"] == "pause-master" and not record.get("resumed_s") and self.cluster is not None:
                try:
                    self.cluster.resume(record["node_index"])
                except OSError:
                    pass

    def _elapsed(self) -> float:
        return round(time.perf_counter() - self.engine.start_perf, 3)

    def _run(self, fault: F.Fault) -> None:
        record: dict[str, Any] = {**fault.as_dict(), "done_s": self._elapsed(), "result": "ok"}
        self.done.append(record)
        log.warning("fault at %.1f s: %s", record["done_s"], fault.text())
        try:
            if fault.on_redis:
                self._redis(fault, record)
            else:
                self._ors(fault, record)
        except (LoadsimError, OSError, IndexError) as exc:
            record["result"] = f"failed: {exc}"
            log.error("fault %s could not be done: %s", fault.text(), exc)

    def _redis(self, fault: F.Fault, record: dict[str, Any]) -> None:
        cluster = self.cluster
        assert cluster is not None  # checked before the test (check_targets)
        master = cluster.masters_in_slot_order()[fault.target]
        record.update(node=master.address, node_index=master.index)
        if fault.action == "kill-master":
            cluster.kill(master.index)
        elif fault.action == "restart-master":
            cluster.kill(master.index)
            cluster.restart(master.index)
            record["restarted_s"] = self._elapsed()
        elif fault.action == "pause-master":
            cluster.pause(master.index)
            gevent.sleep(fault.seconds)
            cluster.resume(master.index)
            record["resumed_s"] = self._elapsed()
        elif fault.action in ("failover", "kill-replica"):
            replicas = cluster.replicas_of(master)
            if not replicas:
                raise LoadsimError(f"master {fault.target} ({master.address}) has no replica now")
            record.update(replica=replicas[0].address, replica_index=replicas[0].index)
            if fault.action == "failover":
                cluster.failover(replicas[0])
            else:
                cluster.kill(replicas[0].index)

    def _ors(self, fault: F.Fault, record: dict[str, Any]) -> None:
        pairs = [p for p in self.engine.pairs if fault.target == F.ALL or p.pair.index == fault.target]
        if not pairs:
            raise LoadsimError(f"no HA pair {fault.target} in this process")
        record["pairs"] = [p.pair.index for p in pairs]
        if fault.action == "crash-pair":
            left = [p.crash_pair() for p in pairs]
            record["sessions_left"] = sum(x["sessions_left"] for x in left)
            record["last_expiry_s"] = max(x["last_expiry_s"] for x in left)
            return
        crash = fault.action == "crash-primary"
        # every pair at once, in parallel, as when all ORS nodes switch together (the connection storm)
        gevent.joinall([gevent.spawn(p.switchover, crash=crash) for p in pairs])
        record["recovered_s"] = self._elapsed()
