"""A run audits the cluster as `loadsim check` does, before any load: an evicting maxmemory-policy refuses the run
in one line (`--allow-eviction true` runs anyway, recorded in the summary's flags); a node that accepts
connections and never answers is one line within seconds at start-up (it hung Locust until killed), and `check`
says the node is silent instead of blaming redis-socket-timeout or a plain port."""

import socket
import subprocess
import sys
import time

import pytest
from run_support import HA9, LOCUST, SMALL, locust_run, nodes_arg

from loadsim.embedded.cluster import ClusterSpec, EmbeddedCluster
from loadsim.results import reader as results


@pytest.fixture(scope="module")
def evicting():
    with EmbeddedCluster(ClusterSpec(masters=3)) as c:
        for node in c.nodes:
            with c.admin_client(node) as r:
                r.config_set("maxmemory-policy", "allkeys-lru")
        yield c


def _error_lines(stderr):
    return [line for line in stderr.splitlines() if "loadsim: error:" in line]


def test_an_evicting_cluster_refuses_the_run_before_any_load(evicting, tmp_path):
    t0 = time.monotonic()
    proc, out = locust_run(tmp_path, *SMALL, *nodes_arg(evicting), run_time="30s")
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert time.monotonic() - t0 < 25
    [line] = _error_lines(proc.stderr)
    assert "every master: maxmemory-policy allkeys-lru" in line and "--allow-eviction true" in line
    assert "Traceback" not in proc.stderr and not (out / "summary.json").exists()


def test_allow_eviction_runs_and_the_summary_says_so(evicting, tmp_path):
    proc, out = locust_run(tmp_path, *SMALL, *nodes_arg(evicting), "--allow-eviction", "true", run_time="6s")
    assert proc.returncode == 0, proc.stderr[-3000:]
    s = results.load(out).summary
    assert s["flags"]["eviction_allowed"] and "allkeys-lru" in s["cluster_audit"]["eviction_allowed"][0]
    assert any("no replicas" in w for w in s["cluster_audit"]["warnings"])  # check's other warnings, kept
    assert "eviction_allowed" in proc.stdout and "allkeys-lru" in proc.stdout


@pytest.fixture
def silent_port():
    """A TCP port that accepts connections and never answers (as a SIGSTOPped node would)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    yield server.getsockname()[1]
    server.close()


def test_a_silent_node_at_start_up_is_one_line_not_a_hang(tmp_path, silent_port):
    t0 = time.monotonic()
    proc = subprocess.run([*LOCUST, "-f", HA9, "--headless", "-t", "30s", "--only-summary", *SMALL,
                           "--redis-nodes", f"127.0.0.1:{silent_port}", "--results-dir", str(tmp_path / "r")],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert time.monotonic() - t0 < 30
    [line] = _error_lines(proc.stderr)
    assert f"127.0.0.1:{silent_port}: accepted the connection but sent no reply" in line
    assert "paused, stopped or overloaded" in line


@pytest.mark.parametrize("tls", [False, True], ids=["plain", "tls"])
def test_check_says_a_silent_node_is_silent(silent_port, tls, tmp_path):
    args = [sys.executable, "-m", "loadsim", "check", "--redis-nodes", f"127.0.0.1:{silent_port}"]
    if tls:
        from loadsim.embedded.tlsgen import generate

        generate(tmp_path / "pki")
        args += ["--tls-enabled", "true", "--tls-cacert", str(tmp_path / "pki" / "ca.crt")]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1, proc.stderr
    [line] = _error_lines(proc.stderr)
    assert "paused, stopped or overloaded" in line, line
    assert "redis-socket-timeout" not in line and "plain" not in line, line
    assert ("did not answer the TLS handshake" if tls else "sent no reply to HELLO within 5 s") in line, line
