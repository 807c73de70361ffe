"""How cheap can a pure-Python generator be here? Prints figures; asserts nothing.

    .venv/bin/python bench/floor.py [--rates 5000,10000] [--seconds 20] [--repeats 3] [--memtier PATH]

The floor is the least Python a generator of loadsim's shape can run per command: the same I/O pattern as loadsim's
ORS worker threads (``loadsim.locust.engine.Worker``: gevent's libev loop, one read watcher per connection left
started, the socket's own non-blocking ``send`` and ``recv_into``, the reply parsed by ``hiredis.Reader``), over
the same 120 connections (40 x 3 masters) to the embedded 3-master cluster, sending the same 1 KB ``SET ... PX``,
paced open loop from one greenlet waking every millisecond. Nothing else: no model, no records, no recorder, no
Locust; every command is the same prepacked bytes, sent on an idle connection to the key's master.

The chained floor is the floor with ORS's pattern: 40 worker threads, each holding one connection per master, each
operation's commands (loadsim's mean per operation, rounded: 2 for the simple preset) sent one after the other by
one worker, the next when the previous reply came, as an ORS worker thread (and loadsim's ``Worker``) sends them.
memtier sends each connection's requests on their own, on rate-limit timers that fire together: it blocks 0.01-0.03
times a command, loadsim 0.04-0.15. What the chained floor costs over the floor is what ORS's pattern costs
any generator (a Redis that has just gone idle woken again for the operation's next command), before its own work.

Each round runs, one after the other on the same cluster, the floor, the chained floor, loadsim's engine without
Locust (``child_engine``), loadsim (the generator bench's run: 10 HA pairs x 4 worker threads, the simple preset, at
the operations/s that send the same commands/s) and memtier_benchmark (rate-limited to the same commands/s), and
reads each one's CPU per command over the same mid-run window (40-90 % of the run, ``/proc``; commands from Redis's
commandstats). The floor's ratio to memtier is what any pure-Python generator of this shape pays on this host
before it does any work of its own, the chained floor's what one with ORS's pattern pays; loadsim's ratio over the
chained floor's is what its own work costs.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent))

CONNECTIONS_PER_MASTER = 40
PAYLOAD = b"x" * 1024


def _floor_setup(nodes: list[tuple[str, int]]):
    """What both floor children start from: gevent's loop, the masters, a key each master owns (from the slot map
    loadsim's own client reads, CLUSTER SLOTS) and a connection maker."""
    import socket

    import gevent
    import hiredis

    from loadsim.config.persistence import PersistenceOptions, RedisNode
    from loadsim.redis.client import ClusterClient, pack, slot_of

    loop = gevent.get_hub().loop
    client = ClusterClient(PersistenceOptions(redis_nodes=tuple(RedisNode(h, p) for h, p in nodes)), name="floor")
    owner = client.slots
    client.close()
    masters = sorted(set(owner))
    key_of = {}
    i = 0
    while len(key_of) < len(masters):
        key = f"floor:{i}"
        key_of.setdefault(owner[slot_of(key)], key)
        i += 1

    class Conn:
        __slots__ = ("sock", "send", "recv_into", "reader", "buf", "data", "watcher", "worker", "step")

    def connect(address, readable) -> Conn:
        c = Conn()
        c.sock = socket.create_connection(address)
        c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        c.sock.setblocking(False)
        c.send, c.recv_into = c.sock.send, c.sock.recv_into
        c.reader, c.buf = hiredis.Reader(), bytearray(65536)
        c.data = pack(("SET", key_of[address], PAYLOAD, "PX", "600000"))
        c.watcher = loop.io(c.sock.fileno(), 1)
        c.watcher.start(readable, c)
        return c

    return masters, connect


def _reply(c) -> bool:
    """A floor connection's read watcher: True once a whole reply is read."""
    try:
        n = c.recv_into(c.buf)
    except BlockingIOError:
        return False
    c.reader.feed(c.buf, 0, n)
    return c.reader.gets() is not False


def _pace(rate: float, seconds: float, idle: list, start) -> tuple[int, int]:
    """Open loop from one greenlet waking every millisecond: ``start`` what is due (``rate`` a second) on what
    ``idle`` holds, for ``seconds``. Returns (released, the largest backlog)."""
    import gevent

    clock = time.perf_counter
    t0 = clock()
    end = t0 + seconds
    released = backlog = 0
    while True:
        now = clock()
        if now >= end:
            break
        due = int((now - t0) * rate) - released
        while due > 0 and idle:
            start(idle.pop())
            released += 1
            due -= 1
        backlog = max(backlog, due)
        gevent.sleep(0.001)
    return released, backlog


def child(nodes: list[tuple[str, int]], rate: float, seconds: float) -> None:
    """The floor generator itself (a process of its own): ``rate`` commands/s for ``seconds``; prints its count."""
    masters, connect = _floor_setup(nodes)
    idle: list = []
    done = [0]

    def readable(c) -> None:
        if _reply(c):
            done[0] += 1
            idle.append(c)

    for address in masters:
        for _ in range(CONNECTIONS_PER_MASTER):
            idle.append(connect(address, readable))
    idle.reverse()
    released, backlog = _pace(rate, seconds, idle, lambda c: c.send(c.data))
    print(json.dumps({"sent": released, "replies": done[0], "backlog_max": backlog}), flush=True)


def child_chained(nodes: list[tuple[str, int]], rate: float, seconds: float, chain: int) -> None:
    """The floor with ORS's pattern: ``CONNECTIONS_PER_MASTER`` worker threads, each holding one connection per
    master, each operation ``chain`` commands sent one after the other by one worker (the next when the previous
    reply came, on the next master's connection), as loadsim's ``Worker`` sends an operation's commands. Otherwise
    the floor's: the same prepacked SET, paced every millisecond. ``rate``: commands/s."""
    masters, connect = _floor_setup(nodes)
    idle: list = []
    done = [0]

    class Worker:
        __slots__ = ("conns", "turn")

    def send_next(w, step: int) -> None:
        w.turn = (w.turn + 1) % len(w.conns)  # each command on the next master's connection
        c = w.conns[w.turn]
        c.step = step
        c.send(c.data)

    def readable(c) -> None:
        if _reply(c):
            done[0] += 1
            if c.step + 1 < chain:
                send_next(c.worker, c.step + 1)
            else:
                idle.append(c.worker)

    for _ in range(CONNECTIONS_PER_MASTER):
        w = Worker()
        w.conns, w.turn = [], 0
        for address in masters:
            c = connect(address, readable)
            c.worker = w
            w.conns.append(c)
        idle.append(w)
    _, backlog = _pace(rate / chain, seconds, idle, lambda w: send_next(w, 0))
    print(json.dumps({"sent": done[0], "replies": done[0], "backlog_max": backlog}), flush=True)


def child_engine(nodes: list[tuple[str, int]], rate: float, seconds: float) -> None:
    """loadsim's engine without Locust: 10 HA pairs' real schedules and ORS nodes (``OrsNode``, its ``Worker`` state
    machines, the recorder), released every millisecond from one greenlet as loadsim's scheduler does, on the
    cluster's real sockets. ``rate``: persistence operations per second. Prints its commands."""
    from gevent import monkey

    monkey.patch_all()

    import generator as G
    import gevent
    from hot_path import engine_without_locust

    from loadsim.config.persistence import PersistenceOptions, RedisNode
    from loadsim.locust import engine as E
    from loadsim.model import workload as wl

    simple = wl.PRESETS["simple"]
    params = wl.WorkloadParams(ors_cluster_name="floor", ha_pairs=G.PAIRS, complexity=simple, aht_s=10,
                               cps_per_pair=rate / G.PAIRS / simple.writes_per_session, worker_threads=G.THREADS)
    opts = PersistenceOptions(redis_nodes=tuple(RedisNode(h, p) for h, p in nodes), ors_cluster_name="floor")
    engine = engine_without_locust(params, opts)
    clock = time.perf_counter
    t0 = clock()
    pairs = []
    for i in range(G.PAIRS):
        schedule = wl.PairSchedule(params, wl.HaPair(i), t0, id_base=wl.run_id_base(time.time()))
        schedule.prefill(t0)  # the sessions in progress join the schedule (their creates are not sent)
        node = E.OrsNode(engine, 101 + i, 101 + i)  # type: ignore[arg-type]
        node.connect()
        node.acked = schedule.acked
        node.start()
        pairs.append((schedule, node))
    rec, batched = engine.recorder, engine.batched
    end, flush_at = t0 + seconds, t0 + 1.0
    while True:
        now = clock()
        if now >= end:
            break
        if now >= flush_at:
            batched.flush()
            flush_at = now + 1.0
        for schedule, node in pairs:
            for op in schedule.pop_due(now + 0.001):
                rec.due += 1
                if op.due > now:
                    op.due = now
                rec.schedule_lag(now - op.due, True)
                rec.offer()
                node.submit(op)
        gevent.sleep(0.001)
    done = sum(w.commands_ok for _, node in pairs for w in node.workers)
    print(json.dumps({"sent": done, "replies": done, "backlog_max": max(node.queued for _, node in pairs)}), flush=True)


def floor_round(cluster, rate: float, seconds: int, kind: str = "floor", chain: int = 1) -> tuple[dict, dict | None]:
    """One child run: ``kind`` floor (``rate`` commands/s), chained (commands/s, ``chain`` per operation) or engine
    (operations/s)."""
    import generator as G

    nodes = ",".join(n.address for n in cluster.nodes)
    out, split = G.run_split([sys.executable, __file__, f"--child-{kind}", nodes, "--rate", str(rate), "--seconds",
                              str(seconds), "--chain", str(chain)], cluster, seconds, seconds + 60)
    if out.returncode != 0:
        raise SystemExit(f"the {kind} generator failed: {out.stderr.strip()[-500:]}")
    G.flush(cluster)
    return json.loads(out.stdout.strip().splitlines()[-1]), split


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rates", default="5000,10000", help="persistence operations per second (loadsim's), "
                    "comma-separated; the floor and memtier send the commands/s they make")
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--memtier", default=None, help="memtier_benchmark binary (default: found on PATH)")
    ap.add_argument("--child-floor", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--child-chained", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--child-engine", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--rate", type=float, default=0.0, help=argparse.SUPPRESS)
    ap.add_argument("--chain", type=int, default=1, help=argparse.SUPPRESS)
    a = ap.parse_args()
    given = a.child_floor or a.child_chained or a.child_engine
    if given is not None:
        nodes = [(h, int(p)) for h, p in (n.rsplit(":", 1) for n in given.split(","))]
        if a.child_chained is not None:
            child_chained(nodes, a.rate, a.seconds, a.chain)
        else:
            (child if a.child_floor is not None else child_engine)(nodes, a.rate, a.seconds)
        return
    import generator as G

    from loadsim.embedded.cluster import ClusterSpec, EmbeddedCluster
    from loadsim.model.workload import PRESETS

    try:
        rates = [float(r) for r in a.rates.split(",")]
    except ValueError:
        rates = []
    if not rates or any(r <= 0 for r in rates) or a.seconds < 5 or a.repeats < 1:
        raise SystemExit(f"--rates {a.rates!r} --seconds {a.seconds} --repeats {a.repeats}: give rates > 0, "
                         "--seconds 5 or more and --repeats 1 or more")
    mt = G.memtier_path(a.memtier)
    if mt is None:
        raise SystemExit(G.HOW_TO_BUILD.replace(" Running the rest.", ""))
    simple = PRESETS["simple"]
    per_op = G.commands_per_operation(simple)
    chain = max(1, round(per_op))  # commands per operation of the chained floor (loadsim's mean, rounded)
    print(f"# pure-Python floor, {os.cpu_count()} cores, {G.host_state()}; {G.interpreter()}")
    tmp = Path(tempfile.mkdtemp(prefix="loadsim-floor-"))
    with EmbeddedCluster(ClusterSpec(masters=3)) as cluster:
        for rate in rates:
            cmds = rate * per_op
            ratios: dict[str, list[float]] = {}
            print(f"## {rate:.0f} operations/s = {cmds:.0f} commands/s; the chained floor: {chain} commands per "
                  "operation")
            for rep in range(1, a.repeats + 1):
                state = G.host_state()
                f, f_split = floor_round(cluster, cmds, a.seconds)
                c, c_split = floor_round(cluster, cmds, a.seconds, "chained", chain)
                e, e_split = floor_round(cluster, rate, a.seconds, "engine")
                s, l_split = G.rate_run(cluster, rate, f"floor{rep}", tmp / f"r{rate:.0f}-{rep}", a.seconds)
                m = G.memtier(mt, cluster, simple.record_bytes, cmds, a.seconds)
                splits = {"floor": f_split, "chained": c_split, "engine": e_split, "loadsim": l_split,
                          "memtier": m["split"]}
                if any(sp is None for sp in splits.values()):
                    print(f"[{rep}] ({state}) a generator ended before its mid-run window closed: round skipped")
                    continue
                per = {name: sp["user_us"] + sp["sys_us"] for name, sp in splits.items()}
                for name in ("floor", "chained", "engine", "loadsim"):
                    ratios.setdefault(f"{name}/memtier", []).append(per[name] / per["memtier"])
                ratios.setdefault("loadsim/chained", []).append(per["loadsim"] / per["chained"])
                print(f"[{rep}] ({state}) mid-run CPU per command: floor {per['floor']:.1f} us "
                      f"({G.split_text(f_split)}; {f['replies']:,} replies of {f['sent']:,} sent, backlog max "
                      f"{f['backlog_max']}), chained floor {per['chained']:.1f} us ({G.split_text(c_split)}; "
                      f"{c['replies']:,} replies, backlog max {c['backlog_max']}), engine {per['engine']:.1f} us "
                      f"({G.split_text(e_split)}; {e['sent']:,} commands), loadsim {per['loadsim']:.1f} us "
                      f"({G.split_text(l_split)}), memtier {per['memtier']:.1f} us ({G.split_text(m['split'])})")
            if ratios:
                medians = ", ".join(f"{k} {G.median(v):.2f}x" for k, v in ratios.items())
                print(f"{rate:.0f} ops/s, medians of {len(ratios['loadsim/memtier'])}: {medians} ({G.host_state()})")


if __name__ == "__main__":
    main()
