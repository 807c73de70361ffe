"""Latency attribution (model.attribution and the summary's latency_split): numbers in, split out."""

from loadsim.model.attribution import rig_us, split
from loadsim.results.summary import latency_split, redis_execution
from tests.unit.test_results import WORKLOAD


def test_every_part_is_measured_and_what_none_explains_is_its_own_line():
    """Before: client was the residual (0 at p50 everywhere) and the network was scaled down to fit (82 under a
    PING of 140 us). Now nothing is forced: the network is commands x the round trip as measured, the client its
    CPU, and the rest is 'unexplained'."""
    p = split(latency_us=1000, service_us=600, commands=2, network_us=50, redis_us_per_command=10,
              before_send_us=380, client_us_per_command=100)
    assert p == {"total_us": 1000, "before_send_us": 380, "client_us": 200, "network_us": 100, "redis_us": 20,
                 "unexplained_us": 280}
    assert rig_us(p) == 880  # all but the network and Redis's execution
    # measured parts larger than the service time: nothing is scaled; the rest goes negative and says so
    q = split(latency_us=100, service_us=80, commands=2, network_us=60, redis_us_per_command=20,
              before_send_us=20, client_us_per_command=0)
    assert q["network_us"] == 120 and q["redis_us"] == 40 and q["unexplained_us"] == -80


def test_before_the_send_is_its_own_percentile_not_a_difference_of_two():
    """latency p99 - service p99 gave 'before the send' p99 32 below p50 34; the recorder's own histogram of it
    cannot."""
    assert split(500, 700, 1, 50, 10)["before_send_us"] == 0  # an older recorder: the difference, never negative
    assert split(500, 700, 1, 50, 10, before_send_us=35)["before_send_us"] == 35


def test_parts_not_measured_are_none_not_zero():
    p = split(900, 600, 1, None, None)
    assert p["network_us"] is None and p["redis_us"] is None and p["client_us"] is None
    assert p["unexplained_us"] == 600


CS0 = {"n1": {"set": {"calls": 0, "usec": 0}, "info": {"calls": 5, "usec": 500}}}
CS1 = {"n1": {"set": {"calls": 1000, "usec": 4000}, "del": {"calls": 1000, "usec": 2000},
              "info": {"calls": 20, "usec": 9000}}}


def test_redis_execution_comes_from_latencystats_weighted_by_calls_else_the_mean_and_says_which():
    lat = {"n1": {"set": {"p50": 4.0, "p99": 20.0, "p99.9": 40.0}, "del": {"p50": 2.0, "p99": 10.0}}}
    figures, source = redis_execution(CS0, CS1, lat)
    # p99.9 (the slowest of several commands reads it) weighted over the commands that report it
    assert figures == {"p50": 3.0, "p99": 15.0, "p999": 40.0} and source.startswith("INFO latencystats")
    figures, source = redis_execution(CS0, CS1, {})  # Redis < 7: no latencystats
    assert figures == {"p50": 3.0, "p99": 3.0, "p999": None} and "usec_per_call" in source and "Redis < 7" in source


def test_the_summary_split_uses_the_median_ping_the_models_commands_and_the_clients_cpu():
    ops = {"session.update": {"latency_us": {"count": 100, "p50": 400, "p99": 3000},
                              "service_us": {"count": 100, "p50": 300, "p99": 1000},
                              "before_send_us": {"count": 100, "p50": 90, "p99": 2500}},
           "session.prefill": {"latency_us": {"count": 0}, "service_us": {"count": 0}}}
    rows = [{"node": "n1", "role": "master", "elapsed_s": float(t), "ping_us": p}
            for t, p in enumerate((900, 60, 75, 70, None))]
    rows.append({"node": "n2", "role": "replica", "elapsed_s": 1.0, "ping_us": 10})  # replicas are not asked
    s = latency_split(ops, {**WORKLOAD, "complexity": {"name": "standard", "records": 1}}, rows, 0.0, CS0, CS1,
                      {"n1": {"set": {"p50": 4.0, "p99": 20.0}, "del": {"p50": 2.0, "p99": 10.0}}}, 40.0)
    assert s["network_us"] == 72.5 and list(s["operations"]) == ["session.update"]
    assert s["client_us_per_command"] == 40.0
    up = s["operations"]["session.update"]
    # half the standard preset's updates also rewrite the timers record: the median update is one SET, the p99 one
    # two (sizing counts it so: footprint.operation_variants, the one list)
    assert (up["commands_p50"], up["commands"]) == (1, 2)
    from loadsim.model import workload as wl
    from loadsim.results.summary import operation_variants

    per_op = operation_variants({**WORKLOAD, "complexity": {"name": "standard", "records": 2}})
    layout = wl.KeyLayout(WORKLOAD.get("key_layout", "per-session"), "x")
    # a recovery: the records and the timers read back, then the new owner (what the engine sends)
    assert per_op[wl.RECOVER] == ((2 + 1 + 1, 1.0),)
    assert per_op[wl.RECOVER][0][0] == len(wl.recovery_commands(layout, "1-1", 1, 1000, 2))
    assert up["p99"] == {"total_us": 3000, "before_send_us": 2500, "network_us": 145.0, "redis_us": 30.0,
                         "client_us": 80.0, "unexplained_us": 745.0}
    assert up["p50"]["network_us"] == 72.5 and up["p50"]["redis_us"] == 3.0
    for part in up["p50"]:  # no row has its p99 below its p50
        assert up["p99"][part] >= up["p50"][part], part


def test_the_split_and_sizing_count_an_operations_commands_on_one_list():
    """The run's split at p99 counts each operation's commands as sizing does (sizing.operation_commands), for every
    preset and layout; at p50 the median variant (an update without the timers record when most updates skip it)."""
    from dataclasses import replace

    from loadsim.model import sizing as sz
    from loadsim.model import workload as wl
    from loadsim.model.footprint import commands_at
    from loadsim.results.summary import PERCENTILE_Q, operation_variants

    for name in wl.PRESETS:
        for layout in ("per-session", "single-hash", "node-tag", "index"):
            d = replace(sz.Deployment(), complexity=name, key_layout=layout)
            variants = operation_variants({**WORKLOAD, "key_layout": layout, "complexity": {"name": name}})
            split = {kind: commands_at(v, PERCENTILE_Q["p99"]) for kind, v in variants.items()}
            assert split == dict(sz.operation_commands(d)), (name, layout)
            # and both are the lists the generator sends: an update with the timers record, a create with it
            assert split[wl.UPDATE] == len(wl.commands_for(wl.KeyLayout(layout, "x"), wl.UPDATE, "1-1", 1, b"s",
                                                           b"t", 1000, 1, 0))
            assert split[wl.CREATE] == len(wl.commands_for(wl.KeyLayout(layout, "x"), wl.CREATE, "1-1", 1, b"s",
                                                           b"t", 1000))
    # simple sessions: 30 % of updates rewrite the timers record: 1 command at p50, 2 at p99
    simple = operation_variants({**WORKLOAD, "complexity": {"name": "simple"}})[wl.UPDATE]
    assert simple == ((2, 0.3), (1, 0.7))
    assert [commands_at(simple, PERCENTILE_Q[q]) for q in ("p50", "p99")] == [1, 2]


def test_memory_calibrates_on_what_the_run_added_to_what_the_cluster_held():
    from loadsim.results.figures import used_memory_added
    from loadsim.results.summary import cluster_baseline

    per_master = {"a": {"keys": 185, "used_memory": 2_300_000, "data_bytes": 380_000, "prefix_keys": 185,
                        "prefix_complete": True},
                  "b": {"keys": 0, "used_memory": 1_900_000, "data_bytes": 0, "prefix_keys": 0,
                        "prefix_complete": True}, "c": {"error": "TimeoutError"}}
    b = cluster_baseline(per_master, "ORS:x")
    assert (b["keys"], b["data_bytes"], b["prefix_keys"], b["prefix_complete"]) == (185, 380_000, 185, True)
    masters = [{"used_memory_steady_mean": 2_700_000}, {"used_memory_steady_mean": 2_300_000}]
    assert used_memory_added({"masters": masters, "baseline": b}) == 4_620_000
    assert used_memory_added({"masters": masters}) == 5_000_000  # an older run: nothing recorded, nothing taken
    assert cluster_baseline({}, "ORS:x") is None
