"""Is the load generator honest and cheap enough? Prints figures and ratios; asserts nothing.

    .venv/bin/python bench/generator.py [--seconds 30] [--target-ops 10000] [--skip-memory]

1. Reference: ``redis-benchmark`` (non-pipelined SET, same record size, same connection count, same
   embedded 3-master cluster): client CPU µs per command, from the child's rusage.
2. Our generator: a real headless Locust run of ``scenarios/ha9.py`` offering ``--target-ops``
   persistence operations per second in one process: achieved vs offered rate, schedule-lag p99,
   client CPU µs per Redis command, and its ratio to redis-benchmark's.
3. Memory: generator RSS per live simulated session at 100 k and 1 M live sessions (long AHT,
   ``--type cassandra`` so no Redis traffic: the sessions live only in the generator as data).
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
    ratios = []
    with EmbeddedCluster(ClusterSpec(masters=3)) as cluster:
        masters = len(cluster.nodes)
        clients = pairs * threads * masters  # the generator's connection count
        nodes = ",".join(n.address for n in cluster.nodes)
        for rep in range(1, a.repeats + 1):  # alternate reference and generator: the machine is noisy
            ref = redis_benchmark(cluster, simple.record_bytes, clients, 200_000)
            print(f"[{rep}] redis-benchmark SET -d {simple.record_bytes} -c {clients} -P 1: "
                  f"{ref['ops_per_s']:.0f} ops/s, client CPU {ref['cpu_us_per_op']:.1f} us/op")
            s = locust(["--redis-nodes", nodes, "-u", str(pairs), "--cps-per-pair", f"{cps:.3f}", "--aht", "10",
                        "--complexity", "simple", "--worker-threads", str(threads), "--ors-cluster-name",
                        f"bench{rep}"], tmp / f"rate{rep}", f"{a.seconds}s")
            r, c = s["rates"], s["client"]
            lag = s["schedule_lag_us"]
            ratio = c["cpu_us_per_command"] / ref["cpu_us_per_op"] if ref["cpu_us_per_op"] else float("nan")
            ratios.append(ratio)
            share = 100 * r["achieved_ops_per_s"] / max(1, r["offered_ops_per_s"])
            print(f"[{rep}] loadsim offered {r['offered_ops_per_s']:.0f} ops/s, achieved "
                  f"{r['achieved_ops_per_s']:.0f} ops/s ({share:.1f} %), {r['commands_per_s']:.0f} commands/s; "
                  f"schedule lag p99 {lag['p99']} us; client CPU "
                  f"{c['cpu_us_per_command']:.1f} us/command = {ratio:.2f}x redis-benchmark; flags "
                  f"{[k for k, v in s['flags'].items() if v] or 'none'}")
    ratios.sort()
    print(f"median CPU ratio to redis-benchmark over {len(ratios)} rounds: {ratios[len(ratios) // 2]:.2f}x "
          f"(min {ratios[0]:.2f}x, max {ratios[-1]:.2f}x; target <= 3x)")


def memory_benchmark(pairs: int, tmp: Path) -> None:
    base = None
    for live in (0, 100_000, 1_000_000):
        aht = 1000.0
        cps_live = max(live, 1) / pairs / aht
        sm = locust(["--type", "cassandra", "-u", str(pairs), "--cps-per-pair", f"{cps_live:.6f}", "--aht", str(aht)],
                    tmp / f"mem{live}", "8s")
        rss = sm["client"]["max_rss_bytes"]
        if base is None:
            base = rss
            print(f"generator RSS with no sessions: {rss / 2**20:.0f} MiB")
            continue
        got = sm["live_sessions"]["final"]
        print(f"{got:>9} live sessions: RSS {rss / 2**20:.0f} MiB, "
              f"{(rss - base) / max(1, got):.0f} B per live session (target 1 M in <= 500 MB)")


if __name__ == "__main__":
    main()
