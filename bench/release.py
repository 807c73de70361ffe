"""What releasing due operations costs the generator: one scheduler per process against one greenlet per HA pair.
Prints CPU per operation and the ratio; asserts nothing.

    .venv/bin/python bench/release.py [--rate 5000] [--pairs 10] [--seconds 3] [--repeats 3]

Both designs release the same schedules (``PairSchedule`` of ``--pairs`` pairs, ``--rate`` operations/s in all) in
real time in gevent's loop, with the same accounting per operation (``Recorder.due``, ``schedule_lag``, ``offer``),
into ORS nodes that take each operation and do nothing with it (no Redis: what is measured is the release alone):

- ``per pair``: the design before ``loadsim.locust.scheduler``: one greenlet per pair sleeping until its next
  operation (``EARLY_S`` early), then releasing what it has due;
- ``one scheduler``: ``loadsim.locust.scheduler.Scheduler``, the one the generator runs.

Process CPU (``time.process_time``) per operation released, and wake-ups per operation; alternating rounds, medians
(the machine is shared and noisy: compare the ratio, not the µs).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import gevent

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from loadsim.locust.scheduler import EARLY_S, Scheduler  # noqa: E402
from loadsim.model import workload as wl  # noqa: E402
from loadsim.results.recorder import Recorder  # noqa: E402


class Node:
    persists = True

    def __init__(self) -> None:
        self.taken = 0

    def submit(self, op: wl.Op) -> None:
        self.taken += 1


class Pair:
    def __init__(self, index: int, rate: float, start: float):
        params = wl.WorkloadParams(ha_pairs=1, cps_per_pair=rate / wl.PRESETS["simple"].writes_per_session,
                                   aht_s=10.0, complexity=wl.PRESETS["simple"], seed=index)
        self.schedule: wl.PairSchedule | None = wl.PairSchedule(params, wl.HaPair(index), start)
        self.schedule.prefill(start)  # the sessions in progress: steady state from the start (their creates not sent)
        self.primary = Node()

    def switchover(self, crash: bool = False) -> None:
        raise AssertionError("no switchover in this bench")


def engine() -> SimpleNamespace:
    return SimpleNamespace(settings=SimpleNamespace(switchover_at_s=None), start_perf=time.perf_counter(),
                           stats_due=float("inf"), steady_from=0.0, recorder=Recorder(), flush_stats=lambda now: None)


def per_pair(pair: Pair, eng: SimpleNamespace, until: float, wakes: list[int]) -> None:
    """The loop each pair's user ran before (loadsim.locust.users.HaPairUser.run_pair, without switchover)."""
    sched, rec, clock = pair.schedule, eng.recorder, time.perf_counter
    assert sched is not None
    while True:
        delay = sched.next_due() - clock() - EARLY_S
        gevent.sleep(delay if delay > 0 else 0)
        wakes[0] += 1
        now = clock()
        if now >= until:
            return
        submit, steady = pair.primary.submit, eng.steady_from
        for op in sched.pop_due(now + EARLY_S):
            rec.due += 1
            if op.due > now:
                op.due = now
            rec.schedule_lag(now - op.due, op.due >= steady)
            if op.due >= steady:
                rec.offer()
            submit(op)


def host_state() -> str:
    some = Path("/proc/pressure/cpu").read_text().split()[1] if Path("/proc/pressure/cpu").exists() else "?"
    return f"load {os.getloadavg()[0]:.1f}, cpu pressure {some}"


def one_round(design: str, a: argparse.Namespace) -> tuple[float, float, float]:
    """(CPU µs per operation, wake-ups per operation, lag p99 µs) of one design over ``a.seconds``."""
    eng = engine()
    eng.recorder.record_histograms = True
    start = time.perf_counter()
    pairs = [Pair(i, a.rate / a.pairs, start) for i in range(a.pairs)]
    until = start + a.seconds
    cpu0 = time.process_time()
    wakes = [0]
    if design == "per pair":
        gevent.joinall([gevent.spawn(per_pair, p, eng, until, wakes) for p in pairs])
    else:
        sched = Scheduler(eng)  # type: ignore[arg-type]
        original = sched._sleep

        def counted(delay: float) -> None:
            original(delay)
            wakes[0] += 1

        sched._sleep = counted  # type: ignore[method-assign]
        for p in pairs:
            sched.add(p)  # type: ignore[arg-type]
        gevent.sleep(max(0.0, until - time.perf_counter()))
        for p in pairs:
            sched.remove(p)  # type: ignore[arg-type]
        gevent.sleep(0)
    cpu = time.process_time() - cpu0
    ops = sum(p.primary.taken for p in pairs)
    lag = eng.recorder.lag.get_value_at_percentile(99)
    return cpu * 1e6 / max(1, ops), wakes[0] / max(1, ops), lag


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rate", type=float, default=5000.0, help="operations/s over all pairs")
    ap.add_argument("--pairs", type=int, default=10)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    if a.rate <= 0 or a.pairs < 1 or a.seconds <= 0 or a.repeats < 1:
        raise SystemExit("--rate, --pairs, --seconds and --repeats must be positive")
    results: dict[str, list[tuple[float, float, float]]] = {"per pair": [], "one scheduler": []}
    for rep in range(1, a.repeats + 1):
        for design in results:
            r = one_round(design, a)
            results[design].append(r)
            print(f"[{rep}] {design}: {r[0]:.2f} us CPU per operation, {r[1]:.3f} wake-ups per operation, "
                  f"lag p99 {r[2]} us ({host_state()})")
    med = {d: statistics.median(x[0] for x in v) for d, v in results.items()}
    wk = {d: statistics.median(x[1] for x in v) for d, v in results.items()}
    print(f"{a.rate:.0f} ops/s over {a.pairs} pairs: per pair {med['per pair']:.2f} us/op "
          f"({wk['per pair']:.3f} wake-ups/op), "
          f"one scheduler {med['one scheduler']:.2f} us/op ({wk['one scheduler']:.3f} wake-ups/op): "
          f"{med['one scheduler'] / med['per pair']:.2f}x")


if __name__ == "__main__":
    main()
