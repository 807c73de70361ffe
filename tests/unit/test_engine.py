"""The engine and the run lifecycle on a real Locust Environment, without Redis.

With ``--type cassandra`` ORS persists nothing to Redis: the engine still schedules and counts every
session operation, and the run still writes its folder, so both can be tested in-process in seconds.
"""

import json
import time
from types import SimpleNamespace

import gevent
import pytest
from locust.env import Environment
from locust.event import Events

from loadsim.locust.engine import Engine
from loadsim.locust.plugin import Scenario, attach, engine_of
from loadsim.locust.run import Run
from loadsim.locust.users import HaPairUser
from loadsim.model import workload as wl


class HaPair(HaPairUser):
    pass


def _env():
    env = Environment(user_classes=[HaPair], events=Events())
    env.create_local_runner()
    return env


def _attach(env, tmp_path, *extra):
    return attach(env, Scenario.declare("unit", ha_pairs=2),
                  ["--type", "cassandra", "--results-dir", str(tmp_path / "run"), "--aht", "10", *extra])


def test_engine_numbers_pairs_and_resets_between_tests(tmp_path):
    env = _env()
    eng = _attach(env, tmp_path).engine
    assert engine_of(env) is eng and not eng.opts.persists
    assert [eng.next_pair().index for _ in range(3)] == [0, 1, 2]
    assert eng.next_pair().node_id != wl.HaPair(0).node_id
    first = eng.recorder
    eng.recorder.ops["session.update"] += 5
    eng.reset(eng.params)
    assert eng.recorder is not first and not eng.recorder.ops and eng.next_pair().index == 0
    assert eng.steady_from == float("inf")  # with pre-fill, statistics wait for it


def test_steady_window_starts_when_the_prefill_is_written_and_drained(tmp_path):
    env = _env()
    eng = _attach(env, tmp_path, "--warmup", "0").engine
    eng.reset(eng.params)
    pair = SimpleNamespace(primary=None, backup=None, schedule=None)
    eng.add_pair(pair, prefill_creates=2)
    eng.prefill_done(time.perf_counter())
    gevent.sleep(0.1)
    assert eng.steady_from == float("inf")  # one pre-fill write still outstanding
    eng.prefill_done(time.perf_counter())
    gevent.sleep(0.1)
    # every pre-fill write done, but Locust is still starting pairs (a ramp-up): a later pair's pre-fill would be
    # written inside the window
    assert eng.steady_from == float("inf")
    env.runner.user_greenlets.spawn(gevent.sleep, 5)  # Locust started a second pair's user, not begun yet
    env.runner.user_greenlets.spawn(gevent.sleep, 5)
    env.events.spawning_complete.fire(user_count=2)
    gevent.sleep(0.1)
    assert eng.steady_from == float("inf")  # the second pair has not started
    before = time.perf_counter()
    eng.add_pair(pair, prefill_creates=0)  # it has, and has nothing to pre-fill
    gevent.sleep(0.1)
    assert before <= eng.steady_from <= time.perf_counter()
    env.runner.user_greenlets.kill()


def test_a_test_stopped_before_its_steady_window_leaves_no_wait_behind(tmp_path, monkeypatch):
    """A test stopped in its pre-fill's drain or its --warmup ends that wait with it: left alone it woke up inside
    the web UI's next test and reset Locust's statistics there (Locust's tables then counted 913 operations of the
    next test where its summary counted 2,674). A retired engine no longer listens to Locust's events."""
    resets = []
    for stop in (False, True):
        env = _env()
        monkeypatch.setattr(env.runner.stats, "reset_all", lambda stop=stop: resets.append(stop))
        eng = _attach(env, tmp_path / str(stop), "--warmup", "0.3").engine
        eng.reset(eng.params)
        eng.add_pair(SimpleNamespace(primary=None, backup=None, schedule=None), prefill_creates=1)
        env.events.spawning_complete.fire(user_count=0)
        eng.prefill_done(time.perf_counter())  # the pre-fill is written: the window waits for the warm-up's end
        gevent.sleep(0.05)
        if stop:
            env.events.test_stopping.fire(environment=env)
        gevent.sleep(0.5)
    assert resets == [False]  # the test that ran on reset Locust's clocks at its window's start; the stopped one not
    eng.retire()
    eng.batched.direct = False
    env.events.test_stopping.fire(environment=env)
    assert eng.batched.direct is False  # its _stopping no longer runs at another test's stop


def test_engine_of_an_environment_without_loadsim_says_how_to_attach():
    with pytest.raises(RuntimeError, match="attach"):
        engine_of(_env())


def test_a_test_from_start_to_finish_writes_one_complete_folder(tmp_path):
    env = _env()
    runtime = _attach(env, tmp_path)
    env.runner.start(2, spawn_rate=2)
    gevent.sleep(0.5)
    stub = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert stub["complete"] is False and stub["schema_version"] >= 1  # written at the start
    gevent.sleep(2.0)
    env.runner.quit()
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["complete"] and not summary["interrupted"] and summary["workload"]["ha_pairs"] == 2
    assert summary["server"]["commands_client_counted"] == 0  # type=cassandra: nothing sent to Redis
    assert sum(op["count"] for op in summary["operations"].values()) > 0  # but sessions were simulated
    assert runtime.run is None
    runtime.close()  # quitting after the test stopped changes nothing
    assert json.loads((tmp_path / "run" / "summary.json").read_text()) == summary


def test_run_finish_is_idempotent(tmp_path):
    env = _env()
    eng = _attach(env, tmp_path).engine
    eng.reset(eng.params)
    run = Run(env, eng, "unit", cluster=None)
    assert run.path == tmp_path / "run" and isinstance(eng, Engine)
    run.finish(interrupted=True)
    first = (run.path / "summary.json").read_text()
    run.finish(interrupted=False)
    assert (run.path / "summary.json").read_text() == first and json.loads(first)["interrupted"] is True


def test_bad_option_is_one_line_and_exit_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        _attach(_env(), tmp_path, "--key-layout", "sideways")
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("loadsim: error:") and "--key-layout" in err[0]


def test_client_stats_name_every_counter_and_start_at_zero(tmp_path):
    eng = _attach(_env(), tmp_path).engine
    eng.reset(eng.params)
    assert eng.client_stats() == {"slot_refreshes": 0, "refresh_errors": 0, "refreshes_skipped": 0,
                                  "connections_opened": 0, "reconnects": 0, "moved": 0, "asked": 0}


def test_the_engine_reads_typed_settings_with_the_defaults_filled_in(tmp_path):
    env = _env()
    eng = _attach(env, tmp_path).engine
    s = eng.settings
    assert (s.warmup_s, s.switchover_at_s, s.migrating, s.pool_connections, s.read_back) == (0.0, None, False, "lazy",
                                                                                            True)
    env2 = _env()
    s = _attach(env2, tmp_path, "--warmup", "2.5", "--switchover-at", "5", "--pool-connections", "eager",
                "--read-back", "false", "--migration-step", "3").engine.settings
    assert (s.warmup_s, s.switchover_at_s, s.migrating, s.migration_step_s, s.pool_connections, s.read_back) == \
        (2.5, 5.0, True, 3.0, "eager", False)


def test_a_delete_dropped_when_a_node_stops_is_remembered_for_the_next_tests_clean_up(tmp_path):
    """A session leaves the schedule when its delete is due; a delete still queued (or in flight) when the node
    stops never ran, so its keys stay in Redis: the node keeps the id for Engine.delete_sessions (seen: 3 keys
    of the previous test at the next web-UI test's first sample)."""
    from loadsim.locust.engine import OrsNode

    eng = _attach(_env(), tmp_path).engine
    eng.reset(eng.params)
    node = OrsNode(eng, dbid=101, node_id=100)
    node.pending.extend([wl.Op(0.0, wl.DELETE, "s-deleted", 0, 0, seq=1),
                         wl.Op(0.0, wl.UPDATE, "s-updated", 100, 0, seq=2, version=2)])
    assert node.stop(grace_s=0) == 2
    assert node.undeleted == ["s-deleted"]
