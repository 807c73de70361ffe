"""Simulation parameters (the workload model and the run): one table, text values, converted in one place.

Same pattern as the ORS options (``loadsim.config.persistence``): every parameter is a Locust argument
(shown in the web UI), an environment variable ``LOCUST_<NAME>`` and a ``locust.conf`` key. Defaults
come from the scenario file (``scenario(..., masters=3)``), then from ``loadsim.model.workload``.
"""

from __future__ import annotations

import math
import os
import typing
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from loadsim import options as O
from loadsim.config.persistence import ENV_PREFIX, parse_bool
from loadsim.defaults import DEFAULTS
from loadsim.errors import OptionsError

# The form's groups, in order (the ORS [persistence] options are in them too: loadsim.config.persistence)
GROUPS = ("workload", "sessions", "ORS nodes", "cluster", "TLS", "faults")
# The workload model's names, from their option rows (config may not import the model: tests/unit/test_layers.py);
# a unit test checks they are the model's PRESETS and KEY_LAYOUTS
PRESET_NAMES = O.COMPLEXITY.choices
KEY_LAYOUT_NAMES = O.KEY_LAYOUT.choices
START_ONLY = " Given at start only: the web UI's form cannot set it."


@dataclass(frozen=True)
class SimOption(O.Ranged):
    """One simulation option's record (built from its ``SimSettings`` field: one table)."""

    name: str  # the flag without its dashes: --cps-per-pair
    help: str
    convert: Callable[[str], Any]  # text -> value (ValueError: not valid; the caller names the option)
    type: Any = str  # the field's type (``int | None``: no default, None = not given)
    metavar: str = "VALUE"
    default: str | None = None  # its name in loadsim.defaults, which supplies the value and its source
    value: Any = None  # the value when not given (loadsim.defaults' value, or the field's own)
    unit: str = ""  # for people (else the default's unit): "s", "B", "calls/s"
    range: tuple[float, float] | None = None  # valid values of a number, inclusive (None: not a number)
    # May the web UI's form set it? Not for an option that names a file, a folder or a program: whoever reaches
    # the UI's port could make loadsim run, read or write it. Such options keep the value given at start.
    form: bool = True
    label: str = ""  # short, for the web form (the help shows on hover)
    group: str = "workload"  # where it belongs in the form and in --help: one of GROUPS
    choices: tuple[str, ...] = ()  # the values of an enumeration (a select in the form)
    row: O.Option | None = None  # the option's row when other commands take it too (loadsim.options)

    @property
    def full_help(self) -> str:
        """The help text with the valid range, the default, its source and basis (from loadsim.defaults): what
        --help, ``loadsim options`` and the web form's hover show."""
        if self.default is None:
            return self.help + self.range_text()
        d = DEFAULTS[self.default]
        return f"{self.help}{self.range_text()} Default {d.shown()} ({d.label})."

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


def _option(help: str, metavar: str = "VALUE", default: str | None = None, *, label: str, group: str = "workload",
            range: tuple[float, float] | None = None, unit: str = "", form: bool = True,
            choices: tuple[str, ...] = (), convert: Callable[[str], Any] | None = None, value: Any = None) -> Any:
    """One row of the table: a ``SimSettings`` field whose default is ``loadsim.defaults``' ``default`` (else
    ``value``: None = not given), carrying the rest of the option's record for ``SimOption``."""
    record = {"help": help, "metavar": metavar, "default": default, "label": label, "group": group, "range": range,
              "unit": unit, "form": form, "choices": choices, "convert": convert}
    if range is None and default:
        record["range"] = DEFAULTS[default].range  # the concept's valid values, once (loadsim.defaults)
    return field(default=DEFAULTS[default].value if default else value, metadata={"option": record})


def _shared(row: O.Option, *, label: str = "", group: str = "workload", context: str = "",
            convert: Callable[[str], Any] | None = None) -> Any:
    """A field for an option other commands take too: its name, type, unit, range, default and help are the row's
    (``loadsim.options``; a run's own range or default: ``row.with_range``); ``context`` says what it is in a run
    (the embedded cluster's)."""
    record = {"help": (context + " " if context else "") + row.help, "metavar": row.metavar, "default": row.default,
              "label": label or row.label, "group": group, "range": row.range, "unit": row.unit, "form": True,
              "choices": row.choices, "convert": convert, "row": row}
    return field(default=row.default_value, metadata={"option": record})


@dataclass(frozen=True)
class SimSettings:
    """THE table of simulation options, one field per option (its name, with ``-`` for ``_``, is the flag), and the
    typed settings a run reads: built once (``run_settings``) from the converted values, defaults filled in, so
    that no consumer re-supplies a default of its own. Each field's record (help, unit, range, form group, whether
    the web form may set it) is its ``SimOption`` (``SIM_OPTIONS``): the Locust and argparse arguments, the
    validation, the web form and the run's config.json all read it. The order is the form's and --help's."""

    cps_per_pair: float = _shared(O.CPS_PER_PAIR)
    aht: float = _shared(O.AHT)
    complexity: str = _shared(O.COMPLEXITY, label="Session complexity",
                              convert=str)  # the workload model refuses another name, naming the presets
    # a run's sessions live in this machine's memory: up to 1 MiB each (a plan may ask about Redis's 512 MiB)
    record_bytes: int | None = _shared(O.RECORD_BYTES.with_range((1, 1 << 20)),
                                       label="Session size, bytes (blank: the preset's)", group="sessions")
    record_sigma: float | None = _option("Override: lognormal sigma of the session record size (0 = fixed).",
                                         "SIGMA", label="Size spread, lognormal σ (blank: the preset's)",
                                         group="sessions", range=(0, 3))
    updates_per_session: float | None = _option(
        "Override: mean persistence writes between create and delete (one per flushed event burst).", "N",
        label="Writes per session (blank: the preset's)", group="sessions", unit="writes", range=(0, 10000))
    timer_share: float | None = _option("Override: share of writes that also rewrite the scheduled-actions record.",
                                        "SHARE", label="Share of writes with timers (blank: the preset's)",
                                        group="sessions", range=(0, 1))
    timer_bytes: int | None = _option("Override: size of the scheduled-actions record in bytes.", "BYTES",
                                      label="Timer record, bytes (blank: the preset's)", group="sessions", unit="B",
                                      range=(0, 1 << 20))
    records_per_session: int = _shared(O.RECORDS_PER_SESSION, label="Records per session", group="sessions")
    session_ttl: int = _shared(O.SESSION_TTL, label="Record TTL, s", group="sessions")
    routed_share: float = _shared(O.ROUTED_SHARE, label="Share ended at routing", group="sessions")
    routing_time: float = _shared(O.ROUTING_TIME, label="Time to routing, s", group="sessions")
    extended_share: float = _shared(O.EXTENDED_SHARE, label="Share extended past the call", group="sessions")
    extended_time: float = _shared(O.EXTENDED_TIME, label="Extended lifetime, s", group="sessions")
    leaked_share: float = _shared(O.LEAKED_SHARE, label="Share never deleted", group="sessions")
    digital_share: float = _shared(O.DIGITAL_SHARE, label="Digital share (not persisted)")
    worker_threads: int = _shared(O.WORKER_THREADS, label="Worker threads per ORS node", group="ORS nodes")
    key_layout: str = _shared(O.KEY_LAYOUT, label="Key layout", group="sessions",
                              convert=str)  # the model refuses another, naming them
    cleanup_period: float = _shared(O.CLEANUP_PERIOD, label="Index cleaning period, s", group="sessions")
    cleanup_batch: int = _shared(O.CLEANUP_BATCH, label="Index cleaning batch", group="sessions")
    # not simulated (the rig's round trip is loopback's): the production round trip the run's verdict predicts its
    # latency with, the same one `loadsim plan --from` this run then uses
    network_rtt_us: float = _shared(O.NETWORK_RTT_US, group="ORS nodes")
    # a run measures the rig, never a master's queue at production's connections: a `loadsim capacity` folder gives
    # the run's verdict a master's CPU per command and latency-vs-load curve, as `plan --from` that folder reads them
    # (kept absolute in config.json: plan --from this run reads it from any working directory)
    capacity_from: str | None = _option(
        "A `loadsim capacity` folder (its --out): the run's verdict (the Redis Cluster tab, and loadsim plan --from "
        "this run) reads its CPU per command and latency-vs-load curve, as plan --from that folder does (default: "
        "none; the verdict's queueing is then the M/M/1 assumption, said so).", "DIR", form=False,
        label="Capacity folder", group="ORS nodes", convert=lambda text: str(Path(text).expanduser().absolute()))
    pool_connections: str = _option(
        "lazy: each worker thread connects to a master on its first command there (an idle backup holds no "
        "connection; the takeover opens them); eager: every worker thread connects to every master when its ORS "
        "node starts.", "lazy|eager", "pool_connections", label="Pool connections", group="ORS nodes",
        choices=("lazy", "eager"), convert=lambda text: _choice(text.lower(), ("lazy", "eager")))
    estate: str | None = _option("TOML file describing the estate: HA pairs or groups of pairs with their own calls, "
                                 "session sizes and lifetimes (see scenarios/estate-example.toml). Flags still "
                                 "override.", "FILE", form=False, label="Estate file")
    seed: int = _option("Random seed of the workload model.", "N", "seed", label="Random seed")
    prefill: bool = _option("Start with the Little's-law population of calls in progress.", "BOOL", "prefill",
                            label="Pre-fill the calls in progress")
    warmup: float = _option("Seconds after start (and after pre-fill) excluded from statistics.", "SECONDS",
                            "warmup_s", label="Warm-up, s")
    switchover_at: float | None = _option("Seconds after start at which every HA pair switches over: the backup "
                                          "becomes primary and recovers its sessions from Redis (default: never).",
                                          "SECONDS", label="Switchover at, s (blank: never)", group="faults",
                                          unit="s", range=(0.001, 3.2e7))
    fault: list[str] | None = _option(
        "A fault at a time, repeatable (or several separated by commas): AT:ACTION[:TARGET[:SECONDS]] with ACTION "
        "kill-master, pause-master, restart-master, failover, kill-replica (embedded cluster; TARGET = master index "
        "in slot order), switchover, crash-primary (TARGET = HA pair or all). E.g. 20:kill-master:0, "
        "20:pause-master:1:15, 30:switchover:all.", "SPEC",
        label="Faults: AT:ACTION[:TARGET[:SECONDS]], comma-separated (blank: none)", group="faults")
    migration_step: float = _option("Seconds per step of the vendor's migration runbook (scenarios/migration.py; "
                                    "0 = no migration).", "SECONDS", label="Migration runbook step, s (blank: no "
                                    "runbook)", group="faults", unit="s", range=(0, 3600), value=0.0)
    read_back: bool = _option("After the test, read back every session believed live (up to 100,000) and check its "
                              "version and checksum: current, stale, missing or corrupt.", "BOOL", "read_back",
                              label="Read back live sessions at the end")
    allow_eviction: bool = _option("Run even if a master's maxmemory-policy evicts keys (loadsim check fails such a "
                                   "cluster: evicted sessions would read back as missing); recorded in the summary.",
                                   "BOOL", form=False, label="Run even if the cluster evicts keys", group="cluster",
                                   value=False)
    results_dir: str | None = _option("Folder for the run's results (default results/<timestamp>-<scenario>).", "DIR",
                                      form=False, label="Results folder")
    masters: int = _shared(O.EMBEDDED_MASTERS, group="cluster",
                           context="Embedded cluster (used when --redis-nodes is not given):")
    replicas: int = _shared(O.EMBEDDED_REPLICAS, group="cluster",
                            context="Embedded cluster:")
    embedded_tls: bool = _option("Embedded cluster: TLS (true/false).", "BOOL", "embedded_tls",
                                 label="TLS (embedded cluster)", group="TLS")
    embedded_mutual_tls: bool = _option("Embedded cluster: mutual TLS (true/false).", "BOOL", "embedded_mutual_tls",
                                        label="Mutual TLS (embedded cluster)", group="TLS")
    embedded_acl: bool = _option("Embedded cluster: ACL user 'ors' with least privilege (true/false).", "BOOL",
                                 "embedded_acl", label="Least-privilege ACL user 'ors'", group="cluster")
    embedded_node_timeout: int = _option("Embedded cluster: cluster-node-timeout in ms (how long before a silent "
                                         "master is failed over).", "MS", "cluster_node_timeout_ms",
                                         label="cluster-node-timeout, ms", group="cluster")
    embedded_aof: bool = _option("Embedded cluster: AOF everysec (true/false).", "BOOL", "embedded_aof", label="AOF",
                                 group="cluster")
    embedded_appendfsync: str = _option("Embedded cluster with AOF: everysec, always (fsync per write) or no.",
                                        "POLICY", label="appendfsync", group="cluster",
                                        choices=("everysec", "always", "no"), value="everysec")
    embedded_redis_server: str | None = _option("Embedded cluster: the redis-server binary to run (default: the one "
                                                "on PATH; redis-cli is taken from beside it if there is one).",
                                                "PATH", form=False, label="redis-server binary", group="cluster")

    # the names the running test reads them by (the engine's, the users' and the web UI's)
    @property
    def warmup_s(self) -> float:
        return self.warmup

    @property
    def switchover_at_s(self) -> float | None:
        return self.switchover_at or None

    @property
    def migration_step_s(self) -> float:
        return self.migration_step or 0.0

    @property
    def migrating(self) -> bool:
        return self.migration_step_s > 0


def _convert_for(kind: Any, choices: tuple[str, ...]) -> Callable[[str], Any]:
    """How a text value becomes the field's type: ``int``, ``float``, a boolean, one of ``choices``, or text."""
    if choices:
        return lambda text: _choice(text, choices)
    base = next((a for a in typing.get_args(kind) if a is not type(None)), kind)  # X | None -> X
    if typing.get_origin(base) is list:  # repeatable: each occurrence is text
        return str
    return {int: int, float: float, bool: _text_bool}.get(base, str)


_HINTS = typing.get_type_hints(SimSettings)
SIM_OPTIONS: tuple[SimOption, ...] = tuple(
    SimOption(name=f.name.replace("_", "-"), type=_HINTS[f.name], value=f.default,
              **{**f.metadata["option"], "convert": f.metadata["option"]["convert"]
                 or _convert_for(_HINTS[f.name], f.metadata["option"]["choices"])})
    for f in fields(SimSettings))
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
        baseline = defaults.get(dest, o.value)
        if v != baseline:
            out[dest] = v
    return out


def run_settings(values: dict[str, Any]) -> SimSettings:
    """The typed settings of converted simulation values (``simulation_values``, or a run's recorded config.json
    ``simulation``): every option, the ones not given at their default. Names the table does not know (a run
    recorded by another version) are left out."""
    return SimSettings(**{k: v for k, v in values.items() if k in SIM_BY_DEST and v is not None})


def recorded(settings: SimSettings) -> dict[str, Any]:
    """What a run's config.json records of its settings: every option, by its field name."""
    return asdict(settings)
