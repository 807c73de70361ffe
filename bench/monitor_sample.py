"""What the monitor's per-second sample costs the generator's process: in-process (before) or asked from its child
process (``loadsim.redis.sampler``, after). Prints figures and ratios; asserts nothing.

    .venv/bin/python bench/monitor_sample.py [--samples 30] [--rounds 3] [--masters 3]

In a gevent-patched process (as the Locust process is), on an embedded cluster: per sample, this process's CPU
(``time.process_time`` around ``NodeMonitor.sample()``) and how long its event loop was not available (a greenlet
sleeping 1 ms in a loop records by how much each wake-up came late; a sample's figure is the largest overshoot
while it ran; measured in a second pass, so that the ticker's own wake-ups are not in the CPU figure). A control
mode ("none") leaves the loop alone for 3 ms instead of sampling: the host's own scheduling noise. Median and p90
over the samples, per mode; rounds alternate the modes (the machine is shared), and each round records the load
average and CPU pressure (``/proc/pressure/cpu``, some avg10) beside its figures.
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from loadsim.embedded.cluster import ClusterSpec, EmbeddedCluster  # noqa: E402
from loadsim.redis.monitor import NodeMonitor  # noqa: E402

TICK_S = 0.001


def host_load() -> str:
    load = Path("/proc/loadavg").read_text().split()[0]
    try:
        some = Path("/proc/pressure/cpu").read_text().splitlines()[0].split()[1]
    except OSError:
        some = "avg10=?"
    return f"load {load}, cpu pressure some {some}"


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def measure(cluster: EmbeddedCluster, mode: str, samples: int, tick: bool) -> tuple[list[float], list[float]]:
    """Per sample: this process's CPU (µs) and, with ``tick``, the loop's largest overshoot while it ran (µs).
    ``mode`` "none" is the control: no sample, the loop left alone for as long as a sample takes."""
    monitor = NodeMonitor(cluster.admin_options, measure_roundtrip=False, sample_in_child=mode == "child")
    assert (monitor.sampler is not None) == (mode == "child")
    late: list[float] = []

    def ticker() -> None:
        while True:
            t = time.perf_counter()
            gevent.sleep(TICK_S)
            late.append((time.perf_counter() - t - TICK_S) * 1e6)

    cpu, stall = [], []
    g = gevent.spawn(ticker) if tick else None
    try:
        monitor.sample()  # connections opened: not counted
        for _ in range(samples):
            gevent.sleep(0.05)
            late.clear()
            c0 = time.process_time()
            if mode == "none":
                gevent.sleep(0.003)
            else:
                monitor.sample()
            c1 = time.process_time()
            gevent.sleep(TICK_S * 2)  # the tick that was due during the sample reports
            cpu.append((c1 - c0) * 1e6)
            stall.append(max(late, default=0.0))
    finally:
        if g is not None:
            g.kill()
        monitor.close()
    return cpu, stall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=30)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--masters", type=int, default=3)
    a = ap.parse_args()
    cluster = EmbeddedCluster(ClusterSpec(masters=a.masters)).start()
    modes = ("in-process", "child", "none")
    totals: dict[str, dict[str, list[float]]] = {m: {"cpu": [], "stall": []} for m in modes}
    try:
        for r in range(a.rounds):
            for mode in modes if r % 2 == 0 else modes[::-1]:
                cpu, _ = measure(cluster, mode, a.samples, tick=False)  # CPU alone: no ticker's wake-ups in it
                _, stall = measure(cluster, mode, a.samples, tick=True)
                totals[mode]["cpu"] += cpu
                totals[mode]["stall"] += stall
                print(f"round {r + 1} {mode:10s}: CPU per sample median {statistics.median(cpu):6.0f} µs p90 "
                      f"{pct(cpu, 0.9):6.0f}; loop unavailable median {statistics.median(stall):6.0f} µs p90 "
                      f"{pct(stall, 0.9):6.0f} ({host_load()})", flush=True)
    finally:
        cluster.stop()
    for key, name in (("cpu", "CPU per sample"), ("stall", "loop unavailable (largest 1 ms tick overshoot)")):
        print(f"{name}: " + "; ".join(f"{m} median {statistics.median(totals[m][key]):.0f} µs p90 "
                                      f"{pct(totals[m][key], 0.9):.0f}" for m in modes))


if __name__ == "__main__":
    main()
