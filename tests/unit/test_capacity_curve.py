"""A `loadsim capacity` latency-vs-load curve as plan reads it (capacity.json -> unit costs -> the composition), and
the one CPU ceiling of a master plan uses."""

import json
import math

import pytest

from loadsim.model import sizing as sz
from loadsim.results.runs import read_capacity, with_capacity


def _capacity(tmp_path, tls=False, points=((0.25, 0.0), (0.4, 35.0), (0.7, 120.0))):
    levels = [{"clients": 2 ** i, "utilisation": u, "wait_p99_us": w, "used": True} for i, (u, w) in enumerate(points)]
    (tmp_path / "capacity.json").write_text(json.dumps({
        "tls": tls, "capacity": {"server_us_per_command_at_saturation": 12.0},
        "closed_loop": {"bytes_per_command": 2000.0},
        "queue_curve": {"driver": "redis-benchmark", "levels": levels, "points": [list(p) for p in points]}}))
    return read_capacity(tmp_path)


def test_plan_reads_queueing_off_the_capacity_curve(tmp_path):
    cap = _capacity(tmp_path)
    assert cap.queue_curve == ((0.25, 0.0), (0.4, 35.0), (0.7, 120.0)) and cap.curve_driver == "redis-benchmark"
    costs = with_capacity(sz.DEFAULT_COSTS, cap)
    r = costs.redis_latency
    assert r.queue_curve == cap.queue_curve
    assert r.queue_source.startswith(f"measured curve (capacity run {tmp_path / 'capacity.json'}: redis-benchmark")
    v = sz.verdict(sz.Deployment(), costs, with_envelope=False)
    c = v.prediction.latency
    assert c.queue_basis == r.queue_source and f"({r.queue_source})" in v.text()
    # at 400 HA pairs the busiest master is between the curve's points: the wait is read off it, not M/M/1
    busy = sz.verdict(sz.Deployment(ha_pairs=1500), costs, with_envelope=False).prediction
    assert 0.4 < busy.cpu_utilisation < 0.7
    low, high = cap.queue_curve[1], cap.queue_curve[2]
    expected = low[1] + (high[1] - low[1]) * (busy.cpu_utilisation - low[0]) / (high[0] - low[0])
    # the binding operation (the SLO binds every operation: 3 commands here) waits the curve's p99 once and its
    # typical wait (p99 / ln 100, as M/M/1) for each other command
    k = busy.latency.commands
    assert k == 3 and busy.latency.queue_us == pytest.approx(expected * (1 + (k - 1) / math.log(100.0)))
    assert sz.verdict_dict(sz.verdict(sz.Deployment(ha_pairs=1500), costs, with_envelope=False)
                           )["prediction"]["latency"]["queueing"] == r.queue_source
    # past its last point the composition says the wait is extrapolated
    over = sz.verdict(sz.Deployment(ha_pairs=2000, cpu_ceiling=0.95), costs, with_envelope=False).prediction
    assert over.cpu_utilisation > 0.7 and "extrapolated" in over.latency.queue_basis


def test_without_a_curve_queueing_is_the_mm1_assumption(tmp_path):
    cap = _capacity(tmp_path, points=())
    assert cap.queue_curve == ()
    costs = with_capacity(sz.DEFAULT_COSTS, cap)
    v = sz.verdict(sz.Deployment(), costs, with_envelope=False)
    assert v.prediction.latency.queue_basis.startswith("M/M/1 (assumption)")


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
