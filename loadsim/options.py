"""The options several commands take, one typed row each (pure: imports loadsim.defaults and loadsim.errors only).

A row is an option's name (its flag), type, unit, valid range, default (its name in ``loadsim.defaults``, which
supplies the value, the unit, the source and the basis) and help. Every surface reads the row: ``loadsim plan``'s
flags and the question (``loadsim.model.question.Deployment``'s fields carry their row), the run's options and the
web form (``loadsim.config.simulation.SimSettings``'s fields carry theirs), ``loadsim capacity``'s, ``check``'s and
``compare-tls``'s flags (``add_flag``). A new option that several commands take is one row here and one field or
``add_flag`` line where each command takes it.

A surface may narrow a row's range or give it another default where its own meaning asks for it (an embedded cluster
of this machine: 3 to 64 masters, no replica by default; a plan may ask about up to 1,000 masters); the name, type,
unit and help stay the row's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from loadsim.defaults import DEFAULTS, EMBEDDED_MASTERS_RANGE, EMBEDDED_REPLICAS_RANGE
from loadsim.errors import OptionsError


class Ranged:
    """What an option record with ``name``, ``range``, ``unit`` and ``default`` (a loadsim.defaults name) shows:
    shared by these rows and the run's ``SimOption`` records (loadsim.config.simulation)."""

    name: str
    range: tuple[float, float] | None
    unit: str
    default: str | None

    @property
    def dest(self) -> str:
        return self.name.replace("-", "_")

    @property
    def low(self) -> float | None:
        """Lowest valid value of a numeric option, None for others."""
        return self.range[0] if self.range else None

    @property
    def high(self) -> float | None:
        return self.range[1] if self.range else None

    @property
    def shown_unit(self) -> str:
        return self.unit or (DEFAULTS[self.default].unit if self.default else "")

    def range_text(self) -> str:
        """`` From 1 to 64 masters.`` (empty for an option that is not a number)."""
        unit = f" {self.shown_unit}" if self.shown_unit else ""
        return f" From {number_text(self.range[0])} to {number_text(self.range[1])}{unit}." if self.range else ""


@dataclass(frozen=True)
class Option(Ranged):
    """One option's record."""

    name: str  # the flag without its dashes: cps-per-pair
    type: type  # int, float, str or bool: what a value converts to
    help: str  # what it is; the range, the default and its source are added from the row (``full_help``)
    default: str | None = None  # its name in loadsim.defaults: value, unit, source and basis (and range)
    value: Any = None  # the value when not given, for an option without a loadsim.defaults entry
    unit: str = ""  # for people (else the default's unit)
    range: tuple[float, float] | None = None  # valid values of a number, inclusive (else the default's)
    metavar: str = "VALUE"
    choices: tuple[str, ...] = ()  # the values of an enumeration
    aliases: tuple[str, ...] = ()  # older names, still accepted
    label: str = ""  # short, for a form field: the web UI's start form and the sizing notebook's what-if
    # a CPU ceiling, given in % of one core (70, 70% or the older share 0.7): text until ``cpu_ceiling_share``
    percent: bool = False

    def __post_init__(self) -> None:
        if self.range is None and self.default and DEFAULTS[self.default].range is not None:
            object.__setattr__(self, "range", DEFAULTS[self.default].range)  # the concept's range, once

    @property
    def flags(self) -> list[str]:
        return ["--" + self.name, *("--" + a for a in self.aliases)]

    @property
    def default_value(self) -> Any:
        return DEFAULTS[self.default].value if self.default else self.value

    @property
    def full_help(self) -> str:
        """The help with the valid range, the default, its source and basis: what --help, ``loadsim options`` and
        the web form's hover show."""
        return self.help_with()

    def help_with(self, default: str | None = None) -> str:
        """``full_help``, the default sentence replaced by ``default`` when a command has its own (``the
        scenario's``)."""
        valid = self.range_text()
        if default is not None:
            return f"{self.help}{valid} Default: {default}."
        if self.default is None:
            shown = "" if self.value is None else f" Default {str(self.value).lower()}."
            return self.help + valid + shown
        d = DEFAULTS[self.default]
        return f"{self.help}{valid} Default {d.shown()} ({d.label})."

    def with_range(self, range: tuple[float, float], default: str | None = None) -> Option:
        """The same option where a command's own meaning takes other values (an embedded cluster on this machine
        takes fewer masters than a plan may ask about) or has another default."""
        return replace(self, range=range, default=default or self.default)

    def check(self, value: Any, flag: str | None = None) -> Any:
        """``value`` if in range (and finite); else OptionsError in one line naming the flag and the range."""
        if self.range is None or isinstance(value, bool) or not isinstance(value, (int, float)):
            return value
        if not (math.isfinite(value) and self.range[0] <= value <= self.range[1]):
            low, high = number_text(self.range[0]), number_text(self.range[1])
            shown = str(value) if isinstance(value, int) else f"{value:g}"  # as typed: 100000000, not 1e+08
            raise OptionsError(f"{flag or '--' + self.name}: {shown} is out of range; give a number from {low} to "
                               f"{high} ({self.help.rstrip('.')})")
        return value


def number_text(x: float) -> str:
    """A range bound for people: ``67,108,864``, ``0.001``."""
    return f"{int(x):,}" if float(x).is_integer() else f"{x:g}"


def add_flag(parser: Any, o: Option, *, default: Any = None, dest: str | None = None, shown_default: str | None = None,
             help: str = "") -> None:
    """``o`` as an argparse argument of a command: its name and aliases, its type, the row's help with its range and
    default (``shown_default``: the command's own default, said in words; ``help``: what the command adds). Values
    convert to the row's type (argparse refuses another in one line); ranges are checked by the command
    (``Option.check``, or the question's own check), so that the line names the fix."""
    kind: dict[str, Any] = {"choices": ["true", "false"]} if o.type is bool else \
        {"type": o.type} if o.type in (int, float) and not o.percent else {}
    aliases = ", ".join(o.flags[1:])
    note = f" ({aliases}: the old name, still accepted)" if aliases else ""
    text = o.help_with(shown_default) + (" " + help if help else "") + note
    parser.add_argument(*o.flags, dest=dest or o.dest, default=default, metavar=None if o.type is bool else o.metavar,
                        help=text.replace("%", "%%"), **kind)  # argparse formats % in help


def add_list_flag(parser: Any, o: Option, *, default: str | None, dest: str | None = None,
                  shown_default: str | None = None) -> None:
    """``o`` as a comma list (a sweep's axis): the row's name, aliases and help; each value is the row's."""
    aliases = ", ".join(o.flags[1:])
    note = f" ({aliases}: the old name, still accepted)" if aliases else ""
    text = f"Comma list, each: {o.help_with(shown_default if shown_default is not None else default)}{note}"
    parser.add_argument(*o.flags, dest=dest or o.dest, default=default, metavar=f"{o.metavar}[,...]",
                        help=text.replace("%", "%%"))


# ------------------------------------------------------------------------------------------ a CPU ceiling
def cpu_ceiling_share(value: float | str, flag: str = "--cpu-ceiling") -> float:
    """A CPU ceiling as a user gives it (``plan --cpu-ceiling``, ``capacity --stop-at-cpu``, the report's
    parameter), as a share of one core. The unit is % of one core: ``70`` or ``70%``. A number below 1 is the older
    spelling of plan, a share (``0.7`` is 70 %), kept as an alias; ``1`` alone could be either (1 % or 100 %) and is
    refused. OptionsError in one line naming ``flag`` and the fix."""
    text = str(value).strip()
    percent = text.endswith("%")
    try:
        x = float(text.removesuffix("%").strip())
    except ValueError:
        raise OptionsError(f"{flag} {text}: not a number; give a percentage of one core, e.g. 70") from None
    if not percent and x == 1:
        raise OptionsError(f"{flag} 1 is ambiguous: 1 % or 100 % of one core? Write 100 (or 1%)")
    share = x / 100 if percent or x > 1 else x
    low, high = CPU_PERCENT_RANGE
    if not (math.isfinite(share) and low / 100 <= share <= high / 100):
        raise OptionsError(f"{flag} {text}: give a percentage of one core from {low:g} to {high:g}, e.g. 70 (a share "
                           "below 1, such as 0.7, is read as 70 %)")
    return share


CPU_PERCENT_RANGE = (1, 100)  # % of one core: Redis runs commands on one thread, so 100 % is a master's all

# ------------------------------------------------------------------------------------------ the rows
# The load: what the HA pairs offer
HA_PAIRS = Option("ha-pairs", int, "ORS HA pairs (a primary and a backup ORS node each) persisting to the cluster.",
                  "ha_pairs", range=(1, 100_000), metavar="N", label="HA pairs")
CPS_PER_PAIR = Option("cps-per-pair", float, "Calls per second offered to each HA pair (Poisson arrivals).",
                      "cps_per_pair", metavar="CPS", label="Calls/s per HA pair")
AHT = Option("aht", float, "Mean handle time of a call in seconds (exponential).", "aht_s", metavar="SECONDS",
             aliases=("aht-s",), label="Handle time, s")
COMPLEXITY = Option("complexity", str, "Session complexity preset: simple, standard, complex (see "
                    "docs/workload.md).", "complexity", metavar="PRESET", choices=("simple", "standard", "complex"))
DIGITAL_SHARE = Option("digital-share", float, "Share of interactions that are digital: counted, not persisted.",
                       "digital_share", metavar="SHARE")
SESSION_TTL = Option("session-ttl", int, "TTL on every record, seconds.", "session_ttl_s", metavar="SECONDS",
                     aliases=("session-ttl-s",))
RECORD_BYTES = Option("record-bytes", int, "Override: mean session record size in bytes (blank or not given: the "
                      "complexity preset's).", unit="B", range=(1, 1 << 29), metavar="BYTES",
                      label="Session size, bytes")
RECORDS_PER_SESSION = Option("records-per-session", int, "Data records a session is split into (create writes all, "
                             "an update one).", "records_per_session", metavar="N")
ROUTED_SHARE = Option("routed-share", float, "Share of sessions that end when the call is routed.", "routed_share",
                      metavar="SHARE")
ROUTING_TIME = Option("routing-time", float, "Mean time to routing for those sessions, seconds (exponential).",
                      "routing_s", metavar="SECONDS", aliases=("routing-s",))
EXTENDED_SHARE = Option("extended-share", float, "Share of sessions extended beyond the call.", "extended_share",
                        metavar="SHARE")
EXTENDED_TIME = Option("extended-time", float, "Mean lifetime of an extended session, seconds (exponential).",
                       "extended_s", metavar="SECONDS", aliases=("extended-s",))
LEAKED_SHARE = Option("leaked-share", float, "Share of sessions never deleted: they live until the TTL after their "
                      "last write.", "leaked_share", metavar="SHARE")
KEY_LAYOUT = Option("key-layout", str, "per-session, single-hash (literal 'ORS:<cluster>' reading: one slot), "
                    "node-tag (one slot per HA pair) or index (hash 'ORS:<cluster>' of session ids + per-session "
                    "bodies).", "key_layout", metavar="LAYOUT",
                    choices=("per-session", "single-hash", "node-tag", "index"))
CLEANUP_PERIOD = Option("cleanup-period", float, "Index layout: seconds between cleanings of index entries whose body "
                        "expired (0 = none).", "cleanup_period_s", metavar="SECONDS", aliases=("cleanup-period-s",))
CLEANUP_BATCH = Option("cleanup-batch", int, "Index layout: entries examined per cleaning (HSCAN COUNT).",
                       "cleanup_batch", metavar="N")
# ORS
WORKER_THREADS = Option("worker-threads", int, "ORS worker threads per ORS node; each holds one connection per "
                        "master.", "worker_threads", metavar="N")
NETWORK_RTT_US = Option("network-rtt-us", float, "The production network round trip between an ORS host and a Redis "
                        "node, µs: the latency verdict is predicted for it (nothing here is slowed down).",
                        "network_rtt_us", metavar="US", label="Production round trip, µs")
# the Redis Cluster
MASTERS = Option("masters", int, "Masters of the Redis Cluster.", "masters", range=(1, 1000), metavar="N",
                 label="Masters")
REPLICAS = Option("replicas", int, "Replicas per master: each holds its master's data and takes over its slots if "
                  "it fails.", "replicas", range=(0, 16), metavar="N", label="Replicas per master")
TLS = Option("tls", bool, "TLS between ORS and Redis; with plan --from, only the runs with this setting are fitted "
             "(default: the run's or sweep's own; every run of another folder).", value=False)
NODE_RAM_BYTES = Option("node-ram-bytes", float, "RAM of one Redis node, bytes (or --node-ram-gib).", "node_ram_bytes",
                        range=(2**26, 2**50), metavar="BYTES")
NODE_CORES = Option("node-cores", int, "CPU cores of one Redis node.", "node_cores", range=(1, 1024), metavar="N")
AOF = Option("aof", bool, "AOF persistence on the nodes (a rewrite forks: copy-on-write room).", "aof")
MAXMEMORY_FRACTION = Option("maxmemory-fraction", float, "maxmemory as a share of a node's RAM.",
                            "maxmemory_fraction", range=(0.01, 1), metavar="SHARE")
FORK_COW_FACTOR = Option("fork-cow-factor", float, "Memory a fork (RDB save, AOF rewrite) may need, x used_memory.",
                         "fork_cow_factor", range=(1, 4), metavar="X")
MAXCLIENTS = Option("maxclients", int, "Redis maxclients: the connections a node accepts.", "maxclients",
                    range=(1, 10_000_000), metavar="N")
NIC_GBPS = Option("nic-gbps", float, "Line rate of each Redis node's NIC, Gbit/s.", "nic_gbps", range=(0.01, 1000),
                  metavar="GBPS")
REDIS_VERSION = Option("redis-version", str, "Redis version family of the memory model's constants: 7.0 or 7.2.",
                       value="7.0", choices=("7.0", "7.2"))
ALLOCATOR = Option("allocator", str, "INFO memory mem_allocator family; the memory model has jemalloc's constants.",
                   value="jemalloc")
# the limits a verdict holds the prediction to
CPU_CEILING = Option("cpu-ceiling", float, "The most a master's main thread may use in the plan, % of one core (0.7, "
                     "the older spelling, is read as 70 %; 1 alone is refused: 1 or 100?).", "cpu_ceiling",
                     range=CPU_PERCENT_RANGE, metavar="PERCENT", percent=True)
STOP_AT_CPU = Option("stop-at-cpu", float, "loadsim capacity stops stepping when the busiest master reaches this, % "
                     "of one core (the knee past which a master queues; plan's limit is --cpu-ceiling; 0.8 is read as "
                     "80 %).", "master_cpu_knee", range=CPU_PERCENT_RANGE, metavar="PERCENT", percent=True)
N_PLUS_1 = Option("n-plus-1", bool, "The ceilings must still hold with one master fewer.", "n_plus_1")
LATENCY_SLO_P99_US = Option("latency-slo-p99-us", float, "p99 objective of a persistence operation, µs.",
                            "latency_slo_p99_us", range=(1, 6e7), metavar="US", aliases=("slo-p99-us",))

# An embedded cluster on this machine takes fewer masters than a plan may ask about (Redis Cluster's minimum of 3;
# beyond 64 this machine is the limit)
EMBEDDED_MASTERS = MASTERS.with_range(EMBEDDED_MASTERS_RANGE)
# ... and carries no replica unless failover is what is tested (replicas cost the test machine memory and CPU)
EMBEDDED_REPLICAS = REPLICAS.with_range(EMBEDDED_REPLICAS_RANGE, "embedded_replicas")

OPTIONS: tuple[Option, ...] = tuple(v for v in dict(globals()).values() if isinstance(v, Option)
                                    and v not in (EMBEDDED_MASTERS, EMBEDDED_REPLICAS))
BY_NAME: dict[str, Option] = {o.name: o for o in OPTIONS}
