"""Is the load generator honest and cheap enough? Prints figures and ratios; asserts nothing.

    .venv/bin/python bench/generator.py [--seconds 30] [--target-ops 10000] [--skip-memory]

1. Reference: ``redis-benchmark`` (non-pipelined SET, same record size, same connection count, same
   embedded 3-master cluster): client CPU µs per command, from the child's rusage.
2. Our generator: a real headless Locust run of ``scenarios/ha9.py`` offering ``--target-ops``
   persistence operations per second in one process: achieved vs offered rate, schedule-lag p99,
   client CPU µs per Redis command, and its ratio to redis-benchmark's.
   Context for that ratio, measured in the same run: what one wait costs this machine (the CPU of one
   ``time.sleep(100 us)``: the process blocks, the kernel wakes it), and redis-benchmark with one
   connection (``-c 1``: it waits for every reply, as a synchronous ORS worker thread does). At 10 k
   operations/s a synchronous client waits for almost every reply (Redis answers in tens of µs, the next
   operation is due 100 µs later), while redis-benchmark at full speed with 120 connections never waits:
   its ready sockets are always waiting for it.
3. Memory: generator RSS per live simulated session at 1 M and 10 M live sessions, and the time the
   pre-fill takes before the first steady operation (long AHT, ``--type cassandra`` so no Redis traffic:
   the sessions live only in the generator as data).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from loadsim.embedded.cluster import ClusterSpec, EmbeddedCluster  # noqa: E402
from loadsim.model.workload import PRESETS  # noqa: E402


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def redis_benchmark(cluster: EmbeddedCluster, size: int, clients: int, requests: int) -> dict[str, float]:
    node = cluster.nodes[0]
    cpu0, t0 = children_cpu(), time.perf_counter()
    out = subprocess.run(["redis-benchmark", "-h", "127.0.0.1", "-p", str(node.port), "--cluster", "-t", "set",
                          "-d", str(size), "-c", str(clients), "-n", str(requests), "-P", "1", "-q"],
                         capture_output=True, text=True, timeout=300)
    wall, cpu = time.perf_counter() - t0, children_cpu() - cpu0
    if out.returncode != 0:
        raise SystemExit(f"redis-benchmark failed: {out.stderr.strip()[:300]}")
    return {"ops_per_s": requests / wall, "cpu_us_per_op": cpu * 1e6 / requests}


def wake_cost_us(rounds: int = 2000) -> float:
    """CPU µs of one block-and-wake of this process (a 100 µs sleep): the kernel's (and hypervisor's) price of
    waiting for something, which a client pays for every reply it has to wait for."""
    cpu0 = time.process_time()
    for _ in range(rounds):
        time.sleep(100e-6)
    return (time.process_time() - cpu0) * 1e6 / rounds


def locust(args: list[str], results_dir: Path, run_time: str) -> dict:
    cmd = [sys.executable, "-m", "locust", "-f", str(ROOT / "scenarios" / "ha9.py"), "--headless", "-t", run_time,
           "--only-summary", "--results-dir", str(results_dir), *args]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=900, cwd=results_dir.parent)
    if out.returncode not in (0, 1):
        raise SystemExit(f"locust failed ({out.returncode}): {out.stderr.strip()[-1500:]}")
    return json.loads((results_dir / "summary.json").read_text())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=int, default=30)
    ap.add_argument("--target-ops", type=float, default=10000.0, help="persistence operations per second")
    ap.add_argument("--skip-memory", action="store_true")
    ap.add_argument("--memory-only", action="store_true")
    ap.add_argument("--repeats", type=int, default=3, help="alternating rounds of reference and generator")
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="loadsim-bench-"))
    simple = PRESETS["simple"]
    pairs, threads = 10, 4
    # ops per session = updates + create + delete; cps per pair to reach the target
    cps = a.target_ops / pairs / simple.writes_per_session
    print(f"# generator benchmark, {os.cpu_count()} cores; payload {simple.record_bytes} B (simple preset)")
    if not a.memory_only:
        rate_benchmark(a, pairs, threads, cps, simple, tmp)
    if not a.skip_memory:
        memory_benchmark(pairs, tmp)


def rate_benchmark(a: argparse.Namespace, pairs: int, threads: int, cps: float, simple, tmp: Path) -> None:
    ratios, ratios_one, shares, lags, wakes = [], [], [], [], []
    with EmbeddedCluster(ClusterSpec(masters=3)) as cluster:
        masters = len(cluster.nodes)
        clients = pairs * threads * masters  # the generator's connection count
        nodes = ",".join(n.address for n in cluster.nodes)
        for rep in range(1, a.repeats + 1):  # alternate reference and generator: the machine is noisy
            ref = redis_benchmark(cluster, simple.record_bytes, clients, 200_000)
            one = redis_benchmark(cluster, simple.record_bytes, 1, 20_000)
            wakes.append(wake_cost_us())
            print(f"[{rep}] redis-benchmark SET -d {simple.record_bytes} -c {clients} -P 1: "
                  f"{ref['ops_per_s']:.0f} ops/s, client CPU {ref['cpu_us_per_op']:.1f} us/op; with -c 1: "
                  f"{one['ops_per_s']:.0f} ops/s, {one['cpu_us_per_op']:.1f} us/op; one block-and-wake of a "
                  f"process: {wakes[-1]:.1f} us CPU")
            s = locust(["--redis-nodes", nodes, "-u", str(pairs), "--cps-per-pair", f"{cps:.3f}", "--aht", "10",
                        "--complexity", "simple", "--worker-threads", str(threads), "--ors-cluster-name",
                        f"bench{rep}"], tmp / f"rate{rep}", f"{a.seconds}s")
            r, c = s["rates"], s["client"]
            lag = s["schedule_lag_us"]
            if s["flags"].get("no_steady_state"):
                # the pre-fill and the backlog behind it were not drained within the run: no steady figures
                shares.append(0.0)
                print(f"[{rep}] loadsim: no steady state within {a.seconds} s (the generator could not drain the "
                      f"pre-fill and its backlog: it is saturated at this rate); client CPU "
                      f"{c['cpu_us_per_command']:.1f} us/command over the whole run, not counted in the ratios")
                continue
            ratio = c["cpu_us_per_command"] / ref["cpu_us_per_op"] if ref["cpu_us_per_op"] else float("nan")
            ratios.append(ratio)
            ratios_one.append(c["cpu_us_per_command"] / one["cpu_us_per_op"] if one["cpu_us_per_op"] else float("nan"))
            share = 100 * r["achieved_ops_per_s"] / max(1, r["offered_ops_per_s"])
            shares.append(share)
            lags.append(lag["p99"])
            print(f"[{rep}] loadsim offered {r['offered_ops_per_s']:.0f} ops/s, achieved "
                  f"{r['achieved_ops_per_s']:.0f} ops/s ({share:.1f} %), {r['commands_per_s']:.0f} commands/s; "
                  f"schedule lag p99 {lag['p99']} us; client CPU "
                  f"{c['cpu_us_per_command']:.1f} us/command = {ratio:.2f}x redis-benchmark; flags "
                  f"{[k for k, v in s['flags'].items() if v] or 'none'}")
    if not ratios:
        print("target: generator CPU per command <= 2x redis-benchmark's: no round reached a steady state: NOT met")
        return
    ratio = median(ratios)
    print(f"median CPU ratio to redis-benchmark -c {clients} over {len(ratios)} rounds: {ratio:.2f}x "
          f"(min {min(ratios):.2f}x, max {max(ratios):.2f}x)")
    print(f"median CPU ratio to redis-benchmark -c 1 (waits for every reply): {median(ratios_one):.2f}x; "
          f"median block-and-wake cost here: {median(wakes):.1f} us CPU")
    print(f"target: generator CPU per command <= 2x redis-benchmark's: measured {ratio:.2f}x: "
          f"{'met' if ratio <= 2 else 'NOT met'}")
    share, lag = min(shares), max(lags)
    print(f"target: achieved >= 99 % of offered at {a.target_ops:.0f} ops/s: worst round {share:.1f} %: "
          f"{'met' if share >= 99 else 'NOT met'}")
    print(f"target: schedule lag p99 < 1000 us: worst round {lag} us: {'met' if lag < 1000 else 'NOT met'}")


def median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def memory_benchmark(pairs: int, tmp: Path) -> None:
    """RSS per live session and the pre-fill's time at 0, 1 M and 10 M live sessions (10 M:
    ``--type cassandra -u 10 --cps-per-pair 1000 --aht 1000``, the issue's command)."""
    base = None
    aht = 1000.0
    for live in (0, 1_000_000, 10_000_000):
        cps_live = max(live, 1) / pairs / aht
        sm = locust(["--type", "cassandra", "-u", str(pairs), "--cps-per-pair", f"{cps_live:.6f}", "--aht", str(aht)],
                    tmp / f"mem{live}", "10s")
        rss = sm["client"]["max_rss_bytes"]
        prefill_s = sm.get("steady_from_s")
        if base is None:
            base = rss
            print(f"generator RSS with no sessions: {rss / 2**20:.0f} MiB")
            continue
        got = sm["live_sessions"]["final"]
        per = (rss - base) / max(1, got)
        print(f"{got:>10,} live sessions: RSS {rss / 2**20:,.0f} MiB, {per:.0f} B per live session; pre-fill "
              f"{prefill_s} s before the first steady operation")
        if live == 10_000_000:
            print(f"target: <= 150 B of RSS per live session at 10 M: measured {per:.0f} B: "
                  f"{'met' if per <= 150 else 'NOT met'}")
            print(f"target: the 10 M pre-fill in <= 20 s: measured {prefill_s} s: "
                  f"{'met' if prefill_s is not None and prefill_s <= 20 else 'NOT met'}")


if __name__ == "__main__":
    main()
