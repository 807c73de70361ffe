"""An ORS node runs one operation of a session at a time (loadsim.locust.engine.OrsNode), on a real Redis Cluster.

Root cause of a web-UI test that found a record of the previous test in Redis (test_webui_form.py, 2 runs in 6
beside three CPU hogs): a session's update and its delete ran on two worker threads at once and their commands
interleaved in Redis (update SET session, delete DEL session, DEL timers, DEL owner, update SET timers), so the
update's timers record outlived the session by its whole TTL. And after a switchover a session's restore ran beside
its delete: its read came after the delete's first DEL, before the delete's reply, and the session was called
`missing` (test_faults.py, 1 of 1,231 on a busy machine). An ORS session handles its events one after the other
and writes from the thread that handles them: the next operation of a session waits for the one in flight."""

from array import array

import gevent
import pytest
import redis
from locust.env import Environment
from locust.event import Events

from loadsim.embedded.cluster import ClusterSpec, EmbeddedCluster
from loadsim.locust.engine import OrsNode, Recovery
from loadsim.locust.plugin import Scenario, attach
from loadsim.locust.users import HaPairUser
from loadsim.model import records
from loadsim.model import workload as wl

SESSIONS = 400


class HaPair(HaPairUser):
    pass


@pytest.fixture(scope="module")
def cluster():
    with EmbeddedCluster(ClusterSpec(masters=3)) as c:
        yield c


def _node(cluster, tmp_path, name):
    env = Environment(user_classes=[HaPair], events=Events())
    env.create_local_runner()
    eng = attach(env, Scenario.declare(name, ha_pairs=1),
                 ["--redis-nodes", ",".join(n.address for n in cluster.nodes), "--results-dir", str(tmp_path / "r"),
                  "--worker-threads", "2", "--complexity", "simple", "--ors-cluster-name", name]).engine
    eng.reset(eng.params)
    node = OrsNode(eng, dbid=101, node_id=100)
    node.connect()
    node.acked = array("I", bytes(4 * SESSIONS))
    node.start()
    return node


def _keys(cluster, name):
    """The keys of ORS cluster ``name`` on every master."""
    out = []
    for n in cluster.nodes:
        with redis.Redis(host="127.0.0.1", port=n.port) as r:
            if r.info("replication")["role"] == "master":
                out += r.keys(f"ORS:{name}*")
    return out


def _wait(node):
    """Until the node has nothing queued or in flight; returns how many times two operations of one session were
    seen in flight at once. Looked at on every turn of the event loop: an operation starts in a reply's callback
    and stays in flight until its own reply, a turn later at the earliest."""
    overlaps, deadline = 0, gevent.get_hub().loop.now() + 60
    while (node.queued or any(node.in_flight)) and gevent.get_hub().loop.now() < deadline:
        running = [op.sid for op in node.in_flight if op is not None]
        overlaps += len(running) - len(set(running))
        gevent.sleep(0)
    assert not node.queued and not any(node.in_flight), "the operations did not finish in 60 s"
    return overlaps


def test_a_sessions_delete_waits_for_its_update_and_leaves_no_record(cluster, tmp_path):
    node = _node(cluster, tmp_path, "order")
    sids = [wl.session_id(100, seq) for seq in range(1, SESSIONS + 1)]
    try:
        for seq, sid in enumerate(sids, 1):
            node.submit(wl.Op(0.0, wl.CREATE, sid, 200, 100, seq=seq, version=1))
        assert _wait(node) == 0
        assert len(_keys(cluster, "order")) == 3 * SESSIONS  # session, timers and owner records
        # each update (session and timers records) next to its session's delete, two free worker threads: the
        # delete waits for the update, held on the node and counted as queued
        node.submit(wl.Op(0.0, wl.UPDATE, sids[0], 200, 100, seq=1, version=2))
        node.submit(wl.Op(0.0, wl.DELETE, sids[0], 0, 0, seq=1))
        assert [op.kind for op in node.in_flight if op is not None] == [wl.UPDATE] and node.queued == 1
        for seq, sid in enumerate(sids[1:], 2):  # queued in pairs: a free worker thread meets the held delete
            node.submit(wl.Op(0.0, wl.UPDATE, sid, 200, 100, seq=seq, version=2))
            node.submit(wl.Op(0.0, wl.DELETE, sid, 0, 0, seq=seq))
        assert _wait(node) == 0
    finally:
        node.stop()
    assert _keys(cluster, "order") == []
    assert all(v == records.ENDED for v in node.acked) and not any(node.engine.recorder.errors.values())


def test_a_delete_held_when_its_node_stops_is_lost_with_the_node_and_its_session_is_cleaned_up_later(cluster,
                                                                                                       tmp_path):
    node = _node(cluster, tmp_path, "held")
    sid = wl.session_id(100, 1)
    node.submit(wl.Op(0.0, wl.CREATE, sid, 200, 100, seq=1, version=1))
    node.submit(wl.Op(0.0, wl.DELETE, sid, 0, 0, seq=1))
    assert node.queued == 1
    before = node.engine.recorder.not_sent
    dropped = node.stop(grace_s=0)  # a crash: the create cut off in flight, the delete held behind it never sent
    # counted as a queued operation is: lost with the node, and its session named for the next test's clean-up
    # (Engine.delete_sessions)
    assert dropped == 2 and node.engine.recorder.not_sent == before + 1
    assert node.undeleted == [sid] and node.queued == 0 and not node.busy


def test_a_session_deleted_next_to_its_restore_is_ended_never_missing(cluster, tmp_path):
    node = _node(cluster, tmp_path, "race")
    sids = [wl.session_id(100, seq) for seq in range(1, SESSIONS + 1)]
    try:
        for seq, sid in enumerate(sids, 1):  # the sessions, written and acknowledged (version 1)
            node.submit(wl.Op(0.0, wl.CREATE, sid, 200, 0, seq=seq, version=1))
        while any(v != 1 for v in node.acked) and not gevent.sleep(0.05):
            pass
        node.recovery = state = Recovery(SESSIONS)
        for seq, sid in enumerate(sids, 1):  # each delete next to its restore, two worker threads
            node.submit(wl.Op(0.0, wl.DELETE, sid, 0, 0, seq=seq))
            node.submit(wl.Op(0.0, wl.RECOVER, sid, 0, 0, seq=seq))
        assert state.done.wait(timeout=60), "the restores did not finish"
    finally:
        node.stop()
    # the restore waited for the delete: every session's delete was acknowledged before its read
    assert state.failed == 0 and dict(state.verdicts) == {records.ENDED_VERDICT: SESSIONS}, dict(state.verdicts)
