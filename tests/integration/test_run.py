"""End-to-end: real Locust runs of scenarios/ha9.py on an embedded cluster, checked against Redis."""

import csv
import json
import re
import signal
import subprocess
import sys
import time

import pytest
from redis.crc import key_slot
from run_support import LOCUST, ROOT, SMALL, locust_run, nodes_arg

from loadsim.embedded.cluster import ClusterSpec, EmbeddedCluster
from loadsim.results import reader as results


@pytest.fixture(scope="module")
def cluster():
    with EmbeddedCluster(ClusterSpec(masters=3)) as c:
        yield c


@pytest.fixture(scope="module")
def basic_run(cluster, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("basic")
    proc, out = locust_run(tmp, *SMALL, *nodes_arg(cluster), "--session-ttl", "600", "--ors-cluster-name", "basic",
                           "--csv", str(tmp / "locust"), "--html", str(tmp / "locust.html"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc, results.load(out)


def ors_keys(cluster, prefix):
    """{master index: {key: ttl seconds}} of keys under prefix."""
    out = {}
    for node in cluster.nodes:
        with cluster.admin_client(node) as c:
            out[node.index] = {k: c.ttl(k) for k in c.scan_iter(match=prefix + "*", count=1000)}
    return out


def _csv_counts(path):
    """{operation: (request count, failure count)} of a Locust stats CSV, and its median column."""
    with open(path, newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["Name"] != "Aggregated"]
    return {r["Name"]: (int(r["Request Count"]), int(r["Failure Count"])) for r in rows}, \
        {r["Name"]: float(r["Median Response Time"]) for r in rows}


def test_one_counting_convention_locust_csv_summary_and_text(basic_run):
    """Locust's own --csv, the copy in the run folder, summary.json and the text count the same operations of the
    same window (failed ones included, as Locust counts requests); the warm-up is its own figure; Locust's
    medians of sub-ms operations are not rounded to 0."""
    proc, run = basic_run
    locust_counts, medians = _csv_counts(run.path.parent / "locust_stats.csv")
    folder_counts, _ = _csv_counts(run.path / "locust_stats.csv")
    ops = run.summary["operations"]
    summary_counts = {name: (op["count"], op["errors"]) for name, op in ops.items() if op["count"]}
    html = (run.path.parent / "locust.html").read_text()
    at = html.index('"requests_statistics": ') + len('"requests_statistics": ')
    html_counts = {r["name"]: (r["num_requests"], r["num_failures"])
                   for r in json.JSONDecoder().raw_decode(html[at:])[0] if r["name"] != "Aggregated"}
    counts = {"locust --csv": locust_counts, "run folder csv": folder_counts, "locust --html": html_counts,
              "summary.json": summary_counts}
    assert all(c == summary_counts for c in counts.values()), counts
    assert sum(c for c, _ in summary_counts.values()) > 100
    assert ops["session.prefill"]["count"] == 0 and ops["session.prefill"]["warmup"] > 0  # pre-fill: warm-up only
    for name, (count, errors) in summary_counts.items():
        warmup = ops[name]["warmup"]
        assert re.search(rf"^{re.escape(name)}\s+{count:,}\s+{errors:,}\s+{warmup:,}\s", proc.stdout, re.M), name
        assert ops[name]["latency_us"]["count"] == count - errors
    update_p50_ms = ops["session.update"]["latency_us"]["p50"] / 1000
    if update_p50_ms < 1:  # sub-ms: Locust keeps two significant digits instead of rounding to 0
        assert 0 < medians["session.update"] < 1
    assert not re.search(r"session\.update\s+\d+\s+\S+\s+\|\s+0\s+", proc.stderr)  # console: no "Avg 0"


def test_results_folder_is_complete(basic_run):
    proc, run = basic_run
    for name in ("config.json", "environment.json", "summary.json", "client_series.csv", "node_series.csv",
                 "commandstats_start.json", "commandstats_end.json", "slots.json", "locust_stats.csv"):
        assert (run.path / name).exists(), name
    s = run.summary
    assert s["complete"] and not s["interrupted"]
    for op in ("session.create", "session.update", "session.delete"):
        assert s["operations"][op]["count"] > 0
        hist = run.histogram(op, "latency")
        assert hist.get_total_count() > 0
        assert run.histogram(op, "service").get_value_at_percentile(50) <= hist.get_value_at_percentile(50)
    assert len(run.client_series) >= 10 and {"live_sessions", "generator_cpu_percent"} <= set(run.client_series)
    assert set(run.node_series["node"]) and "used_memory" in run.node_series
    env = run.environment
    assert env["seed"] == 1 and env["versions"]["locust"] and env["redis_nodes"]
    assert all("config_sha256" in v for v in env["redis_nodes"].values())
    assert "results:" in proc.stdout and "session.update" in proc.stdout  # summary table printed
    # every label the real run's text printed is in `loadsim explain`'s glossary
    from loadsim.results.glossary import explain, printed_labels
    from loadsim.results.text import summary_table

    labels = printed_labels(summary_table(s))
    assert {"before the send", "network", "Redis"} <= labels or "latency_split" not in s, sorted(labels)
    assert not [label for label in labels if explain(label) is None]


def test_client_counted_commands_equal_server_commandstats(basic_run):
    _, run = basic_run
    s = run.summary
    assert s["errors"] == {}
    assert s["server"]["commands"] == s["server"]["commands_client_counted"] > 0


def test_rates_and_littles_law(basic_run):
    _, run = basic_run
    s = run.summary
    assert s["rates"]["achieved_ops_per_s"] == pytest.approx(s["rates"]["offered_ops_per_s"], rel=0.05)
    # 3 pairs x 15 cps x 4 s = 180 live sessions; a 12 s run is short, so a wide tolerance
    assert s["live_sessions"]["steady_mean"] == pytest.approx(180, rel=0.25)


def test_secrets_not_in_results(basic_run):
    _, run = basic_run
    cfg = json.loads((run.path / "config.json").read_text())
    assert cfg["persistence"]["password"] in (None, "***")


def test_every_key_has_a_ttl_and_follows_the_layout(basic_run, cluster):
    keys = ors_keys(cluster, "ORS:basic:")
    all_keys = {k: t for per in keys.values() for k, t in per.items()}
    assert all_keys, "the run left live sessions in Redis"
    assert all(0 < t <= 600 for t in all_keys.values())
    assert all(re.fullmatch(r"ORS:basic:(session|timers|owner):\d{3}-\d{10}", k) for k in all_keys)
    assert sum(1 for per in keys.values() if per) == 3  # spread over every master


def added_connections(run):
    ns = run.node_series
    return {node: int(rows["connected_clients"].max() - rows["connected_clients"].iloc[0])
            for node, rows in ns[ns["role"] == "master"].groupby("node")}


def test_connections_follow_the_thread_model(basic_run, cluster, tmp_path):
    _, run = basic_run
    # lazy pools (redis-plus-plus's): 3 HA pairs x 2 worker threads of the primary, one connection to each
    # master each; the warm backups send nothing and so hold nothing
    added = added_connections(run)
    assert len(added) == 3 and set(added.values()) == {6}, added
    # eager pools: the backups' worker threads connect too
    proc, out = locust_run(tmp_path, *SMALL, *nodes_arg(cluster), "--pool-connections", "eager",
                           "--ors-cluster-name", "eager", run_time="5s")
    assert proc.returncode == 0, proc.stderr[-3000:]
    added = added_connections(results.load(out))
    assert len(added) == 3 and set(added.values()) == {12}, added


def test_single_hash_layout_puts_everything_on_one_master(cluster, tmp_path):
    proc, out = locust_run(tmp_path, *SMALL, *nodes_arg(cluster), "--key-layout", "single-hash",
                           "--ors-cluster-name", "single", run_time="8s")
    assert proc.returncode == 0, proc.stderr[-3000:]
    keys = ors_keys(cluster, "ORS:single")
    assert [len(per) for per in keys.values()].count(1) == 1 and sum(len(p) for p in keys.values()) == 1
    masters = results.load(out).summary["masters"]
    busy = [m for m in masters if m["commands"] > 0]
    assert len(busy) == 1, masters


def test_switchover_recovers_every_persisted_session(cluster, tmp_path):
    proc, out = locust_run(tmp_path, *SMALL, *nodes_arg(cluster), "--aht", "30", "--switchover-at", "4",
                           "--ors-cluster-name", "swo", run_time="8s")
    assert proc.returncode == 0, proc.stderr[-3000:]
    s = results.load(out).summary
    rv = s["recovery"]
    assert rv["pairs"] == 3 and rv["expected"] > 100
    assert rv["recovered"] + rv["lost"] == rv["expected"]
    # every session that was written is found; only creates still queued in the old primary are lost
    assert rv["lost_written"] == 0
    assert rv["lost_never_written"] == rv["lost"] <= rv["dropped_operations"]
    # lazy pools: the backup held no connection; its recovery opened them (at most one per master)
    assert all(1 <= r["connections_opened"] <= 3 for r in rv["per_pair"]), rv["per_pair"]
    restored = sum(p["restored"] for p in rv["per_pair"])
    assert s["operations"]["session.recover"]["count"] == restored >= rv["recovered"]
    assert s["server"]["commands"] == s["server"]["commands_client_counted"]
    # sessions continue under the new owner: owner records now name the backup node ids (even numbers)
    owners = set()
    for node in cluster.nodes:
        with cluster.admin_client(node) as c:
            owners |= {c.get(k) for k in c.scan_iter(match="ORS:swo:owner:*", count=1000)}
    assert owners and all(int(o) % 2 == 0 for o in owners)


def test_node_tag_layout_is_one_slot_per_pair_before_and_after_a_switchover(cluster, tmp_path):
    """The ORS Node id belongs to the pair: sessions created after the switchover keep it, so each pair's
    keys stay in one slot, and the new primary recovers the sessions of its own node id."""
    proc, out = locust_run(tmp_path, *SMALL, *nodes_arg(cluster), "--aht", "30", "--switchover-at", "4",
                           "--key-layout", "node-tag", "--ors-cluster-name", "ntag", run_time="8s")
    assert proc.returncode == 0, proc.stderr[-3000:]
    s = results.load(out).summary
    rv = s["recovery"]
    assert rv["recovered"] > 100 and rv["lost_written"] == 0
    assert [(p["node_id"], p["from_dbid"], p["to_dbid"]) for p in sorted(rv["per_pair"], key=lambda p: p["pair"])] \
        == [(1, 1, 2), (3, 3, 4), (5, 5, 6)]
    keys = [k for per in ors_keys(cluster, "ORS:ntag").values() for k in per]
    assert {k.split(":")[2] for k in keys} == {"{001}", "{003}", "{005}"}
    assert len({key_slot(k.encode()) for k in keys}) == 3


def test_index_layout_cleans_the_entries_of_sessions_nobody_deleted(cluster, tmp_path):
    proc, out = locust_run(tmp_path, *SMALL, *nodes_arg(cluster), "--key-layout", "index", "--leaked-share", "0.3",
                           "--session-ttl", "2", "--aht", "1", "--cleanup-period", "1", "--cleanup-batch", "5000",
                           "--ors-cluster-name", "idx", run_time="10s")
    assert proc.returncode == 0, proc.stderr[-3000:]
    s = results.load(out).summary
    assert s["cleanup"]["runs"] >= 20 and s["cleanup"]["entries_removed"] > 50
    assert s["server"]["commands"] == s["server"]["commands_client_counted"]  # cleaning commands counted too
    keys = ors_keys(cluster, "ORS:idx")
    holders = [i for i, per in keys.items() if "ORS:idx" in per]
    assert len(holders) == 1 and keys[holders[0]]["ORS:idx"] == -1  # one index, in one slot, with no TTL
    # the hot slot: the master holding the index executes more commands than the others
    masters = sorted(s["masters"], key=lambda m: m["commands"])
    assert masters[-1]["commands"] > 1.3 * masters[0]["commands"], masters


def test_an_estate_file_drives_uneven_pairs(cluster, tmp_path):
    estate = tmp_path / "estate.toml"
    estate.write_text('name = "two sites"\n[defaults]\naht_s = 4\ncomplexity = "simple"\n'
                      '[[group]]\nname = "big"\ncps = 30\n[[group]]\nname = "small"\npairs = 2\ncps = 3\n'
                      'session_bytes = 300\n')
    proc, out = locust_run(tmp_path, "--worker-threads", "2", *nodes_arg(cluster), "--estate", str(estate),
                           "--ors-cluster-name", "est", run_time="10s")
    assert proc.returncode == 0, proc.stderr[-3000:]
    s = results.load(out).summary
    w = s["workload"]
    assert w["ha_pairs"] == 3 and w["estate"] == "estate.toml"  # the estate set the pair count
    assert w["expected_live_sessions"] == pytest.approx(30 * 4 + 2 * 3 * 4)
    assert s["live_sessions"]["steady_mean"] == pytest.approx(w["expected_live_sessions"], rel=0.25)
    assert s["rates"]["offered_ops_per_s"] == pytest.approx(w["expected_ops_per_s"], rel=0.25)


def test_failed_prefill_writes_keep_the_statistics_and_say_maxmemory_was_reached(tmp_path):
    """A pre-fill write refused with OOM used to return before the pre-fill was done: no steady window, offered
    and achieved 0. Now the run measures on, and says why writes failed."""
    with EmbeddedCluster(ClusterSpec(masters=3, maxmemory="4mb")) as small:
        proc, out = locust_run(tmp_path, *SMALL, *nodes_arg(small), "--complexity", "standard", "--aht", "30",
                               "--ors-cluster-name", "oom", run_time="8s")
    assert proc.returncode in (0, 1), proc.stderr[-3000:]  # Locust exits 1 when requests failed
    s = results.load(out).summary
    assert s["errors"].get("oom", 0) > 50
    assert s["steady_from_s"] is not None and s["rates"]["offered_ops_per_s"] > 0
    assert s["rates"]["achieved_ops_per_s"] > 0
    assert "maxmemory reached: Redis refused" in proc.stdout + proc.stderr


def test_sigterm_leaves_a_complete_loadable_folder(cluster, tmp_path):
    out = tmp_path / "term"
    cmd = [*LOCUST, "-f", str(ROOT / "scenarios" / "ha9.py"), "--headless", "-t", "60s", "--only-summary",
           "--results-dir", str(out), *SMALL, *nodes_arg(cluster), "--ors-cluster-name", "term"]
    proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not (out / "client_series.csv").exists():
        time.sleep(0.2)
    time.sleep(4)
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=60)
    run = results.load(out)
    assert run.summary["complete"] and run.summary["interrupted"]
    assert run.summary["operations"]["session.update"]["count"] > 0
    assert len(run.client_series) >= 3
    assert run.histogram("session.update").get_total_count() > 0
    assert "Traceback" not in stderr


def test_a_run_stopped_in_its_warm_up_has_no_steady_window_on_any_surface(cluster, tmp_path):
    """-t shorter than --warmup: the run ends before its steady window was to begin. The summary said the window
    began at 30 s in a 4 s run, and gave the whole run's CPU and commands as the masters' steady figures (which
    plan would have fitted); now it has none, says why, and every surface says "no steady window"."""
    proc, out = locust_run(tmp_path, *SMALL, *nodes_arg(cluster), "--warmup", "30", "--ors-cluster-name", "warm",
                           run_time="4s")
    assert proc.returncode == 0, proc.stderr[-3000:]
    s = json.loads((out / "summary.json").read_text())
    assert s["complete"] and s["duration_s"] < 30
    assert s["steady_from_s"] is None and s["steady_s"] == 0 and s["flags"]["no_steady_state"]
    assert s["no_steady_window"].startswith(f"the run ended at {s['duration_s']:.1f} s, before its steady window "
                                            "was to begin at 30.0 s"), s["no_steady_window"]
    assert s["server"]["commands"] > 0  # work flowed (the warm-up's), none of it in a steady figure
    for m in s["masters"]:
        assert (m["steady_s"], m["commands_steady"], m["cpu_s_steady"]) == (0, 0, 0), m
    assert s["rates"]["steady_commands_per_s"] == 0 and s["rates"]["achieved_ops_per_s"] == 0
    text = proc.stdout
    assert "live sessions: no steady window, final" in text
    assert "the statistics window (none: no steady window)" in text
    assert f"no_steady_state: no steady window: {s['no_steady_window']}" in text
    assert "unit cost for sizing (plan --from this run): none, no steady window" in text
    # plan --from the run: one line saying why, no traceback (it fitted the warm-up's CPU as a steady window's)
    plan = subprocess.run([sys.executable, "-m", "loadsim", "plan", "--from", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert plan.returncode == 2 and "Traceback" not in plan.stderr, plan.stderr
    assert "no run with a steady window" in plan.stderr.strip().splitlines()[-1]
    # the web tab's verdict on the finished run: none (plan --from says why), not a crash
    from loadsim.locust.webui import run_verdict

    assert run_verdict(s, out) is None


def test_the_clusters_maxmemory_is_the_memory_limit_of_the_runs_question_live_and_finished(tmp_path):
    """Masters with maxmemory set: the web tab's live projection judged memory against it while plan --from the run
    judged against plan's assumed node RAM (a PASS and a FAIL possible for one run). Both ask the run's own question
    (question.own_deployment with the masters' maxmemory): the same limit, the same memory verdict."""
    from loadsim.config.simulation import run_settings
    from loadsim.locust.webui import node_series, projection
    from loadsim.results.runs import workload_of

    with EmbeddedCluster(ClusterSpec(masters=3, maxmemory="64mb")) as limited:
        proc, out = locust_run(tmp_path, *SMALL, *nodes_arg(limited), run_time="6s")
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    assert [m["maxmemory"] for m in summary["masters"]] == [64 * 2**20] * 3
    plan = json.loads(subprocess.run([sys.executable, "-m", "loadsim", "plan", "--from", str(out), "--json"], cwd=ROOT,
                                     capture_output=True, text=True, timeout=120).stdout)
    d = plan["deployment"]
    assert d["node_ram_bytes"] * d["maxmemory_fraction"] == pytest.approx(64 * 2**20)
    memory = next(k for k in plan["constraints"] if k["name"].startswith("memory"))
    with open(out / "node_series.csv", newline="") as f:
        samples = list(csv.DictReader(f))
    config = json.loads((out / "config.json").read_text())
    live = projection(node_series(samples), summary["live_sessions"]["steady_mean"], workload_of(config),
                      network_rtt_us=run_settings(config["simulation"]).network_rtt_us)
    assert live["ready"] and live["maxmemory"] == 64 * 2**20 and not live["maxmemory_assumed"], live
    assert live["constraints"][memory["name"]] == memory["status"], (live["constraints"], memory)


def test_type_other_than_redis_persists_nothing(cluster, tmp_path):
    proc, out = locust_run(tmp_path, *SMALL, *nodes_arg(cluster), "--type", "cassandra",
                           "--ors-cluster-name", "cass", run_time="4s")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "not 'redis'" in proc.stderr and "persist nothing" in proc.stderr
    assert not any(ors_keys(cluster, "ORS:cass").values())
    s = results.load(out).summary
    assert s["operations"]["session.create"]["count"] > 0 and s["server"]["commands"] == 0


def test_bad_option_is_one_clear_line(tmp_path):
    proc, _ = locust_run(tmp_path, "--redis-nodes", "localhost:notaport", run_time="2s")
    assert proc.returncode != 0
    assert "redis-nodes: 'localhost:notaport' is not host:port" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc, _ = locust_run(tmp_path, "--key-layout", "flat", run_time="2s", name="b")
    assert proc.returncode != 0 and "--key-layout must be one of" in proc.stderr and "Traceback" not in proc.stderr
    proc, _ = locust_run(tmp_path, "--redis-nodes", "127.0.0.1:1", run_time="2s", name="c")
    assert proc.returncode != 0 and "cannot use the Redis Cluster: 127.0.0.1:1" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_acl_and_tls_run_keeps_the_password_secret(tmp_path):
    with EmbeddedCluster(ClusterSpec(masters=3, tls=True, acl=True)) as c:
        ini = c.state_dir / "ors.ini"
        password = c.options.password
        assert password and password in ini.read_text()
        proc, out = locust_run(tmp_path, *SMALL, "--ors-config", str(ini), "--ors-cluster-name", "sec",
                               run_time="5s")
        assert proc.returncode == 0, proc.stderr[-3000:]
        s = results.load(out).summary
        assert s["cluster"]["tls"] and s["cluster"]["acl"] and s["operations"]["session.update"]["count"] > 0
        # the round-trip probe's own process reached the nodes over TLS with the ACL user (its password on stdin)
        assert s["latency_split"]["network_us"] is not None, s["latency_split"]["network_source"]
        # the least-privilege user may not run INFO: Redis's figures were not measured, said so, nulls not zeros,
        # and no command_gap flag comparing the client's count with a count that was never taken
        server = s["server"]
        assert server["commands"] is None and server["cpu_us_per_command"] is None and server["used_memory"] is None
        assert server["not_measured"].startswith("server figures not measured: the ACL user cannot run INFO")
        assert server["commands_client_counted"] > 0 and not s["flags"]["command_gap"]
        shown = subprocess.run([sys.executable, "-m", "loadsim", "results", "show", str(out)], capture_output=True,
                               text=True, timeout=120)
        assert shown.returncode == 0 and "server figures not measured: the ACL user cannot run INFO" in shown.stdout
        assert "server: 0 commands" not in shown.stdout and "command_gap" not in shown.stdout
        for f in out.rglob("*"):
            if f.is_file():
                assert password not in f.read_text(errors="replace"), f
        assert password not in proc.stdout and password not in proc.stderr


def test_locust_master_and_workers_spread_the_pairs(cluster, tmp_path):
    port = _free_port()
    worker_cmd = [*LOCUST, "-f", str(ROOT / "scenarios" / "ha9.py"), "--worker", "--master-host", "127.0.0.1",
                  "--master-port", str(port)]
    workers = [subprocess.Popen(worker_cmd, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                text=True) for _ in range(2)]
    try:
        proc, out = locust_run(tmp_path, *SMALL[2:], "-u", "4", *nodes_arg(cluster), "--master",
                               "--master-bind-port", str(port), "--expect-workers", "2",
                               "--ors-cluster-name", "dist", run_time="8s")
    finally:
        for w in workers:
            try:
                w.wait(timeout=30)
            except subprocess.TimeoutExpired:
                w.kill()
    assert proc.returncode == 0, proc.stderr[-3000:]
    s = results.load(out).summary
    assert s["operations"]["session.update"]["count"] > 0
    assert s["server"]["commands"] == s["server"]["commands_client_counted"]
    assert s["steady_from_s"] is not None
    # 4 pairs over 2 workers are the local run's pairs 0-3 (worker w of 2 takes w, w + 2): their primaries' DBIDs
    # 1, 3, 5, 7 own the sessions, as in one process (before: worker 1's started at 2001)
    owners = set()
    for node in cluster.nodes:
        with cluster.admin_client(node) as c:
            owners |= {c.get(k) for k in c.scan_iter(match="ORS:dist:owner:*", count=1000)}
    assert {int(o) for o in owners} == {1, 3, 5, 7}, owners


def _free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_processes_on_the_embedded_cluster(tmp_path):
    """`--processes 2`: the master starts the embedded cluster and hands its nodes to the forked workers;
    the one results folder counts exactly what Redis served."""
    # a port of its own (workers forked by --processes connect to --master-port): with Locust's default, 5557, the
    # workers of another run on this machine joined this master (seen: a read-back merged from 4 workers)
    port = str(_free_port())
    proc, out = locust_run(tmp_path, "--processes", "2", "--master-bind-port", port, "--master-port", port, "-u", "4",
                           "--cps-per-pair", "10", "--aht", "10", run_time="10s", timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    s = results.load(out).summary
    assert s["complete"] and s["workload"]["ha_pairs"] == 4 and s["cluster"]["embedded"]
    assert s["server"]["commands"] == s["server"]["commands_client_counted"] > 0
    assert s["operations"]["session.update"]["latency_us"]["count"] > 0
    # the workers read their own pairs' sessions back, and their cluster clients' counters are summed (before:
    # no read-back, read_back null, and the master's own all-zero counters)
    rb = s["read_back"]
    assert rb["workers"] == 2 and "not_done" not in rb and "incomplete" not in rb
    assert rb["checked"] > 0 and rb["current"] == rb["checked"] - rb["ahead"]
    assert rb["live"] == rb["never_acknowledged"] + rb["checked"] + rb["unreadable"]
    counters = s["client"]["redis_client"]
    assert counters["slot_refreshes"] >= 8  # one CLUSTER SLOTS per ORS node: 4 pairs x primary and backup
    assert counters["connections_opened"] > 0
    assert f"read-back of {rb['live']:,} live sessions" in proc.stdout
