"""A real compare-tls with --precision and --budget: more pairs until the budget is spent, said and recorded."""

import json
import re
import subprocess
import sys


def test_compare_tls_stops_by_budget_and_prints_intervals(tmp_path):
    out = tmp_path / "cmp"
    proc = subprocess.run([sys.executable, "-m", "loadsim", "compare-tls", "--ha-pairs", "1", "--repeats", "3",
                           "--run-time", "3s", "--saturation-steps", "0", "--cps-per-pair", "10",
                           "--complexity", "simple", "--precision", "1%", "--budget", "40s", "--out", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    index = json.loads((out / "compare.json").read_text())
    # a ±1 % goal on 3-second runs is out of reach: the budget stops it, after the planned 3 pairs at least
    assert index["stopped_by"] == "budget" and index["repeats_done"] >= 3, proc.stdout
    assert len(index["fixed"]) == 2 * index["repeats_done"]
    assert [e["point"]["tls"] for e in index["fixed"]] == [False, True] * index["repeats_done"]
    widths = index["half_widths"]
    assert set(widths) == {"server_cpu_us_per_command", "p99_us"} and all(w > 0.01 for w in widths.values())
    lines = re.findall(r"^\[repeat (\d+)\] server CPU/command TLS/plain [\d.]+ \[[\d.]+, [\d.]+\] ±[\d.]+ %; "
                       r"p99 [\d.]+ \[[\d.]+, [\d.]+\] ±[\d.]+ % \(goal ±1 %, budget 40 s\)$", proc.stdout, re.M)
    assert [int(n) for n in lines] == list(range(2, index["repeats_done"] + 1))  # repeat 1 has no interval yet
    assert re.search(rf"^stopped by budget after {index['repeats_done']} repeat\(s\): another repeat would not fit "
                     r"in the 40 s budget$", proc.stdout, re.M)
