"""The web UI is safe by default: it listens on loopback, and its /swarm never takes an option that names a file, a
folder, a program or where to connect. Each such option is posted to a real Locust, with the embedded cluster
running, in the request that would restart that cluster (masters=4): nothing is executed, read or written."""

import errno
import json
import os
import socket
import stat
import subprocess
import sys

import pytest
from webui_support import ROOT, LocustUI, http


def _listening_addresses(port):
    """The local addresses of the TCP sockets listening on *port* (from /proc/net/tcp and tcp6)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as fh:
            for line in fh.readlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                address, _, hex_port = local.rpartition(":")
                if state == "0A" and int(hex_port, 16) == port:
                    found.add(address)
    return found


def _has_reader(fifo):
    """True when some process has the FIFO open for reading (opening it to write without blocking succeeds)."""
    try:
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
    except OSError as exc:
        assert exc.errno == errno.ENXIO
        return False
    os.close(fd)
    return True


def test_the_web_ui_listens_on_loopback_and_refuses_files_programs_and_addresses(tmp_path):
    marker = tmp_path / "executed"
    script = tmp_path / "fake-redis-server.sh"  # answers --version as redis-server does, and leaves a mark
    script.write_text(f"#!/bin/sh\ntouch {marker}\necho 'Redis server v=7.0.15 sha=0 malloc=libc bits=64'\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    fifo = tmp_path / "must-not-be-opened"  # opening it to read would block the server: a reader shows
    os.mkfifo(fifo)
    trap = socket.socket()  # a "Redis node" that must never be connected to
    trap.bind(("127.0.0.1", 0))
    trap.listen(8)
    trap.setblocking(False)
    trap_node = f"127.0.0.1:{trap.getsockname()[1]}"
    results = tmp_path / "run"
    elsewhere, html = tmp_path / "elsewhere", tmp_path / "report.html"
    attempts = {"embedded_redis_server": str(script), "results_dir": str(elsewhere), "estate": str(fifo),
                "ors_config": str(fifo), "redis_nodes": trap_node, "tls_enabled": "true", "tls_cacert": str(fifo),
                "redis_tls_cert": str(fifo), "redis_tls_key": str(fifo), "tls_cacertdir": str(tmp_path),
                "tls_sni": "evil.example", "username": "intruder", "password": "intruder-pw",
                "html_file": str(html)}  # the last is Locust's own: /swarm would write any parsed option
    with LocustUI("--results-dir", str(results), "--aht", "30", web_host=None) as ui:
        assert _listening_addresses(ui.port) == {"0100007F"}  # 127.0.0.1 only, not every interface
        for dest, value in attempts.items():
            form = {"user_count": "2", "spawn_rate": "2", "host": "", "masters": "4", dest: value}
            reply = json.loads(http(f"{ui.base}/swarm", form))
            flag = "--" + dest.replace("_", "-")
            assert reply["success"] is False and reply["message"].startswith(flag), reply
            assert "not settable from the web UI" in reply["message"] and "intruder-pw" not in reply["message"]
            assert not _has_reader(fifo)
        state = json.loads(http(f"{ui.base}/stats/requests"))["state"]
        with pytest.raises(BlockingIOError):
            trap.accept()
    trap.close()
    assert state == "ready"  # no test started
    assert not marker.exists() and not elsewhere.exists() and not html.exists()
    assert not results.exists()  # the refused requests started no run, so no results folder either
    assert "Starting web interface at http://127.0.0.1:" in ui.log
    assert "without --web-login" not in ui.log and "intruder-pw" not in ui.log


def test_a_web_ui_beyond_loopback_without_login_is_warned_about_at_start(tmp_path):
    with LocustUI("--type", "cassandra", "--results-dir", str(tmp_path / "run"), web_host="0.0.0.0") as ui:
        pass
    warnings = [line for line in ui.log.splitlines() if "without --web-login" in line]
    assert len(warnings) == 1 and "every interface (0.0.0.0)" in warnings[0], ui.log


def test_a_password_on_locusts_command_line_is_refused_before_anything_starts(tmp_path):
    secret = "cmdline-Pa55-7f3e"
    proc = subprocess.run([sys.executable, "-m", "locust", "-f", str(ROOT / "scenarios" / "ha9.py"), "--headless",
                           "-t", "5s", "--password", secret, "--results-dir", str(tmp_path / "run")],
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    lines = (proc.stdout + proc.stderr).strip().splitlines()
    assert proc.returncode == 2 and secret not in proc.stdout + proc.stderr
    assert [line for line in lines if line.startswith("loadsim: error: ")] == lines[-1:], lines
    assert "--password on the command line" in lines[-1] and "LOCUST_PASSWORD" in lines[-1]
    assert "Traceback" not in proc.stderr and not (tmp_path / "run").exists()
