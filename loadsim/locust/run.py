"""One load test's life on the Locust master (or the only process): results folder, once-a-second
samples of the client and of every Redis node, and the summary at the end.

A ``Run`` is created at each test start by the Environment's ``Loadsim`` runtime
(``loadsim.locust.plugin``). Locust workers only simulate HA pairs; they send their recorder contents
to the master with Locust's worker reports, and the master's ``Run`` merges them and writes everything.
"""

from __future__ import annotations

import csv
import logging
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gevent
import gevent.event
from locust.runners import MasterRunner

from loadsim import __version__
from loadsim.config.simulation import recorded
from loadsim.embedded.cluster import EmbeddedCluster
from loadsim.locust.engine import Engine
from loadsim.locust.idle import IdleWindow, process_cpu_s
from loadsim.redis.monitor import NodeMonitor
from loadsim.results import schema
from loadsim.results.host import HostCounters
from loadsim.results.recorder import Recorder
from loadsim.results.schema import CLIENT_COLUMNS, NODE_COLUMNS
from loadsim.results.summary import LATE_STEADY_S, build_summary, cluster_baseline, iso_time
from loadsim.results.text import summary_table
from loadsim.results.writer import ResultsWriteError, RunWriter, new_run_dir, record_exit, write_problem

if TYPE_CHECKING:  # for the types only
    from locust.env import Environment


log = logging.getLogger("loadsim")
STEADY_MESSAGE = "loadsim_steady"  # master -> workers: the one start of every worker's steady window (wall clock)
# how far ahead the master names that start: a message over loopback takes well under a millisecond, a busy host's
# event loop can hold it for tens of ms; a worker that hears of it late begins at once and the master says so
STEADY_NOTICE_S = 1.0
SAMPLED_MESSAGE = "loadsim_sampled"  # master -> workers: the test's last sample is taken, read back now
SAMPLED_WAIT_S = 35.0  # a worker reads back anyway after this (the master waits up to 30 s for the workers' stop)


def _versions() -> dict[str, str]:
    out = {"loadsim": __version__, "python": platform.python_version()}
    for dist in ("locust", "redis", "hiredis", "hdrhistogram", "gevent"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


def _git_commit() -> str | None:
    """The commit of the loadsim checkout this runs from; None for an installed package (which may sit
    inside someone else's git repository, whose commit would say nothing about loadsim)."""
    root = Path(__file__).resolve().parents[2]
    try:
        top = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=root, capture_output=True, text=True,
                             timeout=5).stdout.strip()
        if not top or Path(top).resolve() != root:
            return None
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5)
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _fresh(path: Path) -> Path:
    """``path``, or ``path-2``, ``path-3`` ... when it already holds a run (a second test in the web UI)."""
    candidate, n = path, 1
    while (candidate / "summary.json").exists():
        n += 1
        candidate = path.with_name(f"{path.name}-{n}")
    return candidate


def rss_bytes() -> int:
    """Resident memory of this process now (not the peak)."""
    try:
        return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, IndexError, ValueError):
        return 0


class Run:
    """Results of one test: created at test start on the master/local process."""

    def __init__(self, environment: Environment, engine: Engine, scenario: str,
                 cluster: EmbeddedCluster | None = None,
                 idle_cpu: dict[str, Any] | None = None, own_idle: dict[str, Any] | None = None):
        self.env, self.engine, self.cluster = environment, engine, cluster
        self.idle_cpu = idle_cpu  # the masters' CPU before the load (measure_idle), for the unit costs
        self.own_idle = own_idle  # this process's CPU with no load (loadsim.locust.idle), when it is the generator
        self.distributed = isinstance(environment.runner, MasterRunner)
        root = engine.settings.results_dir
        self.path = _fresh(Path(root)) if root else new_run_dir(Path(os.environ.get("LOADSIM_RESULTS", "results")),
                                                                 scenario)
        self.writer = RunWriter(self.path)
        self.scenario = scenario
        self.started_wall = time.time()
        self.started_perf = engine.start_perf
        self.cpu0 = process_cpu_s()
        self.recorder = engine.recorder if not self.distributed else Recorder()
        self.workers: dict[str, dict[str, Any]] = {}
        self.final_workers: set[str] = set()
        # final messages (the read-back's counts) wait until the last sample is taken: the read-back is outside the
        # series and the steady window, as in one process (ticker.py)
        self._held_finals: dict[str, dict[str, Any]] = {}
        self._ready_walls: dict[str, float] = {}  # per Locust worker: when its pre-fill was drained (wall clock)
        self._steady_known = False  # every worker was ready: the one steady window's start is named and sent
        self._steady_wall = float("inf")  # that start (wall clock)
        self.late_steady: dict[str, tuple[float, int]] = {}  # workers that began it late: (seconds, their HA pairs)
        self.stats_resets: list[float] = []  # when Locust's "Reset stats" was pressed, s from the start (not applied)
        self.worker_read_backs: dict[str, dict[str, Any]] = {}  # per Locust worker, from its final message
        self.client_rows: list[dict[str, Any]] = []
        self.node_rows: list[dict[str, Any]] = []
        self._last_ops: dict[str, int] = {}
        self._last_errors: dict[str, int] = {}
        self._last_cpu = (time.perf_counter(), self.cpu0)
        self.host = HostCounters()  # CPU pressure and steal on this host: was the machine the limit?
        self._finished = False
        self.write_error: str | None = None  # the first failed write into the run folder (the run stopped there)
        self.ended_at: float | None = None  # wall clock at the end of the measured test (stop_sampling)
        self._cpu_at_end: float | None = None  # this process's CPU at the end of the measured test (stop_sampling)
        self._written = gevent.event.Event()  # set once the summary is written (or its writing failed)
        mon_opts = cluster.admin_options if cluster is not None else engine.opts
        self.monitor: NodeMonitor | None = None
        if engine.opts.persists:
            try:
                self.monitor = NodeMonitor(mon_opts)
            except Exception as exc:  # noqa: BLE001 - the run goes on without server samples
                log.warning("server monitor unavailable: %s", exc)
        # what the cluster held before this run's first write (the HA pairs start after test_start): memory
        # calibrates on what the run added, and a cluster that held data is flagged. Before commandstats_start:
        # its EXISTS and SCAN are no workload commands of this run
        prefix = f"ORS:{engine.opts.ors_cluster_name}"
        self.baseline = cluster_baseline(self.monitor.baseline(prefix), prefix) if self.monitor else None
        self.commandstats_start = self.monitor.commandstats() if self.monitor else {}
        self.writer.write_json("commandstats_start.json", self.commandstats_start)
        self.writer.write_json("config.json", self._config())
        self.writer.write_json("summary.json", schema.stub(scenario, iso_time(self.started_wall)))
        self.sample()
        self.greenlet = gevent.spawn(self._loop)
        log.info("results: %s", self.path)

    @staticmethod
    def measure_idle(engine: Any, cluster: EmbeddedCluster | None,
                     own: Callable[[], IdleWindow] | None = None) -> tuple[dict[str, Any] | None,
                                                                              dict[str, Any] | None]:
        """The masters' own CPU before the load starts (``NodeMonitor.idle_cpu``, about 1 s): called before the
        test's clocks start, so the run's window and rates do not include it. None when the cluster cannot be
        monitored. With ``own``, this process's own CPU over the same window too (its idle window opened there:
        the monitor's connections and discovery before it are no idle CPU), else None."""
        if not engine.opts.persists:
            return None, None
        monitor = None
        try:
            # no round-trip probe: CPU counters only, and no probe process's connections left behind
            monitor = NodeMonitor(cluster.admin_options if cluster is not None else engine.opts,
                                  measure_roundtrip=False)
            window = own() if own is not None else None
            masters = monitor.idle_cpu()
            return masters, window.result() if window is not None else None
        except Exception as exc:  # noqa: BLE001 - the run goes on; the unit costs then use the reference value
            log.warning("idle CPU of the masters not measured: %s", exc)
            return None, None
        finally:
            if monitor is not None:
                monitor.close()

    def _config(self) -> dict[str, Any]:
        o = self.env.parsed_options
        return {"scenario": self.scenario, "persistence": self.engine.opts.to_values(redact=True),
                "workload": self.engine.describe(),
                "simulation": recorded(self.engine.settings),
                "cluster": (vars(self.cluster.spec) if self.cluster is not None else None),
                "locust": {"users": getattr(o, "num_users", None), "spawn_rate": getattr(o, "spawn_rate", None),
                           "run_time": getattr(o, "run_time", None), "headless": getattr(o, "headless", None)}}

    def merge_worker(self, client_id: str, payload: dict[str, Any], final: bool = False) -> None:
        if final and self.ended_at is None:
            self.final_workers.add(client_id)
            self._held_finals[client_id] = payload
            return
        self.recorder.merge(payload["recorder"])
        self.workers[client_id] = payload
        if final:
            self.final_workers.add(client_id)
            if "read_back" in payload:  # kept apart: a worker's later report would replace its final payload
                self.worker_read_backs[client_id] = payload["read_back"]
        wall = payload.get("ready_wall")
        if wall is not None:
            self._ready_walls[client_id] = wall
        started = payload.get("steady_from_wall")
        if (started is not None and self._steady_known and started > self._steady_wall + LATE_STEADY_S
                and client_id not in self.late_steady):
            # recorded for the summary (late_steady_starts, the flag worker_late_steady), said once
            self.late_steady[client_id] = (started - self._steady_wall, int(payload.get("pairs", 1)))
            log.warning("Locust worker %s began its steady window %.2f s after the start the master named (the "
                        "message came late: a busy host)", client_id, started - self._steady_wall)
        # one steady window for every worker, named by the master once every worker with HA pairs has written and
        # drained its pre-fill, and a little in the future (STEADY_NOTICE_S) so that each worker hears of it before
        # it begins and counts from the same instant. Before, each worker began its own window and the master's
        # began at the last one's: the earlier workers' operations before it were counted over the master's shorter
        # window (offered 471 against 448 operations/s in one process, 2 runs in 3); and a worker whose first tick
        # had not come yet was not waited for (live sessions 1,661-1,698 against 1,811)
        if self._steady_known or len(self.workers) < int(getattr(self.env.runner, "worker_count", 0) or 0):
            return
        loaded = [cid for cid, w in self.workers.items() if w.get("pairs", 1)]
        if loaded and all(cid in self._ready_walls for cid in loaded):
            self._steady_known = True
            self._steady_wall = max(max(self._ready_walls[cid] for cid in loaded), time.time()) + STEADY_NOTICE_S
            self.env.runner.send_message(STEADY_MESSAGE, {"wall": self._steady_wall})
            self.engine.steady_no_earlier_than(self.started_perf + (self._steady_wall - self.started_wall))

    def live_now(self) -> tuple[int, int]:
        """Live sessions and queued operations now (all Locust workers)."""
        if self.distributed:
            return (sum(w.get("live", 0) for w in self.workers.values()),
                    sum(w.get("queue", 0) for w in self.workers.values()))
        return self.engine.live_sessions, self.engine.queue_depth

    def _cpu_percent(self) -> float:
        now = time.perf_counter()
        cpu = process_cpu_s()
        t0, c0 = self._last_cpu
        self._last_cpu = (now, cpu)
        return 100.0 * (cpu - c0) / max(1e-6, now - t0)

    def _generator_cpu_percent(self) -> dict[str, float | None]:
        """The generator's CPU over the last second, % of one core: the processes that send the commands (every
        Locust worker's last second; in one process, this one) and the busiest one (a process is saturated near one
        core, whatever the others do). With workers, this process (the Locust master) only coordinates: merging the
        workers' figures, sampling Redis, writing the results. Its CPU is its own column, never added in: in one
        process the same work is inside the generator's figure (measured, 6 HA pairs at ~880 commands/s: the master
        0.8-0.95 % of a core beside the workers' 12 %)."""
        own = self._cpu_percent()
        if not self.distributed:
            return {"generator_cpu_percent": round(own, 1), "generator_cpu_busiest_percent": round(own, 1),
                    "coordinator_cpu_percent": None}
        workers = [float(w.get("cpu_percent", 0.0)) for w in self.workers.values()]
        return {"generator_cpu_percent": round(sum(workers), 1),
                "generator_cpu_busiest_percent": round(max(workers, default=0.0), 1),
                "coordinator_cpu_percent": round(own, 1)}

    def sample(self) -> None:
        now = time.time()
        elapsed = time.perf_counter() - self.started_perf
        rec = self.recorder
        live, queue = self.live_now()
        row: dict[str, Any] = {"time": round(now, 3), "elapsed_s": round(elapsed, 3), "live_sessions": live,
                               "queue_depth": queue, "schedule_lag_max_us": round(rec.lag_max_us, 1),
                               "latency_max_us": round(rec.latency_max_us, 1),
                               **self._generator_cpu_percent(),
                               "generator_rss_bytes": rss_bytes() if not self.distributed else
                               sum(w.get("rss", 0) for w in self.workers.values())}
        row["generator_cpu_s"] = round(self.generator_cpu_s(), 4)
        row["coordinator_cpu_s"] = round(self.own_cpu_s(), 4) if self.distributed else None
        row.update(self.host.sample())
        row["commands_total"] = rec.commands
        rec.lag_max_us = rec.latency_max_us = 0.0
        ops_total = errors_total = 0
        for name, count in rec.ops.items():
            d = count - self._last_ops.get(name, 0)
            row[f"ops:{name}"] = d
            ops_total += d
        for kind, count in rec.errors.items():
            d = count - self._last_errors.get(kind, 0)
            row[f"errors:{kind}"] = d
            errors_total += d
        self._last_ops, self._last_errors = dict(rec.ops), dict(rec.errors)
        row.update(ops_total=ops_total, errors_total=errors_total)
        self.client_rows.append(row)
        self.writer.append_rows("client_series.csv", CLIENT_COLUMNS, [row])
        if self.monitor is not None:
            rows = self.monitor.sample()
            for r in rows:  # stamped with the node's answer (``time`` is when the sample asked)
                r["elapsed_s"] = round(self.monitor.answered_at.get(r["node"], r["time"]) - self.started_wall, 3)
            self.node_rows.extend(rows)
            self.writer.append_rows("node_series.csv", NODE_COLUMNS, rows)

    def _loop(self) -> None:
        next_t = time.perf_counter() + 1.0
        while True:
            gevent.sleep(max(0.0, next_t - time.perf_counter()))
            try:
                self.sample()
            except ResultsWriteError as exc:  # the disk is full (or read-only ...): the run stops, saying why
                self.write_failed(exc)
                return
            except Exception as exc:  # noqa: BLE001 - a failed sample must not end the run
                log.warning("sample failed: %s", exc)
            # a late sample is not followed by catch-up samples: missed ticks are skipped, and two samples are
            # never closer than half a period
            next_t = max(next_t + 1.0, time.perf_counter() + 0.5)

    @property
    def writing(self) -> bool:
        """True while ``finish`` writes the summary."""
        return self._finished and not self._written.is_set()

    def note_stats_reset(self) -> None:
        """Locust's "Reset stats" (its web UI) was pressed during the test: Locust's table and locust_stats.csv
        count from now on; the run's record (the recorder's steady window, the summary, the Redis tab) is kept
        whole, and the summary says when the reset came (``locust_stats_reset_at_s``). Resetting the recorder
        would silently change the results folder of a run already part-measured."""
        if self.ended_at is None:
            self.stats_resets.append(round(time.time() - self.started_wall, 2))

    def stop_sampling(self) -> None:
        """The end of the measured test: stop the per-second sampler after one last sample. What follows (the
        read-back, the summary) is outside the series, the rates and the steady window."""
        if self.ended_at is not None:
            return
        self.greenlet.kill(block=True)
        self._cpu_at_end = process_cpu_s()  # the last row's and the summary's CPU: the same figure
        try:
            self.sample()
        except ResultsWriteError as exc:
            self.write_failed(exc)
        except Exception as exc:  # noqa: BLE001
            log.warning("final sample failed: %s", exc)
        self.ended_at = time.time()

    def finish(self, interrupted: bool) -> None:
        """Write the summary, once. A second caller (another greenlet: a signal during the summary, Locust's
        shutdown) waits until the first has written it, so that nothing stops the process half-way."""
        if self._finished:
            self._written.wait()
            return
        self._finished = True
        try:
            self._finish(interrupted)
        finally:
            self._written.set()

    def _finish(self, interrupted: bool) -> None:
        if self.distributed:
            # On --run-time, Locust's master fires test_stop before it tells the workers to stop (it sends
            # them "quit" afterwards). Stop them now and wait (briefly) for every worker's last counts,
            # so the summary covers the same work that Redis counted.
            from locust.rpc import Message

            runner = self.env.runner
            for client in runner.clients.all:
                if client.id not in self.final_workers:
                    runner.server.send_to_client(Message("stop", None, client.id))
            # the end of the test is when every worker has stopped its HA pairs (its last tick says so): the last
            # sample is taken then, as in one process, and each worker's read-back follows outside the run's time,
            # rates and steady window (before, the wait for the read-backs made a 30 s run 32 s long and its
            # commands/s 7 % lower than in one process)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and any(
                    not w.get("stopped") and cid not in self.final_workers for cid, w in self.workers.items()):
                gevent.sleep(0.05)
            self.stop_sampling()
            runner.send_message(SAMPLED_MESSAGE, None)
            deadline = time.monotonic() + 30  # each worker reads its sessions back (seconds)
            while set(self.workers) - self.final_workers and time.monotonic() < deadline:
                gevent.sleep(0.1)
        self.stop_sampling()
        held, self._held_finals = self._held_finals, {}
        for client_id, payload in held.items():
            self.merge_worker(client_id, payload, final=True)
        ended = self.ended_at or time.time()
        cs_end = self.monitor.commandstats() if self.monitor else {}
        env_info = {"seed": self.engine.params.seed, "versions": _versions(), "git_commit": _git_commit(),
                    "host": {"cpu_model": _cpu_model(), "cores": os.cpu_count(), "platform": platform.platform()},
                    "redis_nodes": self.monitor.environment() if self.monitor else {},
                    "started": iso_time(self.started_wall), "ended": iso_time(ended)}
        slots = self.monitor.slots() if self.monitor else {}
        steady_from = self.engine.steady_from
        steady_from_s = (steady_from - self.started_perf) if steady_from != float("inf") else None
        runner = self.engine.fault_runner
        summary = build_summary(
            scenario=self.scenario, started=self.started_wall, ended=ended, steady_from_s=steady_from_s,
            workload=self.engine.describe(), cluster=self._cluster_info(env_info["redis_nodes"]),
            recorder=self.recorder,
            client_rows=self.client_rows, node_rows=self.node_rows, commandstats_start=self.commandstats_start,
            commandstats_end=cs_end, client_cpu_s=self.generator_cpu_s(),
            coordinator_cpu_s=self.own_cpu_s() if self.distributed else None,
            recovery=self.engine.recovery, interrupted=interrupted,
            faults=runner.done if runner is not None else None, redis_client=self._client_stats(),
            error_windows=self.engine.error_windows.report(self.engine.start_perf),
            migration=self.engine.migration.steps if self.engine.migration is not None else None,
            read_back=self._read_back(), latencystats=self.monitor.latencystats() if self.monitor else None,
            cluster_audit=self.engine.audit, idle_cpu=self.idle_cpu, baseline=self.baseline,
            late_steady=self.late_steady, stats_resets=self.stats_resets,
            generator_idle=self.generator_idle())
        try:
            self.writer.write_json("environment.json", env_info)
            self.writer.write_json("commandstats_end.json", cs_end)
            self.writer.write_json("slots.json", slots)
            for (op, kind), hist in self.recorder.hist.items():
                self.writer.write_text(f"histograms/{op}.{kind}.hdr", hist.encode().decode() + "\n")
            if self.recorder.lag.get_total_count():
                self.writer.write_text("histograms/schedule.lag.hdr", self.recorder.lag.encode().decode() + "\n")
            self._write_locust_csv()
            self.writer.write_json("summary.json", summary)  # last: a complete summary means every file is there
        except ResultsWriteError as exc:
            self.write_failed(exc)
        self.writer.close()
        if self.monitor is not None:
            self.monitor.close()
        where = (f"results: {self.path} is INCOMPLETE (what was written before the failure is kept; summary.json "
                 f"is its start stub): {self.write_error}" if self.write_error else f"results: {self.path}")
        print("\n" + summary_table(summary) + f"\n\n{where}\n", flush=True)

    def _client_stats(self) -> dict[str, int]:
        """The cluster clients' counters: this process's, or with Locust workers the sum of their latest."""
        if not self.distributed:
            return self.engine.client_stats()
        total: dict[str, int] = dict.fromkeys(self.engine.client_stats(), 0)
        for w in self.workers.values():
            for k, v in w.get("client", {}).items():
                total[k] = total.get(k, 0) + int(v)
        return total

    def _read_back(self) -> dict[str, Any] | None:
        """This process's read-back, or with Locust workers the merge of theirs (each reads its own pairs'
        sessions); a worker whose final message did not come is named as not read back."""
        if not self.distributed:
            return self.engine.readback
        from loadsim.locust.readback import merge

        parts = list(self.worker_read_backs.values())
        merged = merge(parts)
        missing = len(self.workers) - len(parts)
        if merged is not None and missing:
            merged["incomplete"] = f"{missing} of {len(self.workers)} Locust workers sent no read-back"
        elif merged is None and self.workers:
            merged = {"not_done": f"none of the {len(self.workers)} Locust workers sent a read-back"}
        return merged

    def generator_cpu_s(self) -> float:
        """CPU seconds since the test started of the processes that send the commands: the Locust workers (each
        frozen at its stop: its read-back is not the test's), or this process when it is the only one."""
        if self.distributed:
            return sum(float(w.get("cpu", 0.0)) for w in self.workers.values())
        return self.own_cpu_s()

    def generator_idle(self) -> list[dict[str, Any] | None]:
        """Each generator process's own CPU with no load (``loadsim.locust.idle``; None: not measured): every Locust
        worker's, from its reports, or this process's when it is the only one."""
        if self.distributed:
            return [w.get("idle_cpu") for w in self.workers.values()]
        return [self.own_idle]

    def own_cpu_s(self) -> float:
        """This process's CPU seconds from the test's start to its end (stop_sampling), or to now."""
        return (self._cpu_at_end if self._cpu_at_end is not None else process_cpu_s()) - self.cpu0

    def _cluster_info(self, nodes: dict[str, dict[str, str]]) -> dict[str, Any]:
        """The cluster's shape; *nodes* is ``NodeMonitor.environment()`` (server version, allocator)."""
        roles = self.monitor.nodes if self.monitor else {}  # as discovered at the start
        masters = sum(1 for r in roles.values() if r == "master")
        replicas = sum(1 for r in roles.values() if r != "master")
        if self.monitor is not None:  # masters at the end: the nodes that answered as masters in the last sample
            roles = {n: r for n, r in self.monitor.roles_now.items() if n not in self.monitor.down}
        spec = self.cluster.spec if self.cluster is not None else None
        info: dict[str, Any] = {"masters": sum(1 for r in roles.values() if r == "master"),
                                "replicas": replicas // masters if masters else 0,
                                "tls": self.engine.opts.tls_enabled, "mutual_tls": bool(self.engine.opts.tls_cert),
                                "acl": bool(self.engine.opts.username), "aof": bool(spec.aof) if spec else None,
                                "embedded": spec is not None}
        master_names = {str(n) for n, r in roles.items() if r == "master"}
        for key in ("redis_version", "mem_allocator"):
            seen = sorted({e[key] for name, e in nodes.items() if key in e and (name in master_names
                                                                                  or not master_names)})
            if seen:
                info[key] = ", ".join(seen)
        return info

    def write_failed(self, exc: ResultsWriteError) -> None:
        """A write into the run folder failed: say so once (one line naming the folder and the fix), make the
        process exit non-zero, and stop the test (Locust's process too, when headless)."""
        if self.write_error is not None:
            return
        self.write_error = str(exc)
        sys.stderr.write(f"loadsim: error: {exc}\n")
        sys.stderr.flush()
        record_exit(2, str(exc))
        self.env.process_exit_code = 2
        runtime = getattr(self.env, "loadsim", None)
        if runtime is not None and not self._finished:
            gevent.spawn(runtime.stop_after_write_error)

    def _write_locust_csv(self) -> None:
        from locust.stats import PERCENTILES_TO_REPORT, StatsCSV

        stats_csv = StatsCSV(self.env, PERCENTILES_TO_REPORT)
        for name, method in (("locust_stats.csv", stats_csv.requests_csv), ("locust_failures.csv",
                                                                               stats_csv.failures_csv)):
            try:
                with open(self.path / name, "w", newline="", encoding="utf-8") as fh:
                    method(csv.writer(fh))
            except OSError as exc:
                raise write_problem(self.path, exc) from None
        # Locust's own --csv files are a snapshot its writer greenlet takes every second, and it never takes a
        # last one before closing them: they missed the operations of the last second (793 creates against
        # the summary's 841 were seen). Rewrite them now, with the final counts. The greenlet keeps its handle on
        # the same file: its next pass (same header, the same frozen statistics) writes the same rows.
        prefix = getattr(self.env.parsed_options, "csv_prefix", None)
        if prefix:
            for suffix, method in (("_stats.csv", stats_csv.requests_csv), ("_failures.csv", stats_csv.failures_csv)):
                target = Path(f"{prefix}{suffix}")
                if target.exists():
                    with open(target, "w", newline="", encoding="utf-8") as fh:
                        method(csv.writer(fh))

