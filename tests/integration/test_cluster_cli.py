"""`loadsim cluster up|status|down` and the embedded cluster's security and fault helpers."""

import json
import os
import shlex
import stat
import subprocess
import sys

import pytest
import redis
from redis.crc import key_slot

from loadsim.embedded.cluster import ClusterError, ClusterSpec, EmbeddedCluster, pid_alive


def loadsim(*args):
    return subprocess.run([sys.executable, "-m", "loadsim", *args], capture_output=True, text=True, timeout=120)


def test_up_tls_with_replicas_then_down_leaves_nothing(tmp_path):
    state = tmp_path / "state"
    up = loadsim("cluster", "up", "--masters", "3", "--replicas", "1", "--tls", "--state-dir", str(state))
    assert up.returncode == 0, up.stderr
    for progress in ("generating TLS certificates", "waiting for cluster_state:ok", str(state / "ors.ini")):
        assert progress in up.stdout
    nodes = json.loads((state / "state.json").read_text())["nodes"]
    pids = [n["pid"] for n in nodes]
    try:
        assert len(pids) == 6 and all(pid_alive(p) for p in pids)
        tls = state / "tls"
        info = subprocess.run(["redis-cli", "--tls", "--cacert", str(tls / "ca.crt"), "--cert", str(tls / "client.crt"),
                               "--key", str(tls / "client.key"), "-p", str(nodes[0]["port"]), "cluster", "info"],
                              capture_output=True, text=True, timeout=10).stdout
        assert "cluster_state:ok" in info and "cluster_known_nodes:6" in info
        reach = next(line for line in up.stdout.splitlines() if line.startswith("reach it:"))
        printed = subprocess.run([*shlex.split(reach.split(":", 1)[1]), "cluster", "info"],
                                 capture_output=True, text=True, timeout=10).stdout
        assert "cluster_state:ok" in printed  # the redis-cli line that 'up' prints works as printed
        for key in ("redis.key", "client.key"):
            assert stat.S_IMODE(os.stat(tls / key).st_mode) == 0o600
        assert stat.S_IMODE(os.stat(state / "ors.ini").st_mode) == 0o600
        status = loadsim("cluster", "status", "--state-dir", str(state))
        assert status.stdout.count("master") == 3 and status.stdout.count("replica") == 3
        again = loadsim("cluster", "up", "--state-dir", str(state))
        assert again.returncode == 2 and "already running" in again.stderr and "Traceback" not in again.stderr
    finally:
        down = loadsim("cluster", "down", "--state-dir", str(state))
    assert down.returncode == 0 and "stopped 6" in down.stdout
    assert not any(pid_alive(p) for p in pids)


def test_up_acl_never_prints_the_password_and_its_check_line_works(tmp_path):
    state = tmp_path / "acl"
    up = loadsim("cluster", "up", "--acl", "--state-dir", str(state))
    try:
        assert up.returncode == 0, up.stderr
        secrets = json.loads((state / "secrets.json").read_text())
        assert stat.S_IMODE(os.stat(state / "secrets.json").st_mode) == 0o600
        assert "REDISCLI_AUTH=<password>" in up.stdout and "--user ors" in up.stdout
        check = subprocess.run([sys.executable, "-m", "loadsim", "check", "--ors-config", str(state / "ors.ini")],
                               capture_output=True, text=True, timeout=60)
        assert check.returncode == 0, check.stderr
        assert "auth: user 'ors' with password" in check.stdout
        status = loadsim("cluster", "status", "--state-dir", str(state))
        outputs = up.stdout + up.stderr + check.stdout + check.stderr + status.stdout + status.stderr
    finally:
        down = loadsim("cluster", "down", "--state-dir", str(state))
    assert down.returncode == 0, down.stderr
    for password in secrets.values():
        assert password not in outputs + down.stdout + down.stderr


def test_bad_cluster_input_is_one_line(tmp_path):
    for args, needle in ((["up", "--masters", "2"], "at least 3 masters"),
                         (["down", "--state-dir", str(tmp_path / "none")], "no embedded cluster"),
                         (["up", "--mutual-tls", "--state-dir", str(tmp_path / "m"), "--masters", "1"],
                          "at least 3 masters")):
        proc = loadsim("cluster", *args)
        assert proc.returncode == 2 and needle in proc.stderr and "Traceback" not in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(("args", "needle"), [
    (["--maxmemory", "12zz"], "--maxmemory 12zz: not a Redis memory size"),
    (["--maxmemory=-5"], "--maxmemory -5: not a Redis memory size"),
    (["--cluster-node-timeout", "0"], "--cluster-node-timeout 0: give milliseconds, at least 100"),
    (["--cluster-node-timeout=-1"], "--cluster-node-timeout -1: give milliseconds, at least 100"),
])
def test_bad_maxmemory_or_node_timeout_is_one_line_and_starts_nothing(tmp_path, args, needle):
    """Redis itself refused these at start: 'exited at start: (no log)' named neither option."""
    state = tmp_path / "state"
    proc = loadsim("cluster", "up", *args, "--state-dir", str(state))
    assert proc.returncode == 2 and needle in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    assert "starting" not in proc.stdout and not state.exists()  # nothing started


def test_acl_least_privilege(acl_cluster):
    node = acl_cluster.nodes[0]
    opts = acl_cluster.options
    with redis.Redis(port=node.port, username=opts.username, password=opts.password, decode_responses=True) as c:
        slots = c.execute_command("CLUSTER", "SLOTS")  # what a cluster client needs
    owner = next(s[2][1] for s in slots if s[0] <= key_slot(b"ORS:x") <= s[1])
    with redis.Redis(port=owner, username=opts.username, password=opts.password, decode_responses=True) as c:
        assert c.set("ORS:x", "1") and c.get("ORS:x") == "1"
        with pytest.raises(redis.exceptions.NoPermissionError):
            c.set("{ORS:x}foo", "1")  # same slot, so refused by the ACL, not redirected
        with pytest.raises(redis.exceptions.NoPermissionError):
            c.set("foo", "1")
        c.delete("ORS:x")
    with redis.Redis(port=node.port, username=opts.username, password=opts.password, decode_responses=True) as c:
        with pytest.raises(redis.exceptions.NoPermissionError):
            c.config_get("*")
        with pytest.raises(redis.exceptions.NoPermissionError):
            c.flushall()
        with pytest.raises(redis.exceptions.NoPermissionError):
            c.execute_command("GET", "not-ors")
    with pytest.raises(redis.exceptions.AuthenticationError):
        with redis.Redis(port=node.port, retry=None) as c:  # the default user is disabled
            c.ping()


def test_fault_helpers_pause_resume_kill():
    with EmbeddedCluster(ClusterSpec(masters=3)) as cluster:
        node = cluster.nodes[1]
        cluster.pause(1)
        with pytest.raises(redis.exceptions.TimeoutError):
            with cluster.admin_client(node, socket_timeout=0.5) as c:
                c.ping()
        cluster.resume(1)
        with cluster.admin_client(node) as c:
            assert c.ping()
        cluster.kill(1)
        assert not pid_alive(node.pid)
        with pytest.raises(ClusterError, match="no node 9"):
            cluster.kill(9)
