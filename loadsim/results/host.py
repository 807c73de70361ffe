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
from pathlib import Path

PRESSURE = Path("/proc/pressure/cpu")
STAT = Path("/proc/stat")


def _pressure_total_us() -> float | None:
    try:
        for line in PRESSURE.read_text().splitlines():
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


class HostCounters:
    """Deltas of host contention since the previous ``sample()``."""

    def __init__(self) -> None:
        self._last = (time.monotonic(), _pressure_total_us(), _cpu_ticks())

    def sample(self) -> dict[str, float | None]:
        """``host_cpu_pressure_percent`` (share of wall time a runnable task waited for CPU) and
        ``host_steal_percent`` (share of all CPU time stolen) since the last call; None when not available."""
        now, pressure, ticks = time.monotonic(), _pressure_total_us(), _cpu_ticks()
        t0, p0, k0 = self._last
        self._last = (now, pressure, ticks)
        wall_us = (now - t0) * 1e6
        out: dict[str, float | None] = {"host_cpu_pressure_percent": None, "host_steal_percent": None}
        if pressure is not None and p0 is not None and wall_us > 0:
            out["host_cpu_pressure_percent"] = round(min(100.0, 100.0 * max(0.0, pressure - p0) / wall_us), 1)
        if ticks is not None and k0 is not None and ticks[1] > k0[1]:
            out["host_steal_percent"] = round(100.0 * max(0.0, ticks[0] - k0[0]) / (ticks[1] - k0[1]), 1)
        return out
