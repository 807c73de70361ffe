"""The production latency composition (loadsim.model.latency) on known answers and recorded figures."""

import json
import math
import os
import re
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

from loadsim.model import latency as lat
from loadsim.model import sizing as sz


def test_mm1_wait_known_answers():
    # p99 wait = S / (1 - rho) ln(rho / 0.01): at rho 0.5, S 20 µs: 40 x ln 50
    assert lat.wait_us(0.5, 20.0) == pytest.approx(40.0 * math.log(50.0))
    assert lat.wait_us(0.005, 20.0) == 0.0  # below 1 %: the p99 command does not wait at all
    assert lat.mean_wait_us(0.5, 20.0) == pytest.approx(20.0)
    assert math.isinf(lat.wait_us(1.0, 20.0)) and math.isinf(lat.mean_wait_us(1.2, 20.0))
    # more load never predicts less waiting
    waits = [lat.wait_us(r / 100, 20.0) for r in range(0, 100)]
    assert waits == sorted(waits)


def test_composition_adds_one_slow_part_to_typical_ones():
    redis = lat.RedisLatency(3.9, 11.3, "recorded")  # a run's INFO latencystats, weighted by calls
    c = lat.compose(3, 200.0, 15.0, redis, 0.5, 20.0)
    assert c.network_us == 600.0 and c.client_us == 45.0
    # the slowest of 3 at q = 1 - 1 %/3: execution along the exponential tail through p50 and p99 (no p99.9 here)
    assert c.redis_us == pytest.approx(3.9 + (11.3 - 3.9) * math.log(150.0) / math.log(50.0) + 2 * 3.9)
    # M/M/1 at that quantile, closed form: S / (1 - rho) ln(rho / (1 - q)), the others at the mean wait
    assert c.queue_us == pytest.approx(40.0 * math.log(0.5 * 300.0) + 2 * 20.0)
    assert c.p99_us == pytest.approx(600 + 45 + c.redis_us + c.queue_us)
    assert "3 commands x 200 µs network round trip (given) 600" in c.text()
    assert math.isinf(lat.compose(3, 200.0, 15.0, redis, 1.0, 20.0).p99_us)
    # a measured queueing curve replaces the M/M/1 function
    curved = lat.RedisLatency(3.9, 11.3, "recorded", curves=(lat.QueueCurve(((0.2, 10.0), (0.6, 50.0)), 64),))
    assert lat.compose(1, 0.0, 0.0, curved, 0.4, 20.0).queue_us == pytest.approx(30.0)


def test_closure_on_recorded_figures():
    """Figures recorded by one quiet run here (3 HA pairs, per-session layout, issue 24's closure run 1): the update
    (1 command at p50, 2 at p99) gives the rig's time per command at its median and at the slowest of 2's quantile;
    the composition with it put back is checked against the 3-command operations."""
    redis = lat.RedisLatency(3.38, 9.91, "recorded")
    util, cpu = 0.011, 24.0
    rig = lat.rig_per_command(129.0, 381.0, redis, util, cpu, 1, 2)
    typical = 3.38 + lat.mean_wait_us(util, cpu)
    assert rig.p50 == pytest.approx(129.0 - typical) and rig.q == pytest.approx(0.995)
    slow = redis.exec_us_at(0.995) + lat.wait_us(util, cpu, 0.995)
    assert rig.at_q == pytest.approx(381.0 - rig.p50 - typical - slow)
    assert rig.at(0.5) == pytest.approx(rig.p50) and rig.at(0.995) == pytest.approx(rig.at_q)
    create = lat.closure(3, rig, redis, util, cpu)
    q3 = lat.tail_quantile(3)
    assert create.network_us == pytest.approx(rig.at(q3) + 2 * rig.p50) and create.client_us == 0.0
    assert create.p99_us == pytest.approx(create.network_us + redis.exec_us_at(q3) + 2 * 3.38 + create.queue_us)
    # the run measured 625 µs (create) and 573 µs (delete): within 25 % (the former rule gave 510, -18 %)
    assert abs(create.p99_us / 625.0 - 1) < 0.25 and abs(create.p99_us / 573.0 - 1) < 0.25


def _erlang_p99(k: int) -> float:
    """The 0.99 quantile of the sum of k exponentials of mean 1 (Erlang k), from its closed-form CDF
    1 - exp(-t) sum_{n < k} t^n / n!, on a fine grid (numpy only)."""
    t = np.linspace(0.0, 40.0, 400_001)
    terms = np.cumprod(np.vstack([np.ones_like(t)] + [t / n for n in range(1, k)]), axis=0)
    cdf = 1.0 - np.exp(-t) * terms.sum(axis=0)
    return float(t[np.searchsorted(cdf, 0.99)])


def test_the_tail_rule_known_answers():
    """The slowest of k at q_k = 1 - 1 %/k, the others typical: one command is exactly its p99; more commands never
    predict less; a deterministic per-command time gives k times it; on exponential parts it sits between the former
    rule and the exact (Erlang) p99, a lower estimate as its docstring says, and close when a constant dominates."""
    assert lat.tail_quantile(1) == 0.99 and lat.tail_quantile(3) == pytest.approx(1 - 0.01 / 3)
    assert lat.tail_quantile(3) ** 3 == pytest.approx(0.99, abs=1e-4)  # (q_k)^k ~ q
    for p999 in (None, 30.0):
        redis = lat.RedisLatency(3.9, 11.3, "recorded", exec_us_p999=p999)
        assert redis.exec_us_at(0.99) == pytest.approx(11.3) and redis.exec_us_at(0.5) == pytest.approx(3.9)
        one = lat.compose(1, 200.0, 15.0, redis, 0.5, 20.0)
        assert one.redis_us == pytest.approx(11.3) and one.queue_us == pytest.approx(lat.wait_us(0.5, 20.0))
        p99s = [lat.compose(k, 200.0, 15.0, redis, 0.5, 20.0).p99_us for k in range(1, 11)]
        assert p99s == sorted(p99s) and len(set(p99s)) == 10
    # with p99.9, interpolated on the log of the tail probability: the slowest of 10 is at p99.9 exactly
    assert lat.RedisLatency(3.9, 11.3, "r", exec_us_p999=30.0).exec_us_at(lat.tail_quantile(10)) == pytest.approx(30.0)
    assert lat.RedisLatency(3.9, 11.3, "r", exec_us_p999=30.0).exec_us_at(0.995) == pytest.approx(
        11.3 + 18.7 * math.log(2.0) / math.log(10.0))
    # a deterministic command (no spread, no queue): k times it
    flat = lat.RedisLatency(5.0, 5.0, "flat", exec_us_p999=5.0)
    for k in (1, 2, 3, 7):
        assert lat.compose(k, 200.0, 15.0, flat, 0.0, 20.0).p99_us == pytest.approx(k * 220.0)
    # exponential parts (mean 1): the exponential tail through p50 = ln 2 and p99 = ln 100 is exact at q_k, ln(100 k)
    rig = lat.RigTime(math.log(2.0), math.log(100.0), 0.99)
    for k in (2, 3, 5):
        assert rig.at(lat.tail_quantile(k)) == pytest.approx(math.log(100.0 * k))
        rule = rig.at(lat.tail_quantile(k)) + (k - 1) * rig.p50
        former = math.log(100.0) + (k - 1) * math.log(2.0)
        exact = _erlang_p99(k)
        assert former < rule < exact  # nearer the truth, still a lower estimate when every part spreads like this
        # a command that is mostly a constant (a round trip 20 x its spread, as production's): within 5 %
        assert (20 * k + rule) == pytest.approx(20 * k + exact, rel=0.05)
    assert _erlang_p99(1) == pytest.approx(math.log(100.0), abs=1e-3) and _erlang_p99(3) == pytest.approx(8.406,
                                                                                                         abs=1e-2)


def _plan(*args):
    proc = subprocess.run([sys.executable, "-m", "loadsim", "plan", *args], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    return proc.returncode, proc.stdout


def test_plan_assesses_latency_at_the_round_trip_given():
    rc, out = _plan("--network-rtt-us", "2000", "--json")
    v = json.loads(out)
    latency = next(c for c in v["constraints"] if c["name"].startswith("latency"))
    assert latency["status"] in ("PASS", "FAIL") and latency["value"] >= 2000
    assert v["prediction"]["latency"]["network_rtt_us"] == 2000 and "2,000 µs network round trip" in v["headline"]
    rc, out = _plan("--network-rtt-us", "6000", "--latency-slo-p99-us", "5000")
    assert rc == 3 and "latency SLO FAIL" in out
    head = next(line for line in out.splitlines() if line.startswith(("PASS", "FAIL")))
    assert head.startswith("FAIL") and "p99 at a 6,000 µs network round trip (given)" in head
    assert "none up to" not in out and "a nearer Redis" in out


def test_the_slo_binds_every_operation_and_names_the_one_that_fails():
    """A WAN round trip (2 ms) where a session update (2 commands) passes a 5 ms SLO and a delete (3) does not: a
    latency FAIL naming the delete (with the operations of as many commands), the same line in plan's text and
    --json, the report's verdict and the web tab's latency row."""
    rc, out = _plan("--network-rtt-us", "2000", "--json")
    v = json.loads(out)
    ops = {c["operation"]: c for c in v["prediction"]["latency_by_operation"]}
    assert set(ops) == {"session create", "session update", "session delete", "session recovery"}
    assert (ops["session update"]["commands"], ops["session delete"]["commands"]) == (2, 3)
    assert ops["session update"]["p99_us"] < 5000 < ops["session delete"]["p99_us"]
    latency = next(c for c in v["constraints"] if c["name"].startswith("latency SLO"))
    assert rc == 3 and latency["status"] == "FAIL" and v["binding"] == latency
    assert "delete" in latency["name"] and "update" not in latency["name"]
    line = v["prediction"]["latency_line"]
    # 3 x (2,000 + 15) + Redis 5.8 (the slowest of 3 at its 0.99667 quantile: 2 + 3 x ln 150 / ln 50) + 2 x 2,
    # queueing 29 µs at 0.9 % of a core (M/M/1 at 0.99667: S ln(0.009 x 300), the replica's propagation included)
    assert re.search(r": p99 of a session create, delete or recovery \(3 commands\): 6,084 µs at a 2,000 µs round "
                     r"trip; p99 6,084 µs = 3 commands x 2,000 µs network round trip \(given\) ", line), line
    assert "update 4,055 µs (2)" in line and latency["detail"] == line
    rc, text = _plan("--network-rtt-us", "2000")
    assert rc == 3 and line in text.splitlines()
    # the report's verdict and the web tab render the same verdict (sizing.verdict, verdict_dict)
    import html

    from loadsim.locust.webui import tab_rows
    from loadsim.report.sizing import verdict_html

    d = sz.Deployment(network_rtt_us=2000.0)
    assert html.escape(line) in verdict_html(sz.verdict(d, sz.DEFAULT_COSTS))
    rows = {r["item"]: r for r in tab_rows({"final": {"masters": {}, "verdict": v}, "projection": {}})}
    assert rows["constraint: latency SLO"]["value"] == "FAIL" and line in rows["constraint: latency SLO"]["detail"]
    assert latency["name"] in rows["verdict"]["detail"]


def test_tls_adds_the_clients_tls_time():
    plain = sz.verdict(sz.Deployment(), sz.DEFAULT_COSTS, with_envelope=False).prediction.latency
    tls = sz.verdict(sz.Deployment(tls=True), sz.DEFAULT_COSTS, with_envelope=False).prediction.latency
    assert tls.client_us - plain.client_us == pytest.approx(plain.commands * lat.client_us_per_command(True)
                                                            - plain.commands * lat.client_us_per_command(False))


def test_a_measured_curve_is_made_monotone_and_interpolated_in_utilisation():
    # a noisy point below an earlier one is lifted to it; unsorted input is sorted; saturation and nan dropped
    raw = [(0.6, 50.0), (0.2, 10.0), (0.4, 8.0), (1.0, 900.0), (float("nan"), 1.0), (0.3, -2.0)]
    curve = lat.monotone_curve(raw)
    assert curve == ((0.2, 10.0), (0.3, 10.0), (0.4, 10.0), (0.6, 50.0))
    # linear between points, from 0 at no load up to the first point
    assert lat.curve_wait_us(curve, 0.5) == pytest.approx(30.0)
    assert lat.curve_wait_us(curve, 0.1) == pytest.approx(5.0) and lat.curve_wait_us(curve, 0.0) == 0.0
    # more load never predicts less waiting
    waits = [lat.curve_wait_us(curve, r / 100) for r in range(0, 100)]
    assert waits == sorted(waits)
    # never extrapolated: past its last point, that point's wait (``queueing`` decides whether to read it there);
    # unbounded at saturation
    assert lat.curve_wait_us(curve, 0.6) == lat.curve_wait_us(curve, 0.8) == pytest.approx(50.0)
    assert math.isinf(lat.curve_wait_us(curve, 1.0))


SOURCE = "measured curve (capacity run x/capacity.json)"


def _measured(connections=8, tls=False, points=((0.2, 10.0), (0.6, 50.0))):
    return lat.RedisLatency(2.0, 5.0, "recorded", curves=(lat.QueueCurve(points, connections, tls, SOURCE),))


def test_the_composition_reads_a_curve_valid_for_the_question():
    """Within its kept levels' connections and utilisation the curve answers, labelled with its source, on the
    composition's text and dict alike."""
    inside = lat.compose(1, 200.0, 15.0, _measured(), 0.4, 20.0, connections=8)
    assert inside.queue_us == pytest.approx(30.0) and inside.queue_basis == SOURCE
    assert f"({SOURCE})" in inside.text() and inside.as_dict()["queueing"] == SOURCE
    # fewer connections than the curve's levels: still within what it measured
    assert lat.compose(1, 200.0, 15.0, _measured(), 0.4, 20.0, connections=2).queue_basis == SOURCE


def test_a_curve_short_of_the_questions_connections_gives_way_to_mm1_and_says_why():
    # levels 1 and 4 kept, 0 µs wait at 82 % of a core (a quiet 2-core host): a 36-connection question is M/M/1's
    short = _measured(connections=4, points=((0.05, 0.0), (0.82, 0.0)))
    c = lat.compose(1, 200.0, 15.0, short, 0.82, 19.3, connections=36)
    assert c.queue_us == pytest.approx(lat.wait_us(0.82, 19.3)) and 400 < c.queue_us < 500
    assert c.queue_basis.startswith("M/M/1 (assumption): the measured plain curve stops at 4 connections, this "
                                    "question has 36 per master")
    # the same curve answers a question of 4 connections
    assert lat.compose(1, 200.0, 15.0, short, 0.82, 19.3, connections=4).queue_basis == SOURCE
    # a file that did not record its levels' connections is not trusted for any question
    unknown = lat.compose(1, 200.0, 15.0, _measured(connections=0), 0.4, 20.0, connections=1)
    assert "connections it did not record" in unknown.queue_basis
    # M/M/1 below what the curve measured at that utilisation: the measurement (a lower bound) stands, said so
    high = _measured(connections=4, points=((0.2, 100.0), (0.6, 400.0)))
    floored = lat.compose(1, 200.0, 15.0, high, 0.4, 20.0, connections=36)
    assert floored.queue_us == pytest.approx(250.0) and floored.queue_us > lat.wait_us(0.4, 20.0)
    assert floored.queue_basis.endswith("not below the 250 µs the curve measured")


def test_past_the_curves_utilisation_mm1_never_below_its_last_level():
    """A curve that covers the connections is read up to its last kept level; past it, M/M/1 (nothing measured
    there), never below the last level's wait: the wait never falls as the utilisation rises."""
    measured = _measured()
    beyond = lat.compose(1, 200.0, 15.0, measured, 0.7, 20.0, connections=8)
    assert beyond.queue_basis.startswith("M/M/1 (assumption): 70.0 % of a core is past the measured plain curve's "
                                         "last kept level (60.0 % at 8 connections)")
    assert beyond.queue_us == pytest.approx(max(50.0, lat.wait_us(0.7, 20.0)))
    # a curve above M/M/1 at its end: the floor holds the wait at the last level's 500 µs
    steep = _measured(points=((0.2, 100.0), (0.6, 500.0)))
    waits = [lat.compose(1, 0, 0, steep, r / 100, 20.0, connections=8).queue_us for r in range(0, 100)]
    assert waits == sorted(waits) and waits[61] == pytest.approx(500.0)
    saturated = lat.compose(1, 200.0, 15.0, measured, 1.0, 20.0, connections=8)
    assert math.isinf(saturated.p99_us) and "unbounded" in saturated.queue_basis


def test_each_transport_reads_its_own_curve():
    plain = lat.QueueCurve(((0.2, 10.0), (0.6, 50.0)), 64, False, "measured curve (plain)")
    tls = lat.QueueCurve(((0.2, 20.0), (0.6, 90.0)), 64, True, "measured curve (TLS)")
    both = lat.RedisLatency(curves=(plain, tls))
    assert lat.compose(1, 0, 0, both, 0.4, 20.0, tls=True).queue_basis == "measured curve (TLS)"
    assert lat.compose(1, 0, 0, both, 0.4, 20.0, tls=False).queue_basis == "measured curve (plain)"
    # only a plain curve: a TLS question says none of its transport was given, and why the other does not apply
    only_plain = lat.RedisLatency(curves=(plain,))
    c = lat.compose(1, 0, 0, only_plain, 0.4, 20.0, tls=True)
    assert c.queue_basis.startswith("M/M/1 (assumption): no measured TLS curve was given (the plain one does not "
                                    "apply") and c.queue_us == pytest.approx(lat.wait_us(0.4, 20.0))
    assert both.with_curve(replace(plain, source="new")).curve_for(False).source == "new"


def test_without_a_curve_queueing_is_the_mm1_assumption_and_says_none_was_given():
    assumed = lat.compose(1, 200.0, 15.0, lat.DEFAULT_REDIS, 0.4, 20.0)
    assert assumed.queue_basis.startswith("M/M/1 (assumption): no measured plain curve was given")
    assert assumed.queue_us == pytest.approx(lat.wait_us(0.4, 20.0))
    assert lat.DEFAULT_REDIS.curve_text(False) == f"{lat.MM1_SOURCE}; no measured plain curve was given; loadsim " \
                                                  "capacity measures one: plan --from its folder, or a run's " \
                                                  "--capacity-from, reads it"
