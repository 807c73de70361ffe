"""Every command with bad input: one clear line naming the problem, a non-zero exit, no traceback, nothing
written. A table of cases, each run as a user runs it (a real process), no Redis needed unless a case says."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HA9 = str(ROOT / "scenarios" / "ha9.py")
PY = sys.executable
TABLE_SECRET = "Tab1e-secret-never-shown"  # in the cases below; never in any output


def _files(tmp: Path) -> dict[str, str]:
    """Bad files the cases refer to as {name}."""
    files = {
        "missing": tmp / "missing.toml",
        "not_pem": tmp / "not.pem",
        "nodez_ini": tmp / "nodez.ini",
        "no_equals_ini": tmp / "noequals.ini",
        "empty_nodes_ini": tmp / "empty.ini",
        "no_section_ini": tmp / "nosection.ini",
        "password_no_equals_ini": tmp / "pwnoequals.ini",
        "bad_toml": tmp / "bad.toml",
        "unknown_key_toml": tmp / "unknown.toml",
        "damaged_run": tmp / "damaged",
        "a_file": tmp / "afile.txt",
        "out": tmp / "out",  # an experiment's folder: must not be created by a refused experiment
    }
    files["not_pem"].write_text("this is not a certificate\n")
    files["nodez_ini"].write_text("[persistence]\nredis-nodez = 127.0.0.1:7000\n")
    files["no_equals_ini"].write_text("[persistence]\nredis-nodes 127.0.0.1:7000\n")
    files["empty_nodes_ini"].write_text("[persistence]\nredis-nodes =\n")
    files["no_section_ini"].write_text("[other]\nredis-nodes = 127.0.0.1:7000\n")
    files["password_no_equals_ini"].write_text(f"[persistence]\npassword {TABLE_SECRET}\n")
    files["bad_toml"].write_text("[[group]\ncps = 3\n")
    files["unknown_key_toml"].write_text("[[group]]\ncsp = 3\n")
    files["damaged_run"].mkdir()
    (files["damaged_run"] / "summary.json").write_text("{not json")
    files["a_file"].write_text("x")
    # run folders whose summary.json is damaged in one way each, and a valid (minimal) complete one
    for name, summary in _summaries().items():
        files[name] = tmp / name
        files[name].mkdir()
        (files[name] / "summary.json").write_text(json.dumps(summary))
    return {k: str(v) for k, v in files.items()}


def _summaries() -> dict:
    """A minimal complete summary (what the reader requires of every run) and damaged variants of it."""
    good = {"schema_version": 3, "complete": True, "workload": {"ha_pairs": 3}, "rates": {"achieved_ops_per_s": 10.0},
            "operations": {}, "masters": [], "server": {"commands": 100}}
    stub = {"schema_version": 3, "complete": False, "scenario": "ha9", "started": "2026-12-06T06:00:00+0000"}
    return {"good_run": good, "stub_run": stub, "list_run": [1, 2, 3],
            "nan_run": {**good, "rates": {"achieved_ops_per_s": float("nan")}},
            "lots_run": {**good, "server": {"commands": "lots"}},
            "negative_run": {**good, "workload": {"ha_pairs": -3}},
            "half_run": {k: v for k, v in good.items() if k != "operations"},
            "maybe_run": {**good, "complete": "maybe"}}


# (command words, text the one error line must contain, exit code). {name} refers to _files.
LOADSIM_CASES = [
    (["plan", "--ha-pairs", "0"], "ha-pairs must be >= 1", 2),
    (["plan", "--masters", "0"], "masters and ha-pairs must be >= 1", 2),
    (["plan", "--cps-per-pair", "-1"], "cps-per-pair >= 0", 2),
    (["plan", "--aht-s", "0"], "aht > 0", 2),
    (["plan", "--complexity", "huge"], "complexity 'huge' unknown", 2),
    (["plan", "--key-layout", "flat"], "key-layout must be one of", 2),
    (["plan", "--maxmemory-fraction", "1.5"], "maxmemory-fraction and cpu-ceiling", 2),
    (["plan", "--cpu-ceiling", "0"], "--cpu-ceiling 0: give a percentage of one core from 1 to 100", 2),
    (["plan", "--cpu-ceiling", "1"], "--cpu-ceiling 1 is ambiguous: 1 % or 100 % of one core?", 2),
    (["plan", "--record-bytes", "0"], "record-bytes must be", 2),
    (["plan", "--redis-version", "6.2"], "redis-version 6.2", 2),
    (["plan", "--allocator", "libc"], "allocator", 2),
    (["plan", "--estate", "{missing}"], "no such file", 2),
    (["plan", "--estate", "{bad_toml}"], "not valid TOML", 2),
    (["plan", "--estate", "{unknown_key_toml}"], "did you mean 'cps'?", 2),
    (["plan", "--from", "{missing}"], "missing.toml", 2),
    (["plan", "--routed-share", "2"], "--routed-share", 2),
    (["plan", "--leaked-share", "-0.1"], "--leaked-share: -0.1 is out of range", 2),
    (["plan", "--replicas", "-1"], "replicas must be >= 0", 2),
    (["plan", "--ha-pairs", "abc"], "invalid int value", 2),
    (["check"], "redis-nodes is not set", 2),
    (["check", "--redis-nodes", ""], "--redis-nodes is empty", 2),
    (["check", "--redis-nodes", "127.0.0.1:notaport"], "notaport", 2),
    (["check", "--redis-nodes", "127.0.0.1:1"], "unreachable", 1),
    (["check", "--ors-config", "{missing}"], "does not exist", 2),
    (["check", "--ors-config", "{nodez_ini}"], "did you mean 'redis-nodes'?", 2),
    (["check", "--ors-config", "{no_equals_ini}"], "is not 'name = value'", 2),
    (["check", "--ors-config", "{empty_nodes_ini}"], "redis-nodes is empty", 2),
    (["check", "--ors-config", "{no_section_ini}"], "no [persistence] section", 2),
    (["check", "--redis-nodes", "127.0.0.1:1", "--tls-enabled", "true"],
     "neither tls-cacert nor tls-cacertdir", 2),
    (["check", "--redis-nodes", "127.0.0.1:1", "--redis-tls-cert", "{not_pem}"],
     "tls-cert is set but tls-key is not", 2),
    (["check", "--redis-nodes", "127.0.0.1:1", "--tls-enabled", "true", "--tls-cacert", "{not_pem}"],
     "tls-cacert: '", 2),
    (["check", "--redis-nodes", "127.0.0.1:1", "--redis-tls-cert", "{not_pem}", "--redis-tls-key", "{not_pem}"],
     "tls-cert/tls-key:", 2),
    (["check", "--redis-nodes", "127.0.0.1:1", "--tls-cacert", "{missing}"], "does not exist", 2),
    (["check", "--redis-nodes", "127.0.0.1:1", "--redis-connect-timeout", "-5"], "redis-connect-timeout", 2),
    (["check", "--redis-nodes", "127.0.0.1:1", "--tls-enabled", "maybe"], "tls-enabled", 2),
    (["check", "--redis-nodes", "127.0.0.1:1", "--ors-cluster-name", "a b"], "ors-cluster-name", 2),
    (["check", "--redis-nodes", "127.0.0.1:1", "--sessionid-with-nodeid", "false"], "sessionid-with-nodeid", 2),
    (["check", "--redis-nodes", "127.0.0.1:1", "--tls-cacertdir", "{missing}"], "tls-cacertdir", 2),
    (["check", "--redis-nodes", "127.0.0.1:1", "--worker-threads", "0"], "worker-threads", 2),
    (["check", "--redis-nodes", "127.0.0.1:1", "--fips"], "--fips checks the TLS handshake", 2),
    (["check", "--redis-nodes", "127.0.0.1:1", "--ha-pairs", "100000000"], "--ha-pairs: 100000000 is out of range", 2),
    (["check", "--redis-nodes", "127.0.0.1:1", "--tls-enabled", "true", "--tls-cacertdir", "{a_file}"],
     "is a file, not a folder", 2),
    (["results", "show", "{missing}"], "missing.toml", 2),
    (["results", "show", "{damaged_run}"], "damaged", 2),
    (["report", "{missing}"], "missing.toml", 2),
    (["validate", "--fit", "{missing}", "--check", "{missing}"], "missing.toml", 2),
    (["cluster", "up", "--masters", "2", "--state-dir", "{missing}"], "at least 3 masters", 2),
    (["cluster", "up", "--replicas", "9", "--state-dir", "{missing}"], "--replicas 0..5", 2),
    (["cluster", "up", "--redis-server", "{missing}", "--state-dir", "{missing}"], "--redis-server", 2),
    (["scenario-path", "bogus"], "scenario 'bogus' unknown", 2),
    # impossible numbers are refused, never turned into a verdict (exit 3 FAIL or 0 PASS)
    (["plan", "--node-ram-gib", "-4"], "--node-ram-gib: -4 is out of range; give a number from 0.0625", 2),
    (["plan", "--node-ram-gib", "0"], "--node-ram-gib: 0 is out of range", 2),
    (["plan", "--node-ram-gib", "nan"], "--node-ram-gib: nan is out of range", 2),
    (["plan", "--node-ram-bytes", "1e30"], "--node-ram-bytes: 1e+30 is out of range", 2),
    (["plan", "--maxclients", "-1"], "--maxclients: -1 is out of range", 2),
    (["plan", "--latency-slo-p99-us", "-1"], "--latency-slo-p99-us: -1 is out of range", 2),
    (["plan", "--cps-per-pair", "1e308"], "--cps-per-pair: 1e+308 is out of range", 2),
    (["plan", "--cps-per-pair", "inf"], "--cps-per-pair: inf is out of range", 2),
    (["plan", "--aht-s", "nan"], "--aht-s: nan is out of range", 2),
    (["plan", "--ha-pairs", "100000000"], "--ha-pairs: 1e+08 is out of range", 2),
    (["plan", "--node-cores", "0"], "--node-cores: 0 is out of range", 2),
    (["plan", "--fork-cow-factor", "-1"], "--fork-cow-factor: -1 is out of range", 2),
    (["plan", "--cps-per-pair", ""], "invalid float value: ''", 2),
    # empty values never fall back to a default or to the current folder
    (["report", ""], "the PATH argument is empty", 2),
    (["results", "show", ""], "the PATH argument is empty", 2),
    (["cluster", "up", "--state-dir", ""], "--state-dir is empty", 2),
    (["sweep", "--out", ""], "--out is empty", 2),
    (["compare-tls", "--out", ""], "--out is empty", 2),
    (["check", "--redis-nodes", "127.0.0.1:1", "--username", ""], "--username is empty", 2),
    (["cluster", "up", "--cluster-node-timeout", "99999999999", "--state-dir", "{out}"], "at most 600,000", 2),
    (["sweep", "--repeats", "100000000", "--out", "{out}"], "--repeats 100000000: give 1 to 50", 2),
    (["sweep", "--run-time", "99999h", "--out", "{out}"], "more than 168 h per run", 2),
    (["compare-tls", "--run-time", "99999h", "--out", "{out}"], "more than 168 h per run", 2),
    (["compare-tls", "--repeats", "1000", "--out", "{out}"], "give 3 to 50", 2),
    (["compare-tls", "--run-time", "1s", "--out", "{out}"], "too short for a steady state", 2),
    (["compare-tls", "--latency-slo-p99-us", "1e300", "--out", "{out}"], "at most 60,000,000", 2),
    (["sweep", "--tls", "maybe", "--out", "{out}"], "--tls: 'maybe' is not a comma-separated list; e.g. --tls off,on",
     2),
    # flags that need another flag
    (["cluster", "up", "--mutual-tls", "--state-dir", "{out}"], "--mutual-tls needs --tls", 2),
    # sweep and compare-tls: the runs' options, also those after '--', are checked before the first cluster
    (["sweep", "--ha-pairs", "100000000", "--out", "{out}"], "one generator can hold", 2),
    (["sweep", "--out", "{out}", "--", "--bogus-opt", "1"], "unrecognized arguments: --bogus-opt", 2),
    (["sweep", "--ha-pairs", "1", "--out", "{out}", "--", "--fault", "5:switchover:2"],
     "HA pair 2 does not exist", 2),
    (["sweep", "--out", "{out}", "--", "--aht", "inf"], "--aht: inf is out of range", 2),
    (["compare-tls", "--cps-per-pair", "inf", "--out", "{out}"], "--cps-per-pair inf", 2),
    (["compare-tls", "--cps-per-pair", "9000", "--out", "{out}"], "58982.4 is out of range", 2),
    (["compare-tls", "--masters", "1000", "--out", "{out}"], "3..64 masters", 2),
    # no secret through a side door: every abbreviation of --password, and an ini line without '='
    (["check", "--redis-nodes", "127.0.0.1:1", "--pa", TABLE_SECRET], "'--pa' (read as --password)", 2),
    (["sweep", "--out", "{out}", "--", f"--pass={TABLE_SECRET}"], "'--pass' (read as --password)", 2),
    (["capacity", "--out", "{out}", "--", "--p", TABLE_SECRET], "'--p' (read as --password)", 2),
    (["compare-tls", "--out", "{out}", "--", "--passwo", TABLE_SECRET], "'--passwo' (read as --password)", 2),
    (["check", "--ors-config", "{password_no_equals_ini}"], "'password ***' is not 'name = value'", 2),
    # capacity checks its input as the others do, before its cluster starts (issue 25)
    (["capacity", "--steps", "1,1", "--out", "{out}"], "strictly increasing HA pair counts (no repeats)", 2),
    (["capacity", "--steps", "4,2", "--out", "{out}"], "strictly increasing", 2),
    (["capacity", "--latency-slo-p99-us", "nan", "--out", "{out}"], "--latency-slo-p99-us nan: give the p99", 2),
    (["capacity", "--slo-p99-us", "nan", "--out", "{out}"], "--latency-slo-p99-us nan", 2),  # the old name
    (["capacity", "--latency-slo-p99-us", "inf", "--out", "{out}"], "--latency-slo-p99-us inf", 2),
    (["capacity", "--steps", "100000", "--out", "{out}"], "at most 10,000 HA pairs per step", 2),
    (["capacity", "--cps-per-pair", "inf", "--out", "{out}"], "--cps-per-pair inf: give calls per second", 2),
    (["capacity", "--cps-per-pair", "nan", "--out", "{out}"], "--cps-per-pair nan", 2),
    (["capacity", "--cpu-ceiling", "nan", "--out", "{out}"], "--cpu-ceiling nan", 2),
    (["capacity", "--masters", "1000", "--out", "{out}"],
     "--masters: 1000 is out of range; give a number from 3 to 64", 2),
    (["capacity", "--stop-at-cpu", "nan", "--out", "{out}"], "--stop-at-cpu nan", 2),
    (["capacity", "--stop-at-cpu", "80", "--cpu-ceiling", "80", "--out", "{out}"],
     "--cpu-ceiling is the old name of --stop-at-cpu: give --stop-at-cpu only", 2),
    (["capacity", "--redis-benchmark", "/bin/false", "--out", "{out}"], "not a working redis-benchmark", 2),
    (["capacity", "--out", "{out}", "--", "--bogus-opt", "1"], "unrecognized arguments: --bogus-opt", 2),
    # a negative value read as an option: the cause and the fix, not argparse's bare "expected one argument"
    (["sweep", "--run-time", "-5s", "--out", "{out}"], "'-5s' starts with '-', so it was read as an option", 2),
    (["sweep", "--precision", "-5%", "--out", "{out}"], "write --precision=-5%", 2),
    (["compare-tls", "--budget", "-1m", "--out", "{out}"], "--budget got no value", 2),
    (["capacity", "--step-time", "-5s", "--out", "{out}"], "--step-time got no value", 2),
    (["sweep", "--out", "{out}", "--", "--fault", "-1:kill-master:0"], "after '--': --fault -1:kill-master:0: '-1:", 2),
    # summaries are checked when read: types, ranges, completeness (never shown or reported on as valid)
    (["results", "show", "{nan_run}"], "rates.achieved_ops_per_s is nan, not a finite number", 2),
    (["results", "show", "{lots_run}"], 'server.commands is "lots", not a finite number', 2),
    (["results", "show", "{list_run}"], "holds a JSON list, not a run summary", 2),
    (["results", "show", "{negative_run}"], "workload.ha_pairs is -3, not a number >= 0", 2),
    (["results", "show", "{half_run}"], "says the run is complete but has no operations", 2),
    (["results", "show", "{maybe_run}"], "'complete' is 'maybe', not true or false", 2),
    (["results", "show", "--json", "{nan_run}"], "rates.achieved_ops_per_s is nan", 2),
    (["results", "compare", "{good_run}", "{stub_run}"], "incomplete run: only the series are there", 2),
    (["results", "compare", "{good_run}", "{lots_run}"], "server.commands", 2),
    # report: refused before any notebook runs, nothing left in the folder
    (["report", "{stub_run}"], "incomplete run: only the series are there", 2),
    (["report", "{nan_run}"], "rates.achieved_ops_per_s is nan", 2),
    (["report", "{list_run}"], "holds a JSON list", 2),
    (["report", "{damaged_run}"], "damaged", 2),
    (["report", "{good_run}", "-p", "unknown=1"], "-p unknown: sizing report has no such parameter", 2),
    (["report", "{good_run}", "-p", "ha_pairs=-4"], "-p ha_pairs=-4: masters and ha-pairs must be >= 1", 2),
    (["report", "{good_run}", "-p", "node_ram_gib=0"], "--node-ram-gib: 0 is out of range", 2),
    (["report", "{good_run}", "-p", "ha_pairs=\"abc\""], "-p ha_pairs='abc': give a number", 2),
    (["report", "{good_run}", "-p", "tls=maybe"], "-p tls='maybe': give true or false", 2),
    (["report", "{good_run}", "-p", "results_dir=/etc"], "-p results_dir: report sets it", 2),
    (["report", "{good_run}", "-p", "complexity=\"huge\""], "complexity 'huge' unknown", 2),
    (["report", "{good_run}", "-p", "cpu_ceiling=1"], "-p cpu_ceiling=1: --cpu-ceiling 1 is ambiguous", 2),
]

# Locust runs of scenarios/ha9.py: options are checked before any cluster starts or any result is written.
LOCUST_CASES = [
    (["--cps-per-pair", "1e7"], "--cps-per-pair: 1e+07 is out of range", 2),
    (["--cps-per-pair", "nan"], "--cps-per-pair: nan is out of range", 2),
    (["--aht", "inf"], "--aht: inf is out of range", 2),
    (["--timer-bytes", "-5"], "--timer-bytes: -5 is out of range", 2),
    (["--record-bytes", "5000000"], "--record-bytes: 5e+06 is out of range", 2),
    (["--redis-nodes", ""], "--redis-nodes is empty", 2),
    (["--ors-config", "{nodez_ini}"], "did you mean 'redis-nodes'?", 2),
    (["--ors-config", "{no_equals_ini}"], "is not 'name = value'", 2),
    (["--key-layout", "flat"], "--key-layout must be one of", 2),
    (["--complexity", "huge"], "--complexity 'huge' unknown", 2),
    (["--digital-share", "2"], "--digital-share: 2 is out of range", 2),
    (["--worker-threads", "0"], "--worker-threads: 0 is out of range", 2),
    (["--cleanup-period", "5"], "--cleanup-period applies to --key-layout index", 2),
    (["--estate", "{missing}"], "no such file", 2),
    (["--estate", "{unknown_key_toml}"], "did you mean 'cps'?", 2),
    (["--capacity-from", "{damaged_run}"], "--capacity-from", 2),  # a folder without capacity.json
    (["--capacity-from", "{missing}"], "no such folder", 2),
    (["--routed-share", "0.8", "--leaked-share", "0.5"], "sum to at most 1", 2),
    (["--session-ttl", "0"], "--session-ttl: 0 is out of range", 2),
    (["--redis-nodes", "127.0.0.1:1", "--tls-enabled", "true", "--tls-cacert", "{not_pem}"], "tls-cacert: '", 2),
    (["--masters", "2"], "--masters: 2 is out of range", 2),
    (["--seed", "-1"], "--seed: -1 is out of range", 2),
    (["--switchover-at", "0"], "--switchover-at: 0 is out of range", 2),
    (["--warmup", "-1"], "--warmup: -1 is out of range", 2),
    (["--records-per-session", "100"], "--records-per-session: 100 is out of range", 2),
    (["--aht", "1e6", "--cps-per-pair", "1000"], "sessions alive", 2),
    (["--embedded-redis-server", "{missing}"], "--redis-server", 2),
    (["--prefill", "sometimes"], "--prefill", 2),
    (["--fault", "5:kil-master:0"], "did you mean 'kill-master'?", 2),
    (["--fault", "5:kill-master:7"], "master 7 does not exist; masters are 0..2", 2),
    (["--fault", "5:failover:0"], "failover needs replicas", 2),
    (["--fault", "5:pause-master:0"], "pause-master needs how long", 2),
    (["--fault", "5:switchover:12"], "HA pair 12 does not exist", 2),
    (["--redis-nodes", "127.0.0.1:1", "--fault", "5:kill-master:0"], "embedded cluster", 2),
    (["--migration-step", "-1"], "--migration-step: -1 is out of range", 2),
    (["--pool-connections", "sometimes"], "--pool-connections", 2),
    (["--embedded-appendfsync", "sometimes"], "appendfsync", 2),
    (["--aht", ""], "--aht is empty", 2),
    (["--cps-per-pair", ""], "--cps-per-pair is empty", 2),
    (["--results-dir", ""], "--results-dir is empty", 2),
    (["--embedded-mutual-tls", "true"], "--embedded-mutual-tls needs --embedded-tls true", 2),
    (["--fault", "-1:kill-master:0"], "--fault got no value; give a value that does not start with '-'", 2),
    (["-t", "-5s"], "'-5s' starts with '-'", 2),
    (["--pas", TABLE_SECRET], "'--pas' (read as --password)", 2),
    (["--ors-config", "{password_no_equals_ini}"], "'password ***' is not 'name = value'", 2),
]


def _fill(words, files):
    return [w.format(**files) if "{" in w else w for w in words]


def _assert_contract(proc, expected, code, results_dir=None):
    err = proc.stderr
    assert "Traceback" not in err and "Traceback" not in proc.stdout, err[-2000:]
    assert TABLE_SECRET not in err + proc.stdout
    assert proc.returncode == code, (proc.returncode, err[-2000:])
    lines = [line for line in err.splitlines() if line.startswith("loadsim: error:")]
    assert len(lines) == 1, err[-2000:]
    assert expected in lines[0], lines[0]
    assert "\n" not in lines[0]
    if results_dir is not None:
        assert not Path(results_dir).exists(), "a refused run must not leave a results folder"


@pytest.mark.parametrize("words, expected, code", LOADSIM_CASES, ids=[" ".join(c[0])[:60] for c in LOADSIM_CASES])
def test_loadsim_commands_refuse_bad_input_in_one_line(tmp_path, words, expected, code):
    files = _files(tmp_path)
    before = sorted(tmp_path.rglob("*"))
    proc = subprocess.run([PY, "-m", "loadsim", *_fill(words, files)], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path, env={**os.environ, "LOADSIM_LOG_DIR": str(tmp_path / "logs")})
    _assert_contract(proc, expected, code)
    assert not (tmp_path / "logs").exists(), "a user error must not be logged as a crash"
    assert sorted(tmp_path.rglob("*")) == before, "a refused command must write nothing"
    assert "running" not in proc.stdout, proc.stdout  # no experiment's run started


@pytest.mark.parametrize("words, expected, code", LOCUST_CASES, ids=[" ".join(c[0])[:60] for c in LOCUST_CASES])
def test_locust_runs_refuse_bad_input_before_starting(tmp_path, words, expected, code):
    files = _files(tmp_path)
    out = tmp_path / "results"
    proc = subprocess.run([PY, "-m", "locust", "-f", HA9, "--headless", "-t", "5s", "--only-summary",
                           "--results-dir", str(out), *_fill(words, files)], capture_output=True, text=True,
                          timeout=90, cwd=tmp_path)
    _assert_contract(proc, expected, code, results_dir=out)
    assert "starting embedded Redis Cluster" not in proc.stderr  # refused before any cluster starts


def test_the_table_covers_at_least_sixty_bad_inputs_across_the_commands():
    commands = {c[0][0] for c in LOADSIM_CASES} | {"locust"}
    assert len(LOADSIM_CASES) + len(LOCUST_CASES) >= 60
    assert {"plan", "check", "results", "report", "validate", "cluster", "scenario-path", "locust"} <= commands


def _loadsim(tmp_path, *words):
    return subprocess.run([PY, "-m", "loadsim", *words], capture_output=True, text=True, timeout=120, cwd=tmp_path)


def test_a_killed_runs_stub_is_shown_as_an_incomplete_run(tmp_path):
    files = _files(tmp_path)
    proc = _loadsim(tmp_path, "results", "show", files["stub_run"])
    assert proc.returncode == 0 and not proc.stderr, proc.stderr
    assert proc.stdout.startswith("incomplete run: only the series are there (scenario ha9, started 2026-12-06")
    assert "None" not in proc.stdout and "flags" not in proc.stdout  # no figures made up from nothing


def test_results_show_piped_into_head_ends_quietly(tmp_path):
    """The reader goes away after one line: no 'BrokenPipeError (a bug)', exit 0."""
    files = _files(tmp_path)
    stub = json.loads((Path(files["stub_run"]) / "summary.json").read_text())
    (Path(files["stub_run"]) / "summary.json").write_text(json.dumps({**stub, "note": "x" * 300_000}))
    proc = subprocess.Popen([PY, "-m", "loadsim", "results", "show", "--json", files["stub_run"]], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline()  # more than a pipe holds (300 kB) is still to come when the reader leaves
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == 0 and err == "", err


@pytest.fixture(scope="module")
def open_cluster():
    """A cluster whose default user has no password (Redis's default)."""
    from loadsim.embedded.cluster import ClusterSpec, EmbeddedCluster

    with EmbeddedCluster(ClusterSpec(masters=3)) as c:
        yield c


@pytest.mark.parametrize("how", ["check", "run"])
def test_a_password_for_a_server_without_one_says_so_and_the_fix(open_cluster, tmp_path, how):
    """Redis's raw 'ERR AUTH <password> called without any password configured ...' named no fix."""
    nodes = ",".join(n.address for n in open_cluster.nodes)
    env = {**os.environ, "LOCUST_PASSWORD": "not-needed-7"}
    words = ([PY, "-m", "loadsim", "check", "--redis-nodes", nodes] if how == "check" else
             [PY, "-m", "locust", "-f", HA9, "--headless", "-t", "5s", "--only-summary", "--redis-nodes", nodes,
              "--results-dir", str(tmp_path / "run")])
    proc = subprocess.run(words, capture_output=True, text=True, timeout=90, cwd=tmp_path, env=env)
    _assert_contract(proc, "a password is given but the server has no password for the default user; leave the "
                           "password out", 1 if how == "check" else 2)
    assert "not-needed-7" not in proc.stderr + proc.stdout
    assert "called without any password configured" not in proc.stderr
