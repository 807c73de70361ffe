"""Tests started from the Locust web UI run what the form says, and each starts from a clean keyspace."""

import csv
import json
import time

from webui_support import LocustUI, http, open_start_page, wait


def _complete(folder):
    f = folder / "summary.json"
    return f.exists() and json.loads(f.read_text()).get("complete") is True


def _first_sample_keys(folder):
    """Keys on the masters at the first server sample of a run (before any session of it was written)."""
    with open(folder / "node_series.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    first_time = rows[0]["time"]
    return sum(int(r["keys"]) for r in rows if r["time"] == first_time and r["role"] == "master")


def _states_until_running(base):
    """The states Locust's page reads (/stats/requests) from now until the test runs, polled as the page does."""
    seen, deadline = [], time.monotonic() + 60
    while time.monotonic() < deadline:
        seen.append(json.loads(http(f"{base}/stats/requests"))["state"])
        if seen[-1] == "running":
            return seen
        time.sleep(0.05)
    raise AssertionError(f"the test did not start in 60 s: {seen[-5:]}")


def test_form_values_apply_and_each_test_starts_clean(tmp_path):
    out = tmp_path / "ui"
    with LocustUI("--results-dir", str(out), "--aht", "30") as ui:
        base = ui.base
        form = {"user_count": "2", "spawn_rate": "2", "host": "", "cps_per_pair": "2", "complexity": "complex",
                "masters": "4", "run_time": ""}
        assert json.loads(http(f"{base}/swarm", form))["success"]
        # 4 masters: the embedded cluster restarts inside test_start (a second or more); the page, polling meanwhile,
        # must not see "ready" (it went back to the start form and stopped polling) nor "stopped". The first poll
        # may come before Locust's start greenlet has run at all.
        states = _states_until_running(base)
        assert "ready" not in states[1:] and "stopped" not in states and states.count("spawning") > 3, states
        # Locust's "Edit" asking the running test for another number of HA pairs: refused, the test goes on with its 2
        resize = json.loads(http(f"{base}/swarm", {**form, "user_count": "3"}))
        assert resize["success"] is False and resize["message"].startswith("HA pairs: a running test keeps its 2")
        assert resize["loadsim_field"] == "userCount"
        time.sleep(6)
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


def _swarm(ui, **fields):
    form = {"user_count": "2", "spawn_rate": "2", "host": "", **fields}
    body = http(f"{ui.base}/swarm", form)
    assert body is not None, "the server answered with an error (HTTP 500?)"
    return json.loads(body)


def test_every_field_is_checked_before_anything_starts_and_a_blank_keeps_the_value_given_at_start(tmp_path):
    """Locust's /swarm converted each field to the type of its current value: a blank number was float('')
    (HTTP 500), a blank boolean false, 2.5 masters int('2.5') (HTTP 500); -1 HA pairs started a test. Each is
    refused naming its field, or a blank keeps the value given at start; nothing reaches Locust's conversion."""
    out = tmp_path / "ui"
    with LocustUI("--type", "cassandra", "--results-dir", str(out), "--aht", "30") as ui:
        for fields, field, said in (
                ({"user_count": "-1"}, "userCount", "HA pairs: '-1' is not a whole number of 1 or more"),
                ({"user_count": "2.5"}, "userCount", "HA pairs: '2.5'"),
                ({"spawn_rate": "0"}, "spawnRate", "Ramp up: '0'"),
                ({"spawn_rate": "nan"}, "spawnRate", "Ramp up: 'nan'"),
                ({"cps_per_pair": "-1"}, "cpsPerPair", "--cps-per-pair: -1 is out of range"),
                ({"masters": "2.5"}, "masters", "--masters: '2.5' is not a valid"),
                ({"aht": "abc"}, "aht", "--aht: 'abc'"),
                ({"prefill": "maybe"}, "prefill", "--prefill: 'maybe'"),
                ({"redis_socket_timeout": "-5"}, "redisSocketTimeout", "redis-socket-timeout: '-5'")):
            reply = _swarm(ui, **fields)
            assert reply["success"] is False and reply["loadsim_field"] == field, (fields, reply)
            assert reply["message"].startswith(said) and "nothing was started" in reply["message"], reply
        assert json.loads(http(f"{ui.base}/stats/requests"))["state"] == "ready"  # nothing started
        assert not out.exists()
        # blanks: the values given at start (aht 30 on the command line, prefill true by default)
        assert _swarm(ui, aht="", prefill="", cps_per_pair=" ", masters="", fault="")["success"]
        time.sleep(3)
        http(f"{ui.base}/stop", {})
        wait(lambda: _complete(out), 60, "the test's summary")
    simulation = json.loads((out / "config.json").read_text())["simulation"]
    assert simulation["aht"] == 30.0 and simulation["prefill"] is True and simulation["cps_per_pair"] == 5.0
    assert "Traceback" not in ui.log and "resulted in a 500" not in ui.log


def test_a_refused_field_is_shown_next_to_it_in_a_browser(tmp_path):
    """In chromium: -1 HA pairs and -1 calls/s are refused under their own fields, in view (the message used to be
    at the bottom of a 5,400 px page), and nothing starts; a blank handle time then starts a test with the value
    given at start. Screenshots in the test's folder."""
    import shutil

    import pytest

    sync_api = pytest.importorskip("playwright.sync_api", reason="no playwright: pip install -e '.[dev]'")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("no chromium: install Debian's chromium (scripts/ensure-browser.sh)")
    out = tmp_path / "ui"
    with LocustUI("--type", "cassandra", "--results-dir", str(out), "--aht", "30") as ui, \
            sync_api.sync_playwright() as pw:
        browser, page = open_start_page(pw, chromium, ui.base, 900)
        page.click("text=Custom parameters")
        page.click("text=Advanced options")
        page.wait_for_selector(".loadsim-group")

        def refused(field, value, said):
            page.fill(f"input[name={field}]", value)
            page.click("button:has-text('Start')")
            note = page.wait_for_selector(f".loadsim-field-error[data-field={field}]")
            assert note.inner_text().startswith(said), note.inner_text()
            # next to its field: inside the field's own box, and on screen
            inside = page.eval_on_selector(f".loadsim-field-error[data-field={field}]",
                                           "e => !!e.closest('.MuiFormControl-root').querySelector("
                                           f"'[name={field}]')")
            box = note.bounding_box()
            assert inside and box is not None and 0 <= box["y"] <= 900 - box["height"], box
            assert page.locator(".loadsim-field-error").count() == 1  # the previous one was cleared
            assert json.loads(http(f"{ui.base}/stats/requests"))["state"] == "ready" and not out.exists()

        refused("userCount", "-1", "HA pairs: '-1' is not a whole number of 1 or more")
        page.fill("input[name=userCount]", "2")
        refused("cpsPerPair", "-1", "--cps-per-pair: -1 is out of range")
        page.screenshot(path=str(tmp_path / "web_form_field_error.png"))

        page.fill("input[name=cpsPerPair]", "5")
        page.fill("input[name=aht]", "")
        page.click("button:has-text('Start')")
        wait(lambda: json.loads(http(f"{ui.base}/stats/requests"))["state"] in ("running", "spawning"), 60,
             "the test to start")
        assert page.locator(".loadsim-field-error").count() == 0
        time.sleep(2)
        http(f"{ui.base}/stop", {})
        wait(lambda: _complete(out), 60, "the test's summary")
        browser.close()
    assert json.loads((out / "config.json").read_text())["simulation"]["aht"] == 30.0
    assert "Traceback" not in ui.log and "resulted in a 500" not in ui.log


def test_a_test_after_a_kill_master_fault_starts_on_the_whole_cluster_again(tmp_path):
    """A kill-master typed into the form left the embedded cluster a node short (its replica promoted, the old
    master dead): the next test of the same page ran on 5 nodes and its summary said 0 replicas per master. Now the
    next test restarts the killed node and waits for cluster_state ok before it starts."""
    out = tmp_path / "ui"
    with LocustUI("--results-dir", str(out), "--replicas", "1", "--embedded-node-timeout", "1000",
                  "--aht", "10") as ui:
        assert _swarm(ui, fault="1:kill-master:0")["success"]
        time.sleep(6)  # the kill at 1 s, the replica promoted about 1-2 s later (node timeout 1 s)
        http(f"{ui.base}/stop", {})
        wait(lambda: _complete(out), 90, "the first test's summary")
        second_dir = out.with_name(out.name + "-2")
        assert _swarm(ui, fault="")["success"]
        wait(lambda: (second_dir / "node_series.csv").exists(), 90, "the second test's samples")
        time.sleep(4)
        http(f"{ui.base}/stop", {})
        wait(lambda: _complete(second_dir), 90, "the second test's summary")
    first = json.loads((out / "summary.json").read_text())
    (fault,) = first["faults"]
    assert fault["action"] == "kill-master" and fault["result"] == "ok", fault
    restored = [line for line in ui.log.splitlines() if "embedded cluster restored: node(s)" in line]
    assert len(restored) == 1 and f"node(s) {fault['node_index']}," in restored[0], ui.log[-3000:]
    second = json.loads((second_dir / "summary.json").read_text())
    assert (second["cluster"]["masters"], second["cluster"]["replicas"]) == (3, 1), second["cluster"]
    assert not second["flags"].get("cluster_down") and not second["flags"].get("master_fault"), second["flags"]
    with open(second_dir / "node_series.csv", newline="") as fh:
        first_rows = [r for r in csv.DictReader(fh)]
    first_time = first_rows[0]["time"]
    assert sum(1 for r in first_rows if r["time"] == first_time and r["state"] == "up") == 6
