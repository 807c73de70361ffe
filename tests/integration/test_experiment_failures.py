"""`loadsim sweep` and `loadsim compare-tls` stop at once when their first run fails, and say why in one line."""

import json
import subprocess
import sys
import time


def loadsim(*args, timeout=180):
    return subprocess.run([sys.executable, "-m", "loadsim", *args], capture_output=True, text=True, timeout=timeout)


def _one_error_line(proc):
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("loadsim: error:"), proc.stderr
    assert "Traceback" not in proc.stderr
    return lines[0]


# A scenario that passes the up-front option check (``loadsim sweep``/``compare-tls`` start each point's run once
# with CHECK_ONLY_ENV set, and it exits after its checks) and fails when the run really starts.
BROKEN_AT_RUN_TIME = """
import os

from loadsim.config.simulation import CHECK_ONLY_ENV
from loadsim.scenarios.ha9 import HaPair  # noqa: F401

if not os.environ.get(CHECK_ONLY_ENV):
    raise RuntimeError("this scenario is broken at run time")
"""


def test_a_bad_locust_option_is_refused_before_anything_starts(tmp_path):
    """An option no run would accept is refused by the up-front check: one line, nothing started or written."""
    out = tmp_path / "sw"
    proc = loadsim("sweep", "--ha-pairs", "1,3", "--tls", "off,on", "--run-time", "30s", "--out", str(out),
                   "--", "--no-such-locust-option")
    line = _one_error_line(proc)
    assert proc.returncode == 2 and "--no-such-locust-option" in line and "nothing was started" in line
    assert not (out / "sweep.json").exists() and "[1/4]" not in proc.stdout


def test_sweep_stops_when_its_first_run_fails(tmp_path):
    """The first run fails after its options passed: the 3 other points would fail the same way, so the sweep
    stops after one and names the run's log."""
    scenario = tmp_path / "broken.py"
    scenario.write_text(BROKEN_AT_RUN_TIME)
    out = tmp_path / "sw"
    t0 = time.monotonic()
    proc = loadsim("sweep", "--ha-pairs", "1,3", "--tls", "off,on", "--run-time", "30s", "--out", str(out),
                   "--scenario", str(scenario))
    line = _one_error_line(proc)
    assert proc.returncode == 2
    assert "the first run failed" in line and "broken at run time" in line and ".log" in line
    assert time.monotonic() - t0 < 120  # the up-front checks and one failed start, not four runs of 30 s
    index = json.loads((out / "sweep.json").read_text())
    assert len(index["runs"]) == 1 and not index["runs"][0]["ok"] and not index["complete"]
    assert "[1/4]" in proc.stdout and "[2/4]" not in proc.stdout


def test_compare_tls_stops_when_its_first_run_fails(tmp_path):
    scenario = tmp_path / "broken.py"
    scenario.write_text(BROKEN_AT_RUN_TIME)
    out = tmp_path / "cmp"
    proc = loadsim("compare-tls", str(scenario), "--ha-pairs", "1", "--run-time", "30s", "--saturation-steps", "0",
                   "--out", str(out))
    line = _one_error_line(proc)
    assert proc.returncode == 2 and "the first run failed" in line
    index = json.loads((out / "compare.json").read_text())
    assert len(index["fixed"]) == 1 and not index["fixed"][0]["ok"] and not index["complete"]
    assert "[2/6]" not in proc.stdout


def test_an_exported_password_is_for_the_users_cluster_not_the_embedded_ones(tmp_path):
    """LOCUST_PASSWORD (and the other connection variables) exported for the user's cluster made every run of a
    sweep fail against its password-less embedded cluster; they are left out of the runs, and said so."""
    import os

    out = tmp_path / "sw"
    env = {**os.environ, "LOCUST_PASSWORD": "for-my-own-cluster-9", "LOCUST_USERNAME": "ors"}
    proc = subprocess.run([sys.executable, "-m", "loadsim", "sweep", "--ha-pairs", "1", "--run-time", "3s",
                           "--cps-per-pair", "2", "--out", str(out), "--", "--aht", "2"], capture_output=True,
                          text=True, timeout=240, env=env)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "note: LOCUST_PASSWORD, LOCUST_USERNAME are for your own cluster" in proc.stdout
    index = json.loads((out / "sweep.json").read_text())
    assert index["complete"] and all(run["ok"] for run in index["runs"])
    assert "for-my-own-cluster-9" not in proc.stdout + proc.stderr
