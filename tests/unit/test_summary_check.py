"""Summaries checked when read (loadsim.results.reader.check_summary): what the writer writes passes; a damaged
value anywhere is named by its key path, in one line."""

import copy
import math

import pytest
from test_results import _run

from loadsim.errors import ResultsError
from loadsim.results import reader, schema


def _numbers(value, path=""):
    """(path, container, key) of every number in a summary."""
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return []
    out = []
    for k, v in items:
        p = f"{path}.{k}" if path and not isinstance(k, int) else (f"{path}[{k}]" if isinstance(k, int) else k)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            out.append((p, value, k))
        out += _numbers(v, p)
    return out


def test_what_the_writer_writes_passes_and_so_does_the_stub():
    summary = _run()
    assert reader.check_summary(summary, "s.json") is summary
    assert reader.check_summary(schema.stub("ha9", "2026-12-06T06:00:00+0000"), "s.json")


def test_a_nan_in_any_typed_number_is_named_by_its_path():
    summary = _run()
    checked = 0
    for i, (path, _, _) in enumerate(_numbers(summary)):
        damaged = copy.deepcopy(summary)
        _, container, key = _numbers(damaged)[i]  # the same number in the copy (same walk order)
        container[key] = math.nan
        try:
            reader.check_summary(damaged, "s.json")
        except ResultsError as exc:
            assert f"{path} is nan, not a finite number" in str(exc) and "\n" not in str(exc)
            checked += 1
    assert checked >= 50  # the schema types most numbers; free-form parts (Any) are not checked


@pytest.mark.parametrize("summary, needle", [
    ([1, 2, 3], "holds a JSON list, not a run summary"),
    ({"complete": "yes"}, "'complete' is 'yes', not true or false"),
    ({"complete": True}, "says the run is complete but has no workload, rates, operations, masters, server"),
])
def test_a_summary_that_is_not_one_is_refused_in_one_line(summary, needle):
    with pytest.raises(ResultsError, match="damaged") as err:
        reader.check_summary(summary, "r/summary.json")
    assert needle in str(err.value) and str(err.value).startswith("'r/summary.json'")
