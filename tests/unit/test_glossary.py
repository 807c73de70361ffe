"""`loadsim explain` covers every label the run text, the plan and the reports print: the labels are taken from
real outputs (summaries of two real runs, kept in tests/unit/data: a rig-bound one and one with a master killed;
the plan's verdict with and without runs; the report's tables) and each is looked up."""

import json
from dataclasses import replace
from pathlib import Path

import pytest

from loadsim import cli
from loadsim.model import sizing as sz
from loadsim.results.glossary import explain, printed_labels
from loadsim.results.text import compare_table, summary_table

DATA = Path(__file__).parent / "data"
SUMMARIES = {p.stem: json.loads(p.read_text()) for p in sorted(DATA.glob("summary-*.json"))}


def _unexplained(labels):
    return sorted(label for label in labels if explain(label) is None)


def test_every_label_of_a_runs_text_is_in_the_glossary():
    seen = set()
    for name, summary in SUMMARIES.items():
        labels = printed_labels(summary_table(summary))
        assert not _unexplained(labels), (name, _unexplained(labels))
        seen |= labels
    # the extraction finds what a reader finds (the four parts of the latency split, the table headers ...)
    assert {"before the send", "client", "network", "Redis", "total", "p99 us", "svc p99", "warm-up",
            "used_memory", "RIG-BOUND", "FAULT", "unexplained", "flags", "read-back"} <= seen, sorted(seen)
    # the compare table's first line names the runs compared: folder names, not labels
    compare = printed_labels("\n".join(compare_table(list(SUMMARIES.items())).splitlines()[1:]))
    assert "run class" in compare and not _unexplained(compare)


def test_every_label_of_a_plan_is_in_the_glossary(capsys):
    texts = [sz.verdict(sz.Deployment(), sz.DEFAULT_COSTS).text(),
             sz.verdict(replace(sz.Deployment(), replicas=0, node_ram_bytes=2**27, ha_pairs=900), sz.DEFAULT_COSTS)
             .text()]
    assert cli.main(["plan"]) == 0
    texts.append(capsys.readouterr().out)
    labels = set().union(*(printed_labels(t) for t in texts))
    assert {"PASS", "FAIL", "binding constraint", "latency SLO", "memory", "CPU", "connections", "failover",
            "capacity envelope", "most HA pairs", "assumptions"} <= labels, sorted(labels)
    assert not _unexplained(labels)


def test_every_column_and_row_label_of_the_report_tables_is_in_the_glossary(tmp_path):
    from loadsim.report import sizing as report

    summaries = [{**s, "_path": str(tmp_path / name)} for name, s in SUMMARIES.items()]
    tables = [report.run_table(summaries), report.key_runs_table(report.run_table(summaries)),
              report.assumptions_table(sz.Deployment()), report.costs_table(sz.DEFAULT_COSTS)]
    labels = set()
    for t in tables:
        labels |= {str(c) for c in t.columns} | {str(n) for n in t.index.names if n}
    labels |= set(report.assumptions_table(sz.Deployment()).index)
    # a column's parenthesis says more about it, as in the text: "bytes per live session (measured)"
    assert not _unexplained({label.split(" (")[0] for label in labels})


@pytest.mark.parametrize("term", ["network", "client", "svc", "before the send", "p99.9 us", "binding constraint",
                                  "busiest_master_cpu_percent", "cps_per_pair"])
def test_explain_answers_the_terms_a_newcomer_asked_about(term, capsys):
    assert cli.main(["explain", term]) == 0
    out = capsys.readouterr().out
    assert out.strip() and "no term" not in out


def test_every_sizing_constraint_is_explained_by_its_row_or_the_glossary():
    """A new row of the sizing registry brings its own explanation: no glossary entry to add by hand."""
    for rule in sz.RULES:
        printed = rule.label.split(" (")[0]  # as surfaces print it (Constraint.short)
        assert explain(printed) is not None, printed
        if rule.explain:
            assert explain(printed)[1] == rule.explain
