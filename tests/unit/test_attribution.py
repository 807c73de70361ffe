"""Latency attribution (model.attribution and the summary's latency_split): numbers in, split out."""

from loadsim.model.attribution import rig_us, split
from loadsim.results.summary import latency_split, redis_execution
from tests.unit.test_results import WORKLOAD


def test_the_parts_add_up_to_the_total_and_none_is_negative():
    p = split(latency_us=1000, service_us=600, commands=2, network_us=50, redis_us_per_command=10)
    assert p == {"total_us": 1000, "before_send_us": 400, "client_us": 480, "network_us": 100, "redis_us": 20}
    assert p["before_send_us"] + p["client_us"] + p["network_us"] + p["redis_us"] == p["total_us"]
    assert rig_us(p) == 880
    # percentiles need not subtract: service above latency gives 0 before the send, never a negative
    assert split(500, 700, 1, 50, 10)["before_send_us"] == 0


def test_measured_parts_larger_than_the_service_time_are_shared_out():
    p = split(latency_us=100, service_us=80, commands=2, network_us=60, redis_us_per_command=20)
    assert p["client_us"] == 0 and p["network_us"] + p["redis_us"] == 80 and p["network_us"] == 60


def test_parts_not_measured_are_none_not_zero():
    p = split(900, 600, 1, None, None)
    assert p["network_us"] is None and p["redis_us"] is None and p["client_us"] == 600


CS0 = {"n1": {"set": {"calls": 0, "usec": 0}, "info": {"calls": 5, "usec": 500}}}
CS1 = {"n1": {"set": {"calls": 1000, "usec": 4000}, "del": {"calls": 1000, "usec": 2000},
              "info": {"calls": 20, "usec": 9000}}}


def test_redis_execution_comes_from_latencystats_weighted_by_calls_else_the_mean_and_says_which():
    lat = {"n1": {"set": {"p50": 4.0, "p99": 20.0, "p99.9": 40.0}, "del": {"p50": 2.0, "p99": 10.0}}}
    figures, source = redis_execution(CS0, CS1, lat)
    assert figures == {"p50": 3.0, "p99": 15.0} and source.startswith("INFO latencystats")
    figures, source = redis_execution(CS0, CS1, {})  # Redis < 7: no latencystats
    assert figures == {"p50": 3.0, "p99": 3.0} and "usec_per_call" in source and "Redis < 7" in source


def test_the_summary_split_uses_the_fastest_ping_and_the_models_commands():
    ops = {"session.update": {"latency_us": {"count": 100, "p50": 400, "p99": 3000},
                              "service_us": {"count": 100, "p50": 300, "p99": 1000}},
           "session.prefill": {"latency_us": {"count": 0}, "service_us": {"count": 0}}}
    rows = [{"node": "n1", "role": "master", "elapsed_s": float(t), "ping_us": p} for t, p in enumerate((900, 60, 75))]
    rows.append({"node": "n2", "role": "replica", "elapsed_s": 1.0, "ping_us": 10})  # replicas are not asked
    s = latency_split(ops, {**WORKLOAD, "complexity": {"name": "standard", "records": 1}}, rows, 0.0, CS0, CS1,
                      {"n1": {"set": {"p50": 4.0, "p99": 20.0}, "del": {"p50": 2.0, "p99": 10.0}}})
    assert s["network_us"] == 60 and list(s["operations"]) == ["session.update"]
    up = s["operations"]["session.update"]
    assert up["commands"] == 1  # an update writes the session record: one SET
    assert up["p99"] == {"total_us": 3000, "before_send_us": 2000, "network_us": 60, "redis_us": 15.0,
                         "client_us": 925.0}
