"""TLS/plain ratios as every surface reads them (loadsim.model.ratios): an interval that resolves nothing is said
so with what to run, never printed as a figure."""

import math

import pytest

from loadsim.model import ratios as rt


def test_a_wide_interval_is_unresolved_with_the_time_for_the_goal():
    # the 10-second comparison: p99 0.982 [0.122, 7.925] after 3 pairs of 60 s each
    view = rt.describe({"ratio": 0.982, "ci_low": 0.122, "ci_high": 7.925, "n": 3}, None, 60.0)
    assert not view.resolved and not view.within_goal and view.goal == rt.DEFAULT_GOAL
    assert view.text == f"unresolved: run longer ({rt.duration_text(view.seconds_for_goal)} for ±5 %)"
    assert "0.982" not in view.text and "7.9" not in view.text
    # the repeats estimated: the sd stays, so reaching ±5 % needs far more than the 3 done
    assert view.repeats_for_goal > 100 and view.seconds_for_goal == view.repeats_for_goal * 60.0


def test_a_narrow_interval_reads_as_a_figure_with_its_width():
    view = rt.describe({"ratio": 1.346, "ci_low": 1.29, "ci_high": 1.401, "n": 8}, 0.05, 70.0)
    assert view.resolved and view.within_goal and view.text == "1.35 [1.29, 1.40] ±4.2 %"
    assert view.repeats_for_goal == 8  # already there
    # ±14 % resolves (a decision can be read from it) but is short of a ±5 % goal: more repeats estimated
    p99 = rt.describe({"ratio": 1.276, "ci_low": 1.12, "ci_high": 1.455, "n": 8}, 0.05, 70.0)
    assert p99.resolved and not p99.within_goal and p99.repeats_for_goal > 8
    assert p99.text == "1.28 [1.12, 1.46] ±14 %"


def test_repeats_for_the_goal_follow_the_t_interval():
    r = {"ratio": 1.0, "ci_low": math.exp(-0.2), "ci_high": math.exp(0.2), "n": 4}
    m = rt.repeats_for(r, 0.05)
    sd = 0.2 * math.sqrt(4) / rt.t95(3)
    assert rt.t95(m - 1) * sd / math.sqrt(m) <= math.log(1.05) < rt.t95(m - 2) * sd / math.sqrt(m - 1)


@pytest.mark.parametrize(("r", "text"), [
    ({"ratio": float("nan"), "ci_low": float("nan"), "ci_high": float("nan"), "n": 0}, "no successful pair yet"),
    ({"ratio": 1.3, "ci_low": float("nan"), "ci_high": float("nan"), "n": 1}, "1.30 (interval after 2 pairs)"),
    ({"ratio": 0.123, "ci_low": 0.0, "ci_high": 5772614758935.028, "n": 2}, "unresolved: run longer (more pairs for "
                                                                           "±5 %)"),
])
def test_every_case_reads_without_nan_or_absurd_figures(r, text):
    assert rt.describe(r).text == text  # no time per repeat known: no time estimated


def test_ratio_ci_means_are_geometric_so_their_quotient_is_the_ratio():
    r = rt.ratio_ci([10.0, 12.0, 11.0], [13.0, 17.0, 14.0])
    assert r["tls_mean"] / r["plain_mean"] == pytest.approx(r["ratio"], rel=1e-3)
    assert rt.number(1.3) == "1.30" and rt.number(0.98234) == "0.982" and rt.number(0.018234) == "0.0182"
    assert rt.number(1234.4) == "1,234"
    assert rt.duration_text(25 * 60) == "about 25 min" and rt.duration_text(3.5 * 3600) == "about 3.5 h"
