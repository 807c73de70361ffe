"""The schema of ``summary.json``: typed, versioned, documented here and nowhere else (pure; no I/O).

``SCHEMA_VERSION`` is written into every summary (and into the ``complete: false`` stub written at the
start of a run). The writer (``results.summary.build_summary``) builds a ``Summary``; the reader
(``results.reader.load``) calls ``upgrade`` so that callers only ever see the current version. Each key
carries its description as ``Annotated`` metadata; ``markdown_table()`` renders them for
docs/results.md, and a test keeps the two equal.

Versions:
    0  before the version field existed (loadsim <= 0.1.0 of November 2026). Same keys as 1, except
       that the oldest runs lack the steady-window figures per master (``cpu_s_steady``, ``steady_s``,
       ``commands_steady``); ``upgrade`` fills them with the whole-run figures.
    1  adds ``schema_version``.
    2  one counting convention with Locust's tables and CSV: ``operations.<name>.count`` counts the operations
       due in the statistics window, failed ones included (Locust's request count), ``errors`` the failed ones
       among them, and the new ``warmup`` the operations before the window (pre-fill, warm-up). Version 1's
       ``count`` was the successful operations of the whole run: ``upgrade`` splits it into the window's
       (the latency histogram's count, plus the errors) and ``warmup`` (the rest).
    3  adds ``run_class`` (clean / rig-bound / redis-bound with its evidence), ``host`` (CPU pressure and steal),
       ``latency_split`` (p50/p99 per operation: before the send, client, network, Redis), ``ping_us`` in
       node_series.csv,
       the whole-run rates of ``rates`` and two host columns in client_series.csv. ``upgrade`` classifies an
       older run from its flags (no host figures: "not measured").
"""

from __future__ import annotations

import typing
from typing import Annotated, Any, NotRequired, TypedDict

from loadsim.errors import ERROR_KINDS, ResultsError
from loadsim.model.runclass import CODES, FAULT_WORDS
from loadsim.model.workload import OPERATIONS
from loadsim.redis.monitor import NODE_FIELDS
from loadsim.results.host import COLUMNS as HOST_COLUMNS
from loadsim.results.host import HOST_FIGURES

SCHEMA_VERSION = 3

# The columns of the per-second series (documented in docs/results.md).
CLIENT_COLUMNS = (["time", "elapsed_s", "live_sessions", "queue_depth", "schedule_lag_max_us", "latency_max_us",
                   "generator_cpu_percent", "generator_rss_bytes", "generator_cpu_s", "commands_total", "ops_total",
                   "errors_total", *HOST_COLUMNS, "generator_cpu_busiest_percent",
                   "coordinator_cpu_percent", "coordinator_cpu_s"]
                  + [f"ops:{op}" for op in (*OPERATIONS, "session.prefill")]
                  + [f"errors:{k}" for k in ERROR_KINDS])
NODE_COLUMNS = ["time", "elapsed_s", "node", "role", "state", *NODE_FIELDS, "error"]


class LatencyStats(TypedDict):
    """An HdrHistogram in µs, summarised."""

    count: Annotated[int, "values recorded"]
    mean: Annotated[float, "mean, µs"]
    p50: Annotated[int, "median, µs"]
    p90: Annotated[int, "90th percentile, µs"]
    p99: Annotated[int, "99th percentile, µs"]
    p999: Annotated[int, "99.9th percentile, µs"]
    max: Annotated[int, "maximum, µs"]


class OperationStats(TypedDict):
    count: Annotated[int, "operations due in the statistics window (after the warm-up / pre-fill), failed ones "
                          "included: the request count of Locust's tables and CSV"]
    errors: Annotated[int, "failed operations among `count`"]
    warmup: Annotated[int, "operations due before the statistics window (pre-fill, warm-up): in no other figure"]
    service_us: Annotated[LatencyStats, "send to reply, steady window only"]
    latency_us: Annotated[LatencyStats, "from the intended start (queueing in the ORS node included), steady window"]
    before_send_us: NotRequired[Annotated[LatencyStats, "intended start to send of each operation (schedule lag, "
                                          "wait for a free ORS worker thread), steady window"]]


class WorkloadSummary(TypedDict):
    ha_pairs: Annotated[int, "ORS HA pairs (Locust users)"]
    cps_per_pair: Annotated[float, "calls per second offered to each pair"]
    aht_s: Annotated[float, "mean handle time, s"]
    complexity: Annotated[str, "session complexity preset (with +custom when overridden)"]
    key_layout: Annotated[str, "per-session, single-hash, node-tag or index"]
    worker_threads: Annotated[int, "ORS worker threads per ORS node"]
    session_ttl_s: Annotated[int, "TTL on every record, s"]
    digital_share: Annotated[float, "share of interactions that are digital (not persisted)"]
    writes_per_session: Annotated[float, "persistence operations per session (create + updates + delete)"]
    record_bytes_mean: Annotated[int, "mean session record size, bytes"]
    expected_live_sessions: Annotated[float, "Little's law: persisted sessions alive at once"]
    expected_ops_per_s: Annotated[float, "persistence operations per second the model offers"]
    seed: Annotated[int, "random seed of the workload model"]
    mean_lifetime_s: NotRequired[Annotated[float, "mean time a session lives in Redis, over the lifetime classes, s"]]
    lifetime: NotRequired[Annotated[dict[str, float], "routed_share, routing_s, extended_share, extended_s, "
                                    "leaked_share of the model"]]
    records_per_session: NotRequired[Annotated[int, "data records a session is split into"]]
    estate: NotRequired[Annotated[str, "the estate file (--estate) the pairs were described by, if any"]]


class ClusterSummary(TypedDict):
    masters: Annotated[int, "masters that answered the monitor's last sample"]
    replicas: Annotated[int, "replicas per master"]
    tls: Annotated[bool, "TLS between ORS and Redis"]
    mutual_tls: Annotated[bool, "client certificates (tls-cert/tls-key) given"]
    acl: Annotated[bool, "an ACL user name was given"]
    aof: Annotated[bool | None, "AOF on (embedded cluster); null for a cluster of the user's"]
    embedded: Annotated[bool, "the run started its own cluster"]
    redis_version: NotRequired[Annotated[str, "INFO server redis_version of the masters (several joined by ', ' "
                                              "when they differ); absent when INFO was refused"]]
    mem_allocator: NotRequired[Annotated[str, "INFO memory mem_allocator of the masters, e.g. jemalloc-5.3.0 "
                                              "(several joined by ', ' when they differ)"]]


class Rates(TypedDict):
    offered_ops_per_s: Annotated[float, "operations the schedule released per second, steady window"]
    achieved_ops_per_s: Annotated[float, "operations completed per second, steady window"]
    commands_per_s: Annotated[float, "server-counted workload commands per second, whole run (pre-fill included)"]
    steady_commands_per_s: Annotated[float, "server-counted commands per second, steady window, all masters"]
    model_ops_per_s: Annotated[float, "operations per second the model offers (same as expected_ops_per_s)"]
    whole_run_offered_ops_per_s: NotRequired[Annotated[float, "whole run, pre-fill included: operations released "
                                                       "(completed + failed + still queued at the end) per second"]]
    whole_run_achieved_ops_per_s: NotRequired[Annotated[float, "whole run, pre-fill included: operations completed "
                                                        "per second"]]
    backlog_at_end: NotRequired[Annotated[int, "operations still queued for a worker (pre-fill creates not yet "
                                              "taken included) at the last sample before the pairs stopped"]]


class LiveSessions(TypedDict):
    steady_mean: Annotated[float, "mean live sessions over the steady window (client samples)"]
    final: Annotated[int, "live sessions at the last sample"]
    expected: Annotated[float, "Little's law"]


class TimelineEntry(TypedDict):
    at_s: Annotated[float, "elapsed time of the first sample that saw this state, s"]
    state: Annotated[str, "master, replica or down (did not answer the monitor)"]


class MasterFigures(TypedDict):
    node: Annotated[str, "host:port"]
    used_memory: Annotated[int, "bytes, at the end"]
    used_memory_start: Annotated[int, "bytes, first sample"]
    used_memory_steady_mean: Annotated[int, "bytes, mean over the steady window"]
    used_memory_rss: Annotated[int, "bytes, at the end"]
    maxmemory: NotRequired[Annotated[int, "the node's maxmemory setting (INFO memory), bytes, last sample; 0: none. "
                                          "Set on every master, it is the run's own node memory limit in its "
                                          "question (plan --from, the web tab)"]]
    keys: Annotated[int, "keys at the end"]
    connected_clients: Annotated[int, "at the end"]
    cpu_s: Annotated[float, "used_cpu_sys + used_cpu_user delta, whole run"]
    cpu_s_steady: Annotated[float, "the same over the steady window"]
    commands_steady: Annotated[int, "commands processed in the steady window, less the monitor's INFO calls"]
    steady_s: Annotated[float, "length of the steady window on this node's samples, s"]
    net_input_bytes_steady: NotRequired[Annotated[int, "total_net_input_bytes delta over the steady window: the "
                                                       "bytes the master received (the per-byte CPU term)"]]
    commands: Annotated[int, "workload commands of the run (INFO commandstats delta), counted while a master "
                             "and up to the node's last answer"]
    status: NotRequired[Annotated[str, "master (a master at the end), former master (a replica at the end: "
                                       "failed over) or dead (did not answer at the end)"]]
    down_how: NotRequired[Annotated[str | None, "dead: refused (connection refused: its process is gone) or no "
                                                "answer (accepts connections, says nothing: stopped, paused); "
                                                "else null"]]
    last_seen_s: NotRequired[Annotated[float | None, "elapsed time of the node's last answer, s"]]
    down_from_s: NotRequired[Annotated[float | None, "dead: since when it did not answer, s; else null"]]
    timeline: NotRequired[Annotated[list[TimelineEntry], "the node's states in time order, one entry per change "
                                                         "(a promoted replica starts as replica)"]]


class IdleCpu(TypedDict):
    window_s: Annotated[float, "length of the idle window before the load, s"]
    share_per_master: Annotated[float, "mean share of one core a master used in it (cron, cluster bus, INFO polls)"]
    masters: Annotated[int, "masters measured"]


class ServerFigures(TypedDict):
    commands: Annotated[int | None, "workload commands counted by Redis (commandstats deltas, all masters); null: "
                                    "not measured (see not_measured)"]
    commands_client_counted: Annotated[int, "commands the generator counted as acknowledged: must be equal"]
    cpu_s: Annotated[float | None, "server CPU seconds, all masters, whole run (null: not measured)"]
    cpu_us_per_command: Annotated[float | None, "cpu_s / commands, µs, whole run (pre-fill and idle CPU included; "
                                                "null: not measured)"]
    used_memory: Annotated[int | None, "bytes, all masters, at the end (null: not measured)"]
    not_measured: NotRequired[Annotated[str, "why the server's figures are null: e.g. the ACL user cannot run INFO, "
                                             "and the fix"]]
    cpu_us_per_command_steady: NotRequired[Annotated[float, "server CPU / commands over the steady window, µs "
                                                            "(idle CPU included)"]]
    bytes_in_per_command_steady: NotRequired[Annotated[float, "bytes the masters received per command, steady "
                                                              "window"]]
    idle_cpu: NotRequired[Annotated[IdleCpu, "the masters' own CPU before the load started"]]


class CoordinatorFigures(TypedDict):
    cpu_s: Annotated[float, "the Locust master's own CPU seconds, whole run"]
    median_cpu_percent: Annotated[float, "its median per-second CPU, % of one core"]
    cpu_us_per_command: Annotated[float, "its CPU per command of the whole generator over the steady window, µs"]


class GeneratorIdle(TypedDict):
    share: Annotated[float, "share of one core the measured generator processes used with no load, summed"]
    processes: Annotated[int, "generator processes (Locust workers, or the only process)"]
    measured: Annotated[int, "of them, those whose idle CPU was measured (the others' is not taken out)"]
    per_process: Annotated[list[dict[str, Any] | None], "each process's {share, window_s, source}; null: not "
                                                         "measured (its idle window was under 0.5 s)"]
    source: Annotated[str, "how it was measured"]


class ClientFigures(TypedDict):
    cpu_s: Annotated[float, "generator CPU seconds: the processes that send the commands (every Locust worker, or "
                            "the only process), from the test's start to its stop (the read-back not included)"]
    cpu_us_per_command: Annotated[float, "generator CPU per command over the steady window, µs, net of the "
                                         "processes' own idle CPU over the same seconds (idle_cpu): the figure every "
                                         "surface prints"]
    cpu_us_per_command_gross: NotRequired[Annotated[float, "the same with the idle CPU included, µs"]]
    idle_cpu: NotRequired[Annotated[GeneratorIdle, "the generator processes' own CPU with no load, measured before "
                                                   "their load"]]
    max_cpu_percent: Annotated[float, "highest per-second generator CPU, all the processes that send commands "
                                      "(every Locust worker), % of one core"]
    median_cpu_percent: Annotated[float, "median per-second generator CPU, all the processes that send commands, "
                                         "% of one core"]
    coordinator: NotRequired[Annotated[CoordinatorFigures, "with Locust workers: the master's own CPU "
                                       "(coordination: merging the workers' figures, sampling Redis, writing the "
                                       "results), reported beside the generator's, never added in"]]
    max_rss_bytes: Annotated[int, "largest generator resident memory, bytes"]
    redis_client: NotRequired[Annotated[dict[str, int], "the ORS client's own counters (this process): "
                                        "slot_refreshes, refresh_errors, refreshes_skipped (rate-limited), "
                                        "connections_opened, reconnects, moved, asked"]]


class LateSteadyStart(TypedDict):
    worker: Annotated[str, "the Locust worker's client id"]
    late_s: Annotated[float, "how long after the master's named steady start it began its window, s"]
    ha_pairs: Annotated[int, "its HA pairs"]
    rates_bias: Annotated[float | None, "share of the steady rates (and of commands per operation) it left out: "
                                        "late_s / steady_s x its share of the pairs"]
    past_tolerance: Annotated[bool, "late by more than 1 % of the steady window (at least 0.1 s): the flag "
                                    "worker_late_steady"]


class Flags(TypedDict):
    generator_saturated: Annotated[bool, "generator CPU p90 above 90 %: it may have been the bottleneck"]
    schedule_fell_behind: Annotated[bool, "schedule lag p99 above 10 ms or achieved below 98 % of offered"]
    errors: Annotated[bool, "any operation failed"]
    no_steady_state: Annotated[bool, "no steady window, or one shorter than 5 s"]
    cluster_down: NotRequired[Annotated[bool, "the monitor saw the cluster down (see outages) at some sample"]]
    command_gap: NotRequired[Annotated[bool, "Redis's and the client's command counts differ by more than 0.1 % "
                                       "(at least 5): operations cut off, stuck or uncounted"]]
    writes_paused: NotRequired[Annotated[bool, "CLIENT PAUSE ran on a node during the run (client_pauses): its "
                                         "clients were held, latency without errors"]]
    eviction_allowed: NotRequired[Annotated[bool, "a master's maxmemory-policy evicts keys and --allow-eviction "
                                            "let the run go on (see cluster_audit)"]]
    cluster_audit: NotRequired[Annotated[bool, "the audit before the run found what makes its numbers doubtful "
                                         "(cluster_audit.doubts)"]]
    master_fault: NotRequired[Annotated[bool, "a master was dead, stopped, paused, busy or out of memory, or the "
                                        "cluster down: the run is of class fault (run_class.reasons name them)"]]
    cluster_held_data: NotRequired[Annotated[bool, "the masters held keys before the run's first write (see "
                                             "baseline): memory is calibrated on what the run added"]]
    worker_late_steady: NotRequired[Annotated[bool, "a Locust worker began the steady window later than the "
                                              "master named it, by more than 1 % of the window (late_steady_starts)"]]


class SplitPart(TypedDict):
    total_us: Annotated[float, "the operation's latency at this percentile, from the intended start, µs"]
    before_send_us: Annotated[float, "the percentile of the time before the send: schedule lag and the wait for a "
                                     "free ORS worker thread (the rig), µs"]
    client_us: Annotated[float | None, "commands × the generator's CPU per command (steady window), µs; null: not "
                                       "measured"]
    network_us: Annotated[float | None, "commands × the network round trip (median PING, measured outside the "
                                        "generator), µs; null: not measured"]
    redis_us: Annotated[float | None, "commands × Redis's execution per command at this percentile, µs; null: not "
                                      "measured"]
    unexplained_us: NotRequired[Annotated[float, "service − network − Redis − client: what no measurement explains "
                                                 "(the generator's wake-ups, Redis's queueing), µs; negative: the "
                                                 "measured parts exceed the service time"]]


class OperationSplit(TypedDict):
    commands: Annotated[int, "Redis commands of the operation at p99 (the model's variants, sizing's count: an "
                             "update that also rewrites the timers record when over 1 % of them do)"]
    commands_p50: NotRequired[Annotated[int, "Redis commands of the median operation (e.g. an update without the "
                                             "timers record)"]]
    p50: Annotated[SplitPart, "the median operation"]
    p99: Annotated[SplitPart, "the 99th percentile"]


class LatencySplit(TypedDict):
    network_us: Annotated[float | None, "the network round trip to the masters: median of the per-second PING "
                                        "bursts of a probe in a process of its own (loadsim.redis.roundtrip), "
                                        "steady window, µs"]
    network_source: Annotated[str, "how network_us was measured (or why not)"]
    client_us_per_command: NotRequired[Annotated[float | None, "the generator's CPU per command, steady window, µs"]]
    client_source: NotRequired[Annotated[str, "how client_us_per_command was measured (or why not)"]]
    redis_us_per_command: Annotated[dict[str, float | None], "p50, p99 and p999 (p99.9; null without INFO "
                                                             "latencystats) of Redis's own execution per workload "
                                                             "command, µs"]
    redis_source: Annotated[str, "INFO latencystats (Redis 7), else commandstats usec_per_call (the mean for both "
                                 "percentiles: what older servers lack is said here)"]
    operations: Annotated[dict[str, OperationSplit], "per operation with latencies (percentiles subtract only "
                                                     "approximately; see loadsim.model.attribution)"]


# one key per row of loadsim.results.host.HOST_FIGURES, and its largest per-second figure
HostFigures = TypedDict("HostFigures", {  # type: ignore[misc]
    k: v for f in HOST_FIGURES for k, v in (
        (f.key, Annotated[float | None, f.meaning]),
        (f"{f.key}_max", Annotated[float | None, "the largest per-second figure, %"]))})


RunClass = TypedDict("RunClass", {
    "class": Annotated[str, "clean, rig-bound (the generator or the host limited the run: its latency says nothing "
                            "about Redis), redis-bound (a master at its CPU ceiling, or Redis's own execution "
                            "most of p99) or fault (a master dead, stopped, paused, busy or out of memory, or the "
                            "cluster down: checked first); see loadsim.model.runclass"],
    "evidence": Annotated[str, "one line: what made the class, then the other figures checked"],
    "reasons": Annotated[list[str], "short strings naming what made the class (empty when clean); for a fault, "
                                    "each names the master and the time"],
    "codes": NotRequired[Annotated[list[str], "reason codes, what scripts decide on: for a fault one per kind "
                                              f"seen ({', '.join(FAULT_WORDS)}), else one per reason "
                                              f"({', '.join(CODES)}); empty when clean"]],
})


class Accounting(TypedDict):
    due: Annotated[int, "operations that fell due: released by the schedule, pre-fill creates, sessions to restore"]
    sent: Annotated[int, "of those, sent by an ORS worker thread: ok + errors"]
    ok: Annotated[int, "sent and acknowledged"]
    errors: Annotated[int, "sent and failed (errors by kind; stuck: no reply when the node stopped; cut_off: its "
                           "node crashed)"]
    not_sent: Annotated[int, "due and never sent: still queued when their ORS node stopped (behind a silent master, "
                             "a slow run)"]
    unaccounted: Annotated[int, "due - sent - not_sent: 0 (an operation the counting lost otherwise)"]
    backlog_at_end: Annotated[int, "the queue depth of the last sample before the stop (rates.backlog_at_end)"]


class Failover(TypedDict):
    node: Annotated[str, "the master that stopped answering (or became a replica)"]
    replaced_by: Annotated[str | None, "the replica that became master in its place; null if none did"]
    down_at_s: Annotated[float, "first sample in which it did not answer (or was a replica), s"]
    promoted_at_s: Annotated[float | None, "first sample in which its replica was a master, s"]
    failover_s: Annotated[float | None, "promoted_at_s - down_at_s (to the monitor's 1 s samples)"]
    back_at_s: Annotated[float | None, "when the old master answered again (as a replica if replaced), s"]
    how: Annotated[str, "stopped answering, or became a replica (a failover it answered through)"]


class Outage(TypedDict):
    from_s: Annotated[float, "first sample that saw the cluster down, s"]
    to_s: Annotated[float | None, "first sample that saw it up again; null: down to the end"]
    seconds: Annotated[float, "to_s (or the end of the run) - from_s"]
    why: Annotated[str, "no master answered, or cluster_state:fail on at least half of the nodes"]


class PairRecovery(TypedDict):
    pair: Annotated[int, "HA pair index"]
    node_id: Annotated[int, "the pair's ORS Node id (the configured primary's DBID), the same before and after"]
    from_dbid: Annotated[int, "DBID of the application that was primary"]
    to_dbid: Annotated[int, "DBID of the application that took over (the owner records name it)"]
    expected: Annotated[int, "sessions live in the model at the switchover"]
    recovered: Annotated[int, "found in Redis and taken over"]
    lost: Annotated[int, "expected but not recovered"]
    lost_never_written: Annotated[int, "their create was queued in, or cut off with, the old primary, or refused "
                                  "by Redis: never in Redis (lost as in ORS)"]
    lost_written: Annotated[int, "written but not found: data loss"]
    dropped_operations: Annotated[int, "operations queued in (or cut off with) the old primary when it stopped"]
    seconds: Annotated[float | None, "switchover to the last session restored, s (null: not finished)"]
    crash: NotRequired[Annotated[bool, "the primary crashed (crash-primary) instead of stopping gracefully"]]
    at_s: NotRequired[Annotated[float, "when the switchover began, s from the start"]]
    found: NotRequired[Annotated[int, "sessions of the node id the recovery scan found in Redis"]]
    restored: NotRequired[Annotated[int, "sessions found and restored (expected or not)"]]
    scan_seconds: NotRequired[Annotated[float, "switchover to the end of the recovery scan, s"]]
    recover_failed: NotRequired[Annotated[int, "restores that failed with an error"]]
    read_back: NotRequired[Annotated[dict[str, int], "the restored records checked: current, stale, ahead, "
                                     "missing, corrupt, never_acknowledged"]]
    complete: NotRequired[Annotated[bool, "this pair's recovery finished"]]
    not_restored_by_design: NotRequired[Annotated[int, "written to Redis but not restored because the new primary's "
                                                  "persistence type is not redis (the migration's rollback)"]]
    connections_opened: NotRequired[Annotated[int, "connections the takeover opened (lazy pools: on first use)"]]


class Recovery(TypedDict):
    pairs: Annotated[int, "pairs that switched over"]
    expected: Annotated[int, "sum over pairs"]
    recovered: Annotated[int, "sum over pairs"]
    lost: Annotated[int, "sum over pairs"]
    lost_never_written: Annotated[int, "sum over pairs"]
    lost_written: Annotated[int, "sum over pairs"]
    dropped_operations: Annotated[int, "sum over pairs"]
    max_seconds: Annotated[float, "slowest pair's recovery (switchover to its last session restored), s"]
    complete: NotRequired[Annotated[bool, "every pair's recovery finished before the end of the test"]]
    read_back: NotRequired[Annotated[dict[str, int], "restored sessions' records against the last acknowledged "
                                     "write: current, stale, ahead, missing, corrupt, never_acknowledged"]]
    per_pair: Annotated[list[PairRecovery], "one entry per pair"]


class Baseline(TypedDict):
    keys: Annotated[int, "keys on all masters before the run's first write"]
    used_memory: Annotated[int, "used_memory of all masters then, bytes"]
    data_bytes: Annotated[int, "what those keys cost (keys x their mean MEMORY USAGE + 64 B of key tables, measured), "
                               "bytes: subtracted from used_memory where memory is calibrated"]
    prefix: Annotated[str, "this run's own key prefix, ORS:<cluster name>"]
    prefix_keys: Annotated[int, "keys under that prefix before the run (earlier runs' sessions)"]
    prefix_complete: Annotated[bool, "false: the count stopped after 200,000 keys examined per master (at least)"]
    masters: Annotated[dict[str, dict[str, Any]], "the same per master (keys, used_memory, data_bytes, "
                                                  "prefix_keys, prefix_complete; error when it did not answer)"]


class Summary(TypedDict):
    schema_version: Annotated[int, "version of this schema (see loadsim.results.schema)"]
    complete: Annotated[bool, "false in the stub written at the start; true once the run summarised"]
    interrupted: Annotated[bool, "stopped by Ctrl-C / SIGTERM (still summarised)"]
    scenario: Annotated[str, "scenario name"]
    started: Annotated[str, "ISO 8601 local time"]
    ended: Annotated[str, "ISO 8601 local time"]
    duration_s: Annotated[float, "whole run, s"]
    steady_from_s: Annotated[float | None, "start of the steady window (after pre-fill and warm-up), s"]
    steady_s: Annotated[float, "length of the steady window, s"]
    late_steady_starts: NotRequired[Annotated[list[LateSteadyStart], "Locust workers that began the steady window "
                                              "more than 0.1 s after the master's start (heard of it late)"]]
    locust_stats_reset_at_s: NotRequired[Annotated[list[float], "when Locust's Reset stats (its web UI) was pressed, "
                                                   "s from the start: Locust's table and locust_stats.csv count from "
                                                   "the last one; this summary keeps the whole steady window"]]
    no_steady_window: NotRequired[Annotated[str, "why the run has no steady window (steady_from_s null): stopped in "
                                            "its warm-up or pre-fill, or the pre-fill never drained"]]
    workload: Annotated[WorkloadSummary, "the model's parameters"]
    cluster: Annotated[ClusterSummary, "the cluster's shape"]
    rates: Annotated[Rates, "offered and achieved rates"]
    operations: Annotated[dict[str, OperationStats], "per operation (session.create, .update, .delete, ...)"]
    errors: Annotated[dict[str, int], "failed operations by error kind (loadsim.errors.ERROR_KINDS)"]
    schedule_lag_us: Annotated[LatencyStats, "how late the scheduler released operations, steady window"]
    live_sessions: Annotated[LiveSessions, "sessions alive at once"]
    masters: Annotated[list[MasterFigures], "one entry per node that was a master at any time (status says "
                                            "which were at the end)"]
    server: Annotated[ServerFigures, "Redis's own counters: the referee"]
    client: Annotated[ClientFigures, "the load generator's own cost"]
    flags: Annotated[Flags, "conditions that make the numbers doubtful"]
    host: Annotated[HostFigures, "contention on the generator's host"]
    latency_split: Annotated[LatencySplit, "where each operation's p50 and p99 went: rig, network, Redis"]
    run_class: Annotated[RunClass, "whether the run measured Redis or the test rig"]
    accounting: NotRequired[Annotated[Accounting, "every operation of the whole run once (pre-fill, restores and "
                                                  "cleaning included): due = sent + not_sent, sent = ok + errors"]]
    recovery: NotRequired[Annotated[Recovery, "present after --switchover-at"]]
    faults: NotRequired[Annotated[list[dict[str, Any]], "every --fault: at_s (due), done_s, action, target, "
                                  "node / replica acted on, resumed_s / restarted_s / recovered_s, pairs, result"]]
    client_pauses: NotRequired[Annotated[dict[str, int], "per node, CLIENT PAUSE commands Redis executed during "
                                         "the run (its commandstats; at least 1 for a node still paused at the "
                                         "end, which the read-back saw answer the cluster bus but not its "
                                         "clients; present when any)"]]
    baseline: NotRequired[Annotated[Baseline, "what the masters held before the run's first write"]]
    cluster_audit: NotRequired[Annotated[dict[str, Any], "what loadsim check audits, done before the load: "
                                         "warnings (its warning lines), eviction_allowed (the evicting policies "
                                         "--allow-eviction let through), doubts (what makes this run's numbers "
                                         "doubtful: maxclients below the run's connections, nodes not connected, "
                                         "configuration not readable)"]]
    read_back: NotRequired[Annotated[dict[str, Any], "after the test, the session record of every session believed "
                                     "live read back (live = never_acknowledged + checked + unreadable): checked "
                                     "= current + stale (an acknowledged write lost) + ahead (applied, reply lost) "
                                     "+ missing + corrupt; unreadable by error kind in unreadable_why; "
                                     "lost_with_dead_master (on a master refusing connections at the end); "
                                     "masters_down (per master down at the end, what it did: refuses "
                                     "connections, stopped, paused, answers with errors); masters_down_codes (the "
                                     "same as run-class fault codes); not_done (why nothing was read); "
                                     "incomplete; errors (= "
                                     "unreadable, older name); sampled_every, seconds"]]
    failovers: NotRequired[Annotated[list[Failover], "present when a master stopped answering or was failed "
                                     "over: one entry per event, as the monitor saw it"]]
    outages: NotRequired[Annotated[list[Outage], "present when the cluster was down (flags.cluster_down)"]]
    error_windows: NotRequired[Annotated[list[dict[str, Any]], "per master: from its first failed command (after "
                                         "the client's retry) to the first success on one of those slots: master, "
                                         "from_s, to_s, seconds (null: failing at the end), failures"]]
    fault_impact: NotRequired[Annotated[list[dict[str, Any]], "per fault, from the per-second series: latency_max_us "
                                        "before and peak after, seconds until latency is back under 2x before, "
                                        "backlog (peak queue depth) and seconds until drained, generator CPU "
                                        "peak, and whether the generator was saturated"]]
    migration: NotRequired[Annotated[list[dict[str, Any]], "scenarios/migration.py: one entry per runbook step: "
                                     "step, at_s, what, expected (the vendor's words), observed, ok"]]
    cleanup: NotRequired[Annotated[dict[str, int], "index layout with --cleanup-period: runs (cleanings done) "
                                   "and entries_removed (index entries whose body had expired)"]]


class Stub(TypedDict):
    schema_version: int
    complete: bool
    scenario: str
    started: str


def stub(scenario: str, started: str) -> Stub:
    """What ``summary.json`` holds from the start of a run until it is summarised."""
    return {"schema_version": SCHEMA_VERSION, "complete": False, "scenario": scenario, "started": started}


def upgrade(summary: dict[str, Any], where: str = "summary.json") -> dict[str, Any]:
    """``summary`` in the current version (a new dict). Raises ResultsError for a newer version."""
    version = summary.get("schema_version", 0)
    if not isinstance(version, int) or version < 0:
        raise ResultsError(f"'{where}' has schema_version {version!r}, not a version number; the file is damaged")
    if version > SCHEMA_VERSION:
        raise ResultsError(f"'{where}' was written by a newer loadsim (results schema {version}; this one reads "
                           f"up to {SCHEMA_VERSION}): upgrade loadsim to read it")
    out = dict(summary)
    if version == 0 and out.get("complete"):
        # The oldest runs had no steady-window figures per master: the whole run stands in for them.
        masters = [dict(m) for m in out.get("masters", [])]
        for m in masters:
            m.setdefault("cpu_s_steady", m.get("cpu_s", 0.0))
            m.setdefault("steady_s", out.get("duration_s", 0.0))
            m.setdefault("commands_steady", m.get("commands", 0))
        out["masters"] = masters
    if out.get("complete") and "steady_commands_per_s" not in out.get("rates", {"steady_commands_per_s": 0}):
        from loadsim.results.figures import steady_commands_per_s  # same formula as the writer's

        out["rates"] = {**out["rates"], "steady_commands_per_s": steady_commands_per_s(out.get("masters", []))}
    if version < 2 and out.get("complete"):
        # version 1 counted the successful operations of the whole run: the window's are the latency histogram's
        ops = {}
        for name, op in out.get("operations", {}).items():
            if "warmup" in op:  # already counted this way
                ops[name] = op
                continue
            in_window = op.get("latency_us", {}).get("count", 0)
            ops[name] = {**op, "count": in_window + op.get("errors", 0),
                         "warmup": max(0, op.get("count", 0) - in_window)}
        out["operations"] = ops
    if version < 3 and out.get("complete") and "run_class" not in out:
        out["run_class"] = _older_run_class(out)
    out["schema_version"] = SCHEMA_VERSION
    return out


def _older_run_class(summary: dict[str, Any]) -> dict[str, Any]:
    """A run written before run_class existed, classified from what it holds (no host figures)."""
    from loadsim.model.runclass import classify
    from loadsim.results.figures import run_evidence

    flags, rates = summary.get("flags", {}), summary.get("rates", {})
    evidence = run_evidence(
        summary.get("operations", {}), lag_p99_us=summary.get("schedule_lag_us", {}).get("p99", 0),
        masters=summary.get("masters", []), steady=not flags.get("no_steady_state", False),
        generator_cpu_p90=100.0 if flags.get("generator_saturated") else 0.0,
        offered=float(rates.get("offered_ops_per_s", 0.0)), achieved=float(rates.get("achieved_ops_per_s", 0.0)),
        host=summary.get("host"), split=summary.get("latency_split"))
    result = classify(evidence)
    result["evidence"] = str(result["evidence"]) + (" (classified from an older summary)" if summary.get("host")
                                                    else " (classified from an older summary: no host figures)")
    return result


# ------------------------------------------------------------------------------------------ documentation
def _fields(td: type) -> list[tuple[str, Any, str, bool]]:
    """(key, type, description, required) of a TypedDict, in declaration order."""
    hints = typing.get_type_hints(td, include_extras=True)
    out = []
    for key, hint in hints.items():
        # Python 3.11 cannot see NotRequired behind ``from __future__ import annotations`` in
        # __required_keys__, but get_type_hints(include_extras=True) keeps it: read it there.
        required = key in td.__required_keys__
        if typing.get_origin(hint) is NotRequired:
            hint, required = typing.get_args(hint)[0], False
        description = ""
        if typing.get_origin(hint) is Annotated:
            hint, description = typing.get_args(hint)[0], typing.get_args(hint)[1]
        out.append((key, hint, description, required))
    return out


def _is_typeddict(t: Any) -> bool:
    return isinstance(t, type) and issubclass(t, dict) and hasattr(t, "__required_keys__")


def _nested(t: Any) -> tuple[Any, str]:
    """The TypedDict inside ``t`` (itself, list[T] or dict[str, T]) and the path suffix it adds."""
    if _is_typeddict(t):
        return t, ""
    origin, args = typing.get_origin(t), typing.get_args(t)
    if origin is list and args and _is_typeddict(args[0]):
        return args[0], "[]"
    if origin is dict and len(args) == 2 and _is_typeddict(args[1]):
        return args[1], ".<name>"
    return None, ""


def key_paths(td: type = Summary, prefix: str = "", present: bool = True) -> list[tuple[str, str, bool]]:
    """Every key of the schema as a dotted path (``masters[].cpu_s``; the keys of a free-form mapping as
    ``<name>``), with its description and whether it is always present."""
    out: list[tuple[str, str, bool]] = []
    for key, hint, description, required in _fields(td):
        path, always = f"{prefix}{key}", present and required
        out.append((path, description, always))
        inner, suffix = _nested(hint)
        if typing.get_origin(hint) is dict:
            out.append((f"{path}.<name>", "one entry per name", False))
        if inner is not None:
            out += key_paths(inner, f"{path}{suffix}.", always and suffix != ".<name>")
    return out


def markdown_table() -> str:
    """The keys of summary.json as a Markdown table (docs/results.md embeds it)."""
    lines = ["| key | meaning |", "|---|---|"]
    for path, description, required in key_paths():
        lines.append(f"| `{path}` | {description}{'' if required else ' (optional)'} |")
    return "\n".join(lines)
