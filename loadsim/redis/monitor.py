"""Server-side referee: samples ``INFO`` of every cluster node during a run.

Redis's own counters are independent of the load generator: memory, keys, commands processed and
CPU seconds (``used_cpu_sys/user``, which include socket I/O and TLS, unlike ``commandstats``).
The monitor uses its own connections (one per node), so it adds one client per node and one INFO
call per node per second.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

import redis

from loadsim.config.persistence import PersistenceOptions, RedisNode
from loadsim.redis.topology import parse_nodes

NODE_FIELDS = (
    "used_memory", "used_memory_rss", "used_memory_peak", "mem_fragmentation_ratio", "keys", "expires",
    "connected_clients", "total_commands_processed", "instantaneous_ops_per_sec", "used_cpu_sys",
    "used_cpu_user", "used_cpu_sys_main_thread", "used_cpu_user_main_thread", "total_net_input_bytes",
    "total_net_output_bytes", "master_repl_offset", "replica_of",
)
# Parameters whose values are secrets or differ per node for no reason a reader cares about.
_CONFIG_SKIP = ("requirepass", "masterauth", "masteruser", "port", "tls-port", "cluster-port", "dir", "pidfile",
                "logfile", "cluster-config-file", "unixsocket", "user")


def redis_py_kwargs(opts: PersistenceOptions, node: RedisNode, timeout_s: float = 5.0) -> dict[str, Any]:
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


class NodeMonitor:
    """Samples every node of a cluster. ``opts`` should have rights to INFO (admin options for the
    embedded cluster); when INFO is denied, rows carry ``error`` and the run goes on."""

    def __init__(self, opts: PersistenceOptions):
        self.opts = opts
        self.nodes: dict[RedisNode, str] = {}
        self.slot_map: dict[RedisNode, list[list[int]]] = {}
        self._clients: dict[RedisNode, redis.Redis] = {}
        self.discover()

    def _client(self, node: RedisNode) -> redis.Redis:
        c = self._clients.get(node)
        if c is None:
            c = self._clients[node] = redis.Redis(**redis_py_kwargs(self.opts, node))
        return c

    def discover(self) -> None:
        """Find every node (masters and replicas) and the slot ownership from CLUSTER NODES."""
        last: Exception | None = None
        for seed in self.opts.require_nodes():
            try:
                text = self._client(seed).execute_command("CLUSTER", "NODES")
            except redis.RedisError as exc:
                last = exc
                continue
            self.nodes, self.slot_map = {}, {}
            for n in parse_nodes(str(text)):
                if n.flags & {"fail", "fail?", "noaddr"}:
                    continue  # failed or suspected: not sampled
                node = RedisNode(n.host or seed.host, n.port)
                self.nodes[node] = n.role
                self.slot_map[node] = [list(r) for r in n.slots]
            return
        raise redis.ConnectionError(f"monitor could not read CLUSTER NODES from any seed: {last}")

    def sample(self) -> list[dict[str, Any]]:
        """One row per node with NODE_FIELDS (``error`` set if the node did not answer)."""
        now = time.time()
        rows = []
        for node, role in self.nodes.items():
            row: dict[str, Any] = {"time": now, "node": str(node), "role": role}
            try:
                info = self._client(node).info()
            except redis.RedisError as exc:
                row["error"] = type(exc).__name__
                rows.append(row)
                continue
            db = info.get("db0") or {}
            row["keys"] = db.get("keys", 0) if isinstance(db, dict) else 0
            row["expires"] = db.get("expires", 0) if isinstance(db, dict) else 0
            row["role"] = "master" if info.get("role") == "master" else "replica"
            for f in NODE_FIELDS:
                if f not in ("keys", "expires", "replica_of"):
                    row[f] = info.get(f)
            if row["role"] == "replica" and info.get("master_host"):
                # a replica's master_repl_offset is what it has applied; its master's, what was written:
                # the difference is the replication lag in bytes
                row["replica_of"] = f"{info['master_host']}:{info['master_port']}"
            rows.append(row)
        return rows

    def commandstats(self) -> dict[str, dict[str, dict[str, float]]]:
        """``{node: {command: {calls, usec, failed_calls, rejected_calls}}}``."""
        out: dict[str, dict[str, dict[str, float]]] = {}
        for node in self.nodes:
            try:
                raw = self._client(node).info("commandstats")
            except redis.RedisError:
                continue
            out[str(node)] = {k.removeprefix("cmdstat_"): {f: v for f, v in val.items() if f != "usec_per_call"}
                              for k, val in raw.items()}
        return out

    def slots(self) -> dict[str, dict[str, Any]]:
        return {str(n): {"role": self.nodes[n], "slots": s} for n, s in self.slot_map.items()}

    def environment(self) -> dict[str, dict[str, str]]:
        """Per node: Redis version, memory allocator (``INFO memory``'s ``mem_allocator``, e.g.
        ``jemalloc-5.3.0``) and a SHA-256 digest of CONFIG GET * (secrets and paths left out)."""
        out: dict[str, dict[str, str]] = {}
        for node in self.nodes:
            entry: dict[str, str] = {}
            try:
                client = self._client(node)
                entry["redis_version"] = str(client.info("server").get("redis_version"))
                entry["mem_allocator"] = str(client.info("memory").get("mem_allocator"))
                config = client.config_get("*")
                kept = sorted((k, str(v)) for k, v in config.items() if not k.startswith(_CONFIG_SKIP))
                entry["config_sha256"] = hashlib.sha256(repr(kept).encode()).hexdigest()
                entry["tls"] = "yes" if self.opts.tls_enabled else "no"
            except redis.RedisError as exc:
                entry["error"] = type(exc).__name__
            out[str(node)] = entry
        return out

    def close(self) -> None:
        for c in self._clients.values():
            c.close()
        self._clients.clear()
