"""The open-loop scheduler of one Locust process: it releases every HA pair's due operations from one wake-up.

Each HA pair is a Locust user (started and stopped by Locust, ``--processes N`` workers taking pairs w, w + N, ...),
but its user greenlet only registers the pair's schedule here (``Scheduler.add``) and waits for its stop. One
greenlet per process then sleeps until the earliest due operation of any pair, and releases what every pair has
due by then.

Why not one scheduler greenlet per pair (as before): each pair then woke once per operation, about one gevent timer,
two greenlet switches and a loop iteration each (~7.5 µs of CPU measured with py-spy at 5,000 operations/s over 10
pairs), and a run spread over Locust workers woke each process for its share of the events. Here the wake-ups per
second are bounded by the operations due, not multiplied by the pairs: with ``EARLY_S`` one wake-up releases what
every pair has due in the next millisecond (figures in the README's benchmark section).

What a pass does for one pair is what the pair's own loop did: the pair's switchover at ``--switchover-at`` (spawned
in a greenlet of its own, the pair's operations released after the next yield, to the new primary), the pair's
persistence type read at every pass (the migration runbook changes it), every release counted
(``rec.due``, ``schedule_lag``, ``offer``, ``not_measured``) and the successful operations flushed into Locust's
statistics every ``FLUSH_INTERVAL_S`` (``Engine.flush_stats``).
"""

from __future__ import annotations

import heapq
import itertools
import time
from typing import Protocol

import gevent
from gevent.hub import Waiter

from loadsim.model import workload as wl
from loadsim.results.recorder import Recorder

# gevent's epoll loop rounds every wait up to whole milliseconds, so a plain sleep wakes up to 1 ms late (measured:
# lag p50 380 us). Waking up to EARLY_S before the due time and releasing what is due by then keeps the schedule lag
# at the loop's own overhead; an operation released early is timed from its release (its start moved < 1 ms earlier
# on the model's timeline).
EARLY_S = 0.001
# A pass yields to the loop after the pair that takes it past this long, the other pairs' due operations in the next
# pass (right after the yield): behind schedule (a backlog of millions of operations: 10 M live sessions, or a host
# that stalled the process), one pass over every pair would hold Locust's greenlets and every reply waiting for as
# long as all the pairs' backlogs take, where a greenlet per pair yielded after each pair's. 2 ms is ~100 operations
# at ~20 us each (bench/release.py, busy host), the loop's own 1 ms timer resolution twice over.
MAX_PASS_S = 0.002
INF = float("inf")


# What the scheduler reads of the engine and its pairs (``loadsim.locust.engine``, which imports this module).
class _Node(Protocol):
    persists: bool

    def submit(self, op: wl.Op) -> None: ...


class Pair(Protocol):
    schedule: wl.PairSchedule | None

    @property
    def primary(self) -> _Node | None: ...

    def switchover(self, crash: bool = False) -> None: ...


class _Settings(Protocol):
    @property
    def switchover_at_s(self) -> float | None: ...


class Engine(Protocol):
    settings: _Settings
    start_perf: float
    stats_due: float
    steady_from: float
    recorder: Recorder

    def flush_stats(self, now: float) -> None: ...


class _Entry:
    """One registered HA pair: its schedule, its switchover time, and whether it is still scheduled."""

    __slots__ = ("pair", "schedule", "switch_time", "live")

    def __init__(self, pair: Pair, schedule: wl.PairSchedule, switch_time: float):
        self.pair = pair
        self.schedule = schedule
        self.switch_time = switch_time
        self.live = True


class Scheduler:
    """The due operations of every HA pair of one process and test, released from one greenlet.

    A heap of ``(next due, order, pair)``: one entry per registered pair. Nothing but this scheduler makes a pair's
    next operation earlier (a crash-pair's ``abandon`` only makes it later, and a later entry would only cost one
    wake-up that releases nothing), so an entry stays valid until its pair's pass pushes the next one."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._heap: list[tuple[float, int, _Entry]] = []
        self._order = itertools.count()  # ties broken by registration order, never by comparing pairs
        self._entries: dict[int, _Entry] = {}  # id(pair) -> its entry, while registered
        self._greenlet: gevent.Greenlet | None = None
        self._waiter: Waiter | None = None  # set while the greenlet sleeps (wake() cuts the sleep short)
        self._wake_at = INF  # when the sleeping greenlet wakes up by itself

    @property
    def pairs(self) -> int:
        """HA pairs registered (started and not stopped)."""
        return len(self._entries)

    def add(self, pair: Pair) -> None:
        """A pair's user started: schedule its operations (and its switchover, with ``--switchover-at``)."""
        assert pair.schedule is not None
        if id(pair) in self._entries:
            return  # registered already (Locust ran the user's task again): one entry per pair, or remove() misses one
        eng = self.engine
        switch_at = eng.settings.switchover_at_s
        entry = _Entry(pair, pair.schedule, eng.start_perf + switch_at if switch_at else INF)
        self._entries[id(pair)] = entry
        due = min(entry.schedule.next_due(), entry.switch_time)
        if due == INF:
            self._entries.pop(id(pair))
            return
        heapq.heappush(self._heap, (due, next(self._order), entry))
        if self._greenlet is None or self._greenlet.dead:
            self._greenlet = gevent.spawn(self._run)
        elif due - EARLY_S < self._wake_at:
            self._wake()

    def remove(self, pair: Pair) -> None:
        """A pair's user stops: nothing more of it is released (its entry is dropped when it comes up)."""
        entry = self._entries.pop(id(pair), None)
        if entry is not None:
            entry.live = False
        if not self._entries:
            self._wake()  # the greenlet ends at once instead of at the next due time of a stopped pair

    def stop(self) -> None:
        """The test is over (a new test starts): nothing is released any more."""
        for entry in self._entries.values():
            entry.live = False
        self._entries.clear()
        if self._greenlet is not None and not self._greenlet.dead:
            self._greenlet.kill(block=False)
        self._greenlet = None

    def _wake(self) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None:
            self._wake_at = -INF
            gevent.get_hub().loop.run_callback(waiter.switch, waiter)

    def _sleep(self, delay: float) -> None:
        """``gevent.sleep(delay)`` that ``_wake`` can cut short (a pair registered with an earlier due time)."""
        hub = gevent.get_hub()
        loop = hub.loop
        if delay <= 0:
            # behind schedule it still yields once per pass: without that, a generator that cannot keep up never
            # lets Locust's other greenlets run (its run-time limit, the sampler, the steady-window start) and the
            # run never ends (seen: --type cassandra with 10 M live sessions)
            gevent.sleep(0)
            return
        waiter = Waiter(hub)
        with loop.timer(delay) as timer:
            loop.update_now()  # as gevent.sleep: the delay counts from now, not from the loop's last iteration
            self._waiter, self._wake_at = waiter, time.perf_counter() + delay
            timer.start(waiter.switch, waiter)
            try:
                waiter.get()
            finally:
                timer.stop()
                self._waiter, self._wake_at = None, INF

    def _run(self) -> None:
        eng, heap, clock = self.engine, self._heap, time.perf_counter
        heappush, heappop = heapq.heappush, heapq.heappop
        deferred: list[_Entry] = []
        while self._entries:
            if not heap:  # every registered pair was dropped meanwhile (cannot stay so: add pushes)
                return
            self._sleep(heap[0][0] - clock() - EARLY_S)
            now = clock()
            if now >= eng.stats_due:
                eng.flush_stats(now)
            limit, yield_at = now + EARLY_S, now + MAX_PASS_S
            rec = eng.recorder  # a new test has a new recorder (Engine.reset), and a new scheduler
            while heap and heap[0][0] <= limit:
                if clock() > yield_at:
                    break  # the rest after a yield (MAX_PASS_S)
                entry = heappop(heap)[2]
                if not entry.live:
                    continue
                pair, sched = entry.pair, entry.schedule
                now = clock()  # after the pairs released before it in this pass: its lag counts their time
                if now >= entry.switch_time:
                    gevent.spawn(pair.switchover)  # the scheduler goes on while the new primary recovers
                    entry.switch_time = INF
                    # its operations go out after the next yield, when the switchover has made the backup primary
                    deferred.append(entry)
                    continue
                primary = pair.primary
                assert primary is not None
                persists = primary.persists  # per application: the migration runbook changes it
                submit = primary.submit
                steady = eng.steady_from
                for op in sched.pop_due(now + EARLY_S):
                    rec.due += 1
                    if op.due > now:
                        op.due = now
                    rec.schedule_lag(now - op.due, op.due >= steady)
                    if op.due >= steady:
                        rec.offer()
                    if persists:
                        submit(op)
                    else:
                        rec.not_measured(op.kind, steady=op.due >= steady)
                due = sched.next_due()
                if entry.switch_time < due:
                    due = entry.switch_time
                if due == INF:  # the pair is gone (crash-pair) and its last session expired
                    entry.live = False
                    self._entries.pop(id(pair), None)
                    continue
                heappush(heap, (due, next(self._order), entry))
            for entry in deferred:
                if entry.live:
                    heappush(heap, (clock(), next(self._order), entry))
            deferred.clear()
