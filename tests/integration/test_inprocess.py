"""Two load tests in one process, one after the other, each on its own Locust Environment + LocalRunner.

Run state lives on the Environment (``environment.loadsim``), so nothing of the first test leaks into the
second: each writes its own complete results folder, and in each the client's command count equals
Redis's own.
"""

import json

import gevent
from locust.env import Environment
from locust.event import Events

from loadsim.locust.plugin import Scenario, attach
from loadsim.locust.users import HaPairUser


class HaPair(HaPairUser):
    pass


def _one_test(cluster, results_dir, pairs, seconds=5.0):
    env = Environment(user_classes=[HaPair], events=Events())
    runner = env.create_local_runner()
    nodes = ",".join(n.address for n in cluster.nodes)
    runtime = attach(env, Scenario.declare("inprocess", ha_pairs=pairs),
                     ["--redis-nodes", nodes, "--results-dir", str(results_dir), "--aht", "20", "-u", str(pairs)])
    assert env.loadsim is runtime and runtime.cluster is None  # the given cluster, not an embedded one
    runner.start(pairs, spawn_rate=pairs)
    gevent.sleep(seconds)
    runner.quit()  # test_stop: the run summarises
    runtime.close()
    return json.loads((results_dir / "summary.json").read_text()), runtime


def test_two_runs_in_one_process_each_with_its_own_results(plain_cluster, tmp_path):
    first, rt1 = _one_test(plain_cluster, tmp_path / "first", pairs=2)
    second, rt2 = _one_test(plain_cluster, tmp_path / "second", pairs=3)
    assert rt1 is not rt2 and rt1.engine is not rt2.engine and rt1.engine.recorder is not rt2.engine.recorder
    for s, pairs in ((first, 2), (second, 3)):
        assert s["complete"] and not s["interrupted"] and s["scenario"] == "inprocess"
        assert s["workload"]["ha_pairs"] == pairs
        assert s["server"]["commands"] > 0
        assert s["server"]["commands"] == s["server"]["commands_client_counted"]
        assert s["operations"]["session.update"]["count"] > 0
    # the second run's counts are its own: its recorder started from zero
    assert second["server"]["commands_client_counted"] == sum(m["commands"] for m in second["masters"])
    assert (tmp_path / "first" / "client_series.csv").exists() and (tmp_path / "second" / "node_series.csv").exists()
