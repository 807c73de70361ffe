"""What a Redis Cluster costs, one typed record with where every figure comes from (pure: numbers in, numbers out).

Server CPU of one master over a window (``used_cpu_sys + used_cpu_user``: socket I/O, parsing, TLS included)::

    cpu_s = base x seconds + per_command x commands + per_byte x bytes received

* ``per_command`` and ``base``: at the rates a rig drives (a few hundred commands/s per master) nearly every command
  wakes the master's event loop on its own, and a wake-up after a few ms asleep on a shared host costs more than the
  command (a cold cache: an idle master's wake-ups cost ~100 µs each here). A master's CPU per command therefore
  falls as its rate rises: 77 µs at 140 commands/s, 48 µs at 414 in the same minutes (2 cores at 95 % CPU pressure;
  memtier_benchmark, which batches its connections' sends, read 23 µs at 370/s and 13.5 µs at 2,000/s). Charging
  it all per command (one pooled figure) made a fit on a sweep's 1- and 3-pair runs predict a complex run at the
  1-pair rate 6 to 15 % low. Fitted on runs at different rates, CPU is a straight line in the command rate: its
  slope is ``per_command`` (what one more command costs) and its intercept ``base`` (what a busy master spends
  apart from its commands; at least the idle share measured before the load, ``summary.server.idle_cpu``: cron,
  the cluster bus, the monitor's INFO polls). The production question gives the rate per master, so the same line
  sizes it; above the runs' rates it errs high (the slope still holds some wake-up cost), never low.
* ``per_replica_write``: a master writes every write command again to each replica's link (reads are not
  propagated): memtier_benchmark at 1,000 SETs/s of 2 KB read 17.4 µs per command alone and 23.0 µs with one replica
  (+32 %), so 5.6 µs per write per replica (a reference value). ``per_command`` holds the replicas of what it was
  measured on (``CpuCosts.replicas``: the runs' own, 0 for the reference runs and ``loadsim capacity``); a question
  with other replicas adds (or removes) this cost per replica of the difference, times the workload's write share
  (``CpuCosts.for_replicas``), and the CPU line says so.
* ``per_byte``: a 16 KB session write costs the master a little more than a 4 KB one (reading it off the socket,
  copying it, TLS decrypting it): 0.40 ns per byte received plain, memtier_benchmark 2 KB against 8 KB SETs at the
  same 2,000 commands/s. (The 3.5 ns/B this replaced came from complex runs at lower rates than the standard ones:
  their dearer wake-ups were charged to the bytes, and a fit on standard runs predicted a complex run +15 to +26 %.)

Precedence (``PRECEDENCE``): a ``loadsim capacity`` measurement beats a fit of runs, which beats the model's
reference values (``loadsim.defaults``); each figure says which it is (``Cost.source``) and how it was obtained
(``Cost.basis``). Plain and TLS have their own CPU figures (``UnitCosts.cpu_for``).

``UnitCosts.service_s`` is a command's CPU on the master's one main thread (what the latency composition adds per
command and what queueing sees): every surface that prints a CPU per command prints this, at the bytes per command
of what it describes.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, replace
from typing import Any

from loadsim import defaults as D
from loadsim.model import workload as wl
from loadsim.model.footprint import EMPTY_MASTER_BYTES
from loadsim.model.latency import DEFAULT_REDIS, RedisLatency

# where a figure comes from, strongest first
CAPACITY = "capacity"  # `loadsim capacity`: redis-benchmark's closed loop at a master's saturation
FITTED = "runs"  # fitted on measured runs (steady windows)
REFERENCE = "reference"  # the model's reference values (loadsim.defaults: measured on the reference machine)
PRECEDENCE = (CAPACITY, FITTED, REFERENCE)
SOURCE_TEXT = {CAPACITY: "capacity measurement", FITTED: "fitted runs", REFERENCE: "reference value"}

# Fewer runs than this give no interval: two points fit two parameters exactly.
MIN_RUNS_FOR_SPREAD = 3
# Runs must differ this much (largest / smallest) on a regressor (commands/s per master, bytes per command) for a
# least-squares fit to tell its term apart: a sweep's 1 and 3 HA pairs give 3x, the standard and complex presets 4x.
SPREAD_FOR_FIT = 1.5


@dataclass(frozen=True)
class Cost:
    """One unit cost: its value, its source (``PRECEDENCE``), how it was obtained and its standard error when the
    source gives one."""

    value: float
    source: str
    basis: str
    se: float | None = None

    def interval(self) -> tuple[float, float] | None:
        """95 % interval (value +- 1.96 se), None without a standard error."""
        if self.se is None or not math.isfinite(self.se):
            return None
        return self.value - 1.96 * self.se, self.value + 1.96 * self.se

    def short(self, scale: float = 1.0, unit: str = "", digits: int = 1) -> str:
        """``15.3 µs (fitted runs)``: the value and its source, for one-line surfaces."""
        return f"{self.value * scale:,.{digits}f}{unit} ({SOURCE_TEXT[self.source]})"

    def text(self, scale: float = 1.0, unit: str = "", digits: int = 1) -> str:
        """``15.3 µs (fitted runs: ...; 95 % 14.1 .. 16.5)``."""
        iv = self.interval()
        spread = f"; 95 % {iv[0] * scale:,.{digits}f} .. {iv[1] * scale:,.{digits}f}" if iv else ""
        return f"{self.value * scale:,.{digits}f}{unit} ({SOURCE_TEXT[self.source]}: {self.basis}{spread})"


_REPLICA_DEFAULT = D.DEFAULTS["cpu_s_per_replica_write"]
REPLICA_WRITE = Cost(float(_REPLICA_DEFAULT.value), REFERENCE, _REPLICA_DEFAULT.basis)
# A fitted per-command figure loses at most half of itself to replicas it was measured with: one replica added
# 32 % (17.4 against 23.0 µs), so even 2 replicas removed leave 1 / 1.64 = 61 % of it; a floor keeps a CPU per
# command positive when a noisy fit is smaller than the reference propagation cost.
MIN_SHARE_WITHOUT_REPLICAS = 0.5


@dataclass(frozen=True)
class CpuCosts:
    """Server CPU of one master, plain or TLS: ``base x seconds + (per_command + replica_extra) x commands +
    per_byte x bytes``; ``replica_extra`` is what the question's replicas add beyond those ``per_command`` was
    measured with (``for_replicas``; 0 until asked)."""

    per_command: Cost  # CPU seconds per command beyond its bytes, at ``replicas`` replicas per master
    per_byte: Cost  # CPU seconds per byte the master receives
    base: Cost  # share of one core a master uses apart from its commands (at least an idle master's)
    replicas: float = 0.0  # replicas per master of what per_command was measured on (the runs', 0 for the reference)
    per_replica_write: Cost = REPLICA_WRITE  # CPU seconds per write command per replica (propagating it)
    replica_extra_s: float = 0.0  # CPU seconds per command the question's replicas add (negative: remove)
    replica_note: str = ""  # "incl. +5.6 µs for 1 replica more than measured (0 per master): ..."; "" when equal

    def for_replicas(self, replicas: float, write_share: float) -> CpuCosts:
        """These costs for a master with ``replicas`` replicas whose commands are ``write_share`` writes: the
        reference propagation cost per replica of the difference from the measured replicas (none when equal)."""
        diff = replicas - self.replicas
        if diff == 0 or write_share <= 0:
            return replace(self, replica_extra_s=0.0, replica_note="")
        extra = max(diff * write_share * self.per_replica_write.value,
                    -(1 - MIN_SHARE_WITHOUT_REPLICAS) * self.per_command.value)
        n = abs(diff)
        count = f"{n:g} replica{'s' if n != 1 else ''}"
        note = (f"incl. {extra * 1e6:+.1f} µs for {count} {'more' if diff > 0 else 'fewer'} than measured "
                f"({self.replicas:g} per master): {self.per_replica_write.value * 1e6:.1f} µs per write per replica "
                f"x {100 * write_share:.0f} % writes ({SOURCE_TEXT[self.per_replica_write.source]})")
        return replace(self, replica_extra_s=extra, replica_note=note)

    @property
    def per_command_s(self) -> float:
        """CPU seconds per command beyond its bytes, at the question's replicas."""
        return self.per_command.value + self.replica_extra_s

    def service_s(self, bytes_per_command: float) -> float:
        """CPU seconds one command of this many bytes (received) costs the master's main thread."""
        return self.per_command_s + self.per_byte.value * max(0.0, bytes_per_command)

    def ceiling_commands_per_s(self, bytes_per_command: float, cpu_ceiling: float) -> float:
        """Commands/s of this size one master carries at ``cpu_ceiling`` (share of one core) less its base share:
        the one ceiling plan's CPU constraint uses (``loadsim capacity`` prints it, ``plan`` shows it)."""
        service = self.service_s(bytes_per_command)
        return max(0.0, cpu_ceiling - self.base.value) / service if service > 0 else math.inf

    def utilisation(self, commands_per_s: float, bytes_per_s: float) -> float:
        """Share of one core a master uses at this load."""
        return self.base.value + commands_per_s * self.per_command_s + bytes_per_s * self.per_byte.value

    def seconds(self, master_seconds: float, commands: float, bytes_in: float) -> float:
        """CPU seconds of masters over a window (``master_seconds``: masters x seconds)."""
        return self.base.value * master_seconds + commands * self.per_command_s + bytes_in * self.per_byte.value

    @property
    def source(self) -> str:
        """The strongest source among the three figures."""
        return min((self.per_command.source, self.per_byte.source, self.base.source), key=PRECEDENCE.index)


def flat_cpu(per_command_s: float, basis: str = "given", se: float | None = None, idle: float = 0.0,
             per_byte_s: float = 0.0, source: str = FITTED) -> CpuCosts:
    """CPU costs from one per-command figure (and optionally an idle share and a per-byte figure)."""
    return CpuCosts(Cost(per_command_s, source, basis, se), Cost(per_byte_s, source, basis),
                    Cost(idle, source, basis))


def _reference(tls: bool) -> CpuCosts:
    prefix = "tls_" if tls else ""
    figures = []
    for name in ("cpu_s_per_command", "cpu_s_per_byte", "base_cpu_per_master"):
        d = D.DEFAULTS[prefix + name] if prefix + name in D.DEFAULTS else D.DEFAULTS[name]
        figures.append(Cost(float(d.value), REFERENCE, d.basis))
    return CpuCosts(*figures)


REFERENCE_PLAIN = _reference(False)
REFERENCE_TLS = _reference(True)


@dataclass(frozen=True)
class RunFigures:
    """One fitted run's own figures beside the model's, for the report's unit-cost table."""

    name: str
    run_class: str
    bytes_per_session: float  # (used_memory - base x masters - connections) / live sessions, measured
    model_bytes_per_session: float  # the model's for that run's sessions (0 when not modelled)
    cpu_us_per_command: float  # the run's steady window: server CPU / commands, idle CPU included
    bytes_per_command: float = 0.0  # bytes the masters received per command, steady window (0: not measured)
    tls: bool = False
    unit_cpu_us_per_command: float = 0.0  # what the unit costs give for its steady window (idle included)


@dataclass(frozen=True)
class CpuSample:
    """What the CPU fit needs of one run (steady window, all masters)."""

    name: str
    tls: bool
    cpu_s: float
    master_seconds: float
    commands: float
    bytes_in: float | None  # None: not measured (runs from before the byte counters were kept)
    idle_share: float | None  # measured before the load; None: not measured
    replicas: float = 0.0  # replicas per master of the run's cluster
    write_share: float = 1.0  # share of its commands that write (what a master propagates to its replicas)


def _pooled_se(values: list[float], weights: list[float]) -> float | None:
    if len(values) < MIN_RUNS_FOR_SPREAD:
        return None
    total = sum(weights)
    mean = sum(v * w for v, w in zip(values, weights, strict=True)) / total
    var = sum(w * (v - mean) ** 2 for v, w in zip(values, weights, strict=True)) / total
    return math.sqrt(var * len(values) / (len(values) - 1)) / math.sqrt(len(values))


def _spans(values: list[float]) -> bool:
    """Whether runs spread enough (1.5x) on a regressor for least squares to tell its term apart."""
    return len(values) >= 2 and min(values) > 0 and max(values) >= SPREAD_FOR_FIT * min(values)


def fit_cpu(samples: list[CpuSample], tls: bool) -> CpuCosts:
    """The CPU costs of one arm (plain or TLS) from its runs; the reference values where the runs cannot tell.

    Least squares of ``cpu = base x master-seconds + per_command x commands + per_byte x bytes`` over the runs'
    steady windows, each term fitted only when the runs spread on it (``SPREAD_FOR_FIT``) and there are as many
    runs as fitted terms (two runs that spread on both fit the base), else taken apart:

    * base: fitted when the runs' commands/s per master spread (the sweep's points at 1 and 3 HA pairs), and not
      below the idle share the runs measured before their load; else that idle share (the reference without one);
    * per byte: fitted when the runs' bytes per command spread (the standard and complex presets); else the
      reference value;
    * per command: fitted with them, else the rest pooled over the runs. A fit that makes any term negative is
      dropped for the pooled figures (the runs cannot tell).
    """
    ref = REFERENCE_TLS if tls else REFERENCE_PLAIN
    runs = [s for s in samples if s.tls == tls and s.commands > 0 and s.master_seconds > 0]
    if not runs:
        return ref
    # runs on clusters with different replicas are brought to the fewest (less the reference propagation cost per
    # write per replica of the difference): the fit is then at that count, and a question adds its own difference
    replicas = min(s.replicas for s in runs)
    if any(s.replicas != replicas for s in runs):
        runs = [replace(s, cpu_s=s.cpu_s - REPLICA_WRITE.value * s.commands * s.write_share * (s.replicas - replicas))
                for s in runs]
    n = len(runs)
    plural = f"{n} run{'s' if n != 1 else ''}"
    idles = [s.idle_share for s in runs if s.idle_share is not None]
    if idles:
        idle_value = sum(idles) / len(idles)
        base = Cost(idle_value, FITTED, f"an idle master, measured before the load of {len(idles)} "
                                        f"run{'s' if len(idles) != 1 else ''}", _pooled_se(idles, [1.0] * len(idles)))
    else:
        base = ref.base
    rates = [s.commands / s.master_seconds for s in runs]
    with_bytes = all(s.bytes_in for s in runs)
    per_cmd_bytes = [(s.bytes_in or 0.0) / s.commands for s in runs]
    fit_base = _spans(rates)
    fit_bytes = with_bytes and _spans(per_cmd_bytes)
    if fit_base and fit_bytes and n < 3:
        # two runs cannot fit three terms: the rate's is the larger at a rig's rates (77 against 48 µs per command
        # at 140 and 414 commands/s; 6,000 B more per command add 2.4 µs), so the bytes keep the reference value
        fit_bytes = False
    per_byte = ref.per_byte
    per_command: Cost | None = None
    if fit_base or fit_bytes:
        import numpy as np

        columns = [[s.commands for s in runs]]
        if fit_base:
            columns.append([s.master_seconds for s in runs])
        if fit_bytes:
            columns.append([s.bytes_in for s in runs])
        y = np.asarray([s.cpu_s - (0.0 if fit_base else base.value * s.master_seconds)
                        - (0.0 if fit_bytes else per_byte.value * (s.bytes_in or 0.0)) for s in runs])
        design = np.column_stack(columns)
        if n >= design.shape[1]:
            coef, *_ = np.linalg.lstsq(design, y, rcond=None)
            se = None
            if n >= design.shape[1] + 1 and n >= MIN_RUNS_FOR_SPREAD:
                residual = y - design @ coef
                cov = float(residual @ residual) / (n - design.shape[1]) * np.linalg.pinv(design.T @ design)
                se = [float(math.sqrt(max(0.0, cov[i, i]))) for i in range(design.shape[1])]
            fitted_base = float(coef[1]) if fit_base else base.value
            if all(c > 0 for c in coef) and fitted_base >= base.value * (1 - 1e-9):  # (float rounding)
                i = 1
                if fit_base:
                    base = Cost(fitted_base, FITTED, f"intercept of CPU against {min(rates):,.0f} .. {max(rates):,.0f} "
                                f"commands/s per master over {plural} (an idle master measured {100 * base.value:.2f} "
                                "% before the load: a busy one spends more between its commands)",
                                se[i] if se else None)
                    i += 1
                if fit_bytes:
                    per_byte = Cost(float(coef[i]), FITTED, f"least squares over {plural} of "
                                    f"{min(per_cmd_bytes):,.0f} .. {max(per_cmd_bytes):,.0f} B per command",
                                    se[i] if se else None)
                per_command = Cost(float(coef[0]), FITTED, f"slope of CPU against commands over {plural}' steady "
                                   "windows" + ("" if fit_bytes else f", less {per_byte.value * 1e9:.2f} ns per byte")
                                   + ("" if fit_base else ", less the idle CPU"), se[0] if se else None)
    if per_command is None:
        rest = [s.cpu_s - base.value * s.master_seconds - per_byte.value * (s.bytes_in or 0.0) for s in runs]
        value = sum(rest) / sum(s.commands for s in runs)
        if value <= 0:  # the idle share or the per-byte term took it all: the runs cannot tell, keep the reference
            return replace(ref, base=base)  # (the reference is at 0 replicas)
        per_command = Cost(value, FITTED, f"{plural}' steady windows, less the idle CPU and "
                                          f"{per_byte.value * 1e9:.2f} ns per byte",
                           _pooled_se([r / s.commands for r, s in zip(rest, runs, strict=True)],
                                      [s.commands for s in runs]))
    return CpuCosts(per_command, per_byte, base, replicas=replicas)


def from_capacity(arm: CpuCosts, us_per_command: float, bytes_per_command: float | None, where: str) -> CpuCosts:
    """``arm`` at the level ``loadsim capacity`` measured: the closed loop's server CPU per command at a master's
    saturation (a driver faster than the master: its cost where it binds), at ``bytes_per_command``. The capacity
    gives the level, the arm the shape: per command and per byte are both scaled so that a command of the
    capacity mix's size costs exactly the capacity's figure (an older capacity.json without its bytes: the
    arm's own bytes are taken as the mix's, i.e. the per-command term alone is set)."""
    at = bytes_per_command or 0.0
    ratio = us_per_command * 1e-6 / arm.service_s(at) if arm.service_s(at) > 0 else 1.0
    basis = (f"{where}: {us_per_command:.1f} µs per command at saturation"
             + (f" at {at:,.0f} B per command" if at else "")
             + f"; x {ratio:.3f} on the {SOURCE_TEXT[arm.per_command.source]} (per command and per byte)")
    # the capacity's own cluster has no replicas (experiments/capacity.py): its figure is at 0 replicas
    if not at:
        return replace(arm, per_command=Cost(us_per_command * 1e-6, CAPACITY, basis), replicas=0.0,
                       replica_extra_s=0.0, replica_note="")
    return replace(arm, per_command=Cost(arm.per_command.value * ratio, CAPACITY, basis),
                   per_byte=Cost(arm.per_byte.value * ratio, CAPACITY, basis), replicas=0.0, replica_extra_s=0.0,
                   replica_note="")


@dataclass(frozen=True)
class UnitCosts:
    """What a cluster costs, each figure with its provenance. Build with ``sizing.fit_unit_costs`` (runs),
    ``with_capacity`` (a capacity measurement) or use ``DEFAULT_COSTS`` (the reference values).

    Memory and commands always come from the model of the sessions (``loadsim.model.footprint``); runs calibrate
    it: a measured factor on the per-session bytes, a measured base per master, a measured factor on commands per
    operation. CPU: ``plain`` and ``tls`` (``CpuCosts``)."""

    plain: CpuCosts = REFERENCE_PLAIN
    tls: CpuCosts = REFERENCE_TLS
    base_bytes_per_master: float = EMPTY_MASTER_BYTES  # used_memory of an empty master, no clients
    memory_factor: float = 1.0  # measured / modelled session bytes (1.0: the model alone)
    memory_factor_se: float | None = None  # its standard error; None below MIN_RUNS_FOR_SPREAD runs
    commands_factor: float = 1.0  # measured / modelled Redis commands per persistence operation
    runs: int = 0
    source: str = "assumption"
    live_sessions_range: tuple[float, float] | None = None  # smallest and largest measured (None: not measured)
    per_run: tuple[RunFigures, ...] = ()
    memory_note: str = ""  # how the memory calibration was fitted (or why the base was not)
    redis_latency: RedisLatency = DEFAULT_REDIS  # Redis's own execution (and queueing curve), for latency

    def cpu_for(self, tls: bool = False) -> CpuCosts:
        """The CPU costs of plain or TLS connections."""
        return self.tls if tls else self.plain

    def for_replicas(self, replicas: float, write_share: float) -> UnitCosts:
        """These costs for a question with ``replicas`` per master and ``write_share`` of its commands writes
        (``CpuCosts.for_replicas``, both arms): what every surface of that question prints."""
        return replace(self, plain=self.plain.for_replicas(replicas, write_share),
                       tls=self.tls.for_replicas(replicas, write_share))

    def service_s(self, bytes_per_command: float, tls: bool = False) -> float:
        """Redis's CPU per command on its main thread (s) for commands of this size: the time a command occupies
        the event loop (what the latency composition adds per command and queueing sees)."""
        return self.cpu_for(tls).service_s(bytes_per_command)

    # the plain arm's figures by their old names (sizing, the report and scripts read these)
    @property
    def cpu_s_per_command(self) -> float:  # at the question's replicas once ``for_replicas`` has asked
        return self.plain.per_command_s

    @property
    def cpu_s_per_command_sd(self) -> float | None:
        return self.plain.per_command.se

    @property
    def cpu_s_per_byte(self) -> float:
        return self.plain.per_byte.value

    @property
    def base_cpu_per_master(self) -> float:
        return self.plain.base.value

    @property
    def calibrated(self) -> bool:
        return self.runs > 0

    @property
    def memory_source(self) -> str:
        return FITTED if self.calibrated else REFERENCE

    def spread_text(self, value: float | None, scale: float = 1.0, unit: str = "") -> str:
        """A standard error or spread for people: "n/a (2 runs)" when too few runs give one."""
        if value is None or not math.isfinite(value):
            return f"n/a ({self.runs} run{'s' if self.runs != 1 else ''})" if self.runs else "n/a (assumed)"
        return f"{value * scale:,.2f}{unit}"

    def factor_text(self) -> str:
        """The memory calibration for people: "x 1.012 (95 % 0.98 .. 1.04, 3 runs)"."""
        if not self.calibrated:
            return "x 1 (no runs: the model alone)"
        spread = (f"95 % {self.memory_factor - 1.96 * self.memory_factor_se:.3f} .. "
                  f"{self.memory_factor + 1.96 * self.memory_factor_se:.3f}, " if self.memory_factor_se else
                  "no interval below 3 runs, ")
        return f"x {self.memory_factor:.3f} ({spread}{self.runs} run{'s' if self.runs != 1 else ''})"

    def cpu_line(self, bytes_per_command: float, tls: bool = False) -> str:
        """The one line every surface prints for the CPU a command costs: ``server CPU 23.0 µs per command at
        2,054 B, plain = 22.2 µs (fitted runs) + 0.40 ns/B (reference value) x 2,054 B; a master's base CPU 0.25 %
        of a core (fitted runs)``; at other replicas than measured, ``..., incl. +5.6 µs for 1 replica more than
        measured (0 per master): 5.6 µs per write per replica x 100 % writes (reference value); ...``."""
        a = self.cpu_for(tls)
        return (f"server CPU {a.service_s(bytes_per_command) * 1e6:.1f} µs per command at {bytes_per_command:,.0f} B, "
                f"{'TLS' if tls else 'plain'} = {a.per_command.short(1e6, ' µs')} + "
                f"{a.per_byte.short(1e9, ' ns/B', 2)} x {bytes_per_command:,.0f} B"
                + (f", {a.replica_note}" if a.replica_note else "") + "; a master's base CPU "
                f"{a.base.short(100, ' % of a core', 2)}")

    def rows(self, bytes_per_command: float | None = None) -> list[dict[str, Any]]:
        """Every unit cost as a table row: name, value, unit, source, basis, 95 % interval (the report's unit-cost
        table and ``plan --json``)."""
        out: list[dict[str, Any]] = []

        def add(name: str, c: Cost, scale: float, unit: str) -> None:
            iv = c.interval()
            out.append({"unit cost": name, "value": c.value * scale, "unit": unit, "source": SOURCE_TEXT[c.source],
                        "basis": c.basis, "interval": None if iv is None else (iv[0] * scale, iv[1] * scale)})

        for tls in (False, True):
            a, arm = self.cpu_for(tls), "TLS" if tls else "plain"
            add(f"server CPU per command, {arm} (beyond its bytes)", a.per_command, 1e6, "µs")
            add(f"server CPU per byte received, {arm}", a.per_byte, 1e9, "ns")
            add(f"a master's base CPU (apart from its commands), {arm}", a.base, 100, "% of a core")
            add(f"server CPU per write command per replica, {arm}", a.per_replica_write, 1e6, "µs")
            if bytes_per_command:
                out.append({"unit cost": f"server CPU per command at {bytes_per_command:,.0f} B, {arm}",
                            "value": a.service_s(bytes_per_command) * 1e6, "unit": "µs",
                            "source": SOURCE_TEXT[a.source],
                            "basis": "per command + per byte x bytes" + (f" ({a.replica_note})" if a.replica_note
                                                                          else ""),
                            "interval": None})
        memory = Cost(self.memory_factor, self.memory_source,
                      self.memory_note or "the model alone (Redis internals, jemalloc size classes)",
                      self.memory_factor_se)
        add("memory per session: the model x", memory, 1.0, "")
        add("base used_memory per master", Cost(self.base_bytes_per_master, self.memory_source,
                                                 self.memory_note or "the model's empty master"), 2**-20, "MiB")
        return out


DEFAULT_COSTS_SOURCE = ("model: memory from Redis internals (jemalloc size classes, Redis 7.0) and the simulated "
                        "sessions; commands from the key layout; CPU the reference values (measured on the reference "
                        "machine, loadsim.defaults), not your runs")


# ------------------------------------------------------------------------------------------ bytes per command
def request_bytes(command: tuple[object, ...]) -> int:
    """Bytes of one command as RESP puts it on the wire (``*N``, then ``$len`` and the argument, each + CRLF)."""
    size = len(f"*{len(command)}\r\n")
    for arg in command:
        n = len(arg) if isinstance(arg, (bytes, bytearray)) else len(str(arg).encode())
        size += len(f"${n}\r\n") + n + 2
    return size


# Commands a master propagates to its replicas (they change the keyspace); reads (GET, HGETALL, EXISTS...) are not.
# ORS's persistence sends SET, HSET, HDEL, DEL and PEXPIRE (workload.commands_for); the rest are their kin.
WRITE_COMMANDS = frozenset({"SET", "SETEX", "PSETEX", "MSET", "HSET", "HMSET", "HDEL", "DEL", "UNLINK", "EXPIRE",
                            "PEXPIRE", "EXPIREAT", "PEXPIREAT", "PERSIST", "ZADD", "ZREM", "ZREMRANGEBYSCORE", "SADD",
                            "SREM", "INCR", "INCRBY", "DECR", "APPEND", "RENAME", "LPUSH", "RPUSH", "LPOP", "RPOP"})


def _session_commands(p: wl.WorkloadParams) -> list[tuple[float, list[tuple[object, ...]]]]:
    """A session's life as ORS sends it: (times per session, the commands of one such operation)."""
    c = p.complexity
    layout = wl.KeyLayout(p.key_layout, p.ors_cluster_name)
    sid = wl.session_id(1, 1)
    record = b"x" * max(1, int(round(c.record_bytes / max(1, c.records))))
    timer = b"x" * c.timer_bytes if c.timer_bytes > 0 else None
    ttl = p.session_ttl_s * 1000
    out = []
    for kind, times, timers, which in (
            (wl.CREATE, 1.0, timer, -1),
            (wl.UPDATE, c.updates_per_session * c.timer_share, timer, 0),
            (wl.UPDATE, c.updates_per_session * (1.0 - c.timer_share if timer else 1.0), None, 0),
            (wl.DELETE, 1.0 - p.leaked_share, None, -1)):
        if times > 0:
            out.append((times, wl.commands_for(layout, kind, sid, 1, record, timers, ttl, c.records, which)))
    return out


@functools.lru_cache(maxsize=1024)
def write_share(p: wl.WorkloadParams) -> float:
    """Share of this workload's commands that write (``WRITE_COMMANDS``): what a master propagates to each replica.
    ORS's session persistence only writes (1.0); a read (GET on recovery) would lower it."""
    writes = commands = 0.0
    for times, cmds in _session_commands(p):
        writes += times * sum(1 for cmd in cmds if str(cmd[0]).upper() in WRITE_COMMANDS)
        commands += times * len(cmds)
    return writes / commands if commands else 0.0


@functools.lru_cache(maxsize=1024)  # the envelope's searches ask for the same pairs thousands of times
def bytes_per_command(p: wl.WorkloadParams) -> float:
    """Mean bytes a master receives per command of this workload (requests as ORS sends them: a create, the
    updates, a delete; records at their mean size). Replies are a few bytes and left out, like the monitor's INFO
    replies (the measured figure is ``total_net_input_bytes``). Measured here: 2,030 to 2,054 B per command for the
    standard preset over four runs (this model: 2,054 B), 8,598 to 8,678 B for the complex one (model: 8,863 B)."""
    total = commands = 0.0
    for times, cmds in _session_commands(p):
        total += times * sum(request_bytes(cmd) for cmd in cmds)
        commands += times * len(cmds)
    return total / commands if commands else 0.0
