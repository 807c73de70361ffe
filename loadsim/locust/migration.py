"""The vendor's migration runbook as a scenario (``scenarios/migration.py``), step by step, each step reporting
what the document says should happen and what was observed.

Genesys, "Migrate to ORS with Redis Cluster" (ORS 8.1.4 Deployment Guide supplement,
https://docs.genesys.com/Documentation/OS/latest/DepSupplement/Migrate):

0. every ORS application runs with ``[persistence] type`` not redis (the runbook's preparation): no Redis
   traffic;
1. backups get ``type = redis``, are restarted and switched over to primary: "ORS sessions which were in
   progress, will not be restored" — new sessions are persisted to Redis;
2. monitor Redis CPU and memory;
3. the other applications (now backups) get ``type = redis`` and are switched over: "ORS sessions which were
   in progress, should be restored from Redis";
4. rollback: Redis persistence disabled for all applications, restart backups, switch over, restart the new
   backups: Redis traffic stops.

Each phase lasts ``--migration-step`` seconds; run the scenario for at least 5 steps (``-t``).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import gevent

log = logging.getLogger("loadsim")


class MigrationRunner:
    """Runs the runbook on the engine's HA pairs; ``steps`` holds one record per step (expected, observed, ok)."""

    def __init__(self, engine: Any, run: Any, step_s: float):
        self.engine = engine
        self.run = run
        self.step_s = step_s
        self.steps: list[dict[str, Any]] = []
        self._greenlet: gevent.Greenlet | None = None

    def start(self) -> None:
        self._greenlet = gevent.spawn(self._runbook)

    def stop(self) -> None:
        if self._greenlet is not None and not self._greenlet.dead:
            self._greenlet.kill(block=False)

    # ---------------------------------------------------------------- helpers
    def _commands(self) -> int:
        return self.engine.recorder.commands

    def _wait_until(self, phase: float) -> None:
        gevent.sleep(max(0.0, self.engine.start_perf + phase * self.step_s - time.perf_counter()))

    def _record(self, step: int, what: str, expected: str, observed: str, ok: bool) -> None:
        at = round(time.perf_counter() - self.engine.start_perf, 3)
        self.steps.append({"step": step, "at_s": at, "what": what, "expected": expected, "observed": observed,
                           "ok": ok})
        log.warning("migration step %d at %.1f s: %s: %s (expected: %s)%s", step, at, what, observed, expected,
                    "" if ok else " NOT AS DOCUMENTED")

    def _switch_all(self) -> list[dict[str, Any]]:
        pairs = list(self.engine.pairs)
        before = len(self.engine.recovery)
        gevent.joinall([gevent.spawn(p.switchover) for p in pairs])
        return self.engine.recovery[before:]

    # ---------------------------------------------------------------- the runbook
    def _runbook(self) -> None:
        eng = self.engine
        start_cmds = self._commands()
        self._wait_until(1)
        traffic = self._commands() - start_cmds
        self._record(0, "every application with persistence type not redis", "no Redis traffic",
                     f"{traffic} Redis commands", traffic == 0)

        for p in eng.pairs:  # step 1: backups get type = redis (restarted), then switched over to primary
            p.backup.persists = True
        recovery = self._switch_all()
        expected = sum(r["expected"] for r in recovery)
        restored = sum(r["recovered"] for r in recovery)
        self._record(1, "backups set to redis and switched over",
                     "sessions in progress are not restored (routing may fail for those calls)",
                     f"{restored} of {expected} sessions in progress restored", restored == 0 and expected > 0)
        mark = self._commands()
        self._wait_until(2)
        written = self._commands() - mark
        self._record(1, "new primaries serialise to Redis", "new sessions are persisted",
                     f"{written} Redis commands in the step", written > 0)

        rows = self.run.node_rows if self.run is not None else []
        up = [r for r in rows if r.get("role") == "master" and r.get("state", "up") == "up"]
        last: dict[str, Any] = {}
        before: dict[str, Any] = {}
        for r in up:
            before[r["node"]] = last.get(r["node"], r)
            last[r["node"]] = r
        memory = sum(float(r.get("used_memory") or 0) for r in last.values())
        cpu = [100 * _cpu_s(last[n], before[n]) / max(1e-9, float(last[n]["elapsed_s"]) - float(before[n]["elapsed_s"]))
               for n in last if last[n] is not before[n]]
        self._record(2, "monitor Redis CPU and memory", "the masters answer; memory and CPU known",
                     f"{len(last)} masters, used_memory {memory / 2**20:.1f} MiB, busiest CPU "
                     f"{max(cpu, default=0.0):.1f} %", bool(last))

        for p in eng.pairs:  # step 3: the other applications (now backups) get type = redis, switched over
            p.backup.persists = True
        self._wait_until(3)
        recovery = self._switch_all()
        expected = sum(r["expected"] for r in recovery)
        restored = sum(r["recovered"] for r in recovery)
        lost = sum(r["lost_written"] for r in recovery)
        never = sum(r["lost_never_written"] for r in recovery)
        self._record(3, "the other applications set to redis and switched over",
                     "sessions in progress are restored from Redis",
                     f"{restored} of {expected} restored, {lost} written but not found, {never} never in Redis "
                     "(created before step 1, or not yet acknowledged)", lost == 0 and restored > 0)

        self._wait_until(4)  # rollback: Redis persistence disabled for every application
        for p in eng.pairs:
            p.backup.persists = False
        self._switch_all()
        for p in eng.pairs:
            p.backup.persists = False  # the new backups restart with persistence disabled too
        gevent.sleep(1.0)  # operations already taken by the old primaries' workers finish
        mark = self._commands()
        self._wait_until(5)
        traffic = self._commands() - mark
        self._record(4, "rollback: Redis persistence disabled, switched over", "Redis traffic stops",
                     f"{traffic} Redis commands after the rollback", traffic == 0)


def _cpu_s(row: dict[str, Any], earlier: dict[str, Any]) -> float:
    """Server CPU seconds (sys + user) between two node samples."""
    return sum(float(row.get(k) or 0) - float(earlier.get(k) or 0) for k in ("used_cpu_sys", "used_cpu_user"))
