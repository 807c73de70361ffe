"""ORS ``[persistence]`` options: one definition, every source, one validation.

The options are those of the Genesys Orchestration Server 8.1.4 ``[persistence]`` section (Genesys
Orchestration Server 8.1.4 Deployment Guide, "Redis Cluster" persistence supplement; see
docs/workload.md for the public pages). The single table ``OPTIONS`` below feeds:

* Locust command-line arguments (``--redis-nodes ...``), shown in the web UI, the password masked;
* environment variables (``LOCUST_REDIS_NODES`` ...), as Locust names its own;
* ``locust.conf`` / ``pyproject.toml [tool.locust]`` (Locust reads those for any argument);
* an ORS-style ini file with a ``[persistence]`` section (``--ors-config FILE``), so users can paste
  the options of their ORS application;
* the ``loadsim`` command line (``loadsim check``).

Every value arrives as text and is converted and validated by ``PersistenceOptions.from_values``,
so every source gives the same result. Precedence: an explicit argument / environment variable /
Locust config value wins over ``--ors-config``, which wins over the defaults below.
"""

from __future__ import annotations

import ast
import configparser
import difflib
import os
import re
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from loadsim.errors import OptionsError

__all__ = ["OptionsError"]  # re-exported: callers of the options catch it here

ENV_PREFIX = "LOCUST_"
START_ONLY = " Given at start only: the web UI's form cannot set it."
ORS_SECTION = "persistence"


@dataclass(frozen=True)
class Option:
    name: str  # as written in ORS [persistence], e.g. "redis-nodes"
    help: str
    default: str | None = None
    secret: bool = False
    metavar: str | None = None
    flag_name: str | None = None  # command-line name when the ORS name collides with a Locust option
    # May the web UI's form set it? Only ORS behaviour that names nothing outside the process: where to connect,
    # as whom and with which certificate files are given at start (whoever reaches the UI's port could otherwise
    # aim the load at another host or make loadsim read a file of their choice).
    form: bool = False
    label: str = ""  # short, for the web form (the help shows on hover)
    group: str = "cluster"  # its group in the web form (loadsim.config.simulation.GROUPS)

    @property
    def dest(self) -> str:
        return (self.flag_name or self.name).replace("-", "_")

    @property
    def flag(self) -> str:
        return "--" + (self.flag_name or self.name)

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.dest.upper()


OPTIONS: tuple[Option, ...] = (
    Option("type", "Persistence type. 'redis' persists sessions to Redis Cluster; any other value "
           "(ORS's own default is Cassandra) means nothing is persisted to Redis. loadsim default: redis.",
           "redis", form=True, label="Persistence type", group="ORS nodes"),
    Option("redis-nodes", "Redis Cluster seed nodes, host:port items separated by ',' or ';'. "
           "Without it, scenarios start an embedded local cluster.", None, metavar="HOST:PORT,...",
           label="Redis nodes"),
    Option("username", "ACL user name (optional).", None, label="ACL user"),
    Option("password", "Password (optional). Secret: never printed, logged or written to results.",
           None, secret=True, label="Password"),
    Option("tls-enabled", "Use TLS to Redis (true/false).", "false", metavar="BOOL", label="TLS to Redis",
           group="TLS"),
    # Locust has its own --tls-cert/--tls-key (for its web UI), so these two are --redis-tls-* on the
    # command line; in an ORS ini file they keep their ORS names.
    Option("tls-cert", "ORS tls-cert: client certificate (PEM) for mutual TLS; requires tls-key.", None,
           metavar="FILE", flag_name="redis-tls-cert", label="Client certificate", group="TLS"),
    Option("tls-key", "ORS tls-key: client private key (PEM) for mutual TLS; requires tls-cert.", None,
           metavar="FILE", flag_name="redis-tls-key", label="Client key", group="TLS"),
    Option("tls-cacert", "CA certificate (PEM) that signed the Redis server certificates.", None,
           metavar="FILE", label="CA certificate", group="TLS"),
    Option("tls-cacertdir", "Directory of CA certificates (c_rehash layout); may replace tls-cacert.",
           None, metavar="DIR", label="CA folder", group="TLS"),
    Option("tls-sni", "Server name to send (SNI) and to verify the server certificate against, "
           "instead of the host in redis-nodes.", None, metavar="NAME", label="SNI name", group="TLS"),
    Option("redis-connect-timeout", "Connect timeout in milliseconds; 0 = none (redis-plus-plus "
           "default). From the ORS draft option list; unit assumed milliseconds.", "0", metavar="MS", form=True,
           label="Connect timeout, ms", group="ORS nodes"),
    Option("redis-socket-timeout", "Socket (reply) timeout in milliseconds; 0 = none (redis-plus-plus "
           "default). From the ORS draft option list; unit assumed milliseconds.", "0", metavar="MS", form=True,
           label="Socket timeout, ms", group="ORS nodes"),
    Option("sessionid-with-nodeid", "Session ids carry the ORS node id; the vendor requires true "
           "for Redis persistence.", "true", metavar="BOOL", form=True, label="Session ids carry the node id",
           group="ORS nodes"),
    Option("ors-cluster-name", "ORS cluster name; data lives under the key prefix ORS:<name>. "
           "Not a [persistence] option: the name of your ORS Cluster object.", "ors1", metavar="NAME", form=True,
           label="ORS cluster name", group="ORS nodes"),
)
OPTIONS_BY_NAME = {o.name: o for o in OPTIONS}
_BY_ANY_NAME = {**OPTIONS_BY_NAME, **{o.flag[2:]: o for o in OPTIONS}}

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


@dataclass(frozen=True)
class RedisNode:
    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


_NODE_RE = re.compile(r"^(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<host>[A-Za-z0-9_.-]+)):(?P<port>\d{1,5})$")


def parse_redis_nodes(text: str) -> tuple[RedisNode, ...]:
    """Parse ``host:port`` items separated by ``,`` or ``;`` (spaces allowed)."""
    items = [item.strip() for item in re.split(r"[,;]", text)]
    items = [item for item in items if item]
    if not items:
        raise OptionsError("redis-nodes is empty: give host:port items, e.g. "
                           "--redis-nodes 10.0.0.1:6379,10.0.0.2:6379")
    nodes = []
    for item in items:
        m = _NODE_RE.match(item)
        port = int(m.group("port")) if m else 0
        if "@" in item:
            # a URL with credentials (redis://user:secret@host:port): never echoed, the secret is in it
            raise OptionsError("redis-nodes: an item holds credentials ('...@host:port'); write host:port items "
                               f"only and give the password as {ENV_PREFIX}PASSWORD or in --ors-config")
        if not m or not 1 <= port <= 65535:
            raise OptionsError(f"redis-nodes: '{item}' is not host:port with a port 1-65535; "
                               "write e.g. --redis-nodes 10.0.0.1:6379,10.0.0.2:6379")
        nodes.append(RedisNode(m.group("v6") or m.group("host"), port))
    return tuple(nodes)


def parse_bool(name: str, text: str) -> bool:
    low = text.strip().lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise OptionsError(f"{name}: '{text}' is not a boolean; use true or false")


def _millis(name: str, text: str) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        value = -1
    if value < 0:
        raise OptionsError(f"{name}: '{text}' is not a whole number of milliseconds >= 0; e.g. --{name} 2000")
    return value


def _readable_file(name: str, text: str | None) -> str | None:
    if text is None:
        return None
    path = Path(text).expanduser()
    if not path.is_file():
        raise OptionsError(f"{name}: file '{text}' does not exist; give the path of a PEM file")
    if not os.access(path, os.R_OK):
        raise OptionsError(f"{name}: file '{text}' is not readable by this user; fix its permissions")
    return str(path)


@dataclass(frozen=True)
class PersistenceOptions:
    """Validated ORS persistence options. Build with ``from_values``."""

    type: str = "redis"
    redis_nodes: tuple[RedisNode, ...] = ()
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    tls_enabled: bool = False
    tls_cert: str | None = None
    tls_key: str | None = None
    tls_cacert: str | None = None
    tls_cacertdir: str | None = None
    tls_sni: str | None = None
    redis_connect_timeout: int = 0
    redis_socket_timeout: int = 0
    sessionid_with_nodeid: bool = True
    ors_cluster_name: str = "ors1"

    @property
    def persists(self) -> bool:
        """True when ORS would persist sessions to Redis (``type=redis``)."""
        return self.type == "redis"

    @classmethod
    def from_values(cls, values: dict[str, str | None]) -> PersistenceOptions:
        """Convert and validate option values given as text, keyed by ORS name or dest name.

        Missing or None values take the defaults in ``OPTIONS``. Raises ``OptionsError``.
        """
        raw: dict[str, str | None] = {o.name: o.default for o in OPTIONS}
        for key, value in values.items():
            option = _BY_ANY_NAME.get(key.replace("_", "-"))
            if option is None:
                raise OptionsError(f"unknown option '{key}'; known: {', '.join(OPTIONS_BY_NAME)}")
            name = option.name
            if value is not None:
                raw[name] = str(value).strip()
        for name in ("username", "password", "tls-cert", "tls-key", "tls-cacert", "tls-cacertdir",
                     "tls-sni", "redis-nodes"):
            if raw[name] == "":
                raw[name] = None
        kind = (raw["type"] or "").lower()
        nodes = parse_redis_nodes(raw["redis-nodes"]) if raw["redis-nodes"] else ()
        tls = parse_bool("tls-enabled", raw["tls-enabled"] or "false")
        if (raw["tls-cert"] is None) != (raw["tls-key"] is None):
            given, missing = ("tls-cert", "tls-key") if raw["tls-cert"] else ("tls-key", "tls-cert")
            raise OptionsError(f"{given} is set but {missing} is not: they go together; set both or neither")
        if tls and not (raw["tls-cacert"] or raw["tls-cacertdir"]):
            raise OptionsError("tls-enabled is true but neither tls-cacert nor tls-cacertdir is set; "
                               "give the CA that signed the Redis certificates")
        cacertdir = raw["tls-cacertdir"]
        if cacertdir is not None and not Path(cacertdir).expanduser().is_dir():
            if Path(cacertdir).expanduser().exists():
                raise OptionsError(f"tls-cacertdir: '{cacertdir}' is a file, not a folder; give the folder of CA "
                                   "certificates (c_rehash layout), or give a CA file as tls-cacert")
            raise OptionsError(f"tls-cacertdir: directory '{cacertdir}' does not exist")
        with_nodeid = parse_bool("sessionid-with-nodeid", raw["sessionid-with-nodeid"] or "true")
        if kind == "redis" and not with_nodeid:
            raise OptionsError("sessionid-with-nodeid is false: ORS requires true for Redis persistence; "
                               "set sessionid-with-nodeid = true")
        cluster_name = raw["ors-cluster-name"] or ""
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", cluster_name):
            raise OptionsError(f"ors-cluster-name: '{cluster_name}' must be letters, digits, '_', '.', '-'")
        opts = cls(
            type=kind,
            redis_nodes=nodes,
            username=raw["username"],
            password=raw["password"],
            tls_enabled=tls,
            tls_cert=_readable_file("tls-cert", raw["tls-cert"]),
            tls_key=_readable_file("tls-key", raw["tls-key"]),
            tls_cacert=_readable_file("tls-cacert", raw["tls-cacert"]),
            tls_cacertdir=str(Path(cacertdir).expanduser()) if cacertdir else None,
            tls_sni=raw["tls-sni"],
            redis_connect_timeout=_millis("redis-connect-timeout", raw["redis-connect-timeout"] or "0"),
            redis_socket_timeout=_millis("redis-socket-timeout", raw["redis-socket-timeout"] or "0"),
            sessionid_with_nodeid=with_nodeid,
            ors_cluster_name=cluster_name,
        )
        opts.check_tls_files()
        return opts

    def check_tls_files(self) -> None:
        """Read and parse the certificate and key files now, so that a bad one is one line naming the option
        and the file before anything starts (not an ssl.SSLError at the first connection)."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        if self.tls_cacert:
            try:
                ctx.load_verify_locations(cafile=self.tls_cacert)
            except (ssl.SSLError, OSError, ValueError) as exc:
                raise OptionsError(f"tls-cacert: '{self.tls_cacert}' is not a PEM CA certificate "
                                   f"({_ssl_reason(exc)}); give the CA that signed the Redis certificates, in PEM"
                                   ) from None
        if self.tls_cert and self.tls_key:
            try:
                ctx.load_cert_chain(self.tls_cert, self.tls_key)
            except (ssl.SSLError, OSError, ValueError) as exc:
                raise OptionsError(f"tls-cert/tls-key: '{self.tls_cert}' and '{self.tls_key}' are not a PEM "
                                   f"certificate and its private key ({_ssl_reason(exc)}); give both in PEM, the key "
                                   "unencrypted and matching the certificate") from None

    def to_values(self, redact: bool = True) -> dict[str, Any]:
        """Options as ``{ors-name: value}``; the password is replaced by ``'***'`` unless redact=False."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "redis_nodes":
                value = ",".join(str(n) for n in value)
            elif f.name == "password" and value is not None and redact:
                value = "***"
            out[f.name.replace("_", "-")] = value
        return out

    def require_nodes(self) -> tuple[RedisNode, ...]:
        if not self.redis_nodes:
            raise OptionsError("redis-nodes is not set; give --redis-nodes HOST:PORT,... "
                               "or redis-nodes in the [persistence] section of --ors-config")
        return self.redis_nodes

    def ssl_context(self) -> ssl.SSLContext | None:
        """The client TLS context these options describe, or None without TLS."""
        if not self.tls_enabled:
            return None
        ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=self.tls_cacert,
                                         capath=self.tls_cacertdir)
        ctx.check_hostname = True
        if self.tls_cert:
            ctx.load_cert_chain(self.tls_cert, self.tls_key)
        return ctx

    def server_hostname(self, node: RedisNode) -> str:
        """Name sent as SNI and verified against the server certificate."""
        return self.tls_sni or node.host


# ORS's [persistence] settings for the Cassandra back end share the section with the Redis ones: ignored
OTHER_ORS_PREFIXES = ("cassandra",)


def _ssl_reason(exc: Exception) -> str:
    """The reason of an ssl error in a few words ("PEM lib", "key values mismatch", ...)."""
    reason = getattr(exc, "reason", None) or (exc.args[1] if len(exc.args) > 1 else str(exc))
    return str(reason).replace("_", " ").lower().strip("[] ")


def _shown_line(line: str) -> str:
    """An ini line for an error message: its first word and, unless that word may name a secret (``password PW``,
    ``passwd: PW``), the rest; a secret's value is never printed."""
    text = line.strip()
    if text[:1] in ("'", '"'):  # configparser keeps the line as its repr()
        try:
            text = str(ast.literal_eval(text)).strip()
        except (ValueError, SyntaxError):
            text = text.strip("'\"")
    first = re.split(r"[\s:]", text, maxsplit=1)[0]
    if any(word in first.lower() for word in ("pass", "secret", "auth", "token")) or \
            any(o.name in text.lower() for o in OPTIONS if o.secret):
        return f"{first} ***" if first != text else text
    return text


def read_ors_config(path: str | os.PathLike[str]) -> dict[str, str]:
    """Read the ``[persistence]`` section of an ORS-style ini file into ``{name: text}``.

    Every key must be one of the options loadsim reads (the Redis persistence options of the vendor's
    page, plus ``type``), or a Cassandra setting (``cassandra*``, ignored): a misspelled key would otherwise
    be ignored silently (``redis-nodez = ...`` ran the embedded cluster instead of the user's). Only ``=``
    separates a name from its value, as in ORS's own files, so ``redis-nodes 10.0.0.1:7000`` is a syntax
    error, not a key. Raises ``OptionsError`` for
    a missing file, bad syntax, a missing section, an unknown key or an empty ``redis-nodes``.
    """
    p = Path(path).expanduser()
    if not p.is_file():
        raise OptionsError(f"--ors-config: file '{path}' does not exist")
    parser = configparser.ConfigParser(interpolation=None, inline_comment_prefixes=("#", ";"), delimiters=("=",))
    try:
        parser.read(p, encoding="utf-8")
    except configparser.MissingSectionHeaderError:
        raise OptionsError(f"--ors-config: '{path}' is not an ini file (no [section] header); "
                           "write a [persistence] section with name = value lines") from None
    except configparser.ParsingError as exc:
        lineno, line = exc.errors[0] if exc.errors else (0, "")
        raise OptionsError(f"--ors-config: '{path}' line {lineno}: {_shown_line(line)!r} is not 'name = value'; "
                           "write each option as name = value") from None
    except (configparser.Error, UnicodeDecodeError) as exc:
        first = str(exc).splitlines()[0]
        raise OptionsError(f"--ors-config: '{path}' is not an ini file ({first}); "
                           "write a [persistence] section with name = value lines") from None
    if not parser.has_section(ORS_SECTION):
        raise OptionsError(f"--ors-config: '{path}' has no [persistence] section; "
                           "copy the [persistence] section of your ORS application")
    items = dict(parser.items(ORS_SECTION))
    for key in list(items):
        if key.startswith(OTHER_ORS_PREFIXES):  # ORS's settings for other back ends: not loadsim's to read
            del items[key]
        elif key not in OPTIONS_BY_NAME:
            close = difflib.get_close_matches(key, list(OPTIONS_BY_NAME), n=1, cutoff=0.6)
            hint = f"did you mean '{close[0]}'?" if close else f"known: {', '.join(OPTIONS_BY_NAME)}"
            raise OptionsError(f"--ors-config: '{path}': unknown key '{key}' in [persistence]; {hint}")
    if "redis-nodes" in items and not items["redis-nodes"].strip():
        raise OptionsError(f"--ors-config: '{path}': redis-nodes is empty; give HOST:PORT,... of your cluster "
                           "(or remove the line to use the embedded cluster)")
    return items


def add_arguments(parser: Any) -> None:
    """Add every option (and ``--ors-config``) to an argparse or Locust argument parser.

    Defaults are left as None so that ``from_namespace`` can tell an explicit value from a default.
    """
    locust_parser = hasattr(parser, "secret_args_included_in_web_ui")
    group = parser.add_argument_group("ORS [persistence] options") if not locust_parser else parser
    extra: Callable[[Option], dict[str, Any]]
    if locust_parser:
        def extra(o: Option) -> dict[str, Any]:
            # A secret never goes into the web UI: Locust writes each UI option's current value (from the
            # command line or LOCUST_* environment) into the page, masked input or not. The password comes
            # from the environment, a config file or the ini only (see refuse_password_argument).
            return {"env_var": o.env, "include_in_web_ui": o.form and not o.secret, "is_secret": o.secret}
    else:
        def extra(o: Option) -> dict[str, Any]:
            return {}
    for o in OPTIONS:
        default = f" (default: {o.default})" if o.default is not None else ""
        label = "[ORS persistence] " if locust_parser else ""  # Locust's form has no groups: say it in the help
        group.add_argument(o.flag, dest=o.dest, default=None, metavar=o.metavar or o.dest.upper(),
                           help=f"{label}{o.help}{default}{'' if o.form else START_ONLY} [env {o.env}]", **extra(o))
    ors_extra = {"env_var": ENV_PREFIX + "ORS_CONFIG", "include_in_web_ui": False} if locust_parser else {}
    group.add_argument("--ors-config", dest="ors_config", default=None, metavar="FILE",
                       help="ORS-style ini file; its [persistence] section supplies options not given "
                            f"otherwise [env {ENV_PREFIX}ORS_CONFIG]", **ors_extra)


SECRET_FLAGS = tuple(o.flag for o in OPTIONS if o.secret)  # --password
# The shortest abbreviation refused: argparse (loadsim's parsers and Locust's) takes any unambiguous prefix of a
# long option for it, and in a parser with no other --p... option even "--p" is --password (loadsim check).
_SHORTEST_PREFIX = len("--p")


def secret_flag_in(word: str) -> str | None:
    """The secret option (``--password``) that *word* names or abbreviates (``--pa``, ``--pass=X``), else None."""
    name = word.split("=", 1)[0]
    if not name.startswith("--") or len(name) < _SHORTEST_PREFIX:
        return None
    return next((flag for flag in SECRET_FLAGS if flag.startswith(name)), None)


def refuse_password_argument(argv: list[str]) -> None:
    """Refuse ``--password`` among command-line words: every local user reads a process's arguments (``ps``)
    for as long as it runs, so the password goes in the environment or a file instead. OptionsError, without
    the value, for ``--password X``, ``--password=X`` and every abbreviation argparse could take for it (``--pa``,
    ``--p``), before and after ``--`` (what follows is given to every run of sweep, compare-tls, capacity)."""
    for word in argv:
        flag = secret_flag_in(word)
        if flag is None:
            continue
        name = word.split("=", 1)[0]
        said = flag if name == flag else f"'{name}' (read as {flag})"
        raise OptionsError(f"{said} on the command line is visible to every user of this machine (ps); give the "
                           f"password in the environment ({ENV_PREFIX}PASSWORD=...) or as 'password = ...' in the "
                           "[persistence] section of an --ors-config file (mode 0600); write any other option in full")


def mask_secret_arguments(argv: list[str]) -> list[str]:
    """*argv* with the value of every secret option (``--password X``, ``--pa=X``) replaced by ``***``, for a list
    of arguments kept in results or printed (sweep.json ``extra_args``), whatever got past the refusal."""
    out: list[str] = []
    hide_next = False
    for word in argv:
        if hide_next:
            out.append("***")
            hide_next = False
        elif secret_flag_in(word) is not None:
            if "=" in word:
                out.append(word.split("=", 1)[0] + "=***")
            else:
                out.append(word)
                hide_next = True
        else:
            out.append(word)
    return out


def from_namespace(ns: Any, environ: dict[str, str] | None = None, form: bool = False) -> PersistenceOptions:
    """Resolve options from a parsed namespace (+ environment for plain argparse) and --ors-config.

    Locust's parser already folds environment variables and config files into the namespace;
    for the ``loadsim`` command line (plain argparse) the environment is read here. An explicitly empty
    ``--redis-nodes ""`` is an error (it would silently test the embedded cluster instead of the user's),
    except with ``form=True``: a field the web UI's form left empty means "not given".
    """
    env = os.environ if environ is None else environ
    values: dict[str, str | None] = {}
    ors_config = getattr(ns, "ors_config", None) or env.get(ENV_PREFIX + "ORS_CONFIG")
    if ors_config:
        values.update(read_ors_config(ors_config))
    for o in OPTIONS:
        explicit = getattr(ns, o.dest, None)
        if explicit == "" and o.name == "redis-nodes" and not form:
            raise OptionsError("--redis-nodes is empty; give HOST:PORT,... of your cluster, or leave the option "
                               "out to use the embedded cluster")
        if explicit is None or explicit == "":  # "" = a field the web UI's form left empty
            explicit = env.get(o.env)
        if explicit is not None:
            values[o.name] = explicit
    return PersistenceOptions.from_values(values)


def write_ors_config(opts: PersistenceOptions, path: str | os.PathLike[str]) -> None:
    """Write options as an ORS-style ini (mode 0600: it may hold the password)."""
    values = opts.to_values(redact=False)
    lines = [f"[{ORS_SECTION}]"]
    for name, value in values.items():
        if value is None:
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        lines.append(f"{name} = {value}")
    p = Path(path)
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
