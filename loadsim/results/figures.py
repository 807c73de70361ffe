"""Small pure helpers and thresholds that the summary and the modules reading it share (numbers in, numbers out).

They live apart from ``summary`` so that ``schema`` (upgrading an old summary) and ``impact`` (a fault's effect on
the load) can use them without importing the module that imports them: no import circle in ``results``.
"""

from __future__ import annotations

from typing import Any

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
