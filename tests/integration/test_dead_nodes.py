"""Failures measured, not survived by luck: real Locust runs on embedded clusters whose nodes the test kills or
pauses mid-run. The summary marks dead nodes as dead, counts nothing negative, gives the failover as the monitor
saw it, says when the cluster was down, and the node sampler keeps its cadence while a node is silent."""

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from loadsim.embedded.cluster import ClusterSpec, EmbeddedCluster
from loadsim.results import reader as results

ROOT = Path(__file__).resolve().parents[2]
SMALL = ["-u", "3", "--cps-per-pair", "15", "--aht", "4", "--worker-threads", "2", "--complexity", "simple"]


def _numbers(obj):
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k != "unexplained_us":  # the latency split's rest: signed by design (percentiles do not add up)
                yield from _numbers(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _numbers(v)
    elif isinstance(obj, (int, float)) and not isinstance(obj, bool):
        yield obj


def _masters(cluster):
    out = []
    for node in cluster.nodes:
        with cluster.admin_client(node) as c:
            if c.info("replication").get("role") == "master":
                out.append(node.index)
    return out


@contextlib.contextmanager
def cluster_and_victim(**spec):
    """An embedded cluster (3 masters unless *spec* says more) and the master the test will harm."""
    with EmbeddedCluster(ClusterSpec(**{"masters": 3, **spec})) as cluster:
        yield cluster, cluster.node(_masters(cluster)[0])


def start_busy_script(cluster, victim, busy_us, socket_timeout):
    """A Lua script on *victim* that loops *busy_us* µs past busy-reply-threshold (100 ms), in a thread: the node
    answers BUSY meanwhile. Errors end the thread quietly (the cluster may stop under it)."""
    import threading

    with cluster.admin_client(victim) as r:
        r.config_set("busy-reply-threshold", 100)

    def loop():
        try:
            with cluster.admin_client(victim, socket_timeout=socket_timeout) as r:
                r.eval(BUSY_LOOP.replace("1500000", str(busy_us)), 0)
        except Exception:  # noqa: BLE001 - the cluster stops under it at the end
            pass

    threading.Thread(target=loop, daemon=True).start()


def run_with_fault(cluster, tmp_path, name, fault, at_s=4.0, run_time="14s"):
    """A headless Locust run on *cluster*; *fault()* is called *at_s* seconds after the run's first samples."""
    out = tmp_path / name
    seeds = ",".join(cluster.nodes[i].address for i in _masters(cluster))
    cmd = [sys.executable, "-m", "locust", "-f", str(ROOT / "scenarios" / "ha9.py"), "--headless", "-t", run_time,
           "--results-dir", str(out), "--only-summary", *SMALL, "--redis-nodes", seeds, "--ors-cluster-name", name]
    proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ))
    try:
        deadline = time.monotonic() + 60  # a start took over 30 s with the box at load 10 (8 suites at once)
        while time.monotonic() < deadline and not (out / "node_series.csv").exists():
            time.sleep(0.1)
        assert (out / "node_series.csv").exists(), "the run did not start"
        time.sleep(at_s)
        fault()
        stdout, stderr = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode in (0, 1), stderr[-3000:]  # Locust exits 1 when requests failed
    assert "Traceback" not in stderr, stderr[-3000:]
    return stdout, results.load(out)


def assert_fault_run(stdout, s, master, code):
    """What every fault gives: a first line naming the fault and the master with its time, the fault's reason code,
    never 'flags: none' under it, every operation once (due = sent + not sent, sent = ok + errors), and an impact
    line that says 'did not drain' when operations were still queued at the end."""
    first = stdout[stdout.index("FAULT: "):].splitlines()[0]
    assert first.startswith("FAULT: ") and master in first and " from " in first, first
    assert s["run_class"]["class"] == "fault" and code in s["run_class"]["codes"], s["run_class"]
    assert s["flags"]["master_fault"] and "flags: none" not in stdout
    acc = s["accounting"]
    assert acc["due"] > 0 and acc["unaccounted"] == 0, acc
    assert acc["due"] == acc["sent"] + acc["not_sent"] and acc["sent"] == acc["ok"] + acc["errors"], acc
    assert acc["errors"] == sum(s["errors"].values())
    assert f"operations: {acc['due']:,} due = {acc['sent']:,} sent" in stdout
    for fi in s.get("fault_impact", []):
        if fi["backlog_at_end"] > 0:
            assert fi["backlog_drained_s"] is None and "did not drain" in stdout
    return first


def test_a_killed_master_is_dead_and_its_failover_is_measured(tmp_path):
    with cluster_and_victim(replicas=1, cluster_node_timeout_ms=1000) as (cluster, victim):
        stdout, run = run_with_fault(cluster, tmp_path, "kill", lambda: cluster.kill(victim.index))
    s = run.summary
    assert s["complete"]
    assert min(_numbers(s)) >= 0, "a negative figure in the summary"
    masters = {m["node"]: m for m in s["masters"]}
    dead = masters[victim.address]
    assert dead["status"] == "dead" and dead["down_from_s"] is not None
    assert dead["last_seen_s"] < dead["down_from_s"] and dead["commands"] > 0
    assert sum(1 for m in masters.values() if m["status"] == "master") == 3 == s["cluster"]["masters"]
    assert len(masters) == 4  # the 3 masters at the end and the dead one, each once
    [failover] = s["failovers"]
    assert failover["node"] == victim.address and failover["replaced_by"] in masters
    assert masters[failover["replaced_by"]]["timeline"][0]["state"] == "replica"
    assert 0 < failover["failover_s"] < 10
    assert failover["promoted_at_s"] - failover["down_at_s"] == pytest.approx(failover["failover_s"], abs=0.01)
    ns = run.node_series
    down = ns[(ns["node"] == victim.address) & (ns["state"] == "down")]
    assert len(down) >= 3 and down["elapsed_s"].min() == pytest.approx(dead["down_from_s"], abs=0.01)
    assert (ns[ns["state"] == "up"]["total_commands_processed"] >= 0).all()
    first = assert_fault_run(stdout, s, victim.address, "master-dead")
    assert f"its replica {failover['replaced_by']} master at" in first
    assert f"failover: {victim.address} stopped answering at" in stdout
    assert f"{failover['replaced_by']} master at" in stdout and "DEAD: no answer from" in stdout


def test_all_masters_killed_is_a_cluster_down_first_line(tmp_path):
    with EmbeddedCluster(ClusterSpec(masters=3)) as cluster:

        def kill_all():
            for node in cluster.nodes:
                cluster.kill(node.index)

        stdout, run = run_with_fault(cluster, tmp_path, "down", kill_all, run_time="10s")
    s = run.summary
    assert s["complete"] and s["flags"]["cluster_down"]
    assert min(_numbers(s)) >= 0, "a negative figure in the summary"
    [outage] = s["outages"]
    assert outage["to_s"] is None and outage["seconds"] > 2 and "no master answered" in outage["why"]
    assert [m["status"] for m in s["masters"]] == ["dead"] * 3
    assert s["server"]["commands"] > 0 and s["server"]["cpu_us_per_command"] > 0 and s["cluster"]["masters"] == 0
    assert len(s["failovers"]) == 3 and all(f["replaced_by"] is None for f in s["failovers"])
    # the fault first, naming every master (before: "RIG-BOUND: achieved 36 % of offered"), then the outage
    summary_text = stdout[stdout.index("FAULT: "):]
    first = summary_text.splitlines()[0]
    # every master named (the monitor may see them die a sample apart: "master A dead from 4.7 s; masters B, C ...")
    assert first.startswith("FAULT: master") and all(m["node"] in first for m in s["masters"]), first
    assert_fault_run(stdout, s, s["masters"][0]["node"], "master-dead")
    assert summary_text.splitlines()[1].startswith(f"CLUSTER DOWN from {outage['from_s']:.1f} s to the end")
    assert summary_text.splitlines()[2].startswith("run:")
    assert "flags:" in summary_text and "cluster_down" in summary_text
    # the read-back could read nothing, and says so (it was null, with no line in the text)
    rb = s["read_back"]
    assert rb["live"] > 0 and rb["checked"] == 0 and rb["never_acknowledged"] + rb["unreadable"] == rb["live"]
    assert "no Redis node answered" in rb["not_done"]
    assert rb["masters_down"] == {m["node"]: "refuses connections" for m in s["masters"]}  # before: {}
    assert f"read-back NOT DONE: {rb['not_done']}: none of the {rb['live']:,} live sessions" in stdout


def test_a_master_killed_without_a_replica_loses_its_sessions_and_the_read_back_says_so(tmp_path):
    """Before: "608 live sessions checked: 595 current, 0 stale, 0 missing" while a third were unreadable."""
    with cluster_and_victim() as (cluster, victim):
        stdout, run = run_with_fault(cluster, tmp_path, "lost", lambda: cluster.kill(victim.index), run_time="9s")
    rb = run.summary["read_back"]
    first = assert_fault_run(stdout, run.summary, victim.address, "master-dead")
    assert "dead (refuses connections)" in first
    assert rb["live"] == rb["never_acknowledged"] + rb["checked"] + rb["unreadable"]  # every session, one bucket
    assert rb["checked"] > 0 and rb["unreadable"] > 0 and rb["lost_with_dead_master"] == rb["unreadable"]
    assert rb["masters_down"] == {victim.address: "refuses connections"}
    assert rb["unreadable_why"] == {"connection": rb["unreadable"]}
    line = next(x for x in stdout.splitlines() if x.startswith("read-back of "))
    assert f"{rb['checked']:,} checked" in line and f"{rb['unreadable']:,} unreadable (connection" in line
    assert f"{rb['lost_with_dead_master']:,} sessions LOST WITH A DEAD MASTER ({victim.address}" in stdout


def test_a_paused_master_does_not_stall_the_other_nodes_rows(tmp_path):
    with cluster_and_victim(replicas=1, cluster_node_timeout_ms=1000) as (cluster, victim):

        resumed = []

        def pause_5_s():
            cluster.pause(victim.index)
            try:
                time.sleep(5)
            finally:
                cluster.resume(victim.index)
                resumed.append(time.time())

        stdout, run = run_with_fault(cluster, tmp_path, "pause", pause_5_s, at_s=3.0, run_time="14s")
    s = run.summary
    assert s["complete"] and min(_numbers(s)) >= 0
    # silent after accepting its connections, then back: a fault from when it went silent, not the rig's
    first = assert_fault_run(stdout, s, victim.address, "master-silent")
    assert "silent (accepts connections, never answers)" in first
    assert "answered again at" in first or "its replica" in first  # back, or failed over (node timeout 1 s)
    ns = run.node_series
    paused = ns[ns["node"] == victim.address]
    assert (paused["state"] == "down").sum() >= 3  # a "no answer" row per sample while it was stopped
    assert (paused["state"] == "up").iloc[-1]  # it answers again after SIGCONT
    # node rows are stamped with the node's answer: the first answer after the pause is after SIGCONT (a sample
    # asked before SIGCONT and answered after it was stamped before it: "answered again" before the resume)
    others = ns[(ns["node"] != victim.address) & (ns["state"] == "up")]
    started = (others["time"] - others["elapsed_s"]).max()  # wall clock of the run's start (to a few ms)
    first_down = paused[paused["state"] == "down"].index[0]
    back = paused[(paused.index > first_down) & (paused["state"] == "up")].iloc[0]
    assert started + back["elapsed_s"] >= resumed[0] - 0.02, (started + back["elapsed_s"], resumed[0])
    for node, rows in ns.groupby("node"):
        gaps = rows["elapsed_s"].diff().dropna().iloc[:-1]  # the last row is the run's final sample
        assert gaps.min() >= 0.5, (node, list(gaps))  # no catch-up bursts
        if node != victim.address:
            assert gaps.max() < 1.7, (node, list(gaps))  # the others keep their 1 s cadence


def test_a_master_silent_past_the_end_is_given_up_and_its_stuck_operations_counted(tmp_path):
    """A master SIGSTOPped (no replicas) until after the run: the end waits a bounded time (the ORS nodes' 5 s
    grace, then one 1 s PING per master in the read-back), not as long as the node is stopped (before: 36 s, until
    resumed by hand); the operations stuck on it are errors of kind `stuck` with their time so far as latency."""
    import signal

    with cluster_and_victim() as (cluster, victim):
        t0 = []

        def stop():
            os.kill(victim.pid, signal.SIGSTOP)
            t0.append(time.monotonic())

        try:
            stdout, run = run_with_fault(cluster, tmp_path, "silent", stop, at_s=2.0, run_time="6s")
            ended = time.monotonic()
        finally:
            os.kill(victim.pid, signal.SIGCONT)
    assert ended - t0[0] < 4 + 5 + 15  # the rest of the run, the grace, the read-back and summary: bounded
    s = run.summary
    stuck = s["errors"].get("stuck", 0)
    assert stuck > 0 and s["flags"]["errors"]
    if s["steady_from_s"] is not None and s["steady_from_s"] < 2.0:
        # the statistics window had begun before the stop (on a loaded host the pre-fill may still be queued behind
        # the stopped master at 2 s: then the window never begins and the stuck operations are warm-up, seen 11.8 s)
        assert sum(op["errors"] for op in s["operations"].values()) >= stuck
        # a stuck operation waited from before the stop to the end: its time so far is in the latency figures
        assert max(op["latency_us"]["max"] for op in s["operations"].values() if op["latency_us"].get("count")) > 3e6
    else:
        assert sum(op["warmup"] for op in s["operations"].values()) >= stuck
    # silent to its clients and on the cluster bus: a stopped process (a paused one answers the bus)
    assert s["read_back"]["masters_down_codes"] == {victim.address: "master-stopped"}
    assert "answers neither its clients nor the cluster bus" in s["read_back"]["masters_down"][victim.address]
    assert "stuck" in stdout
    # the first line is the fault, with its master and time (before: "RIG-BOUND: ... use a quieter machine")
    first = stdout[stdout.index("FAULT: "):].splitlines()[0]
    assert first.startswith(f"FAULT: master {victim.address} stopped") and " from " in first, first
    assert s["run_class"]["codes"] == ["master-stopped"]
    assert_fault_run(stdout, s, victim.address, "master-stopped")
    assert s["accounting"]["not_sent"] > 0 and f"not sent {s['accounting']['not_sent']:,}" in stdout
    assert "STOPPED: accepts connections" in stdout and "DEAD" not in stdout


def test_a_client_pause_on_a_master_is_flagged(tmp_path):
    with cluster_and_victim() as (cluster, victim):

        def pause_writes():
            with cluster.admin_client(victim) as r:
                r.execute_command("CLIENT", "PAUSE", "2000", "WRITE")

        stdout, run = run_with_fault(cluster, tmp_path, "clientpause", pause_writes, at_s=2.0, run_time="7s")
    s = run.summary
    assert s["flags"]["writes_paused"] and s["client_pauses"] == {victim.address: 1}
    assert f"writes_paused: CLIENT PAUSE on {victim.address} (1x)" in stdout


BUSY_LOOP = """local t0 = redis.call('TIME')
local start = t0[1] * 1000000 + t0[2]
while true do
  local t = redis.call('TIME')
  if t[1] * 1000000 + t[2] - start > 1500000 then return 1 end
end"""


def test_busy_replies_have_their_own_error_kind(tmp_path):
    """A Lua script busy past busy-reply-threshold: the node answers BUSY (before: counted as "other")."""
    with cluster_and_victim() as (cluster, victim):
        busy = lambda: start_busy_script(cluster, victim, 1_500_000, 10)  # noqa: E731 - the fault, named
        stdout, run = run_with_fault(cluster, tmp_path, "busy", busy, at_s=2.0, run_time="7s")
    errors = run.summary["errors"]
    assert errors.get("busy", 0) > 0 and not errors.get("other"), errors
    assert "busy" in stdout
    first = assert_fault_run(stdout, run.summary, victim.address, "master-busy")
    assert "busy (answers BUSY" in first and "operations failed with BUSY" in first


def test_a_script_busy_past_the_end_is_filed_busy_by_the_read_back(tmp_path):
    """Before: errors 'busy 4', but the read-back filed its sessions under 'other 302' and the master read 'back as
    master' while it still answered BUSY."""
    with cluster_and_victim() as (cluster, victim):
        try:
            busy = lambda: start_busy_script(cluster, victim, 40_000_000, 60)  # noqa: E731 - past the run's end
            stdout, run = run_with_fault(cluster, tmp_path, "busyend", busy, at_s=2.0, run_time="6s")
        finally:
            with cluster.admin_client(victim) as r:
                try:
                    r.execute_command("SCRIPT", "KILL")
                except Exception:  # noqa: BLE001 - already over
                    pass
    s = run.summary
    rb = s["read_back"]
    assert rb["masters_down_codes"] == {victim.address: "master-busy"}
    assert rb["unreadable_why"].get("busy", 0) > 0 and not rb["unreadable_why"].get("other"), rb
    assert_fault_run(stdout, s, victim.address, "master-busy")
    assert "BUSY: answers every command with BUSY" in stdout and "back as master" not in stdout


def test_a_client_pause_all_past_the_end_is_a_paused_master_not_a_dead_one(tmp_path):
    """CLIENT PAUSE 30000 ALL in a 6 s run: before, no writes_paused flag (raised only for PAUSE WRITE), the master
    shown DEAD and the run RIG-BOUND."""
    with cluster_and_victim() as (cluster, victim):

        def pause_all():
            with cluster.admin_client(victim) as r:
                r.execute_command("CLIENT", "PAUSE", "30000", "ALL")

        # CLIENT UNPAUSE is held too: the pause runs out by itself, or the cluster's stop (a signal) ends it
        stdout, run = run_with_fault(cluster, tmp_path, "pauseall", pause_all, at_s=2.0, run_time="6s")
    s = run.summary
    assert s["read_back"]["masters_down_codes"] == {victim.address: "master-paused"}
    first = assert_fault_run(stdout, s, victim.address, "master-paused")
    assert "paused (CLIENT PAUSE" in first
    assert s["flags"]["writes_paused"] and s["client_pauses"][victim.address] >= 1
    assert "PAUSED: answers the cluster bus" in stdout and "DEAD" not in stdout


def test_a_master_out_of_memory_is_a_fault_named_with_its_master(tmp_path):
    with cluster_and_victim() as (cluster, victim):

        def fill():
            with cluster.admin_client(victim) as r:
                # below what it holds: with noeviction every write is refused, deletes still go through
                r.config_set("maxmemory", int(r.info("memory")["used_memory"]) // 2)

        stdout, run = run_with_fault(cluster, tmp_path, "oom", fill, at_s=2.0, run_time="7s")
    s = run.summary
    assert s["errors"].get("oom", 0) > 0
    first = assert_fault_run(stdout, s, victim.address, "master-oom")
    assert "out of memory" in first and "writes refused with OOM" in first


def test_restore_restarts_a_killed_node_or_says_in_one_line_how_to_get_a_whole_cluster():
    """What the web UI's next test does after a kill-master fault (EmbeddedCluster.restore): the killed node is
    started again and the cluster is ok; a node that cannot start refuses in one line naming the fix."""
    from loadsim.errors import ClusterError

    with EmbeddedCluster(ClusterSpec(masters=3)) as cluster:
        assert cluster.restore() == []  # a whole cluster: nothing to do
        cluster.kill(1)
        assert cluster.restore() == [1]
        assert all(row["alive"] and row["cluster_state"] == "ok" for row in cluster.status())
        cluster.kill(2)
        conf = Path(cluster.node(2).directory) / "redis.conf"
        conf.rename(conf.with_suffix(".gone"))  # the node cannot start again
        with pytest.raises(ClusterError) as refused:
            cluster.restore(timeout=5)
        text = str(refused.value)
        assert "\n" not in text and text.startswith("the embedded cluster is not whole (node(s) 2 stopped by a "
                                                    "fault of the test before; ")
        assert text.endswith("quit loadsim and start it again for a new embedded cluster")
