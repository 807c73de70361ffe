"""The pure workload model: statistics within tolerance, key layouts, TTLs, session ids."""

import statistics

import pytest
from redis.crc import key_slot

from loadsim.errors import OptionsError
from loadsim.model import workload as wl


def run_model(params, seconds, step=0.05, prefill=False):
    sched = wl.PairSchedule(params, wl.HaPair(0), 0.0)
    ops = sched.prefill(0.0) if prefill else []
    live = []
    t = 0.0
    while t < seconds:
        t += step
        ops.extend(sched.pop_due(t))
        live.append((t, sched.live))
    return sched, ops, live


def test_arrival_rate_is_poisson_at_cps():
    p = wl.WorkloadParams(ha_pairs=1, cps_per_pair=40, aht_s=5)
    sched, ops, _ = run_model(p, 250)
    rate = sched.arrivals / 250
    assert rate == pytest.approx(40, rel=0.03)
    creates = sorted(o.due for o in ops if o.kind == wl.CREATE)
    gaps = [b - a for a, b in zip(creates, creates[1:], strict=False)]
    # exponential gaps: standard deviation equals the mean
    assert statistics.pstdev(gaps) == pytest.approx(statistics.fmean(gaps), rel=0.05)


def test_live_sessions_follow_littles_law():
    p = wl.WorkloadParams(ha_pairs=1, cps_per_pair=20, aht_s=10)
    _, _, live = run_model(p, 300, prefill=True)
    mean_live = statistics.fmean(n for _, n in live)
    assert mean_live == pytest.approx(p.expected_live_sessions, rel=0.05)


def test_prefill_starts_at_steady_state():
    p = wl.WorkloadParams(ha_pairs=1, cps_per_pair=20, aht_s=30)
    sched = wl.PairSchedule(p, wl.HaPair(0), 0.0)
    assert len(sched.prefill(0.0)) == pytest.approx(600, rel=0.12)
    # the update rate right after the pre-fill is the steady one: live x updates per session / AHT
    sched = wl.PairSchedule(wl.WorkloadParams(ha_pairs=1, cps_per_pair=50, aht_s=100), wl.HaPair(0), 0.0)
    live = len(sched.prefill(0.0))
    updates = sum(1 for op in sched.pop_due(10.0) if op.kind == wl.UPDATE)
    assert updates / 10.0 == pytest.approx(live * 6 / 100, rel=0.08)


def test_record_sizes_and_writes_per_session():
    c = wl.Complexity("t", record_bytes=3000, record_sigma=0.5, updates_per_session=5, timer_share=0.5,
                      timer_bytes=200)
    p = wl.WorkloadParams(ha_pairs=1, cps_per_pair=30, aht_s=2, complexity=c)
    _, ops, _ = run_model(p, 200)
    sizes = [o.session_size for o in ops if o.kind in (wl.CREATE, wl.UPDATE)]
    assert statistics.fmean(sizes) == pytest.approx(3000, rel=0.04)
    assert statistics.pstdev(sizes) > 1000  # lognormal spread is applied
    creates = sum(o.kind == wl.CREATE for o in ops)
    deletes = sum(o.kind == wl.DELETE for o in ops)
    updates = sum(o.kind == wl.UPDATE for o in ops)
    assert updates / creates == pytest.approx(5, rel=0.06)
    assert deletes == pytest.approx(creates, rel=0.02)
    timers = [o for o in ops if o.kind == wl.UPDATE and o.timer_size]
    assert len(timers) / updates == pytest.approx(0.5, abs=0.03)


def test_updates_fall_between_create_and_delete():
    p = wl.WorkloadParams(ha_pairs=1, cps_per_pair=10, aht_s=3)
    _, ops, _ = run_model(p, 60)
    first, last = {}, {}
    for o in ops:
        first.setdefault(o.sid, (o.kind, o.due))
        last[o.sid] = (o.kind, o.due)
    finished = [s for s in first if last[s][0] == wl.DELETE]
    assert finished and all(first[s][0] == wl.CREATE for s in finished)
    assert all(first[s][1] <= last[s][1] for s in finished)


def test_digital_interactions_are_counted_not_persisted():
    p = wl.WorkloadParams(ha_pairs=1, cps_per_pair=50, aht_s=1, digital_share=0.3)
    sched, ops, _ = run_model(p, 100)
    creates = sum(o.kind == wl.CREATE for o in ops)
    assert sched.digital / sched.arrivals == pytest.approx(0.3, abs=0.02)
    assert creates + sched.digital == sched.arrivals


def test_same_seed_same_schedule_other_seed_differs():
    p = wl.WorkloadParams(ha_pairs=1, cps_per_pair=10, aht_s=2, seed=7)
    a = [(o.kind, o.sid, round(o.due, 9)) for o in run_model(p, 20)[1]]
    b = [(o.kind, o.sid, round(o.due, 9)) for o in run_model(p, 20)[1]]
    c = [(o.kind, o.sid, round(o.due, 9)) for o in run_model(wl.WorkloadParams(ha_pairs=1, cps_per_pair=10,
                                                                             aht_s=2, seed=8), 20)[1]]
    assert a == b and a != c


def test_session_ids_carry_node_id_and_keep_it_after_takeover():
    p = wl.WorkloadParams(ha_pairs=1, cps_per_pair=20, aht_s=50)
    pair = wl.HaPair(3)
    sched = wl.PairSchedule(p, pair, 0.0)
    created = [o.sid for o in sched.pop_due(2.0)]
    assert created and all(s.startswith(f"{pair.primary_node_id:03d}-") for s in created)
    sched.take_over(pair.backup_node_id)
    later = list(sched.pop_due(4.0))
    new = [o.sid for o in later if o.kind == wl.CREATE]
    old_updates = [o.sid for o in later if o.kind == wl.UPDATE and o.sid in created]
    assert new and all(s.startswith(f"{pair.backup_node_id:03d}-") for s in new)
    assert old_updates  # in-flight sessions keep their ids under the new owner


@pytest.mark.parametrize("layout", wl.KEY_LAYOUTS)
def test_every_write_has_a_ttl_and_keys_follow_the_layout(layout):
    lay = wl.KeyLayout(layout, "c1")
    for kind in (wl.CREATE, wl.UPDATE, wl.RECOVER):
        cmds = wl.commands_for(lay, kind, "001-0000000001", 1, b"x" * 10, b"t", 5000)
        writes = [c for c in cmds if c[0] in ("SET", "HSET")]
        assert writes
        for c in writes:
            assert str(c[1]).startswith("ORS:c1")
            if c[0] == "SET":
                assert c[-2:] == ("PX", "5000")
        if layout == "single-hash":
            assert ("PEXPIRE", "ORS:c1", "5000") in cmds


def test_layout_slots():
    sids = [wl.session_id(node, seq) for node in (1, 3, 5) for seq in range(50)]
    per_session = wl.KeyLayout("per-session", "c")
    assert len({key_slot(per_session.key("session", s).encode()) for s in sids}) > 100
    single = wl.KeyLayout("single-hash", "c")
    cmds = [wl.commands_for(single, wl.CREATE, s, 1, b"x", None, 1000)[0] for s in sids]
    assert {c[1] for c in cmds} == {"ORS:c"}
    tagged = wl.KeyLayout("node-tag", "c")
    slots_by_node = {}
    for s in sids:
        for record in ("session", "timers", "owner"):
            slots_by_node.setdefault(s[:3], set()).add(key_slot(tagged.key(record, s).encode()))
    assert all(len(v) == 1 for v in slots_by_node.values())
    assert len({next(iter(v)) for v in slots_by_node.values()}) == 3


def test_bad_parameters_name_the_option():
    with pytest.raises(OptionsError, match="--key-layout"):
        wl.WorkloadParams(key_layout="flat")
    with pytest.raises(OptionsError, match="--digital-share"):
        wl.WorkloadParams(digital_share=1.5)
    with pytest.raises(OptionsError, match="--complexity"):
        wl.preset("huge")
