"""The monitor's per-second sample asked from a child process (loadsim.redis.sampler): the same rows as the
in-process path, a paused node "down" within the wait while the others answer, the password never in the process
list, and today's in-process path when the child cannot start or ends."""

import logging
import os
import subprocess
import sys
import time

from loadsim.redis.monitor import NODE_FIELDS, NodeMonitor
from loadsim.redis.sampler import ANSWER_WAIT_S

# figures that do not move between two samples a few ms apart of an idle node; the others (memory, CPU, counters
# that the samples themselves advance) are compared by type
FIXED = {"node", "role", "state", "replica_of", "cluster_state", "maxmemory", "error"}
GROWING = ("total_commands_processed", "total_connections_received", "used_cpu_sys", "used_cpu_user")


def test_the_childs_rows_equal_the_in_process_rows(acl_cluster):
    here = NodeMonitor(acl_cluster.admin_options, measure_roundtrip=False, sample_in_child=False)
    child = NodeMonitor(acl_cluster.admin_options, measure_roundtrip=False)
    try:
        assert here.sampler is None and child.sampler is not None
        before, after = here.sample(), child.sample()
        answered = dict(child.answered_at)
    finally:
        here.close()
        child.close()
    assert [r["node"] for r in before] == [r["node"] for r in after] and len(after) == 6
    assert {r["role"] for r in after} == {"master", "replica"}
    for a, b in zip(before, after, strict=True):
        assert a.keys() == b.keys(), a.keys() ^ b.keys()
        assert set(NODE_FIELDS) - {"ping_us", "replica_of"} <= set(b) and b["state"] == "up"
        assert {k: a[k] for k in FIXED & set(a)} == {k: b[k] for k in FIXED & set(b)}
        for k in a:
            assert type(a[k]) is type(b[k]), (k, a[k], b[k])  # int stays int, float float (JSON keeps them)
        assert all(b[k] >= a[k] for k in GROWING), {k: (a[k], b[k]) for k in GROWING}
        assert b["workload_commands"] == a["workload_commands"]  # the monitor's own INFO is no workload
        assert b["time"] <= answered[b["node"]] <= time.time()


def test_a_paused_node_is_down_within_the_wait_and_the_others_answer(plain_cluster):
    monitor = NodeMonitor(plain_cluster.admin_options, measure_roundtrip=False)
    victim = plain_cluster.nodes[0]
    try:
        monitor.sample()  # connected
        os.kill(victim.pid, 19)  # SIGSTOP: a hang, sockets kept
        try:
            t0 = time.monotonic()
            rows = monitor.sample()
            took = time.monotonic() - t0
        finally:
            os.kill(victim.pid, 18)  # SIGCONT
        assert monitor.sampler is not None  # the child answered: not the in-process fallback
        by_node = {r["node"]: r for r in rows}
        down = by_node.pop(f"127.0.0.1:{victim.port}")
        assert down["state"] == "down" and down["error"] == "TimeoutError"
        assert {r["state"] for r in by_node.values()} == {"up"} and len(by_node) == 2
        assert all(r["used_memory"] > 0 for r in by_node.values())
        assert took < ANSWER_WAIT_S + 0.5
        assert f"127.0.0.1:{victim.port}" not in monitor.answered_at
        assert any(n.port == victim.port for n in monitor.down)
        rows = monitor.sample()  # resumed: up again
        assert {r["state"] for r in rows} == {"up"}
    finally:
        monitor.close()


def test_the_password_is_in_no_process_list_nor_environment(acl_cluster):
    opts = acl_cluster.admin_options
    assert opts.password
    monitor = NodeMonitor(opts)
    try:
        monitor.sample()
        ps = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True, check=True).stdout
        pid = monitor.sampler.proc.pid
        assert f"{pid} " in ps and "loadsim.redis.sampler" in ps
        assert opts.password not in ps
        with open(f"/proc/{pid}/environ", "rb") as f:
            assert opts.password.encode() not in f.read()
    finally:
        monitor.close()


def test_without_the_child_the_monitor_samples_itself_saying_so_once(plain_cluster, monkeypatch, caplog):
    monkeypatch.setattr(sys, "executable", "/nonexistent/python")
    with caplog.at_level(logging.WARNING, logger="loadsim.redis.monitor"):
        monitor = NodeMonitor(plain_cluster.admin_options, measure_roundtrip=False)
    try:
        assert monitor.sampler is None
        assert [r.message for r in caplog.records if "sampler" in r.message] and len(caplog.records) == 1
        assert {r["state"] for r in monitor.sample()} == {"up"}
    finally:
        monitor.close()


def test_a_child_that_ends_mid_run_hands_the_sample_back(plain_cluster, caplog):
    monitor = NodeMonitor(plain_cluster.admin_options, measure_roundtrip=False)
    try:
        monitor.sample()
        monitor.sampler.proc.kill()
        monitor.sampler.proc.wait()
        with caplog.at_level(logging.WARNING, logger="loadsim.redis.monitor"):
            rows = monitor.sample()
        assert {r["state"] for r in rows} == {"up"} and monitor.sampler is None
        assert len([r for r in caplog.records if "sampler process ended" in r.message]) == 1
    finally:
        monitor.close()
