"""Every --json output is validated against its documented shape (loadsim.results.shapes, in docs/results.md)."""

import json

import jsonschema
import pytest
from test_results import _run

from loadsim import cli
from loadsim.cli.sweep import sweep_json
from loadsim.results.shapes import SHAPES


def valid(command, text):
    data = json.loads(text)
    jsonschema.validate(data, SHAPES[command])
    return data


@pytest.fixture
def two_runs(tmp_path):
    for name, seconds in (("a", 12), ("b", 22)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "summary.json").write_text(json.dumps(_run(seconds=seconds)))
    return tmp_path


def test_the_shapes_are_json_schemas_and_reject_what_they_should():
    for shape in SHAPES.values():
        jsonschema.Draft202012Validator.check_schema(shape)
    with pytest.raises(jsonschema.ValidationError):  # the old results show --json: a bare summary
        jsonschema.validate({"schema_version": 2, "complete": True}, SHAPES["results show"])
    with pytest.raises(jsonschema.ValidationError):  # an element without its folder
        jsonschema.validate({"runs": [{"summary": {"schema_version": 2, "complete": True}}]}, SHAPES["results show"])


def test_results_show_json_has_its_shape_for_one_run_and_for_many(two_runs, capsys):
    for path, names in ((two_runs / "a", ["a"]), (two_runs, ["a", "b"])):
        assert cli.main(["results", "show", str(path), "--json"]) == 0
        assert [r["run"] for r in valid("results show", capsys.readouterr().out)["runs"]] == names


def test_results_compare_json_has_its_shape_and_the_tables_numbers(two_runs, capsys):
    assert cli.main(["results", "compare", str(two_runs / "a"), str(two_runs / "b"), "--json"]) == 0
    data = valid("results compare", capsys.readouterr().out)
    a, b = data["runs"]
    assert data["baseline"] == "a" and (a["path"], b["path"]) == (str(two_runs / "a"), str(two_runs / "b"))
    assert (a["figures"]["offered_ops_per_s"], b["figures"]["offered_ops_per_s"]) == (9.0, 9.5)
    assert a["ratio_to_baseline"]["offered_ops_per_s"] == 1.0
    assert b["ratio_to_baseline"]["offered_ops_per_s"] == pytest.approx(9.5 / 9.0, abs=1e-4)
    assert b["ratio_to_baseline"]["tls"] is None and set(data["figures"]) == set(a["figures"])
    # the table prints the same ratio
    assert cli.main(["results", "compare", str(two_runs / "a"), str(two_runs / "b")]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("offered ops/s"))
    assert line.split()[-1] == f"{9.5 / 9.0:.2f}"


def test_plan_json_has_its_shape_with_and_without_runs(two_runs, capsys):
    # the memory fit needs two live-session counts: b holds twice a's sessions, and the memory for them
    b = json.loads((two_runs / "b" / "summary.json").read_text())
    b["live_sessions"]["steady_mean"] = 200.0
    b["masters"][0]["used_memory_steady_mean"] += 100 * 4000
    (two_runs / "b" / "summary.json").write_text(json.dumps(b))
    assert cli.main(["plan", "--json"]) == 0
    data = valid("plan", capsys.readouterr().out)
    assert data["from"] is None and data["runs"] == []
    code = cli.main(["plan", "--json", "--from", str(two_runs)])
    data = valid("plan", capsys.readouterr().out)
    assert code in (0, 3) and data["from"] == str(two_runs)
    assert [r["run"] for r in data["runs"]] == ["a", "b"] and data["runs"][0]["path"] == str(two_runs / "a")


def test_sweep_json_names_every_run_and_the_failed_ones(tmp_path):
    index = {"complete": True, "runs": [
        {"point": {}, "label": "p1-m3", "path": "000-p1-m3", "seconds": 12.3, "exit_code": 0, "ok": True},
        {"point": {}, "label": "p3-m3", "path": "001-p3-m3", "seconds": 4.0, "exit_code": 2, "ok": False,
         "error": "loadsim: error: ..."}]}
    data = sweep_json(tmp_path / "sw", index, "verdict for 9 HA pairs on 3 masters from these runs: PASS; ...")
    jsonschema.validate(data, SHAPES["sweep"])
    assert data["verdict"].startswith("verdict for 9 HA pairs")
    jsonschema.validate(sweep_json(tmp_path / "sw", index), SHAPES["sweep"])  # a failed run: no verdict
    assert [r["path"] for r in data["runs"]] == [str(tmp_path / "sw" / "000-p1-m3"), str(tmp_path / "sw" / "001-p3-m3")]
    assert data["failed"] == ["p3-m3"] and data["next"] == f"loadsim report {tmp_path / 'sw'}"


def test_compare_tls_json_names_every_run_and_has_no_nan(tmp_path):
    from loadsim.cli.compare_tls import compare_json, sustained_text

    def entry(path, tls, ok=True):
        return {"point": {"tls": tls}, "label": path, "path": path, "seconds": 5.0, "ok": ok}

    nan = float("nan")
    index = {"complete": True, "fixed": [entry("f1-plain", False), entry("f1-tls", True)],
             "saturation": {"plain": [entry("s1-plain", False)], "tls": [entry("s1-tls", True, ok=False)]},
             "cross_check": {"plain": {"connect": {"median_ms": 0.1}}},
             "analysis": {"ratios": {"p99_us": {"ratio": 1.1, "ci_low": nan, "ci_high": nan, "n": 1}},
                          "max_sustained_ops_per_s": {"plain": 1234.5, "tls": 980.0},
                          "max_sustained_is_lower_bound": {"tls": True}}}
    data = json.loads(json.dumps(compare_json(tmp_path / "cmp", index), allow_nan=False))  # valid JSON: no NaN
    jsonschema.validate(data, SHAPES["compare-tls"])
    p99 = data["ratios"]["p99_us"]
    assert {k: p99[k] for k in ("ratio", "ci_low", "ci_high", "n")} == {"ratio": 1.1, "ci_low": None, "ci_high": None,
                                                                         "n": 1}
    assert p99["text"] == "1.10 (interval after 2 pairs)" and p99["resolved"] is False
    # an interval that resolves nothing is said so, with what to run, never printed as a figure
    index["analysis"]["ratios"]["p999_us"] = {"ratio": 0.123, "ci_low": 0.0001, "ci_high": 5772614758935.028, "n": 2}
    wide = compare_json(tmp_path / "cmp", index)["ratios"]["p999_us"]
    assert wide["resolved"] is False and wide["text"].startswith("unresolved: run longer (")
    assert "5772614758935" not in wide["text"] and wide["text"].endswith("for ±5 %)")
    assert [(r["run"], r["part"]) for r in data["runs"]] == [("f1-plain", "fixed"), ("f1-tls", "fixed"),
                                                             ("s1-plain", "saturation plain"),
                                                             ("s1-tls", "saturation tls")]
    assert data["runs"][0]["path"] == str(tmp_path / "cmp" / "f1-plain") and data["failed"] == ["s1-tls"]
    assert sustained_text(index["analysis"]) == "plain 1,234, TLS at least 980 (its last step still met the SLO)"


# Each --json command's failure path: one object on stdout with ok false, the exit code kept, the line on stderr.
FAILURES = [
    (["check", "--json", "--redis-nodes", "127.0.0.1:1"], "check", 1, "unreachable"),
    (["check", "--json"], "check", 2, "redis-nodes is not set"),
    (["check", "--json", "--redis-nodes", "127.0.0.1:1", "--ha-pairs", "abc"], "check", 2, "invalid int value"),
    (["check", "--json", "--redis-nodes", "127.0.0.1:1", "--pa", "Pw-in-json-7"], "check", 2, "--password"),
    (["plan", "--json", "--ha-pairs", "0"], "plan", 2, "ha-pairs must be >= 1"),
    (["results", "show", "--json", "{missing}"], "results show", 2, "missing"),
    (["results", "compare", "--json", "{missing}", "{missing}"], "results compare", 2, "missing"),
    (["results", "compare", "--json", "{missing}"], "results compare", 2, "two or more run folders"),
    (["sweep", "--json", "--repeats", "100000000", "--out", "{out}"], "sweep", 2, "give 1 to 50"),
    (["compare-tls", "--json", "--repeats", "1000", "--out", "{out}"], "compare-tls", 2, "give 3 to 50"),
]


@pytest.mark.parametrize("words, command, code, said", FAILURES, ids=[" ".join(f[0])[:50] for f in FAILURES])
def test_every_json_command_prints_an_object_on_failure_too(tmp_path, capsys, words, command, code, said):
    from loadsim.results.shapes import FAILURE

    argv = [w.format(missing=tmp_path / "missing", out=tmp_path / "out") for w in words]
    try:
        assert cli.main(argv) == code
    except SystemExit as exc:  # argparse's usage errors leave through SystemExit, as for any argparse program
        assert exc.code == code
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    jsonschema.validate(data, FAILURE)
    assert data["command"] == command and data["exit_code"] == code and said in data["error"]
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("loadsim: error:") and said in err[0]
    assert "Pw-in-json-7" not in captured.out + captured.err
    assert not (tmp_path / "out").exists()


def test_a_successful_json_object_says_ok_and_a_failure_is_not_printed_twice(two_runs, capsys):
    assert cli.main(["results", "show", str(two_runs / "a"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True
