"""Redis Cluster access as ORS does it (redis-plus-plus), on plain sockets + hiredis.

What ORS's client does, and so this one: RESP2; one connection per master for each ORS worker thread,
opened when the worker first sends a command to that master (redis-plus-plus creates pool connections
lazily: README "Lazily Create Connection", ``ConnectionPool``'s constructor connects nothing;
``ClusterClient.worker(eager=True)`` opens them all at once instead); the slot map from ``CLUSTER SLOTS``
(read once when the client is built, as ``ShardsPool``'s constructor does); at most two tries per
command (``RedisCluster::_command``'s loop): on an I/O error (timeouts included: redis-plus-plus's
``TimeoutError`` derives from ``IoError``), a connection closed by the server or ``MOVED``, the slot map
is reloaded and the command tried once more; on ``ASK`` ``ASKING`` + the command go to the importing node
without touching the map; no hidden retries with back-off; connect and socket timeouts from
``redis-connect-timeout`` / ``redis-socket-timeout`` (0 = none, the redis-plus-plus default).

One deliberate difference: redis-plus-plus reloads the map (``ShardsPool::update``) on every such failure,
with no limit. Here reloads are rate-limited per client (``MIN_REFRESH_INTERVAL_S``): while a master is
down, hundreds of failing commands per second would otherwise each send ``CLUSTER SLOTS`` and the
generator would measure its own reload storm. A command whose reload was skipped fails at once (unless
the map already points its slot elsewhere); the next command after the interval reloads. Reloads and
skips are counted (``ClusterClient.refreshes`` / ``refreshes_skipped``). redis-plus-plus >= 1.3.13 also
reloads every ``ClusterOptions::slot_map_refresh_interval`` (10 s) from a background thread; not done here.

Why not redis-py's ``RedisCluster``: the load generator must not be the bottleneck. Measured on this
machine (3 loopback masters, 4 KB SET, client CPU per operation): ``redis-benchmark`` ≈ 20 µs,
``RedisCluster`` under Locust ≈ 300 µs, a redis-py per-node client ≈ 155 µs, plain socket + hiredis ≈
58 µs (``bench/generator.py`` measures this implementation against redis-benchmark). redis-py 8 also retries
10 times with back-off by default, which hides exactly the failures a capacity test must see. So the
hot path here is: ``hiredis.pack_command`` (C) → ``socket.sendall`` → ``recv`` → ``hiredis.Reader``
(C); slot hashing is redis-py's ``key_slot`` (CRC16 in C via binascii). Sockets are the stdlib ones,
which Locust's gevent monkey-patching makes cooperative.
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from binascii import crc_hqx
from collections.abc import Callable, Iterator
from typing import Any

import hiredis
from redis.crc import key_slot

from loadsim.config.persistence import PersistenceOptions, RedisNode
from loadsim.errors import (
    AskError,
    ClusterDownError,
    MovedError,
    ProtocolError,
    RedisConnectionError,
    RedisError,
    RedisTimeoutError,
    ReplyError,
    TlsError,
    WrongPassError,
    reply_error,
)

SLOTS = 16384
MAX_TRIES = 2  # redis-plus-plus: RedisCluster::_command tries a command at most twice
# At most one slot-map reload per client per this many seconds (redis-plus-plus has no such limit; see above).
MIN_REFRESH_INTERVAL_S = 0.1

from loadsim.errors import Address  # noqa: E402  (host, port)

# What a non-blocking send or receive raises when it would have to wait (TLS: the record is incomplete).
WOULD_BLOCK = (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError)


# SET <key> <value> PX <ms>: the session, timers and owner writes, nearly every command of a run; DEL <key>: a
# delete's (one a record)
_SET_PX = b"*5\r\n$3\r\nSET\r\n$%d\r\n%b\r\n$%d\r\n%b\r\n$2\r\nPX\r\n$%d\r\n%b\r\n"
_DEL = b"*2\r\n$3\r\nDEL\r\n$%d\r\n%b\r\n"


def pack(cmd: tuple[Any, ...]) -> bytes:
    """The command in RESP, the bytes ``hiredis.pack_command`` makes."""
    key = cmd[1] if len(cmd) > 1 else None
    return _packed(cmd, key.encode()) if key.__class__ is str else hiredis.pack_command(cmd)


def _packed(cmd: tuple[Any, ...], k: bytes) -> bytes:
    """``pack`` of a command whose key (element 1) is ``k`` in bytes. A ``SET key value PX ms`` of str TTL and
    bytes or str value, and a ``DEL key``, are formatted here at once: hiredis's packing formats every argument's
    length with the C library's sprintf, ~1,100 CPU instructions each (8,800 a SET; this way 5,000; valgrind). The
    owner's SET (a str value) and the delete's DELs here too: 111,630 -> 109,111 CPU instructions an operation
    (bench/hot_path.py --valgrind). Anything else goes to hiredis."""
    n = len(cmd)
    if n == 5 and cmd[0] == "SET" and cmd[3] == "PX":
        value, ttl = cmd[2], cmd[4]
        if value.__class__ is str:
            value = value.encode()  # hiredis's encoding of a str argument
        if value.__class__ is bytes and ttl.__class__ is str:
            t = ttl.encode()
            return _SET_PX % (len(k), k, len(value), value, len(t), t)
    elif n == 2 and cmd[0] == "DEL":
        return _DEL % (len(k), k)
    return hiredis.pack_command(cmd)


def slot_of(key: bytes | str) -> int:
    """The cluster slot of ``key``: redis-py's ``key_slot``, whose hash-tag search is skipped for a key without
    "{" (every command routes through it: key_slot and the encode took ~7 % of the event loop's Python time,
    py-spy at 5,000 operations/s).

    The "{" is looked for in the str key: ``b"{" in key_bytes`` first tries the operand as an integer and formats
    a TypeError it then drops (1,840 CPU instructions a command, valgrind; 0.34 -> 0.15 us for the whole lookup)."""
    if isinstance(key, str):
        return crc_hqx(key.encode(), 0) % SLOTS if "{" not in key else key_slot(key.encode())
    return crc_hqx(key, 0) % SLOTS if key.find(b"{") < 0 else key_slot(key)


class Connection:
    """One TCP (or TLS) connection to one node, authenticated. Synchronous request/reply (``call``,
    ``send`` + ``read``), and, under gevent, a non-blocking pair for an event loop: ``nb_send(data)`` returns
    the bytes sent, ``nb_recv_into(buf)`` the bytes read (0: closed by the server); both raise one of
    ``WOULD_BLOCK`` when they would wait. ``watcher`` is the event loop's read watcher of its socket (made by
    the engine on first use)."""

    __slots__ = ("address", "sock", "reader", "buf", "nb_send", "nb_recv_into", "watcher")

    def __init__(self, address: Address, opts: PersistenceOptions, tls: ssl.SSLContext | None):
        self.address = address
        host, port = address
        connect_timeout = opts.redis_connect_timeout / 1000.0 or None
        where = f"{host}:{port}"
        try:
            sock = socket.create_connection(address, timeout=connect_timeout)
        except TimeoutError:
            raise RedisTimeoutError(f"{where}: connect timed out") from None
        except OSError as exc:
            raise RedisConnectionError(f"{where}: {exc.strerror or exc}") from None
        try:
            if tls is not None:
                sock = tls.wrap_socket(sock, server_hostname=opts.server_hostname(RedisNode(host, port)))
        except TimeoutError:
            sock.close()
            raise TlsError(f"{where}: TLS handshake got no answer (a plain, non-TLS port?)") from None
        except ssl.SSLCertVerificationError as exc:
            raise TlsError(f"{where}: certificate verification failed: {exc.verify_message}") from None
        except ssl.SSLError as exc:
            raise TlsError(f"{where}: TLS handshake failed ({exc.reason or exc})") from None
        except OSError as exc:
            sock.close()
            raise RedisConnectionError(f"{where}: {exc.strerror or exc} during the TLS handshake") from None
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(opts.redis_socket_timeout / 1000.0 or None)
        self.sock = sock
        self.reader = hiredis.Reader()
        self.buf = bytearray(65536)  # recv_into + feed(buf, 0, n): no bytes object per reply
        self.watcher: Any = None
        self.nb_send: Callable[[bytes], int] | None = None
        self.nb_recv_into: Callable[[bytearray], int] | None = None
        # gevent's socket keeps its OS socket non-blocking (``_sock``) and, for TLS, the OpenSSL object in
        # ``_sslobj``: calling them directly skips gevent's per-call wait machinery (a watcher started and
        # stopped and two greenlet switches per reply; measured: 34 -> 16 us of client CPU per 1 KB SET with
        # 40 workers, 39-48 -> 29-36 us with 2). Without gevent (plain blocking sockets) there is no loop to drive
        # them: the synchronous path serves.
        raw = getattr(sock, "_sock", None)
        if raw is not None and tls is None:
            self.nb_send, self.nb_recv_into = raw.send, raw.recv_into
        elif raw is not None and getattr(sock, "_sslobj", None) is not None:
            sslobj = sock._sslobj
            self.nb_send = sslobj.write
            self.nb_recv_into = lambda buf: sslobj.read(len(buf), buf)
        if opts.password is not None:
            auth = ("AUTH", opts.username, opts.password) if opts.username else ("AUTH", opts.password)
            try:
                self.call(*auth)
            except RedisError as exc:
                self.close()
                if type(exc) is ReplyError and not opts.username:
                    # decided on the reply's type, not its words: to AUTH <password> Redis (6 and later) answers a
                    # wrong password with WRONGPASS, and a plain ERR only when the default user has no password
                    # (acl.c authCommand: "AUTH <password> called without any password configured for the default
                    # user"), words that name neither the cause on our side nor the fix
                    raise WrongPassError(f"{where}: a password is given but the server has no password for the "
                                         "default user; leave the password out (LOCUST_PASSWORD, --ors-config), "
                                         "or give the username it belongs to") from None
                raise

    def send(self, *commands: tuple[Any, ...]) -> None:
        data = b"".join(hiredis.pack_command(c) for c in commands) if len(commands) > 1 else \
            hiredis.pack_command(commands[0])
        # One send() normally takes the whole command (loopback or LAN, socket buffers >> records);
        # gevent's sendall() costs more (measured: 15.2 -> 12.6 us client CPU per 1 KB SET, 8 greenlets).
        sent = self.sock.send(data)
        if sent < len(data):
            self.sock.sendall(memoryview(data)[sent:])

    def read(self) -> Any:
        """The next reply; a Redis error reply raises RedisError. Socket problems raise OSError."""
        reader, sock, buf = self.reader, self.sock, self.buf
        reply = reader.gets()
        while reply is False:
            n = sock.recv_into(buf)
            if not n:
                raise ConnectionResetError("connection closed by the server")
            reader.feed(buf, 0, n)
            reply = reader.gets()
        if isinstance(reply, hiredis.ReplyError):
            raise reply_error(str(reply))
        return reply

    def call(self, *args: Any) -> Any:
        """Send one command and return its reply (RedisError for errors, timeouts and broken sockets)."""
        try:
            self.sock.sendall(hiredis.pack_command(args))
            return self.read()
        except RedisError:
            raise
        except Exception as exc:  # noqa: BLE001 - every socket failure becomes one RedisError
            raise _socket_error(self.address, exc) from None

    def close(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
            self.watcher.close()
            self.watcher = None
        try:
            self.sock.close()
        except OSError:
            pass


def _socket_error(address: Address, exc: BaseException) -> RedisError:
    where = f"{address[0]}:{address[1]}"
    if isinstance(exc, TimeoutError):
        return RedisTimeoutError(f"{where}: no reply within redis-socket-timeout")
    if isinstance(exc, ssl.SSLError):
        return TlsError(f"{where}: TLS error ({exc.reason or exc})")
    if isinstance(exc, hiredis.ProtocolError):
        return ProtocolError(f"{where}: protocol error ({exc})")
    return RedisConnectionError(f"{where}: {getattr(exc, 'strerror', None) or exc}")


class RefreshLimiter:
    """At most one slot-map reload per ``interval_s`` (pure: the clock is given, tests pass a fake one).

    ``allow()`` is asked by a failing command: True takes the slot (the reload goes ahead now), False
    counts a skip. ``due()`` only looks (the deferred reload of a stale map before the next command)."""

    __slots__ = ("interval_s", "clock", "last", "skipped")

    def __init__(self, interval_s: float = MIN_REFRESH_INTERVAL_S, clock: Callable[[], float] = time.monotonic):
        self.interval_s = interval_s
        self.clock = clock
        self.last = float("-inf")
        self.skipped = 0

    def due(self) -> bool:
        return self.clock() - self.last >= self.interval_s

    def allow(self) -> bool:
        now = self.clock()
        if now - self.last < self.interval_s:
            self.skipped += 1
            return False
        self.last = now  # taken when the reload starts: commands failing meanwhile do not queue up reloads
        return True


class ClusterClient:
    """The cluster as one simulated ORS node sees it: a slot map shared by its worker threads.

    ``opts.redis_nodes`` are the seeds. Raises RedisError if no seed answers ``CLUSTER SLOTS``.
    ``min_refresh_interval_s`` rate-limits the reloads that failures ask for (0 = reload on every failure,
    as redis-plus-plus does). Counters: ``refreshes`` (successful ``CLUSTER SLOTS`` reloads, the first one
    included), ``refresh_errors`` (reloads no node answered), ``refreshes_skipped`` (rate-limited).
    """

    def __init__(self, opts: PersistenceOptions, name: str = "loadsim",
                 min_refresh_interval_s: float = MIN_REFRESH_INTERVAL_S,
                 clock: Callable[[], float] = time.monotonic):
        self.opts = opts
        self.name = name
        self.tls = opts.ssl_context()
        self.slots: list[Address] = []
        self.stale = False
        self.refreshes = 0
        self.refresh_errors = 0
        self.limiter = RefreshLimiter(min_refresh_interval_s, clock)
        self.windows: ErrorWindows | None = None  # set by the engine: error windows per master
        self._lock = threading.Lock()
        self.refresh_slots()

    @property
    def refreshes_skipped(self) -> int:
        return self.limiter.skipped

    def connect(self, address: Address) -> Connection:
        return Connection(address, self.opts, self.tls)

    def refresh_after_failure(self) -> bool:
        """A command failed (I/O error, closed connection, MOVED): reload the map unless one was loaded
        less than ``min_refresh_interval_s`` ago. True if the map was reloaded. A skipped or failed
        reload leaves the map stale: the first command after the interval reloads it."""
        if not self.limiter.allow():
            self.stale = True
            return False
        try:
            self.refresh_slots()
        except RedisError:
            return False
        return True

    def refresh_if_due(self) -> None:
        """The map is stale: reload it now if the rate limit allows (raises RedisError if no node answers)."""
        if self.limiter.due():
            self.limiter.allow()
            self.refresh_slots()

    def refresh_slots(self) -> None:
        """Reload the slot map from the first node that answers (known masters first, then seeds)."""
        with self._lock:
            candidates = list(dict.fromkeys([*self.masters(), *((n.host, n.port) for n in self.opts.require_nodes())]))
            last: RedisError | None = None
            for address in candidates:
                try:
                    conn = self.connect(address)
                except RedisError as exc:
                    last = exc
                    continue
                try:
                    reply = conn.call("CLUSTER", "SLOTS")
                except RedisError as exc:
                    last = exc
                    continue
                finally:
                    conn.close()
                slots: list[Address | None] = [None] * SLOTS
                for entry in reply:
                    start, end, master = entry[0], entry[1], entry[2]
                    host = master[0].decode() if master[0] else address[0]
                    for s in range(start, end + 1):
                        slots[s] = (host, int(master[1]))
                if None in slots:
                    missing = slots.index(None)
                    last = ClusterDownError(f"slot {missing} is not served by any master")
                    continue
                self.slots = slots  # type: ignore[assignment]
                self.stale = False
                self.refreshes += 1
                return
            self.stale = True
            self.refresh_errors += 1
            raise last or RedisConnectionError("no seed node reachable")

    def masters(self) -> list[Address]:
        """Masters in the current slot map, in slot order."""
        return list(dict.fromkeys(self.slots))

    def worker(self, eager: bool = False) -> WorkerConnections:
        """One ORS worker thread. Its connections open on first use (redis-plus-plus's lazy pool), or,
        with ``eager``, one to each master now."""
        return WorkerConnections(self, eager)

    def close(self) -> None:
        """Nothing is held here; workers own their connections."""


class ErrorWindows:
    """Error windows per master, shared by every client of a process: from a master's first failed command
    (after the client's own retry) to the first success on one of the slots that failed there, wherever that
    slot is served by then (its promoted replica, after a failover)."""

    def __init__(self) -> None:
        self.failing_slots: dict[int, Address] = {}  # checked on every success: empty = nothing to do
        self.open: dict[Address, dict[str, Any]] = {}
        self.closed: list[dict[str, Any]] = []

    def fail(self, address: Address, slot: int) -> None:
        window = self.open.get(address)
        if window is None:
            window = self.open[address] = {"master": f"{address[0]}:{address[1]}", "start": time.perf_counter(),
                                           "failures": 0}
        window["failures"] += 1
        self.failing_slots[slot] = address

    def success(self, slot: int) -> None:
        address = self.failing_slots.get(slot)
        if address is None:
            return
        window = self.open.pop(address, None)
        self.failing_slots = {s: a for s, a in self.failing_slots.items() if a != address}
        if window is not None:
            window["end"] = time.perf_counter()
            self.closed.append(window)

    def report(self, start: float) -> list[dict[str, Any]]:
        """Every window, times in s from ``start`` (``end`` None: still failing at the end)."""
        out = []
        for w in [*self.closed, *self.open.values()]:
            end = w.get("end")
            out.append({"master": w["master"], "from_s": round(w["start"] - start, 3),
                        "to_s": None if end is None else round(end - start, 3),
                        "seconds": None if end is None else round(end - w["start"], 3), "failures": w["failures"]})
        return sorted(out, key=lambda w: w["from_s"])


class WorkerConnections:
    """One ORS worker thread's connections: at most one per master. Not shared between greenlets.

    Counters: ``opened`` (connections opened, the first ones included), ``reconnects`` (of those, to a
    master this worker had a connection to before: after an error dropped it), ``moved``, ``asked``,
    ``commands_ok``, ``commands_failed``."""

    def __init__(self, client: ClusterClient, eager: bool = False):
        self.client = client
        self.conns: dict[Address, Connection] = {}
        self.seen: set[Address] = set()
        self.commands_ok = 0
        self.commands_failed = 0
        self.moved = 0
        self.asked = 0
        self.opened = 0
        self.reconnects = 0
        if eager:
            try:
                for address in client.masters():
                    self._conn(address)
            except RedisError:
                self.close()
                raise

    def _conn(self, address: Address) -> Connection:
        conn = self.conns.get(address)
        if conn is None:
            conn = self.conns[address] = self.client.connect(address)
            self.opened += 1
            if address in self.seen:
                self.reconnects += 1
            else:
                self.seen.add(address)
        return conn

    def _drop(self, address: Address) -> None:
        conn = self.conns.pop(address, None)
        if conn is not None:
            conn.close()

    def execute(self, key: bytes | str, *args: Any) -> Any:
        """Run one command (``args`` is the whole command) on the master owning ``key``'s slot.

        Tried at most ``MAX_TRIES`` times, as redis-plus-plus's ``RedisCluster::_command``: after an I/O
        error (connect refused, reset, timeout, TLS) or ``MOVED``, the slot map is reloaded (rate-limited,
        see ``ClusterClient.refresh_after_failure``) and the command tried again; after ``ASK``, it goes to
        the importing node with ``ASKING``. Other error replies fail at once."""
        client = self.client
        if client.stale:
            client.refresh_if_due()
        slot = slot_of(key)
        return self._tries(slot, client.slots[slot], args, None)

    def wire(self, cmd: tuple[Any, ...]) -> tuple[Connection, int, Address, bytes] | None:
        """For an event loop's first try of a command: the open connection to its key's master, the slot, the
        address and the command in RESP (``pack``'s bytes); None when the synchronous ``execute`` must send it (the
        map is stale, or the connection is not open yet: opening blocks). The key is encoded once, for the slot
        (``slot_of``'s, written out for a str key) and for the bytes: where ``route``, ``slot_of`` and ``pack`` were
        three calls each encoding it, 117,064 -> 114,943 CPU instructions an operation (bench/hot_path.py
        --valgrind, measured with the SET formatted here; calling the shared ``_packed`` gives back ~750 of them).
        tests/unit/test_hot_path.py compares it with ``slot_of``, the slot map and hiredis's packing."""
        client = self.client
        if client.stale:
            return None
        key = cmd[1]
        if key.__class__ is str:
            k = key.encode()
            slot = crc_hqx(k, 0) % SLOTS if "{" not in key else key_slot(k)
        else:
            k, slot = key, slot_of(key)
        address = client.slots[slot]
        conn = self.conns.get(address)
        if conn is None or conn.nb_send is None:
            return None
        return conn, slot, address, _packed(cmd, k)

    def succeeded(self, slot: int) -> None:
        """An event loop's first try of a command on ``slot`` got its reply (what ``execute`` counts)."""
        self.commands_ok += 1
        windows = self.client.windows
        if windows is not None and windows.failing_slots:
            windows.success(slot)

    def resume(self, slot: int, address: Address, args: tuple[Any, ...], error: BaseException) -> Any:
        """An event loop's first try of a command failed with ``error`` (an error reply, or a socket error):
        go on exactly as ``execute`` would after its first try (reload, retry, ASKING, counters)."""
        if not isinstance(error, RedisError):
            error = _socket_error(address, error)
        return self._tries(slot, address, args, error)

    def _tries(self, slot: int, address: Address, args: tuple[Any, ...], error: RedisError | None) -> Any:
        """``execute``'s loop; ``error`` is the first try's failure when that try was made elsewhere."""
        client = self.client
        asking = False
        for attempt in range(MAX_TRIES):
            if error is None:
                try:
                    conn = self._conn(address)
                    if asking:
                        conn.send(("ASKING",), args)  # one write: ASKING must directly precede the command
                        try:
                            conn.read()  # +OK of ASKING
                        except RedisError:
                            pass  # the command's own reply, read next, says what happened
                        reply = conn.read()
                    else:
                        conn.send(args)
                        reply = conn.read()
                    self.succeeded(slot)
                    return reply
                except RedisError as exc:
                    error = exc
                except Exception as exc:  # noqa: BLE001 - a socket error on send/recv: one RedisError
                    error = _socket_error(address, exc)
            last_try = attempt == MAX_TRIES - 1
            if isinstance(error, MovedError):
                if not last_try:
                    self.moved += 1
                    client.slots[slot] = error.address  # right for this slot even if the reload is skipped
                    client.refresh_after_failure()
                    address, asking, error = client.slots[slot], False, None
                    continue
            elif isinstance(error, AskError):
                if not last_try:
                    self.asked += 1
                    address, asking, error = error.address, True, None
                    continue
            elif isinstance(error, (RedisTimeoutError, RedisConnectionError, TlsError, ProtocolError)):
                self._drop(address)  # broken, or a reply may still be on its way: never reused
                # Retry if the map was reloaded now, or was reloaded by another worker meanwhile and
                # points the slot elsewhere; a rate-limited reload otherwise fails the command at once.
                if not last_try and (client.refresh_after_failure() or client.slots[slot] != address):
                    address, asking, error = client.slots[slot], False, None
                    continue
            self.commands_failed += 1
            if client.windows is not None:
                client.windows.fail(address, slot)
            raise error from None
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def scan(self, pattern: str, count: int = 1000) -> Iterator[str]:
        """Every key matching ``pattern`` on every master (SCAN, bounded by the keyspace)."""
        for address in self.client.masters():
            cursor = b"0"
            while True:
                try:
                    cursor, keys = self._conn(address).call("SCAN", cursor, "MATCH", pattern, "COUNT", count)
                except RedisError:
                    self.commands_failed += 1
                    self._drop(address)
                    raise
                self.commands_ok += 1
                yield from (k.decode() for k in keys)
                if cursor == b"0":
                    break

    def hscan(self, key: str, pattern: str, count: int = 1000) -> Iterator[str]:
        """Field names of hash ``key`` matching ``pattern`` (HSCAN)."""
        cursor = b"0"
        while True:
            cursor, items = self.execute(key, "HSCAN", key, cursor, "MATCH", pattern, "COUNT", count)
            yield from (f.decode() for f in items[0::2])
            if cursor == b"0":
                break

    def close(self) -> None:
        for conn in self.conns.values():
            conn.close()
        self.conns.clear()

