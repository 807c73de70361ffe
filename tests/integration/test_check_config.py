"""`loadsim check`'s configuration audit on real embedded clusters configured each way."""

import json

import pytest
from test_check import assert_one_clear_line, check

from loadsim.config.persistence import write_ors_config
from loadsim.embedded.cluster import ClusterSpec, EmbeddedCluster
from loadsim.errors import CheckFailed
from loadsim.redis.check import AOF_ADVICE, run_check


def _started(spec):
    cluster = EmbeddedCluster(spec).start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="module")
def lru_cluster():
    """Evicts keys when full: sessions would vanish."""
    yield from _started(ClusterSpec(masters=3, extra_config=("maxmemory-policy allkeys-lru",)))


@pytest.fixture(scope="module")
def hardened_cluster():
    """AOF, one replica per master, a memory limit (noeviction): only its low maxclients is a finding."""
    yield from _started(ClusterSpec(masters=3, replicas=1, aof=True, maxmemory="256mb",
                                    extra_config=("maxclients 20",)))


def warnings(report):
    return [n for n in report.notes if n.startswith("warning:")]


def test_an_evicting_policy_fails_the_check(lru_cluster):
    with pytest.raises(CheckFailed) as caught:
        run_check(lru_cluster.options)
    message = str(caught.value)
    assert "maxmemory-policy allkeys-lru" in message and "set maxmemory-policy noeviction" in message
    assert "evict ORS sessions silently" in message and "\n" not in message


def test_an_evicting_policy_on_the_command_line_is_one_line_exit_1(lru_cluster, tmp_path):
    ini = tmp_path / "ors.ini"
    write_ors_config(lru_cluster.options, ini)
    for extra in ([], ["--json"]):
        code, out, err = check("--ors-config", str(ini), *extra)
        assert_one_clear_line(code, out, err, "maxmemory-policy allkeys-lru", "set maxmemory-policy noeviction",
                              as_json=bool(extra))
    data = json.loads(out)  # a script sees what the check found: each master's policy, the cluster's state
    assert data["cluster_state"] == "ok" and data["masters"] == 3
    assert {v["maxmemory-policy"] for v in data["config"]["per_master"].values()} == {"allkeys-lru"}


def test_defaults_of_a_test_cluster_warn_about_aof_replicas_and_memory(plain_cluster):
    report = run_check(plain_cluster.options)
    found = warnings(report)
    assert any("appendonly no" in w and AOF_ADVICE in w for w in found), found
    assert any(w.startswith("warning: no replicas") for w in found), found
    assert any("maxmemory 0 (no limit)" in w for w in found), found
    assert not any("maxclients" in w for w in found)  # Redis's default 10000 is plenty for 72
    lines = report.lines()
    assert "config (CONFIG GET per master):" in lines and lines[-1].startswith("OK:")
    assert sum("maxmemory-policy noeviction" in line for line in lines) == 3  # one row per master
    assert set(report.config) == {n.address for n in plain_cluster.nodes[:3]}


def test_aof_and_replicas_give_no_such_warnings_and_low_maxclients_is_named(hardened_cluster, tmp_path):
    report = run_check(hardened_cluster.options, ha_pairs=9, worker_threads=4)
    found = warnings(report)
    assert not any("appendonly" in w or "replica" in w or "maxmemory 0" in w for w in found), found
    assert [w for w in found if "maxclients" in w] == [
        "warning: estate opens 72 connections per node (2 ORS nodes x 9 HA pairs x 4 worker threads, plus a few "
        "for monitoring); maxclients 20 on every master: raise maxclients"]
    assert set(report.replicas_per_master.values()) == {1}
    assert all(c["appendonly"] == "yes" and c["maxclients"] == "20" for c in report.config.values())
    # a small estate fits: 2 x 1 x 2 = 4 connections (+ monitoring) under 20
    assert not warnings(run_check(hardened_cluster.options, ha_pairs=1, worker_threads=2))
    ini = tmp_path / "ors.ini"
    write_ors_config(hardened_cluster.options, ini)
    code, out, err = check("--ors-config", str(ini), "--ha-pairs", "20", "--worker-threads", "2", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["config"]["audited"] is True and data["config"]["estate_connections_per_node"] == 80
    assert data["config"]["replicas_per_master"] and set(data["config"]["replicas_per_master"].values()) == {1}
    assert all(v["maxmemory-policy"] == "noeviction" for v in data["config"]["per_master"].values())
    assert any("estate opens 80 connections per node" in n and "maxclients 20" in n for n in data["notes"])


def test_a_least_privilege_user_cannot_read_the_config_and_the_check_still_passes(acl_cluster, tmp_path):
    ini = tmp_path / "ors.ini"
    write_ors_config(acl_cluster.options, ini)
    code, out, err = check("--ors-config", str(ini))
    assert code == 0, err
    assert ("config: not readable by user 'ors' (CONFIG GET refused): not audited; run check with an admin user "
            "to audit maxmemory-policy, appendonly, maxclients") in out.splitlines()
    assert "OK: ORS can persist" in out and acl_cluster.options.password not in out + err
    code, out, err = check("--ors-config", str(ini), "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["config"]["audited"] is False and data["config"]["per_master"] == {}
    assert "CONFIG GET refused" in data["config"]["not_audited"]
    report = run_check(acl_cluster.admin_options)  # an admin user audits it
    assert report.config_not_audited is None and len(report.config) == 3


def test_bad_estate_size_is_an_option_error():
    code, out, err = check("--redis-nodes", "127.0.0.1:1", "--worker-threads", "0")
    assert_one_clear_line(code, out, err, "--worker-threads: 0", exit_code=2)
