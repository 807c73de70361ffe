"""The live Redis view in Locust's web UI, in a real browser: every master shown, with the values INFO gives.

Debian's chromium (installed by `make test`'s setup; the test is skipped, saying why, where it cannot be)
loads the page headless and runs its JavaScript (`--dump-dom` after a virtual time budget). The page's
values are compared with each node's own INFO; a screenshot is kept in the test's folder.
"""

import json
import re
import shutil
import subprocess
import time

import pytest
import redis
from webui_support import LocustUI, http, wait

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars"]


def _chromium(profile, *args):
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=6000", *args],
                          capture_output=True, text=True, timeout=90)


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium: install Debian's chromium (scripts/ensure-browser.sh)")
def test_redis_view_shows_every_master_as_info_does(tmp_path):
    summary = tmp_path / "run" / "summary.json"
    with LocustUI("--results-dir", str(tmp_path / "run"), "--aht", "30") as ui:
        base = ui.base
        assert '"success": true' in http(f"{base}/swarm", {"user_count": "3", "spawn_rate": "3", "host": ""})
        time.sleep(8)
        http(f"{base}/stop", {})
        wait(lambda: summary.exists() and '"complete": true' in summary.read_text(), 60, "the summary")
        dom = _chromium(tmp_path / "chromium", "--dump-dom", f"{base}/loadsim/redis").stdout
        rows = re.findall(r'<tr data-node="([^"]+)" data-role="master">.*?<td class="used_memory">([\d.]+)</td>'
                          r'<td class="keys">(\d+)</td>', dom, re.S)
        # the test stopped, the embedded cluster still runs: each node's own INFO, right after the page's
        info = {}
        for node, _, _ in rows:
            host, _, node_port = node.rpartition(":")
            with redis.Redis(host=host, port=int(node_port), socket_timeout=5) as c:
                info[node] = c.info()
        _chromium(tmp_path / "chromium", "--window-size=1200,1000", f"--screenshot={tmp_path / 'redis_view.png'}",
                  f"{base}/loadsim/redis")
    assert len(rows) == 3, dom[-3000:]  # every master of the embedded cluster
    # once the summary is written the page shows the sizing verdict on it (3 masters without replicas: the
    # failover constraint fails them, whatever the load)
    assert re.search(r'id="verdict" class="fail">FAIL: 3 HA pairs on 3 masters, binding failover', dom), dom[:3000]
    assert (tmp_path / "redis_view.png").stat().st_size > 20_000
    # the µs percentiles shown are the summary's (the same HdrHistograms), not Locust's whole milliseconds
    ops = dict(re.findall(r'<tr data-op="([^"]+)">.*?<td class="p99">(\d+)</td>', dom, re.S))
    final = json.loads(summary.read_text())["operations"]
    assert ops and {k: int(v) for k, v in ops.items()} == {
        k: v["latency_us"]["p99"] for k, v in final.items() if v["latency_us"]["count"]}
    for node, mib, keys in rows:
        assert int(keys) == info[node]["db0"]["keys"] > 0  # no load after the stop: the keys are exact
        assert float(mib) == pytest.approx(info[node]["used_memory"] / 2**20, rel=0.05)  # within a sample
