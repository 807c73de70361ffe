"""The pure workload model: statistics within tolerance, key layouts, TTLs, session ids."""

import fnmatch
import statistics
from dataclasses import replace

import pytest
from redis.crc import key_slot

from loadsim.errors import OptionsError
from loadsim.model import workload as wl


def run_model(params, seconds, step=0.05, prefill=False):
    sched = wl.PairSchedule(params, wl.HaPair(0), 0.0)
    ops = list(sched.prefill(0.0)) if prefill else []
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


def test_an_ha_pair_has_one_node_id_its_primary_dbid_and_every_session_carries_it():
    pair = wl.HaPair(3)
    assert pair.node_id == pair.primary_dbid == 7 and pair.backup_dbid == 8
    assert len({wl.HaPair(i).node_id for i in range(50)}) == 50  # pairs never share a node id
    sched = wl.PairSchedule(wl.WorkloadParams(ha_pairs=1, cps_per_pair=20, aht_s=50), pair, 0.0)
    ops = list(sched.pop_due(4.0))
    assert ops and all(o.sid.startswith("007-") for o in ops)  # no switching of ids: the pair owns them
    assert set(sched.sessions()) == {o.sid for o in ops if o.kind == wl.CREATE} - {
        o.sid for o in ops if o.kind == wl.DELETE}


def test_the_sessions_a_switchover_expects_are_those_created_before_it():
    """A switchover recovers the old primary's sessions: the live ones among those created before it, not the
    calls that arrive while the old primary stops (they wait in the new primary's queue, unwritten)."""
    sched = wl.PairSchedule(wl.WorkloadParams(ha_pairs=1, cps_per_pair=20, aht_s=3), wl.HaPair(0), 0.0)
    before = list(sched.pop_due(4.0))
    owned = len(sched.acked)
    after = list(sched.pop_due(6.0))
    created_after = {o.sid for o in after if o.kind == wl.CREATE}
    ended_after = {o.sid for o in after if o.kind == wl.DELETE}
    assert owned and created_after and ended_after - created_after  # both windows have creates and old ends
    expected = set(sched.sessions(created=owned))
    assert expected == set(sched.sessions()) - created_after
    assert expected == ({o.sid for o in before if o.kind == wl.CREATE}
                        - {o.sid for o in before + after if o.kind == wl.DELETE})


def test_node_tag_layout_gives_one_slot_per_pair_and_recovery_finds_the_pairs_sessions():
    tagged = wl.KeyLayout("node-tag", "c")
    slots = {}
    for i in range(9):
        pair = wl.HaPair(i)
        sids = [wl.session_id(pair.node_id, seq) for seq in range(1, 30)]
        slots[i] = {key_slot(tagged.key(r, s).encode()) for s in sids for r in ("session", "timers", "owner")}
        pattern = tagged.scan_pattern(pair.node_id)
        assert all(fnmatch.fnmatchcase(tagged.key("session", s), pattern) for s in sids)
        other = wl.session_id(wl.HaPair(i + 1).node_id, 1)
        assert not fnmatch.fnmatchcase(tagged.key("session", other), pattern)
    assert all(len(v) == 1 for v in slots.values()) and len(set().union(*slots.values())) == 9


def test_lifetime_classes_set_the_live_population_by_littles_law():
    p = wl.WorkloadParams(ha_pairs=1, cps_per_pair=20, aht_s=10, routed_share=0.5, routing_s=2,
                          extended_share=0.1, extended_s=40)
    assert p.mean_lifetime_s == pytest.approx(0.4 * 10 + 0.5 * 2 + 0.1 * 40)
    _, ops, live = run_model(p, 300, prefill=True)
    assert statistics.fmean(n for _, n in live) == pytest.approx(p.expected_live_sessions, rel=0.06)
    # the pre-fill is that population already
    assert len([o for o in ops if o.due == 0.0]) == pytest.approx(p.expected_live_sessions, rel=0.12)


def test_leaked_sessions_are_never_deleted_and_expire_a_ttl_after_their_last_write():
    p = wl.WorkloadParams(ha_pairs=1, cps_per_pair=20, aht_s=5, leaked_share=0.3, session_ttl_s=20)
    sched, ops, live = run_model(p, 400, prefill=True)
    creates = sum(o.kind == wl.CREATE for o in ops if o.due > 0)
    deletes = sum(o.kind == wl.DELETE for o in ops)
    assert deletes / creates == pytest.approx(0.7, abs=0.03)
    assert sched.expired > 0.25 * creates * 0.8
    assert p.writes_per_session == pytest.approx(6 + 2 - 0.3)
    assert statistics.fmean(n for _, n in live) == pytest.approx(p.expected_live_sessions, rel=0.06)
    # a pre-filled leaked session carries only the TTL it has left
    assert any(0 < o.ttl_ms < 20_000 for o in ops if o.due == 0.0)


def test_sessions_split_into_records_write_all_at_create_and_one_per_update():
    c = wl.Complexity("t", record_bytes=4000, record_sigma=0, updates_per_session=4, timer_share=0,
                      timer_bytes=100, records=4)
    p = wl.WorkloadParams(ha_pairs=1, cps_per_pair=10, aht_s=2, complexity=c)
    _, ops, _ = run_model(p, 30)
    assert {o.session_size for o in ops if o.kind == wl.CREATE} == {1000}
    lay = wl.KeyLayout("per-session", "c")
    create = wl.commands_for(lay, wl.CREATE, "001-1", 1, b"x", b"t", 1000, records=4)
    assert [c[1] for c in create if c[0] == "SET"][:4] == [lay.key(n, "001-1") for n in wl.record_names(4)]
    updates = [o for o in ops if o.kind == wl.UPDATE]
    assert {o.record for o in updates} == {0, 1, 2, 3}
    one = wl.commands_for(lay, wl.UPDATE, "001-1", 1, b"x", None, 1000, records=4, record=2)
    assert one == [("SET", lay.key("session2", "001-1"), b"x", "PX", "1000")]
    delete = wl.commands_for(lay, wl.DELETE, "001-1", 1, None, None, 1000, records=4)
    assert len(delete) == 4 + 2
    assert len(lay.recovery_reads("001-1", 4)) == 5


def test_index_layout_keeps_an_index_hash_without_ttl_and_bodies_with_ttl():
    lay = wl.KeyLayout("index", "c")
    create = wl.commands_for(lay, wl.CREATE, "001-0000000001", 1, b"x", b"t", 5000)
    assert ("HSET", "ORS:c", "001-0000000001", "1") in create
    assert [c for c in create if c[0] == "SET"] == [("SET", "ORS:c:session:001-0000000001", b"x", "PX", "5000"),
                                                     ("SET", "ORS:c:timers:001-0000000001", b"t", "PX", "5000")]
    assert not any(c[0] == "PEXPIRE" for c in create)  # the index itself never expires
    update = wl.commands_for(lay, wl.UPDATE, "001-0000000001", 1, b"x", None, 5000)
    assert update == [("SET", "ORS:c:session:001-0000000001", b"x", "PX", "5000")]  # no index traffic
    delete = wl.commands_for(lay, wl.DELETE, "001-0000000001", 1, None, None, 5000)
    assert delete[-1] == ("HDEL", "ORS:c", "001-0000000001")
    assert lay.scan_pattern(1) == "001-*"  # HSCAN of the index by node id
    recover = wl.commands_for(lay, wl.RECOVER, "001-0000000001", 2, None, None, 5000)
    assert recover == [("HSET", "ORS:c", "001-0000000001", "2")]


def test_cleanup_is_scheduled_for_the_index_layout_only():
    p = wl.WorkloadParams(ha_pairs=1, cps_per_pair=5, aht_s=2, key_layout="index", cleanup_period_s=2)
    _, ops, _ = run_model(p, 21)
    cleanups = [o for o in ops if o.kind == wl.CLEANUP]
    assert len(cleanups) == 10 and all(o.sid == "001-" for o in cleanups)
    assert [round(o.due, 6) for o in cleanups] == [2.0 * i for i in range(1, 11)]
    with pytest.raises(OptionsError, match="--cleanup-period applies to --key-layout index"):
        wl.WorkloadParams(cleanup_period_s=5)


def test_the_default_lifetime_keeps_todays_seeded_sessions():
    """Adding the lifetime classes must not change what a given seed produces with the defaults."""
    p = wl.WorkloadParams(ha_pairs=1, cps_per_pair=10, aht_s=2, seed=7)
    q = wl.WorkloadParams(ha_pairs=1, cps_per_pair=10, aht_s=2, seed=7, routed_share=0.0, leaked_share=0.0)
    a = [(o.kind, o.sid, o.due) for o in run_model(p, 10, prefill=True)[1]]
    b = [(o.kind, o.sid, o.due) for o in run_model(q, 10, prefill=True)[1]]
    assert a == b and p.mean_lifetime_s == p.aht_s


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


def test_the_prefill_is_made_lazily_the_same_every_time_and_by_the_seed():
    p = wl.WorkloadParams(ha_pairs=1, cps_per_pair=20, aht_s=30, leaked_share=0.2, session_ttl_s=600)
    sched = wl.PairSchedule(p, wl.HaPair(2), 5.0)
    creates = sched.prefill(5.0)
    assert not isinstance(creates, list)  # made as it is taken: 10 M Ops would not fit
    once, twice = list(creates), list(creates)
    assert len(creates) == len(once) == sched.live and [o.sid for o in once] == [o.sid for o in twice]
    assert [o.session_size for o in once] == [o.session_size for o in twice]
    assert [o.seq for o in once] == list(range(1, len(once) + 1)) and {o.due for o in once} == {5.0}
    assert set(sched.sessions()) == {o.sid for o in once}
    # leaked sessions past their call come last, with the TTL they have left
    ttls = [o.ttl_ms for o in once]
    assert ttls[-1] > 0 and all(0 < t <= 600_000 for t in ttls[ttls.index(next(t for t in ttls if t)):])
    again = wl.PairSchedule(p, wl.HaPair(2), 5.0)
    assert [(o.sid, o.session_size) for o in again.prefill(5.0)] == [(o.sid, o.session_size) for o in once]
    other = wl.PairSchedule(replace(p, seed=2), wl.HaPair(2), 5.0)
    assert [(o.sid, o.session_size) for o in other.prefill(5.0)] != [(o.sid, o.session_size) for o in once]


def test_sessions_ended_free_their_slot_for_the_next_ones():
    p = wl.WorkloadParams(ha_pairs=1, cps_per_pair=50, aht_s=1)
    sched, ops, _ = run_model(p, 60, prefill=True)
    assert sum(o.kind == wl.CREATE for o in ops) > 2500
    assert len(sched._seqs) < 200  # the tables hold the sessions alive at once (~50), not every one ever made
    assert len(sched.acked) == sum(o.kind == wl.CREATE for o in ops)


def test_each_run_numbers_its_sessions_from_its_own_base_and_the_ids_stay_ten_digits():
    """Two runs of the same pairs wrote the same ids: the second overwrote the first's leftovers as it went, so
    what it added to the cluster (memory calibrates on it) could not be told from what was there."""
    a, b = wl.run_id_base(1_796_573_505), wl.run_id_base(1_796_573_506)
    assert a != b and a % wl.RUN_ID_STRIDE == 0
    pair = wl.HaPair(0)
    s = wl.PairSchedule(wl.WorkloadParams(), pair, 0.0, id_base=wl.SEQ_SPACE - 2)  # wraps, never an 11th digit
    for seq in (1, 2, 3, 70_000):
        sid = s.sid(seq)
        assert len(sid) == len(wl.session_id(1, 1)) and s.seq_of(sid) == seq
    assert wl.PairSchedule(wl.WorkloadParams(), pair, 0.0).sid(1) == wl.session_id(pair.node_id, 1)
