"""The ORS-like cluster client against real clusters: routing, pool shape, redirections, failures."""

import threading
import time

import pytest
from redis.crc import key_slot

from loadsim.embedded.cluster import ClusterSpec, EmbeddedCluster
from loadsim.redis.client import ClusterClient, RedisError


def owner_port(cluster, key):
    slot = key_slot(key.encode())
    with cluster.admin_client(cluster.nodes[0]) as c:
        for start, end, master, *_ in c.execute_command("CLUSTER", "SLOTS"):
            if start <= slot <= end:
                return int(master[1])
    raise AssertionError("slot not covered")


def test_routes_every_key_to_the_master_of_its_slot(plain_cluster):
    w = ClusterClient(plain_cluster.options).worker()
    try:
        for i in range(200):
            key = f"ORS:route:{i}"
            assert w.execute(key, "SET", key, b"v", "PX", "60000") == b"OK"
        for i in range(0, 200, 17):
            key = f"ORS:route:{i}"
            port = owner_port(plain_cluster, key)
            node = next(n for n in plain_cluster.nodes if n.port == port)
            with plain_cluster.admin_client(node) as c:
                assert c.get(key) == "v" and 0 < c.pttl(key) <= 60000
        assert w.moved == 0 and w.commands_ok == 200
    finally:
        w.close()


def _clients(cluster):
    out = {}
    for n in cluster.nodes:
        with cluster.admin_client(n) as c:
            out[n.port] = len(c.client_list())
    return out


def test_each_worker_holds_one_connection_per_master(plain_cluster):
    """Eager pools connect every worker to every master at once; lazy ones (redis-plus-plus's) connect
    a worker to a master on its first command there, so an unused worker holds nothing."""
    client = ClusterClient(plain_cluster.options, name="pool-test")
    before = _clients(plain_cluster)
    eager = [client.worker(eager=True) for _ in range(5)]
    lazy = [client.worker() for _ in range(5)]
    try:
        assert {p: n - before[p] for p, n in _clients(plain_cluster).items()} == {p: 5 for p in before}
        assert all(w.opened == 3 for w in eager) and all(w.opened == 0 for w in lazy)
        for i in range(100):  # keys on every master
            lazy[0].execute(f"ORS:lazy:{i}", "SET", f"ORS:lazy:{i}", b"x")
        assert {p: n - before[p] for p, n in _clients(plain_cluster).items()} == {p: 6 for p in before}
        assert lazy[0].opened == 3 and lazy[0].reconnects == 0 and all(w.opened == 0 for w in lazy[1:])
    finally:
        for w in eager + lazy:
            w.close()


def test_tls_mutual_tls_and_acl(tls_cluster, mtls_cluster, acl_cluster):
    for cluster in (tls_cluster, mtls_cluster, acl_cluster):
        w = ClusterClient(cluster.options).worker()
        try:
            assert w.execute("ORS:t", "SET", "ORS:t", b"x") == b"OK"
            assert w.execute("ORS:t", "GET", "ORS:t") == b"x"
        finally:
            w.close()
    w = ClusterClient(acl_cluster.options).worker()
    try:
        with pytest.raises(RedisError) as err:
            w.execute("other", "SET", "other", b"x")  # least privilege: only ORS:* keys
        assert err.value.kind == "noperm"
    finally:
        w.close()


def test_wrong_password_is_reported_without_the_password(acl_cluster):
    from dataclasses import replace

    opts = replace(acl_cluster.options, password="not-the-password-123")
    with pytest.raises(RedisError) as err:
        ClusterClient(opts)
    assert err.value.kind == "wrongpass"
    assert "not-the-password-123" not in str(err.value)


def test_live_slot_migration_loses_no_acknowledged_write():
    with EmbeddedCluster(ClusterSpec(masters=3)) as cluster:
        key0 = "ORS:mig:{tag}:0"
        slot = key_slot(key0.encode())
        src_port = owner_port(cluster, key0)
        src = next(n for n in cluster.nodes if n.port == src_port)
        dst = next(n for n in cluster.nodes[:3] if n.port != src_port)
        with cluster.admin_client(src) as a:
            src_id = a.execute_command("CLUSTER", "MYID")
        with cluster.admin_client(dst) as a:
            dst_id = a.execute_command("CLUSTER", "MYID")
        w = ClusterClient(cluster.options).worker()
        acked, stop = [], threading.Event()

        def writer():
            deadline = time.monotonic() + 20
            i = 0
            while not stop.is_set() and time.monotonic() < deadline and i < 200_000:
                key = f"ORS:mig:{{tag}}:{i}"
                try:
                    w.execute(key, "SET", key, str(i))
                    acked.append(i)
                except RedisError as exc:
                    assert exc.kind in ("moved", "ask", "tryagain"), exc
                i += 1

        t = threading.Thread(target=writer)
        t.start()
        time.sleep(0.3)
        with cluster.admin_client(src) as s, cluster.admin_client(dst) as d:
            d.execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", src_id)
            s.execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", dst_id)
            emptied = False
            for _ in range(2000):  # bounded: the writer stops after 20 s or 200,000 keys
                keys = s.execute_command("CLUSTER", "GETKEYSINSLOT", slot, 1000)
                if not keys:
                    emptied = True
                    break
                s.execute_command("MIGRATE", "127.0.0.1", dst.port, "", 0, 5000, "KEYS", *keys)
                time.sleep(0.01)  # let the writer hit the ASK window
            for n in cluster.nodes:
                with cluster.admin_client(n) as c:
                    c.execute_command("CLUSTER", "SETSLOT", slot, "NODE", dst_id)
        time.sleep(0.3)
        stop.set()
        t.join()
        w.close()
        assert emptied, "the test's own migration did not move every key of the slot"
        assert len(acked) > 100
        assert w.moved + w.asked > 0
        with cluster.admin_client(dst) as d:
            pipe = d.pipeline(transaction=False)
            for i in acked:
                pipe.get(f"ORS:mig:{{tag}}:{i}")
            values = pipe.execute()
        missing = [i for i, v in zip(acked, values, strict=True) if v != str(i)]
        assert missing == []


def test_paused_node_times_out_then_recovers():
    from dataclasses import replace

    with EmbeddedCluster(ClusterSpec(masters=3)) as cluster:
        opts = replace(cluster.options, redis_socket_timeout=200)
        w = ClusterClient(opts).worker()
        key = "ORS:pause"
        port = owner_port(cluster, key)
        index = next(n.index for n in cluster.nodes if n.port == port)
        cluster.pause(index)
        try:
            t0 = time.monotonic()
            with pytest.raises(RedisError) as err:
                w.execute(key, "SET", key, b"x")
            assert err.value.kind == "timeout" and time.monotonic() - t0 < 1.5
        finally:
            cluster.resume(index)
        assert w.execute(key, "SET", key, b"x") == b"OK"  # reconnected on the next use
        assert w.reconnects >= 1
        w.close()


def test_stale_map_is_fixed_by_one_moved(plain_cluster):
    client = ClusterClient(plain_cluster.options)
    w = client.worker()
    key = "ORS:stale"
    slot = key_slot(key.encode())
    right = client.slots[slot]
    client.slots[slot] = next(a for a in client.masters() if a != right)
    assert w.execute(key, "SET", key, b"1") == b"OK" and w.moved == 1
    # a MOVED reloads the whole map at once (redis-plus-plus: ShardsPool::update), then retries
    assert client.refreshes == 2 and not client.stale and client.slots[slot] == right
    w.execute(key, "GET", key)
    assert client.refreshes == 2 and w.moved == 1
    w.close()


def cluster_slots_calls(cluster, nodes):
    total = 0
    for n in nodes:
        with cluster.admin_client(n) as c:
            total += int(c.info("commandstats").get("cmdstat_cluster|slots", {}).get("calls", 0))
    return total


def test_a_dead_master_costs_a_bounded_number_of_slot_map_reloads():
    """SIGKILL a master; a thousand commands to its slots fail (connection refused), ~1.5 s when quiet. Each
    failure asks for a reload, but the client reloads at most once per 100 ms: Redis counts the CLUSTER
    SLOTS calls (commandstats of the surviving masters), the client counts the skips."""
    with EmbeddedCluster(ClusterSpec(masters=3)) as cluster:
        client = ClusterClient(cluster.options)
        workers = [client.worker() for _ in range(4)]
        dead_key = "ORS:dead"
        dead_port = owner_port(cluster, dead_key)
        dead = next(n for n in cluster.nodes if n.port == dead_port)
        live = [n for n in cluster.nodes if n.port != dead_port]
        live_key = next(k for k in (f"ORS:live:{i}" for i in range(100)) if owner_port(cluster, k) != dead_port)
        for w in workers:
            w.execute(dead_key, "SET", dead_key, b"x")  # every worker holds a connection to the victim
        before = cluster_slots_calls(cluster, live)
        refreshes0 = client.refreshes
        cluster.kill(dead.index)
        failed = ok = 0
        t0 = time.monotonic()
        # bounded by count, not by time: the property is "many failures, few reloads", and how many failures
        # fit in a fixed window depends on the machine (840 in 1.5 s at load 8 on 2 cores made the old test fail)
        while (failed < 1000 or ok <= 100) and time.monotonic() - t0 < 60:
            for w in workers:
                try:
                    w.execute(dead_key, "GET", dead_key)
                except RedisError as exc:
                    assert exc.kind == "connection", exc
                    failed += 1
                try:
                    w.execute(live_key, "SET", live_key, b"y")  # the other masters keep working
                    ok += 1
                except RedisError as exc:
                    assert exc.kind == "clusterdown", exc  # once the cluster marks the master failed
        elapsed = time.monotonic() - t0
        reloads = client.refreshes - refreshes0
        assert failed >= 1000 and ok > 100
        assert 1 <= reloads <= elapsed / 0.1 + 2
        assert cluster_slots_calls(cluster, live) - before == reloads  # Redis agrees with the client
        assert client.refreshes_skipped > failed - 2 * reloads - len(workers)
        for w in workers:
            w.close()


def test_redirection_loop_fails_after_two_tries():
    """Slot MIGRATING on its owner but not IMPORTING on the target: owner says ASK, target says MOVED
    back. redis-plus-plus gives up after two tries; so does the client (no silent retry storm)."""
    with EmbeddedCluster(ClusterSpec(masters=3)) as cluster:
        key = "ORS:loop"
        slot = key_slot(key.encode())
        src = next(n for n in cluster.nodes if n.port == owner_port(cluster, key))
        dst = next(n for n in cluster.nodes if n.port != src.port)
        with cluster.admin_client(dst) as d:
            dst_id = d.execute_command("CLUSTER", "MYID")
        with cluster.admin_client(src) as s:
            s.execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", dst_id)
        w = ClusterClient(cluster.options).worker()
        t0 = time.monotonic()
        with pytest.raises(RedisError) as err:
            w.execute(key, "GET", key)  # missing key in a migrating slot -> ASK -> MOVED
        assert err.value.kind == "moved" and w.asked == 1 and w.commands_failed == 1
        assert time.monotonic() - t0 < 0.5  # no back-off sleeps
        w.close()
