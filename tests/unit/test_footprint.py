"""The footprint's command counts are the generator's own: counted on ``workload.commands_for``'s list."""

from __future__ import annotations

import dataclasses

import pytest
from redis.crc import key_slot

from loadsim.model import footprint as fp
from loadsim.model import workload as wl

SID = wl.session_id(1, 1)
KINDS = (wl.CREATE, wl.UPDATE, wl.DELETE, wl.RECOVER)


def _by_slot(layout: wl.KeyLayout, cmds: list) -> dict[str, int]:
    """Placement decided by the command's real hash slot, independently of ``footprint.placement``."""
    hot, pair = key_slot(layout.hash_key.encode()), key_slot(b"{" + SID.split("-")[0].encode() + b"}")
    out = dict.fromkeys(fp.PLACEMENTS, 0)
    for cmd in cmds:
        slot = key_slot(str(cmd[1]).encode())
        out[fp.HOT if slot == hot else fp.PAIR if layout.name == "node-tag" and slot == pair else fp.SPREAD] += 1
    return out


@pytest.mark.parametrize("layout_name", wl.KEY_LAYOUTS)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("records", [1, 3])
@pytest.mark.parametrize("timers", [False, True])
def test_commands_per_op_are_the_commands_the_generator_sends(layout_name, kind, records, timers):
    layout = wl.KeyLayout(layout_name, "c1")
    writes = kind != wl.DELETE
    sent = wl.commands_for(layout, kind, SID, 4, b"x" * 100 if writes else None,
                           b"t" * 10 if writes and timers else None, 60000, records,
                           1 if kind == wl.UPDATE and records > 1 else -1)
    counted = fp.commands_per_op(layout, kind, records, timers)
    assert counted == _by_slot(layout, sent)
    assert sum(counted.values()) == len(sent) > 0


@pytest.mark.parametrize("layout_name", wl.KEY_LAYOUTS)
def test_footprint_commands_are_the_session_mix_of_commands_for(layout_name):
    base = wl.WorkloadParams()
    c = dataclasses.replace(base.complexity, records=3, timer_bytes=400, timer_share=0.25, updates_per_session=6)
    p = dataclasses.replace(base, key_layout=layout_name, complexity=c, leaked_share=0.1, cleanup_period_s=0)
    layout = wl.KeyLayout(layout_name, p.ors_cluster_name)
    expected = dict.fromkeys(fp.PLACEMENTS, 0.0)
    for kind, weight, timers in ((wl.CREATE, 1, True), (wl.UPDATE, 6 * 0.25, True), (wl.UPDATE, 6 * 0.75, False),
                                 (wl.DELETE, 0.9, False)):
        for where, n in _by_slot(layout, wl.commands_for(layout, kind, SID, 4, b"x" if kind != wl.DELETE else None,
                                                          b"t" if timers else None, 1, 3,
                                                          0 if kind == wl.UPDATE else -1)).items():
            expected[where] += weight * n * p.voice_cps_per_pair
    assert fp.footprint(p).commands_per_s == pytest.approx(expected)


def test_a_command_added_to_commands_for_shows_in_the_footprint(monkeypatch):
    # e.g. a newcomer adds a PEXPIRE to every update: plan must count it without touching footprint.py
    p = dataclasses.replace(wl.WorkloadParams(), key_layout="per-session")
    before = fp.footprint(p).commands_per_s[fp.SPREAD]
    real = wl.commands_for

    def with_pexpire(layout, kind, sid, *args, **kwargs):
        cmds = real(layout, kind, sid, *args, **kwargs)
        return [*cmds, ("PEXPIRE", layout.key("session", sid), "1")] if kind == wl.UPDATE else cmds

    monkeypatch.setattr(wl, "commands_for", with_pexpire)
    fp.footprint.cache_clear()
    try:
        after = fp.footprint(p).commands_per_s[fp.SPREAD]
    finally:
        fp.footprint.cache_clear()
    assert after - before == pytest.approx(p.complexity.updates_per_session * p.voice_cps_per_pair)
