"""The sizing notebook's live what-if in JupyterLab, driven in Debian's chromium by Playwright, shot for the README
(docs/images/notebook-what-if.png).

    .venv/bin/python scripts/notebook-screenshot.py results/sweep1 [--ha-pairs 30] [--cps-per-pair 8]

It copies notebooks/sizing.ipynb into a temporary folder with ``results_dir`` set to the folder given, starts
JupyterLab there on a free loopback port (no token: loopback only, stopped at the end), runs all cells, changes
the question in the widgets (HA pairs, calls/s per pair) and shoots the redrawn verdict. Exit 1 when the verdict
does not follow the widgets.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results", help="a run or sweep folder (loadsim sweep's --out)")
    ap.add_argument("--ha-pairs", type=int, default=30)
    ap.add_argument("--cps-per-pair", type=float, default=8.0)
    ap.add_argument("--out", default=str(ROOT / "docs" / "images" / "notebook-what-if.png"))
    args = ap.parse_args()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        print("chromium is missing: scripts/ensure-browser.sh installs it", file=sys.stderr)
        return 2
    results = Path(args.results).resolve()
    if not results.is_dir():
        print(f"{args.results}: no such folder; give a run or sweep folder", file=sys.stderr)
        return 2
    import nbformat
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="loadsim-lab-") as lab_dir, socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        nb = nbformat.read(ROOT / "loadsim" / "notebooks" / "sizing.ipynb", as_version=4)
        nb.cells[1].source = nb.cells[1].source.replace("results_dir = '.'", f"results_dir = {str(results)!r}")
        nbformat.write(nb, Path(lab_dir) / "sizing.ipynb")
        lab = subprocess.Popen([sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}",
                                "--ServerApp.ip=127.0.0.1", "--IdentityProvider.token=", "--ServerApp.password=",
                                f"--ServerApp.root_dir={lab_dir}", "--allow-root"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(180):
                try:
                    urllib.request.urlopen(base + "/lab", timeout=3)
                    break
                except OSError:
                    if lab.poll() is not None:
                        print("JupyterLab did not start", file=sys.stderr)
                        return 1
                    time.sleep(1)
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
                page = browser.new_page(viewport={"width": 1300, "height": 2000})
                page.set_default_timeout(240_000)
                page.goto(base + "/lab/tree/sizing.ipynb")
                page.wait_for_selector(".jp-Notebook")
                page.wait_for_timeout(3000)
                page.click("text=Run", timeout=30_000)
                page.click("text=Run All Cells")
                page.wait_for_selector(".widget-vbox .widget-output h2")
                for label, value in (("HA pairs", args.ha_pairs), ("calls/s per pair", args.cps_per_pair)):
                    field = page.locator(f".widget-text:has-text('{label}') input")
                    field.fill(f"{value:g}")
                    field.press("Enter")
                page.wait_for_selector(f".widget-output h2:has-text('{args.ha_pairs} HA pairs on')")
                # the curves redraw after the verdict: wait for the kernel to be idle, and the two figures
                page.wait_for_timeout(3000)
                page.wait_for_selector("text=Python 3 (ipykernel) | Idle")
                page.wait_for_function("() => document.querySelectorAll('.widget-vbox img').length >= 2")
                page.wait_for_timeout(2000)
                page.locator(".widget-vbox").first.scroll_into_view_if_needed()
                news = page.get_by_role("button", name="No", exact=True)  # JupyterLab's news question, not ours
                if news.count() and news.first.is_visible():
                    news.first.click(timeout=5000)
                page.screenshot(path=args.out)
                heading = page.locator(".widget-output h2").first.inner_text()
                browser.close()
        finally:
            lab.terminate()
            try:
                lab.wait(timeout=60)
            except subprocess.TimeoutExpired:
                lab.kill()
                lab.wait()
    print(f"{args.out}: {heading}")
    return 0 if f"{args.ha_pairs} HA pairs" in heading else 1


if __name__ == "__main__":
    sys.exit(main())
