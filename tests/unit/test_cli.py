"""The CLI's error contract, in-process: one line for a user's mistake, a kept traceback for a bug."""

import argparse
import re

import pytest

from loadsim import cli
from loadsim.errors import CheckFailed, OptionsError
from loadsim.experiments.tlscompare import load_shortfalls, ratio_ci, t95


def _fail_with(monkeypatch, exc):
    def boom(_args):
        raise exc
    monkeypatch.setattr(cli.plan, "_cmd_plan", boom)


def _run(argv, capsys):
    code = cli.main(argv)
    err = capsys.readouterr().err
    return code, [line for line in err.splitlines() if line.strip()]


def test_user_error_is_one_line_exit_2(monkeypatch, capsys):
    _fail_with(monkeypatch, OptionsError("--ha-pairs: 'x' is not a number; e.g. --ha-pairs 9"))
    code, err = _run(["plan"], capsys)
    assert code == 2 and err == ["loadsim: error: --ha-pairs: 'x' is not a number; e.g. --ha-pairs 9"]


def test_check_failed_exits_1(monkeypatch, capsys):
    _fail_with(monkeypatch, CheckFailed("check failed: 10.0.0.1:6379: node unreachable"))
    code, err = _run(["plan"], capsys)
    assert code == 1 and len(err) == 1 and "node unreachable" in err[0]


def test_a_bug_names_the_log_that_keeps_its_traceback(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("LOADSIM_LOG_DIR", str(tmp_path))
    _fail_with(monkeypatch, RuntimeError("something impossible"))
    code, err = _run(["plan"], capsys)
    assert code == 2 and len(err) == 1 and "Traceback" not in err[0]
    assert "unexpected RuntimeError: something impossible" in err[0] and "a bug in loadsim" in err[0]
    logs = list(tmp_path.glob("loadsim-crash-*.log"))
    assert len(logs) == 1 and str(logs[0]) in err[0]
    kept = logs[0].read_text()
    assert "Traceback" in kept and "RuntimeError: something impossible" in kept and "boom" in kept


def test_a_crash_log_is_private_and_holds_no_password(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("LOADSIM_LOG_DIR", str(tmp_path))
    monkeypatch.setenv("LOCUST_PASSWORD", "env-Secret-99")
    ini = tmp_path / "ors.ini"
    ini.write_text("[persistence]\ntype = redis\npassword = ini-Secret-77\n")
    monkeypatch.setattr(cli.check, "_cmd_check", lambda _a: (_ for _ in ()).throw(
        RuntimeError("boom with env-Secret-99 and ini-Secret-77 inside, next to certs/env-Secret-99x/key.pem")))
    code = cli.main(["check", "--ors-config", str(ini)])
    err = capsys.readouterr().err
    log = next(tmp_path.glob("loadsim-crash-*.log"))
    assert code == 2 and (log.stat().st_mode & 0o777) == 0o600
    for secret in ("env-Secret-99 ", "ini-Secret-77"):
        assert secret not in err and secret not in log.read_text()
    assert "boom with *** and *** inside" in log.read_text()
    assert "certs/env-Secret-99x/key.pem" in log.read_text()  # whole values are masked, never parts of a path


@pytest.mark.parametrize("words", [["--password", "flag-Secret-42"], ["--password=flag-Secret-42"],
                                   ["--passw", "flag-Secret-42"], ["--", "--password", "flag-Secret-42"]])
def test_a_password_on_the_command_line_is_refused_without_echoing_it(capsys, words):
    code = cli.main(["check", "--redis-nodes", "127.0.0.1:1", *words])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "flag-Secret-42" not in err[0]
    assert err[0].startswith(("loadsim: error: --password on the command line is visible",
                              "loadsim: error: '--passw' (read as --password) on the command line is visible"))
    assert "LOCUST_PASSWORD" in err[0] and "--ors-config" in err[0]


def test_a_multi_line_message_is_still_one_line(monkeypatch, capsys):
    _fail_with(monkeypatch, OptionsError("first part\n  second part"))
    code, err = _run(["plan"], capsys)
    assert code == 2 and err == ["loadsim: error: first part second part"]


def test_debug_shows_the_traceback(monkeypatch):
    _fail_with(monkeypatch, RuntimeError("something impossible"))
    with pytest.raises(RuntimeError, match="something impossible"):
        cli.main(["--debug", "plan"])


def test_a_file_problem_names_the_file(monkeypatch, capsys):
    _fail_with(monkeypatch, PermissionError(13, "Permission denied", "/etc/loadsim-out"))
    code, err = _run(["plan"], capsys)
    assert code == 2 and err == ["loadsim: error: '/etc/loadsim-out': Permission denied; check the path and its "
                                 "permissions"]


def test_usage_errors_are_one_line(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["plan", "--masters", "three"])
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert exit_.value.code == 2 and len(err) == 1 and err[0].startswith("loadsim: error:") and "--masters" in err[0]


def _parsers(parser):
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _parsers(sub)


def test_every_option_of_every_subcommand_has_help():
    missing = []
    for p in _parsers(cli.build_parser()):
        p.format_help()  # raises on a stray % in a help text
        assert "%%" not in p.format_help(), p.prog
        for a in p._actions:
            if a.option_strings and not a.help and a.help != argparse.SUPPRESS:
                missing.append(f"{p.prog} {a.option_strings[0]}")
    assert not missing, missing


def test_ratio_ci_known_answers_on_the_log_scale():
    import math
    import statistics

    r = ratio_ci([10.0, 10.0, 10.0], [12.0, 13.0, 14.0])  # ratios 1.2, 1.3, 1.4
    logs = [math.log(1.2), math.log(1.3), math.log(1.4)]
    mean, half = statistics.fmean(logs), 4.303 * statistics.stdev(logs) / 3 ** 0.5
    assert r["n"] == 3 and r["ratio"] == pytest.approx(math.exp(mean), abs=1e-4)  # geometric mean, 1.2965
    assert r["ci_low"] == pytest.approx(math.exp(mean - half), abs=1e-4)
    assert r["ci_high"] == pytest.approx(math.exp(mean + half), abs=1e-4)
    assert r["ci_high"] - r["ratio"] > r["ratio"] - r["ci_low"]  # asymmetric, as a ratio's interval is
    noisy = ratio_ci([1000.0, 1000.0, 1000.0], [300.0, 900.0, 3000.0])  # wild repeats: still above 0
    assert 0 < noisy["ci_low"] < noisy["ratio"] < noisy["ci_high"]
    assert ratio_ci([10.0, 0.0], [12.0, 5.0])["n"] == 1  # a zero baseline has no ratio
    one = ratio_ci([10.0], [11.0])
    assert one["ratio"] == pytest.approx(1.1) and math.isnan(one["ci_low"])  # no interval from one repeat
    assert ratio_ci([], [])["n"] == 0
    assert t95(2) == 4.303 and t95(13) == 2.179 and t95(100) == 1.96  # between table rows: the wider one


def test_a_shortfall_names_the_arm_the_repeat_and_how_much():
    def run(offered, achieved, behind, lag_us=400):
        return {"flags": {"schedule_fell_behind": behind}, "schedule_lag_us": {"p99": lag_us},
                "rates": {"offered_ops_per_s": offered, "achieved_ops_per_s": achieved}}
    arms = {"plain": [run(500, 499, False), run(500, 500, False)],
            "tls": [run(500, 499, False), run(500, 450, True, 25_000)]}
    assert load_shortfalls(arms) == ["tls repeat 2: achieved 450.0 of 500.0 ops/s offered (10.0 % short), "
                                     "schedule lag p99 25.0 ms"]
    assert load_shortfalls({"plain": [run(500, 500, False)], "tls": []}) == []


def test_plan_json_is_the_verdict_for_scripts(capsys):
    import json

    assert cli.main(["plan", "--json"]) == 0
    v = json.loads(capsys.readouterr().out)
    assert v["passed"] is True and v["deployment"]["ha_pairs"] == 9 and v["deployment"]["masters"] == 3
    assert v["binding"]["name"] in {c["name"] for c in v["constraints"]} and 0 < v["binding"]["margin"] < 1
    assert v["unit_costs"]["memory_factor"] == 1.0 and v["unit_costs"]["memory_factor_se"] is None  # the model alone
    assert v["warning"] is None
    # FAIL keeps its exit code (the smallest node RAM accepted, 64 MiB, with 100 kB sessions)
    assert cli.main(["plan", "--json", "--node-ram-gib", "0.0625", "--record-bytes", "100000"]) == 3
    fail = json.loads(capsys.readouterr().out)
    assert fail["passed"] is False and fail["binding"]["name"] == "memory" and fail["binding"]["margin"] < 0


@pytest.mark.parametrize(("argv", "needle"), [
    (["--ha-pairs", "-1"], "--ha-pairs -1"), (["--masters", "2"], "--masters 2"),
    (["--cps-per-pair", "0"], "--cps-per-pair 0"), (["--repeats", "2"], "--repeats must be at least 3"),
])
def test_compare_tls_refuses_bad_input_before_any_run(argv, needle, capsys, tmp_path):
    code = cli.main(["compare-tls", *argv, "--out", str(tmp_path / "cmp")])
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert code == 2 and len(err) == 1 and needle in err[0]
    assert not (tmp_path / "cmp").exists()  # nothing started, nothing written


def test_plan_with_an_estate_prints_the_groups_and_the_envelope(capsys, tmp_path):
    from loadsim.paths import EXAMPLE_ESTATE

    assert cli.main(["plan", "--estate", str(EXAMPLE_ESTATE)]) == 0
    out = capsys.readouterr().out
    assert "hub                  1 pair(s) x 40 calls/s" in out and "branches             8 pair(s)" in out
    assert "capacity envelope" in out and "most HA pairs:" in out and "x the estate's rates" in out
    assert "PASS: 9 HA pairs on 3 masters" in out
    # flags still override the file: 2 pairs, one of each group
    assert cli.main(["plan", "--estate", str(EXAMPLE_ESTATE), "--ha-pairs", "2", "--aht-s", "10"]) == 0
    assert "PASS: 2 HA pairs" in capsys.readouterr().out
    bad = tmp_path / "e.toml"
    bad.write_text("[[group]]\ncsp = 3\n")
    code, err = _run(["plan", "--estate", str(bad)], capsys)
    assert code == 2 and len(err) == 1 and "unknown key 'csp'; did you mean 'cps'?" in err[0]
    code, err = _run(["plan", "--estate", str(tmp_path / "missing.toml")], capsys)
    assert code == 2 and len(err) == 1 and "no such file" in err[0]


def test_plan_json_carries_the_envelope_and_the_memory_source(capsys):
    import json

    assert cli.main(["plan", "--json", "--complexity", "complex"]) == 0
    v = json.loads(capsys.readouterr().out)
    assert v["envelope"]["max_ha_pairs"]["value"] > 9 and v["envelope"]["max_ha_pairs"]["binding"]
    assert v["prediction"]["memory_source"].startswith("model") and v["prediction"]["bytes_per_session"] > 19000


@pytest.mark.parametrize(("argv", "needle"), [
    (["--complexity", "bogus"], "--complexity bogus: unknown preset"),
    (["--run-time", "abc"], "--run-time abc: give a duration"),
    (["--latency-slo-p99-us", "0"], "--latency-slo-p99-us 0"),
    (["--slo-p99-us", "0"], "--latency-slo-p99-us 0"),  # the old name, still accepted
    # too short for a steady state (the pre-fill, then 5 s of statistics): refused, with the run time to give
    (["--run-time", "1s"], "--run-time 1s: too short for a steady state"),
    (["--run-time", "4s", "--ha-pairs", "1"], "give --run-time 6s at least"),
])
def test_compare_tls_checks_complexity_and_run_time_before_any_run(argv, needle, capsys, tmp_path):
    code = cli.main(["compare-tls", *argv, "--out", str(tmp_path / "cmp")])
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert code == 2 and len(err) == 1 and needle in err[0], err
    assert not (tmp_path / "cmp").exists()


@pytest.mark.parametrize(("argv", "needle"), [
    (["--complexity", "standard,bogus"], "--complexity bogus: unknown preset; use one of simple, standard, complex"),
    (["--run-time", "5x"], "--run-time 5x: give a duration in Locust's syntax"),
    (["--run-time", "0s"], "--run-time 0s"),
    (["--ha-pairs", "0"], "--ha-pairs 0: give at least 1"),
    (["--ha-pairs", "1,-1"], "--ha-pairs -1"),
    (["--masters", "2"], "--masters 2"),
    (["--replicas", "9"], "--replicas 9"),
    (["--repeats", "0"], "--repeats 0"),
    (["--cps-per-pair", "0"], "--cps-per-pair 0"),
    (["--tls", "maybe"], "--tls: 'maybe'"),
    (["--", "--key-layout", "flat"], "after '--': --key-layout flat: use one of"),
    (["--", "--aht", "-3"], "after '--': --aht: -3 is out of range"),
    (["--", "--redis-nodes", "x:1"], "'--redis-nodes' after '--' would override"),
])
def test_sweep_refuses_bad_input_before_any_run(argv, needle, capsys, tmp_path):
    out = tmp_path / "sw"
    extra = argv[argv.index("--"):] if "--" in argv else []
    given = argv[:len(argv) - len(extra)]
    code = cli.main(["sweep", *given, "--out", str(out), *extra])
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert code == 2 and len(err) == 1 and needle in err[0], err
    assert not out.exists()  # nothing started, nothing written


def test_sweep_exits_1_when_a_run_failed(monkeypatch, capsys, tmp_path):
    import json

    from loadsim.experiments import sweep

    def fake_run_sweep(grid, out, *_a, **_kw):
        out.mkdir(parents=True)
        runs = [{"label": "a", "ok": True}, {"label": "b", "ok": False, "error": "boom"}]
        (out / sweep.SWEEP_INDEX).write_text(json.dumps({"runs": runs}))
        return out

    monkeypatch.setattr(sweep, "run_sweep", fake_run_sweep)
    assert cli.main(["sweep", "--ha-pairs", "1,3", "--out", str(tmp_path / "s")]) == 1
    assert "1 failed run(s): b" in capsys.readouterr().out


def test_the_first_failed_run_stops_the_experiment(tmp_path):
    from loadsim.errors import ExperimentError
    from loadsim.experiments.sweep import stop_if_first_failed

    stop_if_first_failed({"ok": True, "path": "001-x"}, tmp_path)
    with pytest.raises(ExperimentError, match=r"the first run failed \(locust: error: bad\).*001-x\.log"):
        stop_if_first_failed({"ok": False, "path": "001-x", "error": "locust: error: bad"}, tmp_path)


@pytest.mark.parametrize(("text", "seconds"), [("90", 90), ("30s", 30), ("5m", 300), ("1h30m", 5400),
                                               ("1h2m3s", 3723)])
def test_run_time_in_locust_syntax(text, seconds):
    from loadsim.experiments.sweep import check_run_time

    assert check_run_time(text) == seconds


@pytest.mark.parametrize(("new", "old", "field"), [
    ("--aht", "--aht-s", "aht_s"), ("--session-ttl", "--session-ttl-s", "session_ttl_s"),
    ("--routing-time", "--routing-s", "routing_s"), ("--extended-time", "--extended-s", "extended_s"),
    ("--cleanup-period", "--cleanup-period-s", "cleanup_period_s"),
])
def test_plan_takes_locusts_option_names_and_keeps_the_old_ones(new, old, field, capsys):
    import json

    seen = []
    layout = ["--key-layout", "index"] if field == "cleanup_period_s" else []
    for flag in (new, old):
        assert cli.main(["plan", "--json", *layout, flag, "77"]) in (0, 3)
        seen.append(json.loads(capsys.readouterr().out)["deployment"][field])
    assert seen == [77, 77]
    import argparse

    from loadsim.config.simulation import add_simulation_arguments

    locust_flags = set()
    parser = argparse.ArgumentParser()
    add_simulation_arguments(parser, {})
    for action in parser._actions:
        locust_flags |= set(action.option_strings)
    assert new in locust_flags  # the same name as `locust -f` takes


def test_explain_gives_every_term_of_the_text_and_refuses_an_unknown_one_in_one_line(capsys):
    assert cli.main(["explain", "read-back"]) == 0
    out = capsys.readouterr().out
    for term in ("current", "stale", "ahead", "missing", "corrupt", "never acknowledged", "unreadable"):
        assert re.search(rf"^{term}\s+read-back: ", out, re.M), term
    assert cli.main(["explain", "Schedule-Fell-Behind"]) == 0  # any case, - or _
    out = capsys.readouterr().out
    assert out.startswith("schedule_fell_behind ") and "Next: " in out
    assert cli.main(["explain", "flags"]) == 0
    assert all("Next: " in line for line in capsys.readouterr().out.splitlines())  # every flag: the next step
    assert cli.main(["explain", "bogus"]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and "'loadsim explain' lists every term" in err[0]


def test_compare_tls_and_sweep_take_the_names_locust_and_sweep_use_and_keep_the_old_ones(capsys, tmp_path):
    parse = cli.build_parser().parse_args
    for argv in (["compare-tls", "--embedded-mutual-tls", "true"], ["compare-tls", "--mutual-tls"]):
        assert parse(argv).mutual_tls == "true"
    assert parse(["compare-tls"]).mutual_tls == "false"
    assert parse(["sweep", "--embedded-tls", "off,on"]).tls == parse(["sweep", "--tls", "off,on"]).tls == "off,on"
    from loadsim.cli.compare_tls import _scenario

    assert _scenario(parse(["compare-tls", "--scenario", "migration"])) == "migration"
    assert _scenario(parse(["compare-tls", "migration"])) == "migration"
    assert _scenario(parse(["compare-tls"])) == "ha9"
    assert cli.main(["compare-tls", "ha9", "--scenario", "migration", "--out", str(tmp_path / "c")]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and "two scenarios given" in err[0] and not (tmp_path / "c").exists()


def test_a_child_runs_failure_is_learned_from_its_exit_record_not_its_words(tmp_path, monkeypatch):
    """sweep and compare-tls read why a run failed from the record the run wrote (before: they grepped its output
    for 'error:', and a scenario printing 'error:' in a log line could stand in for the cause)."""
    import pytest

    from loadsim.experiments.sweep import child_problem, exit_record_path
    from loadsim.locust.plugin import fail
    from loadsim.results.writer import EXIT_RECORD_ENV, read_exit_record

    record = exit_record_path(tmp_path / "run-1")
    monkeypatch.setenv(EXIT_RECORD_ENV, str(record))
    with pytest.raises(SystemExit):
        fail("--aht 0: give a positive number of seconds")
    with pytest.raises(SystemExit):
        fail("a second failure")  # the first is the cause: kept
    got = read_exit_record(record)
    assert got == {"exit_code": 2, "error": "--aht 0: give a positive number of seconds"}
    noisy = "WARNING error: something else\nlast words"
    assert child_problem(got, noisy, 2) == "--aht 0: give a positive number of seconds"
    assert child_problem(None, noisy, 3) == "last words (exit 3)"  # no record: its last line, not a grep


def test_a_cpu_ceiling_is_a_percentage_of_one_core_on_every_command_and_the_old_share_spelling_is_an_alias(capsys):
    """plan --cpu-ceiling 70, 70% and 0.7 (plan's older spelling, a share) ask the same question; capacity's flag
    goes through the same conversion (its 0.8 is 80 %); 1 alone is refused in one line, as 0 and 150 are."""
    import json

    from loadsim.model.question import cpu_ceiling_share

    answers = []
    for given in ("70", "70%", "0.7"):
        assert cli.main(["plan", "--json", "--cpu-ceiling", given]) == 0
        answers.append(json.loads(capsys.readouterr().out))
    assert answers[0] == answers[1] == answers[2] and answers[0]["deployment"]["cpu_ceiling"] == 0.7
    assert cli.main(["plan", "--json", "--cpu-ceiling", "35"]) in (0, 3)
    half = json.loads(capsys.readouterr().out)
    assert half["deployment"]["cpu_ceiling"] == 0.35 and half != answers[0]
    assert (cpu_ceiling_share("80"), cpu_ceiling_share("0.8"), cpu_ceiling_share("100"), cpu_ceiling_share("1%")) \
        == (0.8, 0.8, 1.0, 0.01)
    for bad, says in (("1", "1 is ambiguous"), ("0", "from 1 to 100"), ("150", "from 1 to 100"), ("x", "not a number")):
        assert cli.main(["plan", "--cpu-ceiling", bad]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith(f"loadsim: error: --cpu-ceiling {bad}") and says in err and "\n" not in err, err
