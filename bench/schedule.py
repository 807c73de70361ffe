"""What the workload model costs the generator per operation, alone (no Redis, no Locust). Asserts nothing.

    .venv/bin/python bench/schedule.py [--live 1000000] [--seconds 2] [--repeats 5]

Builds one HA pair's schedule holding ``--live`` sessions (the pre-fill), then takes ``--seconds`` of its
steady operations with ``pop_due`` in 1 ms steps, then in steps of the mean gap between operations (the
scheduler greenlet mostly wakes for one operation, so a call's own cost counts as much as the operation's).
Prints the pre-fill time and ``pop_due``'s µs per operation next to a reference measured in the same run:
one ``heapq`` push and pop of a tuple, the least any heap-ordered schedule pays per operation.
Memory per session is measured in a whole generator process by ``bench/generator.py``. Medians of
``--repeats`` alternating rounds (the machine is noisy).
"""

from __future__ import annotations

import argparse
import heapq
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from loadsim.model import workload as wl  # noqa: E402


def reference_us(n: int) -> float:
    """µs per heapq push + pop of a (float, int) tuple on a heap of ``n``."""
    rng = random.Random(0)
    heap = [(rng.random(), i) for i in range(n)]
    heapq.heapify(heap)
    rounds = 200_000
    t0 = time.perf_counter()
    for i in range(rounds):
        due, _ = heapq.heappop(heap)
        heapq.heappush(heap, (due + rng.random(), i))
    return (time.perf_counter() - t0) * 1e6 / rounds


def model_round(live: int, seconds: float, seed: int) -> tuple[float, float, float, int]:
    """(pre-fill s, pop_due µs per operation in 1 ms steps, in steps of one operation's gap, operations)."""
    aht = 1000.0
    params = wl.WorkloadParams(ha_pairs=1, cps_per_pair=live / aht, aht_s=aht, seed=seed)
    t0 = time.perf_counter()
    sched = wl.PairSchedule(params, wl.HaPair(0), 0.0)
    sched.prefill(0.0)
    prefill_s = time.perf_counter() - t0
    batched, ops = steps(sched, 0.0, seconds, 0.001)
    # the scheduler greenlet mostly wakes for one operation (it sleeps until the next one is due): steps of
    # the mean gap between operations, next_due and pop_due on each
    gap = 1.0 / max(1.0, params.voice_cps_per_pair * params.writes_per_session)
    single, _ = steps(sched, seconds, seconds + min(seconds, 20_000 * gap), gap)
    return prefill_s, batched, single, ops


def steps(sched: wl.PairSchedule, start: float, stop: float, step: float) -> tuple[float, int]:
    """µs per operation of ``next_due`` + ``pop_due`` every ``step`` simulated seconds; operations."""
    ops, t = 0, start
    t0 = time.perf_counter()
    while t < stop:
        t += step
        sched.next_due()
        for _ in sched.pop_due(t):
            ops += 1
    return (time.perf_counter() - t0) * 1e6 / max(1, ops), ops


def median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--live", type=int, default=1_000_000, help="live sessions of the pair")
    ap.add_argument("--seconds", type=float, default=2.0, help="simulated seconds of steady operations")
    ap.add_argument("--repeats", type=int, default=5)
    a = ap.parse_args()
    if a.live < 1 or a.seconds <= 0 or a.repeats < 1:
        raise SystemExit("--live, --seconds and --repeats must be positive")
    refs, pops, singles, fills = [], [], [], []
    for rep in range(1, a.repeats + 1):
        refs.append(reference_us(a.live))
        prefill_s, pop_us, single_us, ops = model_round(a.live, a.seconds, rep)
        pops.append(pop_us)
        singles.append(single_us)
        fills.append(prefill_s)
        print(f"[{rep}] pre-fill {a.live:,} sessions {prefill_s:.2f} s; pop_due "
              f"{pop_us:.2f} us/op over {ops:,} ops in 1 ms steps, {single_us:.2f} us/op waking per operation; "
              f"heapq push+pop of a tuple {refs[-1]:.2f} us")
    ref = median(refs)
    print(f"median: pre-fill {median(fills):.2f} s; pop_due {median(pops):.2f} us/op in 1 ms steps = "
          f"{median(pops) / ref:.1f}x a heapq push+pop ({ref:.2f} us), {median(singles):.2f} us/op waking per "
          f"operation = {median(singles) / ref:.1f}x")


if __name__ == "__main__":
    main()
