"""The live Redis view's numbers (pure): per-node series from INFO samples, and the projection."""

import pytest

from loadsim.locust.webui import node_series, operations, projection, replication_lag
from loadsim.model import sizing as sz
from loadsim.results.recorder import Recorder


def _rows():
    rows = []
    for t in range(4):
        for node, mem in (("127.0.0.1:7000", 1_000_000), ("127.0.0.1:7001", 2_000_000)):
            rows.append({"time": 100.0 + t, "elapsed_s": float(t), "node": node, "role": "master",
                         "used_memory": mem + 1000 * t, "used_cpu_sys": 0.01 * t, "used_cpu_user": 0.02 * t,
                         "total_commands_processed": 500 * t, "connected_clients": 9, "keys": 10 * t})
    rows.append({"time": 104.0, "node": "127.0.0.1:7002", "role": "master", "error": "ConnectionError"})
    return rows


def test_node_series_turns_counters_into_rates():
    nodes = node_series(_rows())
    assert sorted(nodes) == ["127.0.0.1:7000", "127.0.0.1:7001"]  # a node that did not answer is left out
    s = nodes["127.0.0.1:7000"]["series"]
    assert s["t"] == [1.0, 2.0, 3.0] and s["cpu_percent"] == [3.0, 3.0, 3.0]  # 0.03 s of CPU per second
    assert s["commands_per_s"] == [500.0, 500.0, 500.0]
    latest = nodes["127.0.0.1:7001"]["latest"]
    assert latest == {"used_memory": 2_003_000, "keys": 30, "connected_clients": 9, "cpu_percent": 3.0,
                      "commands_per_s": 500.0}
    assert len(node_series(_rows(), points=2)["127.0.0.1:7000"]["series"]["t"]) == 2


def _params():
    from loadsim.model.workload import WorkloadParams

    return WorkloadParams(ha_pairs=2, cps_per_pair=10, aht_s=20, worker_threads=2)


_PARAMS = _params()


def _cluster_rows(maxmemory=None, mib_per_master=4.0):
    rows = []
    for t in range(4):
        for i in range(3):
            for role, port in (("master", 7000 + i), ("replica", 7100 + i)):
                row = {"time": 100.0 + t, "elapsed_s": float(t), "node": f"127.0.0.1:{port}", "role": role,
                       "used_memory": mib_per_master * 2**20 + 1000 * t, "used_cpu_sys": 0.01 * t,
                       "used_cpu_user": 0.02 * t, "total_commands_processed": 500 * t, "connected_clients": 9,
                       "keys": 10 * t}
                if maxmemory is not None:
                    row["maxmemory"] = maxmemory
                rows.append(row)
    return rows


def test_live_verdict_is_the_plans_assessment_of_the_running_deployment():
    from loadsim.model import sizing as sz
    from loadsim.model.workload import WorkloadParams

    params = WorkloadParams(ha_pairs=2, cps_per_pair=10, aht_s=20, worker_threads=2)
    nodes = node_series(_cluster_rows())
    p = projection(nodes, live_now=200, params=params, node_ram_bytes=2**30)
    assert p["ready"] and p["verdict"].startswith("PASS so far") and p["maxmemory_assumed"]
    # production latency: no rig time in it; the SLO binds every operation, the constraint names the binding one
    latency = [name for name in p["constraints"] if name.startswith("latency SLO")]
    assert latency == ["latency SLO (p99 of a session create, delete or recovery: 3 commands)"]
    assert p["constraints"][latency[0]] == "PASS"
    assert "maxmemory assumed: 1.0 GiB node x 80%" in p["verdict"]
    # the same deployment and calibration through loadsim plan's one function: the same answer per constraint
    live = sz.MeasuredRun(name="live", run_class=sz.IN_PROGRESS, evidence="", tls=False, ha_pairs=2, masters=3,
                          live_sessions=200, used_memory=3 * (4 * 2**20 + 3000), cpu_s=0.09, master_seconds=3,
                          commands=1500, operations_steady=0,
                          cpu_us_per_command=0, workload=params)
    v = sz.verdict(sz.deployment_for(params, masters=3, replicas=1, node_ram_bytes=2**30),
                   sz.fit_unit_costs([live]))
    assert p["constraints"] == {k.name: k.status for k in v.prediction.constraints}
    assert p["memory_steady"] == pytest.approx(v.prediction.memory_per_master)
    # the cluster's own maxmemory, when set, replaces the assumed one
    real = projection(node_series(_cluster_rows(maxmemory=60 * 2**20, mib_per_master=80)), live_now=200,
                      params=params)
    assert real["maxmemory"] == 60 * 2**20 and not real["maxmemory_assumed"]
    assert real["verdict"].startswith("FAIL so far: memory") and "assumed" not in real["verdict"]
    assert projection({}, 0, params)["ready"] is False


def test_operations_are_the_recorders_steady_percentiles_in_microseconds():
    rec = Recorder()
    for us in range(1, 1001):
        rec.record("session.update", us, us + 100, 1)
    rec.error("session.create", "timeout")
    ops = operations(rec.operations_summary())
    assert ops["session.update"]["count"] == 1000 and ops["session.update"]["p50"] == pytest.approx(600, abs=1)
    assert ops["session.update"]["p99"] == pytest.approx(1090, abs=2)  # µs, not whole milliseconds
    assert ops["session.create"] == {"count": 0, "errors": 1, "p50": 0, "p90": 0, "p99": 0, "p999": 0, "max": 0}


def test_replication_lag_is_what_the_master_wrote_and_the_replica_has_not_applied():
    rows = []
    for t, (m_off, r_off) in enumerate(((100, 100), (5000, 4200))):
        rows.append({"time": 10.0 + t, "node": "127.0.0.1:7000", "role": "master", "master_repl_offset": m_off})
        rows.append({"time": 10.0 + t, "node": "127.0.0.1:7100", "role": "replica", "master_repl_offset": r_off,
                     "replica_of": "127.0.0.1:7000"})
        rows.append({"time": 10.0 + t, "node": "127.0.0.1:7200", "role": "replica", "master_repl_offset": 9,
                     "replica_of": "10.9.9.9:7000"})
    lag = replication_lag(node_series(rows))
    assert lag == {"127.0.0.1:7100": 800.0, "127.0.0.1:7200": None}  # a master not sampled: unknown, not 0


def test_the_form_may_not_set_files_programs_or_where_to_connect():
    from argparse import Namespace

    from loadsim.config.persistence import OPTIONS
    from loadsim.config.simulation import SIM_OPTIONS
    from loadsim.locust.webui import form_options, refused_fields

    # every option that names a file, a folder or a program, or where and as whom to connect, is start-only
    start_only = {o.dest for o in (*SIM_OPTIONS, *OPTIONS) if not o.form}
    assert start_only == {"estate", "results_dir", "capacity_from", "embedded_redis_server", "redis_nodes",
                          "username", "password",
                          "tls_enabled", "redis_tls_cert", "redis_tls_key", "tls_cacert", "tls_cacertdir", "tls_sni",
                          "allow_eviction"}  # a safety override: only whoever starts loadsim may give it
    assert not start_only & form_options()
    named_a_path = {o.dest for o in SIM_OPTIONS if o.metavar in ("FILE", "DIR", "PATH")}
    named_a_path |= {o.dest for o in OPTIONS if o.metavar in ("FILE", "DIR")}
    assert named_a_path <= start_only
    parsed = vars(Namespace(results_dir=None, html_file=None, cps_per_pair=5.0, num_users=9, ors_config=None))
    posted = ["user_count", "spawn_rate", "cps_per_pair", "results_dir", "html_file", "ors_config", "no_such"]
    assert refused_fields(posted, parsed) == ["results_dir", "html_file", "ors_config"]


@pytest.mark.parametrize(("host", "login", "warned"), [("127.0.0.1", False, False), ("localhost", False, False),
                                                       ("::1", False, False), ("", False, True), ("*", False, True),
                                                       ("0.0.0.0", False, True), ("10.1.2.3", False, True),
                                                       ("0.0.0.0", True, False)])
def test_a_web_ui_beyond_loopback_without_login_is_warned_about(host, login, warned):
    from argparse import Namespace

    from loadsim.locust.webui import exposure_warning

    warning = exposure_warning(Namespace(web_host=host, web_login=login, web_port=8089))
    assert (warning is not None) is warned
    if warned:
        assert "\n" not in warning and "--web-login" in warning and "8089" in warning


def test_the_redis_tab_rows_show_the_verdict_and_the_summarys_figures_once_written():
    from loadsim.locust.webui import tab_rows

    nodes = node_series(_rows())
    live = {"nodes": nodes, "operations": {"session.update": {"count": 1000, "errors": 0, "p50": 600, "p90": 900,
                                                               "p99": 1090, "p999": 1200, "max": 1500}},
            "projection": projection(node_series(_cluster_rows()), 200, _PARAMS, node_ram_bytes=2**30),
            "results": "/r/x"}
    rows = {r["item"]: r for r in tab_rows(live)}
    assert rows["verdict"]["value"].startswith("PASS so far") and "projection" in rows["verdict"]["detail"]
    assert rows["session.update p99"]["value"] == "1,090 µs"  # µs with separators, never e-notation
    assert rows["127.0.0.1:7001 (master)"]["value"] == "1.9 MiB" and "(latest sample)" in rows[
        "127.0.0.1:7001 (master)"]["detail"]
    # a real verdict (the one the tab gets from plan --from): 3 masters without replicas fail the failover
    verdict = sz.verdict_dict(sz.verdict(sz.Deployment(ha_pairs=3, replicas=0), sz.DEFAULT_COSTS, False))
    final = {**live, "final": {"masters": {"127.0.0.1:7001": {"used_memory": 3 * 2**20, "keys": 1234}},
                               "verdict": verdict}}
    rows = {r["item"]: r for r in tab_rows(final)}
    assert rows["verdict"]["value"] == "FAIL" and "failover" in rows["verdict"]["detail"]
    assert "no margin" in rows["verdict"]["detail"] and "--replicas 1" in rows["verdict"]["detail"]
    assert "none up to" not in rows["verdict"]["detail"] and "3 HA pairs on 3 masters" in rows["verdict"]["detail"]
    # every constraint of the verdict has its row, with plan's figures (a new constraint needs no row of its own)
    for k in verdict["constraints"]:
        row = rows[f"constraint: {k['short']}"]
        assert row["value"] == k["status"] and row["detail"].startswith(k["figures"])
    assert rows["constraint: failover: a replica per master"]["value"] == "FAIL"
    assert "--replicas 1" in rows["constraint: failover: a replica per master"]["detail"]
    node = rows["127.0.0.1:7001 (master)"]
    assert node["value"] == "3.0 MiB" and node["detail"].startswith("1,234 keys")
    assert "(end of the run)" in node["detail"]
    # a finished run without a verdict (stopped in its warm-up): said, not the live projection's "PASS so far"
    from loadsim.locust.webui import no_verdict_text

    why = "the run ended at 3.9 s, before its steady window was to begin at 30.0 s"
    text = no_verdict_text({"no_steady_window": why}, "no run with a steady window to calibrate the model on")
    assert text == f"no sizing verdict for this run: no steady window: {why}"
    over = {**live, "final": {"masters": {}, "verdict": None, "no_verdict": text}}
    row = next(r for r in tab_rows(over) if r["item"] == "verdict")
    assert row == {"item": "verdict", "value": "none", "detail": text}
    assert no_verdict_text({}, "no complete runs") == "no sizing verdict for this run: no complete runs"


def test_histogram_figures_are_hdrhs_own_without_walking_its_buckets_in_python(monkeypatch):
    """stats() reads hdrh's counts with numpy: the same mean, percentiles and max as hdrh's own methods, on random
    and edge values (bucket edges, 1 µs, the 60 s ceiling, repeated counts); and none of hdrh's pure-Python walks,
    which held the event loop 0.3-0.75 s at each poll of the live tab."""
    import random

    from hdrh.histogram import HdrHistogram

    from loadsim.results import recorder as rc

    def hdrh_stats(h):
        return {"count": h.get_total_count(), "mean": round(h.get_mean_value(), 1),
                **{k: h.get_value_at_percentile(p) for k, p in rc.PERCENTILES.items()}, "max": h.get_max_value()}

    rng = random.Random(7)
    edges = [1, 2, 2047, 2048, 2049, 4095, 4096, 4097, 1_000_000, 59_999_999, 60_000_000]
    cases = []
    for trial in range(120):
        h = rc.new_histogram()
        n = rng.choice([1, 2, 3, 50, 3000])
        draw = [lambda: rng.choice(edges), lambda: rng.lognormvariate(6, 1.5), lambda: rng.uniform(1, 3000),
                lambda: rng.paretovariate(0.5) * 100][trial % 4]
        values = [draw() for _ in range(n)]
        if trial % 2:
            rc.record_many(h, values)
        else:
            for v in values:
                h.record_value(rc.clamp_us(v), rng.choice([1, 1, 7]))
        cases.append((h, hdrh_stats(h)))
    empty = rc.new_histogram()
    for name in ("get_mean_value", "get_value_at_percentile", "get_recorded_iterator"):
        monkeypatch.setattr(HdrHistogram, name, lambda *a, **k: pytest.fail("a pure-Python walk of the buckets"))
    for h, expected in cases:
        assert rc.stats(h) == expected
    assert rc.stats(empty) == {"count": 0, "mean": 0.0, "p50": 0, "p90": 0, "p99": 0, "p999": 0, "max": 0}


def test_the_live_projection_gives_the_verdict_without_searching_master_counts(monkeypatch):
    """The tab's live verdict is sizing.verdict's PASS/FAIL and constraints; the smallest master count (up to 64
    predictions) is not shown there and is not searched inside the generator's event loop at each poll."""
    nodes = node_series(_cluster_rows())
    first = projection(nodes, live_now=200, params=_PARAMS, node_ram_bytes=2**30)
    monkeypatch.setattr(sz, "smallest_masters", lambda *a, **k: pytest.fail("searched the master counts"))
    assert projection(nodes, live_now=200, params=_PARAMS, node_ram_bytes=2**30) == first
    live = sz.MeasuredRun(name="live", run_class=sz.IN_PROGRESS, evidence="", tls=False, ha_pairs=2, masters=3,
                          live_sessions=200, used_memory=3 * 4 * 2**20, cpu_s=0.09, master_seconds=3, commands=1500,
                          operations_steady=0, cpu_us_per_command=0, workload=_PARAMS)
    v = sz.verdict(sz.deployment_for(_PARAMS, masters=3, replicas=1, node_ram_bytes=2**30),
                   sz.fit_unit_costs([live]), with_envelope=False, with_search=False)
    assert v.smallest_masters is None and v.passed == first["verdict"].startswith("PASS")


def test_the_tabs_pollers_share_one_view_per_server_sample(monkeypatch):
    """Three pollers ask for the view (Locust's statistics, the charts, the reload check); it is computed again
    only for a new sample, a new test, or the test's end."""
    from pathlib import Path
    from types import SimpleNamespace

    from loadsim.locust import webui

    built = []
    monkeypatch.setattr(webui, "view_data", lambda runtime: built.append(1) or {"n": len(built)})
    run = SimpleNamespace(path=Path("/r/1"), node_rows=[{}], client_rows=[{}])
    runtime = SimpleNamespace(run=run, last_run=None)
    view = webui.ViewCache(runtime)
    assert [view.data()["n"] for _ in range(3)] == [1, 1, 1]
    run.node_rows.append({})  # the next server sample
    assert view.data()["n"] == 2 and view.data()["n"] == 2
    runtime.run, runtime.last_run = None, run  # the summary is written
    assert view.data()["n"] == 3
    runtime.run = SimpleNamespace(path=Path("/r/1-2"), node_rows=[{}], client_rows=[{}])  # a second test
    assert view.data()["n"] == 4


def test_a_running_tests_ha_pairs_do_not_change_from_the_form():
    """Locust's "Edit" on a running test: another number of HA pairs is refused (one deployment per run), the same
    number (a new ramp-up) and any number for a test not running are not."""
    from types import SimpleNamespace

    from loadsim.locust.webui import resize_problem

    running = SimpleNamespace(state="running", target_user_count=4)
    assert resize_problem(running, {"user_count": "5"}) == (
        "HA pairs: a running test keeps its 4 (its summary and sizing verdict describe one deployment); stop it and "
        "start a new test with 5")
    assert resize_problem(SimpleNamespace(state="spawning", target_user_count=4), {"user_count": "2"})
    assert resize_problem(running, {"user_count": "4"}) is None
    assert resize_problem(SimpleNamespace(state="stopped", target_user_count=4), {"user_count": "5"}) is None
    assert resize_problem(None, {"user_count": "5"}) is None


def test_live_projection_asks_plans_question_with_the_capacity_folder_the_run_was_given(tmp_path):
    """The tab's live projection of a run given --capacity-from (and a production round trip): the question plan
    --from the finished run asks (``own_deployment``) and the capacity's CPU per command applied as plan applies it
    (``with_capacity_of``); before, it fitted the live samples alone and asked about a 0 µs network."""
    import json
    from types import SimpleNamespace

    from loadsim.config.simulation import run_settings
    from loadsim.locust.webui import live_projection
    from loadsim.model.question import own_deployment
    from loadsim.results.capacity import with_capacity_of

    (tmp_path / "capacity.json").write_text(json.dumps({
        "tls": False, "capacity": {"server_us_per_command_at_saturation": 55.0},
        "closed_loop": {"bytes_per_command": 300}}))
    settings = run_settings({"capacity_from": str(tmp_path), "network_rtt_us": 3000})
    run = SimpleNamespace(engine=SimpleNamespace(settings=settings, opts=SimpleNamespace(tls_enabled=False),
                                                 params=_PARAMS), cluster=None)
    nodes = node_series(_cluster_rows())
    p = live_projection(run, nodes, 200)
    assert p["ready"] and str(tmp_path / "capacity.json") in p["unit_costs_source"]
    live = sz.MeasuredRun(name="live", run_class=sz.IN_PROGRESS, evidence="", tls=False, ha_pairs=2, masters=3,
                          live_sessions=200, used_memory=3 * (4 * 2**20 + 3000), cpu_s=0.09, master_seconds=3,
                          commands=1500, operations_steady=0, cpu_us_per_command=0, workload=_PARAMS, replicas=1)
    costs = with_capacity_of(sz.fit_unit_costs([live]), (str(tmp_path),), False)
    v = sz.verdict(own_deployment(_PARAMS, masters=3, replicas=1, network_rtt_us=3000), costs)
    assert p["constraints"] == {k.name: k.status for k in v.prediction.constraints}
    assert p["cpu_us_per_command"] == pytest.approx(v.prediction.costs.service_s(v.prediction.bytes_per_command)
                                                    * 1e6)
    # the capacity's figure, not the live samples' (0.03 s of CPU per 500 commands: 60 µs per command)
    alone = projection(nodes, 200, _PARAMS)
    assert "capacity.json" not in alone["unit_costs_source"]
    assert p["cpu_us_per_command"] != pytest.approx(alone["cpu_us_per_command"], rel=0.01)
    latency = next(k for k in v.prediction.constraints if k.name.startswith("latency"))
    # the round trip the run was given: 3 commands x 3 ms against the 5 ms SLO fail, as plan --from says
    assert (p["constraints"][latency.name], alone["constraints"][latency.name]) == ("FAIL", "PASS")
