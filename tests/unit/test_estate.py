"""Estate files: the operator's own pairs, sizes and lifetimes (pure parsing; the file reader is one call)."""

import pytest

from loadsim.config.estate import read_estate_file
from loadsim.errors import OptionsError
from loadsim.model import workload as wl
from loadsim.model.estate import estate_from_dict, with_overrides
from loadsim.paths import EXAMPLE_ESTATE

BASE = wl.WorkloadParams()


def estate(text_groups, **top):
    return estate_from_dict({"group": text_groups, **top}, BASE, "t.toml")


def test_the_example_estate_has_an_uneven_hub_and_branches():
    data, name = read_estate_file(str(EXAMPLE_ESTATE))
    e = estate_from_dict(data, BASE, name)
    assert e.ha_pairs == 9 and [g.pairs for g in e.groups] == [1, 8]
    hub, branch = e.groups[0].params, e.groups[1].params
    assert hub.cps_per_pair == pytest.approx(120000 / 3600 * 1.2) == pytest.approx(40)
    assert branch.cps_per_pair == pytest.approx(4.2 * 1.2)
    assert hub.complexity.record_bytes == 12000 and hub.complexity.updates_per_session == 12
    assert branch.complexity.record_bytes == round(2000 * .5 + 4000 * .3 + 9000 * .2)  # the histogram's mean
    assert hub.routed_share == 0.3 and hub.aht_s == 240  # from [defaults]
    assert e.group_of(0) is e.groups[0] and e.group_of(8) is e.groups[1] and e.group_of(9) is e.groups[0]
    assert e.live_sessions == pytest.approx(sum(g.pairs * g.params.expected_live_sessions for g in e.groups))


def test_flags_override_every_group_and_estate_wide_keys():
    e = estate([{"cps": 4, "aht_s": 100}, {"pairs": 2, "cps": 40}], key_layout="node-tag")
    assert all(g.params.key_layout == "node-tag" for g in e.groups)
    fixed = estate_from_dict({"group": [{"cps": 4}], "key_layout": "node-tag"}, BASE, "t", frozenset({"key_layout"}))
    assert fixed.groups[0].params.key_layout == BASE.key_layout
    o = with_overrides(e, {"aht_s": 30.0, "record_bytes": 999})
    assert [g.params.aht_s for g in o.groups] == [30.0, 30.0]
    assert [g.params.complexity.record_bytes for g in o.groups] == [999, 999]
    assert [g.params.cps_per_pair for g in o.groups] == [4, 40]


@pytest.mark.parametrize("groups, top, message", [
    ([{"pairz": 2}], {}, "unknown key 'pairz'; did you mean 'pairs'?"),
    ([{"cps": -1}], {}, "cps = -1: must be a number from"),
    ([{"cps": "fast"}], {}, "cps = 'fast' is not a"),
    ([{"cps": 1, "calls_per_busy_hour": 10}], {}, "not both"),
    ([{"session_sizes": [[100]]}], {}, "[bytes, weight] pairs"),
    ([{"lifetime": {"leaked": 0.1}}], {}, "unknown key 'leaked'; did you mean 'leaked_share'?"),
    ([{"lifetime": {"routed_share": 0.7, "leaked_share": 0.5}}], {}, "sum to at most 1"),
    ([{"writes_per_session": 1}], {}, "writes_per_session = 1: must be a number from 2"),
    ([], {}, "no [[group]] tables"),
    ([{"cps": 1}], {"key_layot": "index"}, "did you mean 'key_layout'?"),
    ([{"cps": 1}], {"key_layout": "flat"}, "key_layout = 'flat'"),
])
def test_bad_estates_are_one_line_naming_the_file_group_and_key(groups, top, message):
    with pytest.raises(OptionsError) as info:
        estate(groups, **top)
    text = str(info.value)
    assert message in text and text.startswith("t.toml") and "\n" not in text


def test_unreadable_estate_files_name_the_option(tmp_path):
    with pytest.raises(OptionsError, match="--estate .*no such file"):
        read_estate_file(str(tmp_path / "none.toml"))
    bad = tmp_path / "bad.toml"
    bad.write_text("[[group]\ncps = 1\n")
    with pytest.raises(OptionsError, match="not valid TOML"):
        read_estate_file(str(bad))
