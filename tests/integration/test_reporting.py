"""A small real sweep rendered by `loadsim report`; `loadsim plan` (the TLS comparison: test_tls_report.py)."""

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

from loadsim.results import reader as results


def loadsim(*args, timeout=600):
    return subprocess.run([sys.executable, "-m", "loadsim", *args], capture_output=True, text=True,
                          timeout=timeout)


FAST = ["--", "--aht", "20", "--worker-threads", "2"]
# 600 and 1,800 live sessions of the standard preset (~3 and ~9 MB): enough session bytes beside the ~2 MB base of
# a master for two runs to calibrate the memory model within a few % (at 10 calls/s of 1 KB sessions the base
# and the factor traded places by 5.6 % between two sweeps)
SWEEP_CPS = 30


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep") / "s"
    proc = loadsim("sweep", "--ha-pairs", "1,3", "--cps-per-pair", str(SWEEP_CPS), "--run-time", "6s", "--out",
                   str(out), "--complexity", "standard", *FAST)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "[1/2]" in proc.stdout and "[2/2]" in proc.stdout and "left" in proc.stdout  # progress + estimate
    (out.parent / "sweep.stdout").write_text(proc.stdout)  # its closing verdict line, compared with the others
    return out


def test_sweep_indexes_one_folder_per_point(sweep):
    index = json.loads((sweep / "sweep.json").read_text())
    assert index["complete"] and [r["ok"] for r in index["runs"]] == [True, True]
    pairs = [results.load(sweep / r["path"]).summary["workload"]["ha_pairs"] for r in index["runs"]]
    assert pairs == [1, 3]


def test_report_on_sweep_uses_the_runs(sweep):
    proc = loadsim("report", str(sweep))
    assert proc.returncode == 0, proc.stderr[-2000:]
    html = (sweep / "report.html").read_text()
    for png in ("memory_per_node.png", "recommended_masters.png", "p99_vs_ha_pairs.png", "cpu_per_master.png"):
        assert (sweep / "figures" / png).stat().st_size > 5000
    # the calibration in the report's unit-cost table is the one plan --from fits on the same runs
    from loadsim.model import sizing
    from loadsim.results.runs import read_runs

    runs = read_runs(sweep)
    costs = sizing.fit_unit_costs(runs)
    from loadsim.report.render import document_number

    # as the report's table prints it: costs_table rounds to 3 places, then document_number keeps 3 digits (the
    # test rounded to 4 first: 0.97649 read 0.977 here and 0.976 in the table, a failure one run in a few)
    assert f">{document_number(round(costs.memory_factor, 3))}<" in html
    # the verdict is the headline, before the figures, which are embedded in the page; it is the one assessment
    # plan --from prints for the same runs, of the same question: the sweep's largest point (3 pairs, 3 masters)
    verdict = re.search(r"(PASS|FAIL): 3 HA pairs on 3 masters x 1 nodes", html)
    assert verdict, "no verdict headline"
    images = [m.start() for m in re.finditer(r'<img [^>]*src="data:image/png;base64,', html)]
    assert len(images) >= 4 and verdict.start() < images[0]
    plan = loadsim("plan", "--from", str(sweep))
    assert re.search(r"^(PASS|FAIL): 3 HA pairs", plan.stdout, re.M).group(1) == verdict.group(1)
    assert "; for the sweep's largest point (002-p3-" in plan.stdout.splitlines()[0]  # the question, first
    # sweep's closing line: the same verdict for the same runs and the same question
    closing = re.search(r"^verdict: (PASS|FAIL): 3 HA pairs on 3 masters x 1 nodes .*; for the sweep's largest point",
                        (sweep.parent / "sweep.stdout").read_text(), re.M)
    assert closing and closing.group(1) == verdict.group(1)
    assert "calibrated on 2 measured runs" in html
    # one CPU per command for the folder, with its source: plan's figure is the report's unit-cost table's
    planned = json.loads(loadsim("plan", "--from", str(sweep), "--json").stdout)["unit_costs"]
    at = planned["server_cpu"]["bytes_per_command"]
    row = {r["unit cost"]: r for r in planned["table"]}[f"server CPU per command at {at:,.0f} B, plain"]
    assert row["value"] == pytest.approx(planned["server_cpu"]["us_per_command"])
    assert f">{document_number(round(row['value'], 3))}<" in html and ">fitted runs<" in html
    assert planned["server_cpu"]["line"] in plan.stdout
    # each run's text labels its own figure with its window and prints the unit cost plan --from that run uses
    from loadsim.results.text import summary_table

    for run in runs:
        text = summary_table(results.load(run.path).summary)
        assert re.search(r"us CPU/command over the (steady window, idle CPU included|whole run, pre-fill)", text)
        unit = re.search(r"^unit cost for sizing \(plan --from this run\): server CPU .* plain = ([\d.]+ µs "
                         r"\(fitted runs\)) \+ ([\d.]+ ns/B \(reference value\)).*a master's base CPU ([\d.]+ % of a "
                         r"core \(fitted runs\))", text, re.M)
        assert unit, text
        alone = loadsim("plan", "--from", run.path).stdout
        assert all(part in alone for part in unit.groups()), (unit.groups(), alone)
    # latency is the production composition on any machine, in the report as in plan
    assert "NOT ASSESSED" not in html and "NOT ASSESSED" not in plan.stdout
    assert "p99 at a 200 µs network round trip" in html and "p99 at a 200 µs network round trip" in plan.stdout


def test_plan_default_and_from_runs(sweep):
    proc = loadsim("plan")
    # the built-in unit costs give 9 pairs on 3 masters a wide margin (see docs/workload.md): PASS, exit 0
    assert proc.returncode == 0 and re.search(r"^PASS: 9 HA pairs on 3 masters", proc.stdout, re.M)
    assert "binding constraint:" in proc.stdout and "assumption" in proc.stdout
    # the smallest node accepted (64 MiB) with sessions that live a day: memory binds
    # (a what-if over the sweep's own question, with a replica so that failover passes)
    proc = loadsim("plan", "--from", str(sweep), "--node-ram-gib", "0.0625", "--aht-s", "86400", "--replicas", "1")
    assert proc.returncode == 3 and "FAIL" in proc.stdout and "binding constraint: memory" in proc.stdout
    assert "what-if: aht-s 20 -> 86400, replicas 0 -> 1, node-ram-bytes" in proc.stdout
    assert "calibrated on 2 measured runs" in proc.stdout


def test_validate_calibrated_on_standard_runs_predicts_a_complex_run(sweep, tmp_path):
    """Runs calibrate the memory model instead of replacing it: calibrated on the standard preset (1 and 3 pairs),
    it predicts a complex-preset run (16 KB sessions, not 4 KB) within 5 % on used_memory. (Fitting measured
    bytes per session and using them as they are gave -65.8 % here.) Server CPU is predicted and judged against
    its 15 % target, and the exit code says whether both targets held."""
    out = tmp_path / "complex"
    proc = loadsim("sweep", "--ha-pairs", "2", "--cps-per-pair", "10", "--run-time", "6s", "--out", str(out),
                   "--complexity", "complex", *FAST)
    assert proc.returncode == 0, proc.stderr[-2000:]
    proc = loadsim("validate", "--fit", str(sweep), "--check", str(out))
    assert proc.returncode in (0, 3), proc.stdout + proc.stderr[-2000:]  # 3: outside a target
    error = float(re.search(r"^used_memory: .* error ([-+][\d.]+) %", proc.stdout, re.M).group(1))
    assert abs(error) <= 5.0, proc.stdout
    cpu = float(re.search(r"^server CPU \(steady window\): .* error ([-+][\d.]+) %", proc.stdout, re.M).group(1))
    # how close the CPU comes depends on the host, not only on the model: six trials of 6 s runs measured -14.4 ..
    # +26.2 % at 93-99 % CPU pressure, the same run repeating to 10-12 % (sd) there, moved by what a wake-up costs
    # the master on a shared host (docs/workload.md, "How well it predicts"), so the figure is not asserted here;
    # that validate judges it is
    assert math.isfinite(cpu) and (proc.returncode == 0) == (abs(cpu) <= 15.0 and abs(error) <= 5.0)
    assert "calibrated on 2 runs: memory model x " in proc.stdout


def test_report_parameters_are_the_plans(sweep):
    proc = loadsim("report", str(sweep), "-p", "latency_slo=20000")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "no such parameter" in proc.stderr
    assert "latency_slo_p99_us" in proc.stderr and "Traceback" not in proc.stderr


def _plan_json(folder):
    proc = loadsim("plan", "--from", str(folder), "--json")
    assert proc.returncode in (0, 3), proc.stderr[-2000:]
    return json.loads(proc.stdout)


def test_under_a_cpu_hog_runs_are_rig_bound_and_the_answer_says_so(sweep, tmp_path):
    """Both cores busy with other work (the test's own two busy loops): the runs are classified rig-bound with the
    evidence, the report still renders, latency is still assessed for production (the rig's time is not in it, and
    the rig-bound runs' Redis figures stay out of it) and memory is what the quiet sweep gives."""
    hogs = [subprocess.Popen([sys.executable, "-c", "import time\nend = time.time() + 240\nwhile time.time() < end: "
                              "pass"]) for _ in range(2)]
    out = tmp_path / "hog"
    try:
        proc = loadsim("sweep", "--ha-pairs", "1,3", "--cps-per-pair", str(SWEEP_CPS), "--run-time", "15s",
                       "--out", str(out), "--complexity", "standard", *FAST)
    finally:
        for h in hogs:
            h.kill()
            h.wait()
    assert proc.returncode == 0, proc.stderr[-2000:]
    from loadsim.results.runs import read_runs

    runs = read_runs(out)
    assert [r.run_class for r in runs] == ["rig-bound", "rig-bound"], [r.evidence for r in runs]
    assert all(r.evidence.startswith("rig-bound: ") for r in runs)
    proc = loadsim("report", str(out))
    assert proc.returncode == 0, proc.stderr[-2000:]
    html = (out / "report.html").read_text()
    assert "NOT ASSESSED" not in html and "p99 at a 200 µs network round trip" in html
    for png in ("memory_per_node.png", "recommended_masters.png", "envelope.png", "p99_vs_ha_pairs.png"):
        assert (out / "figures" / png).stat().st_size > 5000
    hog, quiet = _plan_json(out), _plan_json(sweep)
    latency = next(c for c in hog["constraints"] if c["name"].startswith("latency"))
    assert latency["status"] in ("PASS", "FAIL") and latency["value"] >= 200
    assert hog["unit_costs"]["redis_execution_us"]["source"].startswith("the reference machine's")
    hog_mem, quiet_mem = (v["prediction"]["memory_per_master_bytes"] for v in (hog, quiet))
    assert abs(hog_mem / quiet_mem - 1) <= 0.05, (hog_mem, quiet_mem)


def test_report_bad_folder_is_one_line(tmp_path):
    proc = loadsim("report", str(tmp_path / "missing"))
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    proc = loadsim("report", str(tmp_path))
    assert proc.returncode == 2 and "no runs" in proc.stderr


def test_a_failing_report_names_the_cell_as_jupyterlab_numbers_it(tmp_path):
    """The template's third code cell (the timeline) fails on a run folder without its series: the message names
    it [3], as JupyterLab does after Run All on the template, not [4] as papermill's executed copy numbers it."""
    (tmp_path / "summary.json").write_text(json.dumps({"schema_version": 3, "complete": True, "workload": {},
                                                       "rates": {}, "operations": {}, "masters": [], "server": {},
                                                       "faults": [{"action": "kill-master", "done_s": 1.0}]}))
    proc = loadsim("report", str(tmp_path))
    err = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(err) == 1, proc.stderr
    assert "failed in cell [3] of recovery.ipynb ('fig = report.plot_timelines(run)')" in err[0]


def test_make_notebook_works_on_copies_never_on_the_templates(tmp_path):
    root = Path(__file__).resolve().parents[2]
    template = root / "loadsim" / "notebooks" / "sizing.ipynb"
    before = template.read_bytes()
    copies = tmp_path / "mine"
    make = ["make", "-s", "-C", str(root), "notebook-copies", f"NOTEBOOK_DIR={copies}"]
    first = subprocess.run(make, capture_output=True, text=True, timeout=60)
    assert first.returncode == 0 and "copied sizing.ipynb" in first.stdout, first.stderr
    (copies / "sizing.ipynb").write_text((copies / "sizing.ipynb").read_text().replace("results_dir", "results_dir"
                                                                                      " ", 1))  # the user's edit
    edited = (copies / "sizing.ipynb").read_bytes()
    again = subprocess.run(make, capture_output=True, text=True, timeout=60)
    assert again.returncode == 0 and "kept your" in again.stdout
    assert (copies / "sizing.ipynb").read_bytes() == edited and template.read_bytes() == before


def test_a_reader_that_goes_away_is_not_a_bug():
    """`loadsim results show --json | head`: the pipe closes before loadsim writes; that is not a crash."""
    proc = subprocess.Popen([sys.executable, "-m", "loadsim", "explain"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    proc.stdout.close()  # long before the child has imported anything and written its first line
    # not communicate(): once another test has imported locust, subprocess is gevent's, whose communicate()
    # reads every pipe it was given, the closed stdout too (FileObjectClosed in the whole suite, never alone)
    err = proc.stderr.read()
    proc.wait(timeout=60)
    assert proc.returncode == 0 and "unexpected" not in err and "Traceback" not in err, err
