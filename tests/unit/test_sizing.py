"""Sizing math on synthetic inputs with known answers."""

import json
import math
import re
from dataclasses import replace

import pytest

from loadsim.errors import FitError, OptionsError
from loadsim.model import sizing as sz
from loadsim.model import unitcosts as uc

COSTS = sz.UnitCosts(plain=uc.flat_cpu(20e-6), base_bytes_per_master=2e6)


def _run(live, masters, used=None, factor=1.0, base=1.5e6, workload=None, name=None, kind="unclassified",
         cpu_s=None, commands=None):
    """A measured run whose used_memory is the model's x ``factor`` on a ``base`` per master (unless given)."""
    from loadsim.model import workload as wl

    w = workload or wl.WorkloadParams(worker_threads=2)
    r = sz.MeasuredRun(name=name or f"r{live}-{masters}", run_class=kind, evidence="", tls=False, ha_pairs=1,
                       masters=masters, live_sessions=live, used_memory=0.0,
                       cpu_s=cpu_s if cpu_s is not None else 0.01 * masters * 20 + 20e-6 * live * 10,
                       master_seconds=20.0 * masters, commands=commands if commands is not None else live * 10,
                       operations_steady=live * 10 / 1.875,
                       cpu_us_per_command=25.0, workload=w)
    if used is None:
        m = sz.model_run(r)
        used = masters * (base + m.connection_bytes_per_master) + factor * m.data_bytes
    return replace(r, used_memory=used)


def test_calibration_recovers_a_known_factor_and_base():
    runs = [_run(1000, 3, factor=1.08), _run(5000, 3, factor=1.08), _run(20000, 6, factor=1.08)]
    costs = sz.fit_unit_costs(runs)
    assert costs.memory_factor == pytest.approx(1.08) and costs.base_bytes_per_master == pytest.approx(1.5e6)
    assert costs.memory_factor_se == pytest.approx(0.0, abs=1e-9) and "3 runs" in costs.factor_text()
    assert costs.commands_factor == pytest.approx(1.0)
    # one size only: the base is the model's empty master, the factor still measured
    one = sz.fit_unit_costs([_run(1000, 3, factor=1.08, base=sz.fp.EMPTY_MASTER_BYTES)])
    assert one.memory_factor == pytest.approx(1.08) and "base per master the model's" in one.memory_note
    # the per-run figures beside the pooled ones
    r = costs.per_run[0]
    assert r.bytes_per_session / r.model_bytes_per_session == pytest.approx(1.08, rel=0.02)


def test_cpu_per_command_is_pooled_with_spread_only_from_three_runs():
    pooled, sd = sz.cpu_per_command([1.0, 3.0], [100_000, 100_000])
    assert pooled == pytest.approx(20e-6) and sd is None  # two runs give no spread
    pooled, sd = sz.cpu_per_command([1.0, 2.0, 3.0], [100_000, 100_000, 100_000])
    assert pooled == pytest.approx(20e-6) and sd == pytest.approx(10e-6)
    with pytest.raises(FitError):
        sz.cpu_per_command([1.0], [0])


def test_no_standard_error_from_two_runs_and_it_says_so():
    two = sz.fit_unit_costs([_run(1000, 3), _run(4000, 3)])
    assert two.memory_factor == pytest.approx(1.0) and two.memory_factor_se is None
    assert two.spread_text(two.memory_factor_se) == "n/a (2 runs)" and "no interval below 3 runs" in two.factor_text()
    three = sz.fit_unit_costs([_run(1000, 3), _run(4000, 3, used=_run(4000, 3).used_memory * 1.01),
                               _run(9000, 6)])
    assert three.memory_factor_se is not None and three.memory_factor_se > 0


def test_plan_warns_outside_the_measured_range_and_prints_no_inf():
    measured = replace(sz.DEFAULT_COSTS, live_sessions_range=(900.0, 2700.0), source="measured: 2 runs")
    far = sz.Deployment(ha_pairs=400)  # 400 x 5 x 180 = 360,000 live sessions
    text = sz.verdict(far, measured).text()
    assert "warning: the target (360,000 live sessions) is 133.3x the largest measured (2,700)" in text
    assert sz.extrapolation(sz.Deployment(ha_pairs=2), measured) is None  # 1,800: inside the range
    assert sz.extrapolation(far, sz.DEFAULT_COSTS) is None  # assumed costs: no measured range to leave
    # a saturated master: p99 unbounded, said in words, never "inf"
    hot = replace(measured, plain=uc.flat_cpu(1e-3))
    text = sz.verdict(sz.Deployment(ha_pairs=50), hot).text()
    assert "inf" not in text.replace("info", "") and "nan" not in text
    assert "unbounded (the master is saturated)" in text


def test_prediction_follows_littles_law_and_layout():
    d = sz.Deployment(ha_pairs=9, cps_per_pair=10, aht_s=100, masters=3, replicas=1, aof=False)
    p = sz.predict(d, COSTS)
    assert p.live_sessions == 9000
    assert p.ops_per_s == 9 * 10 * 8  # standard preset: 6 updates + create + delete
    # the calibration scales the sessions' bytes on the busiest master (3,000 sessions + their bucket arrays)
    m1, m2, m3 = (sz.predict(d, replace(COSTS, memory_factor=f)).memory_per_master for f in (1.0, 2.0, 3.0))
    assert m3 - m2 == pytest.approx(m2 - m1) and 3000 * p.bytes_per_session < m2 - m1 < 3100 * p.bytes_per_session
    # COSTS were measured without replicas; this cluster has one per master and ORS's commands all write
    assert p.cpu_utilisation == pytest.approx(p.commands_per_s / 3 * (20e-6 + uc.REPLICA_WRITE.value))
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


def _grid_costs():
    # latency binds before CPU (ceiling 1.0): the composed p99's queueing at 200 µs per command passes a 5,000 µs SLO
    # only well under a full core
    return replace(COSTS, plain=uc.flat_cpu(200e-6))


@pytest.mark.parametrize("record_bytes", [1000, 5000, 20000, 100_000])
def test_verdict_properties_over_pairs_and_masters(record_bytes):
    costs = _grid_costs()
    base = sz.Deployment(record_bytes=record_bytes, cpu_ceiling=1.0, node_ram_bytes=sz.GIB)
    last_smallest = 0
    for pairs in (1, 2, 5, 9, 20, 50, 200, 1000):
        smallest = sz.smallest_masters(replace(base, ha_pairs=pairs), costs)
        as_number = smallest if smallest is not None else math.inf
        assert as_number >= last_smallest, f"smallest master count fell at {pairs} pairs"
        last_smallest = as_number
        for masters in (3, 4, 6, 9, 12):
            d = replace(base, ha_pairs=pairs, masters=masters)
            v = sz.verdict(d, costs)
            most = v.envelope.max_pairs.value
            text = v.text()
            if v.passed:
                assert most is not None and most >= pairs, (pairs, masters, most)
                assert "not even 1 pair" not in text
                assert smallest is not None and smallest <= masters
            elif most is not None:
                assert most < pairs
            assert v.envelope.max_pairs.text() in text  # the envelope the text shows is the one computed


def test_latency_is_assessed_for_production_without_runs():
    # no runs, no rig: the composition (the LAN round trip, the ORS client, Redis's own execution) still answers
    v = sz.verdict(sz.Deployment(), sz.DEFAULT_COSTS)
    latency = next(k for k in v.prediction.constraints if k.name.startswith("latency"))
    assert latency.status == "PASS" and latency.value == pytest.approx(v.prediction.latency.p99_us)
    assert "p99 at a 200 µs network round trip (assumed: a LAN" in v.text().splitlines()[0]
    assert "not assessed" not in v.text().splitlines()[0]
    j = sz.verdict_dict(v)
    assert j["prediction"]["latency"]["network_rtt_us"] == 200 and j["prediction"]["latency"]["p99_us"] >= 200


def test_verdict_text_names_binding_constraint_and_margin():
    v = sz.verdict(sz.Deployment(), sz.DEFAULT_COSTS)
    text = v.text()
    assert v.passed and text.startswith("PASS: 9 HA pairs on 3 masters")
    assert "binding constraint:" in text and "margin +" in text and "smallest master count" in text
    tight = sz.verdict(sz.Deployment(node_ram_bytes=2**26, record_bytes=100_000), sz.DEFAULT_COSTS)  # smallest RAM
    assert not tight.passed and tight.text().startswith("FAIL") and "binding constraint: memory" in tight.text()
    assert "margin -" in tight.text()


def test_fit_unit_costs_from_run_records():
    # the idle share measured before each run's load (0.01 of a core) is taken apart; no bytes: no per-byte term
    runs = [replace(r, idle_share=0.01, bytes_in=0.0) for r in (_run(1000, 3), _run(4000, 3), _run(9000, 6))]
    costs = sz.fit_unit_costs(runs)
    assert costs.cpu_s_per_command == pytest.approx(20e-6) and costs.base_cpu_per_master == pytest.approx(0.01)
    assert costs.plain.per_command.source == uc.FITTED and costs.plain.per_byte.source == uc.REFERENCE
    assert costs.tls == uc.REFERENCE_TLS  # no TLS runs: the TLS arm keeps the reference values
    assert costs.runs == 3
    classified = [replace(r, run_class=k) for r, k in zip(runs, ("clean", "rig-bound", "clean"), strict=True)]
    costs = sz.fit_unit_costs(classified)
    assert costs.cpu_s_per_command == pytest.approx(20e-6)  # the rig-bound run still counts for CPU
    only_rig = sz.fit_unit_costs([replace(r, run_class="rig-bound") for r in runs])
    # rig-bound runs never enter Redis's figures; latency is still assessed, from the reference execution times
    assert only_rig.redis_latency == sz.lat.DEFAULT_REDIS
    assert sz.verdict(sz.Deployment(), only_rig).prediction.constraints[-1].status != "NOT ASSESSED"


def test_read_runs_is_the_one_reader(tmp_path):
    """A run folder (summary.json + config.json) read as the typed record sizing fits; older runs unclassified."""
    import json
    from dataclasses import asdict

    from loadsim.model import workload as wl
    from loadsim.results.runs import read_runs

    w = wl.WorkloadParams(worker_threads=2, complexity=wl.PRESETS["complex"])
    masters = [{"used_memory_steady_mean": 4e6, "cpu_s_steady": 0.2, "steady_s": 20.0, "commands_steady": 3000,
                "used_memory": 1, "used_memory_start": 1, "used_memory_rss": 1, "keys": 1, "connected_clients": 1,
                "cpu_s": 0.3, "commands": 4000, "node": "x"}] * 3
    summary = {"schema_version": 3, "complete": True, "steady_s": 20.0, "masters": masters,
               "workload": {"ha_pairs": 2}, "cluster": {"tls": True, "redis_version": "7.2.4"},
               "live_sessions": {"steady_mean": 500.0}, "rates": {"achieved_ops_per_s": 100.0},
               "server": {"cpu_us_per_command": 50.0},
               "operations": {"session.update": {"count": 10, "latency_us": {"p99": 900}}},
               "run_class": {"class": "rig-bound", "evidence": "schedule lag p99 12 ms", "reasons": ["lag"]}}
    older = {**summary, "schema_version": 2, "run_class": {"class": "clean", "evidence": "clean: (classified from an "
                                                            "older summary: no host figures)", "reasons": []}}
    for name, s in (("a", summary), ("b", {k: v for k, v in summary.items() if k != "run_class"}), ("c", older)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "summary.json").write_text(json.dumps(s))
        (tmp_path / name / "config.json").write_text(json.dumps({"workload": asdict(w)}))
    a, b, c = read_runs(tmp_path)
    assert (a.run_class, a.evidence, b.run_class) == ("rig-bound", "schedule lag p99 12 ms", "unclassified")
    # classified from an older summary's flags only (no host figures): unclassified
    assert c.run_class == "unclassified" and "older summary" in c.evidence
    assert a.workload == w and a.tls and a.redis_version == (7, 2) and a.masters == 3 and a.ha_pairs == 2
    assert a.used_memory == 12e6 and a.commands == 9000 and a.operations_steady == 2000
    assert read_runs(tmp_path, tls=True) == [a, b, c]
    with pytest.raises(Exception, match="no runs without TLS"):
        read_runs(tmp_path, tls=False)
    # a `loadsim capacity` result in the folder: plan --from takes a master's CPU per command from its closed loop
    from loadsim.cli.plan import costs_and_runs
    from loadsim.results.capacity import read_capacity

    (tmp_path / "capacity.json").write_text(json.dumps({"tls": True, "capacity": {
        "server_us_per_command_at_saturation": 7.5}}))
    costs, fitted = costs_and_runs(str(tmp_path))
    tls = costs.cpu_for(tls=True).per_command  # the capacity was measured with TLS: the TLS arm takes it
    assert tls.value == pytest.approx(7.5e-6) and tls.source == uc.CAPACITY and "closed loop at saturation" in tls.basis
    assert costs.plain.per_command.source == uc.REFERENCE  # no plain runs, no plain capacity
    assert len(fitted) == 3 and read_capacity(tmp_path, tls=False) is None
    # a run whose server figures were never measured (an ACL user without INFO) calibrates nothing: its zeros
    # would fit 0 µs per command; alone it is refused in one line naming why
    unmeasured = {**summary, "server": {"cpu_us_per_command": None, "not_measured": "the ACL user cannot run INFO"},
                  "masters": [{**m, "cpu_s_steady": 0.0, "commands_steady": 0} for m in masters]}
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "summary.json").write_text(json.dumps(unmeasured))
    (tmp_path / "d" / "config.json").write_text(json.dumps({"workload": asdict(w)}))
    assert [r.name for r in read_runs(tmp_path)] == ["a", "b", "c"]
    with pytest.raises(Exception, match="no run under .* measured Redis's own figures.*cannot run INFO"):
        read_runs(tmp_path / "d")


def test_the_memory_model_follows_the_sessions_simulated():
    """Without runs, memory comes from the sessions themselves: the complex preset costs ~3.5x standard."""
    def per_session(**kw):
        return sz.predict(sz.Deployment(**kw), sz.DEFAULT_COSTS).bytes_per_session

    standard, complex_ = per_session(), per_session(complexity="complex")
    assert 3.2 < complex_ / standard < 4.2 and complex_ > 19_000
    assert per_session(record_bytes=40_000) > complex_
    # runs calibrate the model, they do not replace it: the complex preset stays ~3.5x standard, x the factor
    calibrated = replace(COSTS, memory_factor=1.1, runs=2)
    p = sz.predict(sz.Deployment(complexity="complex"), calibrated)
    assert p.bytes_per_session == pytest.approx(1.1 * complex_)
    assert p.memory_source.startswith("model (Redis 7.0") and "calibration x 1.100" in p.memory_source
    assert "calibration" not in sz.predict(sz.Deployment(), sz.DEFAULT_COSTS).memory_source


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
    # a calibration that doubles the bytes roughly halves the largest session size
    doubled = sz.envelope(d, replace(sz.DEFAULT_COSTS, memory_factor=2.0)).max_size.value
    assert 0.4 * size < doubled < 0.6 * size


def _figure_text(fig) -> str:
    return " ".join(t.get_text() for ax in fig.axes for t in ax.texts)


def test_report_figures_draw_when_nothing_passes():
    """The report crashed ("Data cannot be log-scaled because all values are <= 0") when the p99 SLO failed at
    one pair: the envelope figure put only empty values on a log axis."""
    import io

    from loadsim.report import sizing as report

    costs = sz.DEFAULT_COSTS
    d = sz.Deployment(network_rtt_us=9000)  # a round trip over the SLO: no master count passes
    assert not sz.verdict(d, costs).passed
    fig = report.plot_envelope(d, costs)
    fig.savefig(io.BytesIO(), format="png")
    assert "not even 1 HA pair passes on 3, 6, 9 masters" in _figure_text(fig) and "latency" in _figure_text(fig)
    fig = report.plot_recommended_masters(d, costs)
    fig.savefig(io.BytesIO(), format="png")
    assert "no master count up to 64 passes" in _figure_text(fig)


def test_envelope_figure_shows_the_envelope_the_text_gives():
    from loadsim.report import sizing as report

    d = sz.Deployment(record_bytes=4096, node_ram_bytes=sz.GIB)  # 4 KiB: one of the figure's sizes
    v = sz.verdict(d, sz.DEFAULT_COSTS)
    fig = report.plot_envelope(d, sz.DEFAULT_COSTS)
    line = next(x for x in fig.axes[0].lines if x.get_label() == "3 masters")
    at = dict(zip(line.get_xdata(), line.get_ydata(), strict=True))
    assert at[4.0] == v.envelope.max_pairs.value and f"{v.envelope.max_pairs.value:,}" in v.text()


def test_measured_figure_with_one_run_and_repeats():
    import io

    import pandas as pd

    from loadsim.report import sizing as report

    one = pd.DataFrame([{"masters": 3, "tls": False, "ha_pairs": 1, "p99": None}])
    fig = report.plot_measured(one, "p99", "p99", "one run without the figure", limit=5000)
    fig.savefig(io.BytesIO(), format="png")
    assert "no run has this figure" in _figure_text(fig)
    repeats = pd.DataFrame([{"masters": 3, "tls": False, "ha_pairs": n, "p99": v}
                            for n, v in ((1, 100), (1, 300), (3, 500), (3, 700))])
    fig = report.plot_measured(repeats, "p99", "p99", "repeats")
    mean = next(x for x in fig.axes[0].lines if "(mean)" in x.get_label())
    assert list(mean.get_ydata()) == [200, 600]


def _write_run(folder, tls=False, live=500.0, used_per_master=4e6, run_class="clean", replicas=0):
    import json
    from dataclasses import asdict

    from loadsim.model import workload as wl

    masters = [{"used_memory_steady_mean": used_per_master, "cpu_s_steady": 0.2, "steady_s": 20.0,
                "commands_steady": 3000, "used_memory": 1, "used_memory_start": 1, "used_memory_rss": 1, "keys": 1,
                "connected_clients": 1, "cpu_s": 0.3, "commands": 4000, "node": "x"}] * 3
    summary = {"schema_version": 3, "complete": True, "steady_s": 20.0, "masters": masters,
               "workload": {"ha_pairs": 2}, "cluster": {"tls": tls, "replicas": replicas},
               "live_sessions": {"steady_mean": live},
               "rates": {"achieved_ops_per_s": 100.0}, "server": {"cpu_us_per_command": 50.0, "commands": 9000},
               "operations": {"session.update": {"count": 10, "latency_us": {"p99": 900}}},
               "run_class": {"class": run_class, "evidence": run_class, "reasons": []}}
    folder.mkdir(parents=True)
    (folder / "summary.json").write_text(json.dumps(summary))
    (folder / "config.json").write_text(json.dumps({"workload": asdict(wl.WorkloadParams(worker_threads=2))}))


def test_tls_report_sizing_without_a_plain_arm(tmp_path):
    from loadsim.report.tls import consequence_check, sizing_consequence

    _write_run(tmp_path / "t1", tls=True, run_class="rig-bound", replicas=1)
    index = {"fixed": [{"ok": True, "point": {"tls": True}, "path": "t1"}], "saturation": {"plain": [], "tls": []},
             "analysis": {"ratios": {"server_cpu_us_per_command": {"ratio": 1.2, "ci_low": 1.1, "ci_high": 1.3}}}}
    table = sizing_consequence(tmp_path, index)
    # the comparison's own question: its run's pairs (9 in its config.json), masters and replica
    needed = table["masters needed for 9 HA pairs"]
    assert needed["plain"].startswith("not assessed: no fixed-load plain run") and needed["TLS"] == "3"
    # the most HA pairs say what stops them there
    assert re.fullmatch(r"[\d,]+ \(then \w+ binds?\)", table.loc["TLS", "most HA pairs on 3 masters"])
    from loadsim.results.compare import _composes

    if _composes():  # latency composed for production: assessed whatever the runs' class
        assert re.match(r"(PASS|FAIL): [\d,]+ µs of 5,000 µs", table.loc["TLS", "latency"])
    else:
        assert table.loc["TLS", "latency"].startswith("NOT ASSESSED: no clean runs (1 rig-bound)")
    assert "one arm has no fixed-load run" in consequence_check(table, index)


def test_tls_answer_asks_the_comparisons_own_question(tmp_path):
    """The answer sizes the deployment of the runs compared (as plan --from one of them asks it), says so in its first
    line, and a cluster without replicas gets the replica fix, not "none up to 64"; the comparison's SLO is a
    what-if named as plan names it."""
    from loadsim.results import runs
    from loadsim.results.compare import answer

    _write_run(tmp_path / "p1", tls=False)
    _write_run(tmp_path / "t1", tls=True)
    config = json.loads((tmp_path / "p1" / "config.json").read_text())
    for run in ("p1", "t1"):  # 3 HA pairs at 7 calls/s: not plan's defaults
        config["workload"].update(ha_pairs=3, cps_per_pair=7.0)
        (tmp_path / run / "config.json").write_text(json.dumps(config))
        s = json.loads((tmp_path / run / "summary.json").read_text())
        s["client"] = {"cpu_us_per_command": 30.0}
        (tmp_path / run / "summary.json").write_text(json.dumps(s))
    index = {"spec": {"slo_p99_us": 2000.0},
             "fixed": [{"ok": True, "point": {"tls": False}, "path": "p1", "seconds": 20.0},
                       {"ok": True, "point": {"tls": True}, "path": "t1", "seconds": 20.0}],
             "saturation": {"plain": [], "tls": []}}
    a = answer(tmp_path, index)
    first = a.lines()[0]
    assert first.startswith(f"masters needed for 3 HA pairs at 7 calls/s per pair on 3 masters x 1 node (the "
                            f"comparison's own deployment, its runs' in {tmp_path.name}; what-if: "
                            "latency-slo-p99-us 5000 -> 2000): ")
    assert "none up to" not in "\n".join(a.lines()) and "--replicas 1" in first
    assert "with --replicas 1" in a.lines()[-1] or "with --replicas 1" in a.lines()[-2]
    for arm, run in ((a.plain, "p1"), (a.tls, "t1")):  # the same question as plan --from that run, SLO aside
        v, _ = runs.verdict_for(tmp_path / run, {"latency_slo_p99_us": 2000.0})
        assert arm.verdict.prediction.deployment == v.prediction.deployment
        assert arm.masters_text == sz.masters_text(v)


def test_tls_answer_reads_the_p99_a_user_should(tmp_path):
    """The production p99 per arm when the sizing composes it (TLS costs more server CPU per command, so its p99 is
    not below plain's), the rig's p99 labelled as the rig's in any case."""
    from loadsim.results.compare import _composes, answer

    _write_run(tmp_path / "p1", tls=False, run_class="rig-bound")
    _write_run(tmp_path / "t1", tls=True, run_class="rig-bound")
    summary = json.loads((tmp_path / "t1" / "summary.json").read_text())
    summary["server"]["cpu_us_per_command"] = 70.0  # TLS: x1.4 the plain run's 50
    (tmp_path / "t1" / "summary.json").write_text(json.dumps(summary))
    for run in ("p1", "t1"):  # the figures the ratio table reads besides server CPU
        s = json.loads((tmp_path / run / "summary.json").read_text())
        s["client"] = {"cpu_us_per_command": 30.0}
        s["operations"]["session.update"]["latency_us"].update({"p50": 400, "p999": 2000})
        (tmp_path / run / "summary.json").write_text(json.dumps(s))
    index = {"spec": {}, "fixed": [{"ok": True, "point": {"tls": False}, "path": "p1", "seconds": 20.0},
                                   {"ok": True, "point": {"tls": True}, "path": "t1", "seconds": 20.0}],
             "saturation": {"plain": [], "tls": []}}
    a = answer(tmp_path, index)
    lines = a.lines()
    assert lines[1] == "server CPU per command, TLS/plain: 1.40 (interval after 2 pairs)"
    if _composes():
        assert a.production is not None and a.production.tls_us >= a.production.plain_us > 0
        # the binding operation's p99 (the SLO binds every operation), named
        assert lines[2].startswith("p99 of a session create, delete or recovery (3 commands) in production (a ")
        assert "µs network round trip" in lines[2]
        assert lines[3].startswith("  p99 measured on this rig (a Python client on loopback")
    else:
        assert a.production is None and lines[2].startswith("p99 (the rig's: a Python client on loopback")
def test_a_constraint_more_masters_cannot_fix_names_its_own_fix():
    # no replicas: the failover constraint's fix is a replica, and with it the smallest master count is given
    v = sz.verdict(sz.Deployment(replicas=0), sz.DEFAULT_COSTS, with_envelope=False)
    text = sz.masters_text(v)
    assert v.smallest_masters is None and "none up to" not in v.text()
    assert text.startswith("more masters do not fix it: failover") and "--replicas 1" in text
    assert text.endswith(f"with --replicas 1: {sz.smallest_masters(sz.Deployment(), sz.DEFAULT_COSTS)} masters pass")
    # connections per node do not fall with masters: the fix is maxclients (or fewer threads)
    many = sz.verdict(sz.Deployment(ha_pairs=2000, cps_per_pair=0.01, maxclients=10_000), sz.DEFAULT_COSTS,
                      with_envelope=False)
    assert "connections: every node needs maxclients of at least 16,000" in sz.masters_text(many)
    # one key for every session (single-hash): the hot slot stays on one master; the fix is the layout
    hot = sz.verdict(sz.Deployment(key_layout="single-hash", ha_pairs=600), sz.DEFAULT_COSTS, with_envelope=False)
    assert not hot.passed and "--key-layout per-session" in sz.masters_text(hot)


def test_a_what_if_names_what_it_changed():
    from loadsim.model import question

    q = question.ask(sz.Deployment(masters=3, replicas=0), "the run's own deployment (r)", masters=6, replicas=0)
    assert q.changed == (("masters", 3, 6),) and q.changes_text() == "what-if: masters 3 -> 6"
    assert q.text().startswith("question: the run's own deployment (r): 9 HA pairs x 5 calls/s, 6 masters")
    v = sz.verdict(q, sz.DEFAULT_COSTS, with_envelope=False)
    assert "; for the run's own deployment (r), what-if: masters 3 -> 6" in v.headline
    assert sz.verdict_dict(v)["question"]["changed"] == [{"name": "masters", "from": 3, "to": 6}]


def test_network_per_master_binds_large_sessions_and_more_masters_or_a_faster_nic_fix_it():
    """The network row (sizing.RULES): the busier direction of the busiest master's NIC, on the wire, against 70 %
    of --nic-gbps. Complex sessions (~8.9 KB per command) at 60 calls/s on 30 pairs: the NIC binds before CPU."""
    d = sz.Deployment(ha_pairs=30, cps_per_pair=60, complexity="complex", node_ram_bytes=64 * sz.GIB)
    v = sz.verdict(d, COSTS, with_envelope=False)
    p = v.prediction
    net = next(k for k in p.constraints if k.short == "network bandwidth")

    def wire(b):  # TCP/IP + Ethernet framing per 1,448 B segment
        return b + math.ceil(b / 1448) * 90
    cmds, b = p.busiest_commands_per_s, p.bytes_per_command
    received, sent = cmds * wire(b), cmds * (wire(5) + d.replicas * wire(b))  # replies + the replica's stream
    assert cmds == pytest.approx(p.commands_per_s / 3) and b > 8000
    assert net.value == pytest.approx(max(received, sent)) and net.limit == 0.7 * 1e9 / 8
    assert not v.passed and v.binding is net and net.masters_fix and "--nic-gbps" in net.fix
    assert net.figures.startswith(f"{8 * net.value / 1e6:,.1f} Mbit/s of 700.0 Mbit/s")
    # the traffic spreads over the masters: the smallest count is where the busiest master's share fits
    assert v.smallest_masters == math.ceil(3 * net.value / net.limit)
    # a 10 Gbit/s NIC carries it on 3 masters; no replica: out is the replies only, in binds
    assert sz.verdict(replace(d, nic_gbps=10), COSTS, with_envelope=False).passed
    alone = next(k for k in sz.predict(replace(d, replicas=0), COSTS).constraints if k.short == "network bandwidth")
    assert alone.value == pytest.approx(received)
    # one slot for every session: more masters do not spread it, the layout is the fix
    hot = next(k for k in sz.predict(replace(d, key_layout="single-hash"), COSTS).constraints
               if k.short == "network bandwidth")
    assert "hot slot" in hot.name and not hot.masters_fix and "--key-layout per-session" in hot.fix
    with pytest.raises(OptionsError, match="--nic-gbps"):
        sz.Deployment(nic_gbps=0)


def test_a_bindings_short_name_comes_from_the_registry_row_that_made_it():
    """results/compare.py named a binding by cutting its text at ' (' and ':'; the registry (RULES) says which row
    made it, so the short name is Constraint.short on every surface, hot slot and latency operation included."""
    seen = set()
    for d in (sz.Deployment(), replace(sz.Deployment(), key_layout="single-hash", masters=2, replicas=0)):
        for k in sz.predict(d, sz.DEFAULT_COSTS).constraints:
            assert sz.short_name(k.name) == k.short, k.name
            seen.add(k.name)
    assert any("(" in name for name in seen)  # a name with its explanation was among them
    assert sz.short_name("nothing up to 100,000 pairs") == "nothing up to 100,000 pairs"


def test_redis_execution_is_the_median_of_runs_that_were_not_rig_bound_with_p999_when_every_run_kept_it():
    runs = [replace(_run(1000, 3, name=f"x{i}"), run_class="clean", redis_exec_us=e) for i, e in
            enumerate([(3.0, 10.0, 30.0), (4.0, 12.0, 50.0), (5.0, 14.0, 40.0)])]
    busy = replace(_run(1000, 3, name="busy"), run_class=sz.RIG_BOUND, redis_exec_us=(50.0, 500.0, 900.0))
    r = sz.redis_latency([*runs, busy])
    assert (r.exec_us_p50, r.exec_us_p99, r.exec_us_p999) == (4.0, 12.0, 40.0) and "3 runs" in r.source
    older = replace(runs[0], redis_exec_us=(3.0, 10.0, None))  # a summary from before p99.9 was kept
    assert sz.redis_latency([older, *runs[1:]]).exec_us_p999 is None
    assert sz.redis_latency([busy]) == sz.lat.DEFAULT_REDIS
