"""An embedded cluster never outlives the process that started it, even one killed with SIGKILL."""

import os
import subprocess
import sys
import time

from loadsim.embedded.cluster import ClusterSpec, EmbeddedCluster, pid_alive

OWNER = """
from loadsim.embedded.cluster import EmbeddedCluster, ClusterSpec
c = EmbeddedCluster(ClusterSpec()).start()
print(' '.join(str(n.pid) for n in c.nodes), c.state_dir, flush=True)
import time; time.sleep(120)
"""


def test_nodes_stop_when_the_owner_is_killed():
    owner = subprocess.Popen([sys.executable, "-c", OWNER], stdout=subprocess.PIPE, text=True)
    words = owner.stdout.readline().split()
    pids, state_dir = [int(w) for w in words[:-1]], words[-1]
    assert len(pids) == 3 and all(pid_alive(p) for p in pids)
    owner.kill()
    owner.wait()
    deadline = time.monotonic() + 15
    while (any(pid_alive(p) for p in pids) or os.path.exists(state_dir)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(pid_alive(p) for p in pids)
    assert not os.path.exists(state_dir)


def test_stop_returns_every_pid_and_leaves_none():
    cluster = EmbeddedCluster(ClusterSpec(masters=3, replicas=1)).start()
    pids = [n.pid for n in cluster.nodes]
    assert sorted(cluster.stop()) == sorted(pids)
    assert not any(pid_alive(p) for p in pids)
