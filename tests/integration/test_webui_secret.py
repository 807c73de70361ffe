"""A password in use never shows: not in the process list, the log, any page of the web UI, nor any results file.

The password is the ACL user's of a real cluster (random, so unique), given as LOCUST_PASSWORD; a short test
runs from the web UI so that every page has something to show."""

import json
import os
import subprocess
import time

from webui_support import LocustUI, http, wait

PAGES = ("/", "/loadsim/redis", "/loadsim/redis/data", "/stats/requests", "/stats/report", "/stats/requests/csv",
         "/stats/failures/csv", "/exceptions", "/exceptions/csv", "/logs", "/tasks")


def test_the_password_shows_nowhere(acl_cluster, tmp_path):
    password = acl_cluster.options.password
    assert password and len(password) >= 16
    out = tmp_path / "run"
    nodes = ",".join(n.address for n in acl_cluster.nodes)
    env = {**os.environ, "LOCUST_USERNAME": acl_cluster.options.username, "LOCUST_PASSWORD": password}
    with LocustUI("--redis-nodes", nodes, "--results-dir", str(out), "--aht", "30", env=env) as ui:
        assert json.loads(http(f"{ui.base}/swarm", {"user_count": "2", "spawn_rate": "2", "host": ""}))["success"]
        time.sleep(4)
        processes = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True).stdout
        during = {page: http(ui.base + page) for page in PAGES}
        http(f"{ui.base}/stop", {})
        wait(lambda: (out / "summary.json").exists() and '"complete": true' in (out / "summary.json").read_text(),
             60, "the summary")
        after = {page: http(ui.base + page) for page in PAGES}
    summary = json.loads((out / "summary.json").read_text())
    # the password was used: the ACL user wrote sessions (it may not run INFO, so the client's count is the proof)
    assert summary["server"]["commands_client_counted"] > 0 and summary["operations"]["session.create"]["errors"] == 0
    assert password not in processes and "locust" in processes
    served = {page: body for page, body in (*during.items(), *after.items()) if body is not None}
    assert {"/", "/loadsim/redis/data", "/stats/requests", "/logs"} <= set(served)
    for page, body in served.items():
        assert password not in body, page
    assert password not in ui.log and "Traceback" not in ui.log
    files = [f for f in out.rglob("*") if f.is_file()]
    assert len(files) >= 5
    for f in files:
        assert password.encode() not in f.read_bytes(), f
