"""``loadsim check``: the connection check the vendor asks for before enabling ORS persistence.

It connects with the ORS ``[persistence]`` options, exactly as ORS would (same TLS, same user), and
reports masters, replicas, slot coverage, Redis version, TLS and authentication. Every failure is
one line naming the problem and the fix (``CheckFailed``); the password never appears in it.

Then it audits each master's configuration (``CONFIG GET``, see ``audit_config``): an eviction policy
other than ``noeviction`` fails the check (every ORS record has a TTL, so ``volatile-*`` evicts sessions
too); no memory limit, no AOF, no or uneven replicas and a ``maxclients`` below the connections the ORS
estate opens are warnings. A user without CONFIG rights (least privilege) gets one line saying the
configuration was not audited.
"""

from __future__ import annotations

import ssl
import time
from dataclasses import dataclass, field
from typing import Any

from loadsim.config.persistence import PersistenceOptions, RedisNode
from loadsim.defaults import DEFAULTS
from loadsim.errors import (
    CheckFailed,
    NoAuthError,
    NoPermError,
    ProtocolError,
    RedisConnectionError,
    RedisError,
    RedisTimeoutError,
    TlsError,
    WrongPassError,
    mask_secrets,
)
from loadsim.redis.client import Connection
from loadsim.redis.topology import parse_nodes

CHECK_TIMEOUT_MS = 5000  # used when redis-connect-timeout / redis-socket-timeout are 0 (none)
SILENT_NODE = ("the node is paused, stopped or overloaded, or this port is not Redis; check the node and "
               "redis-nodes")

# The parameters audited on every master (CONFIG GET), in report order.
CONFIG_KEYS = ("maxmemory", "maxmemory-policy", "appendonly", "appendfsync", "cluster-node-timeout",
               "cluster-require-full-coverage", "maxclients")
AOF_ADVICE = "https://docs.genesys.com/Documentation/OS/latest/DepSupplement/Design"
# Connections a node serves besides the ORS nodes': monitoring, redis-cli, replicas, failover tooling
# (assumption: a handful).
MONITORING_CONNECTIONS = 4


def estate_connections(ha_pairs: int, worker_threads: int) -> int:
    """Connections the ORS estate opens to each master: both nodes of every HA pair (primary and
    backup) hold one connection per worker thread to each master."""
    return 2 * ha_pairs * worker_threads


@dataclass
class NodeInfo:
    address: str
    role: str
    slots: int
    link: str


@dataclass
class CheckReport:
    seed: str
    version: str
    tls: str
    auth: str
    cluster_state: str
    slots_covered: int
    nodes: list[NodeInfo] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # CONFIG GET of each master (address -> parameter -> value); empty when not audited
    config: dict[str, dict[str, str]] = field(default_factory=dict)
    # why the configuration was not audited (None when it was)
    config_not_audited: str | None = None
    replicas_per_master: dict[str, int] = field(default_factory=dict)
    # PING round trips from this host to the seed node, µs ({"p50", "p99", "min", "count"}; empty: not measured)
    network_rtt_us: dict[str, float] = field(default_factory=dict)

    @property
    def masters(self) -> list[NodeInfo]:
        return [n for n in self.nodes if n.role == "master"]

    @property
    def replicas(self) -> list[NodeInfo]:
        return [n for n in self.nodes if n.role == "replica"]

    def lines(self) -> list[str]:
        out = [*self.notes,
               f"connected to {self.seed}: Redis {self.version}",
               f"TLS: {self.tls}",
               f"auth: {self.auth}",
               f"cluster_state: {self.cluster_state}, slots covered: {self.slots_covered}/16384",
               f"masters: {len(self.masters)}, replicas: {len(self.replicas)}"]
        for n in sorted(self.nodes, key=lambda n: (n.role != "master", n.address)):
            slots = f"{n.slots} slots" if n.role == "master" else ""
            out.append(f"  {n.role:<8}{n.address:<24}{slots:<13}{n.link}")
        if self.config_not_audited:
            out.append(f"config: {self.config_not_audited}")
        elif self.config:
            out.append("config (CONFIG GET per master):")
            for address in sorted(self.config):
                values = self.config[address]
                shown = "  ".join(f"{k} {values.get(k, '?')}" for k in CONFIG_KEYS)
                out.append(f"  {address:<24}{shown}  replicas {self.replicas_per_master.get(address, 0)}")
        if self.network_rtt_us:
            r = self.network_rtt_us
            out.append(f"network round trip from this host to {self.seed}: p50 {r['p50']:,.0f} µs, p99 "
                       f"{r['p99']:,.0f} µs, fastest {r['min']:,.0f} µs ({r['count']:.0f} PINGs; this client's own "
                       f"time included); run from an ORS host, size with it: loadsim plan --network-rtt-us "
                       f"{r['p50']:.0f}")
        out.append("OK: ORS can persist sessions to this cluster with these options")
        return out


def audit_config(config: dict[str, dict[str, str]], replicas_per_master: dict[str, int], ha_pairs: int,
                 worker_threads: int) -> tuple[list[str], list[str]]:
    """The rules on the masters' configuration (pure). Returns (errors, warnings), one line each;
    any error fails the check."""
    errors: list[str] = []
    warnings: list[str] = []

    def where(nodes: list[str]) -> str:
        return "every master" if len(nodes) == len(config) and len(nodes) > 1 else ", ".join(sorted(nodes))

    policies: dict[str, list[str]] = {}
    for address, values in config.items():
        policy = values.get("maxmemory-policy", "noeviction")
        if policy != "noeviction":
            policies.setdefault(policy, []).append(address)
    for policy, nodes in sorted(policies.items()):
        why = (" (every ORS record has a TTL, so volatile-* evicts sessions too)"
               if policy.startswith("volatile") else "")
        errors.append(f"{where(nodes)}: maxmemory-policy {policy}: when memory is full Redis would evict ORS "
                      f"sessions silently{why}; set maxmemory-policy noeviction")
    unlimited = [a for a, v in config.items() if v.get("maxmemory") == "0"]
    if unlimited:
        warnings.append(f"warning: maxmemory 0 (no limit) on {where(unlimited)}: a node can exhaust the host's RAM "
                        "and swap; set maxmemory below the RAM (with noeviction, writes then fail with OOM)")
    no_aof = [a for a, v in config.items() if v.get("appendonly") == "no"]
    if no_aof:
        warnings.append(f"warning: appendonly no on {where(no_aof)}: a node that restarts comes back without its "
                        f"sessions; the vendor recommends AOF ({AOF_ADVICE}): set appendonly yes")
    counts = replicas_per_master
    if counts and not any(counts.values()):
        warnings.append("warning: no replicas: a master failure loses its sessions (the vendor recommends HA "
                        f"replicas and AOF: {AOF_ADVICE})")
    elif len(set(counts.values())) > 1:
        shown = ", ".join(f"{a}: {n}" for a, n in sorted(counts.items()))
        warnings.append(f"warning: masters have different replica counts ({shown}): a master with fewer replicas "
                        "is the weak point; give every master the same number")
    needed = estate_connections(ha_pairs, worker_threads)
    low = low_maxclients(config, needed)
    for limit in sorted(set(low.values())):
        nodes = [a for a, n in low.items() if n == limit]
        warnings.append(f"warning: estate opens {needed} connections per node (2 ORS nodes x {ha_pairs} HA pairs x "
                        f"{worker_threads} worker threads, plus a few for monitoring); maxclients {limit} on "
                        f"{where(nodes)}: raise maxclients")
    return errors, warnings


def low_maxclients(config: dict[str, dict[str, str]], needed: int) -> dict[str, int]:
    """Masters whose maxclients is below the estate's connections plus a few for monitoring (pure)."""
    return {a: int(v["maxclients"]) for a, v in config.items() if v.get("maxclients", "").isdigit()
            and int(v["maxclients"]) < needed + MONITORING_CONNECTIONS}


def run_doubts(report: CheckReport, ha_pairs: int, worker_threads: int) -> list[str]:
    """Of what the audit found, what makes a load test's numbers doubtful (one short line each): masters whose
    maxclients the run's connections exceed (refused connections), nodes not connected, a configuration that
    could not be read (its eviction policy is unknown). No replicas, no AOF and no memory limit are advice for
    production, not doubts about a measurement: they stay in the audit's warnings."""
    doubts = []
    low = low_maxclients(report.config, estate_connections(ha_pairs, worker_threads))
    if low:
        doubts.append("maxclients below the run's connections on " + ", ".join(sorted(low)))
    down = [n.address for n in report.nodes if n.link != "connected" and n.address != report.seed]
    if down:
        doubts.append("nodes not connected: " + ", ".join(sorted(down)))
    audited = set(report.config)
    if report.config_not_audited or audited != set(report.replicas_per_master):
        doubts.append("configuration not audited on " + (", ".join(sorted(set(report.replicas_per_master) - audited))
                                                         or "every master") + ": eviction policy unknown")
    return doubts


def with_timeouts(opts: PersistenceOptions) -> PersistenceOptions:
    """The options with CHECK_TIMEOUT_MS where ORS's have none: loadsim's own look at a cluster (check, a run's
    audit and slot map before its load) gives up on a silent node instead of hanging."""
    from dataclasses import replace

    return replace(opts, redis_connect_timeout=opts.redis_connect_timeout or CHECK_TIMEOUT_MS,
                   redis_socket_timeout=opts.redis_socket_timeout or CHECK_TIMEOUT_MS)


def _connect(node: RedisNode, opts: PersistenceOptions) -> Connection:
    where = str(node)
    try:
        return Connection((node.host, node.port), opts, opts.ssl_context())
    except RedisError as exc:
        message = str(exc)
        if isinstance(exc, WrongPassError) and "no password" in message:
            raise CheckFailed(message) from None
        if isinstance(exc, WrongPassError):
            who = f"user '{opts.username}'" if opts.username else "the default user"
            raise CheckFailed(f"{where}: authentication failed for {who}: wrong username or password, or the "
                             "user is disabled; fix username/password") from None
        if isinstance(exc, (NoAuthError, NoPermError)):
            raise CheckFailed(f"{where}: {message.split(':', 1)[-1].strip()}; set username/password") from None
        closed = _client_cert_refused(exc, opts)
        if closed is not None:
            raise closed from None
        if isinstance(exc, TlsError) and "no answer" in message and not _answers_plain(node, opts):
            # a plain Redis port also leaves a TLS hello unanswered, but answers a plain PING: this one is silent
            raise CheckFailed(f"{where}: accepted the connection but did not answer the TLS handshake within "
                             f"{opts.redis_connect_timeout / 1000:g} s: {SILENT_NODE}") from None
        if isinstance(exc, TlsError):
            if any(s in message for s in ("wrong version number", "record layer", "packet length", "no answer")):
                raise CheckFailed(f"{where}: TLS client against a plain (non-TLS) port; set tls-enabled = false "
                                 "or give the TLS port") from None
            if "certificate verification failed" in message:
                hint = ("the certificate is not for this host name; set tls-sni to a name in the certificate, "
                        "or connect by that name" if "Hostname mismatch" in message or "IP address mismatch"
                        in message else "the server certificate is not signed by tls-cacert/tls-cacertdir; "
                        "give the CA that signed it")
                raise CheckFailed(f"{where}: {message.split(': ', 1)[-1]}: {hint}") from None
            raise CheckFailed(f"{where}: {message.split(': ', 1)[-1]}; check the tls-* options") from None
        if isinstance(exc, RedisTimeoutError) and "connect timed out" not in message:  # AUTH got no reply
            raise CheckFailed(f"{where}: accepted the connection but sent no reply to AUTH within "
                             f"{opts.redis_socket_timeout / 1000:g} s: {SILENT_NODE}") from None
        if isinstance(exc, (RedisConnectionError, RedisTimeoutError)):
            if opts.tls_enabled is False and ("closed" in message or "reset" in message.lower()):
                raise CheckFailed(f"{where}: the server closed the connection: plain client against a TLS port? "
                                 "set tls-enabled = true and tls-cacert") from None
            raise CheckFailed(f"{where}: node unreachable ({message.split(': ', 1)[-1]}); check redis-nodes, "
                             "that Redis runs there, and firewalls") from None
        raise CheckFailed(f"{where}: {message}") from None


def _answers_plain(node: RedisNode, opts: PersistenceOptions) -> bool:
    """True if *node* answers a plain-text PING (any reply: +PONG, or NOAUTH) within the socket timeout."""
    from dataclasses import replace

    try:
        conn = Connection((node.host, node.port), replace(opts, password=None), None)
    except RedisError:
        return False
    try:
        conn.call("PING")
        return True
    except (NoAuthError, NoPermError):
        return True
    except RedisError:
        return False
    finally:
        conn.close()


_NEEDS_CLIENT_CERT = ("{where}: the server requires a client certificate (mutual TLS); set tls-cert and tls-key "
                      "to a certificate signed by a CA the server trusts")


_CLIENT_CERT_ALERTS = ("CERTIFICATE_REQUIRED", "UNKNOWN_CA", "DECRYPT_ERROR", "BAD_CERTIFICATE",
                       "CERTIFICATE_UNKNOWN", "unknown ca")
_CLOSED = ("eof occurred", "unexpected eof", "closed by the server", "reset by peer")


def _client_cert_refused(exc: RedisError, opts: PersistenceOptions) -> CheckFailed | None:
    """The server refused our TLS client after the handshake: with TLS 1.3 a server that requires client
    certificates (tls-auth-clients yes) rejects a missing or untrusted one with an alert or just EOF on
    the first read. None if *exc* is something else."""
    text = str(exc)
    if not opts.tls_enabled or not isinstance(exc, (TlsError, RedisConnectionError)) or "handshake" in text:
        return None
    if not (any(a in text for a in _CLIENT_CERT_ALERTS) or any(c in text.lower() for c in _CLOSED)):
        return None
    where = text.split(": ", 1)[0]
    if not opts.tls_cert:
        return CheckFailed(_NEEDS_CLIENT_CERT.format(where=where))
    return CheckFailed(f"{where}: the server refused the client certificate ({text.split(': ', 1)[-1]}); set "
                      "tls-cert/tls-key to a certificate signed by a CA the server trusts (its tls-ca-cert-file)")


def _call(conn: Connection, node: RedisNode, opts: PersistenceOptions, *args: Any) -> Any:
    try:
        return conn.call(*args)
    except RedisError as exc:
        text = str(exc)
        closed = _client_cert_refused(exc, opts)
        if closed is not None:
            raise closed from None
        if isinstance(exc, RedisTimeoutError):
            raise CheckFailed(f"{node}: accepted the connection but sent no reply to {args[0]} within "
                             f"{opts.redis_socket_timeout / 1000:g} s: {SILENT_NODE}") from None
        if isinstance(exc, (RedisConnectionError, ProtocolError)) and not isinstance(conn.sock, ssl.SSLSocket):
            raise CheckFailed(f"{node}: the server closed the connection or answered no RESP: plain client "
                             "against a TLS port? set tls-enabled = true and tls-cacert") from None
        if "cluster support disabled" in text:
            raise CheckFailed(f"{node}: this is a standalone Redis, not a cluster: ORS supports Redis Cluster "
                             "only (no standalone, no Sentinel); give the nodes of a Redis Cluster") from None
        if isinstance(exc, NoAuthError):
            raise CheckFailed(f"{node}: authentication required: the server has no usable default user without a "
                             "password (or it is disabled); set username and password") from None
        if isinstance(exc, NoPermError):
            raise CheckFailed(f"{node}: {text}; grant the ORS user this command") from None
        raise CheckFailed(f"{node}: {text.removeprefix(f'{node}: ')}") from None


def scrub(text: str, secret: str | None) -> str:
    """*text* with the password replaced by ``***`` where it stands as a whole value (``loadsim.errors``)."""
    return mask_secrets(text, [secret])


def run_check(opts: PersistenceOptions, ha_pairs: int | None = None,
              worker_threads: int | None = None) -> CheckReport:
    """Connect to the first reachable seed, inspect the cluster and audit each master's configuration.
    *ha_pairs* and *worker_threads* size the estate for the ``maxclients`` rule (loadsim's defaults when
    None). Raises CheckFailed (password scrubbed)."""
    pairs = DEFAULTS["ha_pairs"].value if ha_pairs is None else ha_pairs
    threads = DEFAULTS["worker_threads"].value if worker_threads is None else worker_threads
    report, errors = audit_cluster(opts, pairs, threads)
    if errors:
        raise CheckFailed(scrub("; ".join(errors), opts.password))
    return report


def audit_cluster(opts: PersistenceOptions, ha_pairs: int, worker_threads: int) -> tuple[CheckReport, list[str]]:
    """What ``loadsim check`` does, for a run to reuse before its load starts: the report (its ``notes`` hold the
    warnings) and the audit's errors (an evicting policy), returned rather than raised so that a run can be
    told to go on (``--allow-eviction``). Raises CheckFailed (password scrubbed) when the cluster cannot be
    used at all (unreachable, refused, not a cluster, slots not covered)."""
    try:
        report = _run_check(opts)
        return report, _audit(report, opts, ha_pairs, worker_threads)
    except CheckFailed as exc:
        raise CheckFailed(scrub(str(exc), opts.password)) from None


def _run_check(opts: PersistenceOptions) -> CheckReport:
    seeds = opts.require_nodes()
    opts = with_timeouts(opts)
    errors: list[CheckFailed] = []
    for seed in seeds:
        try:
            conn = _connect(seed, opts)
        except CheckFailed as exc:
            errors.append(exc)
            continue
        try:
            return _inspect(conn, seed, opts)
        finally:
            conn.close()
    if len(errors) == 1 or len({str(e).split(": ", 1)[1] for e in errors}) == 1:
        raise errors[0]
    raise CheckFailed("; ".join(str(e) for e in errors))


RTT_PINGS = 50  # enough for a p50 and a rough p99 in well under a second even over a WAN (50 x 5 ms = 0.25 s)


def round_trips(conn: Connection, node: RedisNode, opts: PersistenceOptions, count: int = RTT_PINGS
                ) -> dict[str, float]:
    """PING round trips on the check's own connection (as ORS connects: same TLS), µs: the network as seen from the
    host loadsim check runs on, plus this client's own few µs (a plain process, no event loop to wait for)."""
    times = []
    for _ in range(count):
        sent = time.perf_counter()
        _call(conn, node, opts, "PING")
        times.append((time.perf_counter() - sent) * 1e6)
    times.sort()
    return {"p50": round(times[len(times) // 2], 1), "p99": round(times[int(0.99 * (len(times) - 1))], 1),
            "min": round(times[0], 1), "count": float(len(times))}


def _inspect(conn: Connection, seed: RedisNode, opts: PersistenceOptions) -> CheckReport:
    hello = _call(conn, seed, opts, "HELLO", "2")
    fields = {hello[i].decode(): hello[i + 1] for i in range(0, len(hello) - 1, 2)} if isinstance(hello, list) else {}
    version = fields.get("version", b"?")
    version = version.decode() if isinstance(version, bytes) else str(version)
    if fields.get("mode", b"") in (b"standalone", "standalone"):
        raise CheckFailed(f"{seed}: this is a standalone Redis, not a cluster: ORS supports Redis Cluster only "
                         "(no standalone, no Sentinel); give the nodes of a Redis Cluster")
    if fields.get("mode", b"") in (b"sentinel", "sentinel"):
        raise CheckFailed(f"{seed}: this is a Redis Sentinel: ORS supports Redis Cluster only; give the cluster nodes")
    info_text = _call(conn, seed, opts, "CLUSTER", "INFO")
    info = dict(line.split(":", 1) for line in info_text.decode().splitlines() if ":" in line)
    nodes_text = _call(conn, seed, opts, "CLUSTER", "NODES").decode()
    nodes: list[NodeInfo] = []
    covered = 0
    for n in parse_nodes(nodes_text):
        covered += n.slot_count if n.role == "master" else 0
        address = f"[{n.host}]:{n.port}" if ":" in n.host else f"{n.host}:{n.port}"
        nodes.append(NodeInfo(address, n.role, n.slot_count, n.link))
    state = info.get("cluster_state", "?").strip()
    if state != "ok" or covered != 16384:
        missing = 16384 - covered
        raise CheckFailed(f"{seed}: cluster_state:{state}, {missing} of 16384 slots not served by a master; fix "
                         "the cluster (redis-cli --cluster check / fix) before enabling ORS")
    if isinstance(conn.sock, ssl.SSLSocket):
        tls = f"on ({conn.sock.version()}, {conn.sock.cipher()[0]}), server certificate verified for " \
              f"'{opts.server_hostname(seed)}'" + (", client certificate sent" if opts.tls_cert else "")
    else:
        tls = "off"
    auth = f"user '{opts.username}' with password" if opts.username else (
        "default user with password" if opts.password else "none (default user, no password)")
    report = CheckReport(str(seed), version, tls, auth, state, covered, nodes)
    report.network_rtt_us = round_trips(conn, seed, opts)
    if not opts.persists:
        report.notes.append(f"note: type = {opts.type}: ORS would persist nothing to Redis (set type = redis "
                            "when ready, see the migration runbook)")
    down = [n for n in nodes if n.link != "connected" and n.address != str(seed)]
    if down:
        report.notes.append(f"warning: {len(down)} node(s) not connected: {', '.join(n.address for n in down)}")
    ids = {n.node_id: n for n in parse_nodes(nodes_text)}
    for n in ids.values():
        if n.role == "master" and n.slots:
            report.replicas_per_master[_address(n)] = 0
    for n in ids.values():
        master = ids.get(n.master_id or "")
        if n.role == "replica" and master is not None and _address(master) in report.replicas_per_master:
            report.replicas_per_master[_address(master)] += 1
    return report


def _address(n: Any) -> str:
    return f"[{n.host}]:{n.port}" if ":" in n.host else f"{n.host}:{n.port}"


def _audit(report: CheckReport, opts: PersistenceOptions, ha_pairs: int, worker_threads: int) -> list[str]:
    """CONFIG GET on every master (with the ORS options), then the rules of ``audit_config``. A user
    without CONFIG rights: one note, not audited. Returns the rules' errors; warnings go to the notes."""
    opts = with_timeouts(opts)
    unreadable: list[str] = []
    for address in sorted(report.replicas_per_master):
        host, _, port = address.rpartition(":")
        node = RedisNode(host.strip("[]"), int(port))
        try:
            conn = _connect(node, opts)
        except CheckFailed as exc:
            unreadable.append(f"{exc}")
            continue
        try:
            reply = conn.call("CONFIG", "GET", *CONFIG_KEYS)
        except NoPermError:
            who = f"user '{opts.username}'" if opts.username else "the default user"
            report.config = {}
            report.config_not_audited = (f"not readable by {who} (CONFIG GET refused): not audited; run check "
                                         "with an admin user to audit maxmemory-policy, appendonly, maxclients")
            unreadable = []
            break
        except RedisError as exc:
            unreadable.append(f"{node}: CONFIG GET failed ({str(exc).removeprefix(f'{node}: ')})")
            continue
        finally:
            conn.close()
        pairs = [v.decode() if isinstance(v, bytes) else str(v) for v in reply]
        got = dict(zip(pairs[::2], pairs[1::2], strict=False))
        report.config[address] = {k: got[k] for k in CONFIG_KEYS if k in got}
    for problem in unreadable:
        report.notes.append(f"warning: configuration not audited on {problem}")
    errors, warnings = audit_config(report.config, report.replicas_per_master, ha_pairs, worker_threads)
    report.notes.extend(warnings)
    return errors
