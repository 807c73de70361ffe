"""Which of two checkouts' generators costs less client CPU per command? Both run at once, so the host's drift hits
them alike. Prints figures and ratios; asserts nothing.

    .venv/bin/python bench/ab.py A_TREE B_TREE [--rate 5000] [--seconds 12] [--rounds 8]

Each round runs a headless Locust run of ``scenarios/ha9.py`` from each tree (its own code, ``PYTHONPATH=<tree>``)
at ``--rate`` operations/s (bench/generator.py's run: 10 HA pairs x 4 worker threads, simple preset, 10 s AHT), at the
same time, each against its own embedded 3-master cluster: one generator on the first CPU with its cluster on the
second, the other the other way round. From round to round the CPUs, the clusters and which run starts first
alternate. The figure is each run's own ``client.cpu_us_per_command`` (steady window, summary.json), and the answer
the median of the rounds' B/A ratios with how many rounds had B below A.

Why at once: on this shared 2-core host, the same code's CPU per command moved 34-52 us between runs minutes apart
(bench/generator.py's rounds), so one-after-the-other A/B rounds gave B/A ratios from 0.77 to 1.29 for a change
worth a few percent. Run at once, an A/A check (the same tree twice) read 0.91-1.03 over 8 rounds, median 0.97,
and two runs of one A/B (a change of 8 % of the hot path's instructions) read 0.956 and 1.007: at 8 rounds a
difference below ~4 % is not resolved; more rounds narrow it. Each CPU carries one generator and the other's Redis
servers, so the figures are not bench/generator.py's (nor production's); only the ratio is read. At 10,000
operations/s two generators and two clusters saturate 2 cores (lag over 100 ms): compare at 5,000.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from generator import flush, host_state, run_args  # noqa: E402  (bench/generator.py's)

from loadsim.embedded.cluster import ClusterSpec, EmbeddedCluster  # noqa: E402


def run_cmd(tree: Path, cpu: int, cluster: EmbeddedCluster, rate: float, seconds: int, out: Path,
            name: str) -> list[str]:
    """A headless run of ``tree``'s scenario on ``cpu``, with bench/generator.py's options (``run_args``)."""
    return ["taskset", "-c", str(cpu), sys.executable, "-m", "locust", "-f", str(tree / "scenarios" / "ha9.py"),
            "--headless", "-t", f"{seconds}s", "--only-summary", "--results-dir", str(out),
            *run_args(cluster, rate, name)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("trees", nargs=2, type=Path, metavar="TREE", help="two checkouts of loadsim: A, then B")
    ap.add_argument("--rate", type=float, default=5000.0, help="persistence operations per second, each run")
    ap.add_argument("--seconds", type=int, default=12)
    ap.add_argument("--rounds", type=int, default=8)
    a = ap.parse_args()
    for tree in a.trees:
        if not (tree / "loadsim" / "__init__.py").is_file() or not (tree / "scenarios" / "ha9.py").is_file():
            raise SystemExit(f"{tree}: not a loadsim checkout (no loadsim/ or scenarios/ha9.py); give its folder")
    if a.rate <= 0 or a.seconds < 5 or a.rounds < 2:
        raise SystemExit("--rate must be above 0, --seconds at least 5 (a steady window) and --rounds at least 2")
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        raise SystemExit("bench/ab.py needs 2 CPUs (one generator and the other's cluster on each)")
    cpus = cpus[:2]
    trees = [t.resolve() for t in a.trees]
    tmp = Path(tempfile.mkdtemp(prefix="loadsim-ab-"))
    print(f"# A {trees[0]}\n# B {trees[1]}\n# {a.rate:.0f} operations/s each, {a.seconds} s, {a.rounds} rounds at "
          f"once on CPUs {cpus}; {host_state()}")
    cost: dict[int, list[float]] = {0: [], 1: []}
    with EmbeddedCluster(ClusterSpec(masters=3)) as c0, EmbeddedCluster(ClusterSpec(masters=3)) as c1:
        clusters = [c0, c1]
        for r in range(a.rounds):
            runs = []
            for v in ((0, 1) if r % 2 == 0 else (1, 0)):  # which starts first alternates
                cpu = cpus[(v + r) % 2]  # so does each generator's CPU
                cluster = clusters[v if (r // 2) % 2 == 0 else 1 - v]  # and its cluster
                for node in cluster.nodes:
                    os.sched_setaffinity(node.pid, {cpus[0] + cpus[1] - cpu})
                out = tmp / f"round{r}-{'AB'[v]}"
                cmd = run_cmd(trees[v], cpu, cluster, a.rate, a.seconds, out, f"ab{r}{'AB'[v]}")
                proc = subprocess.Popen(cmd, env={**os.environ, "PYTHONPATH": str(trees[v])},
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                runs.append((v, cpu, out, proc))
            line = [f"[{r + 1}]"]
            for v, cpu, out, proc in sorted(runs, key=lambda t: t[0]):
                _, err = proc.communicate(timeout=a.seconds + 300)
                if proc.returncode not in (0, 1) or not (out / "summary.json").is_file():
                    raise SystemExit(f"run {'AB'[v]} failed ({proc.returncode}): {err.strip()[-800:]}")
                s = json.loads((out / "summary.json").read_text())
                cpu_cmd, rates = s["client"]["cpu_us_per_command"], s["rates"]
                share = 100 * rates["achieved_ops_per_s"] / max(1.0, rates["offered_ops_per_s"])
                cost[v].append(cpu_cmd)
                line.append(f"{'AB'[v]} on CPU {cpu}: {cpu_cmd:.1f} us/command, achieved {share:.1f} %, lag p99 "
                            f"{s['schedule_lag_us']['p99']} us" + ("" if share >= 99 else " (SATURATED)"))
            for cluster in clusters:
                flush(cluster)
            print(" | ".join(line) + f" | {host_state()}", flush=True)
    ratios = [b / x for x, b in zip(cost[0], cost[1], strict=True)]
    print(f"B/A client CPU per command: median {statistics.median(ratios):.3f} over {a.rounds} rounds "
          f"(min {min(ratios):.3f}, max {max(ratios):.3f}); B below A in {sum(x < 1 for x in ratios)} of {a.rounds}")


if __name__ == "__main__":
    main()
