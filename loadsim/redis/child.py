"""Ending a child process the parent started (the round-trip probe, the INFO sampler, the embedded cluster's
watchdog), safely under gevent's monkey-patching.

Why not ``Popen.wait(timeout)``: under gevent's patching (any process that imported locust) that wait learns of the
exit from a libev child watcher and can miss it; then the timeout's ``kill`` is followed by a ``wait()`` that never
returns. Seen: a test started from the web UI hung in ``test_start`` for good, in ``SamplerProcess.close`` after its
child had exited and been reaped. Polling ``poll()`` and the child's ``/proc`` state cannot miss it."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from typing import IO, Any


def pid_alive(pid: int) -> bool:
    """True while *pid* is a running (not zombie) process."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            state = fh.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state not in ("Z", "X")


def wait_exit(proc: subprocess.Popen[bytes], timeout: float) -> bool:
    """Wait up to *timeout* s for a child to exit (and reap it); True if it did."""
    deadline = time.monotonic() + timeout
    while proc.poll() is None and pid_alive(proc.pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)
    return True


def end_child(proc: subprocess.Popen[bytes], timeout: float = 3.0) -> None:
    """Let a child told to end (its stdin closed) exit within *timeout* s, else kill it; never blocks longer."""
    if wait_exit(proc, timeout):
        return
    proc.kill()
    wait_exit(proc, timeout)


def child_main(loop: Callable[[dict[str, Any], IO[str], IO[str]], None]) -> None:
    """A child's entry point (``python -m loadsim.redis.roundtrip`` / ``.sampler``): its settings are the first line
    on stdin (secrets never on the command line), then ``loop(settings, stdin, stdout)`` until stdin closes; a parent
    that died (broken pipe) or a Ctrl-C ends it quietly."""
    line = sys.stdin.readline()
    if not line:
        return
    try:
        loop(json.loads(line), sys.stdin, sys.stdout)
    except (BrokenPipeError, KeyboardInterrupt):
        pass
