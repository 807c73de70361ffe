"""Choosing the redis-server binary (`cluster up --redis-server`, `--embedded-redis-server`, ClusterSpec), and
the server version and allocator recorded in a run's results."""

import json
import shutil
import subprocess
import sys

import pytest
from test_run import ROOT, SMALL, locust_run

from loadsim.embedded.cluster import ClusterError, ClusterSpec, EmbeddedCluster, pid_alive, redis_binaries
from loadsim.results import reader as results

SERVER = "/usr/bin/redis-server"
# Locust runs in a temporary folder: a relative PYTHONPATH would import another checkout's loadsim
CODE = {"PYTHONPATH": str(ROOT)}


def loadsim(*args):
    return subprocess.run([sys.executable, "-m", "loadsim", *args], capture_output=True, text=True, timeout=60)


def _bad_binaries(tmp_path):
    not_executable = tmp_path / "redis-server-copy"
    not_executable.write_text("#!/bin/sh\n")
    not_executable.chmod(0o644)
    return [(str(tmp_path / "missing" / "redis-server"), "no such file"),
            (str(not_executable), "the file is not executable"),
            (shutil.which("true"), "'--version' did not identify a Redis server")]


def test_cluster_up_with_a_bad_redis_server_is_one_line_exit_2(tmp_path):
    for path, why in _bad_binaries(tmp_path):
        up = loadsim("cluster", "up", "--redis-server", path, "--state-dir", str(tmp_path / "state"))
        assert up.returncode == 2, up.stderr
        assert up.stdout == "" and "Traceback" not in up.stderr  # refused before anything starts
        lines = up.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"loadsim: error: --redis-server {path}: {why}"), lines
        assert not (tmp_path / "state" / "state.json").exists()


def test_redis_binaries_takes_redis_cli_from_beside_the_server():
    server, cli = redis_binaries(SERVER)
    assert server == SERVER and cli == "/usr/bin/redis-cli"
    with pytest.raises(ClusterError, match="--redis-server /nonexistent: no such file"):
        redis_binaries("/nonexistent")


def test_an_embedded_cluster_runs_the_server_it_is_given():
    with EmbeddedCluster(ClusterSpec(masters=3, redis_server=SERVER)) as cluster:
        with cluster.admin_client(cluster.nodes[0]) as admin:
            assert admin.info("server")["executable"] == SERVER
        assert all(row["cluster_state"] == "ok" for row in cluster.status())


def test_a_bad_embedded_redis_server_stops_a_run_with_one_line(tmp_path):
    proc, _ = locust_run(tmp_path, "--embedded-redis-server", "/nonexistent/redis-server", run_time="2s", env=CODE)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "--redis-server /nonexistent/redis-server: no such file" in proc.stderr and "Traceback" not in proc.stderr


def test_a_run_records_the_server_version_and_allocator(tmp_path):
    """The Locust plugin starts its embedded cluster with --embedded-redis-server; the results say which
    Redis served the run."""
    version = subprocess.run([SERVER, "--version"], capture_output=True, text=True).stdout  # v=7.0.15 ...
    proc, out = locust_run(tmp_path, *SMALL, "--embedded-redis-server", SERVER, run_time="4s", env=CODE)
    assert proc.returncode == 0, proc.stderr[-3000:]
    run = results.load(out)
    cluster = run.summary["cluster"]
    assert cluster["embedded"] and cluster["redis_version"] == "7.0.15" and f"v={cluster['redis_version']} " in version
    assert cluster["mem_allocator"].startswith("jemalloc")
    nodes = json.loads((out / "environment.json").read_text())["redis_nodes"]
    assert len(nodes) == 3 and all(n["redis_version"] == "7.0.15" and n["mem_allocator"].startswith("jemalloc")
                                   for n in nodes.values())
    assert json.loads((out / "config.json").read_text())["cluster"]["redis_server"] == SERVER


def test_a_server_binary_of_any_name_is_stopped_by_stop(tmp_path):
    """stop() recognises its nodes by the binary it started, whatever its name (not only redis-*)."""
    server = tmp_path / "kv7"
    shutil.copy2(SERVER, server)
    cluster = EmbeddedCluster(ClusterSpec(masters=3, redis_server=str(server))).start()
    pids = [n.pid for n in cluster.nodes]
    try:
        assert all(pid_alive(p) for p in pids)
        with cluster.admin_client(cluster.nodes[0]) as admin:
            assert admin.info("server")["executable"] == str(server)
    finally:
        stopped = cluster.stop()
    assert sorted(stopped) == sorted(pids) and not any(pid_alive(p) for p in pids)
