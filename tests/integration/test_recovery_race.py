"""Root cause of the 1 `missing` verdict after a switchover on a busy machine
(test_faults.py::test_recovery_runs_on_every_worker_while_new_calls_keep_arriving): a misclassification, not a
lost write.

After a switchover the new primary's queue holds the calls that arrived during its scan, then the restores. When
a session's delete (queued just before the restores) and its restore run at the same time on two worker threads,
the restore's read can come after the delete's first DEL and its verdict before the delete's reply is processed:
the last acknowledged version is still the old one, and the session was called `missing`. Here that overlap is
made for every session (each delete immediately followed by its restore in the queue, two worker threads, a real
Redis Cluster), so the old classification called about half of them missing; a session a worker thread is
deleting has ended."""

from array import array

import gevent
import pytest
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


def test_a_session_deleted_while_it_is_restored_is_ended_never_missing(cluster, tmp_path):
    env = Environment(user_classes=[HaPair], events=Events())
    env.create_local_runner()
    eng = attach(env, Scenario.declare("race", ha_pairs=1),
                 ["--redis-nodes", ",".join(n.address for n in cluster.nodes), "--results-dir", str(tmp_path / "r"),
                  "--worker-threads", "2", "--complexity", "simple", "--ors-cluster-name", "race"]).engine
    eng.reset(eng.params)
    node = OrsNode(eng, dbid=101, node_id=100)
    node.connect()
    sids = [wl.session_id(100, seq) for seq in range(1, SESSIONS + 1)]
    node.acked = array("I", bytes(4 * SESSIONS))
    node.start()
    try:
        for seq, sid in enumerate(sids, 1):  # the sessions, written and acknowledged (version 1)
            node.submit(wl.Op(0.0, wl.CREATE, sid, 200, 0, seq=seq, version=1))
        while any(v != 1 for v in node.acked) and not gevent.sleep(0.05):
            pass
        node.recovery = state = Recovery(SESSIONS)
        for seq, sid in enumerate(sids, 1):  # each delete next to its restore: two worker threads, one each
            node.submit(wl.Op(0.0, wl.DELETE, sid, 0, 0, seq=seq))
            node.submit(wl.Op(0.0, wl.RECOVER, sid, 0, 0, seq=seq))
        assert state.done.wait(timeout=60), "the restores did not finish"
    finally:
        node.stop()
    verdicts = dict(state.verdicts)
    assert state.failed == 0
    assert verdicts.get(records.MISSING, 0) == 0, verdicts  # before the fix: about half of them
    assert verdicts.get(records.ENDED_VERDICT, 0) + verdicts.get(records.CURRENT, 0) == SESSIONS, verdicts
    assert verdicts.get(records.ENDED_VERDICT, 0) > 0  # the overlap did happen
