"""The unit costs (loadsim.model.unitcosts) on synthetic runs with known answers."""

from dataclasses import replace

import pytest

from loadsim.model import sizing as sz
from loadsim.model import unitcosts as uc
from loadsim.model import workload as wl


def _sample(commands, bytes_per_command, idle=0.004, per_command=12e-6, per_byte=3e-9, seconds=30.0, tls=False,
            measured_idle=True, base=None):
    base = idle if base is None else base
    cpu = base * seconds + per_command * commands + per_byte * commands * bytes_per_command
    return uc.CpuSample(f"r{commands}-{bytes_per_command}", tls, cpu, seconds, commands,
                        commands * bytes_per_command, idle if measured_idle else None)


def test_runs_at_two_rates_fit_a_busy_masters_base_apart_from_its_commands():
    """A master's CPU is a line in its command rate whose intercept is above the idle share measured before the
    load (wake-ups at a few hundred commands/s cost more than the commands): runs at 1 and 3 HA pairs fit it, so a
    run at the 1-pair rate is predicted from both, not from a per-command figure pooled over the busier run."""
    truth = dict(idle=0.0015, base=0.006, per_command=33e-6, per_byte=0.4e-9)
    one, three = _sample(140 * 15, 2000, seconds=15.0, **truth), _sample(414 * 15, 2000, seconds=15.0, **truth)
    arm = uc.fit_cpu([one, three], tls=False)
    assert arm.base.value == pytest.approx(0.006) and arm.base.source == uc.FITTED and "intercept" in arm.base.basis
    assert arm.per_command.value == pytest.approx(33e-6)
    check = _sample(160 * 15, 8600, seconds=15.0, **truth)  # a complex run near the 1-pair rate
    assert arm.seconds(check.master_seconds, check.commands, check.bytes_in) == pytest.approx(check.cpu_s)
    pooled = uc.fit_cpu([one, three], tls=False)  # what charging the busy base per command would predict instead
    rest = sum(s.cpu_s - 0.0015 * s.master_seconds - 0.4e-9 * s.bytes_in for s in (one, three))
    pooled = 0.0015 * check.master_seconds + rest / (one.commands + three.commands) * check.commands \
        + 0.4e-9 * check.bytes_in
    assert pooled / check.cpu_s - 1 < -0.05
    # the utilisation the question asks about is the same line at its own rate
    assert arm.utilisation(1000, 1000 * 2000) == pytest.approx(0.006 + 1000 * 33e-6 + 1000 * 2000 * 0.4e-9)


def test_two_runs_at_other_rates_and_sizes_fit_the_line_and_keep_the_per_byte_reference():
    truth = dict(idle=0.0015, base=0.006, per_command=33e-6, per_byte=uc.REFERENCE_PLAIN.per_byte.value)
    arm = uc.fit_cpu([_sample(140 * 15, 2000, seconds=15.0, **truth), _sample(414 * 15, 8600, seconds=15.0, **truth)],
                     tls=False)
    assert arm.per_byte.source == uc.REFERENCE and arm.base.value == pytest.approx(0.006)
    assert arm.per_command.value == pytest.approx(33e-6)


def test_runs_whose_line_falls_below_the_idle_share_keep_it_and_pool_the_commands():
    # an intercept below what the idle master measured is noise, not a cheaper busy master
    runs = [_sample(3000, 2000, base=0.001), _sample(9000, 2000, base=0.001, per_command=13e-6)]
    arm = uc.fit_cpu(runs, tls=False)
    assert arm.base.value == pytest.approx(0.004) and "idle" in arm.base.basis
    assert arm.per_command.source == uc.FITTED and "less the idle CPU" in arm.per_command.basis
    # runs at one rate cannot draw the line: the idle share and the pooled commands
    same = uc.fit_cpu([_sample(3000, 2000, base=0.006), _sample(3100, 2000, base=0.006)], tls=False)
    assert same.base.value == pytest.approx(0.004) and "idle" in same.base.basis


def test_runs_of_two_record_sizes_separate_the_idle_cpu_the_command_and_its_bytes():
    runs = [_sample(3000, 2000), _sample(9000, 2000), _sample(3000, 8600)]
    arm = uc.fit_cpu(runs, tls=False)
    assert arm.base.value == pytest.approx(0.004) and arm.base.source == uc.FITTED
    assert arm.per_byte.value == pytest.approx(3e-9) and arm.per_byte.source == uc.FITTED
    assert arm.per_command.value == pytest.approx(12e-6) and arm.per_command.source == uc.FITTED
    # the per-run ratio a run prints (idle included) is not the unit cost: at 100 commands/s the idle master's
    # 0.4 % of a core is 40 µs per command
    whole = runs[0].cpu_s / runs[0].commands
    assert whole > 2 * arm.service_s(2000)
    # the complex run is predicted from costs fitted on the standard runs with the per-byte reference value
    standard = uc.fit_cpu(runs[:2], tls=False)
    assert standard.per_byte.source == uc.REFERENCE  # one record size cannot separate command from bytes
    predicted = standard.seconds(runs[2].master_seconds, runs[2].commands, runs[2].bytes_in)
    ref = uc.REFERENCE_PLAIN.per_byte.value
    assert predicted == pytest.approx(runs[2].cpu_s + (ref - 3e-9) * 3000 * (8600 - 2000), rel=1e-6)


def test_plain_and_tls_runs_fit_their_own_arm_and_an_arm_without_runs_keeps_the_reference():
    runs = [_sample(3000, 2000), _sample(9000, 2000), _sample(3000, 2000, per_command=20e-6, tls=True)]
    plain, tls = uc.fit_cpu(runs, tls=False), uc.fit_cpu(runs, tls=True)
    assert plain.per_command.value == pytest.approx(12e-6 + (3e-9 - uc.REFERENCE_PLAIN.per_byte.value) * 2000)
    assert tls.per_command.value > plain.per_command.value
    assert uc.fit_cpu(runs[:2], tls=True) == uc.REFERENCE_TLS
    # without an idle measurement (runs from before it was kept) the reference idle share is taken apart
    old = uc.fit_cpu([_sample(3000, 2000, measured_idle=False)], tls=False)
    assert old.base == uc.REFERENCE_PLAIN.base


def test_a_capacity_measurement_sets_the_level_and_keeps_the_shape():
    arm = uc.fit_cpu([_sample(3000, 2000), _sample(3000, 8600)], tls=False)
    cap = uc.from_capacity(arm, 7.9, 2300.0, "capacity.json")
    # a command of the capacity mix's size costs exactly the capacity's figure; bigger ones more, in proportion
    assert cap.service_s(2300.0) == pytest.approx(7.9e-6)
    assert cap.service_s(8600) / cap.service_s(2300) == pytest.approx(arm.service_s(8600) / arm.service_s(2300))
    assert cap.per_command.source == cap.per_byte.source == uc.CAPACITY and cap.base == arm.base
    assert cap.source == uc.CAPACITY  # the strongest of its figures
    # an older capacity.json without its bytes sets the per-command term alone
    assert uc.from_capacity(arm, 7.9, None, "x").per_command.value == pytest.approx(7.9e-6)


def test_bytes_per_command_is_what_the_sessions_put_on_the_wire():
    assert uc.request_bytes(("SET", "k", b"vv")) == len(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\nvv\r\n")
    standard = uc.bytes_per_command(wl.WorkloadParams(complexity=wl.PRESETS["standard"]))
    complex_ = uc.bytes_per_command(wl.WorkloadParams(complexity=wl.PRESETS["complex"]))
    # measured here (total_net_input_bytes over steady windows): 2,030 .. 2,054 B and 8,598 .. 8,678 B
    assert 1950 < standard < 2150 and 8300 < complex_ < 9100


def test_the_prediction_charges_bytes_and_prints_the_figure_it_uses_with_its_source():
    costs = sz.DEFAULT_COSTS
    small = sz.predict(sz.Deployment(complexity="standard"), costs)
    big = sz.predict(sz.Deployment(complexity="complex", cps_per_pair=5 * 6 / 12), costs)
    per_cmd_small = (small.cpu_utilisation - costs.base_cpu_per_master) / (small.commands_per_s / 3)
    per_cmd_big = (big.cpu_utilisation - costs.base_cpu_per_master) / (big.commands_per_s / 3)
    # 4x the bytes per command: the difference is the per-byte figure's
    assert per_cmd_big - per_cmd_small == pytest.approx(
        costs.cpu_s_per_byte * (big.bytes_per_command - small.bytes_per_command), rel=0.02)
    assert per_cmd_big > per_cmd_small * 1.05
    # the question has a replica per master, the reference values none: the prediction's costs carry its propagation
    assert per_cmd_small == pytest.approx(small.costs.service_s(small.bytes_per_command), rel=0.02)
    line = small.cpu_line
    assert f"{small.costs.service_s(small.bytes_per_command) * 1e6:.1f} µs per command" in line
    assert "incl. +5.6 µs for 1 replica more than measured" in line
    assert "(reference value)" in line and line in sz.verdict(sz.Deployment(), costs, with_envelope=False).text()
    # every figure of the table carries its source
    rows = costs.rows(small.bytes_per_command)
    assert {r["source"] for r in rows} == {"reference value"} and all(r["basis"] for r in rows)


def _run_without_replicas(replicas: int = 0) -> sz.MeasuredRun:
    """A standard run whose steady window costs 20 µs per command at 2,054 B (no idle share: it all goes to the
    commands), on a cluster with ``replicas`` per master."""
    w = wl.WorkloadParams(complexity=wl.PRESETS["standard"])
    commands = 100_000.0
    return sz.MeasuredRun(name=f"r{replicas}", run_class="clean", evidence="", tls=False, ha_pairs=3, masters=3,
                          live_sessions=1000.0, used_memory=10e6, cpu_s=commands * 20e-6, master_seconds=300.0,
                          commands=commands, operations_steady=commands / 2.25, cpu_us_per_command=20.0, workload=w,
                          bytes_in=commands * uc.bytes_per_command(w), replicas=replicas)


def test_a_replica_adds_the_reference_propagation_cost_per_write_command():
    """Runs without replicas, a question with one per master: the CPU per command rises by the reference cost per
    write per replica (memtier: 17.4 against 23.0 µs) times the write share; at the runs' own replicas it is
    unchanged, and with runs at one replica a question without removes it. The CPU line says so."""
    assert uc.REPLICA_WRITE.value == pytest.approx(5.6e-6) and uc.REPLICA_WRITE.source == uc.REFERENCE
    assert "17.4" in uc.REPLICA_WRITE.basis and "23.0" in uc.REPLICA_WRITE.basis
    writes = uc.write_share(wl.WorkloadParams())
    assert writes == 1.0  # ORS's persistence only writes (SET, HSET, HDEL, DEL, PEXPIRE)
    costs = sz.fit_unit_costs([_run_without_replicas(0)])
    assert costs.plain.replicas == 0
    at = {r: sz.predict(sz.Deployment(ha_pairs=3, masters=3, replicas=r), costs) for r in (0, 1, 2)}
    b = at[0].bytes_per_command
    assert at[0].costs.service_s(b) == pytest.approx(costs.service_s(b))  # the runs' own replicas: unchanged
    assert "replica" not in at[0].cpu_line
    assert at[1].costs.service_s(b) - costs.service_s(b) == pytest.approx(uc.REPLICA_WRITE.value * writes)
    assert at[2].costs.service_s(b) - costs.service_s(b) == pytest.approx(2 * uc.REPLICA_WRITE.value * writes)
    assert at[1].cpu_utilisation > at[0].cpu_utilisation
    assert "incl. +5.6 µs for 1 replica more than measured (0 per master" in at[1].cpu_line
    assert at[1].master_ceiling_commands_per_s < at[0].master_ceiling_commands_per_s
    # --json carries the same line and figure
    j = sz.verdict_dict(sz.verdict(at[1].deployment, costs, with_envelope=False))["unit_costs"]["server_cpu"]
    assert j["line"] == at[1].cpu_line and j["us_per_command"] == pytest.approx(at[1].costs.service_s(b) * 1e6)
    assert j["measured_replicas"] == 0 and j["replicas_us_per_command"] == pytest.approx(5.6)
    assert j["replicas_note"] in at[1].cpu_line
    # runs with a replica per master: the fit is at 1, and a question without one removes the cost
    with_one = sz.fit_unit_costs([_run_without_replicas(1)])
    assert with_one.plain.replicas == 1
    none = sz.predict(sz.Deployment(ha_pairs=3, masters=3, replicas=0), with_one)
    assert with_one.service_s(b) - none.costs.service_s(b) == pytest.approx(uc.REPLICA_WRITE.value * writes)
    assert "incl. -5.6 µs for 1 replica fewer than measured (1 per master" in none.cpu_line


def test_runs_at_different_replicas_fit_at_the_fewest():
    """A run with a replica and one without, at the same true cost: brought to the fewest replicas (0) by the
    reference cost, their pooled per-command figure is the replica-free one."""
    one = replace(_run_without_replicas(1), name="with", cpu_s=_run_without_replicas().cpu_s + 100_000 * 5.6e-6)
    arm = sz.fit_unit_costs([_run_without_replicas(0), one]).plain
    assert arm.replicas == 0
    assert arm.service_s(uc.bytes_per_command(wl.WorkloadParams())) == pytest.approx(
        sz.fit_unit_costs([_run_without_replicas(0)]).plain.service_s(uc.bytes_per_command(wl.WorkloadParams())))


def test_the_report_table_shows_the_question_s_cpu_per_command_as_plan_does():
    """The report's unit-cost table for a target with a replica per master (the costs measured without) prints the
    CPU per command plan --json's table does for the same question: the replica's propagation included."""
    from loadsim.report import sizing as report

    costs = sz.fit_unit_costs([_run_without_replicas(0)])
    d = sz.Deployment(ha_pairs=3, masters=3, replicas=1)
    planned = sz.verdict_dict(sz.verdict(d, costs, with_envelope=False))["unit_costs"]
    at = planned["server_cpu"]["bytes_per_command"]
    name = f"server CPU per command at {at:,.0f} B, plain"
    table = report.costs_table(costs, d)
    row = {r["unit cost"]: r for r in planned["table"]}[name]
    assert table.loc[f"{name} (µs)", "value"] == pytest.approx(round(row["value"], 3))
    assert row["value"] == pytest.approx(planned["server_cpu"]["us_per_command"])
    assert row["value"] == pytest.approx(costs.service_s(at) * 1e6 + 5.6)
    assert "incl. +5.6 µs for 1 replica" in table.loc[f"{name} (µs)", "how"]
