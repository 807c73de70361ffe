"""TLS/plain ratios of paired repeats, their 95 % intervals and whether those resolve anything (pure).

``loadsim compare-tls`` prints them while it runs, at its end (text and ``--json``), and ``loadsim report``
shows them: every surface describes a ratio with ``describe`` here, so a figure reads the same wherever it is
seen.

Why "unresolved": two 3-second repeats gave a p99.9 ratio of ``0.123 [0.000, 5772614758935.028]`` and 10-second
ones a p99 ratio of ``0.982 [0.122, 7.925]`` (±707 %). Such an interval says nothing about TLS; printing it as a
figure invites a reader to quote the 0.98. Beyond ``UNRESOLVED`` the interval is replaced by what to do:
how long to run for the precision a sizing needs (``DEFAULT_GOAL`` unless ``--precision`` asked for another).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

# two-sided 95 % Student t quantiles by degrees of freedom (small samples: repeats are few)
_T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228,
        12: 2.179, 15: 2.131, 20: 2.086, 30: 2.042}

# An interval whose upper end is more than 1.5x the estimate (relative half-width above 50 %) spans more than a
# factor 2.25 from end to end: no master count or latency budget can be read from it.
UNRESOLVED = 0.5
DEFAULT_GOAL = 0.05  # ±5 %: a 10 % CPU difference is about one master in ten; the precision to size with
MAX_REPEATS_ESTIMATED = 10_000  # beyond this the estimate says "more than" (the sd of 2-3 repeats is rough anyway)


def t95(df: int) -> float:
    """The two-sided 95 % Student t quantile for ``df`` degrees of freedom (conservative between table rows)."""
    if df <= 0:
        return float("nan")
    keys = sorted(k for k in _T95 if k <= df)
    return _T95[keys[-1]] if df <= 30 else 1.96


def ratio_ci(plain: Sequence[float], tls: Sequence[float]) -> dict[str, float]:
    """TLS/plain ratio of paired repeats with a 95 % t confidence interval.

    Computed on the log scale: the geometric mean of the per-repeat ratios, and exp(mean ± t·sd/√n) of
    their logarithms. A ratio is multiplicative, so its interval is asymmetric and never below 0 (on the
    linear scale, three noisy repeats gave p99 -0.54…2.92). ``plain_mean`` and ``tls_mean`` are the arms'
    geometric means over the same pairs, so that ``tls_mean / plain_mean`` is ``ratio`` exactly (an arithmetic
    mean of each arm gave 1.42 beside a ratio of 1.41 in one report)."""
    pairs = [(p, t) for p, t in zip(plain, tls, strict=False) if p > 0 and t > 0]
    if not pairs:
        return {"ratio": float("nan"), "ci_low": float("nan"), "ci_high": float("nan"), "n": 0}
    logs = [math.log(t / p) for p, t in pairs]
    mean = statistics.fmean(logs)
    means = {"plain_mean": round(math.exp(statistics.fmean(math.log(p) for p, _ in pairs)), 3),
             "tls_mean": round(math.exp(statistics.fmean(math.log(t) for _, t in pairs)), 3)}
    if len(pairs) < 2:
        return {"ratio": round(math.exp(mean), 4), "ci_low": float("nan"), "ci_high": float("nan"), "n": 1, **means}
    half = t95(len(logs) - 1) * statistics.stdev(logs) / math.sqrt(len(logs))
    return {"ratio": round(math.exp(mean), 4), "ci_low": round(math.exp(mean - half), 4),
            "ci_high": round(math.exp(mean + half), 4), "n": len(pairs), **means}


def _finite(*values: object) -> bool:
    return all(isinstance(v, (int, float)) and math.isfinite(v) for v in values)


def ratio_half_width(ratio: float, low: float, high: float) -> float | None:
    """Relative half-width of a ratio's (asymmetric) interval: max(high/ratio - 1, 1 - low/ratio); None if unknown."""
    if not _finite(ratio, low, high) or ratio <= 0:
        return None
    return max(high / ratio - 1, 1 - low / ratio)


def repeats_for(r: dict[str, float], goal: float) -> int | None:
    """Paired repeats in all for the interval of ``r`` (from ``ratio_ci``) to reach ±``goal``, estimated from its
    spread so far (the log-scale sd stays, t and √n improve); None without an interval."""
    n = int(r.get("n") or 0)
    if n < 2 or not _finite(r.get("ratio"), r.get("ci_low"), r.get("ci_high")) or r["ci_low"] <= 0:
        return None
    sd = math.log(r["ci_high"] / r["ci_low"]) / 2 * math.sqrt(n) / t95(n - 1)
    target = math.log(1 + goal)
    m = n
    while t95(m - 1) * sd / math.sqrt(m) > target:
        if m >= MAX_REPEATS_ESTIMATED:
            return MAX_REPEATS_ESTIMATED
        m = m + 1 if m < 100 else int(m * 1.05) + 1
    return m


def duration_text(seconds: float) -> str:
    """``about 25 min``, ``about 3.5 h``, ``about 1 min``: the time to run, for people."""
    minutes = seconds / 60
    if minutes >= 120:
        return f"about {minutes / 60:.1f} h"
    return f"about {max(1, round(minutes)):,} min"


def number(x: float) -> str:
    """A ratio as every surface prints it: 3 significant digits, trailing zeros kept (1.41, 1.30, 0.982, 0.0182,
    12.3), whole above 100 (1,234)."""
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:#.3g}"


def width_text(h: float) -> str:
    """±7.4 %, ±13 %."""
    pct = 100 * h
    return f"±{pct:.0f} %" if pct >= 10 or round(pct, 1).is_integer() else f"±{pct:.1f} %"


@dataclass(frozen=True)
class RatioView:
    """One ratio as a user reads it: the estimate, its interval, whether it resolves, what to run for ``goal``."""

    ratio: float | None
    low: float | None
    high: float | None
    n: int
    half_width: float | None  # relative; None without an interval
    resolved: bool  # an interval narrower than ``UNRESOLVED``
    within_goal: bool
    goal: float
    repeats_for_goal: int | None  # paired repeats in all, estimated; None without an interval
    seconds_for_goal: float | None  # their wall-clock time at this comparison's pace

    @property
    def interval(self) -> str:
        """``1.41 [1.29, 1.55]``: the estimate and its interval, never a figure an unresolved interval gives."""
        return f"{number(self.ratio or 0)} [{number(self.low or 0)}, {number(self.high or 0)}]"

    @property
    def advice(self) -> str:
        """``run longer (about 25 min for ±5 %)``: what it takes to reach the goal."""
        goal = width_text(self.goal)
        if self.seconds_for_goal is None:
            return f"run longer (more pairs for {goal})"
        more = "more than " if (self.repeats_for_goal or 0) >= MAX_REPEATS_ESTIMATED else ""
        return f"run longer ({more}{duration_text(self.seconds_for_goal)} for {goal})"

    @property
    def text(self) -> str:
        """The one description every surface prints: ``1.41 [1.29, 1.55] ±9.9 %``, ``1.31 (interval after 2
        pairs)``, ``no successful pair yet`` or ``unresolved: run longer (about 25 min for ±5 %)``."""
        if self.n == 0 or self.ratio is None:
            return "no successful pair yet"
        if self.half_width is None:
            return f"{number(self.ratio)} (interval after 2 pairs)"
        if not self.resolved:
            return f"unresolved: {self.advice}"
        return f"{self.interval} {width_text(self.half_width)}"

    def as_dict(self) -> dict[str, object]:
        """The view for ``--json``: the text beside the figures it is made of."""
        return {"text": self.text, "resolved": self.resolved, "half_width": self.half_width,
                "within_goal": self.within_goal, "goal": self.goal, "repeats_for_goal": self.repeats_for_goal,
                "minutes_for_goal": None if self.seconds_for_goal is None else round(self.seconds_for_goal / 60, 1)}


def describe(r: dict[str, float], goal: float | None = None, seconds_per_repeat: float | None = None) -> RatioView:
    """How ratio ``r`` (from ``ratio_ci``) reads: see ``RatioView``. ``goal``: the relative half-width asked
    for (``--precision``; ``DEFAULT_GOAL`` without one); ``seconds_per_repeat``: the wall-clock time of one
    paired repeat so far (None: no time estimate)."""
    goal = DEFAULT_GOAL if goal is None else goal
    n = int(r.get("n") or 0)
    ratio = r.get("ratio")
    ratio = ratio if _finite(ratio) and n else None
    low, high = r.get("ci_low"), r.get("ci_high")
    h = ratio_half_width(ratio, low, high) if ratio is not None else None
    need = repeats_for(r, goal) if h is not None else None
    seconds = need * seconds_per_repeat if need is not None and seconds_per_repeat else None
    return RatioView(ratio, low if h is not None else None, high if h is not None else None, n, h,
                     h is not None and h <= UNRESOLVED, h is not None and h <= goal, goal, need, seconds)
