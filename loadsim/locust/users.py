"""Locust glue: one Locust User = one ORS HA pair.

A scenario file is a few lines::

    from loadsim.locust.users import HaPairUser, scenario
    scenario("ha9", ha_pairs=9, masters=3)

    class HaPair(HaPairUser):
        pass

The primary ORS node of each pair works; the backup holds its connections (warm standby). Load is
open loop with ORS's thread model: the model (``loadsim.model.workload``) says when each operation is due;
a due operation joins the ORS node's queue and one of its ``--worker-threads`` synchronous workers
(each with one connection per master) executes it. Queueing for a free worker is part of the latency
from the intended start, as inside ORS. Every operation fires a Locust request event
(request_type ``redis``; response time = latency from the intended start, in ms) and is recorded in
µs HdrHistograms (``loadsim.results.recorder``).
"""

from __future__ import annotations

import logging
import random
import sys
import time
from dataclasses import replace
from typing import Any

import gevent
from gevent.queue import Queue
from locust import User, events, task
from locust.runners import MasterRunner, WorkerRunner

from loadsim.config.persistence import (
    OptionsError,
    PersistenceOptions,
    add_arguments,
    from_namespace,
)
from loadsim.config.simulation import add_simulation_arguments, simulation_values
from loadsim.errors import RedisError
from loadsim.model import workload as wl
from loadsim.redis.client import ClusterClient, WorkerConnections
from loadsim.results.recorder import Recorder

log = logging.getLogger("loadsim")
PREFILL = "session.prefill"
EARLY_S = 0.001  # see HaPairUser.run_pair
_PAYLOAD = random.Random(0).randbytes(1 << 20)  # incompressible bytes; records are slices of it


class OrsNode:
    """One ORS application: ``threads`` worker greenlets, each owning one connection per master."""

    def __init__(self, engine: Engine, node_id: int):
        self.engine = engine
        self.node_id = node_id
        self.queue: Queue = Queue()
        self.client: ClusterClient | None = None
        self.workers: list[WorkerConnections] = []
        self.greenlets: list[gevent.Greenlet] = []
        self.stopping = False
        self.dropped: list[wl.Op] = []  # taken from the queue but not executed because the node stopped

    def connect(self) -> None:
        """Open the connection pool: one connection per master per worker thread (ORS's pool)."""
        self.client = ClusterClient(self.engine.opts, name=f"ors-node-{self.node_id}")
        self.workers = [self.client.worker() for _ in range(self.engine.params.worker_threads)]

    def start(self) -> None:
        """Become the working (primary) node: start the worker threads."""
        self.greenlets = [gevent.spawn(self._work, w) for w in self.workers]

    def stop(self, grace_s: float = 5.0) -> list[wl.Op]:
        """Stop working and drop the pool; returns the operations not executed (lost with this node).

        Workers are not killed mid-operation: each finishes what it is doing (up to ``grace_s``), so
        every command Redis executed is also counted by the client."""
        self.stopping = True
        for _ in self.greenlets:
            self.queue.put(None)  # wakes a waiting worker
        gevent.joinall(self.greenlets, timeout=grace_s)
        gevent.killall(self.greenlets, block=True)  # only a worker stuck without a socket timeout is left
        self.greenlets = []
        self.stopping = False
        dropped = self.dropped + [op for op in list(self.queue.queue) if op is not None]
        self.dropped = []
        self.queue = Queue()
        for w in self.workers:
            w.close()
        if self.client is not None:
            self.client.close()
        self.workers, self.client = [], None
        return dropped

    def _work(self, conn: WorkerConnections) -> None:
        """One ORS worker thread: take the next due operation, execute it synchronously."""
        queue = self.queue
        while True:
            op = queue.get()
            if op is None:
                return
            if self.stopping:
                self.dropped.append(op)
                return
            self._execute(op, conn)

    def _execute(self, op: wl.Op, conn: WorkerConnections) -> None:
        eng = self.engine
        rec, fire, clock, payload = eng.recorder, eng.fire, time.perf_counter, _PAYLOAD
        session = payload[: op.session_size] if op.session_size else None
        timers = payload[: op.timer_size] if op.timer_size else None
        commands = wl.commands_for(eng.layout, op.kind if op.kind != PREFILL else wl.CREATE, op.sid,
                                   self.node_id, session, timers, eng.ttl_ms)
        done_ok = 0
        sent = clock()
        try:
            for cmd in commands:
                conn.execute(cmd[1], *cmd)
                done_ok += 1
        except RedisError as exc:
            end = clock()
            rec.error(op.kind, exc.kind, done_ok)
            fire(request_type="redis", name=op.kind, response_time=(end - op.due) * 1000.0,
                 response_length=0, exception=exc, context={})
            return
        end = clock()
        if op.kind == PREFILL:
            rec.ops[PREFILL] += 1
            rec.commands += done_ok
            eng.prefill_done(end)
        elif op.due >= eng.steady_from:
            rec.record(op.kind, (end - sent) * 1e6, (end - op.due) * 1e6, done_ok)
        else:
            rec.ops[op.kind] += 1
            rec.commands += done_ok
        fire(request_type="redis", name=op.kind, response_time=(end - op.due) * 1000.0,
             response_length=op.session_size + op.timer_size, exception=None, context={})


class Engine:
    """Per-process state shared by the HA-pair users: options, model parameters, recorder."""

    def __init__(self, environment: Any, opts: PersistenceOptions, params: wl.WorkloadParams,
                 sim: dict[str, Any]):
        self.environment = environment
        self.opts = opts
        self.params = params
        self.sim = sim
        self.layout = wl.KeyLayout(params.key_layout, params.ors_cluster_name)
        self.ttl_ms = params.session_ttl_s * 1000
        self.recorder = Recorder()
        self.fire = environment.events.request.fire
        self.pairs: list[HaPairUser] = []
        self._next_pair = 0
        self.start_perf = time.perf_counter()
        self.steady_from = float("inf")
        self.prefill_pending = 0
        self.recovery: list[dict[str, Any]] = []

    def reset(self, params: wl.WorkloadParams) -> None:
        """A new test (Locust test_start): fresh recorder and clocks."""
        self.params = params
        self.recorder = Recorder()
        self.recorder.record_histograms = True
        self.pairs, self._next_pair = [], 0
        self.start_perf = time.perf_counter()
        self.steady_from = float("inf") if params.prefill else self.start_perf + self.sim.get("warmup", 0.0)
        self.prefill_pending = 0
        self.recovery = []

    def next_pair(self) -> wl.HaPair:
        index = self._next_pair
        runner = self.environment.runner
        if isinstance(runner, WorkerRunner):
            index += 1000 * runner.worker_index  # pairs of different workers never share node ids
        self._next_pair += 1
        return wl.HaPair(index)

    def prefill_done(self, now: float) -> None:
        self.prefill_pending -= 1
        if self.prefill_pending == 0 and self.steady_from == float("inf"):
            gevent.spawn(self._start_steady_window)

    def _start_steady_window(self) -> None:
        """Statistics start once the pre-fill is written AND the operations that queued up behind it
        are done (queues back to at most one operation per worker), and after --warmup."""
        limit = max(1, len(self.pairs)) * self.params.worker_threads
        deadline = time.perf_counter() + 600
        while self.queue_depth > limit and time.perf_counter() < deadline:
            gevent.sleep(0.05)
        self.steady_from = max(time.perf_counter(), self.start_perf + self.sim.get("warmup", 0.0))
        log.info("pre-fill written and drained; statistics from %.1f s", self.steady_from - self.start_perf)

    @property
    def live_sessions(self) -> int:
        return sum(p.schedule.live for p in self.pairs if p.schedule is not None)

    @property
    def queue_depth(self) -> int:
        return sum(p.primary.queue.qsize() for p in self.pairs if p.primary is not None)


ENGINE: Engine | None = None
_SCENARIO: dict[str, Any] = {}


class HaPairUser(User):
    """One ORS HA pair. Subclass it in a scenario file (see module docstring)."""

    abstract = True

    def __init__(self, environment: Any):
        super().__init__(environment)
        self.schedule: wl.PairSchedule | None = None
        self.primary: OrsNode | None = None
        self.backup: OrsNode | None = None

    def on_start(self) -> None:
        eng = ENGINE
        if eng is None:
            raise RuntimeError("loadsim engine not initialised: call loadsim.users.scenario(...) in the locustfile")
        self.pair = eng.next_pair()
        self.primary = OrsNode(eng, self.pair.primary_node_id)
        self.backup = OrsNode(eng, self.pair.backup_node_id)
        if eng.opts.persists:
            self.primary.connect()
            self.backup.connect()  # warm standby: holds its connections, sends nothing
            self.primary.start()
        now = time.perf_counter()
        self.schedule = wl.PairSchedule(eng.params, self.pair, now)
        eng.pairs.append(self)
        if eng.params.prefill:
            ops = self.schedule.prefill(now)
            if eng.opts.persists:
                eng.prefill_pending += len(ops)
                for op in ops:
                    op.kind = PREFILL
                    self.primary.queue.put(op)
            if not ops or not eng.opts.persists:
                eng.prefill_pending += 1
                eng.prefill_done(now)

    def on_stop(self) -> None:
        for node in (self.primary, self.backup):
            if node is not None:
                node.stop()

    @task
    def run_pair(self) -> None:
        """The open-loop scheduler of this pair: release every operation when it is due."""
        eng = ENGINE
        assert eng is not None and self.schedule is not None and self.primary is not None
        sched, rec, clock = self.schedule, eng.recorder, time.perf_counter
        switch_at = eng.sim.get("switchover_at")
        switch_time = eng.start_perf + switch_at if switch_at else float("inf")
        persists = eng.opts.persists
        while True:
            due = min(sched.next_due(), switch_time)
            # gevent's epoll loop rounds every wait up to whole milliseconds, so a plain sleep wakes up to
            # 1 ms late (measured: lag p50 380 us). Waking up to EARLY_S before the due time and releasing
            # what is due by then keeps the schedule lag at the loop's own overhead; an operation released
            # early is timed from its release (its start moved < 1 ms earlier on the model's timeline).
            delay = due - clock() - EARLY_S
            if delay > 0:
                gevent.sleep(delay)
            now = clock()
            if now >= switch_time:
                self.switchover()
                switch_time = float("inf")
                continue
            queue = self.primary.queue
            steady = eng.steady_from
            for op in sched.pop_due(now + EARLY_S):
                if op.due > now:
                    op.due = now
                rec.schedule_lag(now - op.due, op.due >= steady)
                if op.due >= steady:
                    rec.offered += 1
                if persists:
                    queue.put(op)
                else:
                    rec.ops[op.kind] += 1

    def switchover(self) -> None:
        """The primary stops; the backup becomes primary and restores the sessions it owns."""
        eng = ENGINE
        assert eng is not None and self.schedule is not None and self.primary and self.backup
        started = time.perf_counter()
        old, new = self.primary, self.backup
        dropped = old.stop() if eng.opts.persists else []
        never_written = {op.sid for op in dropped if op.kind in (wl.CREATE, PREFILL)}
        expected = self.schedule.sessions()
        self.primary, self.backup = new, old
        recovered: set[str] = set()
        if eng.opts.persists:
            recovered = recover_sessions(eng, new, old.node_id)
            new.start()
            old.connect()  # the old primary comes back as the backup (warm standby)
        self.schedule.take_over(new.node_id)
        lost = [s for s in expected if s not in recovered]
        # A session whose create was still queued in the old primary was never in Redis: lost as ORS
        # would lose it. A session that was written and is not found is data loss.
        lost_unwritten = sum(1 for s in lost if s in never_written)
        eng.recovery.append({"pair": self.pair.index, "from_node": old.node_id, "to_node": new.node_id,
                             "expected": len(expected), "recovered": len(recovered & set(expected)),
                             "lost": len(lost), "lost_never_written": lost_unwritten,
                             "lost_written": len(lost) - lost_unwritten, "dropped_operations": len(dropped),
                             "seconds": time.perf_counter() - started})


def recover_sessions(eng: Engine, node: OrsNode, owner_node_id: int) -> set[str]:
    """Find the sessions of ``owner_node_id`` in Redis (SCAN / HSCAN by the node id in the session id),
    read each one's records and write the new owner. Fires ``session.recover`` per session."""
    assert node.workers
    conn = node.workers[0]
    layout, rec = eng.layout, eng.recorder
    pattern = layout.scan_pattern(owner_node_id)
    keys = conn.hscan(layout.hash_key, pattern) if layout.name == "single-hash" else conn.scan(pattern)
    before = conn.commands_ok
    try:
        found = [layout.sid_from_key(k) for k in keys]
    except RedisError as exc:
        rec.error(wl.RECOVER, exc.kind, conn.commands_ok - before)
        log.warning("recovery scan of ORS node %s failed: %s", owner_node_id, exc)
        return set()
    rec.commands += conn.commands_ok - before  # SCAN / HSCAN calls, for the server cross-check
    recovered: set[str] = set()
    for sid in found:
        due = time.perf_counter()
        reads = ([("HMGET", layout.hash_key, layout.key("session", sid), layout.key("timers", sid))]
                 if layout.name == "single-hash" else
                 [("GET", layout.key("session", sid)), ("GET", layout.key("timers", sid))])
        writes = wl.commands_for(layout, wl.RECOVER, sid, node.node_id, None, None, eng.ttl_ms)
        ok = 0
        try:
            for cmd in reads + writes:
                conn.execute(cmd[1], *cmd)
                ok += 1
        except RedisError as exc:
            rec.error(wl.RECOVER, exc.kind, ok)
            eng.fire(request_type="redis", name=wl.RECOVER, response_time=(time.perf_counter() - due) * 1000,
                     response_length=0, exception=exc, context={})
            continue
        end = time.perf_counter()
        rec.record(wl.RECOVER, (end - due) * 1e6, (end - due) * 1e6, ok)
        recovered.add(sid)
        eng.fire(request_type="redis", name=wl.RECOVER, response_time=(end - due) * 1000, response_length=0,
                 exception=None, context={})
    return recovered


# ------------------------------------------------------------------------------------------ wiring
def workload_params(values: dict[str, Any], ha_pairs: int, cluster_name: str) -> wl.WorkloadParams:
    """WorkloadParams from converted simulation values (scenario defaults + explicit options)."""
    c = wl.preset(values.get("complexity", "standard"))
    overrides = {k: values[v] for k, v in (("record_bytes", "record_bytes"), ("record_sigma", "record_sigma"),
                                         ("updates_per_session", "updates_per_session"),
                                         ("timer_share", "timer_share"), ("timer_bytes", "timer_bytes"))
                 if v in values}
    if overrides:
        c = replace(c, name=c.name + "+custom", source=c.source + "; overridden on the command line", **overrides)
    fields = {"cps_per_pair": "cps_per_pair", "aht_s": "aht", "session_ttl_s": "session_ttl",
              "digital_share": "digital_share", "worker_threads": "worker_threads", "key_layout": "key_layout",
              "seed": "seed", "prefill": "prefill"}
    kw = {f: values[v] for f, v in fields.items() if v in values}
    return wl.WorkloadParams(ors_cluster_name=cluster_name, ha_pairs=ha_pairs, complexity=c, **kw)


def fail(message: str) -> None:
    """One clear line, non-zero exit, no traceback (bad input at start-up)."""
    sys.stderr.write(f"loadsim: error: {message}\n")
    sys.stderr.flush()
    raise SystemExit(2)


def scenario(name: str, ha_pairs: int = 9, **defaults: Any) -> None:
    """Declare a scenario: its name, HA pairs (Locust ``-u`` default) and simulation defaults
    (any simulation option by its dest name, e.g. ``masters=3, cps_per_pair=5``)."""
    from loadsim.config.simulation import SIM_BY_DEST

    unknown = set(defaults) - set(SIM_BY_DEST)
    if unknown:
        raise ValueError(f"scenario({name!r}): unknown defaults {sorted(unknown)}")
    if _SCENARIO:
        return  # a locustfile is imported once per process; listeners are registered once
    _SCENARIO.update(name=name, ha_pairs=ha_pairs, defaults=defaults)
    events.init_command_line_parser.add_listener(_add_arguments)
    events.init.add_listener(_on_init)
    events.test_start.add_listener(_on_test_start)
    events.test_stop.add_listener(_on_test_stop)
    events.quitting.add_listener(_on_quitting)
    events.report_to_master.add_listener(_on_report_to_master)
    events.worker_report.add_listener(_on_worker_report)


def _add_arguments(parser: Any) -> None:
    add_arguments(parser)
    add_simulation_arguments(parser, _SCENARIO["defaults"])
    n = _SCENARIO["ha_pairs"]
    parser.set_defaults(num_users=n, spawn_rate=n)


def _build_engine(environment: Any) -> Engine | None:
    """Options and parameters from the parsed arguments; one clear line and exit 2 on bad input."""
    from loadsim.locust import run as run_mod

    ns = environment.parsed_options
    try:
        opts = from_namespace(ns)
        sim = simulation_values(ns, _SCENARIO["defaults"])
        params = workload_params(sim, int(ns.num_users or _SCENARIO["ha_pairs"]), opts.ors_cluster_name)
    except OptionsError as exc:
        fail(str(exc))
        return None
    if not opts.redis_nodes and opts.persists:
        if isinstance(environment.runner, (MasterRunner, WorkerRunner)):
            fail("in Locust master/worker mode give --redis-nodes (start a cluster with 'loadsim cluster up')")
        opts = run_mod.start_embedded_cluster(sim)
    if opts.persists and not isinstance(environment.runner, WorkerRunner):
        try:
            ClusterClient(opts).close()  # the slot map: reachable, authenticated, a cluster
        except RedisError as exc:
            fail(f"cannot use the Redis Cluster: {exc}; 'loadsim check' with the same options says more")
    return Engine(environment, opts, params, sim)


def _on_init(environment: Any, **_kw: Any) -> None:
    from loadsim.locust import run as run_mod

    global ENGINE
    if environment.parsed_options is None:  # a library user building an Environment by hand
        return
    if isinstance(environment.runner, WorkerRunner):
        return  # a worker gets its options from the master with the first spawn (see _on_test_start)
    ENGINE = _build_engine(environment)
    if isinstance(environment.runner, MasterRunner):
        environment.runner.register_message(FINAL_MESSAGE, _on_final_message)
    if ENGINE is not None and not ENGINE.opts.persists:
        log.warning("persistence type is '%s', not 'redis': ORS would persist nothing to Redis; "
                    "sessions are simulated and counted, no Redis traffic is sent", ENGINE.opts.type)
    run_mod.attach(environment, ENGINE, _SCENARIO["name"])


def _on_test_start(environment: Any, **_kw: Any) -> None:
    from loadsim.locust import run as run_mod

    global ENGINE
    if isinstance(environment.runner, WorkerRunner):
        ENGINE = _build_engine(environment)  # options as the master sent them
    eng = ENGINE
    if eng is None:
        return
    n = getattr(environment.runner, "target_user_count", None) or environment.parsed_options.num_users
    eng.reset(replace(eng.params, ha_pairs=int(n or _SCENARIO["ha_pairs"])))
    run_mod.test_started(environment)


def _on_test_stop(environment: Any, **_kw: Any) -> None:
    from loadsim.locust import run as run_mod

    if isinstance(environment.runner, WorkerRunner) and ENGINE is not None:
        # the last counts of this worker, so the master's totals match Redis's
        environment.runner.send_message(FINAL_MESSAGE, _worker_payload(ENGINE))
        return
    run_mod.test_stopped(environment, interrupted=False)


def _on_quitting(environment: Any, **_kw: Any) -> None:
    from loadsim.locust import run as run_mod

    run_mod.test_stopped(environment, interrupted=True)
    run_mod.stop_embedded_cluster()


FINAL_MESSAGE = "loadsim_final"


def _worker_payload(eng: Engine) -> dict[str, Any]:
    """What a Locust worker sends the master: recorder contents since the last report, live sessions,
    queue depth, CPU and RSS, and when its steady window began (wall clock; None = not yet)."""
    from loadsim.locust import run as run_mod

    steady_wall = (time.time() - (time.perf_counter() - eng.steady_from)
                   if eng.steady_from != float("inf") else None)
    return {"recorder": eng.recorder.drain(), "live": eng.live_sessions, "queue": eng.queue_depth,
            "cpu": run_mod.process_cpu_s(), "rss": run_mod.rss_bytes(), "steady_from_wall": steady_wall}


def _on_report_to_master(client_id: str, data: dict[str, Any]) -> None:
    if ENGINE is not None:
        data["loadsim"] = _worker_payload(ENGINE)


def _on_worker_report(client_id: str, data: dict[str, Any]) -> None:
    from loadsim.locust import run as run_mod

    if "loadsim" in data:
        run_mod.worker_report(client_id, data["loadsim"])


def _on_final_message(environment: Any, msg: Any, **_kw: Any) -> None:
    from loadsim.locust import run as run_mod

    run_mod.worker_report(msg.node_id, msg.data, final=True)


