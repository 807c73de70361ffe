"""Every default and assumption of loadsim, once, each with where it comes from (pure; imports nothing).

Labels:
    vendor      documented by Genesys (ORS 8.1.4 Deployment Guide) or by Redis; the page is named
    measured    measured by this project; the measurement is named
    assumption  not published anywhere; the reason for the value is given — replace it with yours

The workload model (``WorkloadParams``, presets), the sizing model (``Deployment``, default unit costs),
the ``--help`` of ``locust -f scenarios/ha9.py`` and ``loadsim plan``, the sizing notebook and the
tables of docs/workload.md all read these (a test keeps the docs equal to this file).

Public vendor pages cited below:
    [DESIGN] Genesys, ORS Deployment Guide supplement, "Design ORS with Redis Cluster"
             https://docs.genesys.com/Documentation/OS/latest/DepSupplement/Design
    [CONFIG] Genesys, ORS Deployment Guide supplement, "Configure ORS with Redis Cluster"
             https://docs.genesys.com/Documentation/OS/latest/DepSupplement/Configuration
    [RCONF]  Redis, "Redis configuration" (redis.conf) and "Redis persistence"
             https://redis.io/docs/latest/operate/oss_and_stack/management/
    [RBENCH] Redis, "Redis benchmark" ("typical latency for a 1 Gbit/s network is about 200 us")
             https://redis.io/docs/latest/operate/oss_and_stack/management/optimization/benchmarks/
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

VENDOR, MEASURED, ASSUMPTION = "vendor", "measured", "assumption"
GIB = 1024**3

# Ranges that several modules check (the options table, the workload model, the question, the estate file, the
# embedded cluster), inclusive: here once, so that they cannot disagree.
WORKER_THREADS_RANGE = (1, 256)  # ORS worker threads per ORS node: beyond 256 is a typo, not an ORS setting
EMBEDDED_MASTERS_RANGE = (3, 64)  # an embedded cluster: Redis Cluster's minimum; beyond 64 this machine is the limit
EMBEDDED_REPLICAS_RANGE = (0, 5)  # replicas per master of an embedded cluster
NODE_TIMEOUT_MS_RANGE = (100, 600_000)  # cluster-node-timeout, ms: below 100 ms nodes flap; beyond 10 min a typo


@dataclass(frozen=True)
class Default:
    value: Any
    source: str  # VENDOR, MEASURED or ASSUMPTION
    basis: str  # the page, the measurement, or the reason
    unit: str = ""
    # valid values of a number, inclusive: the Locust option, plan's question and the estate file refuse others in
    # one line naming this range (None: not checked here)
    range: tuple[float, float] | None = None

    @property
    def label(self) -> str:
        """``assumption: not published ...`` — what help texts and reports print next to the value."""
        return f"{self.source}: {self.basis}"

    def shown(self) -> str:
        """The value as a user types it, with its unit."""
        value = str(self.value).lower() if isinstance(self.value, bool) else f"{self.value:g}" \
            if isinstance(self.value, float) else str(self.value)
        return f"{value} {self.unit}".strip()


_REF = ("5 runs of bench/fidelity.py (1, 2, 3, 4 and 9 HA pairs, 45 s each) on the project's reference machine "
        "(2 cores, Redis 7.0.15, loopback, standard preset, per-session layout, no TLS)")

DEFAULTS: dict[str, Default] = {
    # ---- the estate under test
    "ha_pairs": Default(9, VENDOR, '[DESIGN] "3 nodes should be sufficient for up to 9 HA pairs": the rule under '
                        "test", "HA pairs"),
    "cps_per_pair": Default(5.0, ASSUMPTION, "not published; a mid-size contact centre's busy hour per HA pair",
                            "calls/s", range=(0.0001, 10_000)),
    "aht_s": Default(180.0, ASSUMPTION, "not published; a typical voice handle time, exponential (Erlang C "
                     "convention)", "s", range=(0.001, 3.2e7)),
    "complexity": Default("standard", ASSUMPTION, "not published; presets below"),
    "session_ttl_s": Default(86400, ASSUMPTION, "[DESIGN] every record has a TTL; its value is not published "
                             "(24 h outlives any call)", "s", range=(1, 3.2e8)),
    "digital_share": Default(0.0, VENDOR, "[CONFIG] recommends disabling persistence and recovery of digital "
                             "(eServices) sessions, which eServices re-queues; the share is yours to set",
                             range=(0, 1)),
    "worker_threads": Default(4, ASSUMPTION, "not published; [DESIGN] each worker thread has a connection to each "
                              "Redis node", "threads", range=WORKER_THREADS_RANGE),
    "key_layout": Default("per-session", ASSUMPTION, "[DESIGN] data is stored under ORS:<cluster>; one key per "
                          "session record is assumed (single-hash, node-tag and index are the alternatives)"),
    "routed_share": Default(0.0, ASSUMPTION, "not published; share of sessions whose strategy ends when the call "
                            "is routed (many routing strategies do); 0 = every session lives as long as its call",
                            range=(0, 1)),
    "routing_s": Default(20.0, ASSUMPTION, "not published; mean time from arrival to routing for those sessions "
                         "(exponential)", "s", range=(0.001, 3.2e7)),
    "extended_share": Default(0.0, ASSUMPTION, '[DESIGN] sessions may be "extended ... for long durations of '
                              'time, up to several months"; the share is not published', range=(0, 1)),
    "extended_s": Default(14400.0, ASSUMPTION, "not published; mean lifetime of an extended session, 4 h "
                          "(exponential)", "s", range=(0.001, 3.2e8)),
    "leaked_share": Default(0.0, ASSUMPTION, "not published; share of sessions never deleted (e.g. left by a "
                            "crashed primary): they live until the TTL after their last write", range=(0, 1)),
    "pool_connections": Default("lazy", VENDOR, "the ORS client library redis-plus-plus creates pool connections "
                                "lazily (its README, \"Lazily Create Connection\"): a worker thread connects to a "
                                "master on its first command there, so an idle backup holds none; eager opens them "
                                "all when the ORS node starts"),
    "cleanup_period_s": Default(0.0, ASSUMPTION, '[DESIGN] the vendor mentions a "periodical cleaning up '
                                'procedure"; its period is not published (index layout only; 0 = none)', "s",
                                range=(0, 1e6)),
    "cleanup_batch": Default(1000, ASSUMPTION, "not published; index entries examined per cleaning (HSCAN COUNT)",
                             "entries", range=(1, 1e6)),
    "records_per_session": Default(1, ASSUMPTION, "not published; the session data model in one record "
                                   "(an estate file may split it)", "records", range=(1, 64)),
    "seed": Default(1, ASSUMPTION, "any fixed seed: the same seed gives the same sessions", range=(0, 2**63 - 1)),
    "prefill": Default(True, ASSUMPTION, "start with the Little's-law population of calls in progress, so "
                       "memory and update rate are at steady state from the start"),
    "read_back": Default(True, ASSUMPTION, "check what Redis holds against what it acknowledged: a few seconds "
                         "per 100,000 live sessions"),
    "warmup_s": Default(0.0, ASSUMPTION, "the pre-fill already starts at steady state", "s", range=(0, 86400)),
    # ---- the Redis Cluster
    "masters": Default(3, VENDOR, "[DESIGN] at least 3 nodes (Redis Cluster's minimum of masters)", "masters"),
    "replicas": Default(1, VENDOR, "[DESIGN] HA recommended: a replica per master holds the same data",
                        "per master"),
    "embedded_replicas": Default(0, ASSUMPTION, "test clusters carry no replicas unless failover is tested "
                                 "(they cost memory and CPU of the test machine)", "per master"),
    "embedded_tls": Default(False, ASSUMPTION, "test clusters are plain unless TLS is what is measured"),
    "embedded_mutual_tls": Default(False, ASSUMPTION, "client certificates only when mutual TLS is measured"),
    "embedded_acl": Default(False, ASSUMPTION, "the default user unless least privilege is what is tested"),
    "cluster_node_timeout_ms": Default(15000, VENDOR, "[RCONF] Redis's default cluster-node-timeout: a master "
                                       "silent this long is failed over (plus the election, about 1 s)", "ms",
                                       range=NODE_TIMEOUT_MS_RANGE),
    "embedded_aof": Default(False, ASSUMPTION, "no AOF on test clusters unless persistence cost is measured"),
    "aof": Default(True, VENDOR, "[DESIGN] AOF recommended; a rewrite forks (copy-on-write)"),
    "node_ram_bytes": Default(8 * GIB, ASSUMPTION, '[DESIGN] node memory "similar to the ORS application\'s '
                              'memory"; 8 GiB assumed', "bytes"),
    "node_cores": Default(2, ASSUMPTION, "Redis runs commands on one main thread: one core is what counts",
                          "cores"),
    "maxmemory_fraction": Default(0.8, ASSUMPTION, "usual practice 0.75-0.9 of RAM (ElastiCache keeps 25 % free)"),
    "fork_cow_factor": Default(2.0, VENDOR, "[RCONF] RDB save / AOF rewrite may need up to 2x memory under "
                               "heavy writes (copy-on-write)"),
    # a CPU ceiling is in % of one core on every command (plan's, capacity's): loadsim.model.question.cpu_ceiling_share
    "cpu_ceiling": Default(70.0, ASSUMPTION, "the most a master's main thread may use in the plan: room for bursts "
                           "and failover", "% of one core"),
    "master_cpu_knee": Default(80.0, ASSUMPTION, "a master's event loop busier than this queues commands (Redis runs "
                               "them on one thread): a run past it is redis-bound, and loadsim capacity stops "
                               "stepping there", "% of one core"),
    "n_plus_1": Default(True, ASSUMPTION, "the ceilings must still hold with one master fewer"),
    "latency_slo_p99_us": Default(5000.0, ASSUMPTION, "p99 of a persistence operation; set your own SLO", "µs"),
    "maxclients": Default(10000, VENDOR, "[RCONF] Redis's default maxclients", "clients"),
    "nic_gbps": Default(1.0, ASSUMPTION, "[RBENCH] benchmarks a 1 Gbit/s network; the line rate of each Redis "
                        "node's NIC: state yours (10 or 25 Gbit/s in a data centre, a cloud instance's own rate)",
                        "Gbit/s"),
    # ---- production latency (loadsim.model.latency composes these with Redis's own figures)
    "network_rtt_us": Default(200.0, VENDOR, "[RBENCH] a LAN: about 200 µs on a 1 Gbit/s network; state yours "
                              "(a cloud zone, a WAN) or measure it from the ORS host with `loadsim check`", "µs",
                              range=(0, 1e6)),
    "ors_client_us_per_command": Default(15.0, ASSUMPTION, "not published: the ORS client's own time per command "
                                         "(redis-plus-plus over hiredis: pool, send and receive calls, reply "
                                         "parsing); a C client's whole loopback round trip, kernels and Redis "
                                         "included, is 23 µs here (redis-benchmark -t ping -c 1, p50)", "µs"),
    "ors_client_tls_us_per_command": Default(10.0, ASSUMPTION, "not published: what TLS adds to the ORS client per "
                                             "command (encrypting and decrypting a few KB with AES-GCM, TLS record "
                                             "framing)", "µs"),
    # ---- unit costs when no runs are given (loadsim plan without --from)
    "base_bytes_per_master": Default(1.9e6, MEASURED, f"used_memory of an empty master, {_REF}", "B"),
    # server CPU of a master = base x seconds + per command x commands + per byte x bytes received
    # (loadsim.model.unitcosts). 23 +- 3 µs per command at the standard preset's 2,044 B per command (idle apart),
    # of which 0.40 ns x 2,044 B are its bytes.
    "cpu_s_per_command": Default(23e-6 - 0.40e-9 * 2044, MEASURED, "used_cpu_sys+user per command beyond its "
                                 f"bytes: 23 +- 3 µs at the standard preset's 2,044 B less 0.40 ns/B, {_REF}", "s"),
    # measured with memtier_benchmark (4 connections rate-limited to 2,000 SETs/s in all, 6 s, 2 KB against 8 KB
    # values, 3 alternating rounds, one cluster-mode master): 13.45 against 15.87 µs per command, 2.4 µs for
    # 6,000 B more; at 370/s the difference (0.6 µs) was within the rounds' spread (20.6 .. 25.8 µs)
    "cpu_s_per_byte": Default(0.40e-9, MEASURED, "used_cpu_sys+user per byte received: 0.40 ns/B, memtier_benchmark "
                              "SETs of 2 KB against 8 KB at the same 2,000 commands/s, 3 alternating rounds, 2 cores, "
                              "Redis 7.0.15, loopback", "s"),
    "base_cpu_per_master": Default(0.0025, MEASURED, f"share of a core an idle master uses, {_REF}"),
    # measured with memtier_benchmark (one cluster-mode master, 4 connections rate-limited to 1,000 SETs/s of 2 KB in
    # all, 6 s, 3 alternating rounds at 73 to 98 % CPU pressure): 17.4 µs per command alone, 23.0 µs with one replica
    # attached (+32 %): the master writes every write command again to its replica's link. Reads are not propagated.
    "cpu_s_per_replica_write": Default(23.0e-6 - 17.4e-6, MEASURED, "used_cpu_sys+user a master spends per write "
                                       "command per replica (propagating it): memtier_benchmark 1,000 SETs/s of 2 KB, "
                                       "17.4 µs per command alone against 23.0 µs with one replica, 3 alternating "
                                       "rounds, 2 cores, Redis 7.0.15, loopback", "s"),
    "tls_cpu_s_per_command": Default((23e-6 - 0.40e-9 * 2044) * 1.345, MEASURED, "the plain figure x 1.345: "
                                     "loadsim compare-tls, server CPU per command TLS/plain 1.345 +- 4.2 % "
                                     "(8 repeats, standard preset, 2 cores, Redis 7.0.15)", "s"),
    "tls_cpu_s_per_byte": Default(0.40e-9 * 1.345, ASSUMPTION, "the plain figure x 1.345 (the ratio compare-tls "
                                  "measured per command; TLS decrypts every byte received)", "s"),
    "redis_exec_us_p50": Default(2.0, MEASURED, "Redis's own execution per command, INFO latencystats after "
                                 "redis-benchmark -d 4096 (SET p50 1.0 µs, GET 2.0 µs), Redis 7.0.15 here", "µs"),
    "redis_exec_us_p99": Default(5.0, MEASURED, "Redis's own execution per command, INFO latencystats after "
                                 "redis-benchmark -d 4096 (SET and GET p99 4.0 µs), Redis 7.0.15 here", "µs"),
}

# Session complexity presets: (record bytes mean, lognormal sigma, updates per session, timer share, timer
# bytes). Not published by Genesys: sized from typical SCXML strategies (a few routing variables ~1 KB; user
# data, treatments and targets ~4 KB; a large data model with attached data ~16 KB) and from the event bursts
# a voice call sees (route request, treatments, queue, target selected, answer, transfer, release).
PRESETS: dict[str, tuple[tuple[int, float, float, float, int], str]] = {
    "simple": ((1024, 0.3, 3, 0.3, 128), "assumption: IVR-style routing, few variables, 3 event bursts"),
    "standard": ((4096, 0.5, 6, 0.5, 256), "assumption: typical routing strategy, 4 KB data model, 6 event bursts"),
    "complex": ((16384, 0.6, 12, 0.6, 1024), "assumption: large data model with attached data, 12 event bursts"),
}


def value(name: str) -> Any:
    return DEFAULTS[name].value


def labels(names: list[str] | tuple[str, ...]) -> dict[str, str]:
    """``{name: "source: basis"}`` for the given defaults (what reports print as 'assumptions')."""
    return {n: DEFAULTS[n].label for n in names}


# ------------------------------------------------------------------------------------------ documentation
def defaults_table() -> str:
    """Markdown table of every default (docs/workload.md embeds it)."""
    lines = ["| parameter | default | source | basis |", "|---|---|---|---|"]
    for name, d in DEFAULTS.items():
        lines.append(f"| `{name}` | {d.shown()} | {d.source} | {d.basis} |")
    return "\n".join(lines)


def presets_table() -> str:
    """Markdown table of the complexity presets (docs/workload.md embeds it)."""
    lines = ["| preset | record bytes (mean, lognormal sigma) | updates per session | timer share / bytes | source |",
             "|---|---|---|---|---|"]
    for name, ((size, sigma, updates, share, tbytes), source) in PRESETS.items():
        default = " (default)" if name == DEFAULTS["complexity"].value else ""
        lines.append(f"| {name}{default} | {size}, {sigma:g} | {updates:g} | {share:g} / {tbytes} | {source} |")
    return "\n".join(lines)
