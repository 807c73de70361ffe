"""``summary.json`` of a run, computed from what was recorded (pure: no I/O).

Steady-state figures use only the window after the warm-up / pre-fill (``steady_from_s``). The server
side is the referee: commands from ``INFO commandstats`` deltas, CPU from ``used_cpu_sys/user`` deltas
(which include socket I/O and TLS, unlike ``usec_per_call``), memory and keys per master.
"""

from __future__ import annotations

import statistics
from collections import Counter
import time
from typing import Any

from loadsim.results.recorder import Recorder, stats
from loadsim.results.schema import SCHEMA_VERSION, Summary

# Commands that are not the workload: monitoring, connection set-up, cluster discovery.
_NOT_WORKLOAD = {"info", "config|get", "config", "cluster|nodes", "cluster|slots", "cluster|shards", "cluster|info",
                 "ping", "auth", "hello", "client|setname", "client|list", "client|id", "command", "command|docs",
                 "cluster|keyslot", "memory|stats", "memory|usage", "dbsize", "cluster|myid", "select"}
SATURATED_CPU_PERCENT = 90.0  # a generator above this (p90 of per-second samples) may be the bottleneck
LAG_BEHIND_US = 10_000  # schedule lag p99 above 10 ms: the schedule fell behind
RATE_BEHIND = 0.98  # achieved below 98 % of offered: the system did not keep up


def workload_commands(commandstats: dict[str, dict[str, float]]) -> int:
    """Calls of workload commands in a commandstats snapshot of one node."""
    return int(sum(v.get("calls", 0) for k, v in commandstats.items() if k.lower() not in _NOT_WORKLOAD))


def iso_time(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(t))


def number(v: Any) -> float:
    """A sampled INFO value as a float (0 when missing or not a number)."""
    try:
        return float(v)
    except (TypeError, ValueError):
        return 0.0


def cpu_seconds(row: dict[str, Any]) -> float:
    """A node sample's CPU seconds so far: used_cpu_sys + used_cpu_user (socket I/O and TLS included)."""
    return number(row.get("used_cpu_sys")) + number(row.get("used_cpu_user"))


def master_figures(node_rows: list[dict[str, Any]], steady_from_s: float | None,
                   cs_start: dict[str, Any], cs_end: dict[str, Any]) -> list[dict[str, Any]]:
    """Per master: memory (start, end, steady mean), keys, CPU seconds and workload commands of the run."""
    by_node: dict[str, list[dict[str, Any]]] = {}
    for r in node_rows:
        if "error" in r and r.get("error"):
            continue
        by_node.setdefault(r["node"], []).append(r)
    out = []
    for node, rows in sorted(by_node.items()):
        last, first = rows[-1], rows[0]
        if last.get("role") != "master":
            continue
        steady = [r for r in rows if steady_from_s is None or number(r.get("elapsed_s")) >= steady_from_s] or rows
        out.append({
            "node": node,
            "used_memory": int(number(last.get("used_memory"))),
            "used_memory_start": int(number(first.get("used_memory"))),
            "used_memory_steady_mean": round(statistics.fmean(number(r.get("used_memory")) for r in steady)),
            "used_memory_rss": int(number(last.get("used_memory_rss"))),
            "keys": int(number(last.get("keys"))),
            "connected_clients": int(number(last.get("connected_clients"))),
            "cpu_s": round(cpu_seconds(last) - cpu_seconds(first), 3),
            "cpu_s_steady": round(cpu_seconds(steady[-1]) - cpu_seconds(steady[0]), 3),
            # commands in the steady window, less the monitor's own INFO (one per sample)
            "commands_steady": max(0, int(number(steady[-1].get("total_commands_processed"))
                                          - number(steady[0].get("total_commands_processed"))) - (len(steady) - 1)),
            "steady_s": round(number(steady[-1].get("elapsed_s")) - number(steady[0].get("elapsed_s")), 3),
            "commands": workload_commands(cs_end.get(node, {})) - workload_commands(cs_start.get(node, {})),
        })
    return out


def steady_commands_per_s(masters: list[dict[str, Any]]) -> float:
    """Server-counted commands per second over the steady window, all masters (the pre-fill left out)."""
    seconds = max((m["steady_s"] for m in masters), default=0.0)
    return round(sum(m["commands_steady"] for m in masters) / seconds, 2) if seconds > 0 else 0.0


def _steady_client_cpu_per_command(steady_rows: list[dict[str, Any]]) -> float:
    """Generator CPU µs per Redis command over the steady window (start-up costs left out)."""
    if len(steady_rows) < 2:
        return 0.0
    first, last = steady_rows[0], steady_rows[-1]
    commands = number(last.get("commands_total")) - number(first.get("commands_total"))
    cpu = number(last.get("generator_cpu_s")) - number(first.get("generator_cpu_s"))
    return round(cpu * 1e6 / commands, 2) if commands > 0 else 0.0


def build_summary(*, scenario: str, started: float, ended: float, steady_from_s: float | None,
                  workload: dict[str, Any], cluster: dict[str, Any], recorder: Recorder,
                  client_rows: list[dict[str, Any]], node_rows: list[dict[str, Any]],
                  commandstats_start: dict[str, Any], commandstats_end: dict[str, Any], client_cpu_s: float,
                  recovery: list[dict[str, Any]], interrupted: bool) -> Summary:
    duration = ended - started
    steady_s = max(1e-9, duration - steady_from_s) if steady_from_s is not None else 0.0
    operations = recorder.operations_summary()
    measured = sum(v["latency_us"]["count"] for k, v in operations.items() if k != "session.recover")
    masters = master_figures(node_rows, steady_from_s, commandstats_start, commandstats_end)
    server_commands = sum(m["commands"] for m in masters)
    server_cpu = sum(m["cpu_s"] for m in masters)
    steady_rows = [r for r in client_rows if steady_from_s is not None and r["elapsed_s"] >= steady_from_s]
    cpu_samples = sorted(number(r.get("generator_cpu_percent")) for r in steady_rows[1:]) or [0.0]
    live = [number(r.get("live_sessions")) for r in steady_rows] or [0.0]
    client_cpu_per_cmd = _steady_client_cpu_per_command(steady_rows)
    offered = recorder.offered / steady_s if steady_s else 0.0
    achieved = measured / steady_s if steady_s else 0.0
    lag = stats(recorder.lag)
    errors = sum(recorder.errors.values())
    flags = {
        "generator_saturated": cpu_samples[int(0.9 * (len(cpu_samples) - 1))] > SATURATED_CPU_PERCENT,
        "schedule_fell_behind": lag["p99"] > LAG_BEHIND_US or (offered > 0 and achieved < RATE_BEHIND * offered),
        "errors": errors > 0,
        "no_steady_state": steady_from_s is None or steady_s < 5,
    }
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
                  "model_ops_per_s": round(workload["expected_ops_per_s"], 2)},
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
                   "used_memory": sum(m["used_memory"] for m in masters)},
        "client": {"cpu_s": round(client_cpu_s, 3),
                   "cpu_us_per_command": client_cpu_per_cmd,
                   "max_cpu_percent": round(cpu_samples[-1], 1), "median_cpu_percent":
                   round(statistics.median(cpu_samples), 1),
                   "max_rss_bytes": int(max((number(r.get("generator_rss_bytes")) for r in client_rows), default=0))},
        "flags": flags,
    }
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
