"""Screenshots of the web UI for the README, from a real run: the start form (docs/images/web_form.png) and the
Redis Cluster tab during a test (docs/images/redis_view.png), in Debian's chromium driven by Playwright.

    .venv/bin/python scripts/webui-screenshots.py [--run-time 40s] [--results-dir results/web-demo]

It starts `locust -f scenarios/ha9.py` with its web UI on a free loopback port (embedded cluster with a replica
per master as the vendor recommends; loadsim's defaults: 9 HA pairs at 5 calls/s on 3 masters), starts a test
from the form, waits until the steady window has a few samples and shoots the tab; then stops the test and
Locust. Take them on a quiet machine: a busy one makes the run rig-bound, and the tab says so.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _up(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5):
            return True
    except OSError:
        return False


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run-time", default="40s", help="the test's run time (default 40s)")
    ap.add_argument("--results-dir", default="results/web-demo", help="the run's results folder (shown on the form)")
    ap.add_argument("--out", default=str(ROOT / "docs" / "images"), help="where the PNGs go")
    ap.add_argument("--wait", type=float, default=25.0, help="seconds of the test before the tab is shot")
    args = ap.parse_args()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        print("chromium is missing: scripts/ensure-browser.sh installs it", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    if Path(args.results_dir).exists():
        print(f"{args.results_dir} exists: give a new --results-dir", file=sys.stderr)
        return 2
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen([sys.executable, "-m", "locust", "-f", str(ROOT / "scenarios" / "ha9.py"), "--web-host",
                             "127.0.0.1", "--web-port", str(port), "--results-dir", args.results_dir,
                             "--replicas", "1"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 90
        while not _up(base + "/"):
            if time.monotonic() > deadline or proc.poll() is not None:
                print("the web UI did not come up", file=sys.stderr)
                return 1
            time.sleep(0.5)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1100, "height": 1400})
            page.set_default_timeout(90_000)
            page.goto(base + "/")
            page.click("text=Custom parameters")
            page.click("text=Advanced options")
            page.wait_for_selector(".loadsim-group")
            page.fill("input[name=runTime]", args.run_time)
            page.screenshot(path=str(out / "web_form.png"), full_page=True)
            print(f"{out / 'web_form.png'}")
            page.click("button:has-text('Start')")
            page.click("button[role=tab]:has-text('Redis Cluster')")
            page.wait_for_selector("iframe.loadsim-charts")
            page.wait_for_timeout(int(args.wait * 1000))
            page.screenshot(path=str(out / "redis_view.png"), full_page=True)
            print(f"{out / 'redis_view.png'}")
            browser.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
