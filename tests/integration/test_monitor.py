"""The server-side monitor on a cluster with replicas: roles, which master each replica follows, and the
replication lag the live view computes from the offsets."""

from loadsim.locust.webui import node_series, replication_lag
from loadsim.redis.monitor import NodeMonitor


def test_replicas_name_their_master_and_their_lag_is_known(acl_cluster):
    monitor = NodeMonitor(acl_cluster.admin_options)
    try:
        rows = []
        for _ in range(2):
            rows += [{**r, "elapsed_s": 0.0} for r in monitor.sample()]
    finally:
        monitor.close()
    latest = {r["node"]: r for r in rows}
    masters = {n for n, r in latest.items() if r["role"] == "master"}
    replicas = {n: r for n, r in latest.items() if r["role"] == "replica"}
    assert len(masters) == 3 and len(replicas) == 3
    assert {r["replica_of"] for r in replicas.values()} == masters  # one replica per master
    assert all(isinstance(r["master_repl_offset"], int) for r in latest.values())
    lag = replication_lag(node_series(rows))
    assert set(lag) == set(replicas) and all(v is not None and v >= 0 for v in lag.values())


def test_commandstats_and_latencystats_ask_the_same_answering_nodes(acl_cluster):
    """Both walk the nodes through one per-node INFO helper: every node that answers, none the last sample found
    down, each with its own figures (the INFO commands the monitor itself sent are counted)."""
    monitor = NodeMonitor(acl_cluster.admin_options, measure_roundtrip=False)
    try:
        monitor.sample()
        everyone = {str(n) for n in monitor.nodes}
        commands, latencies = monitor.commandstats(), monitor.latencystats()
        assert set(commands) == set(latencies) == everyone and len(everyone) == 6
        assert all(c["info"]["calls"] >= 1 and "usec_per_call" not in c["info"] for c in commands.values())
        assert all(set(lat["info"]) == {"p50", "p99", "p99.9"} for lat in latencies.values())
        gone = next(iter(monitor.nodes))
        monitor.down = {gone}
        assert set(monitor.commandstats()) == set(monitor.latencystats()) == everyone - {str(gone)}
    finally:
        monitor.close()
