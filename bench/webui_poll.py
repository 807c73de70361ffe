"""What one poll of the web UI's Redis Cluster tab costs the generator's event loop. Asserts nothing.

    .venv/bin/python bench/webui_poll.py [--operations 20000] [--repeats 5]

Locust's web UI is a gevent server inside the generator's process: while a request is handled no HA pair releases
an operation, so a poll that takes 0.4 s is a 0.4 s stall of every scheduler (seen in a web-started test with the
tab open: schedule lag max 0.3-0.43 s every other second, latency p99 0.41-0.43 s, where the same load headless
read 1.6-2.8 ms). With the tab open three pollers ask for the view (Locust's statistics and the charts every 2 s,
the reload check every 3 s).

A poll's two heavy parts, each against what it was, on the same data in the same minutes (medians of
``--repeats`` alternating rounds):

* the operations' µs figures: ``recorder.stats`` (numpy over hdrh's counts) against hdrh's own
  ``get_mean_value`` / ``get_value_at_percentile`` (pure-Python walks of the buckets), for the 3 operations x 3
  histograms of a run (``--operations`` latencies each, spread as a loaded run's: lognormal with a 0.4 s tail);
* the live verdict: ``sizing.verdict`` without the master-count search (what the tab shows) against with it.

Prints ms per poll and the ratios, with the load average and CPU pressure (a busy machine slows both sides).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from loadsim.model import sizing as sz  # noqa: E402
from loadsim.model.workload import WorkloadParams  # noqa: E402
from loadsim.results import recorder as rc  # noqa: E402

OPS = ("session.create", "session.update", "session.delete", "session.prefill")


def hdrh_stats(h: object) -> dict[str, float]:
    """What ``recorder.stats`` computed before: hdrh's own methods."""
    return {"count": h.get_total_count(), "mean": round(h.get_mean_value(), 1),  # type: ignore[attr-defined]
            **{k: h.get_value_at_percentile(p) for k, p in rc.PERCENTILES.items()},  # type: ignore[attr-defined]
            "max": h.get_max_value()}  # type: ignore[attr-defined]


def recorder(n: int) -> rc.Recorder:
    rng = random.Random(1)
    rec = rc.Recorder()
    for op in OPS[:3]:
        for _ in range(n):
            service = rng.lognormvariate(6, 0.6)
            wait = rng.lognormvariate(4, 2) if rng.random() < 0.99 else rng.uniform(1e5, 4e5)
            rec.record(op, service, service + wait, 2)
    rec.hist  # noqa: B018 - flush what waits into the histograms
    return rec


def live_run(params: WorkloadParams) -> sz.MeasuredRun:
    return sz.MeasuredRun(name="live", run_class=sz.IN_PROGRESS, evidence="", tls=False, ha_pairs=params.ha_pairs,
                          masters=3, live_sessions=params.expected_live_sessions, used_memory=3 * 40 * 2**20,
                          cpu_s=0.06, master_seconds=3, commands=660, operations_steady=0, cpu_us_per_command=0,
                          workload=params)


def timed_ms(fn: object, rounds: int) -> float:
    t0 = time.perf_counter()
    for _ in range(rounds):
        fn()  # type: ignore[operator]
    return (time.perf_counter() - t0) * 1000 / rounds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--operations", type=int, default=20_000, help="latencies per operation (default 20000)")
    ap.add_argument("--repeats", type=int, default=5, help="alternating rounds (default 5)")
    a = ap.parse_args()
    rec = recorder(a.operations)
    hists = list(rec.hist.values())
    assert all(rc.stats(h) == hdrh_stats(h) for h in hists), "the figures differ"
    params = WorkloadParams(ha_pairs=9, cps_per_pair=5, aht_s=180, worker_threads=4)
    costs = sz.fit_unit_costs([live_run(params)])
    d = sz.deployment_for(params, masters=3, replicas=0)
    rounds: dict[str, list[float]] = {k: [] for k in ("hdrh", "numpy", "search", "no search")}
    for _ in range(a.repeats):
        rounds["hdrh"].append(timed_ms(lambda: [hdrh_stats(h) for h in hists], 1))
        rounds["numpy"].append(timed_ms(lambda: [rc.stats(h) for h in hists], 20))
        rounds["search"].append(timed_ms(lambda: sz.verdict(d, costs, with_envelope=False), 3))
        rounds["no search"].append(timed_ms(lambda: sz.verdict(d, costs, with_envelope=False, with_search=False), 20))
    med = {k: statistics.median(v) for k, v in rounds.items()}
    load = Path("/proc/loadavg").read_text().split()[:3]
    pressure = Path("/proc/pressure/cpu").read_text().splitlines()[0] if Path("/proc/pressure/cpu").exists() else ""
    print(f"# one poll of the live tab, {len(hists)} histograms of {a.operations:,} latencies; medians of "
          f"{a.repeats} alternating rounds; load {' '.join(load)}; cpu {pressure}")
    print(f"operations' figures: hdrh {med['hdrh']:.1f} ms, numpy {med['numpy']:.2f} ms "
          f"(ratio {med['hdrh'] / med['numpy']:.0f}x)")
    print(f"live verdict: with the master-count search {med['search']:.1f} ms, without {med['no search']:.2f} ms "
          f"(ratio {med['search'] / med['no search']:.0f}x)")
    before, after = med["hdrh"] + med["search"], med["numpy"] + med["no search"]
    print(f"a poll's two heavy parts: {before:.1f} ms before, {after:.2f} ms now (ratio {before / after:.0f}x)")


if __name__ == "__main__":
    main()
