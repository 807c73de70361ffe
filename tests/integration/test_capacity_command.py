"""loadsim capacity end to end on a real embedded cluster, with a real redis-benchmark: bounded (one short open-loop
step, a few thousand closed-loop requests per command)."""

import json
import subprocess
import sys

import pytest
from run_support import ROOT


def test_capacity_measures_one_master_open_and_closed_loop(tmp_path):
    out = tmp_path / "cap"
    proc = subprocess.run([sys.executable, "-m", "loadsim", "capacity", "--steps", "1", "--step-time", "6s",
                           "--requests", "3000", "--clients", "10", "--out", str(out), "--", "--aht", "10",
                           "--cps-per-pair", "10"],
                          cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    result = json.loads((out / "capacity.json").read_text())
    assert result["kind"] == "loadsim-capacity" and result["version"] == 1 and not result["tls"]
    [step] = result["open_loop"]["steps"]
    assert step["ha_pairs"] == 1 and step["commands_per_s_busiest_master"] > 0 and step["p99_us"] > 0
    assert step["run_class"] in ("clean", "rig-bound", "redis-bound") and step["evidence"]
    closed = result["closed_loop"]
    assert set(closed["mix"]) == {"set", "set owner", "del"}
    for name, figures in closed["per_command"].items():
        # every request reached the master the keys were tagged for (a MOVED would have failed the run)
        assert figures["calls"] >= 3000, name
        assert figures["rps"] > 0 and figures["server_us_per_command"] > 0
    c = result["capacity"]
    assert c["closed_loop_commands_per_s"] > 0 and c["server_us_per_command_at_saturation"] > 0
    assert c["stopped_by"] in ("steps", "slo", "generator", "cpu-ceiling")
    assert (out / "capacity.png").stat().st_size > 1000
    assert "closed loop (redis-benchmark" in proc.stdout and "capacity.json" in proc.stdout
    # which ceiling plan uses, said: the CPU per command (not redis-benchmark's rate), and plan --from this folder
    # prints the same figure with the same source
    assert closed["bytes_per_command"] > 0
    assert "plan --from this folder uses the CPU per command, not a rate" in proc.stdout
    assert "redis-benchmark drove on this machine (the driver shares the cores): not used by plan" in proc.stdout
    plan = subprocess.run([sys.executable, "-m", "loadsim", "plan", "--from", str(out), "--json"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert plan.returncode in (0, 3), plan.stderr[-2000:]
    table = {r["unit cost"]: r for r in json.loads(plan.stdout)["unit_costs"]["table"]}
    per_command = table["server CPU per command, plain (beyond its bytes)"]
    assert per_command["source"] == "capacity measurement" and str(out / "capacity.json") in per_command["basis"]
    assert f"plain = {per_command['value']:.1f} µs (capacity measurement)" in proc.stdout
    per_byte = table["server CPU per byte received, plain"]["value"]
    # a command of the capacity mix's size costs exactly the closed loop's server CPU per command at saturation
    at_mix = per_command["value"] + per_byte * 1e-3 * closed["bytes_per_command"]
    assert at_mix == pytest.approx(c["server_us_per_command_at_saturation"], rel=1e-6)
