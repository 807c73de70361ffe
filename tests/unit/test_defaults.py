"""Every default is read from loadsim.defaults, with its source: the models, --help and the notebook agree."""

import argparse
import dataclasses
import json
from pathlib import Path

import pytest

from loadsim import defaults as D
from loadsim.config.simulation import SIM_OPTIONS, add_simulation_arguments
from loadsim.model import sizing as sz
from loadsim.model import workload as wl

ROOT = Path(__file__).resolve().parents[2]


def test_every_default_has_a_known_source_and_a_basis():
    for name, d in D.DEFAULTS.items():
        assert d.source in (D.VENDOR, D.MEASURED, D.ASSUMPTION), name
        assert len(d.basis) > 10, name
    for name, (numbers, source) in D.PRESETS.items():
        assert source.startswith("assumption:") and len(numbers) == 5, name


@pytest.mark.parametrize("cls", [wl.WorkloadParams, sz.Deployment])
def test_model_defaults_are_the_ones_in_defaults_py(cls):
    checked = 0
    for f in dataclasses.fields(cls):
        if f.name in D.DEFAULTS:
            default = getattr(f.default, "name", f.default)  # WorkloadParams holds the preset itself
            # the model computes with a share of one core; defaults.py gives the ceiling in %, as the flags take it
            want = D.value(f.name) / 100 if f.name == "cpu_ceiling" else D.value(f.name)
            assert default == want, f"{cls.__name__}.{f.name}"
            checked += 1
    assert checked >= 8
    assert wl.WorkloadParams().complexity == wl.PRESETS[D.value("complexity")]
    assert sz.DEFAULT_COSTS.memory_factor == 1.0 and not sz.DEFAULT_COSTS.calibrated  # the model alone
    assert sz.DEFAULT_COSTS.cpu_s_per_command == D.value("cpu_s_per_command")


def test_presets_are_built_from_defaults_py():
    for name, (numbers, source) in D.PRESETS.items():
        c = wl.PRESETS[name]
        assert (c.record_bytes, c.record_sigma, c.updates_per_session, c.timer_share, c.timer_bytes) == numbers
        assert c.source == source


def test_help_shows_each_default_with_its_source():
    parser = argparse.ArgumentParser()
    add_simulation_arguments(parser, {})
    text = " ".join(parser.format_help().split())
    for o in SIM_OPTIONS:
        if o.default is not None:
            d = D.DEFAULTS[o.default]
            assert f"Default {d.shown()} ({d.source}:" in text, o.name


def test_sizing_notebook_takes_its_defaults_from_loadsim():
    nb = json.loads((ROOT / "loadsim" / "notebooks" / "sizing.ipynb").read_text())
    params = next(c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", []))
    assigned = {line.split("=")[0].strip(): line.split("=", 1)[1].split("#")[0].strip()
                for line in "".join(params["source"]).splitlines() if "=" in line and not line.startswith("#")}
    deployment_fields = {f.name for f in dataclasses.fields(sz.Deployment)}
    targets = {k: v for k, v in assigned.items() if k in deployment_fields or k == "node_ram_gib"}
    assert len(targets) >= 8 and set(targets.values()) == {"None"}, targets
