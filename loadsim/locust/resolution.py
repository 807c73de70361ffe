"""Locust's statistics at Redis's time scale: response times below 100 ms keep two significant digits.

Locust rounds a response time below 100 ms to a whole millisecond before it keeps it
(``locust.stats.bucket_response_time``, which Locust documents as the function to replace for custom
bucketing), and its console tables print times with ``%d``: a 335 µs update showed as "Avg 0 / Med 0" in the
console, the web UI, the CSV and the HTML report. ``install()`` replaces the bucketing (0.335 ms is kept as
0.34 ms) and prints sub-10 ms times in the console with two decimals. Loadsim's own µs HDR histograms stay the
precise figures; this only keeps Locust's tables from saying zero.
"""

from __future__ import annotations

from typing import Any

import locust.stats as locust_stats

_installed = False
_locust_bucket = locust_stats.bucket_response_time


def bucket_response_time(response_time: float) -> float:
    """Two significant digits below 100 ms (0.335 → 0.34, 3.35 → 3.4, 33.5 → 34), Locust's rounding above."""
    if 0 < response_time < 100:
        return float(f"{response_time:.2g}")
    return _locust_bucket(response_time)


def ms(value: float | None, width: int) -> str:
    """A time in ms for Locust's console columns: two decimals below 10 ms, whole ms above."""
    value = value or 0
    return f"{value:{width}.2f}" if value < 10 else f"{value:{width}.0f}"


def _to_string(self: Any, current: bool = True) -> str:
    """``StatsEntry.to_string`` with ``ms()`` for the times (Locust's columns and widths otherwise)."""
    rps, fail_per_sec = ((self.current_rps, self.current_fail_per_sec) if current
                         else (self.total_rps, self.total_fail_per_sec))
    name_width = (locust_stats.STATS_NAME_WIDTH - locust_stats.STATS_TYPE_WIDTH) + 4
    method = (self.method and self.method + " ") or ""
    fails = f"{self.num_failures}({self.fail_ratio * 100:.2f}%)"
    return (f"{method:<{locust_stats.STATS_TYPE_WIDTH}} {self.name:<{name_width}} {self.num_requests:7d} {fails:>12} |"
            f"{ms(self.avg_response_time, 7)} {ms(self.min_response_time, 7)} {ms(self.max_response_time, 7)}"
            f"{ms(self.median_response_time, 7)} | {rps or 0:7.2f} {fail_per_sec or 0:11.2f}")


def _percentile(self: Any) -> str:
    """``StatsEntry.percentile`` with ``ms()`` for the times."""
    if not self.num_requests:
        raise ValueError("Can't calculate percentile on url with no successful requests")
    # Locust's header: the first percentile 8 wide, the others and the request count 6
    times = [self.get_response_time_percentile(p) for p in locust_stats.PERCENTILES_TO_REPORT]
    cells = " ".join([ms(times[0], 8), *(ms(t, 6) for t in times[1:]), f"{self.num_requests:6d}"])
    return f"{self.method or '':<{locust_stats.STATS_TYPE_WIDTH}} {self.name:<{locust_stats.STATS_NAME_WIDTH}} {cells}"


def install() -> None:
    """Replace Locust's bucketing and console formatting in this process (once; Locust workers too)."""
    global _installed
    if _installed:
        return
    _installed = True
    locust_stats.bucket_response_time = bucket_response_time
    locust_stats.StatsEntry.to_string = _to_string
    locust_stats.StatsEntry.percentile = _percentile
