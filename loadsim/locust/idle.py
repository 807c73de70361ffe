"""A generator process's own CPU with no load, measured before its load starts: what the process spends on itself
(Locust's greenlets and heartbeats, loadsim's sampling) is not work per command, and it is taken out of the generator
CPU per command the way an idle master's own CPU is taken out of the server's (``NodeMonitor.idle_cpu``).

Measured per process, because each process pays its own: the only process, over the masters' idle window
(``Run.measure_idle``, about 1 s, the monitor's INFO polls inside it as in the run); a Locust worker, while it waits
for its test (from its start, or from its last test's end, to the master's spawn message). Measured (6 HA pairs x 15
calls/s, AHT 20 s, the same runs with --cps-per-pair 0.001): a test running with no load costs the only process
0.35 % of a core and each of two workers 0.16 %, against 7.4-9.6 % and 4.5-6.9 % each under the load.
"""

from __future__ import annotations

import resource
import time
from typing import Any

# a shorter window says little: getrusage counts in µs, but a process that sleeps 1 s between heartbeats shows
# its rate only over a second or so
MIN_IDLE_WINDOW_S = 0.5
ONLY_PROCESS = "the only generator process, over the masters' idle window before the test"
LOCUST_WORKER = "a Locust worker, waiting for its test"


def process_cpu_s() -> float:
    """This process's CPU seconds so far (user + system)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class IdleWindow:
    """Started where the process is idle; ``result()`` where its load is about to start."""

    def __init__(self, source: str):
        self.source = source
        self.t0, self.cpu0 = time.perf_counter(), process_cpu_s()

    def result(self) -> dict[str, Any] | None:
        """``{share, window_s, source}``: the share of one core this process used since the start of the window;
        None when the window was shorter than ``MIN_IDLE_WINDOW_S``."""
        seconds = time.perf_counter() - self.t0
        if seconds < MIN_IDLE_WINDOW_S:
            return None
        cpu = max(0.0, process_cpu_s() - self.cpu0)
        return {"share": round(cpu / seconds, 6), "window_s": round(seconds, 3), "source": self.source}
