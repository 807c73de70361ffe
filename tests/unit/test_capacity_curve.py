"""A `loadsim capacity` latency-vs-load curve as plan reads it (capacity.json -> unit costs -> the composition), and
the one CPU ceiling of a master plan uses."""

import json
import math
from dataclasses import replace

import pytest

from loadsim.model import latency as lat
from loadsim.model import sizing as sz
from loadsim.results.capacity import read_capacity, with_capacity


def _capacity(tmp_path, tls=False, points=((0.25, 0.0), (0.4, 35.0), (0.7, 120.0)), clients=(1, 8, 64)):
    levels = [{"clients": n, "utilisation": u, "wait_p99_us": w, "used": True}
              for n, (u, w) in zip(clients, points, strict=False)]  # no points: no levels
    (tmp_path / "capacity.json").write_text(json.dumps({
        "tls": tls, "capacity": {"server_us_per_command_at_saturation": 12.0},
        "closed_loop": {"bytes_per_command": 2000.0},
        "queue_curve": {"driver": "redis-benchmark", "levels": levels, "points": [list(p) for p in points]}}))
    return read_capacity(tmp_path)


def test_plan_reads_queueing_off_the_capacity_curve(tmp_path):
    cap = _capacity(tmp_path)
    assert cap.queue_curve == ((0.25, 0.0), (0.4, 35.0), (0.7, 120.0)) and cap.curve_driver == "redis-benchmark"
    assert cap.curve_connections == 64
    costs = with_capacity(sz.DEFAULT_COSTS, cap)
    r = costs.redis_latency
    curve = r.curve_for(False)
    assert curve.points == cap.queue_curve and curve.connections == 64 and r.curve_for(True) is None
    assert curve.source.startswith(f"measured curve (capacity run {tmp_path / 'capacity.json'}: redis-benchmark")
    assert "kept levels up to 64 connections and 70 % of a core" in curve.source
    v = sz.verdict(sz.Deployment(), costs, with_envelope=False)
    c = v.prediction.latency
    assert c.queue_basis == curve.source and f"({curve.source})" in v.text()
    # at 1,500 HA pairs the busiest master is between the curve's points: the wait is read off it, not M/M/1
    busy = sz.verdict(sz.Deployment(ha_pairs=1500, worker_threads=1), costs, with_envelope=False).prediction
    assert 0.4 < busy.cpu_utilisation < 0.7
    low, high = cap.queue_curve[1], cap.queue_curve[2]
    expected = low[1] + (high[1] - low[1]) * (busy.cpu_utilisation - low[0]) / (high[0] - low[0])
    # ... only with connections within its levels': 1,500 pairs x 1 worker thread is 1,500 connections per master
    assert busy.latency.queue_basis.startswith("M/M/1 (assumption): the measured plain curve stops at 64 "
                                               "connections, this question has 1500 per master")
    few = sz.predict(sz.Deployment(ha_pairs=1500, worker_threads=1), replace(costs, redis_latency=r.with_curve(
        replace(curve, connections=1500))))
    assert few.cpu_utilisation == busy.cpu_utilisation
    # the binding operation (the SLO binds every operation: 3 commands here): its slowest command waits the curve's
    # p99 taken to the slowest of 3's quantile (x ln 300 / ln 100, an exponential tail), and each other command the
    # typical wait (p99 / ln 100, as M/M/1)
    k = few.latency.commands
    slowest = math.log(1.0 / (1.0 - lat.tail_quantile(k))) / math.log(100.0)
    assert k == 3 and slowest == pytest.approx(math.log(300.0) / math.log(100.0))
    assert few.latency.queue_us == pytest.approx(expected * (slowest + (k - 1) / math.log(100.0)))
    assert few.latency.queue_basis == curve.source
    # plan --json's latency and its unit costs say the same of the default question (36 connections, within 64)
    d = sz.verdict_dict(v)
    assert d["prediction"]["latency"]["queueing"] == curve.source
    assert d["unit_costs"]["redis_execution_us"]["queueing"] == curve.source
    # past its last kept level: M/M/1, said so (no extrapolation of the curve)
    over = sz.verdict(sz.Deployment(ha_pairs=2000, worker_threads=1, cpu_ceiling=0.95), replace(
        costs, redis_latency=r.with_curve(replace(curve, connections=2000))), with_envelope=False).prediction
    assert over.cpu_utilisation > 0.7 and "past the measured plain curve's last kept level (70.0 % at 2000 " \
        "connections)" in over.latency.queue_basis


def test_a_tls_question_reads_the_tls_curve_and_a_plain_one_the_plain_curve(tmp_path):
    (tmp_path / "plain").mkdir()
    (tmp_path / "tls").mkdir()
    plain = _capacity(tmp_path / "plain")
    tls = _capacity(tmp_path / "tls", tls=True, points=((0.25, 10.0), (0.4, 60.0), (0.7, 200.0)))
    costs = with_capacity(with_capacity(sz.DEFAULT_COSTS, plain), tls)
    for asked, cap in ((False, plain), (True, tls)):
        basis = sz.predict(sz.Deployment(tls=asked), costs).latency.queue_basis
        assert basis.startswith("measured curve") and str(cap.where.split(" (")[0]) in basis
        assert ("TLS" if asked else "plain") in basis
    # only the plain one measured: a TLS question says so
    only = sz.predict(sz.Deployment(tls=True), with_capacity(sz.DEFAULT_COSTS, plain)).latency.queue_basis
    assert only.startswith("M/M/1 (assumption): no measured TLS curve was given (the plain one does not apply")


def test_a_curve_stopping_at_few_connections_is_not_read_for_a_larger_question(tmp_path):
    cap = _capacity(tmp_path, points=((0.05, 0.0), (0.82, 0.0)), clients=(1, 4))
    assert cap.curve_connections == 4
    p = sz.predict(sz.Deployment(), with_capacity(sz.DEFAULT_COSTS, cap))  # 9 HA pairs x 4 worker threads
    assert p.latency.queue_basis.startswith("M/M/1 (assumption): the measured plain curve stops at 4 connections, "
                                            "this question has 36 per master")


def test_without_a_curve_queueing_is_the_mm1_assumption(tmp_path):
    cap = _capacity(tmp_path, points=())
    assert cap.queue_curve == () and cap.curve_connections == 0
    costs = with_capacity(sz.DEFAULT_COSTS, cap)
    v = sz.verdict(sz.Deployment(), costs, with_envelope=False)
    assert v.prediction.latency.queue_basis.startswith("M/M/1 (assumption): no measured plain curve was given")


def test_the_ceiling_plan_prints_is_where_its_cpu_constraint_binds():
    p = sz.verdict(sz.Deployment(), sz.DEFAULT_COSTS, with_envelope=False).prediction
    arm = p.costs.cpu_for(p.tls)
    ceiling = p.master_ceiling_commands_per_s
    # at the ceiling the master's utilisation is exactly the CPU ceiling
    assert arm.utilisation(ceiling, ceiling * p.bytes_per_command) == pytest.approx(p.deployment.cpu_ceiling)
    assert arm.utilisation(p.busiest_commands_per_s, p.busiest_commands_per_s * p.bytes_per_command) == \
        pytest.approx(p.cpu_utilisation)
    # plan's text and --json show that one figure
    v = sz.verdict(sz.Deployment(), sz.DEFAULT_COSTS, with_envelope=False)
    assert sz.ceiling_text(p) in v.text() and f"a master's ceiling {ceiling:,.0f} commands/s" in sz.ceiling_text(p)
    assert sz.verdict_dict(v)["prediction"]["master_ceiling_commands_per_s"] == pytest.approx(ceiling)


def test_a_curve_that_kept_no_level_is_said_so_not_called_missing(tmp_path):
    """On a busy machine every level may be left off (host- or driver-bound): the label says the curve was measured
    and kept no level, not that none was given."""
    (tmp_path / "capacity.json").write_text(json.dumps({
        "tls": False, "capacity": {"server_us_per_command_at_saturation": 12.0},
        "queue_curve": {"driver": "redis-benchmark", "points": [],
                        "levels": [{"clients": n, "used": False} for n in (1, 2, 4)]}}))
    cap = read_capacity(tmp_path)
    assert cap.queue_curve == () and cap.curve_levels == 3
    costs = with_capacity(sz.DEFAULT_COSTS, cap)
    basis = sz.predict(sz.Deployment(), costs).latency.queue_basis
    assert basis.startswith(f"M/M/1 (assumption): the measured plain curve kept no level (capacity run "
                            f"{tmp_path / 'capacity.json'}: redis-benchmark: its 3 levels were all left off")
    text = costs.redis_latency.curve_text(False)  # the unit-cost tables (plan --json, the report) say the same
    assert text.startswith(f"{sz.lat.MM1_SOURCE}; the measured plain curve kept no level (capacity run ") and \
        "measure it on a quieter machine" in text


def test_a_capacity_folder_is_checked_before_a_run_starts(tmp_path):
    from loadsim.errors import OptionsError
    from loadsim.results.capacity import check_capacity_folder

    with pytest.raises(OptionsError, match=r"--capacity-from .*: no such folder; give the folder `loadsim capacity"):
        check_capacity_folder(tmp_path / "nowhere")
    with pytest.raises(OptionsError, match=r"no capacity.json at or below it"):
        check_capacity_folder(tmp_path)
    (tmp_path / "cap").mkdir()
    _capacity(tmp_path / "cap")
    assert check_capacity_folder(tmp_path) == str(tmp_path.resolve())  # at or below it


def test_a_run_reads_the_capacity_folder_it_was_given(tmp_path):
    """A run folder has no capacity.json of its own: the one it was given (--capacity-from, in its config.json) is
    what plan --from the run and the web tab's verdict read (results.runs.unit_costs)."""
    from loadsim.results.runs import recorded_capacity_folder

    cap, run = tmp_path / "cap", tmp_path / "run"
    cap.mkdir()
    run.mkdir()
    _capacity(cap)
    (run / "summary.json").write_text("{}")
    assert recorded_capacity_folder(run) is None  # no config: none given
    (run / "config.json").write_text(json.dumps({"simulation": {"capacity_from": str(cap)}}))
    assert recorded_capacity_folder(run) == str(cap)
    assert recorded_capacity_folder(tmp_path) is None  # a folder that is no run
