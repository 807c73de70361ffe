"""`loadsim check` on real clusters: success output, and one clear line for every bad input."""

import json
import os
import re
import subprocess
import sys
import time

import jsonschema
import pytest

from loadsim.config.persistence import write_ors_config
from loadsim.embedded.cluster import ClusterSpec, EmbeddedCluster
from loadsim.results.shapes import SHAPES

SECRET = "pw-must-never-show-7d1f"  # given to failing checks: it must appear in no output


def check(*args, env=None):
    """Run `loadsim check` in a clean environment (no inherited LOCUST_*); assert no password is printed.
    ``"--password", X`` among *args* is given as LOCUST_PASSWORD (loadsim refuses a password on the command line)."""
    args, given = list(args), []
    while "--password" in args:
        i = args.index("--password")
        given.append(args[i + 1])
        del args[i:i + 2]
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("LOCUST_")} | (
        {"LOCUST_PASSWORD": given[-1]} if given else {}) | (env or {})
    proc = subprocess.run([sys.executable, "-m", "loadsim", "check", *args], capture_output=True, text=True,
                          timeout=60, env=full_env)
    for secret in {SECRET, full_env.get("LOCUST_PASSWORD"), *given} - {None}:
        assert secret not in proc.stdout + proc.stderr
    return proc.returncode, proc.stdout, proc.stderr


def nodes(cluster):
    return ",".join(n.address for n in cluster.nodes[:3])


def assert_one_clear_line(code, out, err, *needles, exit_code=1, as_json=False):
    """Exit 1 = the check ran and failed, 2 = bad options; one line on stderr, nothing on stdout (with --json:
    the failure object, ok false, holding the same line)."""
    assert code == exit_code, (code, err)
    assert "Traceback" not in err + out
    if as_json:
        data = json.loads(out)
        assert data["ok"] is False and data["exit_code"] == exit_code and data["command"] == "check"
        assert "loadsim: error: " + data["error"] == err.strip()
    else:
        assert out == ""
    lines = [line for line in err.strip().splitlines() if line]
    assert len(lines) == 1, err
    assert lines[0].startswith("loadsim: error: ")
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_plain_cluster_ok(plain_cluster):
    code, out, err = check("--redis-nodes", nodes(plain_cluster))
    assert code == 0, err
    assert "masters: 3, replicas: 0" in out and "slots covered: 16384/16384" in out
    assert "Redis 7." in out and "TLS: off" in out and "auth: none" in out
    # the round trip from this host, to size production with (loadsim plan --network-rtt-us)
    rtt = re.search(r"^network round trip from this host to \S+: p50 ([\d,]+) µs, p99 ([\d,]+) µs, fastest "
                    r"([\d,]+) µs \(50 PINGs.*loadsim plan --network-rtt-us (\d+)$", out, re.M)
    assert rtt, out
    p50, p99, fastest = (int(x.replace(",", "")) for x in rtt.groups()[:3])
    assert 0 < fastest <= p50 <= p99


def test_check_json_for_scripts(acl_cluster, tmp_path):
    ini = tmp_path / "ors.ini"
    write_ors_config(acl_cluster.options, ini)
    code, out, err = check("--ors-config", str(ini), "--json")
    assert code == 0, err
    report = json.loads(out)
    jsonschema.validate(report, SHAPES["check"])  # the documented shape (docs/results.md)
    assert report["masters"] == 3 and report["replicas"] == 3 and report["slots_covered"] == 16384
    assert report["cluster_state"] == "ok" and report["auth"] == "user 'ors' with password"
    assert len(report["nodes"]) == 6 and {n["role"] for n in report["nodes"]} == {"master", "replica"}
    assert acl_cluster.options.password not in out + err
    code, out, err = check("--ors-config", str(ini), "--json", "--password", "wrong-one")
    # failures stay one line on stderr, and a script still gets its object on stdout
    assert_one_clear_line(code, out, err, "authentication failed for user 'ors'", as_json=True)
    assert "wrong-one" not in out + err


def test_acl_cluster_with_replicas_ok_and_password_never_printed(acl_cluster, tmp_path):
    ini = tmp_path / "ors.ini"
    write_ors_config(acl_cluster.options, ini)
    code, out, err = check("--ors-config", str(ini))
    assert code == 0, err
    assert "masters: 3, replicas: 3" in out and "auth: user 'ors' with password" in out
    password = acl_cluster.options.password
    assert password not in out + err
    code, out, err = check("--ors-config", str(ini), "--password", "wrong-one")
    assert_one_clear_line(code, out, err, "authentication failed for user 'ors'", "fix username/password")
    assert password not in out + err
    code, out, err = check("--ors-config", str(ini), env={"LOCUST_PASSWORD": SECRET})  # env beats the ini
    assert_one_clear_line(code, out, err, "authentication failed for user 'ors'")
    code, out, err = check("--redis-nodes", nodes(acl_cluster), "--username", "nobody", "--password", SECRET)
    assert_one_clear_line(code, out, err, "authentication failed for user 'nobody'")
    code, out, err = check("--redis-nodes", nodes(acl_cluster))  # no user: the default user is disabled
    assert_one_clear_line(code, out, err, "authentication required", "set username and password")


def test_tls_and_mutual_tls_ok(tls_cluster, mtls_cluster, tmp_path):
    for cluster, mutual in ((tls_cluster, False), (mtls_cluster, True)):
        ini = tmp_path / "ors.ini"
        write_ors_config(cluster.options, ini)
        code, out, err = check("--ors-config", str(ini))
        assert code == 0, err
        assert "TLS: on (TLSv1." in out and "server certificate verified for '127.0.0.1'" in out
        assert ("client certificate sent" in out) is mutual  # only the mutual-TLS options carry one
        assert "masters: 3, replicas: 0" in out and "slots covered: 16384/16384" in out


def test_other_type_persists_nothing_but_connectivity_is_checked(plain_cluster):
    env = {"LOCUST_REDIS_NODES": nodes(plain_cluster), "LOCUST_TYPE": "cassandra"}
    code, out, err = check(env=env)
    assert code == 0, err
    assert "type = cassandra: ORS would persist nothing to Redis" in out and "masters: 3" in out


def test_unreachable_node():
    assert_one_clear_line(*check("--redis-nodes", "127.0.0.1:1", "--password", SECRET),
                          "127.0.0.1:1: node unreachable", "check redis-nodes")


def test_tls_client_against_plain_port(plain_cluster, tls_cluster):
    code, out, err = check("--redis-nodes", nodes(plain_cluster).split(",")[0], "--tls-enabled", "true",
                           "--tls-cacert", tls_cluster.options.tls_cacert, "--redis-connect-timeout", "1000",
                           "--redis-socket-timeout", "1000", "--password", SECRET)
    assert_one_clear_line(code, out, err, "TLS client against a plain (non-TLS) port")


def test_plain_client_against_tls_port(tls_cluster):
    code, out, err = check("--redis-nodes", nodes(tls_cluster).split(",")[0], "--redis-socket-timeout", "1000",
                           "--password", SECRET)
    assert_one_clear_line(code, out, err, "plain client against a TLS port")


def test_wrong_ca_and_wrong_host_name(tls_cluster, mtls_cluster):
    first = nodes(tls_cluster).split(",")[0]
    code, out, err = check("--redis-nodes", first, "--tls-enabled", "true", "--tls-cacert",
                           mtls_cluster.options.tls_cacert, "--password", SECRET)
    assert_one_clear_line(code, out, err, "certificate verification failed", "not signed by tls-cacert")
    code, out, err = check("--redis-nodes", first, "--tls-enabled", "true", "--tls-cacert",
                           tls_cluster.options.tls_cacert, "--tls-sni", "wrong.example", "--password", SECRET)
    assert_one_clear_line(code, out, err, "not valid for 'wrong.example'", "set tls-sni")


def test_mutual_tls_without_or_with_an_untrusted_client_certificate(mtls_cluster, tls_cluster):
    base = ["--redis-nodes", nodes(mtls_cluster).split(",")[0], "--tls-enabled", "true",
            "--tls-cacert", mtls_cluster.options.tls_cacert]
    for _ in range(3):  # TLS 1.3: the refusal comes as an alert or as EOF; both must read the same
        assert_one_clear_line(*check(*base), "requires a client certificate", "set tls-cert and tls-key")
    other = tls_cluster.admin_options  # a client certificate from another CA
    code, out, err = check(*base, "--redis-tls-cert", other.tls_cert, "--redis-tls-key", other.tls_key,
                           "--password", SECRET)
    assert_one_clear_line(code, out, err, "the server refused the client certificate", "signed by a CA the server")


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
    code, out, err = check(*args, "--password", SECRET)
    assert_one_clear_line(code, out, err, needle, exit_code=2)
