"""``summary.json`` of a run, computed from what was recorded (pure: no I/O).

Steady-state figures use only the window after the warm-up / pre-fill (``steady_from_s``). The server
side is the referee: commands from ``INFO commandstats`` deltas, CPU from ``used_cpu_sys/user`` deltas
(which include socket I/O and TLS, unlike ``usec_per_call``), memory and keys per master.

Nodes die, restart and change roles: a node's counters count only while it was a master and only up to its
last answer (a decrease is a restart), so a master that died and the replica that took over its slots are
not counted twice, and nothing is ever negative. ``failovers`` and ``outages`` say what the monitor saw.
"""

from __future__ import annotations

import statistics
import time
from collections import Counter
from typing import Any

from loadsim.model import attribution
from loadsim.model import runclass as rc
from loadsim.model.runclass import FaultSeen, classify
from loadsim.redis.monitor import NOT_WORKLOAD, workload_commands
from loadsim.results.figures import (
    SATURATED_CPU_PERCENT,
    number,
    run_evidence,
    steady_commands_per_s,
)
from loadsim.results.host import HOST_FIGURES
from loadsim.results.recorder import Recorder, stats
from loadsim.results.schema import SCHEMA_VERSION, Summary

LAG_BEHIND_US = 10_000  # schedule lag p99 above 10 ms: the schedule fell behind
RATE_BEHIND = 0.98  # achieved below 98 % of offered: the system did not keep up
# Redis's commands against the client's: equal in a clean run (tested); more than this apart, operations were cut
# off, stuck or lost uncounted on one side (faults, a silent node) and the per-command figures are doubtful
COMMAND_GAP_SHARE, COMMAND_GAP_MIN = 0.001, 5

# the shortest statistics window whose percentiles a run reports as a steady state (flag no_steady_state)
MIN_STEADY_S = 5.0
# A Locust worker that heard of the master's one steady start late began its window then (it cannot count back):
# its pairs' first late_s of steady operations are left out of the offered and achieved rates, latency and the
# operations that commands per operation divides by, while Redis's counters over the master's window count them.
# Recorded from LATE_STEADY_S (the master logged from there); flagged past LATE_STEADY_SHARE of the steady window:
# the rates' and commands-per-operation bias is at most late_s / steady_s x the worker's share of the pairs, so 1 %
# keeps it at half the 2 % tolerance of achieved against offered (RATE_BEHIND) whatever that share is.
LATE_STEADY_S = 0.1
LATE_STEADY_SHARE = 0.01


def client_pauses(commandstats_start: dict[str, Any], commandstats_end: dict[str, Any]) -> dict[str, int]:
    """Per node, the CLIENT PAUSE commands Redis executed during the run (commandstats ``client|pause`` calls
    at the end less at the start): clients were held (writes, or all commands), which the client sees as
    latency with no error. Redis 7.0 has no INFO field for a pause in progress; its own counter is the referee."""
    out = {}
    for node, end in commandstats_end.items():
        calls = int(number((end.get("client|pause") or {}).get("calls"))
                    - number(((commandstats_start.get(node) or {}).get("client|pause") or {}).get("calls")))
        if calls > 0:
            out[node] = calls
    return out


def command_gap(server: int, client: int) -> bool:
    """True when Redis's and the client's command counts differ by more than the tolerance."""
    return abs(server - client) > max(COMMAND_GAP_MIN, COMMAND_GAP_SHARE * max(server, client))
# node_series rows written before the ``state`` column: these errors meant that the node did not answer
_NO_ANSWER_ERRORS = {"ConnectionError", "TimeoutError"}


def iso_time(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(t))


def cpu_seconds(row: dict[str, Any]) -> float:
    """A node sample's CPU seconds so far: used_cpu_sys + used_cpu_user (socket I/O and TLS included)."""
    return number(row.get("used_cpu_sys")) + number(row.get("used_cpu_user"))


def answered(row: dict[str, Any]) -> bool:
    """True if the node answered this sample (older series: no ``state`` column, an error names it)."""
    state = row.get("state")
    if state:
        return state != "down"
    return str(row.get("error") or "") not in _NO_ANSWER_ERRORS


def measured(row: dict[str, Any]) -> bool:
    """True if this sample holds the node's figures (it answered, and INFO was not refused)."""
    return answered(row) and not row.get("error")


def server_not_measured(node_rows: list[dict[str, Any]]) -> str | None:
    """Why Redis's own figures (commands, CPU, memory) were not measured, or None when some sample held them. A
    least-privilege ACL user that may not run INFO gave ``server: 0 commands (client counted 3979)`` and a
    command_gap flag blaming faults: zeros that were never measured."""
    if any(measured(r) for r in node_rows):
        return None
    errors = {str(r.get("error") or "") for r in node_rows if answered(r)}
    if errors & {"NoPermissionError", "ResponseError", "AuthenticationError"}:
        return ("server figures not measured: the ACL user cannot run INFO; grant it +info (ACL SETUSER <user> "
                "+info) or run loadsim check with a user that may, to see the server's side")
    if node_rows:
        return "server figures not measured: no node answered the monitor's INFO"
    return "server figures not measured: the monitor could not reach the cluster"


def master_delta(points: list[tuple[float, str]]) -> float:
    """The growth of a counter over the intervals that end with the node a master (a replica's counters count
    what it replicates, already counted on its master). ``points`` are (value, role) in time order. A
    counter that went down was reset by a restart: it counts from zero again."""
    total = 0.0
    for (a, _), (b, role) in zip(points, points[1:], strict=False):
        if role == "master":
            total += b - a if b >= a else b
    return total


def node_histories(node_rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per node: its rows in time order (``rows``, answered or not; ``measured``, the rows with figures), its
    ``timeline`` ([{at_s, state}] with state master, replica or down, one entry per change), ``last_seen_s``
    (last answer), ``down_from_s`` (start of the silence it ended the run in, else None) and ``ever_master``."""
    by_node: dict[str, list[dict[str, Any]]] = {}
    for r in node_rows:
        by_node.setdefault(str(r["node"]), []).append(r)
    out: dict[str, dict[str, Any]] = {}
    for node, rows in by_node.items():
        rows = sorted(rows, key=lambda r: number(r.get("elapsed_s")))
        timeline: list[dict[str, Any]] = []
        last_seen: float | None = None
        for r in rows:
            at = round(number(r.get("elapsed_s")), 3)
            if not answered(r):
                state = "down"
            elif measured(r):
                state = "master" if r.get("role") == "master" else "replica"
                last_seen = at
            else:  # answered with an error (INFO refused): the role is the one discovered
                state = "master" if r.get("role") == "master" else "replica"
                last_seen = at
            if not timeline or timeline[-1]["state"] != state:
                timeline.append({"at_s": at, "state": state})
        out[node] = {"rows": rows, "measured": [r for r in rows if measured(r)], "timeline": timeline,
                     "last_seen_s": last_seen,
                     "down_from_s": timeline[-1]["at_s"] if timeline and timeline[-1]["state"] == "down" else None,
                     "ever_master": any(t["state"] == "master" for t in timeline)}
    return out


def _status(history: dict[str, Any]) -> str:
    """``master`` (a master at the end), ``former master`` (a replica at the end) or ``dead`` (silent at the end)."""
    final = history["timeline"][-1]["state"] if history["timeline"] else "down"
    return {"master": "master", "replica": "former master"}.get(final, "dead")


def _down_how(history: dict[str, Any]) -> str | None:
    """How a node silent at the end was silent: ``refused`` (connection refused: its process is gone) or ``no
    answer`` (it accepts connections and says nothing: stopped, paused); None when it answered at the end."""
    if history["down_from_s"] is None:
        return None
    last = history["rows"][-1]
    return "refused" if str(last.get("error") or "") == "ConnectionError" else "no answer"


def master_figures(node_rows: list[dict[str, Any]], steady_from_s: float | None,
                   cs_start: dict[str, Any], cs_end: dict[str, Any]) -> list[dict[str, Any]]:
    """Per node that was a master at any time: memory (start, end, steady mean), keys, CPU seconds and
    workload commands of the run, counted only while it was a master and only up to its last answer (a dead
    node's figures stop where it stopped), with its ``status`` and ``timeline``."""
    out = []
    for node, h in sorted(node_histories(node_rows).items()):
        rows = h["measured"]
        if not h["ever_master"] or not rows:
            continue
        last, first = rows[-1], rows[0]
        roles = [str(r.get("role")) for r in rows]
        # no steady window (None: stopped in its warm-up or pre-fill, or the pre-fill never drained): no steady
        # figures (zeros over 0 s: the whole run's pre-fill and idle CPU would be fitted as a steady window's)
        steady = [r for r in rows if steady_from_s is not None and number(r.get("elapsed_s")) >= steady_from_s]
        steady_roles = [str(r.get("role")) for r in steady]
        # memory: the last sample stands in (a run without a steady window calibrates nothing: no live sessions)
        steady_masters = [r for r in steady if r.get("role") == "master"] or steady or rows[-1:]
        # workload commands: commandstats at the start, each sample's (when it carries them), at the end
        points = [(float(workload_commands(cs_start[node])), roles[0])] if node in cs_start else []
        points += [(number(r["workload_commands"]), str(r.get("role"))) for r in rows
                   if r.get("workload_commands") not in (None, "")]
        if node in cs_end and answered(h["rows"][-1]):
            points.append((float(workload_commands(cs_end[node])), roles[-1]))
        if all(r.get("workload_commands") not in (None, "") for r in steady):
            commands_steady = master_delta([(number(r["workload_commands"]), role)
                                            for r, role in zip(steady, steady_roles, strict=True)])
        else:  # older series: total_commands_processed, less the monitor's own INFO (one per sample)
            commands_steady = max(0.0, master_delta([(number(r.get("total_commands_processed")), role)
                                                     for r, role in zip(steady, steady_roles, strict=True)])
                                  - (sum(1 for role in steady_roles[1:] if role == "master")))
        out.append({
            "node": node,
            "used_memory": int(number(last.get("used_memory"))),
            "used_memory_start": int(number(first.get("used_memory"))),
            "used_memory_steady_mean": round(statistics.fmean(number(r.get("used_memory")) for r in steady_masters)),
            "used_memory_rss": int(number(last.get("used_memory_rss"))),
            "maxmemory": int(number(last.get("maxmemory"))),
            "keys": int(number(last.get("keys"))),
            "connected_clients": int(number(last.get("connected_clients"))),
            # to the µs Redis reports them in: a master's steady window in a 6 s run holds ~50 ms of CPU, and a
            # rounding to the ms moved its CPU per command by up to 1 % (the unit costs are fitted on these)
            "cpu_s": round(master_delta([(cpu_seconds(r), role) for r, role in zip(rows, roles, strict=True)]), 6),
            "cpu_s_steady": round(master_delta([(cpu_seconds(r), role)
                                                for r, role in zip(steady, steady_roles, strict=True)]), 6),
            "commands_steady": int(commands_steady),
            # what the masters received (requests; the monitor's INFO replies go out, not in): the per-byte CPU
            "net_input_bytes_steady": int(master_delta([(number(r.get("total_net_input_bytes")), role)
                                                        for r, role in zip(steady, steady_roles, strict=True)])),
            "steady_s": round(master_delta([(number(r.get("elapsed_s")), role)
                                            for r, role in zip(steady, steady_roles, strict=True)]), 3),
            "commands": int(master_delta(points)),
            "status": _status(h),
            "down_how": _down_how(h),
            "last_seen_s": h["last_seen_s"],
            "down_from_s": h["down_from_s"],
            "timeline": h["timeline"],
        })
    return out


def failovers(node_rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every time a master stopped answering (or stopped being a master): when, which replica became master
    in its place and when (the first sample that saw it a master), and the difference, ``failover_s``
    (None when no replica took over). ``back_at_s``: when the old master answered again, if it did."""
    histories = node_histories(node_rows)
    # promotions: (node, when it was first seen a master after being a replica, the master it followed)
    promotions: list[tuple[str, float, str | None]] = []
    for node, h in histories.items():
        followed: str | None = None
        was_replica = False
        for r in h["measured"]:
            if r.get("role") == "master":
                if was_replica:
                    promotions.append((node, round(number(r.get("elapsed_s")), 3), followed))
                was_replica = False
            else:
                was_replica, followed = True, (r.get("replica_of") or followed)
    out = []
    taken: set[tuple[str, float]] = set()
    for node, h in sorted(histories.items()):
        timeline = h["timeline"]
        for prev, event in zip(timeline, timeline[1:], strict=False):
            if prev["state"] != "master" or event["state"] not in ("down", "replica"):
                continue
            lost = event["at_s"]
            # when it answered again (if it went silent)
            later = [t for t in timeline if t["at_s"] > lost and t["state"] != "down"]
            back = later[0]["at_s"] if event["state"] == "down" and later else None
            candidates = sorted((at, who) for who, at, followed in promotions
                                if followed == node and at >= lost - 1.5 and (who, at) not in taken)
            entry: dict[str, Any] = {"node": node, "replaced_by": None, "down_at_s": lost, "promoted_at_s": None,
                                     "failover_s": None, "back_at_s": back,
                                     "how": "stopped answering" if event["state"] == "down" else "became a replica"}
            if candidates:
                at, who = candidates[0]
                taken.add((who, at))
                entry.update(replaced_by=who, promoted_at_s=at, failover_s=round(max(0.0, at - lost), 3))
            elif event["state"] == "replica":
                # it comes back as a replica after one of its replicas took its slots while it was a master but
                # did not answer as one (a script busy past busy-reply-threshold, a pause): say who and when
                earlier = sorted((at, who) for who, at, followed in promotions
                                 if followed == node and prev["at_s"] <= at <= lost)
                if earlier:
                    at, who = earlier[-1]
                    entry.update(replaced_by=who, promoted_at_s=at, failover_s=None, taken_over_before=True)
            out.append(entry)
    return sorted(out, key=lambda f: f["down_at_s"])


def outages(node_rows: list[dict[str, Any]], duration_s: float) -> list[dict[str, Any]]:
    """Periods the cluster was down as the monitor saw it: samples in which no master answered, or at least half
    of the nodes that reported a ``cluster_state`` said ``fail``. [{from_s, to_s (None: to the end), seconds,
    why}]."""
    samples: dict[float, list[dict[str, Any]]] = {}
    for r in node_rows:
        samples.setdefault(round(number(r.get("time")), 3), []).append(r)
    periods: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    for t in sorted(samples):
        rows = samples[t]
        at = round(min(number(r.get("elapsed_s")) for r in rows), 3)
        states = [r.get("cluster_state") for r in rows if answered(r) and r.get("cluster_state") not in (None, "")]
        why = None
        if not any(answered(r) and r.get("role") == "master" for r in rows):
            why = "no master answered"
        elif states and 2 * sum(1 for s in states if s == "fail") >= len(states):
            why = "cluster_state:fail"
        if why and current is None:
            current = {"from_s": at, "to_s": None, "seconds": 0.0, "why": why}
            periods.append(current)
        elif why and current is not None and why not in current["why"]:
            current["why"] += f", then {why}"
        elif not why and current is not None:
            current["to_s"] = at
            current = None
    for p in periods:
        end = p["to_s"] if p["to_s"] is not None else max(duration_s, p["from_s"])
        p["seconds"] = round(end - p["from_s"], 3)
    return periods


def cluster_baseline(per_master: dict[str, Any] | None, prefix: str) -> dict[str, Any] | None:
    """What the masters held before the run's first write (``NodeMonitor.baseline``), totalled: keys, used_memory,
    ``data_bytes`` (what those keys cost) and ``prefix_keys`` (under this run's own prefix, left by earlier runs;
    ``prefix_complete`` False: at least that many). None when not measured."""
    if not per_master:
        return None
    rows = [v for v in per_master.values() if "error" not in v]
    return {"keys": sum(int(v["keys"]) for v in rows), "used_memory": sum(int(v["used_memory"]) for v in rows),
            "data_bytes": sum(int(v["data_bytes"]) for v in rows), "prefix": prefix,
            "prefix_keys": sum(int(v["prefix_keys"]) for v in rows),
            "prefix_complete": all(v["prefix_complete"] for v in rows), "masters": per_master}


GENERATOR_IDLE_SOURCE = ("each generator process's own CPU with no load, measured in that process before its load "
                         "(Locust and loadsim's own upkeep, not work per command)")


def generator_idle_total(processes: list[dict[str, Any] | None] | None) -> dict[str, Any] | None:
    """The generator processes' own CPU with no load (``loadsim.locust.idle``: one entry per process, None where
    not measured), totalled: ``share`` of one core over the measured ones, ``processes`` and ``measured``, each
    process's entry and the source. None when no process is known."""
    if not processes:
        return None
    measured = [p for p in processes if p]
    return {"share": round(sum(float(p["share"]) for p in measured), 6), "processes": len(processes),
            "measured": len(measured), "per_process": list(processes), "source": GENERATOR_IDLE_SOURCE}


def generator_cpu_per_command(cpu_s: float, seconds: float, commands: float, idle_share: float = 0.0) -> float:
    """The generator's CPU per command, µs: the generator processes' CPU over a window less their own idle CPU over
    the same seconds (``idle_share`` of one core, all processes, times ``seconds``), per command acknowledged in it.
    The one figure the run text, the latency split's client part and every comparison print (net of idle); with
    ``idle_share`` 0, the gross figure beside it. Why net: each process's upkeep (Locust's greenlets and heartbeats,
    loadsim's sampling) is not per-command work, as an idle master's own CPU is not the commands'."""
    if commands <= 0:
        return 0.0
    return round(max(0.0, cpu_s - idle_share * seconds) * 1e6 / commands, 2)


def _steady_client_cpu_per_command(steady_rows: list[dict[str, Any]], column: str = "generator_cpu_s",
                                   idle_share: float = 0.0) -> float:
    """Generator CPU µs per Redis command over the steady window (start-up costs left out), net of ``idle_share``
    (``generator_cpu_per_command``); ``column`` ``coordinator_cpu_s``: the Locust master's own, per command of the
    whole generator."""
    if len(steady_rows) < 2:
        return 0.0
    first, last = steady_rows[0], steady_rows[-1]
    commands = number(last.get("commands_total")) - number(first.get("commands_total"))
    cpu = number(last.get(column)) - number(first.get(column))
    seconds = number(last.get("elapsed_s")) - number(first.get("elapsed_s"))
    return generator_cpu_per_command(cpu, seconds, commands, idle_share)


def coordinator_figures(cpu_s: float | None, cpu_rows: list[dict[str, Any]],
                        steady_rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The Locust master's own CPU when Locust workers generate the load (None in one process, where that work is
    inside the generator's figure): whole run, median per second, per command over the steady window."""
    if cpu_s is None:
        return None
    samples = [number(r.get("coordinator_cpu_percent")) for r in cpu_rows
               if r.get("coordinator_cpu_percent") not in (None, "")]
    return {"cpu_s": round(cpu_s, 3), "median_cpu_percent": round(statistics.median(samples), 1) if samples else 0.0,
            "cpu_us_per_command": _steady_client_cpu_per_command(steady_rows, "coordinator_cpu_s")}


def whole_run_rates(recorder: Recorder, client_rows: list[dict[str, Any]], duration: float) -> dict[str, Any]:
    """Rates over the whole run (pre-fill included): what the schedule released (done + failed + still queued at
    the end, the pre-fill's creates not yet taken included), what completed, and the backlog never drained. A run
    without a steady state reports these."""
    done = sum(recorder.ops.values())
    failed = sum(recorder.errors.values())
    # the last sample is taken after the HA pairs stopped (their queues dropped): the one before it holds the
    # backlog still queued when the test ended
    backlog = int(max((number(r.get("queue_depth")) for r in client_rows[-2:]), default=0))
    return {"whole_run_offered_ops_per_s": round((done + failed + backlog) / duration, 2) if duration > 0 else 0.0,
            "whole_run_achieved_ops_per_s": round(done / duration, 2) if duration > 0 else 0.0,
            "backlog_at_end": backlog}


def accounting(recorder: Recorder, whole: dict[str, Any]) -> dict[str, int]:
    """Every operation of the whole run (pre-fill, restores and cleaning included) once: due = sent + not_sent,
    sent = ok + errors. ``unaccounted``: due less the rest, 0 unless an operation was lost to the counting (a
    test checks it); ``backlog_at_end``: the queue depth of the last sample before the stop, beside ``not_sent``
    (what the stop counted when it dropped the queues)."""
    ok, errors = sum(recorder.ops.values()), sum(recorder.errors.values())
    return {"due": recorder.due, "sent": ok + errors, "ok": ok, "errors": errors, "not_sent": recorder.not_sent,
            "unaccounted": recorder.due - ok - errors - recorder.not_sent, "backlog_at_end": whole["backlog_at_end"]}


def host_figures(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Host contention over these client samples: mean and largest of every host figure (``HOST_FIGURES``: CPU
    pressure, steal ...), % (None: the kernel does not report it)."""
    out: dict[str, Any] = {}
    for key, column in ((f.key, f"host_{f.key}") for f in HOST_FIGURES):
        values = [number(r[column]) for r in rows if r.get(column) not in (None, "")]
        out[key] = round(statistics.fmean(values), 1) if values else None
        out[f"{key}_max"] = round(max(values), 1) if values else None
    return out


PERCENTILE_Q = {"p50": 0.5, "p99": 0.99}


def operation_variants(workload: dict[str, Any]) -> dict[str, tuple[tuple[int, float], ...]]:
    """Each operation's variants, (Redis commands, share), for the run's workload: the list sizing reads
    (``loadsim.model.footprint.operation_variants``: a create with its timers record, an update that also rewrites
    it in ``timer_share`` of them, a delete, a recovery), built from the run's preset and what it overrode."""
    from dataclasses import replace

    from loadsim.model import footprint as fp
    from loadsim.model import workload as wl

    layout = wl.KeyLayout(str(workload.get("key_layout", "per-session")), "x")
    raw = workload.get("complexity")
    given = raw if isinstance(raw, dict) else {}
    name = str(given.get("name", raw if isinstance(raw, str) else "")).split("+")[0]
    preset = wl.PRESETS.get(name, wl.WorkloadParams().complexity)
    complexity = replace(preset, **{k: given[k] for k in ("records", "timer_bytes", "timer_share",
                                                         "updates_per_session") if k in given})
    if "records" not in given and workload.get("records_per_session"):
        complexity = replace(complexity, records=int(workload["records_per_session"]))
    return fp.operation_variants(layout, complexity, float(workload.get("leaked_share") or 0.0))


def _window(rows: list[dict[str, Any]], steady_from_s: float | None) -> list[dict[str, Any]]:
    steady = [r for r in rows if steady_from_s is not None and number(r.get("elapsed_s")) >= steady_from_s]
    return steady or rows


def redis_execution(commandstats_start: dict[str, Any], commandstats_end: dict[str, Any],
                    latencystats: dict[str, Any] | None) -> tuple[dict[str, float | None], str]:
    """Redis's own execution time per workload command, µs at p50 and p99 (and p999, Redis 7's p99.9, which the
    latency composition reads for the slowest of several commands: None without it), and where it comes from: INFO
    latencystats (Redis 7) weighted by each command's calls in the run, else the mean of commandstats'
    usec_per_call for p50 and p99."""
    calls: dict[tuple[str, str], float] = {}
    usec = 0.0
    for node, end in commandstats_end.items():
        start = commandstats_start.get(node, {})
        for cmd, v in end.items():
            if cmd.lower() in NOT_WORKLOAD:
                continue
            d = number(v.get("calls")) - number(start.get(cmd, {}).get("calls"))
            if d > 0:
                calls[(node, cmd.lower())] = d
                usec += number(v.get("usec")) - number(start.get(cmd, {}).get("usec"))
    total = sum(calls.values())
    if not total:
        return {"p50": None, "p99": None}, "not measured (no workload command counted by Redis)"
    if latencystats:
        out: dict[str, float | None] = {}
        for q, key in (*((q, q) for q in attribution.PERCENTILES), ("p999", "p99.9")):
            seen = [(n, latencystats.get(node, {}).get(cmd, {}).get(key)) for (node, cmd), n in calls.items()]
            seen = [(n, v) for n, v in seen if v is not None]
            out[q] = round(sum(n * v for n, v in seen) / sum(n for n, _ in seen), 2) if seen else None
        if all(out[q] is not None for q in attribution.PERCENTILES):
            return out, "INFO latencystats (Redis 7: execution percentiles per command, weighted by calls)"
    mean = round(max(0.0, usec) / total, 2)
    return {"p50": mean, "p99": mean, "p999": None}, (
        "INFO commandstats usec_per_call (no INFO latencystats: Redis < 7 or latency-tracking off; the mean stands in "
        "for p50 and p99)")


def network_round_trip(node_rows: list[dict[str, Any]], steady_from_s: float | None) -> float | None:
    """The network round trip to the masters, µs: the median of the probe's per-second burst medians
    (``ping_us``, loadsim.redis.roundtrip) over the steady window; None when no PING was answered."""
    pings = [number(r["ping_us"]) for r in _window(node_rows, steady_from_s)
             if r.get("role") == "master" and r.get("ping_us") not in (None, "")]
    return round(statistics.median(pings), 1) if pings else None


def latency_split(operations: dict[str, Any], workload: dict[str, Any], node_rows: list[dict[str, Any]],
                  steady_from_s: float | None, commandstats_start: dict[str, Any],
                  commandstats_end: dict[str, Any], latencystats: dict[str, Any] | None,
                  client_us_per_command: float | None = None) -> dict[str, Any]:
    """Per operation with latencies, p50 and p99 split into before_send, client, network, redis and unexplained
    (loadsim.model.attribution), with the baselines used. ``client_us_per_command``: the generator's CPU per
    command over the steady window (None or 0: not measured)."""
    network = network_round_trip(node_rows, steady_from_s)
    redis, source = redis_execution(commandstats_start, commandstats_end, latencystats)
    client = client_us_per_command or None
    from loadsim.model.footprint import commands_at

    variants = operation_variants(workload)
    ops: dict[str, Any] = {}
    for name, op in operations.items():
        lat, svc, before = op.get("latency_us", {}), op.get("service_us", {}), op.get("before_send_us") or {}
        if not lat.get("count") or name not in variants:
            continue
        # each percentile's operation has its own command count (an update at p50 is one SET, at p99 one that also
        # rewrites the timers record when over 1 % of them do); ``commands``: the p99's, sizing's count
        n = {q: commands_at(variants[name], PERCENTILE_Q[q]) for q in attribution.PERCENTILES}
        ops[name] = {"commands": n["p99"], "commands_p50": n["p50"],
                     **{q: attribution.split(float(lat[q]), float(svc[q]), n[q], network, redis[q],
                                             before.get(q) if before.get("count") else None, client)
                        for q in attribution.PERCENTILES}}
    return {"network_us": network,
            "network_source": "median PING round trip to the masters, measured in bursts by a process of its own "
                              "(outside the generator's event loop), steady window" if network is not None else
            "not measured (no PING answered)", "redis_us_per_command": redis, "redis_source": source,
            "client_us_per_command": client,
            "client_source": "generator CPU per command, steady window (all generator processes, net of their idle "
                             "CPU)" if client else "not measured", "operations": ops}


SILENT_FOR_S = 2.0  # a master that stopped answering and came back counts as a fault after this long: one missed
# sample (SAMPLE_TIMEOUT_S 0.5 s on a host under CPU pressure) is not a fault


def faults_seen(masters: list[dict[str, Any]], failed_over: list[dict[str, Any]], down: list[dict[str, Any]],
                errors: dict[str, int], error_windows: list[dict[str, Any]] | None, pauses: dict[str, int],
                read_back: dict[str, Any] | None, faults: list[dict[str, Any]] | None,
                node_rows: list[dict[str, Any]]) -> list[FaultSeen]:
    """The faults of Redis the run saw, one per master (the first thing that happened to it) plus a cluster down:
    what ``--fault`` did to a master (kill, restart, SIGSTOP), masters silent or dead at the end (the read-back's
    probe, else the monitor), masters that stopped answering for a while, BUSY and OOM replies, CLIENT PAUSE in
    Redis's counters. In time order."""
    by_master: dict[str, FaultSeen] = {}
    replaced = {f["node"]: f for f in failed_over if f.get("replaced_by")}

    def failover(node: str) -> str:
        f = replaced.get(node)
        return f"its replica {f['replaced_by']} master at {f['promoted_at_s']:.1f} s" if f else ""

    def add(code: str, master: str | None, at: float | None, detail: str = "") -> None:
        key = master or code
        if key not in by_master:
            by_master[key] = FaultSeen(code, master, at, detail)

    for f in faults or []:  # what --fault did (ORS faults, a replica killed, a manual failover: not a master's)
        node, at = f.get("node"), f.get("done_s")
        if not node or f.get("result") != "ok":
            continue
        if f.get("action") == "kill-master":
            add(rc.MASTER_DEAD, node, at, "killed: " + (failover(node) or "no replica took over"))
        elif f.get("action") == "restart-master":
            add(rc.MASTER_DEAD, node, at, f"killed, restarted at {f.get('restarted_s', 0):.1f} s")
        elif f.get("action") == "pause-master":
            resumed = f.get("resumed_s")
            add(rc.MASTER_STOPPED, node, at, "SIGSTOP, " + (f"resumed at {resumed:.1f} s" if resumed is not None
                                                            else "until after the end"))
    figures = {m["node"]: m for m in masters}
    rb = read_back or {}
    for node, code in sorted((rb.get("masters_down_codes") or {}).items()):
        m = figures.get(node, {})
        windows = [w["from_s"] for w in error_windows or [] if w.get("master") == node]
        at = m.get("down_from_s") if m.get("down_from_s") is not None else min(windows, default=None)
        add(code, node, at, failover(node) or "still at the end")
    end = max((number(r.get("elapsed_s")) for r in node_rows), default=0.0)
    for m in masters:
        # refused is certain; no answer only when it lasted (a last sample missed on a loaded host is not a fault)
        if m.get("status") == "dead" and (m.get("down_how") == "refused"
                                          or end - (m.get("down_from_s") or end) >= SILENT_FOR_S):
            add(rc.MASTER_DEAD if m.get("down_how") == "refused" else rc.MASTER_SILENT, m["node"], m.get("down_from_s"),
                failover(m["node"]) or "to the end")
    for f in failed_over:
        back = f.get("back_at_s")
        if f.get("how") == "stopped answering" and back is not None and back - f["down_at_s"] >= SILENT_FOR_S:
            add(rc.MASTER_SILENT, f["node"], f["down_at_s"], failover(f["node"]) or f"answered again at {back:.1f} s")
    windows = sorted(error_windows or [], key=lambda w: w.get("from_s", 0.0))
    for kind, code, what in (("busy", rc.MASTER_BUSY, "operations failed with BUSY"),
                             ("oom", rc.MASTER_OOM, "writes refused with OOM")):
        if not errors.get(kind):
            continue
        named = [n for n, f in by_master.items() if f.code == code]
        where = named or [w["master"] for w in windows if w.get("master") not in by_master]
        if code == rc.MASTER_OOM:  # the masters whose used_memory reached their maxmemory, first
            full = {}
            for r in sorted(node_rows, key=lambda r: number(r.get("elapsed_s"))):
                if r.get("role") == "master" and 0 < number(r.get("maxmemory")) <= number(r.get("used_memory")):
                    full.setdefault(str(r["node"]), round(number(r.get("elapsed_s")), 3))
            where = named or list(full) or where
        first = {w["master"]: w["from_s"] for w in reversed(windows)}
        if not where:
            add(code, None, windows[0]["from_s"] if windows else None, f"{errors[kind]:,} {what}")
        for i, node in enumerate(dict.fromkeys(where)):
            detail = f"{errors[kind]:,} {what}" if i == 0 else ""
            if node in by_master and by_master[node].code == code:
                by_master[node] = FaultSeen(code, node, by_master[node].at_s, detail)
            else:
                add(code, node, first.get(node), detail)
    for node, calls in sorted(pauses.items()):
        seen = by_master.get(node)
        detail = f"CLIENT PAUSE {calls}x in Redis's counters"
        if seen is None or seen.code in (rc.MASTER_SILENT, rc.MASTER_STOPPED, rc.MASTER_PAUSED):
            by_master[node] = FaultSeen(rc.MASTER_PAUSED, node, seen.at_s if seen else None,
                                        ", ".join(x for x in (seen.detail if seen else "", detail) if x))
    for p in down:
        if not by_master and p.get("seconds", 0.0) < SILENT_FOR_S:
            continue  # one sample every master missed on a loaded host, nothing else amiss: not a fault
        to = "the end" if p.get("to_s") is None else f"{p['to_s']:.1f} s"
        add(rc.CLUSTER_DOWN, None, p.get("from_s"), f"to {to}: {p.get('why', '?')}")
    return sorted(by_master.values(), key=lambda f: (f.at_s is None, f.at_s or 0.0))


def steady_cpu(masters: list[dict[str, Any]], idle_cpu: dict[str, Any] | None) -> dict[str, Any]:
    """The steady window's server CPU per command (idle included: what the run measured) and bytes received per
    command, and the idle masters' CPU measured before the load: what the unit costs are fitted on
    (loadsim.model.unitcosts), labelled by the window they cover."""
    commands = sum(m.get("commands_steady", 0) for m in masters)
    cpu = sum(m.get("cpu_s_steady", 0.0) for m in masters)
    received = sum(m.get("net_input_bytes_steady", 0) for m in masters)
    out: dict[str, Any] = {
        "cpu_us_per_command_steady": round(cpu * 1e6 / commands, 2) if commands else 0.0,
        "bytes_in_per_command_steady": round(received / commands, 1) if commands else 0.0}
    if idle_cpu is not None:
        out["idle_cpu"] = idle_cpu
    return out


def late_steady_starts(late: dict[str, tuple[float, int]], pairs_total: int, steady_s: float
                       ) -> tuple[list[dict[str, Any]], bool]:
    """Per Locust worker that began its steady window late (``late``: worker id -> (seconds after the master's
    start, its HA pairs)): the record for the summary, latest first, and whether any is past the tolerance
    (LATE_STEADY_SHARE of the steady window, at least LATE_STEADY_S)."""
    tolerance = max(LATE_STEADY_S, LATE_STEADY_SHARE * steady_s)
    out = [{"worker": worker, "late_s": round(late_s, 3), "ha_pairs": pairs,
            # at most this share of the rates (and of commands per operation) is missing from the steady window
            "rates_bias": round(late_s / steady_s * pairs / pairs_total, 4) if steady_s > 0 and pairs_total else None,
            "past_tolerance": late_s > tolerance}
           for worker, (late_s, pairs) in sorted(late.items(), key=lambda x: -x[1][0]) if late_s > LATE_STEADY_S]
    return out, any(r["past_tolerance"] for r in out)


def build_summary(*, scenario: str, started: float, ended: float, steady_from_s: float | None,
                  workload: dict[str, Any], cluster: dict[str, Any], recorder: Recorder,
                  client_rows: list[dict[str, Any]], node_rows: list[dict[str, Any]],
                  commandstats_start: dict[str, Any], commandstats_end: dict[str, Any], client_cpu_s: float,
                  recovery: list[dict[str, Any]], interrupted: bool, faults: list[dict[str, Any]] | None = None,
                  redis_client: dict[str, int] | None = None, error_windows: list[dict[str, Any]] | None = None,
                  migration: list[dict[str, Any]] | None = None, read_back: dict[str, Any] | None = None,
                  latencystats: dict[str, Any] | None = None,
                  cluster_audit: dict[str, Any] | None = None, idle_cpu: dict[str, Any] | None = None,
                  baseline: dict[str, Any] | None = None, coordinator_cpu_s: float | None = None,
                  late_steady: dict[str, tuple[float, int]] | None = None,
                  stats_resets: list[float] | None = None,
                  generator_idle: list[dict[str, Any] | None] | None = None) -> Summary:
    """The whole summary, built here and only here: nothing is added to it afterwards. ``faults`` (what --fault
    did), ``redis_client`` (the ORS client's counters), ``error_windows``, ``migration`` (runbook steps) and
    ``read_back`` are what the engine recorded beside the recorder; absent when None or empty. ``latencystats``:
    the masters' INFO latencystats at the end (``NodeMonitor.latencystats``), for the latency split.
    ``cluster_audit``: what the audit before the run found (``plugin.Loadsim.audit_cluster``). ``idle_cpu``: the
    masters' CPU before the load started (``NodeMonitor.idle_cpu``). ``baseline``: what the masters held before the
    first write (``cluster_baseline``). ``late_steady``: the Locust workers that began the steady window late (id
    -> (seconds late, HA pairs); ``late_steady_starts``). ``stats_resets``: when Locust's "Reset stats" was pressed
    (s from the start; not applied to these figures). ``client_cpu_s``: the CPU of the processes that sent the
    commands (the Locust workers, or the only process); ``coordinator_cpu_s``: the Locust master's own (None in one
    process). ``generator_idle``: each generator process's own CPU with no load (``loadsim.locust.idle``), taken
    out of the generator CPU per command."""
    from loadsim.results.impact import fault_impact  # impact reads this module's thresholds
    duration = ended - started
    no_window = None
    if steady_from_s is None:
        no_window = "the run ended before its pre-fill drained (statistics begin once it has)"
    elif steady_from_s >= duration:
        # stopped before its steady window began (during --warmup or the pre-fill): it has none. Kept as given it
        # said the window began after the run ended (seen: steady_from_s 10.0 in a 3.9 s run with --warmup 10)
        no_window = (f"the run ended at {duration:.1f} s, before its steady window was to begin at "
                     f"{steady_from_s:.1f} s (after the warm-up and pre-fill): run longer than --warmup")
        steady_from_s = None
    steady_s = max(1e-9, duration - steady_from_s) if steady_from_s is not None else 0.0
    operations = recorder.operations_summary()
    measured = sum(v["latency_us"]["count"] for k, v in operations.items() if k != "session.recover")
    masters = master_figures(node_rows, steady_from_s, commandstats_start, commandstats_end)
    # each node counted only while it was a master: a promoted replica's figures start at its promotion
    server_commands = sum(m["commands"] for m in masters)
    server_cpu = sum(m["cpu_s"] for m in masters)
    down = outages(node_rows, duration)
    failed_over = failovers(node_rows)
    steady_rows = [r for r in client_rows if steady_from_s is not None and r["elapsed_s"] >= steady_from_s]
    no_steady = steady_from_s is None or steady_s < MIN_STEADY_S
    # without a steady window (the generator never drained its backlog) the whole run stands in: the user must
    # see what flowed and what the generator spent, never zeros
    cpu_rows = steady_rows[1:] if len(steady_rows) > 1 else client_rows[1:]
    cpu_samples = sorted(number(r.get("generator_cpu_percent")) for r in cpu_rows) or [0.0]
    # a generator process saturates near one core whatever the others do: the flag and the class read the busiest
    # process (with Locust workers; the only one otherwise), the client figures all of them
    busiest = sorted(number(r.get("generator_cpu_busiest_percent", r.get("generator_cpu_percent")))
                     for r in cpu_rows) or [0.0]
    live = [number(r.get("live_sessions")) for r in steady_rows] or [0.0]
    idle = generator_idle_total(generator_idle)
    idle_share = idle["share"] if idle else 0.0
    client_cpu_gross = _steady_client_cpu_per_command(steady_rows)
    client_cpu_per_cmd = _steady_client_cpu_per_command(steady_rows, idle_share=idle_share)
    if not client_cpu_gross and recorder.commands:  # no steady window: the whole run's
        client_cpu_gross = generator_cpu_per_command(client_cpu_s, duration, recorder.commands)
        client_cpu_per_cmd = generator_cpu_per_command(client_cpu_s, duration, recorder.commands, idle_share)
    offered = recorder.offered / steady_s if steady_s else 0.0
    achieved = measured / steady_s if steady_s else 0.0
    lag = stats(recorder.lag)
    errors = sum(recorder.errors.values())
    whole = whole_run_rates(recorder, client_rows, duration)
    host = host_figures(steady_rows or client_rows)
    split = latency_split(operations, workload, node_rows, steady_from_s, commandstats_start, commandstats_end,
                          latencystats, client_cpu_per_cmd)
    flags = {
        "generator_saturated": busiest[int(0.9 * (len(busiest) - 1))] > SATURATED_CPU_PERCENT,
        "schedule_fell_behind": lag["p99"] > LAG_BEHIND_US or (offered > 0 and achieved < RATE_BEHIND * offered),
        "errors": errors > 0,
        "no_steady_state": no_steady,
        "cluster_down": bool(down),
        "command_gap": command_gap(server_commands, recorder.commands),
    }
    if baseline is not None and baseline["keys"] > 0:
        flags["cluster_held_data"] = True
    late, late_flag = late_steady_starts(late_steady or {}, int(workload["ha_pairs"]), steady_s)
    if late_flag:
        flags["worker_late_steady"] = True
    not_measured = server_not_measured(node_rows) if recorder.commands else None
    if not_measured:
        flags["command_gap"] = False  # nothing to compare the client's count with
    counted_pauses = client_pauses(commandstats_start, commandstats_end)
    pauses = dict(counted_pauses)
    # a CLIENT PAUSE still in force at the end (ALL holds INFO too: not in the counters yet), as the read-back saw
    for node, code in ((read_back or {}).get("masters_down_codes") or {}).items():
        if code == rc.MASTER_PAUSED:
            pauses[node] = max(1, pauses.get(node, 0))
    if pauses:
        flags["writes_paused"] = True
    seen = faults_seen(masters, failed_over, down, dict(recorder.errors), error_windows, counted_pauses, read_back,
                       faults, node_rows)
    if seen:
        flags["master_fault"] = True
    if cluster_audit is not None:
        if cluster_audit.get("eviction_allowed"):
            flags["eviction_allowed"] = True
        if cluster_audit.get("doubts"):
            flags["cluster_audit"] = True
    summary: Summary = {
        "schema_version": SCHEMA_VERSION,
        "complete": True,
        "interrupted": interrupted,
        "scenario": scenario,
        "started": iso_time(started),
        "ended": iso_time(ended),
        "duration_s": round(duration, 3),
        "steady_from_s": None if steady_from_s is None else round(steady_from_s, 3),
        "steady_s": round(steady_s, 3),
        **({"no_steady_window": no_window} if no_window else {}),
        **({"late_steady_starts": late} if late else {}),
        **({"locust_stats_reset_at_s": list(stats_resets)} if stats_resets else {}),
        "workload": {"ha_pairs": workload["ha_pairs"], "cps_per_pair": workload["cps_per_pair"],
                     "aht_s": workload["aht_s"], "complexity": workload["complexity"]["name"],
                     "key_layout": workload["key_layout"], "worker_threads": workload["worker_threads"],
                     "session_ttl_s": workload["session_ttl_s"], "digital_share": workload["digital_share"],
                     "writes_per_session": workload["writes_per_session"],
                     "record_bytes_mean": workload["record_bytes_mean"],
                     "expected_live_sessions": workload["expected_live_sessions"],
                     "expected_ops_per_s": workload["expected_ops_per_s"], "seed": workload["seed"],
                     "mean_lifetime_s": workload.get("mean_lifetime_s", workload["aht_s"]),
                     "lifetime": {k: workload[k] for k in ("routed_share", "routing_s", "extended_share",
                                                           "extended_s", "leaked_share") if k in workload},
                     "records_per_session": workload.get("complexity", {}).get("records", 1),
                     **({"estate": workload["estate"]} if workload.get("estate") else {})},
        "cluster": cluster,
        "rates": {"offered_ops_per_s": round(offered, 2), "achieved_ops_per_s": round(achieved, 2),
                  "commands_per_s": round(server_commands / duration, 2) if duration else 0.0,
                  "steady_commands_per_s": steady_commands_per_s(masters),
                  "model_ops_per_s": round(workload["expected_ops_per_s"], 2), **whole},
        "operations": operations,
        "errors": dict(recorder.errors),
        "schedule_lag_us": lag,
        "live_sessions": {"steady_mean": round(statistics.fmean(live), 1),
                          "final": int(number(client_rows[-1]["live_sessions"])) if client_rows else 0,
                          "expected": workload["expected_live_sessions"]},
        "masters": masters,
        "server": {"commands": server_commands, "commands_client_counted": recorder.commands,
                   "cpu_s": round(server_cpu, 3),
                   "cpu_us_per_command": round(server_cpu * 1e6 / server_commands, 2) if server_commands else 0.0,
                   **steady_cpu(masters, idle_cpu),
                   "used_memory": sum(m["used_memory"] for m in masters if m["status"] == "master")}
        if not not_measured else  # nulls, not zeros: never measured
        {"commands": None, "commands_client_counted": recorder.commands, "cpu_s": None, "cpu_us_per_command": None,
         "used_memory": None, "not_measured": not_measured},
        "client": {"cpu_s": round(client_cpu_s, 3),
                   "cpu_us_per_command": client_cpu_per_cmd, "cpu_us_per_command_gross": client_cpu_gross,
                   "max_cpu_percent": round(cpu_samples[-1], 1), "median_cpu_percent":
                   round(statistics.median(cpu_samples), 1),
                   "max_rss_bytes": int(max((number(r.get("generator_rss_bytes")) for r in client_rows), default=0))},
        "flags": flags,
        "host": host,
        "latency_split": split,  # type: ignore[typeddict-item]
        "run_class": classify(run_evidence(
            operations, lag_p99_us=lag["p99"], masters=masters, steady=not flags["no_steady_state"],
            generator_cpu_p90=busiest[int(0.9 * (len(busiest) - 1))], offered=offered, achieved=achieved,
            host=host, backlog=whole["backlog_at_end"], split=split, faults=seen,
            not_sent=recorder.not_sent)),  # type: ignore[typeddict-item]
        "accounting": accounting(recorder, whole),
    }
    if redis_client is not None:
        summary["client"]["redis_client"] = redis_client
    if idle is not None:
        summary["client"]["idle_cpu"] = idle  # type: ignore[typeddict-item]
    coordinator = coordinator_figures(coordinator_cpu_s, cpu_rows, steady_rows)
    if coordinator is not None:
        summary["client"]["coordinator"] = coordinator  # type: ignore[typeddict-item]
    if faults is not None:
        summary["faults"] = faults  # type: ignore[typeddict-item]
        summary["fault_impact"] = fault_impact(faults, client_rows, node_rows)  # type: ignore[typeddict-item]
    if error_windows:
        summary["error_windows"] = error_windows  # type: ignore[typeddict-item]
    if migration is not None:
        summary["migration"] = migration  # type: ignore[typeddict-item]
    if read_back is not None:
        summary["read_back"] = read_back  # type: ignore[typeddict-item]
    if cluster_audit is not None:
        summary["cluster_audit"] = cluster_audit  # type: ignore[typeddict-item]
    if baseline is not None:
        summary["baseline"] = baseline  # type: ignore[typeddict-item]
    if pauses:
        summary["client_pauses"] = pauses  # type: ignore[typeddict-item]
    if down:
        summary["outages"] = down  # type: ignore[typeddict-item]
    if failed_over:
        summary["failovers"] = failed_over  # type: ignore[typeddict-item]
    if workload.get("cleanup_period_s"):
        summary["cleanup"] = {"runs": recorder.ops.get("session.cleanup", 0),  # type: ignore[typeddict-item]
                              "entries_removed": recorder.cleaned}
    if recovery:
        summary["recovery"] = {  # type: ignore[typeddict-item]
            "pairs": len(recovery), "expected": sum(r["expected"] for r in recovery),
            "recovered": sum(r["recovered"] for r in recovery), "lost": sum(r["lost"] for r in recovery),
            "lost_never_written": sum(r["lost_never_written"] for r in recovery),
            "lost_written": sum(r["lost_written"] for r in recovery),
            "dropped_operations": sum(r["dropped_operations"] for r in recovery),
            "max_seconds": round(max((r["seconds"] for r in recovery if r.get("seconds") is not None), default=0.0), 3),
            "complete": all(r.get("complete", True) for r in recovery),
            "read_back": dict(sum((Counter(r.get("read_back", {})) for r in recovery), Counter())),
            "per_pair": recovery}
    return summary
