"""loadsim capacity end to end on a real embedded cluster, with a real redis-benchmark: bounded (one short open-loop
step, a few thousand closed-loop requests per command)."""

import csv
import json
import os
import shutil
import subprocess
import sys

import pytest
from run_support import ROOT, SMALL, locust_run, nodes_arg

from loadsim.model.latency import monotone_curve

SHORT = ["--steps", "1", "--step-time", "6s", "--requests", "3000", "--clients", "10", "--concurrency", "1,2,4,8",
         "--curve-requests", "2000"]


def _capacity(out, *more):
    return subprocess.run([sys.executable, "-m", "loadsim", "capacity", *SHORT, *more, "--out", str(out), "--",
                           "--aht", "10", "--cps-per-pair", "10"], cwd=ROOT, capture_output=True, text=True,
                          timeout=240)


def _plan(out):
    proc = subprocess.run([sys.executable, "-m", "loadsim", "plan", "--from", str(out), "--json"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode in (0, 3), proc.stderr[-2000:]
    return json.loads(proc.stdout)


def check_curve(result, stdout, plan):
    """The curve's levels are classified consistently, its points are the levels it used, and capacity's text says
    the queueing and the ceiling plan --from the folder uses, as plan says them."""
    curve = result["queue_curve"]
    levels = curve["levels"]
    assert levels[0]["clients"] == 1 and [lv["clients"] for lv in levels] == sorted(lv["clients"] for lv in levels)
    for lv in levels:
        assert lv["commands_per_s"] > 0 and 0 < lv["utilisation"] < 1.5 and lv["p99_us"] >= lv["p50_us"] > 0
        assert lv["used"] == (not lv["driver_bound"] and not lv["host_bound"])
        assert lv["host_bound"] == ((lv["redis_runqueue_share"] or 0) >= 0.01)
    used = [lv for lv in levels if lv["used"]] if levels[0]["used"] else []
    assert curve["points"] == [list(p) for p in monotone_curve([(lv["utilisation"], lv["wait_p99_us"]) for lv in used])]
    assert curve["method"] and curve["driver_version"] and curve["unloaded_p99_us"] == levels[0]["p99_us"]
    queueing = plan["prediction"]["latency"]["queueing"]
    assert f"  queueing plan uses: {queueing}\n" in stdout
    # a curve (a quiet machine) replaces M/M/1; none (every level host- or driver-bound) leaves the assumption, said
    assert queueing.startswith(("measured curve (capacity run", "M/M/1 (assumption): the measured")) \
        if curve["points"] else queueing.startswith("M/M/1 (assumption)")
    # one ceiling: capacity's line is plan's figure, the same text as plan's busiest-master line
    ceiling = plan["prediction"]["master_ceiling_commands_per_s"]
    line = next(x for x in stdout.splitlines() if x.startswith("  ceiling plan uses: "))
    assert f"a master's ceiling {ceiling:,.0f} commands/s" in line
    text = subprocess.run([sys.executable, "-m", "loadsim", "plan", "--from", result["_out"]], cwd=ROOT,
                          capture_output=True, text=True, timeout=120).stdout
    assert line.removeprefix("  ceiling plan uses: ") in text
    # plan's text names the same queueing (one function, loadsim.model.latency.queueing, for every surface); a curve
    # is read only for a question within its kept levels' connections (plan's question: HA pairs x worker threads)
    assert f"({queueing})" in text
    d = plan["deployment"]
    kept = max((lv["clients"] for lv in used), default=0)
    if curve["points"] and d["ha_pairs"] * d["worker_threads"] > kept:
        assert queueing.startswith(f"M/M/1 (assumption): the measured {'TLS' if result['tls'] else 'plain'} curve "
                                   f"stops at {kept} connections"), queueing
    assert "one core:" not in stdout and "not a ceiling plan uses" in stdout
    # the report on the same folder: its verdict's queueing and its unit-cost table's queueing row say the same
    from loadsim.report import sizing as report

    v, _ = report.verdict_for(result["_out"], {})
    assert v.prediction.latency.queue_basis == queueing
    assert v.prediction.master_ceiling_commands_per_s == pytest.approx(ceiling)
    costs, _ = report.costs_for(result["_out"], v.prediction.tls)
    row = report.costs_table(costs).loc["Redis queueing: latency-vs-load curve measured up to (% of a core)"]
    assert row["how"] == plan["unit_costs"]["redis_execution_us"]["queueing"]
    assert row["source"] == ("capacity measurement" if curve["points"] else "assumption")
    # the web tab's rows of that verdict (the finished run's, as plan --from gives it) carry the same label
    from loadsim.locust.webui import tab_rows

    rows = tab_rows({"final": {"verdict": plan, "masters": {}}, "projection": {}, "results": result["_out"]})
    [latency_row] = [r for r in rows if r["item"].startswith("constraint: latency")]
    assert f"({queueing})" in latency_row["detail"]


def check_run_with_the_capacity_folder(result, out, cluster, tmp_path):
    """A run given the capacity folder (--capacity-from): its verdict on the web tab (``run_verdict``, what the Redis
    Cluster tab shows) and plan --from the run are one, with the capacity's CPU per command and the queueing of its
    plain curve (or M/M/1 saying why it is not read); a run given none says no curve was given."""
    from loadsim.locust.webui import run_verdict, tab_rows

    proc, run = locust_run(tmp_path, *SMALL, *nodes_arg(cluster), "--capacity-from", str(out), run_time="5s")
    assert proc.returncode == 0, proc.stderr[-2000:]
    plan = _plan(run)
    summary = json.loads((run / "summary.json").read_text())
    web = run_verdict(summary, run)
    assert web == {k: v for k, v in plan.items() if k not in ("from", "runs", "ok")}
    # the tab's live projection, from the run's own samples (node_series.csv holds the rows the tab read): the
    # question plan --from asks, with the capacity's CPU per command as plan reads it (the live samples calibrate
    # the rest: memory and commands per operation, so the per-command figure is the capacity's at either mix)
    from loadsim.config.simulation import run_settings
    from loadsim.locust.webui import node_series, projection
    from loadsim.results.runs import workload_of

    with open(run / "node_series.csv", newline="") as f:
        samples = list(csv.DictReader(f))
    config = json.loads((run / "config.json").read_text())
    settings = run_settings(config["simulation"])
    live = projection(node_series(samples), summary["live_sessions"]["steady_mean"], workload_of(config),
                      capacity_from=settings.capacity_from, network_rtt_us=settings.network_rtt_us)
    assert live["ready"], live
    assert str(out / "capacity.json") in live["unit_costs_source"]
    server_cpu = plan["unit_costs"]["server_cpu"]["us_per_command"]
    assert live["cpu_us_per_command"] == pytest.approx(server_cpu, rel=0.05), (live, server_cpu)
    latency = next(n for n in live["constraints"] if n.startswith("latency"))
    assert live["constraints"][latency] == next(k["status"] for k in plan["constraints"] if k["name"] == latency)
    queueing = plan["prediction"]["latency"]["queueing"]
    where = str(out / "capacity.json")
    if result["queue_curve"]["points"]:  # a curve: read, or M/M/1 saying why (3 HA pairs x 2 threads = 6 per master)
        assert queueing.startswith((f"measured curve (capacity run {where}: redis-benchmark at increasing "
                                    "concurrency, plain", "M/M/1 (assumption): the measured plain curve stops at",
                                    "M/M/1 (assumption): ")), queueing
        assert "no measured plain curve was given" not in queueing
    else:  # every level left off (a busy machine): said so, not "none given"
        assert queueing.startswith("M/M/1 (assumption): the measured plain curve kept no level (capacity run "
                                   f"{where}"), queueing
    assert any(where in r["basis"] for r in plan["unit_costs"]["table"]), plan["unit_costs"]["table"]
    rows = tab_rows({"final": {"verdict": web, "masters": {}}, "projection": {}, "results": str(run)})
    [latency_row] = [r for r in rows if r["item"].startswith("constraint: latency")]
    assert f"({queueing})" in latency_row["detail"]


def test_capacity_measures_one_master_open_and_closed_loop(tmp_path, plain_cluster):
    out = tmp_path / "cap"
    proc = _capacity(out, "--cpu-ceiling", "0.75")  # the old name of --stop-at-cpu: accepted, and said in one line
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    result = json.loads((out / "capacity.json").read_text())
    assert result["kind"] == "loadsim-capacity" and result["version"] == 1 and not result["tls"]
    assert result["cpu_ceiling_percent"] == 75
    [note] = [line for line in proc.stdout.splitlines() if line.startswith("note: capacity --cpu-ceiling")]
    assert note.startswith("note: capacity --cpu-ceiling is now --stop-at-cpu (where stepping stops: 75 % of one")
    # the ceiling plan uses is plan's own (--cpu-ceiling, 70 % by default), named as such: another figure
    [ceiling] = [line for line in proc.stdout.splitlines() if line.startswith("  ceiling plan uses: ")]
    assert "(--cpu-ceiling 70 % of a core less" in ceiling
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
    plan = _plan(out)
    check_curve({**result, "_out": str(out)}, proc.stdout, plan)
    table = {r["unit cost"]: r for r in plan["unit_costs"]["table"]}
    per_command = table["server CPU per command, plain (beyond its bytes)"]
    assert per_command["source"] == "capacity measurement" and str(out / "capacity.json") in per_command["basis"]
    assert f"plain = {per_command['value']:.1f} µs (capacity measurement)" in proc.stdout
    per_byte = table["server CPU per byte received, plain"]["value"]
    # a command of the capacity mix's size costs exactly the closed loop's server CPU per command at saturation
    at_mix = per_command["value"] + per_byte * 1e-3 * closed["bytes_per_command"]
    assert at_mix == pytest.approx(c["server_us_per_command_at_saturation"], rel=1e-6)
    check_run_with_the_capacity_folder(result, out, plain_cluster, tmp_path)


MEMTIER = os.environ.get("MEMTIER_BENCHMARK") or shutil.which("memtier_benchmark")


@pytest.mark.skipif(not MEMTIER, reason="memtier_benchmark is not installed (not packaged for Debian: build it as its "
                                        "README says and put it on PATH or in MEMTIER_BENCHMARK)")
def test_capacity_curve_with_memtier(tmp_path):
    out = tmp_path / "cap"
    proc = _capacity(out, "--memtier", MEMTIER)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    result = json.loads((out / "capacity.json").read_text())
    assert result["queue_curve"]["driver"] == "memtier_benchmark"
    assert "memtier" in result["queue_curve"]["driver_version"].lower()
    check_curve({**result, "_out": str(out)}, proc.stdout, _plan(out))
