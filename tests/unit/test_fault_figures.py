"""Error windows per master and the impact of a fault on the per-second series (pure)."""

import time

from loadsim.redis.client import ErrorWindows
from loadsim.results.impact import fault_impact


def test_an_error_window_runs_from_the_first_failure_to_the_first_success_on_its_slots():
    w = ErrorWindows()
    start = time.perf_counter()
    a, b = ("127.0.0.1", 7000), ("127.0.0.1", 7001)
    w.fail(a, 10)
    w.fail(a, 11)
    w.fail(b, 900)
    w.success(5)  # another slot: nothing
    assert len(w.open) == 2
    w.success(11)  # slot 11 served again (by the promoted replica): a's window closes
    report = w.report(start)
    closed = [r for r in report if r["to_s"] is not None]
    assert [r["master"] for r in closed] == ["127.0.0.1:7000"] and closed[0]["failures"] == 2
    still = [r for r in report if r["to_s"] is None]
    assert [r["master"] for r in still] == ["127.0.0.1:7001"] and still[0]["seconds"] is None
    assert list(w.failing_slots) == [900]


def test_fault_impact_finds_the_spike_its_end_and_the_backlog():
    rows = [{"elapsed_s": t, "latency_max_us": 1000 if t < 10 or t > 15 else 900_000,
             "queue_depth": 0 if t < 10 or t > 17 else 500, "generator_cpu_percent": 30} for t in range(30)]
    (impact,) = fault_impact([{"action": "kill-master", "node": "127.0.0.1:7000", "done_s": 10.0}], rows)
    assert impact["latency_max_us_before"] == 1000 and impact["latency_max_us_peak"] == 900_000
    assert impact["latency_recovered_s"] == 6.0  # back under 2x at 16 s
    assert impact["backlog_peak"] == 500 and impact["backlog_drained_s"] == 8.0
    assert impact["latency_was"] == "Redis's"
    rows = [{**r, "generator_cpu_percent": 99} for r in rows]
    assert fault_impact([{"action": "x", "done_s": 10.0}], rows)[0]["latency_was"].startswith("the generator's")


def test_fault_impact_measures_the_connection_storm_from_the_servers_counters():
    rows = [{"elapsed_s": t, "latency_max_us": 1000, "queue_depth": 0, "generator_cpu_percent": 10}
            for t in range(20)]
    nodes = [{"elapsed_s": t, "node": n, "state": "up", "total_connections_received": 10 + (40 if t >= 12 else 0)}
             for t in range(20) for n in ("a", "b")]
    (impact,) = fault_impact([{"action": "switchover", "target": "all", "done_s": 10.0}], rows, nodes)
    assert impact["new_connections_per_s_before"] == 0.0  # no new connection before the fault
    assert impact["new_connections_per_s_peak"] == 80.0  # 40 on each of the two nodes in one second


def test_a_backlog_emptied_only_by_the_stop_did_not_drain_and_the_text_says_so():
    """Before: a backlog behind a master stopped to the end 'drained after 14.0 s': the last sample, taken after the
    HA pairs stopped and dropped their queues, was read as the drain."""
    from loadsim.results.text import summary_table

    rows = [{"elapsed_s": t, "latency_max_us": 1000 if t < 3 else 3_000_000 * (t - 2),
             "queue_depth": 0 if t < 3 else 50 * t, "generator_cpu_percent": 10} for t in range(10)]
    rows.append({"elapsed_s": 15.0, "latency_max_us": 0, "queue_depth": 0, "generator_cpu_percent": 1})  # after stop
    (impact,) = fault_impact([{"action": "pause-master", "node": "127.0.0.1:7000", "done_s": 3.0}], rows)
    assert impact["backlog_drained_s"] is None and impact["backlog_at_end"] == 450
    assert impact["latency_recovered_s"] is None
    text = summary_table({"fault_impact": [impact]})
    assert "backlog 450 operations, did not drain (450 still queued at the end)" in text
    assert "not back under 2x by the end" in text


def test_percentile_columns_never_run_together():
    """Before: '24,17513,934,591': a p99 of 13.9 s filled its column and touched its neighbour."""
    from loadsim.results.text import operations_table

    op = {"count": 74, "errors": 1, "warmup": 15,
          "latency_us": {"count": 73, "p50": 7367, "p90": 14311, "p99": 24175, "p999": 13_934_591,
                         "max": 13_934_591},
          "service_us": {"p99": 17775}}
    row = operations_table({"operations": {"session.create": op}})[1]
    assert row.split() == ["session.create", "74", "1", "15", "7,367", "14,311", "24,175", "13.93", "s", "13.93",
                           "s", "17,775"]


def test_the_glossary_spells_each_term_once():
    """A term written twice in the glossary's dict kept one explanation silently (seen: 'fault' as the run class and
    as the --fault line, 'unreadable' twice): each term once, so 'loadsim explain' says what the author wrote."""
    import ast
    import inspect

    from loadsim.results import glossary

    tree = ast.parse(inspect.getsource(glossary))
    (node,) = [n for n in ast.walk(tree) if isinstance(n, ast.AnnAssign) and getattr(n.target, "id", "") == "GLOSSARY"]
    keys = [k.value for k in node.value.keys]
    assert len(keys) == len(set(keys)), sorted(k for k in keys if keys.count(k) > 1)
