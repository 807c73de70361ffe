"""Sizing math on synthetic inputs with known answers."""

from dataclasses import replace

import pytest

from loadsim.errors import FitError
from loadsim.model import sizing as sz
from loadsim.results.schema import upgrade

COSTS = sz.UnitCosts(bytes_per_session=5000.0, base_bytes_per_master=2e6, cpu_s_per_command=20e-6,
                     commands_per_op=2.0)


def test_fit_memory_recovers_known_costs():
    live = [1000, 5000, 20000, 8000]
    masters = [3, 3, 6, 6]
    used = [m * 1.5e6 + n * 4321.0 for n, m in zip(live, masters, strict=True)]
    fit = sz.fit_memory(live, masters, used)
    assert fit.bytes_per_session == pytest.approx(4321.0)
    assert fit.base_bytes_per_master == pytest.approx(1.5e6)
    assert fit.r2 == pytest.approx(1.0)
    with pytest.raises(FitError, match="2 different live-session counts"):
        sz.fit_memory([10, 10], [3, 3], [1, 2])


def test_cpu_per_command_is_pooled_with_spread_only_from_three_runs():
    pooled, sd = sz.cpu_per_command([1.0, 3.0], [100_000, 100_000])
    assert pooled == pytest.approx(20e-6) and sd is None  # two runs give no spread
    pooled, sd = sz.cpu_per_command([1.0, 2.0, 3.0], [100_000, 100_000, 100_000])
    assert pooled == pytest.approx(20e-6) and sd == pytest.approx(10e-6)
    with pytest.raises(FitError):
        sz.cpu_per_command([1.0], [0])


def test_no_standard_error_from_two_runs_and_it_says_so():
    two = sz.fit_memory([1000, 4000], [3, 3], [3e6 + 1000 * 4000, 3e6 + 4000 * 4000])
    assert two.bytes_per_session == pytest.approx(4000) and two.bytes_per_session_se is None
    costs = replace(sz.DEFAULT_COSTS, runs=2, bytes_per_session_se=None)
    assert costs.spread_text(costs.bytes_per_session_se) == "n/a (2 runs)"
    three = sz.fit_memory([1000, 4000, 9000], [3, 3, 6], [3e6 + 4e6 + 10, 3e6 + 16e6 - 10, 6e6 + 36e6 + 5])
    assert three.bytes_per_session_se is not None and three.bytes_per_session_se > 0


def test_plan_warns_outside_the_measured_range_and_prints_no_inf():
    measured = replace(sz.DEFAULT_COSTS, live_sessions_range=(900.0, 2700.0), source="measured: 2 runs")
    far = sz.Deployment(ha_pairs=400)  # 400 x 5 x 180 = 360,000 live sessions
    text = sz.verdict(far, measured).text()
    assert "warning: the target (360,000 live sessions) is 133.3x the largest measured (2,700)" in text
    assert sz.extrapolation(sz.Deployment(ha_pairs=2), measured) is None  # 1,800: inside the range
    assert sz.extrapolation(far, sz.DEFAULT_COSTS) is None  # assumed costs: no measured range to leave
    # a saturated master: p99 unbounded, said in words, never "inf"
    hot = replace(measured, latency_points=((0.1, 500.0), (0.5, 900.0)), cpu_s_per_command=1e-3)
    text = sz.verdict(sz.Deployment(ha_pairs=50), hot).text()
    assert "inf" not in text.replace("info", "") and "nan" not in text
    assert "unbounded (the master is saturated)" in text


def test_prediction_follows_littles_law_and_layout():
    d = sz.Deployment(ha_pairs=9, cps_per_pair=10, aht_s=100, masters=3, replicas=1, aof=False)
    p = sz.predict(d, COSTS)
    assert p.live_sessions == 9000
    assert p.ops_per_s == 9 * 10 * 8  # standard preset: 6 updates + create + delete
    assert p.memory_per_master == pytest.approx(2e6 + 3000 * 5000)
    assert p.cpu_utilisation == pytest.approx(p.commands_per_s / 3 * 20e-6)
    # Redis Cluster fails a master over to its replica: the replica carries exactly that master's load
    assert p.cpu_utilisation_n1 == p.cpu_utilisation and "replica is promoted" in p.failover
    assert p.connections_per_node == 2 * 9 * 4 and p.nodes == 6


def test_fork_headroom_and_maxmemory():
    d = sz.Deployment(ha_pairs=1, cps_per_pair=100, aht_s=100, masters=3, aof=True, fork_cow_factor=2.0,
                      maxmemory_fraction=0.8)
    p = sz.predict(d, COSTS)
    assert p.ram_needed_per_node == pytest.approx(2 * p.memory_per_master)
    p = sz.predict(replace(d, aof=False), COSTS)
    assert p.ram_needed_per_node == pytest.approx(p.memory_per_master / 0.8)


def test_single_hash_hot_slot_makes_more_masters_useless():
    d = sz.Deployment(ha_pairs=9, cps_per_pair=50, aht_s=600, key_layout="single-hash",
                      node_ram_bytes=sz.GIB)
    v3, v12 = sz.verdict(d, COSTS), sz.verdict(replace(d, masters=12), COSTS)
    assert not v3.passed and not v12.passed
    assert "hot slot" in v3.binding.name
    assert v3.prediction.memory_per_master == v12.prediction.memory_per_master
    assert v3.smallest_masters is None
    per_session = sz.verdict(replace(d, key_layout="per-session"), COSTS)
    assert per_session.smallest_masters is not None


def test_node_tag_share_is_bounded_by_pairs():
    def share(layout, masters):
        return sz.predict(sz.Deployment(ha_pairs=9, masters=masters, key_layout=layout), COSTS).busiest_share

    assert share("node-tag", 3) == pytest.approx(3 / 9)
    assert share("node-tag", 12) == pytest.approx(1 / 9)  # 3 masters idle: a pair's slot cannot be split
    assert share("per-session", 12) == pytest.approx(1 / 12)
    assert share("single-hash", 12) == pytest.approx(1.0)


def test_uneven_pairs_are_placed_largest_first():
    assert sz._spread_over_masters([(1, 40.0), (8, 5.0)], 3) == 40.0  # the hub's slot alone
    assert sz._spread_over_masters([(9, 5.0)], 3) == 15.0
    assert sz._spread_over_masters([(100, 1.0)], 3) == 34.0


def test_without_replicas_one_master_down_loses_slots():
    v = sz.verdict(sz.Deployment(replicas=0), COSTS)
    assert not v.passed and v.binding.name.startswith("failover") and "slots are down" in v.prediction.failover
    assert sz.verdict(sz.Deployment(replicas=0, n_plus_1=False), COSTS).passed


def test_connections_constraint_binds():
    d = sz.Deployment(ha_pairs=9, worker_threads=256, cps_per_pair=0.01, maxclients=1000)
    v = sz.verdict(d, COSTS)
    assert not v.passed and v.binding.name == "connections"
    assert v.binding.value == 2 * 9 * 256 and v.binding.margin == pytest.approx((1000 - 4608) / 1000)


def test_smallest_masters_and_overrides_change_the_answer():
    d = sz.Deployment(ha_pairs=9, cps_per_pair=40, aht_s=300, node_ram_bytes=0.25 * sz.GIB, replicas=1)
    m = sz.smallest_masters(d, COSTS)
    assert m is not None and m > 3
    assert sz.predict(replace(d, masters=m), COSTS).passed
    assert not sz.predict(replace(d, masters=m - 1), COSTS).passed
    looser = sz.smallest_masters(replace(d, fork_cow_factor=1.0), COSTS)
    assert looser is not None and looser < m


def test_latency_slo_uses_measured_points():
    costs = replace(COSTS, latency_points=((0.1, 300.0), (0.5, 900.0)))
    assert sz.p99_at(costs.latency_points, 0.3) == pytest.approx(600.0)
    assert sz.p99_at(costs.latency_points, 0.75) == pytest.approx(900.0 * 0.5 / 0.25)
    d = sz.Deployment(ha_pairs=9, cps_per_pair=100, aht_s=10, latency_slo_p99_us=500, cpu_ceiling=1.0,
                      n_plus_1=False)
    v = sz.verdict(d, costs)
    assert any(c.name.startswith("latency") for c in v.prediction.constraints)


def test_verdict_text_names_binding_constraint_and_margin():
    v = sz.verdict(sz.Deployment(), sz.DEFAULT_COSTS)
    text = v.text()
    assert v.passed and text.startswith("PASS: 9 HA pairs on 3 masters")
    assert "binding constraint:" in text and "margin +" in text and "smallest master count" in text
    tight = sz.verdict(sz.Deployment(node_ram_bytes=2**26, record_bytes=100_000), sz.DEFAULT_COSTS)  # smallest RAM
    assert not tight.passed and tight.text().startswith("FAIL") and "binding constraint: memory" in tight.text()
    assert "margin -" in tight.text()


def test_fit_unit_costs_from_summaries():
    def summary(live, masters, bps=4000.0, base=1e6, duration=10.0):
        per = (base * masters + bps * live) / masters
        cmds = live * 20
        cpu = 0.01 * masters * duration + 20e-6 * cmds  # idle share of a core per master + per command
        return {"complete": True, "live_sessions": {"steady_mean": live}, "duration_s": duration,
                "masters": [{"used_memory_steady_mean": per, "cpu_s": cpu / masters, "commands": cmds / masters}
                            for _ in range(masters)],
                "server": {"cpu_s": cpu, "commands": cmds, "commands_client_counted": cmds},
                "operations": {"session.update": {"count": cmds // 2, "latency_us": {"p99": 700}}}}
    # summaries of the oldest runs (schema 0, no steady figures per master): the reader's upgrade gives
    # them the whole-run figures
    old = [upgrade(summary(1000, 3)), upgrade(summary(4000, 3)), upgrade(summary(9000, 6))]
    costs = sz.fit_unit_costs(old)
    assert costs.bytes_per_session == pytest.approx(4000.0)
    assert costs.base_bytes_per_master == pytest.approx(1e6)
    assert costs.cpu_s_per_command == pytest.approx(20e-6)
    assert costs.base_cpu_per_master == pytest.approx(0.01)
    assert costs.commands_per_op == pytest.approx(2.0)
    assert costs.runs == 3 and len(costs.latency_points) == 3
    # with per-master steady-window figures, those are used instead of whole-run totals
    steady = []
    for live, masters in ((1000, 3), (4000, 3), (9000, 6)):
        s = summary(live, masters)
        for m in s["masters"]:
            m.update(steady_s=20.0, commands_steady=live * 10 // masters,
                     cpu_s_steady=0.02 * 20.0 + 30e-6 * live * 10 / masters)
        steady.append(s)
    costs = sz.fit_unit_costs(steady)
    assert costs.cpu_s_per_command == pytest.approx(30e-6, rel=1e-3)
    assert costs.base_cpu_per_master == pytest.approx(0.02, rel=1e-3)


def test_the_memory_model_follows_the_sessions_simulated():
    """Without runs, memory comes from the sessions themselves: the complex preset costs ~3.5x standard."""
    def per_session(**kw):
        return sz.predict(sz.Deployment(**kw), sz.DEFAULT_COSTS).bytes_per_session

    standard, complex_ = per_session(), per_session(complexity="complex")
    assert 3.2 < complex_ / standard < 4.2 and complex_ > 19_000
    assert per_session(record_bytes=40_000) > complex_
    # a fit from runs takes precedence, and the plan says which source it used
    p = sz.predict(sz.Deployment(complexity="complex"), COSTS)
    assert p.bytes_per_session == 5000.0 and p.memory_source.startswith("unit costs")
    assert sz.predict(sz.Deployment(), sz.DEFAULT_COSTS).memory_source.startswith("model (Redis 7.0")


def test_lifetimes_change_live_sessions_and_memory():
    short = sz.predict(sz.Deployment(routed_share=0.8, routing_s=10), sz.DEFAULT_COSTS)
    base = sz.predict(sz.Deployment(), sz.DEFAULT_COSTS)
    extended = sz.predict(sz.Deployment(extended_share=0.1, extended_s=86400), sz.DEFAULT_COSTS)
    assert short.live_sessions < base.live_sessions < extended.live_sessions
    assert base.live_sessions == pytest.approx(9 * 5 * 180)
    assert extended.live_sessions == pytest.approx(9 * 5 * (0.9 * 180 + 0.1 * 86400))
    assert extended.memory_per_master > 10 * base.memory_per_master


def test_index_layout_puts_index_commands_on_the_hot_slot():
    p = sz.predict(sz.Deployment(key_layout="index", masters=9), sz.DEFAULT_COSTS)
    q = sz.predict(sz.Deployment(key_layout="per-session", masters=9), sz.DEFAULT_COSTS)
    assert p.hot_master_commands_per_s == pytest.approx(2 * 9 * 5)  # HSET per create, HDEL per delete
    assert p.cpu_utilisation > q.cpu_utilisation and q.hot_master_commands_per_s == 0
    leaky = sz.predict(sz.Deployment(key_layout="index", leaked_share=0.01), sz.DEFAULT_COSTS)
    assert any("without cleaning" in n for n in leaky.notes)


def test_the_envelope_edges_pass_and_one_step_beyond_fails():
    d = sz.Deployment(node_ram_bytes=sz.GIB)
    e = sz.envelope(d, sz.DEFAULT_COSTS)
    n = e.max_pairs.value
    assert sz.predict(replace(d, ha_pairs=n), sz.DEFAULT_COSTS).passed
    assert not sz.predict(replace(d, ha_pairs=n + 1), sz.DEFAULT_COSTS).passed
    assert e.max_pairs.binding in {c.name for c in sz.predict(replace(d, ha_pairs=n + 1), sz.DEFAULT_COSTS).constraints}
    cps = e.max_rate.value
    assert sz.predict(replace(d, cps_per_pair=cps * 0.99), sz.DEFAULT_COSTS).passed
    assert not sz.predict(replace(d, cps_per_pair=cps * 1.02), sz.DEFAULT_COSTS).passed
    size = e.max_size.value
    assert sz.predict(replace(d, record_bytes=size * 0.99), sz.DEFAULT_COSTS).passed
    assert not sz.predict(replace(d, record_bytes=size * 1.05), sz.DEFAULT_COSTS).passed
    assert e.max_size.binding.startswith("memory")
    # unit costs measured on runs hold for the measured sessions only: no size edge from them
    assert sz.envelope(d, COSTS).max_size.value is None
