"""Server-side referee: samples ``INFO`` of every cluster node during a run.

Redis's own counters are independent of the load generator: memory, keys, commands processed and
CPU seconds (``used_cpu_sys/user``, which include socket I/O and TLS, unlike ``commandstats``).
Per node and second, one ``INFO default commandstats`` and one ``CLUSTER INFO`` (sent together, one round
trip), asked and parsed in a process of its own (``loadsim.redis.sampler``: not in the generator's event loop),
over its own connection to each node; the monitor's process keeps one more per node for what it asks itself
(discovery, the baseline before the load, commandstats and the environment at the start and end).
``ping_us`` (the network round trip) comes from a probe in a process of its own (``loadsim.redis.roundtrip``),
which adds one more client per node and a burst of PINGs per node and second.

A node that does not answer within ``SAMPLE_TIMEOUT_S`` (refused, reset, paused) gets a row with
``state: down`` and no figures; the nodes are asked in parallel, so one silent node neither delays
nor stalls the other nodes' rows.
"""

from __future__ import annotations

import hashlib
import logging
import time
from typing import Any

import redis

from loadsim.config.persistence import PersistenceOptions, RedisNode
from loadsim.redis.roundtrip import RoundTripProbe, settings_for
from loadsim.redis.sampler import NO_ANSWER as NO_ANSWER
from loadsim.redis.sampler import NODE_FIELDS as NODE_FIELDS
from loadsim.redis.sampler import NOT_WORKLOAD as NOT_WORKLOAD
from loadsim.redis.sampler import SAMPLE_TIMEOUT_S as SAMPLE_TIMEOUT_S
from loadsim.redis.sampler import NodeSampler, SamplerProcess
from loadsim.redis.sampler import redis_py_kwargs as redis_py_kwargs
from loadsim.redis.sampler import workload_commands as workload_commands
from loadsim.redis.topology import parse_nodes

log = logging.getLogger(__name__)

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
# Parameters whose values are secrets or differ per node for no reason a reader cares about.
_CONFIG_SKIP = ("requirepass", "masterauth", "masteruser", "port", "tls-port", "cluster-port", "dir", "pidfile",
                "logfile", "cluster-config-file", "unixsocket", "user")


class NodeMonitor:
    """Samples every node of a cluster. ``opts`` should have rights to INFO (admin options for the
    embedded cluster); when INFO is denied, rows carry ``error`` and the run goes on."""

    def __init__(self, opts: PersistenceOptions, measure_roundtrip: bool = True, sample_in_child: bool = True):
        self.opts = opts
        self.nodes: dict[RedisNode, str] = {}
        self.slot_map: dict[RedisNode, list[list[int]]] = {}
        # this process's connections (discovery, baseline, the end's INFO; every sample when no child samples)
        self._local = NodeSampler(opts)
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
        # the per-second sample's questions and parsing, outside this process's event loop (loadsim.redis.sampler
        # says why); without it, this process samples as it always did
        self.sampler: SamplerProcess | None = None
        if sample_in_child:
            try:
                self.sampler = SamplerProcess(settings_for(opts, list(self.nodes)))
            except OSError as exc:
                log.warning("monitor: the sampler process did not start (%s); sampling in this process", exc)

    def _client(self, node: RedisNode) -> redis.Redis:
        return self._local.client(node)

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
        answer within SAMPLE_TIMEOUT_S (``error`` names why: ConnectionError, TimeoutError). The questions and
        their parsing run in the sampler's child process when it is up (``SamplerProcess`` says why), else here."""
        now = time.time()
        asked = [(node, self.roles_now.get(node, role)) for node, role in self.nodes.items()]
        got = self.sampler.sample(now, asked) if self.sampler is not None else None
        if got is None and self.sampler is not None:  # the child ended: today's in-process path from now on
            log.warning("monitor: the sampler process ended; sampling in this process from now on")
            self.sampler.close()
            self.sampler = None
        rows, self.answered_at = got if got is not None else self._local.sample(now, asked)
        for row, node in zip(rows, self.nodes, strict=True):
            if self.roundtrip is not None:
                # the network round trip of this second, from the probe's process (not this one's event loop)
                row["ping_us"] = self.roundtrip.take(str(node))
            if row["state"] == "down":
                self.down.add(node)
            else:
                self.down.discard(node)
                self.roles_now[node] = row["role"]
        return rows

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
        if self.sampler is not None:
            self.sampler.close()
            self.sampler = None
        self._local.close()


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
