"""loadsim capacity without Redis: input refused before anything starts, the command mix, the arithmetic."""

import pytest
from redis.crc import key_slot

from loadsim import cli
from loadsim.errors import ExperimentError
from loadsim.experiments.capacity import (
    CapacityPlan,
    capacity_summary,
    combine,
    curve_line,
    hash_tag_for,
    model_mix,
    parse_bench_csv,
    stop_reason,
)


@pytest.mark.parametrize("argv, says", [
    (["--steps", "4,2"], "--steps 4,2: give strictly increasing HA pair counts"),
    (["--steps", "1,1"], "--steps 1,1: give strictly increasing HA pair counts (no repeats)"),
    (["--steps", "0"], "--steps 0"),
    (["--step-time", "soon"], "--step-time soon"),
    (["--slo-p99-us", "0"], "--latency-slo-p99-us 0"),
    (["--latency-slo-p99-us", "nan"], "--latency-slo-p99-us nan"),
    (["--redis-benchmark", "/nonexistent/redis-benchmark"], "redis-benchmark not found at /nonexistent"),
    (["--cpu-ceiling", "150"], "--cpu-ceiling 150: give a percentage of one core from 1 to 100"),
    (["--cpu-ceiling", "1"], "--cpu-ceiling 1 is ambiguous: 1 % or 100 % of one core? Write 100 (or 1%)"),
    (["--stop-at-cpu", "150"], "--stop-at-cpu 150: give a percentage of one core from 1 to 100"),
    (["--stop-at-cpu", "1"], "--stop-at-cpu 1 is ambiguous"),
    (["--stop-at-cpu", "70", "--cpu-ceiling", "70"], "--cpu-ceiling is the old name of --stop-at-cpu"),
    (["--masters", "2"], "--masters: 2 is out of range; give a number from 3 to 64"),
    (["--cps-per-pair", "-1"], "--cps-per-pair -1: give calls per second per HA pair from 0.0001"),
    (["--complexity", "huge"], "--complexity huge"),
    (["--", "-u", "5"], "'-u' after '--'"),
    (["--concurrency", "2,4"], "--concurrency 2,4: give increasing connection counts starting at 1"),
    (["--concurrency", "1,4,2"], "--concurrency 1,4,2: give increasing connection counts"),
    (["--concurrency", "1,x"], "--concurrency: '1,x' is not a comma-separated list; e.g. --concurrency 1,2,4,8"),
    (["--curve-requests", "5"], "--curve-requests 5: give 100..10000000"),
    (["--memtier", "/nonexistent/memtier_benchmark"], "no memtier_benchmark there"),
    (["--memtier", "/bin/false"], "not a working memtier_benchmark"),
])
def test_bad_input_is_one_line_before_anything_starts(argv, says, capsys, tmp_path):
    out = tmp_path / "cap"
    assert cli.main(["capacity", "--out", str(out), *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("loadsim: error: ") and says in err and "\n" not in err
    assert not out.exists()  # nothing started


def test_the_mix_is_one_session_life_in_the_key_layout():
    mix = model_mix({"key_layout": "per-session", "writes_per_session": 8, "records_per_session": 1})
    # create: SET session + SET owner; 6 updates: SET session; delete: DEL session, timers, owner
    assert mix == {"set": round(7 / 11, 4), "set owner": round(1 / 11, 4), "del": round(3 / 11, 4)}
    index = model_mix({"key_layout": "index", "writes_per_session": 8})
    assert index["hset"] == index["hdel"] and "set owner" not in index
    assert abs(sum(mix.values()) - 1) < 1e-3


def test_a_hash_tag_lands_in_the_masters_slots():
    for ranges in ([(0, 5460)], [(5461, 10922)], [(10923, 16383)], [(100, 100)]):
        tag = hash_tag_for(ranges)
        assert any(a <= key_slot(tag.encode()) <= b for a, b in ranges)


def test_the_mix_rate_is_the_share_weighted_cost_of_its_commands():
    per = {"set": {"rps": 10_000.0, "server_us_per_command": 20.0}, "del": {"rps": 40_000.0,
                                                                          "server_us_per_command": 10.0}}
    out = combine(per, {"set": 0.5, "del": 0.5})
    assert out["commands_per_s"] == 16_000.0  # 1 / (0.5/10k + 0.5/40k)
    assert out["server_us_per_command"] == 15.0 and out["cpu_capacity_commands_per_s"] == round(1e6 / 15, 1)


def test_redis_benchmark_csv_is_read():
    text = ('"test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms",'
            '"max_latency_ms"\n"DEL {m1}:s:__rand_int__","7530.12","4.990","0.208","3.487","13.327","19.135",'
            '"63.263"\n')
    assert parse_bench_csv(text)["rps"] == 7530.12 and parse_bench_csv(text)["p99_latency_ms"] == 19.135
    with pytest.raises(ExperimentError, match="no result"):
        parse_bench_csv("")


def _step(per_master, p99, cls="clean", cpu=10.0, generator=False):
    return {"commands_per_s_busiest_master": per_master, "p99_us": p99, "run_class": cls,
            "busiest_master_cpu_percent": cpu, "generator_bound": generator}


def test_stepping_stops_at_the_ceiling_the_generator_or_the_slo_but_not_for_a_busy_host():
    assert stop_reason(_step(1000, 900, cpu=85.0), 5000, 80) == "cpu-ceiling"
    assert stop_reason(_step(1000, 900, "rig-bound", generator=True), 5000, 80) == "generator"
    assert stop_reason(_step(1000, 9000), 5000, 80) == "slo"
    assert stop_reason(_step(1000, 9000, "rig-bound"), 5000, 80) is None  # the host's p99: go on
    assert stop_reason(_step(1000, 900), 5000, 80) is None


def test_the_answer_uses_only_clean_steps_within_the_slo():
    steps = [_step(100, 900), _step(400, 1200), _step(800, 900, "rig-bound"), _step(1600, 7000)]
    c = capacity_summary(steps, "slo", {"commands_per_s": 30_000.0, "server_us_per_command": 13.0,
                                        "cpu_capacity_commands_per_s": 76_923.1}, 5000)
    assert c["commands_per_s_per_master_at_slo"] == 400 and not c["at_slo_is_lower_bound"]
    assert c["stopped_at_commands_per_s_per_master"] == 1600 and c["rig_bound_steps"] == 1
    assert c["server_us_per_command_at_saturation"] == 13.0


def test_the_plan_validates_itself():
    CapacityPlan().validate()  # the defaults are valid (redis-benchmark is installed with redis-tools)


def _level(clients, utilisation, wait, used=True, driver=False, host=False):
    return {"clients": clients, "utilisation": utilisation, "wait_p99_us": wait, "used": used,
            "driver_bound": driver, "host_bound": host}


def test_the_curve_line_says_what_was_measured_and_what_was_left_off():
    curve = {"driver": "redis-benchmark", "unloaded_p99_us": 61.0, "measured_up_to_utilisation": 0.62,
             "levels": [_level(1, 0.26, 0.0), _level(2, 0.41, 22.0), _level(4, 0.62, 71.0),
                        _level(8, 0.7, 90.0, False, driver=True)],
             "points": [[0.26, 0.0], [0.41, 22.0], [0.62, 71.0]], "driver_bound_levels": 1, "host_bound_levels": 0}
    line = curve_line(curve)
    assert "26 % 0 us, 41 % 22 us, 62 % 71 us" in line
    assert "kept levels up to 4 connections and 62 % of a core: plan reads it for questions within both" in line
    assert "1 level left off (the driver bound first)" in line and "1..8 connections" in line
    busy = {**curve, "points": [], "measured_up_to_utilisation": None, "driver_bound_levels": 0,
            "host_bound_levels": 4}
    assert "no level measured Redis's own queueing; 4 levels left off (the machine delayed Redis" in curve_line(busy)
    assert "M/M/1 assumption" in curve_line(busy)
