"""The password never reaches the Locust web UI: not in the page, not in its data, not as a default value."""

import os

from webui_support import LocustUI, http

SECRET = "s3cr3t-Pa55-do-not-show"


def test_password_from_environment_and_flag_is_not_served(tmp_path):
    env = {**os.environ, "LOCUST_PASSWORD": SECRET}
    # type=cassandra: nothing is sent to Redis, so no cluster is needed to serve the UI
    with LocustUI("--type", "cassandra", "--username", "ors", "--password", SECRET, "--results-dir",
                  str(tmp_path / "run"), env=env) as ui:
        page = http(ui.base + "/")
        assert "redis_nodes" in page or "redis-nodes" in page  # the form carries loadsim's options
        served = [page, http(f"{ui.base}/stats/requests")]
        assert all(SECRET not in body for body in served)
    assert SECRET not in ui.log
