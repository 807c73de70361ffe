"""The results layer without Redis: schema and versions, the writer, the reader, summary, recorder merge."""

import json
import re
from pathlib import Path

import pytest

from loadsim.errors import ERROR_KINDS, ResultsError
from loadsim.results import reader, schema
from loadsim.results.recorder import Recorder
from loadsim.results.summary import build_summary
from loadsim.results.text import summary_table
from loadsim.results.writer import RunWriter

ROOT = Path(__file__).resolve().parents[2]
WORKLOAD = {"ha_pairs": 2, "cps_per_pair": 5.0, "aht_s": 10.0, "complexity": {"name": "standard"},
            "key_layout": "per-session", "worker_threads": 4, "session_ttl_s": 3600, "digital_share": 0.0,
            "writes_per_session": 8.0, "record_bytes_mean": 4096, "expected_live_sessions": 100.0,
            "expected_ops_per_s": 80.0, "seed": 1}
CLUSTER = {"masters": 1, "replicas": 0, "tls": False, "mutual_tls": False, "acl": False, "aof": False,
           "embedded": True}


def _paths(obj, prefix=""):
    """Key paths of a JSON value, in the schema's notation (lists as [], operation names as <name>)."""
    out = set()
    if isinstance(obj, dict):
        for k, v in obj.items():
            name = "<name>" if prefix in ("operations.", "errors.", "latency_split.operations.",
                                          "latency_split.redis_us_per_command.") else k
            path = f"{prefix}{name}"
            out.add(path)
            out |= _paths(v, path + ".")
    elif isinstance(obj, list):
        for v in obj:
            out |= _paths(v, prefix[:-1] + "[].")
    return out


def _run(recorder=None, cpu_percent=10.0, steady_from_s=2.0, seconds=12, offered_per_s=10, errors=0,
         late_steady=None):
    """A synthetic run: one master, a client sample per second, the recorder's operations."""
    rec = recorder or Recorder()
    if recorder is None:
        for i in range(offered_per_s * (seconds - 3)):
            rec.record("session.update", 100 + i, 150 + i, 2)
        rec.offered = offered_per_s * (seconds - 3)
        for _ in range(errors):
            rec.error("session.update", "timeout")
    client = [{"elapsed_s": float(t), "live_sessions": 100, "generator_cpu_percent": cpu_percent,
               "generator_cpu_s": 0.01 * t, "commands_total": 20 * t, "generator_rss_bytes": 1000 + t}
              for t in range(seconds)]
    nodes = [{"node": "127.0.0.1:7000", "role": "master", "elapsed_s": float(t), "used_memory": 1_000_000 + 1000 * t,
              "used_memory_rss": 2_000_000, "keys": 50, "connected_clients": 9, "used_cpu_sys": 0.01 * t,
              "used_cpu_user": 0.01 * t, "total_commands_processed": 21 * t} for t in range(seconds)]
    cs_start = {"127.0.0.1:7000": {"set": {"calls": 0}, "info": {"calls": 0}}}
    cs_end = {"127.0.0.1:7000": {"set": {"calls": rec.commands}, "info": {"calls": seconds}}}
    return build_summary(scenario="t", started=1000.0, ended=1000.0 + seconds, steady_from_s=steady_from_s,
                         workload=WORKLOAD, cluster=CLUSTER, recorder=rec, client_rows=client, node_rows=nodes,
                         commandstats_start=cs_start, commandstats_end=cs_end, client_cpu_s=0.5, recovery=[],
                         interrupted=False, late_steady=late_steady)


def _schema_paths(required_only: bool) -> set[str]:
    return {p for p, _, required in schema.key_paths() if required or not required_only}


# ------------------------------------------------------------------------------------------ schema
def test_the_writer_writes_every_required_key_of_the_schema_and_no_other():
    summary = _run()
    written = _paths(json.loads(json.dumps(summary)))
    assert summary["schema_version"] == schema.SCHEMA_VERSION
    assert _schema_paths(required_only=True) <= written
    assert written <= _schema_paths(required_only=False), written - _schema_paths(required_only=False)


def test_the_documented_example_uses_only_keys_of_the_schema():
    text = (ROOT / "docs" / "results.md").read_text(encoding="utf-8")
    example = re.search(r"```json\n(\{.*?\})\n```", text, re.S).group(1).replace('["..."]', "[]")
    documented = _paths(json.loads(example))
    assert documented <= _schema_paths(required_only=False), documented - _schema_paths(required_only=False)
    assert "rates.model_ops_per_s" in documented


def test_upgrade_fills_the_oldest_runs_steady_figures_and_refuses_newer_versions():
    old = {"complete": True, "duration_s": 60.0, "masters": [{"cpu_s": 2.0, "commands": 500}]}
    up = schema.upgrade(old)
    assert up["schema_version"] == schema.SCHEMA_VERSION and "schema_version" not in old  # a new dict
    assert up["masters"][0] == {"cpu_s": 2.0, "commands": 500, "cpu_s_steady": 2.0, "steady_s": 60.0,
                                "commands_steady": 500}
    current = _run()
    assert schema.upgrade(current) == current
    with pytest.raises(ResultsError, match=r"newer loadsim \(results schema 4; this one reads up to 3\)"):
        schema.upgrade({**current, "schema_version": 4}, "x/summary.json")
    with pytest.raises(ResultsError, match="damaged"):
        schema.upgrade({"schema_version": "one"})


def test_the_stub_is_incomplete_and_versioned():
    s = schema.stub("ha9", "2026-11-25T10:00:00+0000")
    assert s == {"schema_version": schema.SCHEMA_VERSION, "complete": False, "scenario": "ha9",
                 "started": "2026-11-25T10:00:00+0000"}


# ------------------------------------------------------------------------------------------ reader / writer
def _folder(tmp_path, summary):
    run = tmp_path / "run"
    run.mkdir(parents=True)
    (run / "summary.json").write_text(json.dumps(summary))
    return run


def test_reader_reads_version_0_and_1_and_refuses_a_newer_one_in_one_line(tmp_path):
    current = _run()
    v0 = {k: v for k, v in current.items() if k != "schema_version"}
    assert reader.load(_folder(tmp_path / "a", v0)).summary == current
    assert reader.load(_folder(tmp_path / "b", current)).summary == current
    with pytest.raises(ResultsError) as err:
        reader.load(_folder(tmp_path / "c", {**current, "schema_version": 9}))
    assert "\n" not in str(err.value) and "upgrade loadsim" in str(err.value)


def test_writer_refuses_a_column_it_would_drop(tmp_path):
    w = RunWriter(tmp_path / "run")
    w.append_rows("x.csv", ["a", "b"], [{"a": 1, "b": 2}, {"a": 3}])
    with pytest.raises(ValueError, match="c"):
        w.append_rows("x.csv", ["a", "b"], [{"a": 1, "c": 2}])
    w.close()
    assert (tmp_path / "run" / "x.csv").read_text().splitlines() == ["a,b", "1,2", "3,"]


def test_writer_will_not_overwrite_a_run(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "summary.json").write_text("{}")
    with pytest.raises(ResultsError, match="already holds a run"):
        RunWriter(tmp_path / "run")


# ------------------------------------------------------------------------------------------ summary
def test_summary_rates_counts_and_referee():
    s = _run(seconds=12, steady_from_s=2.0, offered_per_s=10)
    assert s["steady_s"] == pytest.approx(10.0)
    assert s["rates"]["offered_ops_per_s"] == pytest.approx(9.0)  # 90 operations in the 10 s window
    assert s["rates"]["achieved_ops_per_s"] == pytest.approx(9.0)
    assert s["server"]["commands"] == s["server"]["commands_client_counted"] == 180
    assert s["operations"]["session.update"]["latency_us"]["count"] == 90
    assert s["masters"][0]["cpu_s"] == pytest.approx(0.22)
    assert s["masters"][0]["commands_steady"] == 21 * 9 - 9  # less one monitor INFO per sample interval
    assert s["masters"][0]["steady_s"] == pytest.approx(9.0)
    assert s["rates"]["steady_commands_per_s"] == pytest.approx(180 / 9.0)  # the steady window, not the run
    assert s["flags"] == {"generator_saturated": False, "schedule_fell_behind": False, "errors": False,
                          "no_steady_state": False, "cluster_down": False, "command_gap": False}


def test_a_gap_between_the_clients_and_redis_command_counts_is_a_flag():
    from loadsim.results.summary import command_gap

    assert not command_gap(17_868, 17_868) and not command_gap(100, 104)  # a few: within the tolerance
    assert command_gap(17_868, 17_840) and command_gap(11_118, 12_006)  # the gaps seen after faults


def test_summary_flags_name_what_makes_the_numbers_doubtful():
    assert _run(cpu_percent=95.0)["flags"]["generator_saturated"]
    assert _run(errors=3)["flags"]["errors"]
    assert _run(steady_from_s=None)["flags"]["no_steady_state"]
    assert _run(steady_from_s=9.0)["flags"]["no_steady_state"]  # a 3 s window is too short
    rec = Recorder()
    for _ in range(50):
        rec.record("session.update", 100, 150, 2)
    rec.offered = 100  # half of what was offered was achieved
    assert _run(recorder=rec)["flags"]["schedule_fell_behind"]


def test_summary_table_shows_the_referee_and_the_flags():
    text = summary_table(_run(errors=2))
    assert "server: 180 commands (client counted 180)" in text
    assert "20.0 commands/s (" in text  # steady-window rate first, the whole run's in brackets
    assert re.search(r"127\.0\.0\.1:7000\s+987\.3 KiB", text)  # used_memory 1,011,000 B, human-readable
    assert "flags: errors" in text
    assert "  errors: 2 failed operations (timeout 2); " in text and "Next: " in text  # its number, the next step
    assert re.search(r"session\.update\s+92\s+2\s+0\s", text)  # 90 ok + 2 failed in the window, no warm-up


def test_one_counting_convention_window_failed_included_warmup_apart():
    """count = the window's operations, failed ones included (Locust's request count); warm-up apart."""
    rec = Recorder()
    for _ in range(5):
        rec.not_measured("session.prefill", 1)
    rec.not_measured("session.create", 1)  # due in the warm-up
    rec.error("session.create", "timeout", steady=False)
    for _ in range(7):
        rec.record("session.create", 100, 150, 1)
    rec.error("session.create", "moved")
    ops = rec.operations_summary()
    assert ops["session.create"]["count"] == 8 and ops["session.create"]["errors"] == 1
    assert ops["session.create"]["warmup"] == 2 and ops["session.create"]["latency_us"]["count"] == 7
    assert ops["session.prefill"]["count"] == 0 and ops["session.prefill"]["warmup"] == 5
    assert rec.ops["session.create"] == 8 and rec.errors["timeout"] == 1  # the per-second series: whole run
    text = summary_table(_run(recorder=rec))
    assert re.search(r"session\.create\s+8\s+1\s+2\s+150\s", text)
    assert re.search(r"session\.prefill\s+0\s+0\s+5\s+-", text)


def test_upgrade_from_version_1_splits_the_whole_run_count_into_window_and_warmup():
    v1 = {"schema_version": 1, "complete": True, "operations": {
        "session.create": {"count": 841, "errors": 2, "latency_us": {"count": 793}},
        "session.prefill": {"count": 500, "errors": 0, "latency_us": {"count": 0}}}}
    ops = schema.upgrade(v1)["operations"]
    assert (ops["session.create"]["count"], ops["session.create"]["warmup"]) == (795, 48)
    assert (ops["session.prefill"]["count"], ops["session.prefill"]["warmup"]) == (0, 500)


# ------------------------------------------------------------------------------------------ recorder
def test_merging_worker_drains_equals_one_recorder_that_saw_everything():
    whole, a, b = Recorder(), Recorder(), Recorder()
    for i in range(1, 2001):
        target = a if i % 3 else b
        for rec in (whole, target):
            rec.record("session.update", i, 2 * i, 2)
            rec.schedule_lag(i * 1e-6, True)
    for rec in (whole, b):
        rec.error("session.create", "moved", 1)
        rec.error("session.create", "loading")
    merged = Recorder()
    merged.merge(a.drain())
    merged.merge(b.drain())
    assert merged.operations_summary() == whole.operations_summary()
    assert merged.commands == whole.commands == 4001
    assert merged.errors == whole.errors and merged.errors["loading"] == 1
    assert merged.lag.get_value_at_percentile(99) == whole.lag.get_value_at_percentile(99)


def test_every_error_kind_has_a_client_series_column():
    assert {f"errors:{k}" for k in ERROR_KINDS} <= set(schema.CLIENT_COLUMNS)
    assert {"errors:loading", "errors:readonly", "errors:masterdown"} <= set(schema.CLIENT_COLUMNS)


def test_results_show_json_and_compare(tmp_path, capsys):
    from loadsim import cli

    for name, seconds in (("a", 12), ("b", 22)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "summary.json").write_text(json.dumps(_run(seconds=seconds)))
    # one shape for one run or many, each element naming its folder
    assert cli.main(["results", "show", str(tmp_path / "a"), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    [one] = shown["runs"]
    assert one["run"] == "a" and one["path"] == str(tmp_path / "a")
    assert one["summary"]["schema_version"] == schema.SCHEMA_VERSION and one["summary"]["duration_s"] == 12
    assert cli.main(["results", "show", str(tmp_path), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert [(r["run"], r["summary"]["duration_s"]) for r in shown["runs"]] == [("a", 12), ("b", 22)]
    assert cli.main(["results", "compare", str(tmp_path / "a"), str(tmp_path / "b")]) == 0
    table = capsys.readouterr().out.splitlines()
    assert "ratio 2/1" in table[0]
    offered = next(line for line in table if line.startswith("offered ops/s")).split()
    assert offered[2:] == ["9.0", "9.5", "1.06"]  # 90 ops in a's 10 s steady window, 190 in b's 20 s
    # each run's class, as its summary holds it, first
    classes = [json.loads((tmp_path / n / "summary.json").read_text())["run_class"]["class"] for n in "ab"]
    assert table[1].split()[2:4] == classes
    assert cli.main(["results", "compare", str(tmp_path / "a")]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and "two or more" in err[0]


def test_the_summary_text_names_a_hot_master_and_why():
    from loadsim.results.text import hot_master_line, summary_table

    def summary(counts, layout):
        return {"workload": {"key_layout": layout}, "masters": [
            {"node": f"127.0.0.1:{7000 + i}", "commands": c} for i, c in enumerate(counts)]}

    line = hot_master_line(summary([1000, 1100, 4000], "index"))
    assert line.startswith("hot master: 127.0.0.1:7002 executed 66 % of the commands (3.6x the median master)")
    assert "index ORS:<cluster>" in line
    assert hot_master_line(summary([1000, 1100, 1200], "per-session")) is None
    assert hot_master_line(summary([0, 0, 500], "single-hash")).endswith("the one hash ORS:<cluster>")
    assert "hot master" in summary_table(summary([1, 1, 90], "index"))


def test_oom_errors_say_maxmemory_was_reached():
    from loadsim.results.text import summary_table

    text = summary_table({"errors": {"oom": 1035, "timeout": 2}})
    assert "errors by kind: oom 1,035, timeout 2" in text and "maxmemory reached: Redis refused 1,035 writes" in text
    assert "maxmemory" not in summary_table({"errors": {"timeout": 2}})


def test_a_results_dir_that_cannot_be_written_is_refused_in_one_line(tmp_path):
    from loadsim.results.writer import check_results_dir

    a_file = tmp_path / "file.txt"
    a_file.write_text("keep\n")
    with pytest.raises(ResultsError, match=r"--results-dir .*file\.txt: it is a file, not a folder; give a writable"):
        check_results_dir(a_file)
    with pytest.raises(ResultsError, match=r"--results-dir .*sub: '.*file\.txt' is a file, not a folder; give a"):
        check_results_dir(a_file / "deeper" / "sub")
    assert a_file.read_text() == "keep\n"
    check_results_dir(tmp_path / "new" / "run")  # writable: probed, and nothing left behind
    assert not (tmp_path / "new").exists()


def test_the_summary_is_built_in_one_place_and_nothing_adds_keys_afterwards():
    """build_summary takes everything the engine recorded (faults, read-back, migration...): the code that writes
    summary.json never adds a key to it after the builder (so the schema and the builder are the whole story)."""
    for path in (ROOT / "loadsim").rglob("*.py"):
        if path.name == "summary.py":
            continue
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\bsummary\[[\"'][a-z_]+[\"']\](\[[\"'][a-z_]+[\"']\])?\s*=[^=]", text), path


def test_an_older_summary_is_classified_on_the_same_evidence_as_the_writers():
    """RunEvidence is built in one place (results.figures.run_evidence): the run class the writer gave a real run
    and the one an upgrade computes for the same run without it agree on the figures both can see."""
    written = json.loads((ROOT / "tests/unit/data/summary-rig-bound.json").read_text())
    older = {k: v for k, v in written.items() if k != "run_class"} | {"schema_version": 2}
    upgraded = schema.upgrade(older)["run_class"]
    rig = next(r for r in written["run_class"]["reasons"] if r.startswith("rig "))
    assert rig in upgraded["reasons"] and upgraded["class"] == written["run_class"]["class"] == "rig-bound"
    for figure in ("busiest master 1 % of a core", "schedule lag p99 9.9 ms", "achieved 100 % of offered"):
        assert figure in written["run_class"]["evidence"] and figure in upgraded["evidence"]
    assert upgraded["reasons"] == written["run_class"]["reasons"]  # the host figures it holds count too
    bare = schema.upgrade({k: v for k, v in older.items() if k not in ("host", "latency_split")})["run_class"]
    assert "no host figures" in bare["evidence"] and "host CPU pressure" not in " ".join(bare["reasons"])


def test_a_workers_late_steady_start_is_recorded_and_flagged_past_one_percent_of_the_window():
    """A Locust worker that heard of the master's steady start late (the master only logged it): the summary names
    it, how late, its HA pairs and the share of the steady rates it left out; the flag is raised past 1 % of the
    window (10 s here: 0.1 s), never below the 0.1 s the master records from."""
    on_time = _run()
    assert "late_steady_starts" not in on_time and "worker_late_steady" not in on_time["flags"]
    summary = _run(late_steady={"w-a": (0.05, 1), "w-b": (0.08 + 0.05, 1), "w-c": (0.5, 1)})
    assert summary["steady_s"] == 10
    assert summary["late_steady_starts"] == [
        {"worker": "w-c", "late_s": 0.5, "ha_pairs": 1, "rates_bias": 0.025, "past_tolerance": True},
        {"worker": "w-b", "late_s": 0.13, "ha_pairs": 1, "rates_bias": 0.0065, "past_tolerance": True}]
    assert summary["flags"]["worker_late_steady"] is True
    text = summary_table(summary)
    assert "worker_late_steady: worker w-c 0.50 s late (1 HA pairs, 2.5 % of the steady rates left out); worker " \
           "w-b 0.13 s late" in text
    assert "a Locust worker heard of the master's one steady start late" in text  # the glossary's meaning
    # within the tolerance: recorded, not flagged (a 100 s window tolerates 1 s)
    quiet = _run(seconds=102, late_steady={"w-a": (0.5, 1)})
    assert quiet["late_steady_starts"][0]["past_tolerance"] is False and "worker_late_steady" not in quiet["flags"]
    # the record is in the schema (a reader checks every key it meets)
    assert {"late_steady_starts", "flags.worker_late_steady"} <= _schema_paths(required_only=False)
