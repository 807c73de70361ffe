"""Run classification (model.runclass) and how the summary feeds it: numbers in, class and evidence out."""

import json

from loadsim.model import runclass
from loadsim.model.runclass import (
    ACHIEVED_BELOW_OFFERED,
    CLEAN,
    FAULT,
    GENERATOR_CPU,
    HOST_CPU_PRESSURE,
    HOST_STEAL,
    NO_STEADY_STATE,
    REDIS_BOUND,
    RIG_BOUND,
    RIG_SHARE,
    SCHEDULE_LAG,
    FaultSeen,
    RunEvidence,
    advice,
    classify,
)
from loadsim.results import schema
from loadsim.results.recorder import Recorder
from loadsim.results.summary import build_summary
from loadsim.results.text import summary_table
from tests.unit.test_results import CLUSTER, WORKLOAD, _run

QUIET = dict(steady=True, generator_cpu_p90=40.0, schedule_lag_p99_us=800, offered_ops_per_s=100.0,
             achieved_ops_per_s=100.0, latency_p99_us=900.0, rig_p99_us=200.0, redis_p99_us=20.0,
             host={"cpu_pressure_percent": 3.0, "steal_percent": 0.0}, master_cpu_percent=4.0)


def test_a_quiet_run_is_clean_and_its_evidence_names_what_was_checked():
    rc = classify(RunEvidence(**QUIET))
    assert rc["class"] == CLEAN and rc["reasons"] == []
    assert rc["evidence"].startswith("clean: ") and "host CPU pressure 3 %" in rc["evidence"]
    assert "\n" not in rc["evidence"]


def test_each_rig_signal_alone_makes_a_run_rig_bound_with_advice():
    for change, reason in ((dict(generator_cpu_p90=97.0), "generator CPU p90 97 %"),
                           (dict(schedule_lag_p99_us=35_000), "schedule lag p99 35.0 ms"),
                           (dict(achieved_ops_per_s=80.0), "achieved 80 % of offered"),
                           (dict(rig_p99_us=800.0), "rig 89 % of p99"),
                           (dict(host={"cpu_pressure_percent": 60.0}), "host CPU pressure 60 %"),
                           (dict(host={"steal_percent": 20.0}), "steal 20 %"),
                           (dict(steady=False, backlog=1200), "no steady state (1,200 operations never drained)")):
        rc = classify(RunEvidence(**{**QUIET, **change}))
        assert rc["class"] == RIG_BOUND, change
        assert len(rc["reasons"]) == 1 and rc["reasons"][0].startswith(reason), rc
        assert len(rc["codes"]) == 1 and rc["evidence"].endswith(advice(rc["codes"]))
    # the advice names the cause found: the generator's CPU -> more processes; the host's pressure -> a quieter
    # machine, never "fewer HA pairs per process" for a generator at 5 % CPU
    assert "--processes" in advice([GENERATOR_CPU])
    assert "quieter machine" not in advice([GENERATOR_CPU])
    host = advice([RIG_SHARE, HOST_CPU_PRESSURE])
    assert "quieter machine" in host and "fewer HA pairs per process" not in host
    assert "quieter machine" in advice([HOST_STEAL])
    both = advice([SCHEDULE_LAG])  # host not measured busy: either may help
    assert "--processes" in both and "quieter machine" in both


def test_a_master_at_its_ceiling_is_redis_bound_even_when_the_generator_fell_behind():
    rc = classify(RunEvidence(**{**QUIET, "master_cpu_percent": 95.0, "achieved_ops_per_s": 70.0}))
    assert rc["class"] == REDIS_BOUND and rc["reasons"] == ["busiest master 95 % of a core"]
    rc = classify(RunEvidence(**{**QUIET, "redis_p99_us": 600.0}))
    assert rc["class"] == REDIS_BOUND and rc["reasons"][0].startswith("Redis execution 67 % of p99")


def test_figures_not_measured_are_said_so_never_taken_as_zero():
    rc = classify(RunEvidence(**{**QUIET, "host": {"cpu_pressure_percent": None, "steal_percent": None}}))
    assert rc["class"] == CLEAN and "host CPU pressure not measured" in rc["evidence"]


def test_the_summary_carries_run_class_exactly_as_documented():
    s = json.loads(json.dumps(_run()))
    assert set(s["run_class"]) == {"class", "evidence", "reasons", "codes"}
    assert s["run_class"]["class"] in runclass.CLASSES and isinstance(s["run_class"]["reasons"], list)
    assert s["run_class"]["codes"] == []  # no fault


def test_a_fault_comes_before_rig_bound_and_names_the_master_and_the_time():
    """A stopped master makes the schedule fall behind and most of p99 the time before the send: before, that run
    was RIG-BOUND ("use a quieter machine"); it is the fault's."""
    stopped = FaultSeen(runclass.MASTER_STOPPED, "127.0.0.1:7001", 3.0, "SIGSTOP, until after the end")
    rc = classify(RunEvidence(**{**QUIET, "rig_p99_us": 890.0, "achieved_ops_per_s": 20.0}, faults=(stopped,),
                              not_sent=352))
    assert rc["class"] == FAULT and rc["codes"] == ["master-stopped"]
    assert rc["reasons"] == ["master 127.0.0.1:7001 stopped (accepts connections, answers neither its clients nor "
                             "the cluster bus) from 3.0 s (SIGSTOP, until after the end)"]
    assert rc["evidence"].startswith("fault: master 127.0.0.1:7001 stopped")
    # what the fault moved is said beside it, never as the class
    assert "352 operations due never sent" in rc["evidence"] and "achieved 20 % of offered" in rc["evidence"]
    assert "quieter machine" not in rc["evidence"]
    # before a master at its ceiling too, and masters that met the same fault at once are one reason, in time order
    dead = [FaultSeen(runclass.MASTER_DEAD, f"127.0.0.1:700{i}", 8.0) for i in range(3)]
    rc = classify(RunEvidence(**{**QUIET, "master_cpu_percent": 95.0},
                              faults=(FaultSeen(runclass.CLUSTER_DOWN, None, 8.5), *dead)))
    assert rc["class"] == FAULT and rc["codes"] == ["master-dead", "cluster-down"]
    assert rc["reasons"][0] == "masters 127.0.0.1:7000, 127.0.0.1:7001, 127.0.0.1:7002 dead (refuses connections) " \
                               "from 8.0 s"
    assert rc["reasons"][1] == "cluster down from 8.5 s"


def _summary(client_rows, recorder=None, steady_from_s=2.0, seconds=12):
    rec = recorder or Recorder()
    if recorder is None:
        for i in range(10 * (seconds - 3)):
            rec.record("session.update", 100 + i, 150 + i, 2)
        rec.offered = 10 * (seconds - 3)
    nodes = [{"node": "127.0.0.1:7000", "role": "master", "elapsed_s": float(t), "used_memory": 1_000_000,
              "used_memory_rss": 2_000_000, "keys": 50, "connected_clients": 9, "used_cpu_sys": 0.01 * t,
              "used_cpu_user": 0.0, "total_commands_processed": 21 * t} for t in range(seconds)]
    cs = {"127.0.0.1:7000": {"set": {"calls": 0}}}
    return build_summary(scenario="t", started=1000.0, ended=1000.0 + seconds, steady_from_s=steady_from_s,
                         workload=WORKLOAD, cluster=CLUSTER, recorder=rec, client_rows=client_rows, node_rows=nodes,
                         commandstats_start=cs, commandstats_end={"127.0.0.1:7000": {"set": {"calls": rec.commands}}},
                         client_cpu_s=0.5, recovery=[], interrupted=False)


def _rows(seconds=12, cpu=10.0, pressure=2.0, queue=0):
    return [{"elapsed_s": float(t), "live_sessions": 100, "generator_cpu_percent": cpu, "generator_cpu_s": 0.01 * t,
             "commands_total": 20 * t, "generator_rss_bytes": 1000, "queue_depth": queue,
             "host_cpu_pressure_percent": pressure, "host_steal_percent": 0.0} for t in range(seconds)]


def test_host_pressure_in_the_client_series_makes_the_run_rig_bound_and_its_text_says_so_first():
    quiet, busy = _summary(_rows()), _summary(_rows(pressure=70.0))
    assert quiet["run_class"]["class"] == CLEAN and quiet["host"]["cpu_pressure_percent"] == 2.0
    assert busy["run_class"]["class"] == RIG_BOUND and busy["host"]["cpu_pressure_percent_max"] == 70.0
    first = summary_table(busy).splitlines()[0]
    assert first.startswith("RIG-BOUND: host CPU pressure 70 %") and "quieter machine" in first
    assert not summary_table(quiet).splitlines()[0].startswith(("RIG", "REDIS"))
    # the flags agree with the headline: never "flags: none" under RIG-BOUND
    flags = [line for line in summary_table(busy).splitlines() if line.startswith("flags:")]
    assert flags and all(line != "flags: none" and "RIG-BOUND" in line for line in flags), flags


def test_a_saturated_run_without_steady_state_reports_the_whole_run_never_zeros():
    rec = Recorder()
    rec.record_histograms = False  # the statistics never started: the backlog never drained
    for _ in range(600):
        rec.record("session.update", 100, 150, 2)
    rows = _rows(cpu=99.0, queue=4000)
    rows[-1]["queue_depth"] = 0  # the last sample follows the pairs' stop: their queues were dropped
    s = _summary(rows, recorder=rec, steady_from_s=None)
    r, c = s["rates"], s["client"]
    assert s["flags"]["no_steady_state"] and r["offered_ops_per_s"] == 0.0
    assert r["whole_run_achieved_ops_per_s"] == 50.0  # 600 operations in 12 s
    assert r["whole_run_offered_ops_per_s"] == round((600 + 4000) / 12, 2) and r["backlog_at_end"] == 4000
    assert c["cpu_us_per_command"] == round(0.5 * 1e6 / 1200, 2) and c["median_cpu_percent"] == 99.0
    assert s["run_class"]["class"] == RIG_BOUND
    assert s["run_class"]["reasons"][0] == "no steady state (4,000 operations never drained)"
    text = summary_table(s)
    assert "NO STEADY STATE" in text and "4,000 operations never drained" in text and "generator was the limit" in text
    assert "0.0 us CPU/command" not in text


def test_an_older_summary_is_classified_from_its_flags():
    old = {k: v for k, v in _run().items() if k not in ("run_class", "host")}
    old.update(schema_version=1, flags={**old["flags"], "schedule_fell_behind": True})
    old["schedule_lag_us"] = {**old["schedule_lag_us"], "p99": 40_000}
    up = schema.upgrade(old)
    assert up["run_class"]["class"] == RIG_BOUND and "older summary" in up["run_class"]["evidence"]


def test_the_generator_is_the_limit_only_when_its_own_figures_say_so():
    from loadsim.model.runclass import generator_limited

    assert generator_limited([GENERATOR_CPU])
    assert generator_limited([NO_STEADY_STATE])
    assert generator_limited([ACHIEVED_BELOW_OFFERED])  # on a host that was not busy
    assert not generator_limited([ACHIEVED_BELOW_OFFERED, HOST_CPU_PRESSURE])  # the host's doing
    assert not generator_limited([SCHEDULE_LAG, HOST_CPU_PRESSURE])
    assert not generator_limited([NO_STEADY_STATE, HOST_CPU_PRESSURE])  # the host starved it
    assert generator_limited([NO_STEADY_STATE, GENERATOR_CPU, HOST_CPU_PRESSURE])


def test_the_rig_share_counts_the_generators_own_time_once_the_network_is_measured():
    """A run at 1-2 % master CPU with p99 4.4 ms of which Redis is 0 % was 'clean' while only the time before the
    send counted as the rig's: the client's own time (the generator's CPU and wake-ups) is the rig's too."""
    from loadsim.results.figures import run_evidence

    operations = {"session.update": {"latency_us": {"count": 1000, "p99": 4400.0},
                                     "service_us": {"count": 1000, "p99": 4000.0}}}
    part = {"total_us": 4400.0, "before_send_us": 400.0, "client_us": 3900.0, "network_us": 95.0, "redis_us": 5.0}
    args = dict(lag_p99_us=300.0, masters=[{"cpu_s_steady": 0.2, "steady_s": 10.0}], steady=True,
                generator_cpu_p90=30.0, offered=100.0, achieved=100.0,
                host={"cpu_pressure_percent": 2.0, "steal_percent": 0.0}, backlog=0)
    before_only = run_evidence(operations, **args)
    assert before_only.rig_p99_us == 400.0 and classify(before_only)["class"] == CLEAN
    with_split = run_evidence(operations, split={"operations": {"session.update": {"p99": part}}}, **args)
    assert with_split.rig_p99_us == 4300.0  # all but the network (95) and Redis (5)
    rc = classify(with_split)
    assert rc["class"] == RIG_BOUND and "rig 98 % of p99 4.4 ms" in rc["reasons"]
    # the network not measured: the client's time cannot be told from the network's, only before the send counts
    no_net = run_evidence(operations, split={"operations": {"session.update": {"p99": {**part, "network_us": None}}}},
                          **args)
    assert no_net.rig_p99_us == 400.0


def test_host_memory_pressure_is_a_rig_bound_reason_from_the_series_to_the_runs_first_line():
    """The reason added as two rows (results.host.HOST_FIGURES, model.runclass.CHECKS): the per-second column, the
    summary's host figures and their schema, the class, its code, the first line of the run's text and the advice
    follow without a line of their own."""
    from loadsim.results.host import HostCounters

    assert "host_memory_pressure_percent" in schema.CLIENT_COLUMNS
    assert "memory_pressure_percent" in schema.HostFigures.__annotations__
    assert "host_memory_pressure_percent" in HostCounters().sample()  # a real reading: a share, or None without PSI
    rows = [{**r, "host_memory_pressure_percent": 40.0} for r in _rows()]
    busy, quiet = _summary(rows), _summary([{**r, "host_memory_pressure_percent": 0.0} for r in _rows()])
    assert busy["host"]["memory_pressure_percent"] == 40.0 and busy["host"]["memory_pressure_percent_max"] == 40.0
    assert busy["run_class"]["class"] == RIG_BOUND and busy["run_class"]["codes"] == [runclass.HOST_MEMORY_PRESSURE]
    first = summary_table(busy).splitlines()[0]
    assert first.startswith("RIG-BOUND: host memory pressure 40 %") and first.endswith(runclass.HOST_ADVICE)
    assert quiet["run_class"]["class"] == CLEAN and "host memory pressure 0 %" in quiet["run_class"]["evidence"]
    # a kernel without it: not measured, never a zero, not in the evidence
    unknown = classify(RunEvidence(**QUIET))
    assert unknown["class"] == CLEAN and "memory pressure" not in unknown["evidence"]


def test_the_closure_gate_reads_every_host_figures_busiest_second():
    """runclass.quiet_host: quiet only when every host figure's busiest second is at most QUIET_HOST_PERCENT, said
    with the figures; a burst in one second (its mean low) is busy; a figure not measured is not taken as quiet."""
    quiet = {"cpu_pressure_percent": 1.3, "cpu_pressure_percent_max": 1.6, "steal_percent": 0.0,
             "steal_percent_max": 0.5, "io_pressure_percent": 0.1, "io_pressure_percent_max": 0.8}
    ok, why = runclass.quiet_host(quiet)
    assert ok and why.startswith("host quiet: busiest second cpu pressure 1.6 %") and "io pressure 0.8 %" in why
    burst = {**quiet, "io_pressure_percent": 2.0, "io_pressure_percent_max": 28.4}  # a copy beside the run
    ok, why = runclass.quiet_host(burst)
    assert not ok and why.startswith("host busy: busiest second over 3 % on io pressure 28.4 %")
    at = {**quiet, "cpu_pressure_percent_max": runclass.QUIET_HOST_PERCENT}
    assert runclass.quiet_host(at)[0] and not runclass.quiet_host({**at, "cpu_pressure_percent_max": 3.1})[0]
    assert runclass.quiet_host({**quiet, "io_pressure_percent_max": None}) == (
        False, "host contention not measured (io_pressure_percent)")
    assert runclass.quiet_host(None) == (False, "host contention not measured")
    assert runclass.quiet_host({}) == (False, "host contention not measured")


def test_the_series_records_disk_pressure_for_the_gate():
    from loadsim.results.host import HostCounters

    assert "host_io_pressure_percent" in schema.CLIENT_COLUMNS
    assert "io_pressure_percent_max" in schema.HostFigures.__annotations__
    assert "host_io_pressure_percent" in HostCounters().sample()  # a real reading: a share, or None without PSI
