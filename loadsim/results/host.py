"""Contention on the host the generator runs on, sampled once a second beside the client series.

Two Linux counters say whether the machine, not Redis, was short of CPU:

* ``/proc/pressure/cpu`` (PSI, Linux >= 4.20): the ``some`` line's ``total`` is the microseconds during which at
  least one runnable task waited for a CPU. Its growth per second of wall time is the share of time someone
  waited: the generator's wake-ups are late in exactly that time.
* ``/proc/stat``'s ``steal`` column: CPU time the hypervisor gave to other guests (a noisy neighbour).

Either may be missing (older kernels, containers without PSI): the figure is then None, never 0.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PRESSURE = Path("/proc/pressure/cpu")
MEMORY_PRESSURE = Path("/proc/pressure/memory")
IO_PRESSURE = Path("/proc/pressure/io")
STAT = Path("/proc/stat")


def _pressure_total_us(path: Path = PRESSURE) -> float | None:
    """The ``some`` line's ``total`` (µs) of a PSI file (/proc/pressure/cpu, memory, io); None without PSI."""
    try:
        for line in path.read_text().splitlines():
            if line.startswith("some "):
                fields = dict(f.split("=", 1) for f in line.split()[1:])
                return float(fields["total"])
    except (OSError, KeyError, ValueError):
        pass
    return None


def _cpu_ticks() -> tuple[float, float] | None:
    """(steal ticks, all ticks) of the ``cpu`` line of /proc/stat, all CPUs."""
    try:
        with STAT.open() as fh:
            fields = fh.readline().split()
        if fields[0] != "cpu" or len(fields) < 9:
            return None
        values = [float(v) for v in fields[1:]]
        # guest and guest_nice (columns 9, 10) are already counted in user and nice
        return values[7], sum(values[:8])
    except (OSError, ValueError, IndexError):
        return None


@dataclass(frozen=True)
class HostFigure:
    """One host counter, as a row of ``HOST_FIGURES``: its key (the summary's ``host.<key>``, mean and ``<key>_max``
    over the window; the per-second column ``host_<key>``), what it is, and how a per-second share is had from two
    readings (``read``: a reading now; ``share``: the % between two readings over ``wall_us`` of wall time, None
    when either is missing). The per-second series, the summary, its schema and the run classification's evidence
    (``RunEvidence.host``) iterate over the rows: a new counter is a new row, and a new rig-bound reason on it a
    row of ``loadsim.model.runclass.CHECKS``."""

    key: str
    meaning: str
    read: Callable[[], Any]
    share: Callable[[Any, Any, float], float | None]


def _psi_share(now: float | None, before: float | None, wall_us: float) -> float | None:
    if now is None or before is None or wall_us <= 0:
        return None
    return round(min(100.0, 100.0 * max(0.0, now - before) / wall_us), 1)


def _steal_share(now: tuple[float, float] | None, before: tuple[float, float] | None, _: float) -> float | None:
    if now is None or before is None or now[1] <= before[1]:
        return None
    return round(100.0 * max(0.0, now[0] - before[0]) / (now[1] - before[1]), 1)


HOST_FIGURES: tuple[HostFigure, ...] = (
    HostFigure("cpu_pressure_percent", "mean share of time a runnable task waited for a CPU on the generator's host "
               "(/proc/pressure/cpu some), steady window (whole run without one), %; null: the kernel does not "
               "report it", _pressure_total_us, _psi_share),
    HostFigure("steal_percent", "mean share of CPU time stolen by the hypervisor (/proc/stat steal), %",
               _cpu_ticks, _steal_share),
    HostFigure("memory_pressure_percent", "mean share of time a task on the generator's host stalled on memory "
               "(reclaim, swap-in, thrashing: /proc/pressure/memory some), %; null: the kernel does not report it",
               lambda: _pressure_total_us(MEMORY_PRESSURE), _psi_share),
    # a burst of disk work (a copy, a package install) stalls the generator's own writes (dirty-page throttling)
    # without any CPU pressure; the closure check's quiet-host gate reads it (loadsim.model.runclass.quiet_host)
    HostFigure("io_pressure_percent", "mean share of time a task on the generator's host waited for disk I/O "
               "(/proc/pressure/io some), %; null: the kernel does not report it",
               lambda: _pressure_total_us(IO_PRESSURE), _psi_share),
)
COLUMNS = tuple(f"host_{f.key}" for f in HOST_FIGURES)  # the per-second series' host columns


class HostCounters:
    """Deltas of host contention since the previous ``sample()``."""

    def __init__(self) -> None:
        self._last = (time.monotonic(), [f.read() for f in HOST_FIGURES])

    def sample(self) -> dict[str, float | None]:
        """``host_<key>`` of every row of ``HOST_FIGURES`` (``host_cpu_pressure_percent``: share of wall time a
        runnable task waited for CPU; ``host_steal_percent``: share of all CPU time stolen) since the last call;
        None when not available."""
        now, readings = time.monotonic(), [f.read() for f in HOST_FIGURES]
        t0, before = self._last
        self._last = (now, readings)
        wall_us = (now - t0) * 1e6
        return {f"host_{f.key}": f.share(a, b, wall_us) for f, a, b in zip(HOST_FIGURES, readings, before,
                                                                            strict=True)}
