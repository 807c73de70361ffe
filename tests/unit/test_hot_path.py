"""The generator's hot-path shortcuts give what the general code gives: the RESP bytes of ``pack`` are hiredis's,
``slot_of`` is redis-py's ``key_slot``, ``WorkerConnections.wire`` routes and packs as they do, a pair's session
ids are ``session_id``'s, and the recorder's counts add up as Counters do."""

import random
from collections import Counter
from types import SimpleNamespace

import hiredis
import pytest
from redis.crc import key_slot

from loadsim.model import workload as wl
from loadsim.redis.client import SLOTS, WorkerConnections, pack, slot_of
from loadsim.results.recorder import Counts, Recorder

_rng = random.Random(7)
COMMANDS = [
    *(("SET", "ORS:c:session:001-0000000001", _rng.randbytes(n), "PX", "86400000") for n in (0, 1, 12, 1024, 70_000)),
    ("SET", "ORS:c:{001}:timers:001-0000000002", b"t" * 300, "PX", "5"),
    ("SET", "ключ", b"v", "PX", "5"),  # non-ASCII key: its length in bytes
    ("SET", "k", b"v", "EX", "5"),  # not PX
    ("SET", b"k", b"v", "PX", "5"),  # bytes key
    ("SET", "k", "v", "PX", "5"),  # str value
    ("SET", "k", b"v", "PX", 5),  # int TTL
    ("SET", "k", b"v"),
    ("DEL", "ORS:c:session:001-0000000001"),
    ("DEL", "ключ"),
    ("DEL", b"k"),
    ("DEL", "k1", "k2"),
    ("SET", "ORS:c:owner:001-0000000001", "1007", "PX", "86400000"),  # the owner record: a str value
    ("SET", "k", "ключ", "PX", "5"),
    ("GET", "k"),
    ("HSET", "ORS:c", "001-0000000001", "3"),
    ("PEXPIRE", "ORS:c", "1000"),
]


@pytest.mark.parametrize("cmd", COMMANDS, ids=range(len(COMMANDS)))
def test_pack_gives_hiredis_bytes(cmd):
    assert pack(cmd) == hiredis.pack_command(cmd)


def test_every_command_of_every_layout_packs_as_hiredis_does():
    for layout in wl.KEY_LAYOUTS:
        lay = wl.KeyLayout(layout, "bench")
        for kind in (wl.CREATE, wl.UPDATE, wl.DELETE, wl.RECOVER):
            for cmd in wl.commands_for(lay, kind, wl.session_id(3, 12345), 7, b"s" * 100, b"t" * 10, 86_400_000):
                assert pack(cmd) == hiredis.pack_command(cmd)


@pytest.mark.parametrize("key", ["ORS:c:session:001-1", "ORS:c:{001}:session:001-1", "x{}y", "{", "a{b}c", "",
                                 b"ORS:c:session:1", b"{t}a", b"a{", "ключ{x}"])
def test_slot_of_is_key_slot(key):
    assert slot_of(key) == key_slot(key if isinstance(key, bytes) else key.encode())


def test_a_pairs_session_ids_are_session_id():
    sched = wl.PairSchedule(wl.WorkloadParams(ha_pairs=1, cps_per_pair=5, aht_s=10), wl.HaPair(41), 0.0,
                            id_base=wl.SEQ_SPACE - 3)
    for seq in (1, 2, 3, 4, 5, 10**9):  # across the wrap of the 10-digit number
        assert sched.sid(seq) == wl.session_id(sched.node_id, sched.id_base + seq)
        assert sched.seq_of(sched.sid(seq)) == seq
    assert wl.session_id(7, 12) == "007-0000000012"
    assert wl.session_id(1234, wl.SEQ_SPACE + 5) == "1234-0000000005"


def test_recorder_counts_add_up_as_counters():
    rec, reference = Recorder(), Counter()
    for i in range(50):
        op = ("session.update", "session.create", "session.delete")[i % 3]
        rec.record(op, 10.0, 20.0, 2)
        reference[op] += 1
    assert isinstance(rec.ops, Counts) and isinstance(rec.ops, Counter)
    assert rec.ops == reference and rec.window == reference
    assert rec.ops["never"] == 0  # a Counter still: a missing name counts 0
    merged = Recorder()
    merged.merge(rec.drain())
    merged.merge({"ops": dict(reference), "window": dict(reference)})
    assert merged.ops == reference + reference and merged.window == reference + reference


def _worker_connections(stale=False, opened=(0, 1, 2)):
    """A worker's connections to three masters owning a third of the slots each; ``opened`` are open."""
    masters = [("127.0.0.1", 7000 + i) for i in range(3)]
    w = WorkerConnections.__new__(WorkerConnections)
    w.client = SimpleNamespace(stale=stale, slots=[masters[s * 3 // SLOTS] for s in range(SLOTS)], windows=None)
    w.conns = {masters[i]: SimpleNamespace(nb_send=object(), address=masters[i]) for i in opened}
    return w


def test_wire_routes_and_packs_every_command_of_every_layout_as_key_slot_and_hiredis_do():
    w = _worker_connections()
    cmds = list(COMMANDS)
    for layout in wl.KEY_LAYOUTS:
        lay = wl.KeyLayout(layout, "bench")
        for kind in (wl.CREATE, wl.UPDATE, wl.DELETE, wl.RECOVER):
            cmds += wl.commands_for(lay, kind, wl.session_id(3, 12345), 7, b"s" * 100, b"t" * 10, 86_400_000)
    slots = set()
    for cmd in cmds:
        key = cmd[1]
        slot = key_slot(key if isinstance(key, bytes) else key.encode())
        address = w.client.slots[slot]
        assert w.wire(cmd) == (w.conns[address], slot, address, hiredis.pack_command(cmd)), cmd
        assert pack(cmd) == hiredis.pack_command(cmd)
        slots.add(slot)
    assert len(slots) > 3  # the keys spread over slots (and masters): not one route for all


def test_wire_leaves_a_stale_map_or_a_connection_not_open_to_the_synchronous_path():
    cmd = ("SET", "ORS:c:session:001-0000000001", b"v", "PX", "5")
    owner = slot_of(cmd[1]) * 3 // SLOTS
    assert _worker_connections().wire(cmd) is not None
    assert _worker_connections(stale=True).wire(cmd) is None
    assert _worker_connections(opened=[i for i in range(3) if i != owner]).wire(cmd) is None
