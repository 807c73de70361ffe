"""Helpers for the tests that use Locust's web UI: a Locust process serving its UI, HTTP, waiting."""

import contextlib
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def http(url, form=None):
    """The body (a POST when ``form`` is given), or None while the server does not answer."""
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    try:
        with urllib.request.urlopen(url, data=data, timeout=60) as r:
            return r.read().decode()
    except OSError:
        return None


def wait(predicate, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


class LocustUI:
    """`locust -f scenarios/ha9.py` with its web UI on a free loopback port; ``log`` once it has quit."""

    def __init__(self, *args, env=None, web_host="127.0.0.1"):
        """``web_host=None``: no --web-host, the scenario's default address."""
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        where = ["--web-host", web_host] if web_host is not None else []
        self.cmd = [sys.executable, "-m", "locust", "-f", str(ROOT / "scenarios" / "ha9.py"), *where,
                    "--web-port", str(self.port), *args]
        self.env, self.log = env, ""

    def __enter__(self):
        self.proc = subprocess.Popen(self.cmd, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, stdin=subprocess.DEVNULL)
        wait(lambda: http(self.base + "/") is not None, 90, "the web UI")
        return self

    def __exit__(self, *exc):
        self.proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.log, _ = self.proc.communicate(timeout=60)


def open_start_page(pw, chromium, base, height=1400):
    """Debian's chromium on Locust's start page (``base``), 60 s per action: (browser, page); the caller closes."""
    browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
    page = browser.new_page(viewport={"width": 1100, "height": height})
    page.set_default_timeout(60_000)
    page.goto(base + "/")
    return browser, page
