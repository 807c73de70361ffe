"""Does the memory model predict used_memory of real runs? Prints figures and ratios; asserts nothing.

    .venv/bin/python bench/memory_model.py [--seconds 25] [--aht 60] [--layouts per-session,index]

For each key layout, one real headless Locust run of scenarios/ha9.py per complexity preset (simple,
standard, complex) on one embedded 3-master cluster. The model's only measured input is the base memory of
a master, taken from the ``standard`` run (its used_memory minus the model's sessions and connections);
``simple`` and ``complex`` are then predicted with it, and the ratio measured / predicted is printed.
Target (issue "Model ORS as Genesys documents it"): within 5 %.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from loadsim.embedded.cluster import ClusterSpec, EmbeddedCluster  # noqa: E402
from loadsim.model import footprint as fp  # noqa: E402
from loadsim.model import sizing as sz  # noqa: E402


def run(cluster: EmbeddedCluster, out: Path, preset: str, layout: str, seconds: int, aht: float) -> dict:
    nodes = ",".join(n.address for n in cluster.nodes)
    cmd = [sys.executable, "-m", "locust", "-f", str(ROOT / "scenarios" / "ha9.py"), "--headless", "-t",
           f"{seconds}s", "--only-summary", "--results-dir", str(out), "--redis-nodes", nodes,
           "--complexity", preset, "--aht", str(aht), "--key-layout", layout, "--ors-cluster-name",
           f"mm-{layout}-{preset}"]
    subprocess.run(cmd, check=True, capture_output=True, cwd=out.parent, timeout=seconds + 180)
    summary = json.loads((out / "summary.json").read_text())
    for node in cluster.nodes:  # the next run starts from an empty keyspace
        with cluster.admin_client(node) as c:
            c.flushall()
    return summary


def predicted(summary: dict, preset: str, layout: str, aht: float, base: float) -> tuple[float, float]:
    """(predicted used_memory of all masters, modelled bytes per session) at the run's measured live sessions:
    masters x (base + ORS connections) + sessions x bytes per session + bucket arrays of each master."""
    live = summary["live_sessions"]["steady_mean"]
    pairs, m = summary["workload"]["ha_pairs"], len(summary["masters"])
    d = sz.Deployment(ha_pairs=pairs, complexity=preset, key_layout=layout, aht_s=aht, masters=m)
    (n, params), = d.pair_groups()
    f = fp.footprint(params)
    conn = n * d.worker_threads * (fp.connection_bytes(params, True) + fp.connection_bytes(params, False))
    keys = live * f.keys_per_session[fp.SPREAD] / m
    ttl_keys = live * f.ttl_keys_per_session[fp.SPREAD] / m
    buckets = m * fp.buckets_bytes(keys, ttl_keys) + fp.buckets_bytes(1, 0, live * f.hash_fields_per_session)
    return m * (base + conn) + live * f.bytes_per_live_session + buckets, f.bytes_per_live_session


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=int, default=25)
    ap.add_argument("--aht", type=float, default=60.0)
    ap.add_argument("--layouts", default="per-session,index")
    a = ap.parse_args()
    print("# memory model vs used_memory of real runs (3 masters, 9 HA pairs, 5 calls/s per pair)")
    with tempfile.TemporaryDirectory() as tmp, EmbeddedCluster(ClusterSpec(masters=3)) as cluster:
        for layout in a.layouts.split(","):
            runs = {p: run(cluster, Path(tmp) / f"{layout}-{p}", p, layout, a.seconds, a.aht)
                    for p in ("standard", "simple", "complex")}
            used = {p: sum(m["used_memory_steady_mean"] for m in s["masters"]) for p, s in runs.items()}
            # calibrate the base on standard: used = masters x base' + the rest of the prediction
            masters = len(runs["standard"]["masters"])
            rest0, _ = predicted(runs["standard"], "standard", layout, a.aht, 0.0)
            base = (used["standard"] - rest0) / masters
            print(f"\n{layout}: base per master fitted on standard: {base / 2**20:.2f} MiB "
                  f"(model's own assumption {sz.DEFAULT_COSTS.base_bytes_per_master / 2**20:.2f} MiB)")
            print(f"{'preset':<9}{'live':>9}{'B/session':>11}{'measured MiB':>14}{'predicted MiB':>15}{'ratio':>8}")
            for preset, s in runs.items():
                total, per = predicted(s, preset, layout, a.aht, base)
                print(f"{preset:<9}{s['live_sessions']['steady_mean']:>9,.0f}{per:>11,.0f}"
                      f"{used[preset] / 2**20:>14.2f}{total / 2**20:>15.2f}{used[preset] / total:>8.3f}"
                      + ("   (calibration run)" if preset == "standard" else ""))


if __name__ == "__main__":
    main()
