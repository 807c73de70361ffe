"""The simulated ORS nodes of one load test: the engine on the Locust Environment and its worker threads.

The primary ORS node of each HA pair works; the backup holds no work (warm standby). Load is open loop with
ORS's thread model: the model (``loadsim.model.workload``) says when each operation is due; a due operation
joins the ORS node's queue and one of its ``--worker-threads`` synchronous workers (each with one connection
per master, opened on first use unless ``--pool-connections eager``) executes it. Queueing for a free worker
is part of the latency from the intended start, as inside ORS. Every operation counts in Locust's request
statistics (request_type ``redis``; response time = latency from the intended start, in ms; successful ones
in batches, ``loadsim.locust.batched_stats``) and is recorded in µs HdrHistograms (``loadsim.results.recorder``).
The worker threads are state machines driven by gevent's event loop (``Worker``), one loop per process.

One ``Engine`` per Locust process and test, owned by the Environment's ``Loadsim`` runtime
(``loadsim.locust.plugin``); nothing here is module-level state.
"""

from __future__ import annotations

import logging
import random
import time
from array import array
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Protocol

import gevent
import gevent.event
import hiredis
from locust.runners import WorkerRunner

from loadsim.config.estate import read_estate_file
from loadsim.config.persistence import PersistenceOptions
from loadsim.config.simulation import SimSettings, run_settings
from loadsim.errors import Address, CutOffError, RedisError, StuckError, reply_error
from loadsim.locust.batched_stats import FLUSH_INTERVAL_S, BatchedStats
from loadsim.locust.scheduler import Scheduler
from loadsim.model import records
from loadsim.model import workload as wl
from loadsim.model.estate import Estate, estate_with_flags
from loadsim.redis.client import WOULD_BLOCK, ClusterClient, Connection, ErrorWindows, WorkerConnections
from loadsim.results.recorder import Recorder

if TYPE_CHECKING:  # imported for the types only
    from locust.env import Environment

    from loadsim.locust.faults import FaultRunner
    from loadsim.locust.migration import MigrationRunner
    from loadsim.model.faults import Fault

log = logging.getLogger("loadsim")
PREFILL = "session.prefill"
STOP_GRACE_S = 5.0  # how long a stopping ORS node waits for its worker threads' operations in flight
# incompressible bytes, read-only; records are slices of it (the model caps every record at this size)
_PAYLOAD = random.Random(0).randbytes(wl.MAX_RECORD_BYTES)


class Pair(Protocol):
    """What the engine reads of an HA pair (``loadsim.locust.users.HaPairUser``; the users import the engine,
    not the other way round)."""

    pair: wl.HaPair
    schedule: wl.PairSchedule | None
    primary: OrsNode | None
    backup: OrsNode | None

    def switchover(self, crash: bool = False) -> None: ...


class OrsNode:
    """One ORS application of an HA pair: ``threads`` worker threads, each owning one connection per master.

    ``dbid`` is the application's own DBID (what the owner record names); ``node_id`` is the pair's ORS
    Node id (the configured primary's DBID), which its session ids carry.

    Due operations arrive by ``submit``; a free worker thread takes the next one (the pre-fill's creates
    first), else it waits in ``pending``. Each worker thread is a ``Worker`` state machine run by gevent's
    event loop (see there), not a greenlet of its own.

    One session's operations never run at once: an ORS session handles its events one after the other and writes
    to Redis from the worker thread that handles them, so its next write starts after its last one is answered.
    An operation of a session that is ``busy`` on this node waits in ``held`` and the worker thread that finishes
    the session's operation takes it next. Before, a session's update and its delete could run on two worker
    threads at once and their commands interleave in Redis: the update's timers record written after the delete
    had removed it, a record left for its whole TTL (2 web-UI tests in 6 beside three CPU hogs left one;
    tests/integration/test_session_order.py)."""

    def __init__(self, engine: Engine, dbid: int, node_id: int):
        self.engine = engine
        self.dbid = dbid
        self.node_id = node_id
        self.cleanup_cursor = b"0"  # index layout: where the periodic cleaning goes on
        self.persists = engine.opts.persists  # this application's [persistence] type is redis
        self.acked: array | None = None  # the pair's acknowledged versions per session (PairSchedule.acked)
        self.recovery: Recovery | None = None  # the recovery this node is doing after a switchover
        self.pending: deque[wl.Op] = deque()  # due operations waiting for a free worker thread
        self.busy: set[str] = set()  # sessions with an operation in flight on this node
        self.held: dict[str, deque[wl.Op]] = {}  # per busy session, its operations due meanwhile, in order
        self.held_count = 0
        self.undeleted: list[str] = []  # sessions whose delete was dropped or cut off when the node stopped
        self.client: ClusterClient | None = None
        self.workers: list[WorkerConnections] = []
        self.threads: list[Worker] = []  # the working node's worker threads (empty: not working)
        self.idle: list[Worker] = []
        self.stopping = False
        # the pair's pre-fill creates (wl.Prefill): the workers take them before the queue, as if they had been
        # queued first, without holding millions of operations in the queue
        self.prefill: Iterator[wl.Op] = iter(())
        self.prefill_left = 0
        self.in_flight: list[wl.Op | None] = []  # per worker thread: the operation it is executing (None: free)

    @property
    def working(self) -> bool:
        return bool(self.threads)

    def connect(self) -> None:
        """Build the cluster client (one ``CLUSTER SLOTS``) and the pool: one connection per master per
        worker thread, opened when the worker first uses it (``--pool-connections lazy``, redis-plus-plus's
        behaviour: an idle backup holds none) or all now (``eager``)."""
        eager = self.engine.settings.pool_connections == "eager"
        self.client = ClusterClient(self.engine.opts, name=f"ors-app-{self.dbid}")
        self.engine.saw_masters(self.client.masters())  # the read-back probes them all if every one died
        self.client.windows = self.engine.error_windows
        self.workers = [self.client.worker(eager) for _ in range(self.engine.params.worker_threads)]

    def start(self) -> None:
        """Become the working (primary) node: start the worker threads; they take what is due already."""
        self.threads = [Worker(self, conns, i) for i, conns in enumerate(self.workers)]
        self.in_flight = [None] * len(self.threads)
        self.idle = list(reversed(self.threads))
        for _ in range(len(self.threads)):
            op = self._next_op()
            if op is None:
                break
            self.idle.pop().begin(op)

    def submit(self, op: wl.Op) -> None:
        """A due operation: a free worker thread starts it now, else it waits for one (or, while its session has
        an operation in flight, for that one)."""
        if op.sid in self.busy:
            self._hold(op)
        elif self.idle and not self.stopping:
            self.idle.pop().begin(op)
        else:
            self.pending.append(op)

    def _hold(self, op: wl.Op) -> None:
        held = self.held.get(op.sid)
        if held is None:
            held = self.held[op.sid] = deque()
        held.append(op)
        self.held_count += 1

    def _next_op(self) -> wl.Op | None:
        """What a worker thread that became free takes next: the pre-fill's creates, then the queue (an operation
        of a session busy on this node is held for it on the way)."""
        if self.stopping:
            return None
        if self.prefill_left:
            self.prefill_left -= 1
            op = next(self.prefill)
            op.kind = PREFILL
            return op
        pending, busy = self.pending, self.busy
        while pending:
            op = pending.popleft()
            if op.sid not in busy:
                return op
            self._hold(op)
        return None

    def _after(self, sid: str) -> wl.Op | None:
        """What the worker thread that finished an operation of session ``sid`` takes next: the session's next
        operation (due while it ran: the session goes on), else the node's next."""
        held = self.held.get(sid)
        if not held:
            self.busy.discard(sid)
        elif not self.stopping:  # a stopping node keeps it held: its stop counts it with the queue
            op = held.popleft()
            if not held:
                del self.held[sid]
            self.held_count -= 1
            return op
        return self._next_op()

    @property
    def queued(self) -> int:
        """Operations waiting for a worker thread or for their session's operation in flight (pre-fill creates
        not yet taken not included)."""
        return len(self.pending) + self.held_count

    def stop(self, grace_s: float = STOP_GRACE_S) -> int:
        """Stop working and drop the pool; returns how many operations were not executed (lost with this node).

        Workers are not killed mid-operation: each finishes what it is doing (up to ``grace_s``), so
        every command Redis executed is also counted by the client."""
        self.stopping = True
        # the engine's stop already waited its grace for every node at once (Engine._stopping): not again per node,
        # which made the end of a run with a silent master 5 s longer than documented
        deadline = min(time.perf_counter() + grace_s, self.engine.stop_deadline)
        while any(t.op is not None for t in self.threads) and time.perf_counter() < deadline:
            gevent.sleep(0.005)
        count_stuck(self.engine, self.in_flight, cut_off=grace_s <= 0)
        held = [op for ops in self.held.values() for op in ops]
        self.engine.recorder.unsent(len(self.pending) + len(held) + self.prefill_left)
        # operations cut off in flight (a crash, or a worker stuck without a socket timeout): Redis may or may
        # not have executed them; they are lost with this node like the queued ones
        # deletes that never ran: their sessions left the schedule when the delete was due, so only these ids
        # say which keys stay in Redis (Engine.delete_sessions removes them before a next test)
        self.undeleted.extend(op.sid for op in (*self.pending, *held, *self.in_flight)
                              if op is not None and op.kind == wl.DELETE)
        in_flight = sum(t.cut_off() for t in self.threads)
        self.threads, self.idle, self.in_flight = [], [], [None] * len(self.in_flight)
        self.stopping = False
        dropped = in_flight + len(self.pending) + len(held) + self.prefill_left
        self.pending = deque()
        self.busy, self.held, self.held_count = set(), {}, 0
        self.prefill, self.prefill_left = iter(()), 0
        self.engine.retire_client(self)
        for w in self.workers:
            w.close()
        if self.client is not None:
            self.client.close()
        self.workers, self.client = [], None
        return dropped

    def commands(self, op: wl.Op) -> list[wl.Command]:
        """The Redis commands of one operation (none for a cleanup step: it reads as it goes)."""
        if op.kind == wl.CLEANUP:
            return []
        eng = self.engine
        payload = _PAYLOAD
        # every record carries its session's write count and a checksum (loadsim.model.records)
        session = records.record(payload, eng.body_crc, op.sid, op.version, op.session_size) \
            if op.session_size else None
        timers = records.record(payload, eng.body_crc, op.sid, op.version, op.timer_size) \
            if op.timer_size else None
        return wl.commands_for(eng.layout, op.kind if op.kind != PREFILL else wl.CREATE, op.sid,
                               self.dbid, session, timers, op.ttl_ms or eng.ttl_ms, eng.records, op.record)

    def execute(self, op: wl.Op, conn: WorkerConnections) -> None:
        """Execute one operation synchronously (the worker thread's greenlet path, see ``Worker``)."""
        if op.kind == wl.RECOVER:
            self._recover(op, conn)
            return
        commands = self.commands(op)
        done_ok = 0
        sent = time.perf_counter()
        try:
            for cmd in commands:
                conn.execute(cmd[1], *cmd)
                done_ok += 1
            if op.kind == wl.CLEANUP:
                done_ok = self._clean_index(conn, op.sid)
        except RedisError as exc:
            self.finished(op, sent, done_ok, exc)
            return
        self.finished(op, sent, done_ok, None)

    def finished(self, op: wl.Op, sent: float, done_ok: int, error: RedisError | None) -> None:
        """Account for one operation whose last command got its reply (or failed): acknowledged versions,
        the recorder, Locust's request event, the pre-fill's progress."""
        eng = self.engine
        rec = eng.recorder
        end = time.perf_counter()
        if error is not None:
            rec.error(op.kind, error.kind, done_ok, steady=op.kind != PREFILL and op.due >= eng.steady_from)
            if op.kind == PREFILL:
                eng.prefill_done(end)  # a failed pre-fill write still ends its part of the pre-fill
                return
            if op.due >= eng.steady_from:
                eng.fire(request_type="redis", name=op.kind, response_time=(end - op.due) * 1000.0,
                         response_length=0, exception=error, context={})
            return
        if op.version:  # Redis acknowledged this write of the session
            self.acked[op.seq - 1] = records.acknowledge(self.acked[op.seq - 1], op.version)
        elif op.kind == wl.DELETE and op.seq:
            self.acked[op.seq - 1] = records.ENDED
        if op.kind == PREFILL:
            rec.not_measured(PREFILL, done_ok)
            eng.prefill_done(end)
        elif op.due >= eng.steady_from:
            rec.record(op.kind, (end - sent) * 1e6, (end - op.due) * 1e6, done_ok)
            # Locust's statistics (web UI, --csv, --html) cover the steady window only, as the summary's
            # percentiles do: the pre-fill and the backlog behind it would otherwise dominate them.
            eng.batched.ok(op.kind, (end - op.due) * 1000.0, op.session_size + op.timer_size)
        else:
            rec.not_measured(op.kind, done_ok)

    def _recover(self, op: wl.Op, conn: WorkerConnections) -> None:
        """Restore one session after a switchover: read its records, check the session record against the last
        acknowledged write, write this application as its owner."""
        eng, state = self.engine, self.recovery
        layout, rec, clock = eng.layout, eng.recorder, time.perf_counter
        # the records read back, then the new owner: the list the sizing's latency counts (workload.recovery_commands)
        commands = wl.recovery_commands(layout, op.sid, self.dbid, eng.ttl_ms, eng.records)
        ok = 0
        sent = clock()
        try:
            first = conn.execute(commands[0][1], *commands[0])
            ok += 1
            for cmd in commands[1:]:
                conn.execute(cmd[1], *cmd)
                ok += 1
        except RedisError as exc:
            rec.error(wl.RECOVER, exc.kind, ok)
            eng.fire(request_type="redis", name=wl.RECOVER, response_time=(clock() - op.due) * 1000,
                     response_length=0, exception=exc, context={})
            if state is not None:
                state.failed += 1
                state.one_done()
            return
        end = clock()
        rec.record(wl.RECOVER, (end - sent) * 1e6, (end - op.due) * 1e6, ok)
        eng.fire(request_type="redis", name=wl.RECOVER, response_time=(end - op.due) * 1000, response_length=0,
                 exception=None, context={})
        if state is not None:
            value = first[0] if layout.name == "single-hash" else first
            acked = self.acked[op.seq - 1] if self.acked is not None and op.seq else 0
            # no other operation of the session runs on this node meanwhile (OrsNode): what was acknowledged
            # before the read is what is acknowledged now
            verdict = ("never_acknowledged" if not acked else records.ENDED_VERDICT if acked == records.ENDED
                       else records.check(op.sid, value, acked))
            state.verdicts[verdict] += 1
            state.recovered.add(op.sid)
            state.one_done()

    def _clean_index(self, conn: WorkerConnections, prefix: str) -> int:
        """One step of the index layout's periodic cleaning: HSCAN the next ``cleanup_batch`` entries of this
        pair's sessions, check each body (EXISTS), and HDEL the entries whose body is gone (expired: a
        session nobody deleted). Returns the Redis commands sent; the cursor carries on next period."""
        eng = self.engine
        layout = eng.layout
        index = layout.hash_key
        cursor, items = conn.execute(index, "HSCAN", index, self.cleanup_cursor, "MATCH", prefix + "*",
                                     "COUNT", eng.params.cleanup_batch)
        self.cleanup_cursor = cursor
        sent = 1
        gone = []
        for sid in items[0::2]:
            body = layout.key("session", sid.decode())
            sent += 1
            if not conn.execute(body, "EXISTS", body):
                gone.append(sid)
        if gone:
            conn.execute(index, "HDEL", index, *gone)
            sent += 1
            eng.recorder.cleaned_index(len(gone))
        return sent


_SYNCHRONOUS = (wl.RECOVER, wl.CLEANUP)  # operations a worker thread runs with the synchronous client


class Worker:
    """One ORS worker thread as a state machine: one operation at a time, its commands one after the other,
    each sent when the previous reply came (synchronous, as an ORS worker thread: no pipelining, one
    connection per master).

    Why not a greenlet per worker thread blocking on gevent's sockets: each reply then costs a watcher
    started and stopped and two greenlet switches through the hub. Here the commands are sent with the
    socket's own non-blocking ``send`` and the reply read by a read watcher's callback, inside gevent's loop
    (so Locust's greenlets keep running beside). Measured, 1 KB SETs over 40 workers x 3 masters: 34 -> 16 us
    of client CPU per command.

    Whatever is not the plain path runs in a greenlet with the synchronous client, exactly as before:
    recovery and cleanup operations, a connection not open yet (opening blocks), a stale slot map, a send
    that would block, a socket timeout configured, and the rest of an operation after a first try failed
    (error reply or socket error: ``WorkerConnections.resume`` goes on with redis-plus-plus's reload, retry
    and ASKING from there)."""

    __slots__ = ("node", "conns", "index", "op", "commands", "at", "sent", "conn", "slot", "address",
                 "greenlet", "timeout", "on_readable")

    def __init__(self, node: OrsNode, conns: WorkerConnections, index: int):
        self.node = node
        self.conns = conns
        self.index = index
        self.op: wl.Op | None = None
        self.commands: list[wl.Command] = []
        self.at = 0  # index of the command in progress: also how many of the operation's commands succeeded
        self.sent = 0.0
        self.conn: Connection | None = None  # waiting for a reply on it (event-loop path)
        self.slot = 0
        self.address: Address = ("", 0)
        self.greenlet: gevent.Greenlet | None = None
        # no timer per command on the event-loop path: with a socket timeout every operation takes the
        # synchronous path, whose socket enforces it
        self.timeout = bool(node.engine.opts.redis_socket_timeout)
        self.on_readable = self._readable  # the watcher's callback: one bound method, not a new one per send

    def begin(self, op: wl.Op) -> None:
        node = self.node
        self.op = node.in_flight[self.index] = op
        node.busy.add(op.sid)
        if op.kind in _SYNCHRONOUS or self.timeout:
            self.greenlet = gevent.spawn(self._synchronous, op)
            return
        self.commands = self.node.commands(op)
        self.at = 0
        self.sent = time.perf_counter()
        self._send()

    def _synchronous(self, op: wl.Op) -> None:
        self.node.execute(op, self.conns)
        self.greenlet = None
        self._next()

    def _send(self) -> None:
        """Send the command in progress from the event loop, or hand the operation's rest to a greenlet."""
        cmd = self.commands[self.at]
        wired = self.conns.wire(cmd)
        if wired is None:
            self.greenlet = gevent.spawn(self._rest, None)
            return
        conn, self.slot, self.address, data = wired
        try:
            n = conn.nb_send(data)  # type: ignore[misc]
        except WOULD_BLOCK:
            n = 0
        except Exception as exc:  # noqa: BLE001 - a socket error: the first try failed
            self.greenlet = gevent.spawn(self._rest, exc)
            return
        if n < len(data):  # the socket buffer is full (never seen on loopback): finish this try blocking
            self.greenlet = gevent.spawn(self._finish_send, conn, data[n:])
            return
        self.conn = conn
        watcher = conn.watcher
        if watcher is None:
            watcher = conn.watcher = gevent.get_hub().loop.io(conn.sock.fileno(), 1)
        # The watcher stays started after its reply (stopped only when the synchronous path takes over, or its
        # connection closes): stopping it and starting it again one poll later cost libev an epoll_ctl each time
        # (0.71 a command, strace, 5,000 operations/s). Started again here on every send, with this worker's
        # callback: a no-op for libev when it is started already.
        watcher.start(self.on_readable, conn)

    def _readable(self, conn: Connection) -> None:
        """The read watcher's callback (in gevent's hub): read the reply of the command in progress on ``conn``."""
        if conn is not self.conn:
            # not the connection this worker waits on (the synchronous path is reading it, or the worker is done):
            # silence its watcher until the next send on it
            if conn.watcher is not None:
                conn.watcher.stop()
            return
        reader, buf = conn.reader, conn.buf
        try:
            while True:  # TLS may hold more of the reply than the socket shows: read until it would block
                n = conn.nb_recv_into(buf)  # type: ignore[misc]
                if not n:
                    raise ConnectionResetError("connection closed by the server")
                reader.feed(buf, 0, n)
                reply = reader.gets()
                if reply is not False:
                    break
        except WOULD_BLOCK:
            return
        except Exception as exc:  # noqa: BLE001 - a socket or protocol error: the first try failed
            self._waited(conn)
            self.greenlet = gevent.spawn(self._rest, exc)
            return
        if isinstance(reply, hiredis.ReplyError):
            self._waited(conn)
            self.greenlet = gevent.spawn(self._rest, reply_error(str(reply)))
            return
        self.conn = None  # its watcher stays started (see _send)
        self.conns.succeeded(self.slot)
        at = self.at = self.at + 1
        if at < len(self.commands):
            self._send()
        else:
            self._done(None)

    def _waited(self, conn: Connection) -> None:
        self.conn = None
        if conn.watcher is not None:
            conn.watcher.stop()

    def _finish_send(self, conn: Connection, rest: bytes) -> None:
        try:
            conn.sock.sendall(rest)
            conn.read()
        except RedisError as exc:
            self._rest(exc)
            return
        except Exception as exc:  # noqa: BLE001 - a socket error: the first try failed
            self._rest(exc)
            return
        self.conns.succeeded(self.slot)
        self.at += 1
        self._rest(None, first_done=True)

    def _rest(self, error: BaseException | None, first_done: bool = False) -> None:
        """In a greenlet: the command in progress (its first try failed with ``error``, or, with None, not
        tried yet) and the operation's remaining commands, synchronously."""
        conns, cmds = self.conns, self.commands
        try:
            if error is not None:
                cmd = cmds[self.at]
                conns.resume(self.slot, self.address, cmd, error)
                self.at += 1
            while self.at < len(cmds):
                cmd = cmds[self.at]
                conns.execute(cmd[1], *cmd)
                self.at += 1
        except RedisError as exc:
            self.greenlet = None
            self._done(exc)
            return
        self.greenlet = None
        self._done(None)

    def _done(self, error: RedisError | None) -> None:
        op = self.op
        assert op is not None
        self.node.finished(op, self.sent, self.at, error)
        self._next()

    def _next(self) -> None:
        done, self.op = self.op, None
        node = self.node
        if not node.threads or node.threads[self.index] is not self:
            return  # the node stopped meanwhile
        node.in_flight[self.index] = None
        op = node._after(done.sid) if done is not None else node._next_op()
        if op is None:
            node.idle.append(self)
        else:
            self.begin(op)

    def cut_off(self) -> bool:
        """The node stops now: abandon the operation in progress. True if there was one."""
        if self.conn is not None:
            self._waited(self.conn)
        if self.greenlet is not None:
            greenlet, self.greenlet = self.greenlet, None
            greenlet.kill(block=True)
        busy = self.op is not None
        self.op = None
        return busy


class Engine:
    """Per-process state shared by the HA-pair users: options, model parameters, recorder."""

    def __init__(self, environment: Environment, opts: PersistenceOptions, params: wl.WorkloadParams,
                 sim: dict[str, Any], estate: Estate | None = None, faults: tuple[Fault, ...] = (),
                 audit: dict[str, Any] | None = None, on_steady: Callable[[], None] | None = None):
        self.environment = environment
        self._on_steady = on_steady  # told when a test's steady window starts (the run's lifecycle)
        self.opts = opts
        self.params = params
        self.estate = estate  # --estate: pairs differ (each pair's workload from its group)
        self.faults: tuple[Fault, ...] = tuple(faults)  # --fault schedule
        self.fault_runner: FaultRunner | None = None  # of the current test (start_runners)
        self.migration: MigrationRunner | None = None  # scenarios/migration.py (start_runners)
        self.error_windows = ErrorWindows()  # first failure to first success, per master
        self.body_crc = records.BodyCrc(_PAYLOAD)
        self.readback: dict[str, Any] | None = None  # the read-back after the test (set_readback)
        self.audit: dict[str, Any] | None = audit  # the cluster audit before the test (plugin.audit_cluster)
        self.known_masters: set[Address] = set()  # every master an ORS node's slot map named at its connect
        self.sim = sim  # the converted values: given, or the scenario's defaults
        self.settings = run_settings(sim)  # what a running test reads of them, typed
        self.layout = wl.KeyLayout(params.key_layout, params.ors_cluster_name)
        self.ttl_ms = params.session_ttl_s * 1000
        self.records = params.complexity.records
        self.recorder = Recorder()
        self.fire = environment.events.request.fire  # failed operations, one by one
        self.batched = BatchedStats(environment)  # successful ones, into Locust's statistics in batches
        self.stats_due = 0.0  # when the scheduler flushes the batch next (perf_counter)
        self.scheduler = Scheduler(self)  # releases every pair's due operations (loadsim.locust.scheduler)
        environment.events.test_stopping.add_listener(self._stopping)
        environment.events.spawning_complete.add_listener(self._all_pairs_started)
        self._started_pairs: int | None = None  # this process's pairs once Locust has started them all (None: not yet)
        self._test_stopping = False  # Locust is stopping this engine's test
        self.pairs: list[Pair] = []  # every pair of this process (add_pair)
        self.stop_deadline = float("inf")  # set when the test stops: a stopping node waits for its workers until then
        self._next_pair = 0
        self._pair_base = 0  # 1000: a Locust worker's pairs numbered worker x 1000 + i (next_pair says when)
        self.start_perf = time.perf_counter()
        self.id_base = wl.run_id_base(time.time())
        self.steady_from = float("inf")
        self.prefill_pending = 0
        self._steady_start: gevent.Greenlet | None = None  # waits for the pre-fill's drain and --warmup
        self.ready_wall: float | None = None  # a Locust worker: when its pre-fill was drained (the master decides)
        self.recovery: list[dict[str, Any]] = []
        self._retired = dict.fromkeys(CLIENT_STATS, 0)

    def reset(self, params: wl.WorkloadParams) -> None:
        """A new test (Locust test_start): fresh recorder and clocks."""
        self.params = params
        self.records = params.complexity.records
        self.recorder = Recorder()
        self.recorder.record_histograms = True
        self.batched = BatchedStats(self.environment)
        self.batched.hold = bool(params.prefill)  # until the steady window starts (_start_steady_window)
        self.stats_due = 0.0
        self.scheduler.stop()
        self.scheduler = Scheduler(self)
        self.pairs, self._next_pair = [], 0
        self.start_perf = time.perf_counter()
        self.id_base = wl.run_id_base(time.time())  # this test's session numbers: never an earlier run's ids
        self.steady_from = float("inf") if params.prefill else self.start_perf + self.settings.warmup_s
        self.prefill_pending = 0
        self._cancel_steady_start()  # an earlier test's wait on this engine
        self._started_pairs, self._test_stopping = None, False
        self.ready_wall = None
        self.recovery = []
        self._retired = dict.fromkeys(CLIENT_STATS, 0)
        self.error_windows = ErrorWindows()
        self.stop_deadline = float("inf")

    # ------------------------------------------------------------- what the pairs and the runtime tell the engine
    def add_pair(self, pair: Pair, prefill_creates: int) -> None:
        """An HA pair started: it is one of this process's pairs. ``prefill_creates``: the pre-fill creates its
        primary will make (0: none to make, its pre-fill counts as written at once)."""
        self.pairs.append(pair)
        if not self.params.prefill:
            return
        self.prefill_pending += max(1, prefill_creates)
        if not prefill_creates:
            self.prefill_done(time.perf_counter())
        self._steady_window_may_start()

    def schedule_pair(self, pair: Pair) -> None:
        """A pair's user is running: the process's scheduler releases its operations from now on."""
        self.scheduler.add(pair)

    def unschedule_pair(self, pair: Pair) -> None:
        """A pair's user stops: nothing more of it is released."""
        self.scheduler.remove(pair)

    def saw_masters(self, masters: Iterable[Address]) -> None:
        """The masters an ORS node's slot map named at its connect (the read-back probes them all if every one
        died)."""
        self.known_masters.update(masters)

    def add_recovery(self, entry: dict[str, Any]) -> None:
        """A switchover began: its recovery entry (completed in place by the pair as the sessions come back)."""
        self.recovery.append(entry)

    def start_runners(self, fault_runner: FaultRunner | None, migration: MigrationRunner | None) -> None:
        """The current test's fault schedule and migration runbook (either may be None), started now."""
        self.fault_runner, self.migration = fault_runner, migration
        for runner in (fault_runner, migration):
            if runner is not None:
                runner.start()

    def stop_runners(self) -> None:
        """No fault after the end (a paused node is resumed), no migration step either."""
        if self.fault_runner is not None:
            self.fault_runner.stop()
        if self.migration is not None:
            self.migration.stop()

    def set_readback(self, result: dict[str, Any] | None) -> None:
        """The read-back of this process's live sessions after the test (or why it was not done)."""
        self.readback = result

    def steady_no_earlier_than(self, steady: float) -> None:
        """With Locust workers: the master's steady window starts when the last worker's did (perf_counter)."""
        if self.steady_from == float("inf") or steady > self.steady_from:
            self.steady_from = steady

    def next_pair(self) -> wl.HaPair:
        """This process's next HA pair, numbered as in one process. Locust worker w of N (``--processes N``, or the
        master's ``--expect-workers N``, which Locust hands its workers) takes pairs w, w + N, w + 2N ...: Locust deals
        the users out one worker at a time, so the workers run the local run's pairs 0 .. P-1, with their node ids,
        seeds and schedules (before: w x 1000 + i, other draws than the local run's: live sessions 3,650 against
        3,570 locally at Little's law 3,600, in every repeat). A worker whose index is past the count it was told takes
        w x 1000 + i (never another worker's node ids)."""
        local = self._next_pair
        self._next_pair += 1
        runner = self.environment.runner
        if not isinstance(runner, WorkerRunner):
            return wl.HaPair(local)
        workers = int(getattr(self.environment.parsed_options, "expect_workers", 0) or 0)
        if 0 <= runner.worker_index < workers:
            return wl.HaPair(runner.worker_index + workers * local)
        self._pair_base = 1000
        return wl.HaPair(1000 * runner.worker_index + local)

    def pair_params(self, pair: wl.HaPair) -> wl.WorkloadParams:
        """The workload of one pair: its estate group's, else the run's."""
        if self.estate is None:
            return self.params
        return self.estate.group_of(pair.index % self._pair_base if self._pair_base else pair.index).params

    def describe(self) -> dict[str, Any]:
        """The workload for config.json and the summary; with an estate, totals over the pairs run."""
        d = self.params.describe()
        if self.estate is not None:
            n = self.params.ha_pairs
            groups = [self.estate.group_of(i).params for i in range(n)]
            d.update(estate=self.estate.source, estate_groups=self.estate.describe()["groups"],
                     expected_live_sessions=sum(p.expected_live_sessions for p in groups),
                     expected_ops_per_s=sum(p.expected_ops_per_s for p in groups),
                     cps_per_pair=sum(p.cps_per_pair for p in groups) / n,
                     mean_lifetime_s=sum(p.mean_lifetime_s * p.voice_cps_per_pair for p in groups)
                     / max(1e-12, sum(p.voice_cps_per_pair for p in groups)))
        return d

    def prefill_done(self, now: float) -> None:
        self.prefill_pending -= 1
        self._steady_window_may_start()

    def _all_pairs_started(self, **_kw: Any) -> None:
        """Locust's spawning_complete: every HA pair of the test is started (on a Locust worker, the master says so
        once every worker has started its own); those of this process are its user greenlets."""
        if self._started_pairs is None:
            self._started_pairs = self.environment.runner.user_count if self.environment.runner is not None else 0
            self._steady_window_may_start()

    def _steady_window_may_start(self) -> None:
        """The steady window's wait begins once every pair of the test is started and every pre-fill write done.

        Not at the first moment no pre-fill write was outstanding: with a ramp-up slower than the pairs (the web
        form's "Ramp up", Locust's -r), the first pair's pre-fill was written before the second pair started, the
        window began there, and the later pairs' pre-fills were written inside it (9 pairs at 3 a second from the web
        form: the window from 0.5 s, 5.96 commands per operation in it against 1.87, latency p99 0.2-0.25 s, live
        sessions 7,478 steady mean against 8,100; now from 2.4 s, 1.87, p99 2.1-2.9 ms, 8,098)."""
        if (self.params.prefill and self._steady_start is None and not self._test_stopping
                and self.steady_from == float("inf")
                and self.prefill_pending == 0 and self.pairs and self._started_pairs is not None
                and len(self.pairs) >= self._started_pairs):
            self._steady_start = gevent.spawn(self._start_steady_window)

    def pairs_expected(self) -> int:
        """The HA pairs Locust starts in this process for the current test (its target user count; 0: unknown)."""
        return int(getattr(getattr(self.environment, "runner", None), "target_user_count", 0) or 0)

    def _start_steady_window(self) -> None:
        """Statistics start once the pre-fill is written AND the operations that queued up behind it
        are done (queues back to at most one operation per worker), and after --warmup.

        A Locust worker does not start its window itself: it reports when it is ready (``ready_wall``) and the
        master names one start for every worker (``begin_steady_at_wall``). Each worker starting its own window
        counted operations from its own start while the master divided them by the window from the last
        worker's: offered 471 against 448 operations/s in one process, in 2 runs of 3."""
        limit = max(1, len(self.pairs)) * self.params.worker_threads
        deadline = time.perf_counter() + 600
        while self.queue_depth > limit and time.perf_counter() < deadline:
            gevent.sleep(0.05)
        ready = max(time.perf_counter(), self.start_perf + self.settings.warmup_s)
        if isinstance(getattr(self.environment, "runner", None), WorkerRunner):
            self.ready_wall = time.time() + (ready - time.perf_counter())
            log.info("pre-fill written and drained at %.1f s; the master names the steady window's start",
                     ready - self.start_perf)
            return
        self._begin_steady(ready)

    def begin_steady_at_wall(self, wall: float) -> None:
        """A Locust worker: the master's one start of the steady window (wall clock; now if it has passed)."""
        if self.steady_from == float("inf") and not self._test_stopping:
            now = time.perf_counter()
            self._steady_start = gevent.spawn(self._begin_steady, max(now, now + (wall - time.time())))

    def _begin_steady(self, steady: float) -> None:
        self.steady_from = steady
        log.info("pre-fill written and drained; statistics from %.1f s", self.steady_from - self.start_perf)
        if self._on_steady is not None:
            self._on_steady()
        gevent.sleep(max(0.0, self.steady_from - time.perf_counter()))
        runner = getattr(self.environment, "runner", None)
        if runner is not None:
            runner.stats.reset_all()  # Locust's clocks (rates, charts) start with the steady window too
        self.batched.hold = False  # what completed in the window since it started goes in from now on
        self.batched.flush()

    def _stopping(self, **_kw: Any) -> None:
        """Locust stops the users: the worker threads take nothing new and finish what they are doing (up to
        ``STOP_GRACE_S``), then everything done is in Locust's statistics before its ``test_stop``: its request
        counts, CSV and HTML equal the summary's. What finishes after that (a stuck operation) goes in at once."""
        nodes = [p.primary for p in self.pairs if p.primary is not None and p.primary.working]
        for node in nodes:
            node.stopping = True
        deadline = self.stop_deadline = time.perf_counter() + STOP_GRACE_S
        while any(op is not None for n in nodes for op in n.in_flight) and time.perf_counter() < deadline:
            gevent.sleep(0.005)
        self.batched.hold = False
        self.batched.flush()
        self.batched.direct = True
        self._test_stopping = True  # no steady window begins after this
        self._cancel_steady_start()

    def _cancel_steady_start(self) -> None:
        """A test that stops before its steady window began (in the pre-fill's drain or in --warmup) ends that wait
        here: left alone it woke up later, inside the next test of the web UI, and reset Locust's statistics there
        (seen: a first test with --warmup 20 stopped at 3 s, a second with --warmup 0 run 24 s: Locust's tables and
        CSV counted 913 operations of the second test where its summary counted 2,674)."""
        greenlet, self._steady_start = self._steady_start, None
        if greenlet is not None and not greenlet.dead:
            greenlet.kill()

    def retire(self) -> None:
        """This engine's test is over and another engine takes the next one (the web UI's new test, a new start on
        the command line): it stops listening to Locust's events and ends any wait for a steady window."""
        self._cancel_steady_start()
        self.environment.events.test_stopping.remove_listener(self._stopping)
        self.environment.events.spawning_complete.remove_listener(self._all_pairs_started)

    def flush_stats(self, now: float) -> None:
        """Successful operations into Locust's statistics (the scheduler calls it every FLUSH_INTERVAL_S)."""
        self.batched.flush()
        self.stats_due = now + FLUSH_INTERVAL_S

    def delete_sessions(self) -> int:
        """Delete from Redis every session this engine's pairs still hold (what a finished test leaves
        behind), so that the next test in this process starts from a clean keyspace. Returns how many."""
        sids = [sid for p in self.pairs if p.schedule is not None for sid in p.schedule.sessions()]
        # and those whose delete was due but never ran (queued or in flight when the test stopped): seen as 3 keys
        # of the previous test at the next test's first sample
        sids += [sid for p in self.pairs for node in (p.primary, p.backup) if node is not None
                 for sid in node.undeleted]
        if not sids or not self.opts.persists:
            return 0
        client = ClusterClient(self.opts, name="loadsim-cleanup")
        conn = client.worker()
        try:
            for sid in sids:
                for cmd in wl.commands_for(self.layout, wl.DELETE, sid, 0, None, None, self.ttl_ms, self.records):
                    conn.execute(cmd[1], *cmd)
        finally:
            conn.close()
            client.close()
        return len(sids)

    def retire_client(self, node: OrsNode) -> None:
        """A node drops its pool (stop, switchover): keep its client's counters in the totals."""
        for k, v in _client_counts(node).items():
            self._retired[k] += v

    def client_stats(self) -> dict[str, int]:
        """The cluster clients' counters of this process and test, every ORS node (stopped ones too)::

            slot_refreshes     CLUSTER SLOTS reloads done (one per ORS node at connect, then after failures)
            refresh_errors     reloads no node answered
            refreshes_skipped  reloads a failing command asked for within the rate limit (it failed at once)
            connections_opened connections opened by worker threads (lazily on first use, or eagerly)
            reconnects         of those, re-opened after an error dropped the worker's previous one
            moved, asked       MOVED / ASK redirections followed
        """
        out = dict(self._retired)
        for p in self.pairs:
            for node in (p.primary, p.backup):
                if node is not None:
                    for k, v in _client_counts(node).items():
                        out[k] += v
        return out

    @property
    def live_sessions(self) -> int:
        return sum(p.schedule.live for p in self.pairs if p.schedule is not None)

    @property
    def queue_depth(self) -> int:
        """Operations waiting for a worker thread, the pre-fill creates not yet taken included."""
        return sum(p.primary.queued + p.primary.prefill_left for p in self.pairs if p.primary is not None)


CLIENT_STATS = ("slot_refreshes", "refresh_errors", "refreshes_skipped", "connections_opened", "reconnects", "moved",
                "asked")


def count_stuck(eng: Engine, in_flight: list[wl.Op | None], cut_off: bool = False) -> int:
    """Operations still in flight after a graceful stop's grace period: stuck on a node that never answered (no
    socket timeout, as ORS's default). Each is an error of kind ``stuck``, with its time so far in the latency
    figures. A crash (``cut_off``: no grace) cuts operations off instead: errors of kind ``cut_off`` (Redis may or
    may not have executed them), as are a pre-fill create, a restore or a cleaning step left in flight, so that
    every operation sent is ok or an error. Kept apart from the worker loop on purpose: it only reads the in-flight
    table when a node stops."""
    now = time.perf_counter()
    ops = [op for op in in_flight if op is not None]
    stuck = [] if cut_off else [op for op in ops if op.kind not in (PREFILL, wl.RECOVER, wl.CLEANUP)]
    for op in ops:
        steady = op.kind != PREFILL and op.due >= eng.steady_from
        if op in stuck:
            eng.recorder.stuck(op.kind, (now - op.due) * 1e6, steady)
            error: RedisError = StuckError(f"no reply after {now - op.due:.1f} s: the node never answered")
        else:
            eng.recorder.error(op.kind, CutOffError.kind, 0, steady)
            error = CutOffError("cut off: its ORS node stopped before the reply")
        if steady:  # Locust's tables count what the summary counts
            eng.fire(request_type="redis", name=op.kind, response_time=(now - op.due) * 1000.0, response_length=0,
                     exception=error, context={})
    if stuck:
        log.warning("%d operation(s) stuck without a reply when their ORS node stopped (the oldest waited %.1f s): "
                    "counted as errors of kind 'stuck'", len(stuck), max(now - op.due for op in stuck))
    return len(stuck)


def _client_counts(node: OrsNode) -> dict[str, int]:
    """The counters of one ORS node's current client and workers (zeros without a pool)."""
    c, ws = node.client, node.workers
    return {"slot_refreshes": c.refreshes if c else 0, "refresh_errors": c.refresh_errors if c else 0,
            "refreshes_skipped": c.refreshes_skipped if c else 0,
            "connections_opened": sum(w.opened for w in ws), "reconnects": sum(w.reconnects for w in ws),
            "moved": sum(w.moved for w in ws), "asked": sum(w.asked for w in ws)}


class Recovery:
    """One pair's recovery after a switchover: the new primary's worker threads restore the sessions found
    in Redis in parallel, interleaved with the new calls that keep arriving (``session.recover`` operations
    in its queue). Each restored session's record is checked against the last write Redis acknowledged."""

    def __init__(self, found: int):
        self.pending = found
        self.recovered: set[str] = set()
        self.failed = 0
        self.verdicts: Counter[str] = Counter()
        self.finished: float | None = None
        self.done = gevent.event.Event()
        if found == 0:
            self._finish()

    def one_done(self) -> None:
        self.pending -= 1
        if self.pending <= 0:
            self._finish()

    def _finish(self) -> None:
        self.finished = time.perf_counter()
        self.done.set()


def find_sessions(eng: Engine, node: OrsNode) -> list[str] | None:
    """The sessions of the node's ORS Node id in Redis (SCAN, or HSCAN of the hash / index, by the node id in
    the session id); None if the scan failed twice (a master may have failed over since the slot map was
    read: the map is reloaded once)."""
    assert node.workers
    conn = node.workers[0]
    layout, rec = eng.layout, eng.recorder
    pattern = layout.scan_pattern(node.node_id)
    before = conn.commands_ok
    for attempt in range(2):
        keys = conn.hscan(layout.hash_key, pattern) if layout.name in ("single-hash", "index") else conn.scan(pattern)
        try:
            found = [layout.sid_from_key(k) for k in keys]
            rec.count_commands(conn.commands_ok - before)  # SCAN / HSCAN calls, for the server cross-check
            return found
        except RedisError as exc:
            if attempt == 0:
                try:
                    conn.client.refresh_slots()
                    continue
                except RedisError:
                    pass
            rec.due += 1  # the scan is an operation of its own, due and failed
            rec.error(wl.RECOVER, exc.kind, conn.commands_ok - before)
            # counted in Locust's statistics too, so that its request count equals the summary's (no latency)
            eng.fire(request_type="redis", name=wl.RECOVER, response_time=None, response_length=0, exception=exc,
                     context={})
            log.warning("recovery scan of ORS node %s failed: %s", node.node_id, exc)
    return None


# simulation option (dest) -> WorkloadParams field
_PARAM_FIELDS = {"cps_per_pair": "cps_per_pair", "aht": "aht_s", "session_ttl": "session_ttl_s",
                 "digital_share": "digital_share", "worker_threads": "worker_threads", "key_layout": "key_layout",
                 "seed": "seed", "prefill": "prefill", "routed_share": "routed_share", "routing_time": "routing_s",
                 "extended_share": "extended_share", "extended_time": "extended_s", "leaked_share": "leaked_share",
                 "cleanup_period": "cleanup_period_s", "cleanup_batch": "cleanup_batch"}
# simulation option (dest) -> Complexity field
_COMPLEXITY_FIELDS = {"record_bytes": "record_bytes", "record_sigma": "record_sigma",
                      "updates_per_session": "updates_per_session", "timer_share": "timer_share",
                      "timer_bytes": "timer_bytes", "records_per_session": "records"}


def workload_params(s: SimSettings, ha_pairs: int, cluster_name: str) -> wl.WorkloadParams:
    """WorkloadParams from the run's typed settings (scenario defaults + explicit options); a preset's field is
    overridden by an option given (not None)."""
    c = wl.preset(s.complexity)
    overrides = {f: getattr(s, v) for v, f in _COMPLEXITY_FIELDS.items() if getattr(s, v) is not None}
    if {k: v for k, v in overrides.items() if getattr(c, k) != v}:
        c = replace(c, name=c.name + "+custom", source=c.source + "; overridden on the command line", **overrides)
    kw = {f: getattr(s, v) for v, f in _PARAM_FIELDS.items()}
    return wl.WorkloadParams(ors_cluster_name=cluster_name, ha_pairs=ha_pairs, complexity=c, **kw)


def estate_for(s: SimSettings, given: dict[str, Any], base: wl.WorkloadParams) -> Estate | None:
    """The estate of ``--estate`` (None without one), with the explicitly given options applied to every
    group (``given``: the simulation values the user set, as opposed to defaults)."""
    path = s.estate
    if not path:
        return None
    data, name = read_estate_file(path)
    fields = {**_PARAM_FIELDS, **_COMPLEXITY_FIELDS, "complexity": "complexity"}
    return estate_with_flags(data, name, {f: given[v] for v, f in fields.items() if v in given}, base)
