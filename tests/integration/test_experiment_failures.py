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


def test_sweep_stops_when_its_first_run_fails(tmp_path):
    """A Locust option loadsim does not know passes the up-front check (it belongs to Locust) and fails the run:
    the 3 other points would fail the same way, so the sweep stops after one."""
    out = tmp_path / "sw"
    t0 = time.monotonic()
    proc = loadsim("sweep", "--ha-pairs", "1,3", "--tls", "off,on", "--run-time", "30s", "--out", str(out),
                   "--", "--no-such-locust-option")
    line = _one_error_line(proc)
    assert proc.returncode == 2
    assert "the first run failed" in line and "--no-such-locust-option" in line and ".log" in line
    assert time.monotonic() - t0 < 90  # one cluster start, not four runs of 30 s
    index = json.loads((out / "sweep.json").read_text())
    assert len(index["runs"]) == 1 and not index["runs"][0]["ok"] and not index["complete"]
    assert "[1/4]" in proc.stdout and "[2/4]" not in proc.stdout


def test_compare_tls_stops_when_its_first_run_fails(tmp_path):
    scenario = tmp_path / "broken.py"
    scenario.write_text("raise RuntimeError('this scenario is broken')\n")
    out = tmp_path / "cmp"
    proc = loadsim("compare-tls", str(scenario), "--ha-pairs", "1", "--run-time", "30s", "--saturation-steps", "0",
                   "--out", str(out))
    line = _one_error_line(proc)
    assert proc.returncode == 2 and "the first run failed" in line
    index = json.loads((out / "compare.json").read_text())
    assert len(index["fixed"]) == 1 and not index["fixed"][0]["ok"] and not index["complete"]
    assert "[2/6]" not in proc.stdout
