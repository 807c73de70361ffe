"""The unit costs (loadsim.model.unitcosts) on synthetic runs with known answers."""

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
    assert per_cmd_small == pytest.approx(costs.service_s(small.bytes_per_command), rel=0.02)
    line = small.cpu_line
    assert f"{costs.service_s(small.bytes_per_command) * 1e6:.1f} µs per command" in line
    assert "(reference value)" in line and line in sz.verdict(sz.Deployment(), costs, with_envelope=False).text()
    # every figure of the table carries its source
    rows = costs.rows(small.bytes_per_command)
    assert {r["source"] for r in rows} == {"reference value"} and all(r["basis"] for r in rows)
