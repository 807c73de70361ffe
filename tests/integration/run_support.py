"""What the integration tests that run scenarios/ha9.py share: the command, a small workload, the cluster's
nodes as --redis-nodes, and one finished run."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HA9 = str(ROOT / "scenarios" / "ha9.py")
LOCUST = [sys.executable, "-m", "locust"]
# 3 HA pairs, light: a few hundred operations per second, short handle times
SMALL = ["-u", "3", "--cps-per-pair", "15", "--aht", "4", "--worker-threads", "2", "--complexity", "simple"]


def nodes_arg(cluster):
    return ["--redis-nodes", ",".join(n.address for n in cluster.nodes)]


def locust_run(tmp_path, *args, run_time="12s", name="run", env=None, timeout=120):
    """A headless run to its end: (completed process, results folder)."""
    out = tmp_path / name
    cmd = [*LOCUST, "-f", HA9, "--headless", "-t", run_time, "--results-dir", str(out), "--only-summary", *args]
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})
    return proc, out


def free_port():
    """A free TCP port on loopback (Locust's master port: its default 5557 lets another run's workers join)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
