"""The network round trip to every Redis node, measured in a process of its own.

Why a separate process: a PING sent from the Locust process waits for that process's gevent loop (the HA pairs'
scheduling, Locust's own greenlets) before its reply is read. Measured on a 2-core box: 226-309 µs that way while
``redis-benchmark -t ping -c 1`` on the same node read p50 23 µs. A native thread in the Locust process would still
wait for the GIL (released every 5 ms, ``sys.getswitchinterval``), and redis-benchmark cannot take a password
except on its command line (visible in the process list). So a small child process, not patched by gevent, sends
PING on a plain socket (TLS when the cluster has it; AUTH first when it needs it) and reports every second.

Why a raw socket and bursts: one loopback PING through redis-py measured p50 40-65 µs here (the client's own
parsing), through a raw socket 20 µs, redis-benchmark 23 µs (p50, the same minute). The pings of a burst go back
to back, as redis-benchmark's do: a lone PING after a sleep measures the host waking the prober up
(``redis-cli --latency``, 10 ms apart, averaged 70 µs on the same node). A burst is short, so it is not a sustained
ping-pong either: that spreads client and server over both CPUs, and on a VM each wake-up of the other is an
inter-processor interrupt, an exit to the hypervisor. On a 2-vCPU VM, idle or during a small run,
``redis-benchmark -t ping -c 1 -n 5000`` read p50 87-135 µs at 3.6-4.0 such interrupts per PING (``/proc/interrupts``
CAL + RES), ``-n 20`` after a 0.5 s sleep 23-47 µs at 0.05-0.35, and this probe 25-77 µs. What a run's commands
pay for such wake-ups is the rig's, not the network's.

Protocol (processes talk in data): the parent writes one JSON line of settings to the child's stdin (the password
goes there, never on the command line) and keeps stdin open; the child writes one JSON line per node and burst
(``{"time", "node", "p50_us", "min_us", "max_us", "count"}``), after a first line ``ready`` once it has
connected, and exits when stdin closes (the parent ended or died)
or after ``MAX_S``.
"""

from __future__ import annotations

import json
import os
import select
import socket
import ssl
import statistics
import subprocess
import sys
import time
from typing import IO, Any

from loadsim.redis.child import child_main, end_child

PERIOD_S = 1.0  # one burst per node per second, as the monitor samples
BURST = 20  # pings per burst: a median that a single late wake-up does not move
TIMEOUT_S = 0.5  # a node silent this long (paused, down) gets no row this period, as the monitor's SAMPLE_TIMEOUT_S
MAX_S = 7 * 24 * 3600.0  # hard bound of the child's loop (a run is stopped long before)
PING = b"*1\r\n$4\r\nPING\r\n"
READY = "ready"  # the child's first line: every node it could reach is connected
READY_TIMEOUT_S = 5.0  # the parent waits this long for it (a Python start-up takes ~0.3 s)


def _resp(*args: str) -> bytes:
    out = [f"*{len(args)}\r\n".encode()]
    for a in args:
        b = a.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(b), b))
    return b"".join(out)


class _Node:
    """One node's connection in the child: connected lazily, dropped on any error (reconnected next period)."""

    def __init__(self, host: str, port: int, settings: dict[str, Any]):
        self.host, self.port, self.settings = host, port, settings
        self.sock: socket.socket | ssl.SSLSocket | None = None

    def _connect(self) -> socket.socket | ssl.SSLSocket:
        s = self.settings
        raw = socket.create_connection((self.host, self.port), timeout=TIMEOUT_S)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock: socket.socket | ssl.SSLSocket = raw
        if s.get("tls"):
            ctx = ssl.create_default_context(cafile=s.get("cacert"), capath=s.get("cacertdir"))
            if s.get("cert"):
                ctx.load_cert_chain(s["cert"], s.get("key"))
            ctx.check_hostname = not s.get("sni")  # as loadsim's other connections (redis.monitor.redis_py_kwargs)
            sock = ctx.wrap_socket(raw, server_hostname=s.get("sni") or self.host)
        if s.get("password"):
            auth = ("AUTH", s["username"], s["password"]) if s.get("username") else ("AUTH", s["password"])
            sock.sendall(_resp(*auth))
            if not self._reply(sock).startswith(b"+OK"):
                raise OSError("AUTH refused")
        return sock

    @staticmethod
    def _reply(sock: socket.socket | ssl.SSLSocket) -> bytes:
        data = b""
        while not data.endswith(b"\r\n"):
            chunk = sock.recv(256)
            if not chunk:
                raise OSError("connection closed")
            data += chunk
        return data

    def burst(self, n: int) -> list[float]:
        """``n`` PINGs back to back: their round trips in µs ([] when the node did not answer)."""
        try:
            if self.sock is None:
                self.sock = self._connect()
                self.sock.sendall(PING)  # the first PING after a connect warms the path up: not counted
                self._reply(self.sock)
            out = []
            for _ in range(n):
                sent = time.perf_counter()
                self.sock.sendall(PING)
                self._reply(self.sock)
                out.append((time.perf_counter() - sent) * 1e6)
            return out
        except (OSError, ssl.SSLError):
            if self.sock is not None:
                try:
                    self.sock.close()
                except OSError:
                    pass
            self.sock = None
            return []


def probe(settings: dict[str, Any], stdin: IO[str], stdout: IO[str]) -> None:
    """The child's loop: a burst per node every PERIOD_S until stdin closes or MAX_S passes."""
    nodes = [_Node(h, int(p), settings) for h, p in settings["nodes"]]
    period, burst = float(settings.get("period_s", PERIOD_S)), int(settings.get("burst", BURST))
    for node in nodes:  # connected before the run's first sample: its connections are not the run's
        node.burst(1)
    stdout.write(READY + "\n")
    stdout.flush()
    end = time.monotonic() + min(MAX_S, float(settings.get("max_s", MAX_S)))
    due = time.monotonic()
    while time.monotonic() < end:
        for node in nodes:
            rtts = node.burst(burst)
            if rtts:
                stdout.write(json.dumps({"time": round(time.time(), 3), "node": f"{node.host}:{node.port}",
                                         "p50_us": round(statistics.median(rtts), 1),
                                         "min_us": round(min(rtts), 1), "max_us": round(max(rtts), 1),
                                         "count": len(rtts)}) + "\n")
        stdout.flush()
        due += period
        wait = max(0.0, due - time.monotonic())
        ready, _, _ = select.select([stdin], [], [], wait)
        if ready and not stdin.readline():  # EOF: the parent closed stdin (or died)
            return


def settings_for(opts: Any, nodes: list[Any]) -> dict[str, Any]:
    """The child's settings from loadsim's PersistenceOptions and the nodes (RedisNode) to measure."""
    return {"nodes": [[n.host, n.port] for n in nodes], "tls": bool(opts.tls_enabled), "cacert": opts.tls_cacert,
            "cacertdir": opts.tls_cacertdir, "cert": opts.tls_cert, "key": opts.tls_key, "sni": opts.tls_sni,
            "username": opts.username, "password": opts.password}


class RoundTripProbe:
    """The parent's side: starts the child, keeps its rows (``rows``) and each node's latest burst median.

    The child's rows are read without a thread: ``take`` (the monitor's once-a-second sample) reads whatever the
    pipe holds, non-blocking, so the Locust process gains no native thread (under gevent's patching a pipe read
    goes to gevent's threadpool) competing with the generator's loop for the GIL. Measured with bench/generator.py
    at 5,000 ops/s on a quiet 2-core box, the schedule's lag p99 was 1.1-1.3 ms with the reader thread and
    1.2-2.3 ms without it: no difference this bench resolves."""

    def __init__(self, settings: dict[str, Any]):
        self.rows: list[dict[str, Any]] = []
        self._latest: dict[str, float] = {}
        self._partial = b""
        read_fd, write_fd = os.pipe()
        try:
            self.proc = subprocess.Popen([sys.executable, "-m", "loadsim.redis.roundtrip"], stdin=subprocess.PIPE,
                                         stdout=write_fd, stderr=subprocess.DEVNULL)
        finally:
            os.close(write_fd)
        self._fd: int | None = read_fd
        os.set_blocking(read_fd, False)
        assert self.proc.stdin is not None
        self.proc.stdin.write((json.dumps(settings) + "\n").encode())
        self.proc.stdin.flush()
        # its connections open before the run's first sample, so that the run's own connections are counted alone
        self.ready = False
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not self.ready and self._fd is not None and time.monotonic() < deadline:
            select.select([read_fd], [], [], max(0.0, deadline - time.monotonic()))
            self._drain()

    def _drain(self) -> None:
        """Read every complete line the child has written so far (never waits)."""
        if self._fd is None:
            return
        chunks = [self._partial]
        while True:
            try:
                chunk = os.read(self._fd, 65536)
            except BlockingIOError:
                break
            if not chunk:  # EOF: the child ended
                os.close(self._fd)
                self._fd = None
                break
            chunks.append(chunk)
        *lines, self._partial = b"".join(chunks).split(b"\n")
        for line in lines:
            if line.strip() == READY.encode():
                self.ready = True
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            self.rows.append(row)
            self._latest[str(row["node"])] = float(row["p50_us"])

    def take(self, node: str) -> float | None:
        """The latest burst median (µs) of ``node`` not taken yet; None when there is no new one."""
        self._drain()
        return self._latest.pop(node, None)

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.close()
            except OSError:
                pass
            end_child(self.proc)  # not Popen.wait(timeout): loadsim.redis.child says why
        self._drain()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def main() -> None:
    child_main(probe)


if __name__ == "__main__":
    main()
