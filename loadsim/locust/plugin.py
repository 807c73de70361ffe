"""loadsim inside Locust: options → engine → run, all held by one ``Loadsim`` object on the Environment.

Locust hangs everything a test needs on its ``Environment`` (runner, stats, events, web UI); loadsim does
the same: ``environment.loadsim`` is a ``Loadsim`` holding the scenario, the options, the embedded
cluster (when loadsim started one), the ``Engine`` of the current test and its ``Run`` (the results
folder). Nothing here is module-level state, so one process can run several tests, one after another,
each with its own Environment (``tests/integration/test_inprocess.py``).

Two ways in:

* a locustfile calls ``loadsim.locust.users.scenario(...)``, which adds loadsim's options to Locust's
  command line and attaches a ``Loadsim`` to the Environment when Locust fires ``init``;
* a library user builds ``Environment`` + runner and calls ``attach(environment, scenario, argv)``
  with loadsim's options as command-line words.

Master/worker: workers take the options from the master (Locust sends them with the first spawn), build
their engine at ``test_start``, send their recorder contents with Locust's worker reports and a final
message at ``test_stop``; the master's ``Run`` merges them and writes the one results folder.
"""

from __future__ import annotations

import argparse
import atexit
import copy
import inspect
import logging
import os
import signal
import sys
import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import gevent
import gevent.event
import gevent.lock
import locust
from locust.runners import STATE_CLEANUP, STATE_INIT, STATE_STOPPING, MasterRunner, WorkerRunner

from loadsim.config.persistence import (
    OPTIONS,
    PersistenceOptions,
    add_arguments,
    from_namespace,
    refuse_password_argument,
)
from loadsim.config.simulation import (
    CHECK_ONLY_ENV,
    SIM_BY_DEST,
    SimSettings,
    add_simulation_arguments,
    given_values,
    run_settings,
    simulation_values,
)
from loadsim.embedded.cluster import ClusterSpec, EmbeddedCluster, redis_binaries
from loadsim.errors import CheckFailed, OptionsError, RedisError, UserError, explain_usage_error
from loadsim.locust import resolution, webui
from loadsim.locust.engine import Engine, estate_for, workload_params
from loadsim.locust.faults import FaultRunner
from loadsim.locust.idle import LOCUST_WORKER, ONLY_PROCESS, IdleWindow
from loadsim.locust.lifecycle import Lifecycle, SignalGuard
from loadsim.locust.migration import MigrationRunner
from loadsim.locust.readback import read_back
from loadsim.locust.run import SAMPLED_MESSAGE, SAMPLED_WAIT_S, STEADY_MESSAGE, Run, rss_bytes
from loadsim.locust.ticker import TICK_MESSAGE, WorkerTicker
from loadsim.model import workload as wl
from loadsim.model.estate import Estate
from loadsim.model.faults import Fault, check_targets, parse_faults
from loadsim.redis.check import audit_cluster, run_doubts, with_timeouts
from loadsim.redis.client import ClusterClient
from loadsim.results.capacity import check_capacity_folder
from loadsim.results.writer import ResultsWriteError, check_results_dir, record_exit

if TYPE_CHECKING:  # for the types only
    from locust.env import Environment
    from locust.rpc import Message

log = logging.getLogger("loadsim")
# Exit code of a run ended by Ctrl-C or SIGTERM (its summary says "interrupted": true), as loadsim's own commands
EXIT_INTERRUPTED = 130
FINAL_MESSAGE = "loadsim_final"


def warm_locust_stop() -> None:
    """Locust's ``Runner.stop`` (local and worker runners) begins with ``inspect.stack()`` for a debug line. Its
    first call in a process maps every loaded module to its file (``inspect.getmodule``): 40 ms with 914 modules on
    a quiet host, and at a run's end 84 ms in one process and ~200 ms in a Locust worker, measured between the stop
    and loadsim's ``test_stopping``. The schedulers fell behind meanwhile, then released that backlog into ORS
    nodes already stopping, where it counted as due and not sent (38-49 operations in one process, 88-124 with two
    workers: achieved 1.5-2 % under offered in the steady window). Called once when a test starts, the stop's own
    call takes 0.1 ms."""
    inspect.stack()


def fail(message: str) -> None:
    """One clear line, non-zero exit, no traceback (bad input at start-up); the same line in the exit record a parent
    (``loadsim sweep``, ``compare-tls``) asked for."""
    sys.stderr.write(f"loadsim: error: {message}\n")
    sys.stderr.flush()
    record_exit(2, message)
    raise SystemExit(2)


@dataclass
class Scenario:
    """A scenario file's declaration: name, HA pairs (Locust ``-u`` default), simulation defaults."""

    name: str
    ha_pairs: int = 9
    defaults: dict[str, Any] = field(default_factory=dict)
    _registered: bool = field(default=False, repr=False)

    @classmethod
    def declare(cls, name: str, ha_pairs: int = 9, defaults: dict[str, Any] | None = None) -> Scenario:
        defaults = dict(defaults or {})
        unknown = set(defaults) - set(SIM_BY_DEST)
        if unknown:
            raise OptionsError(f"scenario({name!r}): unknown defaults {sorted(unknown)}; "
                               f"known: {', '.join(sorted(SIM_BY_DEST))}")
        return cls(name, ha_pairs, defaults)

    def add_arguments(self, parser: Any) -> None:
        """loadsim's options on a Locust (or argparse) parser, with this scenario's defaults."""
        add_arguments(parser)
        add_simulation_arguments(parser, self.defaults)
        parser.set_defaults(num_users=self.ha_pairs, spawn_rate=self.ha_pairs)
        if hasattr(parser, "secret_args_included_in_web_ui"):  # Locust's own command line
            try:
                refuse_password_argument(sys.argv[1:])
            except OptionsError as exc:
                fail(str(exc))
            # a usage error that has a cause to name (--fault -1:..., a value read as an option): one line
            # with the cause and the fix; any other keeps Locust's own message
            locust_error = parser.error

            def error(message: str) -> None:
                explained = explain_usage_error(message, sys.argv[1:])
                if explained != message:
                    fail(explained)
                record_exit(2, message)  # Locust's own usage error, for a parent's exit record (sweep's checks)
                locust_error(message)

            parser.error = error
            # Locust binds its web UI to every interface by default, and the UI starts tests: loopback unless the
            # user asks for another address (--web-host, LOCUST_WEB_HOST, locust.conf); see webui.exposure_warning
            parser.set_defaults(web_host=webui.LOOPBACK)

    def register_with_locust(self) -> None:
        """Hook into Locust's start-up (its global events, as Locust documents for locustfiles)."""
        if self._registered:
            return
        self._registered = True
        resolution.install()  # Locust's tables in sub-ms resolution (loadsim.locust.resolution says why)
        cache_locust_default_args()
        locust.events.init_command_line_parser.add_listener(self.add_arguments)
        locust.events.init.add_listener(self._on_init)

    def _on_init(self, environment: Environment, **_kw: object) -> None:
        if environment.parsed_options is None:  # a library user: they call attach() themselves
            return
        problem = webui.login_problem(getattr(environment, "web_ui", None))
        if problem:
            fail(problem)  # before any cluster starts
        # Ctrl-C (or SIGTERM) before the test began (most often while the embedded cluster starts): Python raised
        # KeyboardInterrupt wherever the signal landed, often inside gevent's hub, which printed a 40-line
        # traceback. Instead the signal is handled between greenlet switches and raised in this (the main)
        # greenlet, where EmbeddedCluster.start stops the nodes it started; then one line and exit 130.
        starting = None
        if not isinstance(environment.runner, WorkerRunner):
            main = gevent.getcurrent()
            starting = SignalGuard(lambda _signum: main.throw(KeyboardInterrupt))
            starting.install()
        try:
            runtime = attach(environment, self)
        except KeyboardInterrupt:
            sys.stderr.write("loadsim: interrupted while starting: nothing was run (an embedded cluster that was "
                             "starting has been stopped)\n")
            sys.stderr.flush()
            raise SystemExit(EXIT_INTERRUPTED) from None
        finally:
            if starting is not None:
                starting.restore()
        runtime.install_signal_handlers()


def cache_locust_default_args() -> None:
    """Locust's defaults computed once per process. A Locust worker rebuilds its whole default argument parser once
    per option of every spawn message (``locust.runners``: ``k not in argument_parser.default_args_dict()`` inside a
    dict comprehension over the master's options): with loadsim's options, about 180 parser builds of 2.2 ms each,
    measured 0.4-0.65 s of each worker's CPU between the master's spawn message and its HA pairs' start (py-spy), so
    a distributed run's load began later than a local one's. The defaults cannot change within a process; each
    caller still gets its own copy."""
    import functools

    from locust import argument_parser

    if getattr(argument_parser.default_args_dict, "loadsim_cached", False):
        return
    computed = functools.cache(argument_parser.default_args_dict)

    def default_args_dict() -> dict[str, Any]:
        return dict(computed())

    default_args_dict.loadsim_cached = True  # type: ignore[attr-defined]
    argument_parser.default_args_dict = default_args_dict


class Loadsim:
    """Everything loadsim keeps for one Locust Environment."""

    def __init__(self, environment: Environment, scenario: Scenario, namespace: argparse.Namespace | None):
        self.environment = environment
        self.scenario = scenario
        self._namespace = namespace  # None: the Environment's parsed options (Locust's command line)
        self.engine: Engine | None = None
        self.run: Run | None = None
        self.last_run: Run | None = None  # the finished one, still shown by the web UI's Redis view
        self.ticker: WorkerTicker | None = None  # a Locust worker's per-second figures for the master
        # a Locust worker: set when the master has taken the test's last sample (its read-back waits for it)
        self.master_sampled = gevent.event.Event()
        self.cluster: EmbeddedCluster | None = None
        self.lifecycle = Lifecycle()  # the current run's phase, and whether a signal ended it
        # SIGINT and SIGTERM on Locust's command line (master or local process); restored when Locust quits
        self.signals = SignalGuard(self._on_signal)
        self._main = gevent.getcurrent()  # Locust's main greenlet (attach runs in its init)
        # one greenlet at a time stops the users, and one stops the embedded cluster: a second caller (Locust's
        # own SIGTERM shutdown, a repeated signal) waits until the first is done instead of racing it
        self._stop_lock = gevent.lock.RLock()
        self._cluster_lock = gevent.lock.RLock()
        # the options the web UI's form may not set, as given at start (see pin_start_values)
        self.start_values: dict[str, Any] = {}
        self._handed: set[str] = set()  # the options _hand_to_workers wrote (the embedded cluster's)
        self._run_time: float | None = None  # a web UI test's run time, counted once its HA pairs start
        self._idle_cpu: dict[str, Any] | None = None  # the masters' idle CPU measured at start-up (headless)
        # this process's own CPU with no load (loadsim.locust.idle): the only process's, measured beside the masters'
        # idle CPU; a Locust worker's, from the window it waits in for its test
        self._own_idle: dict[str, Any] | None = None
        self._idle_window: IdleWindow | None = None
        self.worker_idle: dict[str, Any] | None = None  # a Locust worker's, for this test (sent to the master)

    # ------------------------------------------------------------------ set-up
    @property
    def namespace(self) -> argparse.Namespace:
        return self._namespace if self._namespace is not None else self.environment.parsed_options

    @property
    def is_worker(self) -> bool:
        return isinstance(self.environment.runner, WorkerRunner)

    def _checked(self, ns: argparse.Namespace, form: bool) -> tuple[PersistenceOptions, dict[str, Any],
                                                                    wl.WorkloadParams, Estate | None,
                                                                    tuple[Fault, ...]]:
        """Every check of the options that needs no cluster: options, simulation values, workload parameters,
        estate and faults. ``form``: the web UI's form (an empty field is "not given"; the options it may not set
        were checked at start and are not touched again: no folder created, no program run). Raises UserError."""
        spec = self.scenario
        opts = from_namespace(ns, form=form)
        sim = simulation_values(ns, spec.defaults, form=form)
        s = run_settings(sim)
        if s.results_dir and not self.is_worker and not form:
            check_results_dir(s.results_dir)  # before any cluster starts or any Redis traffic
        elif not self.is_worker and not form:  # the default folder, where Run will make <timestamp>-<scenario>
            check_results_dir(os.environ.get("LOADSIM_RESULTS", "results"),
                              "the results folder (--results-dir, default $LOADSIM_RESULTS or ./results)")
        if s.capacity_from and not self.is_worker and not form:
            check_capacity_folder(s.capacity_from)  # a capacity folder without capacity.json starts nothing
        params = workload_params(s, int(getattr(ns, "num_users", None) or spec.ha_pairs), opts.ors_cluster_name)
        estate = estate_for(s, given_values(sim, spec.defaults), params)
        faults = parse_faults(s.fault)  # before any cluster starts: a bad --fault starts nothing
        if faults and isinstance(self.environment.runner, (MasterRunner, WorkerRunner)):
            raise OptionsError("--fault needs a single Locust process (no --processes, master or workers): the "
                               "faults act on this process's HA pairs and embedded cluster")
        will_embed = not opts.redis_nodes and opts.persists
        if will_embed and s.embedded_mutual_tls and not s.embedded_tls:
            raise OptionsError("--embedded-mutual-tls needs --embedded-tls true: give both (mutual TLS is TLS with "
                               "client certificates)")
        if will_embed and s.embedded_redis_server and not form:
            redis_binaries(s.embedded_redis_server)  # a bad --embedded-redis-server starts nothing
        if faults:
            check_targets(faults, masters=s.masters if will_embed else 0, replicas=s.replicas if will_embed else 0,
                          pairs=params.ha_pairs, can_act_on_redis=will_embed)
        wl.check_generator_capacity(estate.live_sessions if estate else params.expected_live_sessions,
                                    max((g.params.complexity.record_bytes for g in estate.groups), default=0)
                                    if estate else params.complexity.record_bytes)
        return opts, sim, params, estate, faults

    def check_form(self, fields: dict[str, str]) -> None:
        """Check what the web UI's form posted (loadsim's options it may set, and the HA pairs) before Locust
        takes any of it: a bad value is refused with the message the page shows, and nothing starts."""
        ns = copy.copy(self.namespace)
        for dest, text in fields.items():
            setattr(ns, dest, text)
        self._checked(ns, form=True)

    def pin_start_values(self) -> None:
        """Put back every option the web form may not set (loadsim's files, folders and programs, where and how
        to connect, and Locust's own options but the test's shape), as given at start. Locust's /swarm writes
        whatever a request names into its options; ``webui`` refuses such requests, and this undoes one that
        got through anyway."""
        for dest, given in self.start_values.items():
            if getattr(self.namespace, dest, None) != given:
                if dest not in self._handed:  # not one this process wrote for its workers
                    log.warning("%s: not settable from the web UI; the value given at start is kept", dest)
                setattr(self.namespace, dest, given)

    def run_time_from_start_of_load(self, seconds: float) -> None:
        """The web UI's run time for the test being started: its timer starts at the end of ``on_test_start``,
        once the cluster is ready and the HA pairs start, not when the form was sent."""
        self._run_time = seconds

    def _start_run_time(self) -> None:
        seconds, self._run_time = self._run_time, None
        web_ui = getattr(self.environment, "web_ui", None)
        if seconds and web_ui is not None:
            # Locust's own timer attribute, so that its Stop button and a new test cancel this timer as theirs
            web_ui._run_time_greenlet = gevent.spawn_later(seconds, web_ui._stop_runners)
            log.info("run time %g s, counted from now: the HA pairs start", seconds)

    def build_engine(self, form: bool = False) -> Engine:
        """Options and parameters from the arguments (``form``: as the web UI's form left them, where an empty
        field means "not given"). Raises UserError (one line naming the fix)."""
        opts, sim, params, estate, faults = self._checked(self.namespace, form)
        settings = run_settings(sim)
        if os.environ.get(CHECK_ONLY_ENV) and not self.is_worker:
            # `loadsim sweep` / `compare-tls` ask a run to check its options before their first cluster starts:
            # every check above passed, and nothing has started or been written
            raise SystemExit(0)
        given_nodes = bool(opts.redis_nodes)
        if not opts.redis_nodes and opts.persists:
            if self.is_worker:
                raise OptionsError("this Locust worker got no redis-nodes from its master; give the master "
                                   "--redis-nodes, or let it start the embedded cluster (no --redis-nodes on it)")
            given = opts
            # the embedded cluster supplies where and how to connect; the user's ORS behaviour stays theirs
            opts = replace(self.embedded_cluster_options(settings), type=given.type,
                           redis_connect_timeout=given.redis_connect_timeout,
                           redis_socket_timeout=given.redis_socket_timeout,
                           ors_cluster_name=given.ors_cluster_name)
            if isinstance(self.environment.runner, MasterRunner):
                # Locust sends the master's parsed options to its workers with every spawn: put the embedded
                # cluster's connection options there (certificate paths are local files: workers started
                # with --processes share them; workers on other hosts need --redis-nodes and copies).
                self._hand_to_workers(opts)
        audit = None
        if opts.persists and not self.is_worker:
            admin = self.cluster.admin_options if self.cluster is not None and not given_nodes else opts
            audit = self.audit_cluster(admin, params, settings.allow_eviction)
            try:
                # the slot map: reachable, authenticated, a cluster; with discovery's own timeouts (ORS has none)
                ClusterClient(with_timeouts(opts)).close()
            except RedisError as exc:
                raise OptionsError(f"cannot use the Redis Cluster: {exc}; 'loadsim check' with the same options "
                                   "says more") from None
        return Engine(self.environment, opts, params, sim, estate, faults=faults, audit=audit,
                      on_steady=self.lifecycle.steady)

    @staticmethod
    def audit_cluster(opts: PersistenceOptions, params: wl.WorkloadParams, allow_eviction: bool) -> dict[str, Any]:
        """What ``loadsim check`` audits, before any load: an evicting maxmemory-policy refuses the run (unless
        --allow-eviction), a cluster that cannot be used refuses it; the warnings are kept for the summary."""
        try:
            report, errors = audit_cluster(opts, params.ha_pairs, params.worker_threads)
        except CheckFailed as exc:
            raise OptionsError(f"cannot use the Redis Cluster: {exc}") from None
        if errors and not allow_eviction:
            raise OptionsError(f"{'; '.join(errors)} (loadsim check fails this cluster: evicted sessions would "
                               "read back as missing); or give --allow-eviction true to run anyway")
        for line in errors:
            log.warning("--allow-eviction: %s", line)
        return {"warnings": [n for n in report.notes if n.startswith("warning: ")], "eviction_allowed": errors,
                "doubts": run_doubts(report, params.ha_pairs, params.worker_threads)}

    def build_engine_or_exit(self) -> Engine:
        """At start-up (and on a worker): bad input is one clear line and exit 2."""
        try:
            return self.build_engine()
        except UserError as exc:
            fail(str(exc))
            raise  # unreachable: fail() exits

    def _hand_to_workers(self, opts: PersistenceOptions) -> None:
        by_name = {o.name: o for o in OPTIONS}
        for name, given in opts.to_values(redact=False).items():
            option = by_name.get(name)
            if option is None or given is None:
                continue
            text = ("true" if given else "false") if isinstance(given, bool) else str(given)
            setattr(self.namespace, option.dest, text)
            self._handed.add(option.dest)

    def embedded_cluster_options(self, s: SimSettings) -> PersistenceOptions:
        """The embedded cluster of this Environment (stopped at quit, or at exit): the running one when the
        options ask for the same shape, else a new one (a test started from the web UI may change it)."""
        spec = ClusterSpec(masters=s.masters, replicas=s.replicas, tls=s.embedded_tls, mutual_tls=s.embedded_mutual_tls,
                           acl=s.embedded_acl, aof=s.embedded_aof, redis_server=s.embedded_redis_server,
                           cluster_node_timeout_ms=s.embedded_node_timeout, appendfsync=s.embedded_appendfsync)
        if self.cluster is not None:
            if self.cluster.spec == spec:
                # a kill-master (or kill-replica) fault of the test before left a node dead: this test is started
                # on the whole cluster again, or refused in one line saying how to get one
                restarted = self.cluster.restore()
                if restarted:
                    log.warning("embedded cluster restored: node(s) %s, stopped by a fault of the test before, "
                                "restarted; cluster_state ok", ", ".join(map(str, restarted)))
                return self.cluster.options
            log.info("the options ask for another embedded cluster: stopping the current one")
            self.stop_embedded_cluster()
        log.info("starting embedded Redis Cluster: %d masters, %d replicas each%s", spec.masters, spec.replicas,
                 ", TLS" if spec.tls else "")
        self.lifecycle.starting_cluster()
        self.cluster = EmbeddedCluster(spec).start()
        self.lifecycle.cluster_ready()
        atexit.register(self.stop_embedded_cluster)
        log.info("embedded cluster ok: %s", ",".join(n.address for n in self.cluster.nodes))
        return self.cluster.options

    def stop_embedded_cluster(self) -> None:
        with self._cluster_lock:  # a second caller returns once the nodes are gone, not while they stop
            if self.cluster is not None:
                self.cluster.stop()
                self.cluster = None
                log.info("embedded cluster stopped")

    # ------------------------------------------------------------------ signals
    @property
    def interrupted(self) -> bool:
        """A signal (or Locust quitting mid-test) ended a test: its summary says so."""
        return self.lifecycle.interrupted

    def install_signal_handlers(self) -> None:
        """SIGINT and SIGTERM (Locust's command line, master or local process): stop the users, write the summary,
        then stop the embedded cluster, in that order; a repeated signal waits for the summary.

        Without this, Ctrl-C raises KeyboardInterrupt wherever the process happens to be (inside an HA pair's
        scheduler, inside the summary being written), and Locust's SIGTERM handler fires ``quitting`` (which
        stopped the embedded cluster) before it stops the users, whose last operations then failed with
        "Connection refused"; a second SIGTERM ran that shutdown again, and its exit landed in the first.

        ``SignalGuard`` runs the handler in a greenlet of its own, between operations. Locust installs its own
        SIGTERM handler (through gevent) after ``init``: the guard takes the signals back the next time the main
        greenlet waits, and again at each ``test_start``, so that one handler decides what a signal does. Once
        Locust's command line exits (``on_quit``) a signal is ignored; a library user's ``close()`` puts back the
        handlers found at the start."""
        if self.is_worker or self.signals.installed:
            return
        self.signals.install()
        gevent.spawn(self.signals.install)  # after Locust's own (it installs it once init has returned)

    def _on_signal(self, signum: int) -> None:
        name = signal.Signals(signum).name
        if not self.lifecycle.signal_received():
            if self.run is not None:
                sys.stderr.write("loadsim: still writing the summary, please wait\n")
            else:
                sys.stderr.write("loadsim: stopping, please wait\n")
            sys.stderr.flush()
            return
        if self.environment.process_exit_code is None:  # a failure found earlier keeps its own code
            self.environment.process_exit_code = EXIT_INTERRUPTED
        runner = self.environment.runner
        if (self.run is None and isinstance(runner, MasterRunner) and runner.state == STATE_INIT
                and getattr(self.namespace, "headless", False)):
            # a headless master still waiting for its workers (none came: a wrong --master-port, workers that
            # failed): Locust's waiting loop never looks at quit(), and SIGTERM from `timeout` left one running
            # for an hour. Nothing has started: end it here, in its main greenlet
            sys.stderr.write(f"loadsim: {name} before the test started (the Locust master was waiting for its "
                             "workers): nothing was run\n")
            sys.stderr.flush()
            self._main.throw(SystemExit(EXIT_INTERRUPTED))
            return
        log.info("%s: stopping the HA pairs, then writing the summary (interrupted), then stopping", name)
        self.stop_test(interrupted=True)
        # Locust's own way out, as at the end of --run-time: the runner's greenlets end, Locust's main loop
        # returns and shuts down (its ``quitting`` stops the embedded cluster)
        runner.quit()
        web_ui = getattr(self.environment, "web_ui", None)
        if web_ui is not None:
            web_ui.stop()

    def stop_after_write_error(self) -> None:
        """The run folder cannot be written (disk full, read-only): stop the test, keep what was written; a
        headless Locust (nobody to fix it in a web UI) quits, with the exit code the failure set."""
        log.info("stopping the test: its results cannot be written")
        self.lifecycle.fail()
        self.stop_test(interrupted=True)
        if getattr(self.namespace, "headless", False) or getattr(self.environment, "web_ui", None) is None:
            self.environment.runner.quit()

    def stop_test(self, interrupted: bool) -> None:
        """Stop the users of a test still running (each HA pair's ORS nodes finish their operation in flight),
        then write its summary. Locust's ``runner.stop()`` fires ``test_stop``, which writes it."""
        with self._stop_lock:
            if self.run is None:
                return
            self.lifecycle.stopping(interrupted)
            runner = self.environment.runner
            deadline = time.monotonic() + 60
            while runner.state in (STATE_CLEANUP, STATE_STOPPING) and time.monotonic() < deadline:
                gevent.sleep(0.1)  # another greenlet is stopping the users: its test_stop writes the summary
            runner.stop()
            self.finish_run(interrupted=self.interrupted)

    # ------------------------------------------------------------------ Locust events
    def on_init(self) -> None:
        if self.is_worker:
            self.environment.runner.register_message(STEADY_MESSAGE, self._on_steady_message)
            self.environment.runner.register_message(SAMPLED_MESSAGE, lambda *_a, **_k: self.master_sampled.set())
            self._idle_window = IdleWindow(LOCUST_WORKER)  # idle until the master's spawn message
            return  # a worker gets its options from the master with the first spawn (see on_test_start)
        self.start_values = {dest: given for dest, given in vars(self.namespace).items()
                              if dest not in webui.form_fields()}
        self.engine = self.build_engine_or_exit()
        estate, ns = self.engine.estate, self.namespace
        if estate is not None and getattr(ns, "num_users", None) in (None, self.scenario.ha_pairs):
            ns.num_users = ns.spawn_rate = estate.ha_pairs  # the estate says how many pairs (-u still overrides)
            log.info("estate %s: %d HA pairs in %d group(s)", estate.source, estate.ha_pairs, len(estate.groups))
        for params in {self.engine.pair_params(wl.HaPair(i)) for i in range(self.engine.params.ha_pairs)}:
            warning = params.ttl_warning()
            if warning:
                log.warning("%s", warning)
        if isinstance(self.environment.runner, MasterRunner):
            self.environment.runner.register_message(FINAL_MESSAGE, self._on_final_message)
            self.environment.runner.register_message(TICK_MESSAGE, self._on_tick)
        if getattr(self.environment, "web_ui", None) is not None:
            webui.register(self.environment, self)
            log.info("live Redis Cluster view: /loadsim/redis on the web UI")
            warning = webui.exposure_warning(self.namespace)
            if warning:
                log.warning("%s", warning)
        if not self.engine.opts.persists:
            log.warning("persistence type is '%s', not 'redis': ORS would persist nothing to Redis; "
                        "sessions are simulated and counted, no Redis traffic is sent", self.engine.opts.type)
        if getattr(self.namespace, "headless", False):
            # the idle masters' own CPU (unit costs), measured now: Locust's --run-time timer starts with the test,
            # and a window taken at test start would come out of the run's time (a 7 s run then left no steady
            # state after its pre-fill). A web UI test measures it at its start: its run time starts after.
            self._idle_cpu, self._own_idle = self.measure_idle()

    def measure_idle(self) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """The idle masters' own CPU and, over the same window, this process's (the generator's when it is the
        only process; a Locust master's is not the generator's and is left out)."""
        only = not isinstance(self.environment.runner, MasterRunner)
        return Run.measure_idle(self.engine, self.cluster, (lambda: IdleWindow(ONLY_PROCESS)) if only else None)

    def on_test_start(self, **_kw: object) -> None:
        if self.is_worker:  # first: what follows (the engine, the previous test's clean-up) is no idle CPU
            window, self._idle_window = self._idle_window, None
            self.worker_idle = window.result() if window is not None else None
        previous = self.engine
        if previous is not None and previous.pairs:
            # A second test in this process (the web UI's "new test"): remove what the first one left in
            # Redis, so that memory, keys and the fitted unit costs describe this test alone.
            try:
                deleted = previous.delete_sessions()
            except RedisError as exc:
                log.warning("could not delete the previous test's sessions (%s): memory and keys of this test "
                            "include them", exc)
            else:
                log.info("new test: deleted the %d sessions the previous test left in Redis", deleted)
        # The options as they are now: the web UI's form changes them between tests (and a worker gets the
        # master's with each spawn).
        if self.is_worker or getattr(self.environment, "web_ui", None) is None:
            self.engine = self.build_engine_or_exit()
        else:
            self.pin_start_values()
            # Locust says "spawning" only after test_start, and this one may restart the embedded cluster first:
            # the web UI's page reads the run's phase meanwhile (webui.register), never "ready"
            self.lifecycle.starting_test()
            try:
                self.engine = self.build_engine(form=True)
            except UserError as exc:
                # a bad value typed into the form: refuse this test, keep the web UI (and Locust) running
                log.error("loadsim: error: %s; the test was not started: fix the form and start again", exc)
                self.lifecycle.test_refused()
                self._run_time = None
                gevent.spawn_later(0, self.environment.runner.stop)
                return
        eng = self.engine
        if previous is not None and previous is not eng:
            previous.retire()  # its listeners and any wait for its steady window end with its test
        runner = self.environment.runner
        n = getattr(runner, "target_user_count", None) or getattr(self.namespace, "num_users", None)
        # before any pair writes: the idle masters' own CPU (unit costs); headless, measured at start-up
        idle, self._idle_cpu = self._idle_cpu, None
        own_idle, self._own_idle = self._own_idle, None
        if idle is None and not self.is_worker and not getattr(self.namespace, "headless", False):
            idle, own_idle = self.measure_idle()
        warm_locust_stop()  # before any pair starts: the stop must not stall the schedulers
        eng.reset(replace(eng.params, ha_pairs=int(n or self.scenario.ha_pairs)))
        if eng.estate is not None and eng.params.ha_pairs != eng.estate.ha_pairs and not self.is_worker:
            log.warning("the estate describes %d HA pairs and this test runs %d: pairs past the estate repeat it "
                        "from its first group", eng.estate.ha_pairs, eng.params.ha_pairs)
        if self.is_worker:
            if self.ticker is not None:
                self.ticker.stop()
            self.ticker = WorkerTicker(self.environment.runner, self.worker_payload)
            self.master_sampled.set()  # a read-back of a test before still waiting goes on
            self.master_sampled = gevent.event.Event()
            return
        if self.signals.installed:
            self.signals.install()  # in front of any handler installed since (Locust's, after init)
        self.finish_run(interrupted=True)  # a test still open (a new one started without a stop)
        try:
            self.run = Run(self.environment, eng, self.scenario.name, self.cluster, idle, own_idle)
        except ResultsWriteError as exc:  # the folder passed its probe, then the disk filled (or went read-only)
            sys.stderr.write(f"loadsim: error: {exc}\n")
            sys.stderr.flush()
            record_exit(2, str(exc))
            self.environment.process_exit_code = 2
            self.lifecycle.written(interrupted=False, failed=True)
            gevent.spawn(self.stop_after_write_error)
            return
        self.lifecycle.test_started(prefill=bool(eng.params.prefill))
        eng.start_runners(FaultRunner(eng, eng.faults, self.cluster) if eng.faults else None,
                          MigrationRunner(eng, self.run, eng.settings.migration_step_s)
                          if eng.settings.migrating else None)
        self._start_run_time()

    def on_test_stop(self, **_kw: object) -> None:
        if self.is_worker:
            if self.engine is not None:
                # the test's last figures first (the master's last sample: read-back outside the steady window, as
                # in one process); then this worker's pairs read back the sessions they believe live, and its final
                # message sends the read-back's counts, so the master's totals match Redis's
                if self.ticker is not None:
                    self.ticker.stop()
                    self.environment.runner.send_message(TICK_MESSAGE, self.worker_payload())
                # in its own greenlet: the master's "sampled" arrives through Locust's message loop, which is
                # running this handler
                gevent.spawn(self._read_back_when_sampled, self.master_sampled)
            return
        self.read_back()
        self.finish_run(interrupted=self.interrupted)

    def _read_back_when_sampled(self, sampled: gevent.event.Event) -> None:
        """A Locust worker's read-back, once the master has taken the test's last sample (or after
        ``SAMPLED_WAIT_S``). A worker that read back at once put its GETs in that sample whenever another worker
        stopped later: steady commands/s +5 % and +12 % against one process in 2 runs of 8 (read-back GETs inside
        the window), while the client's series ended before them."""
        sampled.wait(timeout=SAMPLED_WAIT_S)
        self.read_back()
        eng = self.engine
        if eng is None:
            return
        payload = self.worker_payload()
        if eng.readback is not None:
            payload["read_back"] = eng.readback
        self.environment.runner.send_message(FINAL_MESSAGE, payload)
        self._idle_window = IdleWindow(LOCUST_WORKER)  # idle again until the next test

    def read_back(self) -> None:
        """Read back the sessions this process's pairs believe live (--read-back), before the summary."""
        eng = self.engine
        if eng is None or not eng.pairs:
            return
        if not eng.settings.read_back:
            eng.set_readback({"not_done": "turned off (--read-back false)"})
            return
        if not eng.opts.persists:
            eng.set_readback({"not_done": f"persistence type is '{eng.opts.type}': nothing was written to Redis"})
            return
        if eng.fault_runner is not None:
            eng.fault_runner.stop()  # a paused node would block the read-back
        if self.run is not None:
            self.run.stop_sampling()  # the test ends here: the read-back is outside its series and rates
        try:
            eng.set_readback(read_back(eng, eng.pairs))
        except RedisError as exc:
            log.warning("read-back of the live sessions failed: %s", exc)

    def on_reset_stats(self, **_kw: object) -> None:
        """Locust's "Reset stats" button: noted by the run in progress (``Run.note_stats_reset``), not applied to
        loadsim's record."""
        if self.run is not None:
            self.run.note_stats_reset()

    def on_quitting(self, **_kw: object) -> None:
        # Locust fires ``quitting`` before it stops the users (its SIGTERM handler, a library user's close()):
        # stop them first, so that their last operations still reach Redis, then the embedded cluster.
        self.stop_test(interrupted=True)
        self.stop_embedded_cluster()

    def on_quit(self, **_kw: object) -> None:
        """Locust's last event: its command line calls ``sys.exit`` with the run's code right after, so a repeated
        SIGTERM or Ctrl-C from here on is ignored. Putting back the handlers found at the start here (the default
        actions of a command-line process) let such a signal in the last milliseconds of the exit kill the process
        (exit -15 instead of 130) or raise KeyboardInterrupt into it (exit -2), and loadsim's own handler, still
        installed, got -2 too (its greenlet spawned into the interpreter's exit): seen once the HA pairs stopped within
        0.15 s of the first signal (test_interrupts sends the second 0.15 s after the first). A library user's
        ``close()``, whose process goes on, puts the handlers found at the start back."""
        self.signals.ignore_until_exit()

    def finish_run(self, interrupted: bool) -> None:
        if self.engine is not None:
            self.engine.stop_runners()  # no fault after the end (a paused node is resumed), no migration step
        run = self.run
        if run is not None:
            self.lifecycle.writing()
            run.finish(interrupted=interrupted)  # still the current run: workers' last reports land in it
            if self.run is run:
                self.run, self.last_run = None, run
                self.lifecycle.written(interrupted, failed=run.write_error is not None)

    def close(self) -> None:
        """For library users: what Locust's ``quitting`` and ``quit`` do (summarise, stop the embedded cluster,
        put back the signal handlers)."""
        self.on_quitting()
        self.signals.restore()  # the process goes on: its signal state as loadsim found it

    # ------------------------------------------------------------------ master/worker
    def worker_payload(self) -> dict[str, Any]:
        """What a Locust worker sends the master (every second, loadsim.locust.ticker): recorder contents since
        the last report, live sessions, queue depth, CPU (seconds since its test started, % of a core over its last
        second) and RSS, when its pre-fill was drained (``ready_wall``) and when its steady window began (wall clock;
        None = not yet)."""
        eng = self.engine
        assert eng is not None
        steady_wall = (time.time() - (time.perf_counter() - eng.steady_from)
                       if eng.steady_from != float("inf") else None)
        ticker = self.ticker
        return {"recorder": eng.recorder.drain(), "live": eng.live_sessions, "queue": eng.queue_depth,
                "cpu": ticker.cpu_s if ticker else 0.0, "cpu_percent": ticker.cpu_percent if ticker else 0.0,
                "rss": rss_bytes(), "steady_from_wall": steady_wall, "ready_wall": eng.ready_wall,
                "stopped": bool(ticker and ticker.stopped), "idle_cpu": self.worker_idle,
                "pairs": max(len(eng.pairs), eng.pairs_expected()),  # a worker yet to start its pairs is waited for
                "client": eng.client_stats()}  # cumulative: the master keeps each worker's latest

    def _on_steady_message(self, environment: Environment, msg: Message, **_kw: object) -> None:
        if self.engine is not None:
            self.engine.begin_steady_at_wall(float(msg.data["wall"]))

    def _on_tick(self, environment: Environment, msg: Message, **_kw: object) -> None:
        if self.run is not None:
            self.run.merge_worker(msg.node_id, msg.data)

    def _on_final_message(self, environment: Environment, msg: Message, **_kw: object) -> None:
        if self.run is not None:
            self.run.merge_worker(msg.node_id, msg.data, final=True)


def attach(environment: Environment, scenario: Scenario, argv: list[str] | None = None) -> Loadsim:
    """Attach loadsim to a Locust Environment (after its runner is created) and build the engine.

    ``argv``: loadsim's options as command-line words (``["--redis-nodes", "127.0.0.1:7000"]``) for an
    Environment built by hand; None takes the Environment's parsed options (Locust's command line).
    """
    namespace = None
    if argv is not None:
        parser = argparse.ArgumentParser(prog="loadsim")
        scenario.add_arguments(parser)
        parser.add_argument("-u", "--users", dest="num_users", type=int, default=scenario.ha_pairs)
        namespace = parser.parse_args(argv)
    runtime = Loadsim(environment, scenario, namespace)
    environment.loadsim = runtime
    events = environment.events
    events.test_start.add_listener(runtime.on_test_start)
    events.test_stop.add_listener(runtime.on_test_stop)
    events.quitting.add_listener(runtime.on_quitting)
    events.quit.add_listener(runtime.on_quit)
    events.reset_stats.add_listener(runtime.on_reset_stats)
    runtime.on_init()
    return runtime


def engine_of(environment: Environment) -> Engine:
    """The engine of the Environment's current test (for the HA-pair users)."""
    runtime = getattr(environment, "loadsim", None)
    if runtime is None or runtime.engine is None:
        raise RuntimeError("loadsim is not attached to this Locust Environment: declare the scenario with "
                           "loadsim.locust.users.scenario(...) in the locustfile, or call "
                           "loadsim.locust.plugin.attach(environment, scenario, argv)")
    return runtime.engine
