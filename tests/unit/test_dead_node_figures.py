"""Dead, restarted and failed-over nodes in the summary, from synthetic node rows: never negative, never counted
twice, failovers and outages as the monitor saw them."""

import json

import pytest

from loadsim.results.recorder import Recorder
from loadsim.results.summary import build_summary, failovers, master_delta, outages
from loadsim.results.text import summary_table

WORKLOAD = {"ha_pairs": 1, "cps_per_pair": 5.0, "aht_s": 10.0, "complexity": {"name": "standard"},
            "key_layout": "per-session", "worker_threads": 4, "session_ttl_s": 3600, "digital_share": 0.0,
            "writes_per_session": 8.0, "record_bytes_mean": 4096, "expected_live_sessions": 100.0,
            "expected_ops_per_s": 80.0, "seed": 1}
CLUSTER = {"masters": 3, "replicas": 1, "tls": False, "mutual_tls": False, "acl": False, "aof": False,
           "embedded": True}
A, B, C, D = (f"127.0.0.1:700{i}" for i in range(4))  # D is A's replica


def _row(node, t, role="master", state="up", cluster_state="ok", commands=None, replica_of=None):
    if state == "down":
        return {"time": 1000.0 + t, "elapsed_s": float(t), "node": node, "role": role, "state": "down",
                "error": "ConnectionError"}
    row = {"time": 1000.0 + t, "elapsed_s": float(t), "node": node, "role": role, "state": "up",
           "used_memory": 1_000_000, "used_memory_rss": 2_000_000, "keys": 10, "connected_clients": 3,
           "used_cpu_sys": 0.01 * t, "used_cpu_user": 0.0, "total_commands_processed": 20 * t,
           "workload_commands": 10 * t if commands is None else commands, "cluster_state": cluster_state}
    if replica_of:
        row["replica_of"] = replica_of
    return row


def _summary(rows, cs_start=None, cs_end=None, seconds=20):
    return build_summary(scenario="t", started=1000.0, ended=1000.0 + seconds, steady_from_s=2.0,
                         workload=WORKLOAD, cluster=CLUSTER, recorder=Recorder(), client_rows=[], node_rows=rows,
                         commandstats_start=cs_start or {}, commandstats_end=cs_end or {}, client_cpu_s=0.5,
                         recovery=[], interrupted=False)


def _failover_rows():
    """A dies at 5 s; the cluster says fail at 6 s; its replica D is a master from 7 s."""
    rows = []
    for t in range(20):
        fail = "fail" if t == 6 else "ok"
        rows.append(_row(A, t) if t < 5 else _row(A, t, state="down"))
        rows += [_row(B, t, cluster_state=fail), _row(C, t, cluster_state=fail)]
        rows.append(_row(D, t, role="replica", replica_of=A, commands=3, cluster_state=fail) if t < 7
                    else _row(D, t, commands=3 + 10 * (t - 6)))
    return rows


def _numbers(obj):
    if isinstance(obj, dict):
        for v in obj.values():
            yield from _numbers(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _numbers(v)
    elif isinstance(obj, (int, float)) and not isinstance(obj, bool):
        yield obj


def test_a_dead_master_and_its_promoted_replica_are_each_counted_once_and_nothing_is_negative():
    cs_start = {n: {"set": {"calls": 0}} for n in (A, B, C)} | {D: {"set": {"calls": 3}}}
    cs_end = {B: {"set": {"calls": 190}}, C: {"set": {"calls": 190}}, D: {"set": {"calls": 133}}}  # A: dead
    s = _summary(_failover_rows(), cs_start, cs_end)
    assert min(_numbers(s)) >= 0
    masters = {m["node"]: m for m in s["masters"]}
    assert set(masters) == {A, B, C, D}
    assert masters[A]["status"] == "dead" and masters[A]["down_from_s"] == 5.0 and masters[A]["last_seen_s"] == 4.0
    assert masters[A]["commands"] == 40  # up to its last answer
    assert masters[D]["commands"] == 130  # from its promotion only (3 replicated before it are not its own)
    assert masters[D]["timeline"] == [{"at_s": 0.0, "state": "replica"}, {"at_s": 7.0, "state": "master"}]
    assert masters[A]["timeline"] == [{"at_s": 0.0, "state": "master"}, {"at_s": 5.0, "state": "down"}]
    assert s["server"]["commands"] == 40 + 190 + 190 + 130
    assert s["server"]["used_memory"] == 3 * 1_000_000  # the masters at the end, not the dead one
    assert s["failovers"] == [{"node": A, "replaced_by": D, "down_at_s": 5.0, "promoted_at_s": 7.0,
                               "failover_s": 2.0, "back_at_s": None, "how": "stopped answering"}]
    assert s["outages"] == [{"from_s": 6.0, "to_s": 7.0, "seconds": 1.0, "why": "cluster_state:fail"}]
    assert s["flags"]["cluster_down"]
    text = summary_table(json.loads(json.dumps(s)))
    lines = text.splitlines()
    # the fault first, naming the master and the time, then the outage (before: the outage first, no fault named)
    assert lines[0].startswith(f"FAULT: master {A} dead (refuses connections) from 5.0 s (its replica {D} master")
    assert s["run_class"]["codes"] == ["master-dead", "cluster-down"]
    assert lines[1] == "CLUSTER DOWN from 6.0 s to 7.0 s (1.0 s): cluster_state:fail" and lines[2].startswith("run:")
    assert f"failover: {A} stopped answering at 5.0 s, {D} master at 7.0 s: failover 2.0 s" in text
    assert "DEAD: no answer from 5.0 s (last seen 4.0 s)" in text and "promoted: master from 7.0 s" in text
    assert "flags: cluster_down" in text


def test_all_masters_dead_is_a_cluster_down_to_the_end_with_no_negative_figures():
    rows = [_row(n, t) if t < 8 else _row(n, t, state="down") for t in range(15) for n in (A, B, C)]
    cs_start = {n: {"set": {"calls": 0}, "info": {"calls": 5}} for n in (A, B, C)}
    s = _summary(rows, cs_start, {}, seconds=15)
    assert min(_numbers(s)) >= 0
    assert s["server"]["commands"] == 3 * 70 and s["server"]["cpu_us_per_command"] >= 0
    assert [m["status"] for m in s["masters"]] == ["dead"] * 3
    assert s["outages"] == [{"from_s": 8.0, "to_s": None, "seconds": 7.0, "why": "no master answered"}]
    assert [(f["node"], f["replaced_by"], f["failover_s"]) for f in s["failovers"]] == [(n, None, None)
                                                                                       for n in (A, B, C)]
    text = summary_table(s)
    # the fault first, every dead master named once (before: RIG-BOUND: achieved 36 % of offered)
    assert text.splitlines()[0].startswith(f"FAULT: masters {A}, {B}, {C} dead (refuses connections) from 8.0 s")
    assert text.splitlines()[1] == "CLUSTER DOWN from 8.0 s to the end (7.0 s): no master answered"
    assert "no replica took over" in text


def test_a_restarted_node_counts_from_its_new_baseline():
    assert master_delta([(100.0, "master"), (150.0, "master"), (20.0, "master"), (30.0, "master")]) == 50 + 20 + 10
    assert master_delta([(0.0, "replica"), (50.0, "replica"), (60.0, "master")]) == 10  # replicated: not counted
    rows = [_row(A, t, commands=(10 * t if t < 5 else 10 * (t - 5))) for t in range(10)]
    rows = [r for r in rows if r["elapsed_s"] != 5.0] + [_row(A, 5, state="down")]
    s = _summary(rows, {A: {"set": {"calls": 0}}}, {A: {"set": {"calls": 40}}}, seconds=10)
    m = s["masters"][0]
    assert m["commands"] == 40 + 40 and m["status"] == "master"
    assert [t["state"] for t in m["timeline"]] == ["master", "down", "master"]
    assert failovers(rows)[0]["back_at_s"] == 6.0 and failovers(rows)[0]["replaced_by"] is None


def test_a_healthy_run_has_no_outage_and_one_node_saying_fail_is_not_an_outage():
    rows = [_row(n, t, cluster_state="fail" if (n == A and t == 3) else "ok") for t in range(10) for n in (A, B, C)]
    assert outages(rows, 10.0) == []
    s = _summary(rows, {n: {"set": {"calls": 0}} for n in (A, B, C)}, {n: {"set": {"calls": 90}} for n in (A, B, C)})
    assert "failovers" not in s and "outages" not in s and not s["flags"]["cluster_down"]
    assert s["server"]["commands"] == 270
    assert all(m["status"] == "master" for m in s["masters"])
    assert not summary_table(s).startswith("CLUSTER DOWN")


def test_rows_of_an_older_series_without_a_state_column():
    old = [{k: v for k, v in r.items() if k not in ("state", "workload_commands", "cluster_state")}
           for r in _failover_rows()]
    s = _summary(old, {n: {"set": {"calls": 0}} for n in (A, B, C, D)}, {B: {"set": {"calls": 190}}})
    assert {m["node"]: m["status"] for m in s["masters"]}[A] == "dead"
    assert min(_numbers(s)) >= 0
    assert s["failovers"][0]["failover_s"] == pytest.approx(2.0)


def test_a_master_that_comes_back_as_a_replica_after_its_replica_took_over_says_so():
    """An 8 s Lua busy loop on A: INFO fails with BUSY (A still counted a master), its replica D is promoted at
    11 s, A answers as D's replica from 16 s. Before: "became a replica at 16.0 s: no replica took over"."""
    rows = []
    for t in range(20):
        if t < 16:
            rows.append(_row(A, t) if t < 8 else {**_row(A, t), "error": "BusyError"})
        else:
            rows.append(_row(A, t, role="replica", replica_of=D, commands=80))
        rows += [_row(B, t), _row(C, t)]
        rows.append(_row(D, t, role="replica", replica_of=A, commands=3) if t < 11
                    else _row(D, t, commands=3 + 10 * (t - 10)))
    [event] = [f for f in failovers(rows) if f["node"] == A]
    assert event["how"] == "became a replica" and event["down_at_s"] == 16.0
    assert event["replaced_by"] == D and event["promoted_at_s"] == 11.0 and event["taken_over_before"]
    text = summary_table(_summary(rows))
    assert f"failover: {A} became a replica at 16.0 s: its replica {D} had taken over its slots at 11.0 s" in text
    assert "no replica took over" not in text


def test_a_client_pause_during_the_run_is_a_flag_with_the_node():
    """CLIENT PAUSE 5000 WRITE on a master: p99 4.6 s and "flags: none" before."""
    start = {A: {"client|pause": {"calls": 1}, "set": {"calls": 10}}, B: {"set": {"calls": 10}}}
    end = {A: {"client|pause": {"calls": 2}, "set": {"calls": 90}}, B: {"set": {"calls": 90}}}
    rows = [r for t in range(20) for r in (_row(A, t), _row(B, t))]
    s = _summary(rows, cs_start=start, cs_end=end)
    assert s["flags"]["writes_paused"] and s["client_pauses"] == {A: 1}
    assert f"writes_paused: CLIENT PAUSE on {A} (1x)" in summary_table(s)
    assert "writes_paused" not in _summary(rows, cs_start=end, cs_end=end)["flags"]


def test_a_master_missing_only_the_last_sample_is_not_a_fault():
    """On a loaded host the monitor's 0.5 s timeout can miss a node's last sample: a silence that short, with no
    refused connection, is not a fault (a refused one, or a longer silence, is)."""
    rows = [_row(n, t) for t in range(12) for n in (A, B, C)]
    rows = [r for r in rows if not (r["node"] == A and r["elapsed_s"] == 11.0)]
    last = {**_row(A, 11, state="down"), "error": "TimeoutError"}
    s = _summary(rows + [last], {n: {"set": {"calls": 0}} for n in (A, B, C)}, {}, seconds=12)
    assert s["run_class"]["class"] != "fault" and not s["flags"].get("master_fault")
    refused = {**last, "error": "ConnectionError"}
    s = _summary(rows + [refused], {n: {"set": {"calls": 0}} for n in (A, B, C)}, {}, seconds=12)
    assert s["run_class"]["class"] == "fault" and s["run_class"]["codes"] == ["master-dead"]
