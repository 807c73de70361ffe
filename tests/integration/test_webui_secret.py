"""The password never reaches the Locust web UI: not in the page, not in its data, not as a default value."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SECRET = "s3cr3t-Pa55-do-not-show"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.read().decode("utf-8", "replace")


def test_password_from_environment_and_flag_is_not_served(tmp_path):
    port = _free_port()
    env = {**os.environ, "LOCUST_PASSWORD": SECRET}
    # type=cassandra: nothing is sent to Redis, so no cluster is needed to serve the UI
    cmd = [sys.executable, "-m", "locust", "-f", str(ROOT / "scenarios" / "ha9.py"), "--web-host", "127.0.0.1",
           "--web-port", str(port), "--type", "cassandra", "--username", "ors", "--password", SECRET,
           "--results-dir", str(tmp_path / "run")]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            stdin=subprocess.DEVNULL)
    try:
        page = ""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                page = _get(f"http://127.0.0.1:{port}/")
                break
            except OSError:
                time.sleep(0.3)
        assert "redis_nodes" in page or "redis-nodes" in page  # the form carries loadsim's options
        served = [page, _get(f"http://127.0.0.1:{port}/stats/requests")]
        assert all(SECRET not in body for body in served)
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert SECRET not in out
