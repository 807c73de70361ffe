"""A full disk, on a small tmpfs (mounted here; the test is skipped where mounting is not allowed): the
pre-flight writes a probe with data (an empty file can still be made on a full disk), and a disk that fills
during a run stops it with one line naming the folder and the fix, exit non-zero, what was written kept.
(Before: the probe only made the folder, then a traceback in on_test_start and a load run to its end with no
results.)"""

import errno
import os
import subprocess
import time
import uuid

import pytest
from run_support import HA9, LOCUST, SMALL, nodes_arg

from loadsim.embedded.cluster import ClusterSpec, EmbeddedCluster


@pytest.fixture
def tmpfs(tmp_path):
    mnt = tmp_path / "small-disk"
    mnt.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def fill(folder):
    """Write until the disk is full."""
    with open(folder / f"filler-{uuid.uuid4().hex}", "wb") as fh:
        try:
            while True:
                fh.write(bytes(64 * 1024))
                fh.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC


@pytest.fixture(scope="module")
def cluster():
    with EmbeddedCluster(ClusterSpec(masters=3)) as c:
        yield c


def _one_error_line(stderr):
    lines = [line for line in stderr.splitlines() if "loadsim: error:" in line]
    assert len(lines) == 1, stderr[-3000:]
    assert "Traceback" not in stderr, stderr[-3000:]
    return lines[0]


def test_a_full_disk_is_refused_before_anything_starts(tmpfs, tmp_path):
    fill(tmpfs)
    out = tmpfs / "run"
    t0 = time.monotonic()
    # no --redis-nodes: a run that got past the check would start an embedded cluster
    proc = subprocess.run([*LOCUST, "-f", HA9, "--headless", "-t", "30s", "--only-summary", *SMALL,
                           "--results-dir", str(out)], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert proc.returncode == 2
    assert time.monotonic() - t0 < 30
    line = _one_error_line(proc.stderr)
    assert f"--results-dir {out}:" in line and "No space left on device" in line and "writable folder" in line
    assert "starting embedded Redis Cluster" not in proc.stderr
    assert not out.exists()  # the probe's folder is not left behind


def test_a_disk_that_fills_during_a_run_stops_it_in_one_line(tmpfs, cluster, tmp_path):
    out = tmpfs / "run"
    proc = subprocess.Popen([*LOCUST, "-f", HA9, "--headless", "-t", "60s", "--only-summary", *SMALL,
                             *nodes_arg(cluster), "--ors-cluster-name", "fulldisk", "--results-dir", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (out / "node_series.csv").exists():
        time.sleep(0.1)
    assert (out / "node_series.csv").exists(), "the run did not start"
    time.sleep(2)
    fill(tmpfs)
    t0 = time.monotonic()
    stdout, stderr = proc.communicate(timeout=90)
    assert time.monotonic() - t0 < 40  # stopped when the disk filled, not at the end of its 60 s
    assert proc.returncode == 2, stderr[-3000:]
    line = _one_error_line(stderr)
    assert f"cannot write in the results folder {out} (No space left on device)" in line
    assert "free space on that disk, or give --results-dir a folder on another one" in line
    # what was written is kept: the series up to the failure, and the start stub
    assert os.path.getsize(out / "client_series.csv") > 0 and (out / "summary.json").exists()
    assert "INCOMPLETE" in stdout and "run:" in stdout  # the figures still shown on the terminal


def test_report_on_a_full_disk_keeps_the_earlier_report(tmpfs, cluster, tmp_path):
    """`loadsim report` writes under temporary names: a failure leaves the earlier report as it was and no empty
    report files (before: "unexpected OSError (a bug)" and 0-byte report.ipynb/report.log, the old one gone)."""
    import sys

    out = tmpfs / "run"
    proc = subprocess.run([*LOCUST, "-f", HA9, "--headless", "-t", "5s", "--only-summary", *SMALL,
                           *nodes_arg(cluster), "--ors-cluster-name", "fullreport", "--results-dir", str(out)],
                          capture_output=True, text=True, timeout=90, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = [sys.executable, "-m", "loadsim", "report", str(out)]
    first = subprocess.run(report, capture_output=True, text=True, timeout=180, cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    before = {name: (out / name).read_bytes() for name in ("report.html", "report.ipynb", "report.log")}
    fill(tmpfs)
    again = subprocess.run(report, capture_output=True, text=True, timeout=180, cwd=tmp_path)
    assert again.returncode == 2
    line = _one_error_line(again.stderr)
    assert f"cannot write in the results folder {out} (No space left on device)" in line, line
    assert {name: (out / name).read_bytes() for name in before} == before  # the earlier report, untouched
    assert not [p.name for p in out.iterdir() if p.name.startswith(".report-")]  # no temporary left behind
