"""Embedded local Redis Cluster: real ``redis-server`` processes on 127.0.0.1, started by loadsim.

Python API (tests, scenarios)::

    with EmbeddedCluster(ClusterSpec(masters=3, replicas=1, tls=True)) as cluster:
        opts = cluster.options          # PersistenceOptions for the ORS user
        ...

Command line: ``loadsim cluster up | status | down`` keeps the same state in a folder
(``.loadsim/cluster`` by default): ``state.json`` (ports, pids), ``secrets.json`` and ``ors.ini``
(mode 0600, they hold passwords), ``tls/`` (certificates, keys 0600) and one folder per node
(config, log, AOF).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import redis

from loadsim import defaults as D
from loadsim.config.persistence import PersistenceOptions, RedisNode, write_ors_config
from loadsim.embedded import tlsgen
from loadsim.errors import ClusterError
from loadsim.redis.child import pid_alive as pid_alive
from loadsim.redis.child import wait_exit
from loadsim.redis.topology import parse_nodes

ORS_USER = "ors"
ADMIN_USER = "loadsim-admin"
# Least privilege for the ORS user: only ORS:* keys and the commands a redis-plus-plus cluster client
# and the simulated ORS persistence use. ORS's exact command set is not published (assumption).
ORS_COMMANDS = (
    "get set del unlink exists expire pexpire ttl pttl hset hget hdel hgetall hmget hlen hscan scan "
    "multi exec discard ping auth hello asking readonly readwrite "
    "cluster|slots cluster|shards cluster|nodes cluster|info cluster|myid client|setname client|id"
).split()


# Directives the embedded cluster needs as loadsim writes them: refused in ClusterSpec.extra_config.
_MANAGED_DIRECTIVES = frozenset((
    "bind", "port", "tls-port", "dir", "daemonize", "logfile", "pidfile", "cluster-enabled", "cluster-config-file",
    "cluster-port", "user", "aclfile", "requirepass", "masteruser", "masterauth", "include", "protected-mode"))


# A size as redis.conf takes it: bytes, or a number with k/kb/m/mb/g/gb (any case; k = 1000, kb = 1024)
_REDIS_SIZE = re.compile(r"(\d+)(k|kb|m|mb|g|gb)?", re.IGNORECASE)
MIN_NODE_TIMEOUT_MS, MAX_NODE_TIMEOUT_MS = D.NODE_TIMEOUT_MS_RANGE  # the Locust option --embedded-node-timeout's too
NODE_TIMEOUT_MS = D.value("cluster_node_timeout_ms")  # Redis's default


def check_redis_size(text: str, option: str = "--maxmemory") -> None:
    """ClusterError naming *option* unless *text* is a positive Redis size such as ``512mb``, ``1gb`` or bytes."""
    match = _REDIS_SIZE.fullmatch(str(text).strip())
    if match is None or int(match.group(1)) <= 0:
        raise ClusterError(f"{option} {text}: not a Redis memory size; give bytes or a number with kb, mb or gb, "
                           "e.g. 512mb or 1gb (leave it out for no limit)")


@dataclass
class ClusterSpec:
    """What to start. ``maxmemory`` is a Redis size such as ``"512mb"`` (None = no limit)."""

    masters: int = 3
    replicas: int = 0
    tls: bool = False
    mutual_tls: bool = False
    acl: bool = False
    aof: bool = False
    appendfsync: str = "everysec"  # with aof: everysec (Redis default), always (fsync per write) or no
    maxmemory: str | None = None
    cluster_node_timeout_ms: int = NODE_TIMEOUT_MS  # Redis default; failover takes about this long + election
    host: str = "127.0.0.1"
    # Raw redis.conf lines appended after loadsim's own (a later line wins), e.g. "maxmemory-policy allkeys-lru"
    extra_config: tuple[str, ...] = ()
    redis_server: str | None = None  # path of the redis-server binary (None: from PATH)

    def __post_init__(self) -> None:
        self.extra_config = tuple(self.extra_config)  # state.json stores it as a JSON list

    def validate(self) -> None:
        if self.appendfsync not in ("everysec", "always", "no"):
            raise ClusterError(f"appendfsync '{self.appendfsync}': use everysec, always or no")
        if self.masters < 3:
            raise ClusterError(f"--masters {self.masters}: Redis Cluster needs at least 3 masters")
        (low, high), (r_low, r_high) = D.EMBEDDED_MASTERS_RANGE, D.EMBEDDED_REPLICAS_RANGE
        if self.masters > high or not r_low <= self.replicas <= r_high:
            raise ClusterError(f"--masters must be {low}..{high} and --replicas {r_low}..{r_high} for an embedded "
                               "cluster")
        if self.mutual_tls and not self.tls:
            raise ClusterError("--mutual-tls needs --tls: give both (mutual TLS is TLS with client certificates)")
        if self.maxmemory is not None:
            check_redis_size(self.maxmemory)
        if isinstance(self.cluster_node_timeout_ms, bool) or not isinstance(self.cluster_node_timeout_ms, int) \
                or self.cluster_node_timeout_ms < MIN_NODE_TIMEOUT_MS:
            raise ClusterError(f"--cluster-node-timeout {self.cluster_node_timeout_ms}: give milliseconds, at least "
                               f"{MIN_NODE_TIMEOUT_MS} (Redis's default is {NODE_TIMEOUT_MS})")
        if self.cluster_node_timeout_ms > MAX_NODE_TIMEOUT_MS:
            raise ClusterError(f"--cluster-node-timeout {self.cluster_node_timeout_ms}: give milliseconds, at most "
                               f"{MAX_NODE_TIMEOUT_MS:,} (10 minutes before a silent master is failed over; Redis's "
                               f"default is {NODE_TIMEOUT_MS})")
        if not self.host.startswith("127."):
            raise ClusterError(f"host {self.host}: the embedded cluster binds to loopback (127.x.x.x) only")
        for line in self.extra_config:
            words = line.split()
            if not words or "\n" in line or "\r" in line:
                raise ClusterError(f"extra config line {line!r}: give one 'directive value' redis.conf line")
            if words[0].lower() in _MANAGED_DIRECTIVES:
                raise ClusterError(f"extra config line {line!r}: loadsim sets '{words[0]}' itself; use the "
                                   "ClusterSpec field or 'loadsim cluster up' option for it")


@dataclass
class NodeProcess:
    index: int
    port: int
    bus_port: int
    pid: int
    directory: str

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"


def redis_binaries(server: str | None = None) -> tuple[str, str]:
    """Paths of redis-server and redis-cli, or a ClusterError saying how to install them.

    *server* is a redis-server the user chose (``--redis-server``): it must exist, be executable and
    answer ``--version``; redis-cli is then the one next to it if there is one, else the one on PATH."""
    if server:
        _check_server(server)
        beside = Path(server).parent / "redis-cli"
        cli = str(beside) if beside.is_file() and os.access(beside, os.X_OK) else shutil.which("redis-cli")
        if not cli:
            raise ClusterError("redis-cli not found next to --redis-server nor on PATH: install it with "
                               "'apt-get install -y redis-tools'")
        return server, cli
    found, cli = shutil.which("redis-server"), shutil.which("redis-cli")
    if not found or not cli:
        raise ClusterError("redis-server/redis-cli not found: install them with "
                           "'apt-get install -y redis-server redis-tools' (or run 'make run', which does)")
    return found, cli


def _check_server(path: str) -> None:
    """A ClusterError naming ``--redis-server`` unless *path* is a redis-server that answers ``--version``."""
    where = f"--redis-server {path}"
    if not os.path.isfile(path):
        raise ClusterError(f"{where}: no such file; give the path of a redis-server binary")
    if not os.access(path, os.X_OK):
        raise ClusterError(f"{where}: the file is not executable; chmod +x it or give another redis-server")
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10,
                             stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError) as exc:
        raise ClusterError(f"{where}: '--version' did not run ({type(exc).__name__}: {exc}); give a "
                           "redis-server binary") from None
    if out.returncode != 0 or "Redis server" not in out.stdout:
        said = (out.stdout.strip() or out.stderr.strip() or f"exit {out.returncode}").splitlines()[0][:120]
        raise ClusterError(f"{where}: '--version' did not identify a Redis server ({said}); give a "
                           "redis-server binary")


def _free_port(host: str, taken: set[int]) -> int:
    for _ in range(100):
        with socket.socket() as s:
            s.bind((host, 0))
            port = s.getsockname()[1]
        if port not in taken and port < 55000:  # room for nothing above; bus ports are picked separately
            taken.add(port)
            return port
    raise ClusterError("no free TCP port found on loopback")


def _cwd_and_exe(pid: int) -> tuple[str, str] | None:
    """The working directory and binary of *pid* (a deleted folder without its " (deleted)" mark)."""
    try:
        exe = os.readlink(f"/proc/{pid}/exe")
        cwd = os.readlink(f"/proc/{pid}/cwd")
    except OSError:
        return None
    return cwd.removesuffix(" (deleted)"), exe.removesuffix(" (deleted)")


def _is_redis_binary(exe: str, server: str | None) -> bool:
    """The binary *server* given by the user (any name), else one named ``redis-*``."""
    return os.path.basename(exe).startswith("redis-") or bool(server) and os.path.realpath(exe) == \
        os.path.realpath(server or "")


def _is_our_redis(pid: int, directory: str, server: str | None = None) -> bool:
    """True if *pid* is a redis-server working in *directory* (guards against a reused pid): the binary
    *server* given by the user (any name), else one named ``redis-*``."""
    found = _cwd_and_exe(pid)
    return found is not None and _is_redis_binary(found[1], server) and \
        os.path.realpath(found[0]) == os.path.realpath(directory)


def nodes_by_folder(state_dir: str | os.PathLike[str], server: str | None = None) -> list[int]:
    """Every live redis-server working in a node folder (``node-<i>``) of *state_dir*, found by its folder, not by
    a recorded pid: a node whose pid was never recorded (an interrupt or an error between its start and the
    record) is found as well as the others. Linux /proc; other engineers' clusters live in other folders."""
    root = os.path.realpath(state_dir)
    pids = []
    try:
        entries = [e.name for e in os.scandir("/proc") if e.name.isdigit()]
    except OSError:
        return []
    for name in entries:
        pid = int(name)
        found = _cwd_and_exe(pid)
        if found is None or pid == os.getpid():
            continue
        cwd, exe = found
        if os.path.dirname(cwd) == root and os.path.basename(cwd).startswith("node-") \
                and _is_redis_binary(exe, server) and pid_alive(pid):
            pids.append(pid)
    return pids


class EmbeddedCluster:
    """A local Redis Cluster of real redis-server processes. See the module docstring."""

    def __init__(self, spec: ClusterSpec | None = None, state_dir: str | os.PathLike[str] | None = None):
        self.spec = spec or ClusterSpec()
        self.spec.validate()
        self._own_dir = state_dir is None
        self.state_dir = Path(state_dir or tempfile.mkdtemp(prefix="loadsim-cluster-")).resolve()
        self.nodes: list[NodeProcess] = []
        self._popen: dict[int, subprocess.Popen[bytes]] = {}
        self._secrets: dict[str, str] = {}

    # ----------------------------------------------------------------- state
    @property
    def state_file(self) -> Path:
        return self.state_dir / "state.json"

    @property
    def tls_dir(self) -> Path:
        return self.state_dir / "tls"

    def _save_state(self) -> None:
        data = {"spec": asdict(self.spec), "nodes": [asdict(n) for n in self.nodes],
                "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2))
        tmp.replace(self.state_file)
        fd = os.open(self.state_dir / "secrets.json", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(self._secrets, fh)
        write_ors_config(self.options, self.state_dir / "ors.ini")

    @classmethod
    def load(cls, state_dir: str | os.PathLike[str]) -> EmbeddedCluster:
        """Attach to a cluster started earlier (e.g. by ``loadsim cluster up``)."""
        d = Path(state_dir)
        try:
            data = json.loads((d / "state.json").read_text())
        except FileNotFoundError:
            raise ClusterError(f"no embedded cluster in '{d}': start one with 'loadsim cluster up'") from None
        except json.JSONDecodeError:
            raise ClusterError(f"'{d / 'state.json'}' is damaged; stop leftover redis-server processes "
                               f"and remove '{d}'") from None
        cluster = cls(ClusterSpec(**data["spec"]), d)
        cluster.nodes = [NodeProcess(**n) for n in data["nodes"]]
        secrets_file = d / "secrets.json"
        cluster._secrets = json.loads(secrets_file.read_text()) if secrets_file.exists() else {}
        return cluster

    # ----------------------------------------------------------------- options
    def _base_options(self, username: str | None, password: str | None, client_cert: bool) -> PersistenceOptions:
        tls = self.spec.tls
        return PersistenceOptions(
            redis_nodes=tuple(RedisNode("127.0.0.1", n.port) for n in self.nodes[: self.spec.masters]),
            username=username, password=password, tls_enabled=tls,
            tls_cacert=str(self.tls_dir / "ca.crt") if tls else None,
            tls_cert=str(self.tls_dir / "client.crt") if tls and client_cert else None,
            tls_key=str(self.tls_dir / "client.key") if tls and client_cert else None,
        )

    @property
    def options(self) -> PersistenceOptions:
        """Options an ORS would use: the ORS ACL user (if ``acl``), TLS files (if ``tls``)."""
        user = ORS_USER if self.spec.acl else None
        return self._base_options(user, self._secrets.get(ORS_USER), self.spec.mutual_tls)

    @property
    def admin_options(self) -> PersistenceOptions:
        """Options with full rights, for monitoring and management (not for the workload)."""
        user = ADMIN_USER if self.spec.acl else None
        return self._base_options(user, self._secrets.get(ADMIN_USER), self.spec.tls)

    def admin_client(self, node: NodeProcess, **kwargs: Any) -> redis.Redis:
        """A plain redis-py connection with admin rights to one node (``kwargs`` override defaults)."""
        from loadsim.redis.monitor import redis_py_kwargs

        return redis.Redis(**{**redis_py_kwargs(self.admin_options, RedisNode("127.0.0.1", node.port)), **kwargs})

    # ----------------------------------------------------------------- config
    def _node_config(self, node: NodeProcess) -> str:
        s = self.spec
        lines = [
            f"bind {s.host}", "protected-mode no", "daemonize no",
            f"dir {node.directory}", "logfile redis.log", "pidfile redis.pid",
            "cluster-enabled yes", "cluster-config-file nodes.conf", f"cluster-port {node.bus_port}",
            f"cluster-node-timeout {s.cluster_node_timeout_ms}",
            'save ""', f"appendonly {'yes' if s.aof else 'no'}", f"appendfsync {s.appendfsync}",
        ]
        if s.maxmemory:
            lines += [f"maxmemory {s.maxmemory}", "maxmemory-policy noeviction"]
        if s.tls:
            t = self.tls_dir
            lines += ["port 0", f"tls-port {node.port}", f"tls-cert-file {t / 'redis.crt'}",
                      f"tls-key-file {t / 'redis.key'}", f"tls-ca-cert-file {t / 'ca.crt'}",
                      f"tls-auth-clients {'yes' if s.mutual_tls else 'no'}",
                      "tls-replication yes", "tls-cluster yes"]
        else:
            lines.append(f"port {node.port}")
        if s.acl:
            ors_rules = " ".join("+" + c for c in ORS_COMMANDS)
            lines += [
                "user default off",
                f"user {ADMIN_USER} on >{self._secrets[ADMIN_USER]} ~* &* +@all",
                f"user {ORS_USER} on >{self._secrets[ORS_USER]} resetkeys ~ORS:* resetchannels -@all {ors_rules}",
                f"masteruser {ADMIN_USER}", f"masterauth {self._secrets[ADMIN_USER]}",
            ]
        lines += s.extra_config
        return "\n".join(lines) + "\n"

    def _cli_base(self) -> tuple[list[str], dict[str, str]]:
        _, cli = redis_binaries(self.spec.redis_server)
        args = [cli]
        env = dict(os.environ)
        if self.spec.tls:
            args += ["--tls", "--cacert", str(self.tls_dir / "ca.crt"),
                     "--cert", str(self.tls_dir / "client.crt"), "--key", str(self.tls_dir / "client.key")]
        if self.spec.acl:
            args += ["--user", ADMIN_USER]
            env["REDISCLI_AUTH"] = self._secrets[ADMIN_USER]  # keeps the password off the command line
        return args, env

    # ----------------------------------------------------------------- lifecycle
    def start(self, timeout: float = 60.0, echo: Callable[[str], None] | None = None) -> EmbeddedCluster:
        """Start every node, create the cluster, wait for ``cluster_state:ok``. Raises ClusterError.

        ``echo`` (optional) receives one progress line before each slow step."""
        say = echo or (lambda message: None)
        server, _ = redis_binaries(self.spec.redis_server)
        if self.state_file.exists() and any(pid_alive(n.pid) for n in self.load(self.state_dir).nodes):
            raise ClusterError(f"a cluster is already running from '{self.state_dir}': "
                               "'loadsim cluster down' first, or use another --state-dir")
        self.state_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.state_dir, 0o700)
        if self.spec.acl:
            self._secrets = {ORS_USER: secrets.token_urlsafe(18), ADMIN_USER: secrets.token_urlsafe(18)}
        if self.spec.tls:
            say(f"generating TLS certificates (CA, server, client) in {self.tls_dir} ...")
            tlsgen.generate(self.tls_dir)
        total = self.spec.masters * (1 + self.spec.replicas)
        taken: set[int] = set()
        self.nodes = []
        try:
            if self._own_dir:
                # before the first node: whatever happens from here (an interrupt while a node is being spawned,
                # this process killed), every node in this folder is stopped when this process is gone
                self._start_watchdog()
            for i in range(total):
                directory = self.state_dir / f"node-{i}"
                if directory.exists():
                    shutil.rmtree(directory)
                directory.mkdir()
                node = NodeProcess(i, _free_port(self.spec.host, taken), _free_port(self.spec.host, taken), 0,
                                   str(directory))
                conf = directory / "redis.conf"
                conf.write_text(self._node_config(node))
                os.chmod(conf, 0o600)
                proc = subprocess.Popen([server, str(conf)], cwd=directory, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        start_new_session=True)
                node.pid = proc.pid
                self._popen[proc.pid] = proc
                self.nodes.append(node)
            self._save_state()
            deadline = time.monotonic() + timeout
            say(f"started {total} redis-server processes, waiting for each to answer PING ...")
            for node in self.nodes:
                self._wait_ping(node, deadline)
            say("creating the cluster (redis-cli --cluster create) ...")
            self._create(deadline)
            say("waiting for cluster_state:ok on every node (and replicas in sync) ...")
            self.wait_ok(max(1.0, deadline - time.monotonic()))
        except BaseException:
            self.stop()
            raise
        return self

    def _start_watchdog(self) -> None:
        """A tiny process that stops the nodes if this Python process dies without stop() (SIGKILL,
        crash): it waits for EOF on a pipe only this process holds open."""
        read_end, write_end = os.pipe()
        args = [sys.executable, "-m", "loadsim.embedded.cluster", "--watchdog", str(self.state_dir),
                self.spec.redis_server or ""]
        self._watchdog = subprocess.Popen(args, stdin=read_end, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL, start_new_session=True)
        os.close(read_end)
        self._watchdog_pipe = write_end

    def _stop_watchdog(self) -> None:
        pipe = getattr(self, "_watchdog_pipe", None)
        if pipe is not None:
            os.close(pipe)
            self._watchdog_pipe = None
            if not wait_exit(self._watchdog, 10):
                self._watchdog.kill()

    def _log_tail(self, node: NodeProcess, lines: int = 3) -> str:
        try:
            text = Path(node.directory, "redis.log").read_text(errors="replace").strip().splitlines()
        except OSError:
            return "(no log)"
        return " | ".join(line.strip() for line in text[-lines:])

    def _wait_ping(self, node: NodeProcess, deadline: float) -> None:
        while True:
            if not pid_alive(node.pid):
                raise ClusterError(f"redis-server for node {node.index} (port {node.port}) exited at start: "
                                   f"{self._log_tail(node)}")
            try:
                with self.admin_client(node, socket_timeout=1, socket_connect_timeout=1) as c:
                    c.ping()
                return
            except redis.RedisError:
                if time.monotonic() > deadline:
                    raise ClusterError(f"node {node.index} (port {node.port}) did not answer PING in time; "
                                       f"log: {self._log_tail(node)}") from None
                time.sleep(0.05)

    def _create(self, deadline: float) -> None:
        args, env = self._cli_base()
        args += ["--cluster", "create", *[n.address for n in self.nodes],
                 "--cluster-replicas", str(self.spec.replicas), "--cluster-yes"]
        try:
            out = subprocess.run(args, env=env, capture_output=True, text=True,
                                 timeout=max(5.0, deadline - time.monotonic()), stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise ClusterError("redis-cli --cluster create did not finish in time") from None
        if out.returncode != 0 or "[OK] All 16384 slots covered" not in out.stdout:
            last = (out.stdout.strip().splitlines() or ["?"])[-1]
            raise ClusterError(f"redis-cli --cluster create failed: {last} {out.stderr.strip()[:200]}")

    def cluster_info(self, node: NodeProcess) -> dict[str, str]:
        with self.admin_client(node) as c:
            text = c.execute_command("CLUSTER", "INFO")
        if isinstance(text, dict):
            return {k: str(v) for k, v in text.items()}
        return dict(line.split(":", 1) for line in str(text).splitlines() if ":" in line)

    def wait_ok(self, timeout: float = 30.0) -> None:
        """Wait until every live node says ``cluster_state:ok`` and every replica is in sync."""
        deadline = time.monotonic() + timeout
        last = "no answer"
        live = {n.port for n in self.nodes if pid_alive(n.pid)}
        expected_replicas = sum(1 for n in self.nodes[self.spec.masters:] if n.port in live)
        while time.monotonic() < deadline:
            try:
                bad = []
                for node in self.nodes:
                    if not pid_alive(node.pid):
                        continue
                    info = self.cluster_info(node)
                    if info.get("cluster_state") != "ok" or info.get("cluster_slots_ok") != "16384":
                        bad.append(f"node {node.index}: cluster_state:{info.get('cluster_state')}")
                    with self.admin_client(node) as c:
                        repl = c.info("replication")
                        view = str(c.execute_command("CLUSTER", "NODES"))
                    if repl.get("role") == "slave" and repl.get("master_link_status") != "up":
                        bad.append(f"node {node.index}: replica link {repl.get('master_link_status')}")
                    # gossip: every node must already see every replica as a replica (else a client that asks
                    # this node sees an extra slot-less master for a moment)
                    seen = sum(1 for n in parse_nodes(view) if "slave" in n.flags)
                    if seen != expected_replicas:
                        bad.append(f"node {node.index}: sees {seen} of {expected_replicas} replicas")
                if not bad:
                    return
                last = "; ".join(bad[:3])
            except redis.RedisError as exc:
                last = str(exc)
            time.sleep(0.1)
        raise ClusterError(f"cluster did not reach cluster_state:ok within {timeout:.0f} s ({last}); "
                           f"logs in {self.state_dir}/node-*/redis.log")

    def stop(self, timeout: float = 10.0) -> list[int]:
        """Stop every node this cluster started (SIGTERM, then SIGKILL), those whose pid was never recorded
        included (found by their folder). Returns the pids stopped."""
        server = self.spec.redis_server
        targets = [node.pid for node in self.nodes
                   if node.pid and pid_alive(node.pid) and _is_our_redis(node.pid, node.directory, server)]
        # a node spawned when an interrupt or an error arrived (before its pid was recorded) is in its folder
        targets += [pid for pid in nodes_by_folder(self.state_dir, server) if pid not in targets]
        stopped = []
        for pid in targets:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)  # a paused node cannot handle SIGTERM
                os.kill(pid, signal.SIGTERM)
                stopped.append(pid)
        deadline = time.monotonic() + timeout
        for pid in stopped:
            while pid_alive(pid) and time.monotonic() < deadline:
                self._reap(pid)
                time.sleep(0.02)
            if pid_alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            self._reap(pid, block=True)
        for pid in nodes_by_folder(self.state_dir, server):  # one that finished its exec meanwhile
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
                stopped.append(pid)
        self._stop_watchdog()
        if self.state_file.exists():
            self.state_file.unlink()
        if self._own_dir:
            shutil.rmtree(self.state_dir, ignore_errors=True)
        return stopped

    def _reap(self, pid: int, block: bool = False) -> None:
        proc = self._popen.get(pid)
        if proc is not None:
            wait_exit(proc, 5 if block else 0.0)

    def __enter__(self) -> EmbeddedCluster:
        return self.start() if not self.nodes else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ----------------------------------------------------------------- faults
    def node(self, index: int) -> NodeProcess:
        try:
            return self.nodes[index]
        except IndexError:
            raise ClusterError(f"no node {index}; nodes are 0..{len(self.nodes) - 1}") from None

    def kill(self, index: int) -> None:
        """SIGKILL one node (a crash)."""
        os.kill(self.node(index).pid, signal.SIGKILL)
        self._reap(self.node(index).pid, block=True)

    def pause(self, index: int) -> None:
        """SIGSTOP one node (a hang: it keeps its sockets but answers nothing)."""
        os.kill(self.node(index).pid, signal.SIGSTOP)

    def resume(self, index: int) -> None:
        """SIGCONT a paused node."""
        os.kill(self.node(index).pid, signal.SIGCONT)

    def restart(self, index: int, timeout: float = 30.0) -> None:
        """Start a killed node again with its own config and data directory (it rejoins the cluster: as a
        replica of its promoted replica, or as the master of its slots when none took over)."""
        node = self.node(index)
        if pid_alive(node.pid):
            raise ClusterError(f"node {index} (port {node.port}) is still running; kill it first")
        server, _ = redis_binaries(self.spec.redis_server)
        proc = subprocess.Popen([server, str(Path(node.directory) / "redis.conf")], cwd=node.directory,
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        node.pid = proc.pid
        self._popen[proc.pid] = proc
        self._save_state()
        self._wait_ping(node, time.monotonic() + timeout)

    def restore(self, timeout: float = 60.0) -> list[int]:
        """Restart every node that is not running (a fault of a test before killed it: kill-master, kill-replica)
        and wait for cluster_state ok, so that the next test of the same process starts on the whole cluster it
        asked for. Returns the indexes restarted; ClusterError in one line naming the fix when it cannot."""
        dead = [n.index for n in self.nodes if not pid_alive(n.pid)]
        try:
            for index in dead:
                self.restart(index, timeout)
            self.wait_ok(timeout)
        except (ClusterError, OSError, redis.RedisError) as exc:
            lost = f"node(s) {', '.join(map(str, dead))} stopped by a fault of the test before; " if dead else ""
            raise ClusterError(f"the embedded cluster is not whole ({lost}{exc}); quit loadsim and start it again "
                               "for a new embedded cluster") from None
        return dead

    def topology(self) -> list[Any]:
        """CLUSTER NODES as seen by the first node that answers (``loadsim.redis.topology`` entries)."""
        from loadsim.redis.topology import parse_nodes

        for node in self.nodes:
            if not pid_alive(node.pid):
                continue
            try:
                with self.admin_client(node, socket_timeout=2) as c:
                    return parse_nodes(c.execute_command("CLUSTER", "NODES"))
            except redis.RedisError:
                continue
        raise ClusterError("no node of the embedded cluster answers")

    def masters_in_slot_order(self) -> list[NodeProcess]:
        """The nodes serving slots now, ordered by their first slot (master 0 holds slot 0)."""
        by_port = {n.port: n for n in self.nodes}
        masters = [t for t in self.topology() if t.role == "master" and t.slot_count and not t.failed
                   and t.port in by_port]
        return [by_port[t.port] for t in sorted(masters, key=lambda t: min(a for a, _ in t.slots))]

    def replicas_of(self, master: NodeProcess) -> list[NodeProcess]:
        """The replicas of one master now."""
        entries = self.topology()
        by_port = {n.port: n for n in self.nodes}
        ids = [t.node_id for t in entries if t.port == master.port]
        return [by_port[t.port] for t in entries if ids and t.role == "replica" and t.master_id == ids[0]
                and t.port in by_port]

    def failover(self, replica: NodeProcess) -> None:
        """CLUSTER FAILOVER on a replica: a manual, coordinated switch with its master (no writes lost)."""
        with self.admin_client(replica, socket_timeout=5) as c:
            c.execute_command("CLUSTER", "FAILOVER")

    # ----------------------------------------------------------------- status
    def status(self) -> list[dict[str, Any]]:
        """One row per node: index, address, pid, alive, role, cluster_state."""
        rows = []
        for node in self.nodes:
            row: dict[str, Any] = {"node": node.index, "address": node.address, "pid": node.pid,
                                   "alive": pid_alive(node.pid), "role": "?", "cluster_state": "?"}
            if row["alive"]:
                try:
                    with self.admin_client(node, socket_timeout=2) as c:
                        row["role"] = "master" if c.info("replication").get("role") == "master" else "replica"
                    row["cluster_state"] = self.cluster_info(node).get("cluster_state", "?")
                except redis.RedisError as exc:
                    row["cluster_state"] = f"unreachable ({type(exc).__name__})"
            rows.append(row)
        return rows



def _watchdog_main(argv: list[str]) -> None:
    """``python -m loadsim.embedded.cluster --watchdog DIR [SERVER]``: see EmbeddedCluster._start_watchdog. The
    nodes are found by their folders in DIR when the owner is gone: those started after the watchdog, restarted
    ones (a new pid) and one whose pid the owner never recorded included."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    state_dir, server = argv[0], (argv[1] if len(argv) > 1 else "") or None
    while sys.stdin.buffer.read(4096):
        pass  # EOF: the owner stopped the cluster or died
    pids = nodes_by_folder(state_dir, server)
    time.sleep(0.2)  # a node forked just before the owner died is a redis-server once its exec is done
    pids += [pid for pid in nodes_by_folder(state_dir, server) if pid not in pids]
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGCONT)
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while any(pid_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    for pid in pids:
        if pid_alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    if pids:  # the owner died: its temporary folder is ours to remove
        shutil.rmtree(state_dir, ignore_errors=True)


if __name__ == "__main__" and sys.argv[1:2] == ["--watchdog"]:
    _watchdog_main(sys.argv[2:])
