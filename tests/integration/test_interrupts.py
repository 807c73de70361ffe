"""Ctrl-C and SIGTERM of a real Locust run: the users stop first, then the summary is written (interrupted),
then the embedded cluster stops; a repeated signal never breaks the summary. And a results folder that
cannot be written is refused before anything starts."""

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from run_support import HA9, SMALL, nodes_arg
from run_support import LOCUST as PYTHON_LOCUST

from loadsim.embedded.cluster import ClusterSpec, EmbeddedCluster, pid_alive
from loadsim.results import reader as results

LOCUST = [*PYTHON_LOCUST, "-f", HA9, "--headless", "--only-summary"]


@pytest.fixture(scope="module")
def cluster():
    with EmbeddedCluster(ClusterSpec(masters=3)) as c:
        yield c


def start(tmp_path, *args, name="run"):
    """A 60 s run, returned once it has written its first samples and run 3 s more."""
    out = tmp_path / name
    proc = subprocess.Popen([*LOCUST, "-t", "60s", "--results-dir", str(out), *SMALL, *args], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (out / "client_series.csv").exists():
        time.sleep(0.1)
    assert (out / "client_series.csv").exists(), "the run did not start"
    time.sleep(3)
    return proc, out


def signal_and_wait(proc, signum, count=1, gap=0.15):
    for _ in range(count):
        proc.send_signal(signum)
        time.sleep(gap)
    return proc.communicate(timeout=90)


def no_connection_errors(run):
    """Nothing refused or reset: every HA pair stopped before the cluster did."""
    errors = run.summary["errors"]
    assert not any("connection" in kind or "refused" in kind for kind in errors), errors
    failures = (run.path / "locust_failures.csv").read_text()
    assert "refused" not in failures.lower() and "connection" not in failures.lower(), failures


def test_one_sigint_stops_the_users_then_writes_an_interrupted_summary(cluster, tmp_path):
    proc, out = start(tmp_path, *nodes_arg(cluster), "--ors-cluster-name", "int1")
    _, stderr = signal_and_wait(proc, signal.SIGINT)
    assert proc.returncode == 130, stderr[-3000:]  # interrupted (the summary says so too)
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr
    run = results.load(out)
    assert run.summary["complete"] and run.summary["interrupted"]
    assert run.summary["operations"]["session.update"]["count"] > 0
    no_connection_errors(run)
    # what the client counted is what Redis executed: no operation was cut off half-way
    assert run.summary["server"]["commands"] == run.summary["server"]["commands_client_counted"]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_second_signal_does_not_break_the_summary(cluster, tmp_path, signum):
    proc, out = start(tmp_path, *nodes_arg(cluster), "--ors-cluster-name", f"twice{int(signum)}")
    _, stderr = signal_and_wait(proc, signum, count=2)
    assert "Traceback" not in stderr, stderr[-3000:]
    assert proc.returncode == 130, stderr[-3000:]
    run = results.load(out)
    assert run.summary["complete"] and run.summary["interrupted"]
    show = subprocess.run([sys.executable, "-m", "loadsim", "results", "show", str(out)], capture_output=True,
                          text=True, timeout=60)
    assert show.returncode == 0, show.stderr
    assert "complete=True" in show.stdout


def test_repeated_signals_during_the_summary_wait_for_it(cluster, tmp_path):
    """Five signals 20 ms apart: the later ones arrive while the users stop and the summary is written."""
    proc, out = start(tmp_path, *nodes_arg(cluster), "--ors-cluster-name", "many")
    _, stderr = signal_and_wait(proc, signal.SIGINT, count=5, gap=0.02)
    assert "Traceback" not in stderr, stderr[-3000:]
    assert "please wait" in stderr
    run = results.load(out)
    assert run.summary["complete"] and run.summary["interrupted"]
    assert proc.returncode == 130


def _redis_children(pid):
    """pids of the redis-server processes whose parent is *pid*."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name, rest = stat.split("(", 1)[1].rsplit(")", 1)
        if int(rest.split()[1]) == pid and name.startswith("redis-server"):
            found.append(int(entry.name))
    return found


def test_sigterm_on_the_embedded_cluster_stops_users_then_the_cluster(tmp_path):
    proc, out = start(tmp_path, "--ors-cluster-name", "emb")
    nodes = _redis_children(proc.pid)
    assert len(nodes) == 3, nodes  # the embedded cluster of this run
    _, stderr = signal_and_wait(proc, signal.SIGTERM)
    assert proc.returncode == 130, stderr[-3000:]  # interrupted; was 1 when "Connection refused" failures
    assert "Traceback" not in stderr
    run = results.load(out)
    assert run.summary["complete"] and run.summary["interrupted"] and run.summary["cluster"]["embedded"]
    no_connection_errors(run)
    deadline = time.monotonic() + 10
    while any(pid_alive(p) for p in nodes) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(pid_alive(p) for p in nodes), "redis-server processes of the run are still running"
    assert stderr.index("embedded cluster stopped") > stderr.index("SIGTERM: stopping the HA pairs")


@pytest.mark.parametrize("where", ["file", "under-a-file"])
def test_a_results_dir_that_cannot_be_written_is_refused_before_the_cluster_starts(tmp_path, where):
    a_file = tmp_path / "file.txt"
    a_file.write_text("keep me\n")
    target = a_file if where == "file" else a_file / "sub"
    t0 = time.monotonic()
    # no --redis-nodes: a run that got past the check would start an embedded cluster
    proc = subprocess.run([*LOCUST, "-t", "60s", "--results-dir", str(target), *SMALL], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert time.monotonic() - t0 < 30  # not the whole -t
    lines = [line for line in proc.stderr.splitlines() if "loadsim: error:" in line]
    assert len(lines) == 1, proc.stderr
    assert f"--results-dir {target}:" in lines[0] and "give a writable folder" in lines[0]
    assert "is a file, not a folder" in lines[0]
    assert "Traceback" not in proc.stderr and "starting embedded Redis Cluster" not in proc.stderr
    assert a_file.read_text() == "keep me\n"  # nothing already written is lost


def test_ctrl_c_while_the_embedded_cluster_starts_is_one_line_and_stops_its_nodes(tmp_path):
    """Ctrl-C while redis-server processes start (a 40-line traceback before): one line, exit 130, no node left
    running, no results folder."""
    out = tmp_path / "run"
    proc = subprocess.Popen([*LOCUST, "-t", "60s", "--results-dir", str(out), *SMALL, "--masters", "6",
                             "--replicas", "1"], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    deadline = time.monotonic() + 60
    nodes: list[int] = []
    while time.monotonic() < deadline and not nodes:  # the first redis-server of the cluster being started
        nodes = _redis_children(proc.pid)
        time.sleep(0.02)
    assert nodes, "no embedded cluster started"
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=90)
    assert proc.returncode == 130, stderr[-3000:]
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr[-3000:]
    lines = [line for line in stderr.splitlines() if line.startswith("loadsim:")]
    assert lines == ["loadsim: interrupted while starting: nothing was run (an embedded cluster that was starting "
                     "has been stopped)"], stderr[-3000:]
    deadline = time.monotonic() + 10
    while any(pid_alive(p) for p in nodes) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(pid_alive(p) for p in nodes), "redis-server processes of the interrupted start are running"
    assert not out.exists()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_while_the_master_waits_for_its_workers_ends_it(cluster, tmp_path, signum):
    """A headless Locust master whose workers never came (here: none started; a wrong --master-port does the
    same) waited for them forever: loadsim's handler had no test to stop, Locust's waiting loop never looked, and
    SIGTERM from ``timeout`` left it running for an hour. It now exits 130 with one line, nothing written."""
    from run_support import free_port

    port = str(free_port())
    out = tmp_path / "run"
    proc = subprocess.Popen([*LOCUST, "-t", "10s", "--results-dir", str(out), *SMALL, *nodes_arg(cluster),
                             "--master", "--expect-workers", "2", "--master-bind-port", port],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        seen = ""
        while time.monotonic() < deadline and "Waiting for workers" not in seen:
            time.sleep(0.5)
            seen = proc.stderr.readline() if proc.poll() is None else seen
        assert proc.poll() is None and "Waiting for workers" in seen, seen
        proc.send_signal(signum)
        _, stderr = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, stderr[-3000:]
    assert "Traceback" not in stderr, stderr[-3000:]
    assert "before the test started" in stderr, stderr[-3000:]
    assert not (out / "summary.json").exists()
