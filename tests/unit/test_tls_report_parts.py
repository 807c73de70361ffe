"""The TLS report's parts on given figures: no empty chart without saturation steps, the repeats that ran."""

import pandas as pd

from loadsim.report import tls as tlsreport


def test_no_saturation_step_draws_no_chart():
    assert tlsreport.plot_saturation(pd.DataFrame(), 5000.0) is None
    failed_only = pd.DataFrame([{"arm": "plain", "cps_per_pair": 32.0, "sustained": False}])
    assert tlsreport.plot_saturation(failed_only, 5000.0) is None  # a step without figures: nothing to draw


def test_the_parameters_say_the_repeats_that_ran():
    spec = {"ha_pairs": 3, "repeats": 3, "run_time": "30s", "precision": 0.05, "budget_s": 600.0,
            "saturation_steps": 0}
    index = {"spec": spec, "repeats_done": 8, "stopped_by": "precise", "fixed": []}
    table = tlsreport.parameters_table(index)
    assert table.loc["repeats run", "value"] == "8 (3 planned; stopped by precise)"
    assert "repeats" not in table.index  # never "repeats 3" alone after 8 were run
    assert table.loc["precision", "value"] == "±5 %" and table.loc["budget_s", "value"] == "600 s"
    assert table.loc["saturation_steps", "value"] == "0 (none run)"
