"""The rules of `loadsim check`'s configuration audit (pure: no Redis)."""

from loadsim.redis.check import AOF_ADVICE, audit_config, estate_connections

GOOD = {"maxmemory": "4294967296", "maxmemory-policy": "noeviction", "appendonly": "yes", "appendfsync": "everysec",
        "cluster-node-timeout": "15000", "cluster-require-full-coverage": "yes", "maxclients": "10000"}


def masters(**changes):
    return {f"10.0.0.{i}:6379": {**GOOD, **changes} for i in (1, 2, 3)}


def test_a_well_configured_cluster_has_no_findings():
    assert audit_config(masters(), dict.fromkeys(masters(), 1), 9, 4) == ([], [])


def test_every_policy_but_noeviction_is_an_error_volatile_included():
    for policy in ("allkeys-lru", "volatile-ttl", "volatile-lru", "allkeys-random"):
        errors, _ = audit_config(masters(**{"maxmemory-policy": policy}), dict.fromkeys(masters(), 1), 9, 4)
        assert len(errors) == 1 and f"maxmemory-policy {policy}" in errors[0]
        assert "every master" in errors[0] and errors[0].endswith("set maxmemory-policy noeviction")
        assert ("every ORS record has a TTL" in errors[0]) is policy.startswith("volatile")


def test_warnings_no_limit_no_aof_no_replicas():
    errors, warnings = audit_config(masters(maxmemory="0", appendonly="no"), dict.fromkeys(masters(), 0), 9, 4)
    assert errors == []
    assert any(w.startswith("warning: maxmemory 0 (no limit)") for w in warnings)
    assert any(w.startswith("warning: appendonly no") and AOF_ADVICE in w for w in warnings)
    assert any(w.startswith("warning: no replicas") for w in warnings)


def test_uneven_replicas_are_named_per_master():
    config = masters()
    counts = dict(zip(config, (1, 1, 0), strict=True))
    _, warnings = audit_config(config, counts, 9, 4)
    assert warnings == ["warning: masters have different replica counts (10.0.0.1:6379: 1, 10.0.0.2:6379: 1, "
                        "10.0.0.3:6379: 0): a master with fewer replicas is the weak point; give every master the "
                        "same number"]


def test_maxclients_against_the_estate():
    assert estate_connections(9, 4) == 72
    _, warnings = audit_config(masters(maxclients="50"), dict.fromkeys(masters(), 1), 9, 4)
    assert len(warnings) == 1
    assert "estate opens 72 connections per node" in warnings[0] and "maxclients 50" in warnings[0]
    assert warnings[0].endswith("raise maxclients")
    assert audit_config(masters(maxclients="50"), dict.fromkeys(masters(), 1), 4, 4) == ([], [])  # 32 + a few


def test_nothing_read_leaves_only_the_replica_rules():
    assert audit_config({}, {"10.0.0.1:6379": 0}, 9, 4)[1][0].startswith("warning: no replicas")
    assert audit_config({}, {"10.0.0.1:6379": 1}, 9, 4) == ([], [])
