"""Server-side referee: samples ``INFO`` of every cluster node during a run.

Redis's own counters are independent of the load generator: memory, keys, commands processed and
CPU seconds (``used_cpu_sys/user``, which include socket I/O and TLS, unlike ``commandstats``).
The monitor uses its own connections (one per node), so it adds one client per node and, per node
and second, one ``INFO default commandstats`` and one ``CLUSTER INFO`` (sent together, one round trip).
``ping_us`` (the network round trip) comes from a probe in a process of its own (``loadsim.redis.roundtrip``),
which adds one more client per node and a burst of PINGs per node and second.

A node that does not answer within ``SAMPLE_TIMEOUT_S`` (refused, reset, paused) gets a row with
``state: down`` and no figures; the nodes are asked in parallel, so one silent node neither delays
nor stalls the other nodes' rows.
"""

from __future__ import annotations

import hashlib
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import redis

from loadsim.config.persistence import PersistenceOptions, RedisNode
from loadsim.redis.roundtrip import RoundTripProbe, settings_for
from loadsim.redis.topology import parse_nodes

NODE_FIELDS = (
    "used_memory", "used_memory_rss", "used_memory_peak", "mem_fragmentation_ratio", "keys", "expires",
    "connected_clients", "total_commands_processed", "instantaneous_ops_per_sec", "used_cpu_sys",
    "used_cpu_user", "used_cpu_sys_main_thread", "used_cpu_user_main_thread", "total_net_input_bytes",
    "total_net_output_bytes", "total_connections_received", "master_repl_offset", "replica_of", "workload_commands",
    "cluster_state", "ping_us", "maxmemory",
)
# keys a run's baseline examines per master to count those under its own prefix (SCAN, 1,000 a call): a
# production-size cluster would take minutes to walk; past this the count reads "at least"
BASELINE_SCAN_KEYS = 200_000
# what a key costs beyond its MEMORY USAGE (its expires entry, its share of the key tables' buckets): measured 64 B
# (3 masters after loadsim runs, 674-698 keys each: FLUSHALL freed 377-416 kB where MEMORY USAGE summed to 338-371
# kB). used_memory above used_memory_startup is no measure of the keys: an empty master after a run holds 455-480 kB
# of Redis's own (per-command latency histograms, the cluster's structures), a fresh one 300-320 kB
KEY_TABLE_BYTES = 64
BASELINE_SAMPLE_KEYS = 1000  # keys whose MEMORY USAGE gives the mean (one pipelined round trip per master)
# The idle window before the load: an idle master spends ~0.25 to 0.5 % of a core (serverCron and clusterCron at
# hz 10, the cluster bus, the monitor's INFO); 1 s of it is 2.5 to 5 ms of CPU against counters in µs.
IDLE_WINDOW_S = 1.0
SAMPLE_TIMEOUT_S = 0.5  # a node silent this long (connect or reply) is "down" for this sample
# Errors that mean "no answer" (the node is down, paused or unreachable), not "answered with an error".
NO_ANSWER = (redis.ConnectionError, redis.TimeoutError)
# Commands that are not the workload: monitoring, connection set-up, cluster discovery.
NOT_WORKLOAD = {"info", "config|get", "config", "cluster|nodes", "cluster|slots", "cluster|shards", "cluster|info",
                "ping", "auth", "hello", "client|setname", "client|list", "client|id", "command", "command|docs",
                "cluster|keyslot", "memory|stats", "memory|usage", "dbsize", "cluster|myid", "select"}


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

    def __init__(self, opts: PersistenceOptions, measure_roundtrip: bool = True):
        self.opts = opts
        self.nodes: dict[RedisNode, str] = {}
        self.slot_map: dict[RedisNode, list[list[int]]] = {}
        self._clients: dict[RedisNode, redis.Redis] = {}
        self._pool: ThreadPoolExecutor | None = None
        self._info_sections: tuple[str, ...] = ("default", "commandstats")  # one INFO (Redis >= 7)
        # What the last sample saw: the role of every node that answered, and the nodes that did not.
        self.roles_now: dict[RedisNode, str] = {}
        self.down: set[RedisNode] = set()
        # when each node's answer of the last sample came (wall clock): a row's ``time`` is when the sample was
        # asked (the same for every node of a sample); events are stamped with the answer (a node resumed
        # after SIGCONT answers after it, though the question was asked before)
        self.answered_at: dict[str, float] = {}
        self.discover()
        self.roles_now = dict(self.nodes)
        # the network round trip, measured outside this process's event loop (loadsim.redis.roundtrip says why)
        self.roundtrip: RoundTripProbe | None = None
        if measure_roundtrip:
            try:
                self.roundtrip = RoundTripProbe(settings_for(opts, list(self.nodes)))
            except OSError:  # the run goes on; its latency split says the network was not measured
                self.roundtrip = None

    def _client(self, node: RedisNode) -> redis.Redis:
        c = self._clients.get(node)
        if c is None:
            c = self._clients[node] = redis.Redis(**redis_py_kwargs(self.opts, node, SAMPLE_TIMEOUT_S))
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
        """One row per node with NODE_FIELDS, the nodes asked in parallel. ``state`` is ``up`` when the node
        answered (``error`` set if it answered with an error, e.g. INFO refused), ``down`` when it did not
        answer within SAMPLE_TIMEOUT_S (``error`` names why: ConnectionError, TimeoutError)."""
        now = time.time()
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=max(1, min(32, len(self.nodes))),
                                            thread_name_prefix="loadsim-monitor")
        self.answered_at = {}
        rows = list(self._pool.map(lambda item: self._sample_node(now, *item), list(self.nodes.items())))
        for row, node in zip(rows, self.nodes, strict=True):
            if row["state"] == "down":
                self.down.add(node)
            else:
                self.down.discard(node)
                self.roles_now[node] = row["role"]
        return rows

    def _sample_node(self, now: float, node: RedisNode, role: str) -> dict[str, Any]:
        row: dict[str, Any] = {"time": now, "node": str(node), "role": self.roles_now.get(node, role), "state": "up"}
        try:
            # the network round trip of this second, from the probe's process (not this one's event loop)
            if self.roundtrip is not None:
                row["ping_us"] = self.roundtrip.take(str(node))
            client = self._client(node)
            pipe = client.pipeline(transaction=False)
            pipe.info(*self._info_sections)
            pipe.execute_command("CLUSTER", "INFO")
            info, cluster = pipe.execute(raise_on_error=False)
            self.answered_at[str(node)] = time.time()
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

    def baseline(self, prefix: str) -> dict[str, Any]:
        """What the cluster held before a run's first write, per master that answers: ``keys`` (DBSIZE),
        ``used_memory``, ``data_bytes`` (what those keys cost: keys x (their mean MEMORY USAGE, up to
        BASELINE_SAMPLE_KEYS of them, + KEY_TABLE_BYTES), and what measuring them allocated; 0 with no keys) and
        ``prefix_keys`` (``prefix`` itself, e.g. ``ORS:<cluster>``, and the keys under ``<prefix>:``, counted with
        SCAN; ``prefix_complete`` False when the count stopped after BASELINE_SCAN_KEYS keys examined)."""
        out: dict[str, Any] = {}
        for node, role in self.nodes.items():
            if role != "master" or node in self.down:
                continue
            try:
                c = self._client(node)
                keys = int(c.dbsize())
                used = int(c.info("memory").get("used_memory", 0))
                prefixed, cursor, complete, sample = 0, 0, not keys, []
                for _ in range(BASELINE_SCAN_KEYS // 1000 if keys else 0):
                    cursor, found = c.scan(cursor, count=1000)
                    prefixed += sum(1 for k in found if k == prefix or k.startswith(prefix + ":"))
                    sample += found[:BASELINE_SAMPLE_KEYS - len(sample)]
                    if not cursor:
                        complete = True
                        break
                data = 0
                if sample:
                    pipe = c.pipeline(transaction=False)
                    for k in sample:
                        pipe.memory_usage(k, samples=0)
                    usage = [int(u or 0) for u in pipe.execute()]
                    data = round(keys * (sum(usage) / len(usage) + KEY_TABLE_BYTES))
                    # and what these commands made Redis allocate (Redis 7 keeps a latency histogram per command,
                    # made at its first call: SCAN's and MEMORY USAGE's were 70 kB a master, counted as this
                    # run's memory before): it is not the run's either
                    data += max(0, int(c.info("memory").get("used_memory", 0)) - used)
            except (redis.RedisError, UnicodeDecodeError) as exc:
                out[str(node)] = {"error": type(exc).__name__}
                continue
            out[str(node)] = {"keys": keys, "used_memory": used, "data_bytes": data, "prefix_keys": prefixed,
                              "prefix_complete": complete}
        return out
    def idle_cpu(self, window_s: float = IDLE_WINDOW_S) -> dict[str, Any] | None:
        """The masters' own CPU with no load: two samples ``window_s`` apart (the same questions as every sample,
        so the monitor's own INFO polls are in it, as they are in the run), before the load starts. Returns
        ``{window_s, share_per_master, masters}`` (the mean share of one core), None when no master answered
        both times. Charged to the commands, this idle CPU made a run at 660 commands/s read 26.1 µs per command
        where the run itself measured 15.3."""
        first = {r["node"]: {**r, "answered": self.answered_at.get(r["node"], r["time"])} for r in self.sample()
                 if r.get("role") == "master" and r.get("used_cpu_sys") is not None}
        time.sleep(window_s)
        shares = []
        for r in self.sample():
            a = first.get(r["node"])
            if a is None or r.get("used_cpu_sys") is None or r.get("role") != "master":
                continue
            seconds = self.answered_at.get(r["node"], r["time"]) - a["answered"]
            cpu = (float(r["used_cpu_sys"]) + float(r["used_cpu_user"])
                   - float(a["used_cpu_sys"]) - float(a["used_cpu_user"]))
            if seconds > 0 and cpu >= 0:
                shares.append(cpu / seconds)
        if not shares:
            return None
        return {"window_s": round(window_s, 3), "share_per_master": round(sum(shares) / len(shares), 6),
                "masters": len(shares)}

    def _info_by_node(self, section: str) -> dict[str, dict[str, Any]]:
        """``INFO <section>`` of each node that answers, by node: the nodes the last sample found down are not
        asked, and a node that fails to answer now is left out (one shared walk for every per-node section)."""
        out: dict[str, dict[str, Any]] = {}
        for node in self.nodes:
            if node in self.down:
                continue
            try:
                out[str(node)] = self._client(node).info(section)
            except redis.RedisError:
                continue
        return out

    def commandstats(self) -> dict[str, dict[str, dict[str, float]]]:
        """``{node: {command: {calls, usec, failed_calls, rejected_calls}}}`` of the nodes that answer (the
        nodes the last sample found down are not asked)."""
        return {node: {k.removeprefix("cmdstat_"): {f: v for f, v in val.items() if f != "usec_per_call"}
                       for k, val in raw.items()}
                for node, raw in self._info_by_node("commandstats").items()}

    def latencystats(self) -> dict[str, dict[str, dict[str, float]]]:
        """``{node: {command: {p50, p99, p99.9}}}`` in µs of execution, from Redis 7's ``INFO latencystats``
        (cumulative since the server started or CONFIG RESETSTAT); ``{}`` for a node whose Redis has no such
        section (older than 7.0) or with ``latency-tracking no``."""
        return {node: _latency_percentiles(raw) for node, raw in self._info_by_node("latencystats").items()}

    def slots(self) -> dict[str, dict[str, Any]]:
        """Slot ownership now (CLUSTER NODES of a node that answers; nodes the cluster flags as failed carry
        ``"link": "fail"``), else as discovered at the start."""
        for seed in self.nodes:
            if seed in self.down:
                continue
            try:
                text = self._client(seed).execute_command("CLUSTER", "NODES")
            except redis.RedisError:
                continue
            out: dict[str, dict[str, Any]] = {}
            for n in parse_nodes(str(text)):
                entry: dict[str, Any] = {"role": n.role, "slots": [list(r) for r in n.slots]}
                if n.link in ("fail", "pfail"):
                    entry["link"] = n.link
                out[str(RedisNode(n.host or seed.host, n.port))] = entry
            return out
        return {str(n): {"role": self.nodes[n], "slots": s} for n, s in self.slot_map.items()}

    def environment(self) -> dict[str, dict[str, str]]:
        """Per node: Redis version, memory allocator (``INFO memory``'s ``mem_allocator``, e.g.
        ``jemalloc-5.3.0``) and a SHA-256 digest of CONFIG GET * (secrets and paths left out)."""
        out: dict[str, dict[str, str]] = {}
        for node in self.nodes:
            entry: dict[str, str] = {}
            if node in self.down:
                out[str(node)] = {"error": "down"}
                continue
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
        if self.roundtrip is not None:
            self.roundtrip.close()
            self.roundtrip = None
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        for c in self._clients.values():
            c.close()
        self._clients.clear()


def _latency_percentiles(raw: dict[str, Any]) -> dict[str, dict[str, float]]:
    """``{command: {p50, p99, p99.9}}`` from one node's ``INFO latencystats`` answer."""
    stats: dict[str, dict[str, float]] = {}
    for key, value in raw.items():
        if not key.startswith("latency_percentiles_usec_"):
            continue
        if isinstance(value, str):  # "p50=7.007,p99=7.007,p99.9=7.007"
            value = dict(part.split("=", 1) for part in value.split(",") if "=" in part)
        if isinstance(value, dict):
            stats[key.removeprefix("latency_percentiles_usec_")] = {str(k): float(v) for k, v in value.items()}
    return stats
