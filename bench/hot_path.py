"""The generator's per-operation Python work, without sockets: CPU instructions (valgrind) or CPU time per operation.
Prints figures; asserts nothing.

    .venv/bin/python bench/hot_path.py [--part all|model|commands] [--seconds 20] [--repeats 5]
    .venv/bin/python bench/hot_path.py --valgrind [--part ...]   # CPU instructions per operation (needs valgrind)
    .venv/bin/python bench/hot_path.py --cold N   # also with the caches evicted before every N operations

What runs is the real code of one HA pair's primary: ``PairSchedule.pop_due`` (the model), ``OrsNode``/``Worker``
(records, ``commands_for``, ``wire`` (route and RESP bytes), the reply read by ``hiredis.Reader``), ``Recorder``
and ``BatchedStats``; the socket is replaced by one that takes every send and answers ``+OK`` at once, so the figure is
the Python side of a command, not the kernel's (what loopback TCP costs memtier too). ``--part model`` runs only the
schedule, ``--part commands`` the schedule and the commands' bytes (records and ``commands_for``), so the worker
path is ``all`` minus ``commands``.

Why instructions: on a shared 2-core host, CPU time per command of the same code varied 39-51 us between end-to-end
rounds minutes apart (and 15-22 us per operation here); CPU instructions do not depend on the neighbours.
``--valgrind`` runs this script twice under ``valgrind --tool=cachegrind --cache-sim=no`` (two run lengths after the
same warm-up) and divides the difference of the instructions by the difference of the operations: start-up and
exit cancel out. Deterministic for a given tree (seeded schedule, PYTHONHASHSEED=0, one OpenBLAS thread). Compare
two trees with ``PYTHONPATH=<tree> python bench/hot_path.py --valgrind``.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import hiredis

ROOT = Path(__file__).resolve().parents[1]
if "PYTHONPATH" not in os.environ:
    sys.path.insert(0, str(ROOT))

from loadsim.locust import engine as E  # noqa: E402
from loadsim.locust.batched_stats import BatchedStats  # noqa: E402
from loadsim.model import records  # noqa: E402
from loadsim.model import workload as wl  # noqa: E402
from loadsim.redis import client as C  # noqa: E402
from loadsim.results.recorder import Recorder  # noqa: E402

MASTERS = [("127.0.0.1", 7000 + i) for i in range(3)]
WORKERS = 4
OK = b"+OK\r\n"


class Watcher:
    """The read watcher: its start means a reply is on its way (the fake server answers every send)."""

    def __init__(self, ready: list) -> None:
        self.ready = ready

    def start(self, callback, conn) -> None:
        self.ready.append((callback, conn))

    def stop(self) -> None:
        pass

    def close(self) -> None:
        pass


class Conn:
    """A connection whose server answers +OK to every command at once."""

    __slots__ = ("address", "sock", "reader", "buf", "nb_send", "nb_recv_into", "watcher", "_replies")

    def __init__(self, address, ready: list) -> None:
        self.address, self.reader, self.buf = address, hiredis.Reader(), bytearray(65536)
        self.watcher, self._replies = Watcher(ready), 0
        self.nb_send, self.nb_recv_into = self._send, self._recv

    def _send(self, data: bytes) -> int:
        self._replies += 1
        return len(data)

    def _recv(self, buf: bytearray) -> int:
        if not self._replies:
            raise BlockingIOError
        self._replies -= 1
        buf[:5] = OK
        return 5

    def close(self) -> None:
        pass


def engine_without_locust(params: wl.WorkloadParams, opts) -> SimpleNamespace:
    """What ``OrsNode`` and ``Worker`` read of loadsim's ``Engine``, without Locust (no statistics to feed): the
    benches' stand-in (this one and ``floor.py``'s engine child), one definition so that both read the same fields."""
    return SimpleNamespace(
        opts=opts, params=params, layout=wl.KeyLayout(params.key_layout, params.ors_cluster_name),
        body_crc=records.BodyCrc(E._PAYLOAD), ttl_ms=params.session_ttl_s * 1000, records=params.complexity.records,
        recorder=Recorder(), batched=BatchedStats(SimpleNamespace(stats=None)), steady_from=0.0, error_windows=None,
        settings=SimpleNamespace(pool_connections="eager"), saw_masters=lambda masters: None)


class Bench:
    def __init__(self, part: str) -> None:
        self.part = part
        self.ready: list = []
        params = wl.WorkloadParams(ors_cluster_name="bench", ha_pairs=1, complexity=wl.PRESETS["simple"],
                                   cps_per_pair=100, aht_s=10, prefill=False)
        client = SimpleNamespace(stale=False, slots=[MASTERS[s * 3 // C.SLOTS] for s in range(C.SLOTS)], windows=None)
        self.engine = engine_without_locust(params, SimpleNamespace(persists=True, redis_socket_timeout=0))
        self.node = node = E.OrsNode(self.engine, 1, 1)  # type: ignore[arg-type]
        for _ in range(WORKERS):
            w = C.WorkerConnections.__new__(C.WorkerConnections)
            w.client, w.conns, w.seen = client, {a: Conn(a, self.ready) for a in MASTERS}, set(MASTERS)
            w.commands_ok = w.commands_failed = w.moved = w.asked = w.opened = w.reconnects = 0
            node.workers.append(w)
        self.schedule = wl.PairSchedule(params, wl.HaPair(0), 0.0, id_base=wl.run_id_base(1_765_000_000))
        node.acked = self.schedule.acked
        node.start()
        self.t = 0.0

    def us_per_op(self, model_seconds: float, repeats: int) -> list[float]:
        """CPU µs per operation of ``repeats`` runs of ``model_seconds`` each, after the same warm-up, sorted."""
        self.run(20.0)
        return sorted(1e6 * cpu / ops for ops, cpu in (self.run(model_seconds) for _ in range(repeats)))

    def run(self, model_seconds: float, evict_every: int = 0) -> tuple[int, float]:
        """Operations done over ``model_seconds`` of the schedule, and the CPU time they took.

        ``evict_every`` N > 0: each operation runs to its end (its replies read) before the next starts, and before
        every Nth one (of any ``part``) the caches are evicted (a write to every 64-byte line of ``EVICT_BYTES``:
        four times this host's L2 of 2 MiB a core, a quarter of its shared L3), as a wake-up finds them when other
        work ran in between; the eviction's own CPU time is left out."""
        node, rec, ready, part = self.node, self.engine.recorder, self.ready, self.part
        ops, end = 0, self.t + model_seconds
        clock = time.process_time
        evict = _evictor() if evict_every else None
        evicting = 0.0
        cpu = clock()
        while self.t < end:
            self.t += 0.001
            for op in self.schedule.pop_due(self.t):
                ops += 1
                if evict is not None and ops % evict_every == 0:
                    t0 = clock()
                    evict()
                    evicting += clock() - t0
                if part == "model":
                    continue
                if part == "commands":
                    node.commands(op)
                    continue
                rec.due += 1
                rec.schedule_lag(0.0, True)
                rec.offer()
                node.submit(op)
                while evict is not None and ready:
                    callback, conn = ready.pop()
                    callback(conn)
            while ready:
                callback, conn = ready.pop()
                callback(conn)
        self.engine.batched.discard()
        return ops, clock() - cpu - evicting


EVICT_BYTES = 8 << 20


def _evictor():
    import numpy as np

    lines = np.zeros(EVICT_BYTES // 8, dtype=np.int64)

    def evict() -> None:
        lines[::8] += 1  # one write per 64-byte line

    return evict


def instructions(part: str, seconds: float) -> tuple[int, int]:
    """(operations, CPU instructions) of one process: warm-up, then ``seconds`` of the schedule."""
    env = {**os.environ, "PYTHONHASHSEED": "0", "OPENBLAS_NUM_THREADS": "1"}
    out = subprocess.run(["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
                          sys.executable, __file__, "--part", part, "--once", str(seconds)],
                         capture_output=True, text=True, env=env, timeout=3600)
    ops = int(re.search(r"^operations (\d+)", out.stdout, re.M).group(1))  # type: ignore[union-attr]
    refs = int(re.search(r"I\s+refs:\s+([\d,]+)", out.stderr).group(1).replace(",", ""))  # type: ignore[union-attr]
    return ops, refs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--part", choices=("all", "model", "commands"), default="all")
    ap.add_argument("--seconds", type=float, default=20.0, help="seconds of the schedule per measurement")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--valgrind", action="store_true", help="count CPU instructions per operation (valgrind)")
    ap.add_argument("--cold", type=int, default=0, metavar="N", help="also with the caches evicted before every N "
                    "operations (each operation run to its end first), alternating with warm runs")
    ap.add_argument("--once", type=float, default=None, help=argparse.SUPPRESS)  # one run, for --valgrind
    a = ap.parse_args()
    tree = Path(E.__file__).resolve().parents[2]
    if a.once is not None:
        bench = Bench(a.part)
        bench.run(20.0)  # warm-up: the same in both run lengths
        print(f"operations {bench.run(a.once)[0]}")
        return
    if a.valgrind:
        o1, i1 = instructions(a.part, a.seconds / 4)
        o2, i2 = instructions(a.part, a.seconds)
        print(f"{tree} ({a.part}): {(i2 - i1) / (o2 - o1):,.0f} CPU instructions per operation "
              f"({o2 - o1:,} operations)")
        return
    if a.cold < 0:
        raise SystemExit(f"--cold {a.cold}: give a number of operations, 1 or more (0: warm only)")
    if not a.cold:
        per_op = Bench(a.part).us_per_op(a.seconds, a.repeats)
        print(f"{tree} ({a.part}): {per_op[len(per_op) // 2]:.2f} us CPU per operation, median of {a.repeats} "
              f"(min {per_op[0]:.2f}); load {os.getloadavg()[0]:.1f}")
        return
    bench = Bench(a.part)
    bench.run(20.0)
    warm, cold = [], []
    for _ in range(a.repeats):  # alternating: the same schedule goes on, warm and cold in turn
        ops, cpu = bench.run(a.seconds)
        warm.append(1e6 * cpu / ops)
        ops, cpu = bench.run(a.seconds, a.cold)
        cold.append(1e6 * cpu / ops)
    w, c = statistics.median(warm), statistics.median(cold)
    print(f"{tree} ({a.part}): warm {w:.2f} us CPU per operation, caches evicted before every {a.cold} "
          f"operation(s) {c:.2f} ({c / w:.2f}x), medians of {a.repeats} alternating; load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
