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
