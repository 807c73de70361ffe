"""One sample of every Redis node (``INFO default commandstats`` + ``CLUSTER INFO``, reduced to one row per node),
asked from a process of its own.

Why a process of its own: the monitor samples every node once a second, and in a load test it does so from the
Locust process, whose gevent loop schedules every HA pair. There, redis-py's ``parse_info`` of a node's ~5 KB
answer took 142 µs and the pipeline ~100 µs more (quiet 2-core host): three stalls of 250-300 µs of the generator's
loop a second on a 3-master cluster, landing on 0.5-1 % of the operations, at their p99. A native thread in that
process would still hold the GIL while it parses. So a child process, not patched by gevent, asks every node in
parallel (threads), parses and writes the rows; the parent only json-decodes one line, waiting for it on the pipe
with ``select`` (gevent's under Locust's monkey-patching: the loop runs meanwhile).

Why a sibling of the round-trip probe (``loadsim.redis.roundtrip``) and not the same child: that child times PING
bursts back to back; parsing INFO in the same process would hold the GIL across them and inflate the network
figure it exists to measure cleanly.

Protocol (processes talk in data, as the probe's): the parent writes one JSON line of settings to the child's stdin
(``roundtrip.settings_for``: the password goes there, never on the command line or in the environment) and keeps
stdin open; the child answers ``ready``; then, per sample, the parent writes ``{"seq", "time", "nodes": [[host,
port, role], ...]}`` and the child writes ``{"seq", "rows": [...], "answered_at": {node: wall time}}``. The child
exits when stdin closes (the parent ended or died).
"""

from __future__ import annotations

import json
import logging
import os
import select
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import IO, Any

import redis

from loadsim.config.persistence import PersistenceOptions, RedisNode
from loadsim.redis.child import child_main, end_child

log = logging.getLogger(__name__)

NODE_FIELDS = (
    "used_memory", "used_memory_rss", "used_memory_peak", "mem_fragmentation_ratio", "keys", "expires",
    "connected_clients", "total_commands_processed", "instantaneous_ops_per_sec", "used_cpu_sys",
    "used_cpu_user", "used_cpu_sys_main_thread", "used_cpu_user_main_thread", "total_net_input_bytes",
    "total_net_output_bytes", "total_connections_received", "master_repl_offset", "replica_of", "workload_commands",
    "cluster_state", "ping_us", "maxmemory",
)
SAMPLE_TIMEOUT_S = 0.5  # a node silent this long (connect or reply) is "down" for this sample
# The parent's wait for the child's answer: a node's connect and its reply are each bounded by SAMPLE_TIMEOUT_S,
# and the nodes are asked in parallel; 0.5 s more for a busy host to schedule the child. Past it, the nodes the
# child has not answered for are "down" (TimeoutError), and its late answer is discarded.
ANSWER_WAIT_S = 2 * SAMPLE_TIMEOUT_S + 0.5
READY_TIMEOUT_S = 5.0  # the child's start (a Python start-up with redis-py imported: ~0.3-0.5 s here)
# Errors that mean "no answer" (the node is down, paused or unreachable), not "answered with an error".
NO_ANSWER = (redis.ConnectionError, redis.TimeoutError)
# Commands that are not the workload: monitoring, connection set-up, cluster discovery, and replication's own traffic
# (a replica's REPLCONF ACK reaches its master once a second: a master's workload count grew by one between two
# samples of an idle cluster, seen as a test failing 272 == 271 in a fresh clone's suite).
NOT_WORKLOAD = {"info", "config|get", "config", "cluster|nodes", "cluster|slots", "cluster|shards", "cluster|info",
                "ping", "auth", "hello", "client|setname", "client|list", "client|id", "command", "command|docs",
                "cluster|keyslot", "memory|stats", "memory|usage", "dbsize", "cluster|myid", "select",
                "replconf", "psync", "sync"}
READY = "ready"


def workload_commands(commandstats: dict[str, dict[str, float]]) -> int:
    """Calls of workload commands in a commandstats snapshot of one node."""
    return int(sum(v.get("calls", 0) for k, v in commandstats.items() if k.lower() not in NOT_WORKLOAD))


def _cluster_state(reply: Any) -> str | None:
    """``cluster_state`` of a CLUSTER INFO reply (a dict or the raw text, as redis-py gives it)."""
    if isinstance(reply, dict):
        value = reply.get("cluster_state")
        return None if value is None else str(value)
    if isinstance(reply, (str, bytes)):
        text = reply.decode() if isinstance(reply, bytes) else reply
        for line in text.splitlines():
            if line.startswith("cluster_state:"):
                return line.split(":", 1)[1].strip()
    return None


def redis_py_kwargs(opts: PersistenceOptions | ConnectionSettings, node: RedisNode,
                    timeout_s: float = 5.0) -> dict[str, Any]:
    """Keyword arguments for ``redis.Redis`` reaching one node with these options, no retries."""
    kw: dict[str, Any] = {"host": node.host, "port": node.port, "username": opts.username,
                          "password": opts.password, "socket_timeout": timeout_s,
                          "socket_connect_timeout": timeout_s, "decode_responses": True, "retry": None}
    if opts.tls_enabled:
        kw.update(ssl=True, ssl_ca_certs=opts.tls_cacert, ssl_ca_path=opts.tls_cacertdir,
                  ssl_certfile=opts.tls_cert, ssl_keyfile=opts.tls_key, ssl_check_hostname=True)
        if opts.tls_sni:
            kw["ssl_check_hostname"] = False  # redis-py verifies against host; SNI name checked by check.py
    return kw


@dataclass(frozen=True)
class ConnectionSettings:
    """What the child needs of PersistenceOptions to reach the nodes, from ``roundtrip.settings_for``'s dict."""
    username: str | None
    password: str | None
    tls_enabled: bool
    tls_cacert: str | None
    tls_cacertdir: str | None
    tls_cert: str | None
    tls_key: str | None
    tls_sni: str | None

    @classmethod
    def from_settings(cls, s: dict[str, Any]) -> ConnectionSettings:
        return cls(username=s.get("username"), password=s.get("password"), tls_enabled=bool(s.get("tls")),
                   tls_cacert=s.get("cacert"), tls_cacertdir=s.get("cacertdir"), tls_cert=s.get("cert"),
                   tls_key=s.get("key"), tls_sni=s.get("sni"))


class NodeSampler:
    """Asks nodes their INFO and CLUSTER INFO in parallel (one connection per node) and reduces each answer to a
    row. The same code runs in the child process and, when the child cannot run, in the monitor's own process."""

    def __init__(self, opts: PersistenceOptions | ConnectionSettings):
        self.opts = opts
        self.clients: dict[RedisNode, redis.Redis] = {}
        self._pool: ThreadPoolExecutor | None = None
        self._info_sections: tuple[str, ...] = ("default", "commandstats")  # one INFO (Redis >= 7)

    def client(self, node: RedisNode) -> redis.Redis:
        c = self.clients.get(node)
        if c is None:
            c = self.clients[node] = redis.Redis(**redis_py_kwargs(self.opts, node, SAMPLE_TIMEOUT_S))
        return c

    def sample(self, now: float, nodes: list[tuple[RedisNode, str]]) -> tuple[list[dict[str, Any]],
                                                                               dict[str, float]]:
        """A row per node of ``nodes`` ((node, its role as last known)), in their order, and when each node's
        answer came (wall clock, by node; a node that did not answer is not in it)."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=max(1, min(32, len(nodes))),
                                            thread_name_prefix="loadsim-monitor")
        answered_at: dict[str, float] = {}
        rows = list(self._pool.map(lambda item: self._sample_node(now, item[0], item[1], answered_at), nodes))
        return rows, answered_at

    def _sample_node(self, now: float, node: RedisNode, role: str, answered_at: dict[str, float]) -> dict[str, Any]:
        row: dict[str, Any] = {"time": now, "node": str(node), "role": role, "state": "up"}
        try:
            pipe = self.client(node).pipeline(transaction=False)
            pipe.info(*self._info_sections)
            pipe.execute_command("CLUSTER", "INFO")
            info, cluster = pipe.execute(raise_on_error=False)
            answered_at[str(node)] = time.time()
        except NO_ANSWER as exc:
            row.update(state="down", error=type(exc).__name__)
            return row
        except redis.RedisError as exc:
            row["error"] = type(exc).__name__
            return row
        if isinstance(info, NO_ANSWER):
            row.update(state="down", error=type(info).__name__)
            return row
        if isinstance(info, redis.ResponseError) and len(self._info_sections) > 1 \
                and not isinstance(info, redis.AuthenticationError) and "NOPERM" not in str(info).upper():
            self._info_sections = ("all",)  # Redis < 7: one section per INFO; "all" has commandstats too
        if not isinstance(cluster, Exception):
            row["cluster_state"] = _cluster_state(cluster)
        if isinstance(info, Exception) or not isinstance(info, dict):
            row["error"] = type(info).__name__
            return row
        db = info.get("db0") or {}
        row["keys"] = db.get("keys", 0) if isinstance(db, dict) else 0
        row["expires"] = db.get("expires", 0) if isinstance(db, dict) else 0
        row["role"] = "master" if info.get("role") == "master" else "replica"
        for f in NODE_FIELDS:
            if f not in ("keys", "expires", "replica_of", "workload_commands", "cluster_state", "ping_us"):
                row[f] = info.get(f)
        stats = {k.removeprefix("cmdstat_"): v for k, v in info.items() if k.startswith("cmdstat_") and
                 isinstance(v, dict)}
        if stats:
            row["workload_commands"] = workload_commands(stats)
        if row["role"] == "replica" and info.get("master_host"):
            # a replica's master_repl_offset is what it has applied; its master's, what was written:
            # the difference is the replication lag in bytes
            row["replica_of"] = f"{info['master_host']}:{info['master_port']}"
        return row

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        for c in self.clients.values():
            c.close()
        self.clients.clear()


def serve(settings: dict[str, Any], stdin: IO[str], stdout: IO[str]) -> None:
    """The child's loop: one answer line per request line, until stdin closes."""
    sampler = NodeSampler(ConnectionSettings.from_settings(settings))
    stdout.write(READY + "\n")
    stdout.flush()
    try:
        for line in stdin:
            ask = json.loads(line)
            nodes = [(RedisNode(str(h), int(p)), str(role)) for h, p, role in ask["nodes"]]
            rows, answered_at = sampler.sample(float(ask["time"]), nodes)
            stdout.write(json.dumps({"seq": ask["seq"], "rows": rows, "answered_at": answered_at}) + "\n")
            stdout.flush()
    finally:
        sampler.close()


def _down(now: float, node: RedisNode, role: str, error: str) -> dict[str, Any]:
    return {"time": now, "node": str(node), "role": role, "state": "down", "error": error}


class SamplerProcess:
    """The parent's side: starts the child and asks it for each sample. ``sample`` waits for the answer with
    ``select`` on the pipe (cooperative under gevent's patching), never longer than ANSWER_WAIT_S.

    Raises OSError from the constructor when the child cannot start or does not say ``ready`` in time."""

    def __init__(self, settings: dict[str, Any]):
        self._seq = 0
        self._partial = b""
        read_fd, write_fd = os.pipe()
        to_child, self._in = os.pipe()
        try:
            self.proc = subprocess.Popen([sys.executable, "-m", "loadsim.redis.sampler"], stdin=to_child,
                                         stdout=write_fd, stderr=subprocess.DEVNULL)
        except OSError:
            for fd in (read_fd, self._in):
                os.close(fd)
            raise
        finally:
            os.close(write_fd)
            os.close(to_child)
        self._fd: int | None = read_fd
        os.set_blocking(read_fd, False)
        try:
            self._write(settings)
            line = self._line(time.monotonic() + READY_TIMEOUT_S)
        except OSError:
            line = None
        if line != READY.encode():
            self.close()
            raise OSError("the sampler process did not start")

    def _write(self, message: dict[str, Any]) -> None:
        data = (json.dumps(message) + "\n").encode()
        while data:  # a few hundred bytes: the pipe takes them at once
            data = data[os.write(self._in, data):]

    def _line(self, deadline: float) -> bytes | None:
        """The child's next line, waiting until ``deadline`` (monotonic); None at the deadline or at its end."""
        while b"\n" not in self._partial:
            if self._fd is None:
                return None
            wait = deadline - time.monotonic()
            if wait <= 0:
                return None
            # select.select is gevent's under Locust's monkey-patching: the generator's loop runs while we wait
            if not select.select([self._fd], [], [], wait)[0]:
                return None
            try:
                chunk = os.read(self._fd, 1 << 20)
            except BlockingIOError:
                continue
            if not chunk:  # EOF: the child ended
                os.close(self._fd)
                self._fd = None
                return None
            self._partial += chunk
        line, self._partial = self._partial.split(b"\n", 1)
        return line

    def sample(self, now: float, nodes: list[tuple[RedisNode, str]]) -> tuple[list[dict[str, Any]],
                                                                               dict[str, float]] | None:
        """Rows as ``NodeSampler.sample`` gives them; the nodes the child has not answered for within
        ANSWER_WAIT_S are "down" (TimeoutError). None when the child has ended (the caller samples itself)."""
        if self._fd is None or self.proc.poll() is not None:
            return None
        self._seq += 1
        try:
            self._write({"seq": self._seq, "time": now, "nodes": [[n.host, n.port, role] for n, role in nodes]})
        except OSError:  # BrokenPipeError: the child ended
            return None
        deadline = time.monotonic() + ANSWER_WAIT_S
        while True:
            line = self._line(deadline)
            if line is None:
                if self._fd is None:
                    return None
                return [_down(now, n, role, "TimeoutError") for n, role in nodes], {}
            try:
                answer = json.loads(line)
            except json.JSONDecodeError:
                continue
            if answer.get("seq") == self._seq:  # an earlier sample's late answer is not this one's
                return answer["rows"], {str(k): float(v) for k, v in answer["answered_at"].items()}

    def close(self) -> None:
        if self._in >= 0:
            os.close(self._in)  # EOF on the child's stdin: it ends
            self._in = -1
        end_child(self.proc)  # not Popen.wait(timeout): loadsim.redis.child says why
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def main() -> None:
    child_main(serve)


if __name__ == "__main__":
    main()
