"""The process's one scheduler (loadsim.locust.scheduler) with schedules of known due times, in gevent's real loop.

Fakes stand for the engine, the ORS nodes and the schedules (this is the scheduler's unit test; the Locust runs of
test_engine.py and the integration tests run it with the real ones). No assertion on a duration: each test gives
the scheduler several times what it needs and asserts on what was released, where and how it was counted."""

import time
from types import SimpleNamespace

import gevent

from loadsim.locust.scheduler import EARLY_S, Scheduler
from loadsim.model import workload as wl
from loadsim.results.recorder import Recorder


class Schedule:
    """Operations due at fixed offsets (s) from ``start``, one session each."""

    def __init__(self, start: float, offsets: list[float], name: str):
        self.ops = [wl.Op(start + t, wl.UPDATE, f"{name}-{i}", 10, 0) for i, t in enumerate(offsets)]

    def next_due(self) -> float:
        return self.ops[0].due if self.ops else float("inf")

    def pop_due(self, now: float) -> list[wl.Op]:
        out = []
        while self.ops and self.ops[0].due <= now:
            out.append(self.ops.pop(0))
        return out


class Node:
    def __init__(self, persists: bool = True):
        self.persists = persists
        self.taken: list[wl.Op] = []

    def submit(self, op: wl.Op) -> None:
        self.taken.append(op)


class Pair:
    def __init__(self, schedule: Schedule, persists: bool = True):
        self.schedule = schedule
        self.primary, self.backup = Node(persists), Node(persists)
        self.switched = 0

    def switchover(self, crash: bool = False) -> None:
        self.switched += 1
        self.primary, self.backup = self.backup, self.primary
        gevent.sleep(0.05)  # the old primary's stop and the scan: the scheduler goes on meanwhile


def _engine(switchover_at_s=None):
    flushes = []
    eng = SimpleNamespace(settings=SimpleNamespace(switchover_at_s=switchover_at_s), start_perf=time.perf_counter(),
                          stats_due=0.0, steady_from=0.0, recorder=Recorder(), flushes=flushes)

    def flush_stats(now):
        flushes.append(now)
        eng.stats_due = now + 0.1

    eng.flush_stats = flush_stats
    return eng


def test_one_wake_up_releases_the_due_operations_of_every_pair_and_counts_each_once():
    eng = _engine()
    start = time.perf_counter()
    # 20 pairs with an operation every 10 ms each, at the same instants: one pass takes all 20 (within EARLY_S)
    pairs = [Pair(Schedule(start, [0.02 + 0.01 * k for k in range(10)], f"p{i}")) for i in range(20)]
    sched = Scheduler(eng)
    passes = []
    sleep = sched._sleep
    sched._sleep = lambda delay: (passes.append(delay), sleep(delay))
    for p in pairs:
        sched.add(p)
    gevent.sleep(0.4)
    assert [len(p.primary.taken) for p in pairs] == [10] * 20
    assert all(p.backup.taken == [] for p in pairs)
    assert eng.recorder.due == 200 and eng.recorder.offered == 200
    assert eng.recorder.lag.get_total_count() == 200
    # each operation released once, never before its due time minus EARLY_S
    assert all(op.due >= start for p in pairs for op in p.primary.taken)
    # one wake-up per instant (10 instants; a busy host may split one): far fewer than the 200 operations
    assert len(passes) < 60
    assert eng.flushes, "the successful operations are flushed into Locust's statistics from the scheduler"
    sched.stop()


def test_a_pair_added_with_an_earlier_operation_wakes_the_sleeping_scheduler():
    eng = _engine()
    start = time.perf_counter()
    late = Pair(Schedule(start, [30.0], "late"))
    early = Pair(Schedule(start, [0.05], "early"))
    sched = Scheduler(eng)
    sched.add(late)
    gevent.sleep(0.01)  # the scheduler now sleeps until the late pair's operation (30 s)
    sched.add(early)
    gevent.sleep(0.5)
    assert [op.sid for op in early.primary.taken] == ["early-0"]
    assert late.primary.taken == []
    sched.remove(late)
    sched.remove(early)
    gevent.sleep(0.01)
    assert sched._greenlet is None or sched._greenlet.dead, "no pair left: the scheduler's greenlet ends"


def test_a_removed_pair_releases_nothing_more_and_the_others_go_on():
    eng = _engine()
    start = time.perf_counter()
    a = Pair(Schedule(start, [0.01, 0.3], "a"))
    b = Pair(Schedule(start, [0.01, 0.3], "b"))
    sched = Scheduler(eng)
    sched.add(a)
    sched.add(b)
    gevent.sleep(0.1)
    sched.remove(a)
    gevent.sleep(0.5)
    assert [op.sid for op in a.primary.taken] == ["a-0"]
    assert [op.sid for op in b.primary.taken] == ["b-0", "b-1"]
    assert eng.recorder.due == 3
    sched.remove(b)


def test_a_pair_whose_application_does_not_persist_to_redis_counts_its_operations_as_not_measured():
    eng = _engine()
    start = time.perf_counter()
    pair = Pair(Schedule(start, [0.01, 0.02], "c"), persists=False)
    sched = Scheduler(eng)
    sched.add(pair)
    gevent.sleep(0.2)
    assert pair.primary.taken == []
    assert eng.recorder.due == 2
    sched.remove(pair)


def test_the_switchover_runs_beside_the_scheduler_and_later_operations_go_to_the_new_primary():
    eng = _engine(switchover_at_s=0.1)
    start = eng.start_perf
    pair = Pair(Schedule(start, [0.05, 0.1 + 3 * EARLY_S, 0.12, 0.2], "s"))
    first = pair.primary
    sched = Scheduler(eng)
    sched.add(pair)
    gevent.sleep(0.5)
    assert pair.switched == 1
    assert [op.sid for op in first.taken] == ["s-0"]
    # released after the switchover made the backup primary (it runs first, then the scheduler goes on while its
    # stop and scan wait): the new primary's queue takes the calls that arrive during the recovery
    assert [op.sid for op in pair.primary.taken] == ["s-1", "s-2", "s-3"]
    sched.remove(pair)


def test_a_long_pass_yields_to_the_other_greenlets_before_the_next_pair():
    from loadsim.locust.scheduler import MAX_PASS_S

    class SlowSchedule(Schedule):
        def pop_due(self, now):
            end = time.perf_counter() + 2 * MAX_PASS_S
            while time.perf_counter() < end:  # a backlog that takes longer than a pass may hold the loop
                pass
            return super().pop_due(now)

    eng = _engine()
    start = time.perf_counter()
    pairs = [Pair(SlowSchedule(start, [0.01], f"slow{i}")) for i in range(3)]
    ran: list[int] = []

    def probe():
        deadline = time.perf_counter() + 5.0
        while time.perf_counter() < deadline:  # until the three are released (bounded)
            ran.append(sum(len(p.primary.taken) for p in pairs))
            if ran[-1] == 3:
                return
            gevent.sleep(0)

    sched = Scheduler(eng)
    for p in pairs:
        sched.add(p)
    probing = gevent.spawn(probe)
    probing.join(timeout=6)
    assert [len(p.primary.taken) for p in pairs] == [1, 1, 1]
    # the probe ran between two pairs' releases: with one pass over the three it saw only 0 then 3
    assert 1 in ran or 2 in ran, ran
    for p in pairs:
        sched.remove(p)


def test_a_pair_registered_twice_is_scheduled_once_and_removed_at_once():
    eng = _engine()
    start = time.perf_counter()
    pair = Pair(Schedule(start, [0.01, 0.3], "twice"))
    sched = Scheduler(eng)
    sched.add(pair)
    sched.add(pair)  # Locust ran the user's task again
    assert sched.pairs == 1
    gevent.sleep(0.1)
    sched.remove(pair)
    gevent.sleep(0.4)
    assert [op.sid for op in pair.primary.taken] == ["twice-0"]
