"""What a fault did to the load, from the per-second client series (pure: rows in, figures out)."""

from __future__ import annotations

import statistics
from typing import Any

from loadsim.results.figures import SATURATED_CPU_PERCENT, number

BEFORE_S = 10.0  # the baseline: this long before the fault
AFTER_S = 60.0  # how long after the fault to look for the spike and its end


def _first_at_or_below(rows: list[dict[str, Any]], column: str, limit: float, after: float) -> float | None:
    for r in rows:
        if number(r.get("elapsed_s")) >= after and number(r.get(column)) <= limit:
            return number(r.get("elapsed_s"))
    return None


def _connections_per_s_peak(node_rows: list[dict[str, Any]], start: float, end: float) -> float | None:
    """The highest rate of new connections Redis accepted (``total_connections_received``, all nodes: TCP and
    TLS handshakes) over the per-second samples between ``start`` and ``end``."""
    by_node: dict[str, list[tuple[float, float]]] = {}
    for r in node_rows:
        if r.get("total_connections_received") in (None, "") or r.get("state", "up") != "up":
            continue
        by_node.setdefault(str(r.get("node")), []).append((number(r.get("elapsed_s")),
                                                           number(r.get("total_connections_received"))))
    per_second: dict[int, float] = {}
    for samples in by_node.values():
        for (t0, c0), (t1, c1) in zip(samples, samples[1:], strict=False):
            if start <= t1 <= end and t1 > t0 and c1 >= c0:
                per_second[int(t1)] = per_second.get(int(t1), 0.0) + (c1 - c0) / (t1 - t0)
    return round(max(per_second.values()), 1) if per_second else None


def fault_impact(faults: list[dict[str, Any]], rows: list[dict[str, Any]],
                 node_rows: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Per fault: latency before (median of the per-second maxima) and its peak after, how long until it is
    back under twice the baseline; the backlog (peak queue depth) and how long until it drained to the
    baseline; the generator's CPU peak, and whether the latency was the generator's (saturated) or Redis's."""
    out = []
    # the last sample is taken after the HA pairs stopped and dropped their queues: an empty queue there is the
    # stop's, not a drain (before: "drained after 14.0 s" for a backlog behind a master stopped to the end)
    rows = rows[:-1] if len(rows) > 1 else rows
    for f in faults:
        t = float(f.get("done_s", f.get("at_s", 0.0)))
        before = [r for r in rows if t - BEFORE_S <= number(r.get("elapsed_s")) < t]
        after = [r for r in rows if t <= number(r.get("elapsed_s")) <= t + AFTER_S]
        if not after:
            continue
        base_lat = statistics.median(number(r.get("latency_max_us")) for r in before) if before else 0.0
        base_q = statistics.median(number(r.get("queue_depth")) for r in before) if before else 0.0
        peak_row = max(after, key=lambda r: number(r.get("latency_max_us")))
        peak_at = number(peak_row.get("elapsed_s"))
        back = _first_at_or_below(after, "latency_max_us", 2 * base_lat, peak_at) if base_lat else None
        q_row = max(after, key=lambda r: number(r.get("queue_depth")))
        drained = _first_at_or_below(after, "queue_depth", max(base_q, 1.0), number(q_row.get("elapsed_s")))
        backlog_end = int(number(rows[-1].get("queue_depth"))) if rows else 0
        if backlog_end > max(base_q, 1.0):
            # operations still queued at the end have waited since they were due: the latency never came back,
            # whatever the few operations that completed say (before: "back under 2x after 0.7 s" behind a master
            # stopped to the end, whose operations waited 9 s)
            back = None
        cpu_peak = max(number(r.get("generator_cpu_percent")) for r in after)
        out.append({
            "fault": f"{f.get('action')} {f.get('node') or f.get('target')}", "at_s": t,
            "latency_max_us_before": round(base_lat, 1), "latency_max_us_peak": number(peak_row.get("latency_max_us")),
            "latency_peak_at_s": peak_at, "latency_recovered_s": None if back is None else round(back - t, 3),
            "backlog_peak": int(number(q_row.get("queue_depth"))),
            "backlog_drained_s": None if drained is None else round(drained - t, 3),
            "backlog_at_end": backlog_end,
            "generator_cpu_peak_percent": round(cpu_peak, 1),
            "latency_was": "the generator's (saturated)" if cpu_peak > SATURATED_CPU_PERCENT else "Redis's",
            "new_connections_per_s_before": _connections_per_s_peak(node_rows or [], t - BEFORE_S, t),
            "new_connections_per_s_peak": _connections_per_s_peak(node_rows or [], t, t + AFTER_S),
        })
    return out
