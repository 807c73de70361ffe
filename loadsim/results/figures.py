"""Small pure helpers and thresholds that the summary and the modules reading it share (numbers in, numbers out).

They live apart from ``summary`` so that ``schema`` (upgrading an old summary) and ``impact`` (a fault's effect on
the load) can use them without importing the module that imports them: no import circle in ``results``.
"""

from __future__ import annotations

from typing import Any

from loadsim.model import attribution
from loadsim.model.runclass import FaultSeen, RunEvidence

SATURATED_CPU_PERCENT = 90.0  # a generator above this (p90 of per-second samples) may be the bottleneck


def number(v: Any) -> float:
    """A sampled INFO value as a float (0 when missing or not a number)."""
    try:
        return float(v)
    except (TypeError, ValueError):
        return 0.0


def steady_commands_per_s(masters: list[dict[str, Any]]) -> float:
    """Server-counted commands per second over the steady window, all masters (the pre-fill left out)."""
    seconds = max((m["steady_s"] for m in masters), default=0.0)
    return round(sum(m["commands_steady"] for m in masters) / seconds, 2) if seconds > 0 else 0.0


def used_memory_added(summary: dict[str, Any]) -> float:
    """used_memory of all masters over the steady window less what the cluster held before the run (its
    ``baseline.data_bytes``): what this run added, which memory calibrates on. A second run on a cluster that
    kept the first run's keys calibrated 2.00x the first without this."""
    held = float(((summary.get("baseline") or {}).get("data_bytes")) or 0.0)
    return sum(float(m["used_memory_steady_mean"]) for m in summary["masters"]) - held


def busiest_operation(operations: dict[str, Any]) -> str | None:
    """The operation with the most measured latencies (the recovery's restores left out): its p99 is the run's."""
    counts = {k: v.get("latency_us", {}).get("count", 0) for k, v in operations.items() if k != "session.recover"}
    counts = {k: n for k, n in counts.items() if n}
    return max(counts, key=lambda k: counts[k]) if counts else None


def run_evidence(operations: dict[str, Any], *, lag_p99_us: float, masters: list[dict[str, Any]], steady: bool,
                 generator_cpu_p90: float, offered: float, achieved: float, host: dict[str, Any] | None = None,
                 backlog: int | None = None, split: dict[str, Any] | None = None,
                 faults: list[FaultSeen] | tuple[FaultSeen, ...] = (), not_sent: int = 0) -> RunEvidence:
    """The figures ``model.runclass.classify`` decides on, from a summary's parts: the one place both a new run's
    summary (``summary.build_summary``) and an older summary's upgrade (``schema.upgrade``) build them. What a
    summary does not hold stays None (not measured): an older one has no host figures, split or service time."""
    op = busiest_operation(operations)
    latency_p99 = rig_p99 = None
    if op is not None:
        lat = operations[op]["latency_us"].get("p99")
        svc = operations[op].get("service_us", {}).get("p99")
        before = operations[op].get("before_send_us") or {}
        latency_p99 = None if lat is None else float(lat)
        # the time before the send (schedule lag + wait for a free worker), its own percentile when recorded
        if before.get("count"):
            rig_p99 = float(before["p99"])
        elif latency_p99 is not None and svc is not None:
            rig_p99 = max(0.0, latency_p99 - float(svc))
    part = ((split or {}).get("operations", {}).get(op) or {}).get("p99") if op else None
    redis_p99 = part["redis_us"] if part else None
    if part and part.get("network_us") is not None:
        # with the network measured (outside the generator's loop), the rig is everything but the network and
        # Redis's execution: the time before the send, the client's CPU and what nothing explains (its wake-ups,
        # its event loop busy with other operations). Redis's queueing, the other thing a client cannot tell
        # apart, is µs until a master nears its CPU ceiling, and then the run is redis-bound before the rig is
        # looked at. Seen before: network 82 µs "scaled to fit" and client 0, a run "clean" at rig 43 % of p99.
        rig_p99 = attribution.rig_us(part)
    busy = [100.0 * m["cpu_s_steady"] / m["steady_s"] for m in masters if m.get("steady_s") and "cpu_s_steady" in m]
    host = host or {}
    return RunEvidence(
        steady=steady, generator_cpu_p90=generator_cpu_p90, schedule_lag_p99_us=float(lag_p99_us),
        offered_ops_per_s=offered, achieved_ops_per_s=achieved, latency_p99_us=latency_p99, rig_p99_us=rig_p99,
        redis_p99_us=redis_p99, host=dict(host), master_cpu_percent=max(busy) if busy else None,
        backlog=backlog, faults=tuple(faults), not_sent=not_sent)
