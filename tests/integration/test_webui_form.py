"""Tests started from the Locust web UI run what the form says, and each starts from a clean keyspace."""

import csv
import json
import time

from webui_support import LocustUI, http, wait


def _complete(folder):
    f = folder / "summary.json"
    return f.exists() and json.loads(f.read_text()).get("complete") is True


def _first_sample_keys(folder):
    """Keys on the masters at the first server sample of a run (before any session of it was written)."""
    with open(folder / "node_series.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    first_time = rows[0]["time"]
    return sum(int(r["keys"]) for r in rows if r["time"] == first_time and r["role"] == "master")


def test_form_values_apply_and_each_test_starts_clean(tmp_path):
    out = tmp_path / "ui"
    with LocustUI("--results-dir", str(out), "--aht", "30") as ui:
        base = ui.base
        form = {"user_count": "2", "spawn_rate": "2", "host": "", "cps_per_pair": "2", "complexity": "complex",
                "masters": "4", "run_time": ""}
        assert json.loads(http(f"{base}/swarm", form))["success"]
        time.sleep(8)
        http(f"{base}/stop", {})
        wait(lambda: _complete(out), 60, "the first test's summary")
        first = json.loads((out / "summary.json").read_text())
        config = json.loads((out / "config.json").read_text())
        assert config["simulation"]["cps_per_pair"] == 2.0 and config["simulation"]["complexity"] == "complex"
        assert config["cluster"]["masters"] == 4 and first["cluster"]["masters"] == 4
        assert first["workload"]["cps_per_pair"] == 2.0 and first["workload"]["complexity"] == "complex"
        assert first["workload"]["ha_pairs"] == 2
        assert first["server"]["commands"] == first["server"]["commands_client_counted"] > 0

        # a second test on the same (embedded) cluster: the first test's sessions are gone before it starts
        assert json.loads(http(f"{base}/swarm", form))["success"]
        time.sleep(6)
        http(f"{base}/stop", {})
        second_dir = out.with_name(out.name + "-2")
        wait(lambda: _complete(second_dir), 60, "the second test's summary")
        assert first["masters"][0]["keys"] > 0 and _first_sample_keys(second_dir) == 0
        second = json.loads((second_dir / "summary.json").read_text())
        assert second["cluster"]["masters"] == 4 and second["workload"]["complexity"] == "complex"
        assert second["server"]["commands"] == second["server"]["commands_client_counted"] > 0
    assert "deleted the" in ui.log and "sessions the previous test left in Redis" in ui.log


def test_a_bad_form_value_refuses_the_test_and_keeps_the_ui(tmp_path):
    out = tmp_path / "ui"
    # type=cassandra: nothing is sent to Redis, so no cluster is needed
    with LocustUI("--type", "cassandra", "--results-dir", str(out)) as ui:
        reply = json.loads(http(f"{ui.base}/swarm", {"user_count": "2", "spawn_rate": "2", "host": "",
                                                      "complexity": "bogus"}))
        # Locust's own failure reply, whose message its page shows under the form
        assert reply["success"] is False and reply["message"].startswith("--complexity 'bogus' unknown")
        assert json.loads(http(f"{ui.base}/stats/requests"))["state"] == "ready"  # nothing started
        assert http(ui.base + "/") is not None  # Locust and its UI are still there
        assert not (out / "summary.json").exists()  # the refused test wrote nothing
        good = {"user_count": "2", "spawn_rate": "2", "host": "", "complexity": "simple"}
        assert json.loads(http(f"{ui.base}/swarm", good))["success"]
        time.sleep(3)
        http(f"{ui.base}/stop", {})
        wait(lambda: _complete(out), 60, "the good test's summary")
    assert "loadsim: error: --complexity 'bogus' unknown" in ui.log and "nothing was started" in ui.log
    assert json.loads((out / "summary.json").read_text())["workload"]["complexity"] == "simple"


def test_a_fault_typed_into_the_form_happens_in_that_test(tmp_path):
    out = tmp_path / "ui"
    with LocustUI("--type", "cassandra", "--results-dir", str(out)) as ui:
        form = {"user_count": "2", "spawn_rate": "2", "host": "", "fault": "2:switchover:all"}
        assert json.loads(http(f"{ui.base}/swarm", form))["success"]
        time.sleep(5)
        http(f"{ui.base}/stop", {})
        wait(lambda: _complete(out), 60, "the test's summary")
    summary = json.loads((out / "summary.json").read_text())
    (fault,) = summary["faults"]
    assert fault["action"] == "switchover" and fault["result"] == "ok" and 1.9 < fault["done_s"] < 4
    assert summary["recovery"]["pairs"] == 2
