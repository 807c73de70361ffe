"""Simulation parameters (the workload model and the run): one table, text values, converted in one place.

Same pattern as the ORS options (``loadsim.config.persistence``): every parameter is a Locust argument
(shown in the web UI), an environment variable ``LOCUST_<NAME>`` and a ``locust.conf`` key. Defaults
come from the scenario file (``scenario(..., masters=3)``), then from ``loadsim.model.workload``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from loadsim.config.persistence import ENV_PREFIX, parse_bool
from loadsim.defaults import DEFAULTS
from loadsim.errors import OptionsError

# The form's groups, in order (the ORS [persistence] options are in them too: loadsim.config.persistence)
GROUPS = ("workload", "sessions", "ORS nodes", "cluster", "TLS", "faults")
# The workload model's names (config may not import the model: tests/unit/test_layers.py); a unit test checks
# they are the model's PRESETS and KEY_LAYOUTS
PRESET_NAMES = ("simple", "standard", "complex")
KEY_LAYOUT_NAMES = ("per-session", "single-hash", "node-tag", "index")
START_ONLY = " Given at start only: the web UI's form cannot set it."


@dataclass(frozen=True)
class SimOption:
    name: str
    help: str
    convert: Callable[[str], Any]
    metavar: str = "VALUE"
    default: str | None = None  # its name in loadsim.defaults, which supplies the value and its source
    # May the web UI's form set it? Not for an option that names a file, a folder or a program: whoever reaches
    # the UI's port could make loadsim run, read or write it. Such options keep the value given at start.
    form: bool = True
    label: str = ""  # short, for the web form (the help shows on hover)
    group: str = "workload"  # where it belongs in the form and in --help: one of GROUPS
    choices: tuple[str, ...] = ()  # the values of an enumeration (a select in the form)

    @property
    def low(self) -> float | None:
        """Lowest valid value of a numeric option (RANGES), None for others."""
        return RANGES.get(self.name, (None, None))[0]

    @property
    def high(self) -> float | None:
        return RANGES.get(self.name, (None, None))[1]

    @property
    def full_help(self) -> str:
        """The help text with the default, its source and basis (from loadsim.defaults)."""
        if self.default is None:
            return self.help
        d = DEFAULTS[self.default]
        return f"{self.help} Default {d.shown()} ({d.label})."

    @property
    def dest(self) -> str:
        return self.name.replace("-", "_")

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.dest.upper()


def _choice(text: str, choices: tuple[str, ...]) -> str:
    """``text`` if it is one of ``choices`` (ValueError otherwise: the caller names the option)."""
    if text not in choices:
        raise ValueError(text)
    return text


def _text_bool(text: str) -> bool:
    return parse_bool("value", text)


def _pool_mode(text: str) -> str:
    mode = text.lower()
    if mode not in ("lazy", "eager"):
        raise ValueError(text)
    return mode


# Valid range (inclusive) of every numeric option: out of range or not finite is one error line naming both.
RANGES: dict[str, tuple[float, float]] = {
    "cps-per-pair": (0.0001, 10000), "aht": (0.001, 3.2e7), "record-bytes": (1, 1 << 20), "record-sigma": (0, 3),
    "updates-per-session": (0, 10000), "timer-share": (0, 1), "timer-bytes": (0, 1 << 20),
    "records-per-session": (1, 64), "session-ttl": (1, 3.2e8), "routed-share": (0, 1), "routing-time": (0.001, 3.2e7),
    "extended-share": (0, 1), "extended-time": (0.001, 3.2e8), "leaked-share": (0, 1), "digital-share": (0, 1),
    "worker-threads": (1, 256), "cleanup-period": (0, 1e6), "cleanup-batch": (1, 1e6), "seed": (0, 2**63 - 1),
    "warmup": (0, 86400), "switchover-at": (0.001, 3.2e7), "masters": (3, 64), "replicas": (0, 5),
    "embedded-node-timeout": (100, 600_000), "migration-step": (0, 3600), "network-rtt-us": (0, 1e6),
}

SIM_OPTIONS: tuple[SimOption, ...] = (
    SimOption("cps-per-pair", "Calls per second offered to each HA pair (Poisson arrivals).", float, "CPS",
              "cps_per_pair", label="Calls/s per HA pair", group="workload"),
    SimOption("aht", "Mean handle time of a call in seconds (exponential).", float, "SECONDS", "aht_s",
              label="Handle time, s", group="workload"),
    SimOption("complexity", "Session complexity preset: simple, standard, complex (see docs/workload.md).", str,
              "PRESET", "complexity", label="Session complexity", group="workload", choices=PRESET_NAMES),
    SimOption("record-bytes", "Override: mean session record size in bytes.", int, "BYTES",
              label="Session size, bytes (blank: the preset's)", group="sessions"),
    SimOption("record-sigma", "Override: lognormal sigma of the session record size (0 = fixed).", float, "SIGMA",
              label="Size spread, lognormal σ (blank: the preset's)", group="sessions"),
    SimOption("updates-per-session", "Override: mean persistence writes between create and delete "
              "(one per flushed event burst).", float, "N", label="Writes per session (blank: the preset's)",
              group="sessions"),
    SimOption("timer-share", "Override: share of writes that also rewrite the scheduled-actions record.",
              float, "SHARE", label="Share of writes with timers (blank: the preset's)", group="sessions"),
    SimOption("timer-bytes", "Override: size of the scheduled-actions record in bytes.", int, "BYTES",
              label="Timer record, bytes (blank: the preset's)", group="sessions"),
    SimOption("records-per-session", "Data records a session is split into (create writes all, an update one).",
              int, "N", "records_per_session", label="Records per session", group="sessions"),
    SimOption("session-ttl", "TTL on every record, seconds.", int, "SECONDS", "session_ttl_s",
              label="Record TTL, s", group="sessions"),
    SimOption("routed-share", "Share of sessions that end when the call is routed.", float, "SHARE",
              "routed_share", label="Share ended at routing", group="sessions"),
    SimOption("routing-time", "Mean time to routing for those sessions, seconds (exponential).", float,
              "SECONDS", "routing_s", label="Time to routing, s", group="sessions"),
    SimOption("extended-share", "Share of sessions extended beyond the call.", float, "SHARE", "extended_share",
              label="Share extended past the call", group="sessions"),
    SimOption("extended-time", "Mean lifetime of an extended session, seconds (exponential).", float, "SECONDS",
              "extended_s", label="Extended lifetime, s", group="sessions"),
    SimOption("leaked-share", "Share of sessions never deleted: they live until the TTL after their last write.",
              float, "SHARE", "leaked_share", label="Share never deleted", group="sessions"),
    SimOption("digital-share", "Share of interactions that are digital: counted, not persisted.", float, "SHARE",
              "digital_share", label="Digital share (not persisted)", group="workload"),
    SimOption("worker-threads", "ORS worker threads per ORS node; each holds one connection per master.", int, "N",
              "worker_threads", label="Worker threads per ORS node", group="ORS nodes"),
    SimOption("key-layout", "per-session, single-hash (literal 'ORS:<cluster>' reading: one slot), node-tag "
              "(one slot per HA pair) or index (hash 'ORS:<cluster>' of session ids + per-session bodies).", str,
              "LAYOUT", "key_layout", label="Key layout", group="sessions", choices=KEY_LAYOUT_NAMES),
    SimOption("cleanup-period", "Index layout: seconds between cleanings of index entries whose body expired "
              "(0 = none).", float, "SECONDS", "cleanup_period_s", label="Index cleaning period, s", group="sessions"),
    SimOption("cleanup-batch", "Index layout: entries examined per cleaning (HSCAN COUNT).", int, "N",
              "cleanup_batch", label="Index cleaning batch", group="sessions"),
    # not simulated (the rig's round trip is loopback's): the production round trip the run's verdict predicts its
    # latency with, the same one `loadsim plan --from` this run then uses
    SimOption("network-rtt-us", "The production network round trip between an ORS host and a Redis node, µs, for "
              "the run's sizing verdict (its latency is predicted for production; nothing here is slowed down).",
              float, "US", "network_rtt_us", label="Production round trip, µs", group="ORS nodes"),
    SimOption("pool-connections", "lazy: each worker thread connects to a master on its first command there "
              "(an idle backup holds no connection; the takeover opens them); eager: every worker thread connects "
              "to every master when its ORS node starts.", _pool_mode, "lazy|eager", "pool_connections",
              label="Pool connections", group="ORS nodes", choices=("lazy", "eager")),
    SimOption("estate", "TOML file describing the estate: HA pairs or groups of pairs with their own calls, "
              "session sizes and lifetimes (see scenarios/estate-example.toml). Flags still override.", str, "FILE",
              form=False, label="Estate file", group="workload"),
    SimOption("seed", "Random seed of the workload model.", int, "N", "seed", label="Random seed", group="workload"),
    SimOption("prefill", "Start with the Little's-law population of calls in progress.", _text_bool, "BOOL",
              "prefill", label="Pre-fill the calls in progress", group="workload"),
    SimOption("warmup", "Seconds after start (and after pre-fill) excluded from statistics.", float, "SECONDS",
              "warmup_s", label="Warm-up, s", group="workload"),
    SimOption("switchover-at", "Seconds after start at which every HA pair switches over: the backup "
              "becomes primary and recovers its sessions from Redis (default: never).", float, "SECONDS",
              label="Switchover at, s (blank: never)", group="faults"),
    SimOption("fault", "A fault at a time, repeatable (or several separated by commas): AT:ACTION[:TARGET[:SECONDS]]"
              " with ACTION kill-master, pause-master, restart-master, failover, kill-replica (embedded cluster; "
              "TARGET = master index in slot order), switchover, crash-primary (TARGET = HA pair or all). E.g. "
              "20:kill-master:0, 20:pause-master:1:15, 30:switchover:all.", str, "SPEC",
              label="Faults: AT:ACTION[:TARGET[:SECONDS]], comma-separated (blank: none)", group="faults"),
    SimOption("migration-step", "Seconds per step of the vendor's migration runbook (scenarios/migration.py; "
              "0 = no migration).", float, "SECONDS", label="Migration runbook step, s (blank: no runbook)",
              group="faults"),
    SimOption("read-back", "After the test, read back every session believed live (up to 100,000) and check its "
              "version and checksum: current, stale, missing or corrupt.", _text_bool, "BOOL", "read_back",
              label="Read back live sessions at the end", group="workload"),
    SimOption("allow-eviction", "Run even if a master's maxmemory-policy evicts keys (loadsim check fails such "
              "a cluster: evicted sessions would read back as missing); recorded in the summary.", _text_bool,
              "BOOL", form=False, label="Run even if the cluster evicts keys",
              group="cluster"),
    SimOption("results-dir", "Folder for the run's results (default results/<timestamp>-<scenario>).",
              str, "DIR", form=False, label="Results folder", group="workload"),
    SimOption("masters", "Embedded cluster (used when --redis-nodes is not given): masters.", int, "N", "masters",
              label="Masters", group="cluster"),
    SimOption("replicas", "Embedded cluster: replicas per master.", int, "N", "embedded_replicas",
              label="Replicas per master", group="cluster"),
    SimOption("embedded-tls", "Embedded cluster: TLS (true/false).", _text_bool, "BOOL", "embedded_tls",
              label="TLS (embedded cluster)", group="TLS"),
    SimOption("embedded-mutual-tls", "Embedded cluster: mutual TLS (true/false).", _text_bool, "BOOL",
              "embedded_mutual_tls", label="Mutual TLS (embedded cluster)", group="TLS"),
    SimOption("embedded-acl", "Embedded cluster: ACL user 'ors' with least privilege (true/false).", _text_bool,
              "BOOL", "embedded_acl", label="Least-privilege ACL user 'ors'", group="cluster"),
    SimOption("embedded-node-timeout", "Embedded cluster: cluster-node-timeout in ms (how long before a silent "
              "master is failed over; Redis default 15000).", int, "MS",
              label="cluster-node-timeout, ms (blank: 15000)", group="cluster"),
    SimOption("embedded-aof", "Embedded cluster: AOF everysec (true/false).", _text_bool, "BOOL", "embedded_aof",
              label="AOF", group="cluster"),
    SimOption("embedded-appendfsync", "Embedded cluster with AOF: everysec, always (fsync per write) or no.",
              lambda text: _choice(text, ("everysec", "always", "no")), "POLICY",
              label="appendfsync", group="cluster", choices=("everysec", "always", "no")),
    SimOption("embedded-redis-server", "Embedded cluster: the redis-server binary to run (default: the one on "
              "PATH; redis-cli is taken from beside it if there is one).", str, "PATH", form=False,
              label="redis-server binary", group="cluster"),
)
SIM_BY_DEST = {o.dest: o for o in SIM_OPTIONS}
# Set by `loadsim sweep` and `compare-tls` for a run that only checks its options: it exits 0 once they all
# passed, before any cluster starts or anything is written (so a bad option stops the experiment up front).
CHECK_ONLY_ENV = "LOADSIM_CHECK_OPTIONS_ONLY"
REPEATABLE = ("fault",)  # given several times: a list (the web form: one field, comma-separated)


class FormChoices(list):  # type: ignore[type-arg]
    """The values of an enumeration for Locust's form, which shows an argument's ``choices`` as a select.

    argparse would also check a command-line value against them and refuse another with its own multi-line usage
    message; loadsim's conversion refuses it in one line naming the fix, so every value is "in" here."""

    def __contains__(self, item: object) -> bool:
        return True


def add_simulation_arguments(parser: Any, defaults: dict[str, Any]) -> None:
    """Add the simulation parameters to a Locust (or argparse) parser; ``defaults`` are the scenario's."""
    locust_parser = hasattr(parser, "secret_args_included_in_web_ui")
    groups: dict[str, Any] = {}
    for o in SIM_OPTIONS:
        # Locust's form lists custom options without groups: the group leads the help text there
        group = parser if locust_parser else groups.setdefault(o.group, parser.add_argument_group(o.group))
        label = f"[{o.group}] " if locust_parser else ""
        extra: dict[str, Any] = {}
        default = None
        if locust_parser:
            extra = {"env_var": o.env, "include_in_web_ui": o.form}
            # Locust's web UI shows an option's default in its form field, and a checkbox for a boolean
            # default: give it the value in force (the scenario's, else loadsim's). Locust itself folds
            # LOCUST_* variables and config files over these defaults.
            default = defaults.get(o.dest, DEFAULTS[o.default].value if o.default else None)
        shown = f" Scenario default: {defaults[o.dest]}." if o.dest in defaults else ""
        if o.name in REPEATABLE:
            extra["action"] = "append"
        if locust_parser and o.choices:
            extra["choices"] = FormChoices(o.choices)
        group.add_argument("--" + o.name, dest=o.dest, default=default, metavar=o.metavar,
                           help=f"{label}{o.full_help}{shown}{START_ONLY if not o.form else ''} [env {o.env}]"
                           .replace("%", "%%"), **extra)


def simulation_values(ns: Any, defaults: dict[str, Any], environ: dict[str, str] | None = None,
                      form: bool = False) -> dict[str, Any]:
    """Converted simulation values: explicit (argument, env, Locust config) > scenario default.

    Raises OptionsError naming the option for a value that does not convert, or that is empty (``--aht ''``
    used to fall back to the default without a word); ``form``: the web UI's form, where an empty field
    means "not given".
    """
    env = os.environ if environ is None else environ
    out: dict[str, Any] = dict(defaults)
    for o in SIM_OPTIONS:
        text = getattr(ns, o.dest, None)
        if text is None:
            text = env.get(o.env)
        if text is None:
            continue
        if isinstance(text, list) and form:
            text = [t for t in text if not isinstance(t, str) or t.strip()]
        empty = text.strip() == "" if isinstance(text, str) else (
            isinstance(text, list) and any(isinstance(t, str) and not t.strip() for t in text))
        if empty:
            if form:
                continue
            raise OptionsError(f"--{o.name} is empty; give a value or leave it out ({o.help.rstrip('.')})")
        if not isinstance(text, str):
            out[o.dest] = text
            continue
        try:
            out[o.dest] = o.convert(text.strip())
        except (ValueError, OptionsError):
            raise OptionsError(f"--{o.name}: '{text}' is not a valid {o.metavar.lower()}; {o.help}") from None
    for o in SIM_OPTIONS:
        if o.low is not None and o.dest in out:
            check_range(o, out[o.dest])
    return out


def check_range(o: SimOption, value: Any) -> None:
    """One line naming the option and its valid range for a value out of range or not finite."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return
    assert o.low is not None and o.high is not None
    if not math.isfinite(value) or not o.low <= value <= o.high:
        raise OptionsError(f"--{o.name}: {value:g} is out of range; give a number from {o.low:g} to {o.high:g} "
                           f"({o.help.rstrip('.')})")


def given_values(values: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    """The simulation values that differ from the scenario's default (else loadsim's): what the user set.
    (Locust hands loadsim every option with its default filled in, so "given" is "not the default".)"""
    out = {}
    for dest, v in values.items():
        o = SIM_BY_DEST.get(dest)
        if o is None:
            continue
        baseline = defaults.get(dest, DEFAULTS[o.default].value if o.default else None)
        if v != baseline:
            out[dest] = v
    return out


@dataclass(frozen=True)
class RunSettings:
    """The simulation options a running test reads, typed and with their defaults filled in, built once
    (``run_settings``) from the converted values, so that no consumer re-supplies a default of its own."""

    warmup_s: float  # --warmup: seconds after start (and after the pre-fill) outside the statistics
    switchover_at_s: float | None  # --switchover-at: every pair switches over then (None: never)
    migration_step_s: float  # --migration-step: seconds per step of the migration runbook (0: no migration)
    pool_connections: str  # --pool-connections: "lazy" or "eager"
    read_back: bool  # --read-back: read back the live sessions after the test

    @property
    def migrating(self) -> bool:
        return self.migration_step_s > 0


def run_settings(values: dict[str, Any]) -> RunSettings:
    """The typed settings of converted simulation values (``simulation_values``), defaults from
    ``loadsim.defaults`` where an option has one."""

    def pick(dest: str, fallback: Any) -> Any:
        v = values.get(dest)
        if v is not None:
            return v
        o = SIM_BY_DEST[dest]
        return DEFAULTS[o.default].value if o.default else fallback

    switch = pick("switchover_at", None)
    return RunSettings(warmup_s=float(pick("warmup", 0.0)), switchover_at_s=float(switch) if switch else None,
                       migration_step_s=float(pick("migration_step", 0.0) or 0.0),
                       pool_connections=str(pick("pool_connections", "lazy")), read_back=bool(pick("read_back", True)))
