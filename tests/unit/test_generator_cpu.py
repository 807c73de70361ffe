"""The generator CPU per command is net of the generator processes' own idle CPU, one figure on every surface; the
utilisation (the saturation signal) stays gross."""

from loadsim.results.recorder import Recorder
from loadsim.results.summary import build_summary, generator_cpu_per_command
from loadsim.results.text import summary_table
from tests.unit.test_results import CLUSTER, WORKLOAD

SECONDS = 12


def _summary(generator_idle):
    rec = Recorder()
    for i in range(10 * (SECONDS - 3)):
        rec.record("session.update", 100 + i, 150 + i, 2)
    rec.offered = 10 * (SECONDS - 3)
    # 1 % of a core (0.01 s a second) for 20 commands a second: 500 µs per command gross
    rows = [{"elapsed_s": float(t), "live_sessions": 100, "generator_cpu_percent": 1.0, "generator_cpu_s": 0.01 * t,
             "commands_total": 20 * t, "generator_rss_bytes": 1000, "queue_depth": 0,
             "host_cpu_pressure_percent": 2.0, "host_steal_percent": 0.0} for t in range(SECONDS)]
    nodes = [{"node": "127.0.0.1:7000", "role": "master", "elapsed_s": float(t), "used_memory": 1_000_000,
              "used_memory_rss": 2_000_000, "keys": 50, "connected_clients": 9, "used_cpu_sys": 0.01 * t,
              "used_cpu_user": 0.0, "total_commands_processed": 21 * t} for t in range(SECONDS)]
    return build_summary(scenario="t", started=1000.0, ended=1000.0 + SECONDS, steady_from_s=2.0, workload=WORKLOAD,
                         cluster=CLUSTER, recorder=rec, client_rows=rows, node_rows=nodes,
                         commandstats_start={"127.0.0.1:7000": {"set": {"calls": 0}}},
                         commandstats_end={"127.0.0.1:7000": {"set": {"calls": rec.commands}}},
                         client_cpu_s=0.12, recovery=[], interrupted=False, generator_idle=generator_idle)


def _worker(share):
    return {"share": share, "window_s": 1.5, "source": "a Locust worker, waiting for its test"}


def test_the_generator_cpu_per_command_is_net_of_each_processs_idle_cpu_on_every_surface():
    s = _summary([_worker(0.002), _worker(0.002)])
    c = s["client"]
    # (0.01 - 2 x 0.002) s a second over 20 commands: 300 µs; 500 with the idle CPU
    assert (c["cpu_us_per_command"], c["cpu_us_per_command_gross"]) == (300.0, 500.0)
    assert c["idle_cpu"]["share"] == 0.004 and (c["idle_cpu"]["processes"], c["idle_cpu"]["measured"]) == (2, 2)
    assert "before its load" in c["idle_cpu"]["source"]
    # the latency split's client part and the run text read the same figure
    assert s["latency_split"]["client_us_per_command"] == c["cpu_us_per_command"]
    text = summary_table(s)
    assert "generator: 300.0 us CPU/command net of its idle 0.40 % of a core (500.0 gross)" in text
    assert "client = commands x its CPU 300 us" in text
    # the utilisation stays gross: the saturation signal is what the process used
    assert c["median_cpu_percent"] == 1.0 and "generator CPU p90 1 %" in s["run_class"]["evidence"]


def test_a_process_whose_idle_cpu_was_not_measured_is_counted_gross_and_said():
    c = _summary([_worker(0.002), None])["client"]
    assert c["cpu_us_per_command"] == 400.0 and c["idle_cpu"]["measured"] == 1
    assert "net of its idle 0.20 % of a core in 1 of 2 processes (500.0 gross)" in summary_table(_summary(
        [_worker(0.002), None]))
    none = _summary(None)
    assert none["client"]["cpu_us_per_command"] == none["client"]["cpu_us_per_command_gross"] == 500.0
    assert "idle_cpu" not in none["client"]
    assert "500.0 us CPU/command (idle CPU not measured: gross)" in summary_table(none)


def test_net_cpu_per_command_takes_the_idle_share_over_the_same_seconds_and_never_goes_below_zero():
    assert generator_cpu_per_command(1.0, 10.0, 10_000) == 100.0
    assert generator_cpu_per_command(1.0, 10.0, 10_000, idle_share=0.02) == 80.0
    assert generator_cpu_per_command(0.1, 10.0, 10_000, idle_share=0.02) == 0.0
    assert generator_cpu_per_command(1.0, 10.0, 0) == 0.0
