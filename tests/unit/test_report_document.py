"""Reports are documents: the recovery verdict first, tables formatted, no code or prompts in the HTML, and a
failing notebook cell named as JupyterLab numbers it."""

import nbformat
import pandas as pd
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from loadsim.report import recovery
from loadsim.report.render import cell_name, document_exporter

RUN = {"workload": {"ha_pairs": 3, "cps_per_pair": 20.0}, "duration_s": 14.0, "cluster": {"masters": 3},
       "faults": [{"at_s": 4, "action": "kill-master", "done_s": 4.0}],
       "failovers": [{"node": "127.0.0.1:7001", "replaced_by": "127.0.0.1:7004", "down_at_s": 4.1,
                      "failover_s": 2.99}],
       "error_windows": [{"master": "127.0.0.1:7001", "from_s": 4.0, "to_s": 6.3, "seconds": 2.3, "failures": 356}]}


def test_the_verdict_says_first_whether_an_acknowledged_write_was_lost():
    head, lines = recovery.verdict(RUN)
    assert head.startswith("Acknowledged writes: not checked")
    assert "Failover of 127.0.0.1:7001: 127.0.0.1:7004 master after 3.0 s" in lines
    assert "Writes to 127.0.0.1:7001's slots failed for 2.3 s (356 failed commands)" in lines
    open_window = {**RUN, "error_windows": [{"master": "m", "from_s": 13.9, "to_s": None, "seconds": None,
                                             "failures": 1}]}
    assert "Writes to m's slots failed from 13.9 s until the end of the run (1 failed command)" in \
        recovery.verdict(open_window)[1]
    clean = {**RUN, "read_back": {"current": 1147, "stale": 0, "missing": 0, "corrupt": 0, "ahead": 6}}
    assert recovery.verdict(clean)[0] == "No acknowledged write was lost"
    lost = {**RUN, "read_back": {"current": 1140, "stale": 5, "missing": 2, "corrupt": 0}}
    assert recovery.verdict(lost)[0] == "ACKNOWLEDGED WRITES LOST: 7"
    md = recovery.verdict_markdown(lost)
    assert md.startswith("## ACKNOWLEDGED WRITES LOST: 7\n") and "3 HA pairs x 20.0 calls/s, 14 s, 3 masters" in md


def test_tables_are_formatted_for_people_and_wide_ones_turned_on_their_side():
    html = recovery.styled(pd.DataFrame([{"master": "a", "seconds": 2.30412345, "failures": 12345,
                                          "to_s": float("nan")}])).to_html()
    assert "2.304" in html and "12,345" in html and "2.30412345" not in html and "nan" not in html
    wide = pd.DataFrame([{f"c{i}": i * 1000.5 for i in range(recovery.WIDE + 1)}])
    shown = recovery.styled(wide).to_html()
    assert "#1" in shown and "9,004" in shown  # one column per entry, one row per field
    sections = [heading for heading, _ in recovery.sections(RUN)]
    assert sections == ["Faults", "Error windows per master", "Failovers (as the monitor saw them)"]
    assert "Cluster down" in recovery.absent(RUN)


def test_the_html_has_no_code_and_no_prompts():
    cell = new_code_cell("secret_code_line = 1\nsecret_code_line", execution_count=3,
                         outputs=[new_output("execute_result", {"text/plain": "42"}, execution_count=3)])
    nb = new_notebook(cells=[new_markdown_cell("# Title"), cell])
    html, _ = document_exporter().from_notebook_node(nb)
    assert "Title" in html and "42" in html
    assert "secret_code_line" not in html and "Out[3]" not in html and "In&nbsp;[3]" not in html


def test_a_failing_cell_is_named_as_jupyterlab_numbers_it_on_the_template(tmp_path):
    template = tmp_path / "t.ipynb"
    nbformat.write(new_notebook(cells=[
        new_markdown_cell("# Report"), new_code_cell("x = 1"), new_markdown_cell("## Part"),
        new_code_cell("import math"), new_code_cell("1 / 0  # fails\nmore")]), template)
    assert cell_name(template, "1 / 0  # fails\nmore") == "cell [3] of t.ipynb ('1 / 0  # fails')"
    assert cell_name(template, "not in the template").startswith("a cell of t.ipynb")


def test_report_numbers_are_formatted_for_people():
    from loadsim.report.render import document_number

    assert [document_number(v) for v in (22742.78, 2273.6666667, 5000.0, 123.456, 2.3456, 0.012345, 0.0,
                                         float("nan"))] == ["22,743", "2,274", "5,000", "123.5", "2.35", "0.0123",
                                                            "0", "-"]


def test_every_report_table_has_one_number_format_and_no_nan():
    from loadsim.report.render import document_table_html

    frame = pd.DataFrame([{"run": "a", "p99_update_us": 2187, "live_sessions": 2734.4, "floor": float("nan"),
                           "tls": False, "note": None}, {"run": "b", "p99_update_us": 12, "live_sessions": 0.5,
                                                         "floor": 3.0, "tls": True, "note": "x"}])
    shown = document_table_html(frame)
    assert "2,187" in shown and "2,734" in shown and "2187" not in shown
    assert "NaN" not in shown and "nan" not in shown and "None" not in shown and ">-<" in shown
    assert "False" in shown and "True" in shown  # booleans stay words
    assert ">0<" not in shown.split("<tbody>")[1].split("</td>")[0]  # no row number column for a plain index


def test_rig_bound_points_are_marked_wherever_measured_runs_are_plotted():
    from loadsim.report import sizing as report

    table = pd.DataFrame([{"run": "a", "class": "clean", "ha_pairs": 1, "masters": 3, "tls": False, "p99": 900},
                          {"run": "b", "class": "rig-bound", "ha_pairs": 3, "masters": 3, "tls": False, "p99": 9000},
                          {"run": "c", "class": "clean", "ha_pairs": 3, "masters": 3, "tls": False, "p99": 1000}])
    fig = report.plot_measured(table, "p99", "p99", "t", limit=5000, latency=True)
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert any("rig-bound" in label and "not Redis's" in label for label in labels), labels
    marks = {line.get_marker(): list(line.get_xdata()) for line in fig.axes[0].lines if line.get_marker() in "ox"}
    assert marks["x"] == [3] and sorted(marks["o"]) == [1, 3]
    # the mean line goes through the clean runs only: 1000 at 3 pairs, not the rig-bound 9000
    mean = next(line for line in fig.axes[0].lines if line.get_linestyle() == "-" and line.get_marker() == "None")
    assert list(mean.get_ydata()) == [900, 1000]


def test_the_notebooks_what_if_uses_the_reports_own_functions_and_follows_each_field():
    from dataclasses import replace

    from IPython.display import HTML

    from loadsim.model import sizing as sz
    from loadsim.report import sizing as report

    d = sz.Deployment()
    names = [f[0] for f in report.what_if_fields(d)]
    assert {"ha_pairs", "cps_per_pair", "aht_s", "record_bytes", "masters", "replicas"} <= set(names)
    start = dict((f[0], f[4]) for f in report.what_if_fields(d))
    assert start["record_bytes"] == sz.PRESETS[d.complexity].record_bytes and start["ha_pairs"] == d.ha_pairs
    # one label, type and range per option: the what-if's control and the web form's field read the same row
    from loadsim.config.simulation import SIM_BY_DEST

    fields_ = {f[0]: f for f in report.what_if_fields(d)}
    for name, dest in (("cps_per_pair", "cps_per_pair"), ("aht_s", "aht"), ("masters", "masters"),
                       ("network_rtt_us", "network_rtt_us")):
        assert fields_[name][1] == SIM_BY_DEST[dest].label == sz.option_of(name).label, name
    assert fields_["masters"][2] == "int" and fields_["aht_s"][2] == "float"
    # a changed field changes the verdict, and it is the one verdict_html renders for `loadsim plan`'s verdict
    changed = replace(d, ha_pairs=30, replicas=0)
    verdict, memory, masters = report.what_if_view(changed, sz.DEFAULT_COSTS)
    assert isinstance(verdict, HTML) and verdict.data == report.verdict_html(sz.verdict(changed, sz.DEFAULT_COSTS))
    assert "30 HA pairs on 3 masters" in verdict.data and "FAIL" in verdict.data  # no replica: failover fails
    assert memory.axes[0].get_xlabel().startswith("ORS HA pairs") and masters.axes


def test_the_sizing_notebook_has_a_parameter_for_every_plan_flag():
    """The sizing notebook reads every question field by name (``report.PLAN_PARAMETERS``, from the Deployment's
    fields): a field added to the question without its parameter line failed every sizing report in cell [2]
    (KeyError: 'nic_gbps')."""
    import ast

    from loadsim import paths
    from loadsim.report.sizing import PLAN_PARAMETERS

    nb = nbformat.read(paths.notebook_file("sizing"), as_version=4)
    parameters = next(c for c in nb.cells if c.cell_type == "code" and "results_dir" in c.source)
    names = {t.id for node in ast.parse(parameters.source).body if isinstance(node, ast.Assign)
             for t in node.targets if isinstance(t, ast.Name)}
    assert set(PLAN_PARAMETERS) <= names, f"{sorted(set(PLAN_PARAMETERS) - names)}: run scripts/update_docs.py"
