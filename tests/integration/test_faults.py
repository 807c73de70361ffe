"""Fault schedules on real embedded clusters: the faults happen when asked, are recorded, and the run measures
through them (Redis faults on the embedded cluster loadsim starts; ORS faults on the HA pairs)."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from loadsim.results import reader as results

ROOT = Path(__file__).resolve().parents[2]
BASE = [sys.executable, "-m", "locust", "-f", str(ROOT / "scenarios" / "ha9.py"), "--headless", "--only-summary",
        "-u", "3", "--cps-per-pair", "20", "--aht", "20", "--worker-threads", "2", "--complexity", "simple"]


def run(tmp_path, *args, run_time="14s"):
    out = tmp_path / "run"
    proc = subprocess.run([*BASE, "-t", run_time, "--results-dir", str(out), *args], capture_output=True, text=True,
                          timeout=180, cwd=tmp_path)
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    # a run that wrote no summary says why on its stderr (seen once in a fresh clone's suite, without its reason)
    assert (out / "summary.json").exists(), (proc.returncode, proc.stderr[-3000:])
    return proc, results.load(out).summary


def test_a_killed_master_is_failed_over_and_the_run_measures_through_it(tmp_path):
    proc, s = run(tmp_path, "--replicas", "1", "--embedded-node-timeout", "1000", "--fault", "4:kill-master:0")
    assert s["complete"]
    (fault,) = s["faults"]
    assert fault["action"] == "kill-master" and fault["result"] == "ok" and 3.9 < fault["done_s"] < 6
    assert fault["node"].startswith("127.0.0.1:")
    assert sum(s["errors"].values()) > 0  # writes to the dead master's slots failed until its replica took over
    assert "fault at 4." in proc.stdout and "kill-master" in proc.stdout
    # a fault of Redis, named with its master, and every operation once (before: a rate share that depended on
    # the host's load, 79 % of offered at load 10 against the 80 % asked)
    assert s["run_class"]["class"] == "fault" and s["run_class"]["codes"][0] == "master-dead"
    assert proc.stdout.lstrip().startswith(f"FAULT: master {fault['node']} dead (refuses connections) from 4.")
    acc = s["accounting"]
    assert acc["due"] == acc["sent"] + acc["not_sent"] and acc["sent"] == acc["ok"] + acc["errors"] > 0
    # the error window of the dead master: its first failure to the first success on its slots (the replica)
    windows = [w for w in s["error_windows"] if w["master"] == fault["node"]]
    window = windows[0]  # the first; a later one opens if a stale worker tries the dead address again
    assert window["from_s"] >= fault["done_s"] - 0.5 and 0 < window["seconds"] < 10 and window["failures"] > 0
    # and then the writes succeeded again: operations completed every second after the window closed (ops_total
    # is per sample; the last sample follows the stop)
    series = results.load(tmp_path / "run").client_series
    after = series[series["elapsed_s"] > window["to_s"] + 1]["ops_total"].iloc[:-1]
    assert len(after) >= 2 and (after > 0).all(), list(after)
    (impact,) = s["fault_impact"]
    assert impact["latency_max_us_peak"] > impact["latency_max_us_before"] and impact["backlog_peak"] >= 0
    assert "error window on " + fault["node"] in proc.stdout and "impact of kill-master" in proc.stdout
    # loadsim report picks the recovery notebook for a run with faults: timelines with markers, the tables
    rep = subprocess.run([sys.executable, "-m", "loadsim", "report", str(tmp_path / "run")], capture_output=True,
                         text=True, timeout=180)
    assert rep.returncode == 0 and "recovery.ipynb" in rep.stdout, rep.stderr[-2000:]
    html = (tmp_path / "run" / "report.html").read_text()
    assert "Error windows per master" in html and fault["node"] in html and "Failovers" in html
    # a document: the verdict (acknowledged writes, then the failover with its number) before the timeline; no code
    verdict = re.search(r"No acknowledged write was lost|ACKNOWLEDGED WRITES LOST: [\d,]+|Acknowledged writes: not "
                        r"checked", html)
    image = html.find('src="data:image/png;base64,')
    assert verdict and 0 < verdict.start() < html.find(f"Failover of {fault['node']}") < image
    assert "report.plot_timelines" not in html and not re.search(r"Out\[\d", html)
    assert (tmp_path / "run" / "figures" / "recovery_timeline.png").stat().st_size > 10_000


def test_a_paused_master_blocks_the_workers_without_a_socket_timeout_and_fails_fast_with_one(tmp_path):
    _, blocked = run(tmp_path, "--fault", "3:pause-master:1:3", run_time="10s")
    (fault,) = blocked["faults"]
    assert fault["resumed_s"] - fault["done_s"] >= 2.9
    # no timeout (the redis-plus-plus default): no error, the workers wait: latency holds the whole pause
    assert not blocked["errors"]
    assert blocked["operations"]["session.update"]["latency_us"]["max"] > 2_000_000
    (tmp_path / "t").mkdir()
    _, timed = run(tmp_path / "t", "--fault", "3:pause-master:1:3", "--redis-socket-timeout", "200", run_time="10s")
    assert timed["errors"].get("timeout", 0) > 0


def test_a_crash_of_every_primary_with_tls_restores_every_written_session(tmp_path):
    _, s = run(tmp_path, "--embedded-tls", "true", "--fault", "5:crash-primary:all")
    rv = s["recovery"]
    assert rv["pairs"] == 3 and rv["expected"] > 100
    assert rv["lost_written"] == 0 and rv["recovered"] + rv["lost_never_written"] == rv["expected"]
    assert all(p["crash"] for p in rv["per_pair"])
    # the connection storm: every new primary opened its (TLS) connections at takeover (lazy pools)
    assert all(p["connections_opened"] >= 1 for p in rv["per_pair"]), rv["per_pair"]
    assert s["client"]["redis_client"]["connections_opened"] >= sum(p["connections_opened"] for p in rv["per_pair"])
    (fault,) = s["faults"]
    assert fault["action"] == "crash-primary" and sorted(fault["pairs"]) == [0, 1, 2] and fault["recovered_s"] >= 5


def _restart_run(tmp_path, *aof):
    (tmp_path / "r").mkdir(parents=True, exist_ok=True)
    _, s = run(tmp_path / "r", "--aht", "60", "--fault", "4:restart-master:0", *aof, run_time="9s")
    (fault,) = s["faults"]
    assert fault["result"] == "ok" and fault["restarted_s"] >= fault["done_s"]
    return s["read_back"]


def test_read_back_finds_acknowledged_writes_lost_by_a_restart_without_aof_and_none_with_fsync_always(tmp_path):
    """Every record carries its version and a checksum; after the run every live session is read back. A master
    restarted without AOF comes back empty: its acknowledged sessions are missing. With appendfsync always,
    nothing acknowledged is lost."""
    lost = _restart_run(tmp_path / "off")
    assert lost["checked"] > 500 and lost["missing"] > 50 and lost["corrupt"] == 0
    kept = _restart_run(tmp_path / "always", "--embedded-aof", "true", "--embedded-appendfsync", "always")
    assert kept["checked"] > 500 and kept["missing"] == 0 and kept["stale"] == 0 and kept["corrupt"] == 0
    assert kept["current"] + kept["ahead"] == kept["checked"]
    # everysec (Redis's default): at most about a second of acknowledged writes may go; reported, never corrupt
    everysec = _restart_run(tmp_path / "everysec", "--embedded-aof", "true")
    assert everysec["checked"] > 500 and everysec["corrupt"] == 0
    print("read-back after a restart: no AOF", lost, "| everysec", everysec, "| always", kept)


def test_recovery_runs_on_every_worker_while_new_calls_keep_arriving(tmp_path):
    """The new primary's workers restore sessions in parallel with the new calls: the pair's scheduler never
    stops (creates continue during the recovery), and each restored record is checked."""
    # AHT 20 s: ~1,200 live sessions to restore. With AHT 60 s (3,664) the slowest pair took 4.2 s at load 5 and
    # 6.1 s at load 7 of the 9 s the run has left after the switchover; at load 8-13 the run ended first
    # (complete False). A third of the work keeps the same margin of time on a host twice as busy.
    _, s = run(tmp_path, "--worker-threads", "4", "--fault", "5:switchover:all")
    rv = s["recovery"]
    assert rv["complete"] and rv["lost_written"] == 0 and rv["recovered"] > 500
    verdicts = rv["read_back"]
    assert verdicts.get("stale", 0) == verdicts.get("missing", 0) == verdicts.get("corrupt", 0) == 0, verdicts
    for pair in rv["per_pair"]:
        assert pair["found"] >= pair["recovered"] and pair["seconds"] >= pair["scan_seconds"]
    # the schedule went on: the offered rate over the steady window stayed the model's
    assert s["rates"]["offered_ops_per_s"] == pytest.approx(s["rates"]["model_ops_per_s"], rel=0.2)


def test_sessions_of_a_crashed_pair_expire_on_schedule_and_memory_returns_to_the_baseline(tmp_path):
    """Nobody deletes the sessions of a pair whose primary and backup both died: with a short TTL, Redis
    expires them on schedule, and keys and memory return to where they started."""
    import csv

    proc, s = run(tmp_path, "--session-ttl", "3", "--aht", "30", "--fault", "4:crash-pair:all", run_time="13s")
    (fault,) = s["faults"]
    assert fault["sessions_left"] > 100 and fault["last_expiry_s"] < 4 + 3 + 1
    rows = list(csv.DictReader(open(tmp_path / "run" / "node_series.csv")))
    masters = {r["node"] for r in rows if r.get("role") == "master"}
    for node in masters:
        mine = [r for r in rows if r["node"] == node and r.get("keys") not in (None, "")]
        assert int(mine[0]["keys"]) > 0 or int(mine[1]["keys"]) > 0  # sessions were there
        late = [r for r in mine if float(r["elapsed_s"]) > fault["last_expiry_s"] + 2]
        assert late and int(late[-1]["keys"]) == 0, (node, late[-1])  # all expired on schedule
        peak = max(int(r["used_memory"]) for r in mine)
        assert int(late[-1]["used_memory"]) < int(mine[0]["used_memory"]) + 0.1 * (peak - int(mine[0]["used_memory"]))
    assert s["live_sessions"]["final"] == 0
    assert "sessions left to their TTL" in proc.stdout
