"""A Locust worker's figures for the master, every second: live sessions, queue, CPU, recorder contents.

Locust's own worker reports come every 3 s (``locust.runners.WORKER_REPORT_INTERVAL``), and the master samples
every second: its per-second series then held each worker's figure of up to 3 s before (live sessions dropped to
0 in the first samples of the steady window; measured: steady mean 321 with --processes 2 against 355 locally
for the same 6 HA pairs), and its own CPU stood for the generator's (``generator CPU p90 1 %`` while the workers
used 2.6 s of CPU in 15 s). Each worker now sends its figures once a second, with its own CPU per second.

At its stop a worker sends one last tick (``stopped``) before it reads its sessions back: the master's last sample
is taken from those, so the read-back's commands and CPU are outside the steady window, as in one process (where
the read-back follows the last sample). A worker's CPU is frozen at its stop for the same reason.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import gevent

from loadsim.locust.idle import process_cpu_s

TICK_MESSAGE = "loadsim_tick"
TICK_S = 1.0
MAX_TICKS = 60 * 24 * 3600  # bounds the loop (60 days of ticks); a test stops it long before


class WorkerTicker:
    """Started at a worker's test start, stopped before its final message. ``payload`` builds what is sent
    (``plugin.Loadsim.worker_payload``); ``cpu_s`` and ``cpu_percent`` are this worker's CPU since its test
    started and over its last second."""

    def __init__(self, runner: Any, payload: Callable[[], dict[str, Any]]):
        self.runner, self.payload = runner, payload
        self.cpu0 = process_cpu_s()
        self._last = (time.perf_counter(), self.cpu0)
        self.cpu_percent = 0.0
        self.stopped_cpu_s: float | None = None  # the CPU at the stop (the read-back's is not the test's)
        self.greenlet = gevent.spawn(self._loop)

    @property
    def cpu_s(self) -> float:
        if self.stopped_cpu_s is not None:
            return self.stopped_cpu_s
        return process_cpu_s() - self.cpu0

    @property
    def stopped(self) -> bool:
        return self.stopped_cpu_s is not None

    def _loop(self) -> None:
        for _ in range(MAX_TICKS):
            gevent.sleep(TICK_S)
            now, cpu = time.perf_counter(), process_cpu_s()
            t0, c0 = self._last
            self._last = (now, cpu)
            self.cpu_percent = round(100.0 * (cpu - c0) / max(1e-6, now - t0), 1)
            self.runner.send_message(TICK_MESSAGE, self.payload())

    def stop(self) -> None:
        self.greenlet.kill(block=True)
        if self.stopped_cpu_s is None:
            self.stopped_cpu_s = process_cpu_s() - self.cpu0
