"""`loadsim check` on real clusters: success output, and one clear line for every bad input."""

import subprocess
import sys
import time

import pytest

from loadsim.cluster import ClusterSpec, EmbeddedCluster
from loadsim.options import write_ors_config


def check(*args, env=None):
    proc = subprocess.run([sys.executable, "-m", "loadsim", "check", *args], capture_output=True, text=True,
                          timeout=60, env=env)
    return proc.returncode, proc.stdout, proc.stderr


def nodes(cluster):
    return ",".join(n.address for n in cluster.nodes[:3])


def assert_one_clear_line(code, out, err, *needles):
    assert code != 0
    assert "Traceback" not in err + out
    lines = [line for line in err.strip().splitlines() if line]
    assert len(lines) == 1, err
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_plain_cluster_ok(plain_cluster):
    code, out, err = check("--redis-nodes", nodes(plain_cluster))
    assert code == 0, err
    assert "masters: 3, replicas: 0" in out and "slots covered: 16384/16384" in out
    assert "Redis 7." in out and "TLS: off" in out and "auth: none" in out


def test_acl_cluster_with_replicas_ok_and_password_never_printed(acl_cluster, tmp_path):
    ini = tmp_path / "ors.ini"
    write_ors_config(acl_cluster.options, ini)
    code, out, err = check("--ors-config", str(ini))
    assert code == 0, err
    assert "masters: 3, replicas: 3" in out and "auth: user 'ors' with password" in out
    password = acl_cluster.options.password
    assert password not in out + err
    code, out, err = check("--ors-config", str(ini), "--password", "wrong-one")
    assert_one_clear_line(code, out, err, "authentication failed for user 'ors'")
    assert password not in out + err and "wrong-one" not in out + err


def test_tls_and_mutual_tls_ok(tls_cluster, mtls_cluster, tmp_path):
    for cluster, extra in ((tls_cluster, ""), (mtls_cluster, "client certificate sent")):
        ini = tmp_path / "ors.ini"
        write_ors_config(cluster.options, ini)
        code, out, err = check("--ors-config", str(ini))
        assert code == 0, err
        assert "TLS: on (TLSv1." in out and "server certificate verified for '127.0.0.1'" in out
        assert extra in out


def test_unreachable_node():
    assert_one_clear_line(*check("--redis-nodes", "127.0.0.1:1"), "127.0.0.1:1: node unreachable")


def test_tls_client_against_plain_port(plain_cluster, tls_cluster):
    code, out, err = check("--redis-nodes", nodes(plain_cluster).split(",")[0], "--tls-enabled", "true",
                           "--tls-cacert", tls_cluster.options.tls_cacert, "--redis-connect-timeout", "1000",
                           "--redis-socket-timeout", "1000")
    assert_one_clear_line(code, out, err, "TLS client against a plain (non-TLS) port")


def test_plain_client_against_tls_port(tls_cluster):
    code, out, err = check("--redis-nodes", nodes(tls_cluster).split(",")[0], "--redis-socket-timeout", "1000")
    assert_one_clear_line(code, out, err, "plain client against a TLS port")


def test_wrong_ca_and_wrong_host_name(tls_cluster, mtls_cluster):
    first = nodes(tls_cluster).split(",")[0]
    code, out, err = check("--redis-nodes", first, "--tls-enabled", "true", "--tls-cacert",
                           mtls_cluster.options.tls_cacert)
    assert_one_clear_line(code, out, err, "certificate verification failed", "not signed by tls-cacert")
    code, out, err = check("--redis-nodes", first, "--tls-enabled", "true", "--tls-cacert",
                           tls_cluster.options.tls_cacert, "--tls-sni", "wrong.example")
    assert_one_clear_line(code, out, err, "not valid for 'wrong.example'", "set tls-sni")


def test_mutual_tls_without_client_certificate(mtls_cluster):
    code, out, err = check("--redis-nodes", nodes(mtls_cluster).split(",")[0], "--tls-enabled", "true",
                           "--tls-cacert", mtls_cluster.options.tls_cacert)
    assert_one_clear_line(code, out, err, "requires a client certificate")


def test_standalone_redis_is_refused(tmp_path):
    port = 16000 + int(time.time() * 1000) % 2000
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--dir", str(tmp_path)], stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            code, out, err = check("--redis-nodes", f"127.0.0.1:{port}")
            if "unreachable" not in err or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert_one_clear_line(code, out, err, "standalone Redis", "Redis Cluster only")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_uncovered_slots():
    with EmbeddedCluster(ClusterSpec(masters=3)) as cluster:
        with cluster.admin_client(cluster.nodes[0]) as admin:
            mine = [s for s in admin.execute_command("CLUSTER", "SLOTS")
                    if s[2][1] == cluster.nodes[0].port][0]
            admin.execute_command("CLUSTER", "DELSLOTSRANGE", mine[0], mine[0] + 9)
        deadline = time.monotonic() + 20
        while True:
            code, out, err = check("--redis-nodes", nodes(cluster))
            if code != 0 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert_one_clear_line(code, out, err, "slots not served by a master")


@pytest.mark.parametrize("args,needle", [
    (["--redis-nodes", "10.0.0.1"], "redis-nodes: '10.0.0.1' is not host:port"),
    (["--redis-nodes", "a:1;b:99999"], "'b:99999' is not host:port"),
    (["--redis-nodes", "127.0.0.1:1", "--redis-tls-key", "/etc/hostname"], "tls-key is set but tls-cert is not"),
    (["--redis-nodes", "127.0.0.1:1", "--tls-enabled", "true"], "neither tls-cacert nor tls-cacertdir"),
    (["--redis-nodes", "127.0.0.1:1", "--sessionid-with-nodeid", "false"], "sessionid-with-nodeid is false"),
    (["--redis-nodes", "127.0.0.1:1", "--tls-enabled", "maybe"], "tls-enabled: 'maybe' is not a boolean"),
    (["--ors-config", "/nonexistent.ini"], "--ors-config: file '/nonexistent.ini' does not exist"),
    ([], "redis-nodes is not set"),
])
def test_bad_options(args, needle):
    code, out, err = check(*args)
    assert code == 2
    assert_one_clear_line(code, out, err, needle)
