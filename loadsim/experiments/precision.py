"""Answers that stop when they are precise enough: the pure maths behind ``--precision`` and ``--budget``.

``loadsim compare-tls`` and ``loadsim sweep`` run their planned ``--repeats`` and then, with a precision goal
or a time budget, add interleaved repeats until the 95 % interval of their key figures is narrow enough
(``precise``, judged from ``MIN_PRECISE`` repeats on), the next repeat would not fit in the budget
(``budget``), or ``CAP`` repeats are done (``cap``). Without either option they stop after the planned repeats
(``fixed repeats``).

Half-widths here are *relative*: the interval's half-width divided by the estimate (0.05 = ±5 %).
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Iterable, Sequence

from loadsim.errors import ExperimentError

# the t quantiles and the ratio half-width live with the ratios in the pure core (loadsim.model.ratios)
from loadsim.model.ratios import ratio_half_width as ratio_half_width  # re-exported for callers
from loadsim.model.ratios import t95

CAP = 50  # repeats, at most, however imprecise the answer still is
# The fewest repeats a "precise" stop may come after. A half-width from a few repeats is itself a random figure: its
# sample sd has n-1 degrees of freedom, and at 3 repeats P(s < sigma/2) is 22 %, so stopping at the first half-width
# within the goal stops early by luck. Simulated (tests/unit/test_precision.py, log-ratio sd 0.11, goal ±5 %, 3
# planned repeats: about 21 needed): stopping from 3 repeats, 6 % of comparisons stopped at 5 or fewer and the
# interval at the stop held the true ratio 91 % of the time; from 10 repeats, 94 % (95 % is what it claims).
MIN_PRECISE = 10
PRECISE, BUDGET, HARD_CAP, FIXED = "precise", "budget", "cap", "fixed repeats"


def mean_half_width(values: Sequence[float]) -> float | None:
    """Relative half-width of the 95 % t-interval of the mean: t·sd/√n / |mean|; None below 2 values or mean 0."""
    xs = [float(v) for v in values if v is not None and math.isfinite(v)]
    if len(xs) < 2:
        return None
    mean = statistics.fmean(xs)
    if mean == 0:
        return None
    return t95(len(xs) - 1) * statistics.stdev(xs) / math.sqrt(len(xs)) / abs(mean)


def decide(repeats_done: int, planned: int, half_widths: Iterable[float | None], goal: float | None,
           budget_s: float | None, elapsed_s: float, cap: int = CAP, min_precise: int = MIN_PRECISE) -> str | None:
    """Why to stop after ``repeats_done`` repeats, or None to run another one.

    ``half_widths``: the relative half-widths of every key figure (None = not known yet, never precise).
    The next repeat is estimated to take as long as the average repeat so far (``elapsed_s / repeats_done``).
    The planned repeats always run; the precision goal is checked before the cap and the budget, and only from
    ``min_precise`` repeats on (fewer can look precise by chance: ``MIN_PRECISE``)."""
    if repeats_done < planned:
        return None
    if goal is None and budget_s is None:
        return FIXED
    widths = list(half_widths)
    if (goal is not None and repeats_done >= min_precise and widths
            and all(h is not None and h <= goal for h in widths)):
        return PRECISE
    if repeats_done >= max(cap, planned):
        return HARD_CAP
    if budget_s is not None and elapsed_s + elapsed_s / max(repeats_done, 1) > budget_s:
        return BUDGET
    return None


def parse_precision(text: str) -> float:
    """``5%`` or ``0.05`` → 0.05; ExperimentError naming ``--precision`` otherwise (must be > 0 and < 1)."""
    t = str(text).strip()
    try:
        value = float(t[:-1]) / 100 if t.endswith("%") else float(t)
    except ValueError:
        value = float("nan")
    if not (math.isfinite(value) and 0 < value < 1):
        raise ExperimentError(f"--precision {text}: give the relative half-width of the 95 % interval, "
                              "> 0 and < 100 %, e.g. 5% or 0.05")
    return value


_SPAN = re.compile(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")


def parse_budget(text: str) -> float:
    """``10m``, ``90s``, ``1h``, ``1h30m`` or plain seconds → seconds; ExperimentError naming ``--budget`` otherwise."""
    t = str(text).strip()
    match = _SPAN.fullmatch(t)
    if t.isdigit():
        seconds = float(t)
    elif match and t:
        seconds = float(sum(int(g or 0) * k for g, k in zip(match.groups(), (3600, 60, 1), strict=True)))
    else:
        seconds = 0.0
    if seconds <= 0:
        raise ExperimentError(f"--budget {text}: give a wall-clock time > 0, e.g. 90s, 10m or 1h")
    return seconds


def fmt_width(h: float | None) -> str:
    """±7.4 %, ±13 %, or "no interval yet" (fewer than 2 repeats: no spread to measure)."""
    if h is None:
        return "no interval yet"
    pct = 100 * h
    return f"±{pct:.0f} %" if pct >= 10 else f"±{pct:.1f} %"


def goal_text(goal: float | None, budget_s: float | None) -> str:
    """`` (goal ±5 % from 10 repeats, budget 600 s)`` for the interval lines."""
    parts = ([f"goal ±{round(100 * goal, 4):g} % from {MIN_PRECISE} repeats"] if goal is not None else []) + (
        [f"budget {budget_s:.0f} s"] if budget_s is not None else [])
    return f" ({', '.join(parts)})" if parts else ""


def stop_text(stopped_by: str, repeats: int, goal: float | None, budget_s: float | None) -> str:
    """One line saying which condition stopped the repeats."""
    why = {PRECISE: f"every key figure within ±{round(100 * (goal or 0), 4):g} %",
           BUDGET: f"another repeat would not fit in the {budget_s or 0:.0f} s budget",
           HARD_CAP: f"the cap of {CAP} repeats",
           FIXED: "the planned --repeats (no --precision or --budget)"}[stopped_by]
    return f"stopped by {stopped_by} after {repeats} repeat(s): {why}"
