"""Suite-wide: no redis-server that this test session started outlives it.

Every embedded cluster keeps its nodes in a folder under the temporary directory (``tempfile.mkdtemp``, or a test's
``tmp_path``), and every command a test runs inherits this process's environment: with ``TMPDIR`` pointed at a
folder of this session's own, a node of this session, whoever started it (the suite in-process, a ``loadsim`` or
``locust`` command it ran, a watchdog), works in that folder, and nodes of other sessions on the same machine
(other engineers run tests at the same time) never do. At the end the session waits for the watchdogs (a few
seconds), then fails if a node is still running in its folder, naming it, and stops it; otherwise it removes its
folder (tests' tmp_path included: on a machine shared by many sessions, one folder per session would pile up).
"""

import os
import shutil
import signal
import tempfile
import time

SUITE_TMP = "LOADSIM_SUITE_TMPDIR"
GRACE_S = 15  # a watchdog notices its owner's exit at once, then SIGTERM, up to 10 s, SIGKILL


def pytest_configure(config):
    if os.environ.get(SUITE_TMP):  # a pytest-xdist worker (or a nested session): the controller's folder
        return
    root = tempfile.mkdtemp(prefix="loadsim-suite-")
    os.environ[SUITE_TMP] = os.environ["TMPDIR"] = root
    tempfile.tempdir = None  # gettempdir() reads TMPDIR again
    config._loadsim_suite_tmp = root


def _nodes_under(root):
    """Live redis-server processes working in a folder under *root*: (pid, folder)."""
    from loadsim.embedded.cluster import _cwd_and_exe, _is_redis_binary, pid_alive

    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        pid = int(name)
        where = _cwd_and_exe(pid)
        if where and where[0].startswith(root + os.sep) and _is_redis_binary(where[1], None) and pid_alive(pid):
            found.append((pid, where[0]))
    return found


def pytest_sessionfinish(session, exitstatus):
    root = getattr(session.config, "_loadsim_suite_tmp", None)
    if root is None:
        return
    deadline = time.monotonic() + GRACE_S
    left = _nodes_under(root)
    while left and time.monotonic() < deadline:
        time.sleep(0.2)
        left = _nodes_under(root)
    if left:
        for pid, _ in left:
            try:
                os.kill(pid, signal.SIGKILL)  # leave nothing running
            except ProcessLookupError:
                pass
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        text = (f"{len(left)} redis-server process(es) started by this session outlived it (stopped now): "
                + "; ".join(f"pid {pid} in {folder}" for pid, folder in left))
        if reporter is not None:
            reporter.write_line(text, red=True)
        session.exitstatus = 1  # the folder stays, with the nodes' logs
    else:  # one folder per session on a machine shared by many sessions: none is left behind
        shutil.rmtree(root, ignore_errors=True)
