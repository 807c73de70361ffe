"""Redis Cluster access as ORS does it (redis-plus-plus), on plain sockets + hiredis.

What ORS's client does, and so this one: RESP2; one connection per master for each ORS worker thread
(``ClusterClient.worker()`` opens them all at once, like a pool); the slot map from ``CLUSTER SLOTS``;
on ``MOVED`` the slot is re-pointed and the whole map refreshed; on ``ASK`` ``ASKING`` + the command go
to the importing node without touching the map; at most two tries per command; no hidden retries with
back-off; connect and socket timeouts from ``redis-connect-timeout`` / ``redis-socket-timeout``
(0 = none, the redis-plus-plus default).

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
from collections.abc import Iterator
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
    TlsError,
    reply_error,
)

SLOTS = 16384
MAX_TRIES = 2  # redis-plus-plus: a redirected command is tried at most twice

from loadsim.errors import Address  # noqa: E402  (host, port)


class Connection:
    """One TCP (or TLS) connection to one node, authenticated. Synchronous request/reply."""

    __slots__ = ("address", "sock", "reader", "buf")

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
        if opts.password is not None:
            auth = ("AUTH", opts.username, opts.password) if opts.username else ("AUTH", opts.password)
            try:
                self.call(*auth)
            except RedisError:
                self.close()
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


class ClusterClient:
    """The cluster as one simulated ORS node sees it: a slot map shared by its worker threads.

    ``opts.redis_nodes`` are the seeds. Raises RedisError if no seed answers ``CLUSTER SLOTS``.
    """

    def __init__(self, opts: PersistenceOptions, name: str = "loadsim"):
        self.opts = opts
        self.name = name
        self.tls = opts.ssl_context()
        self.slots: list[Address] = []
        self.stale = False
        self.refreshes = 0
        self._lock = threading.Lock()
        self.refresh_slots()

    def connect(self, address: Address) -> Connection:
        return Connection(address, self.opts, self.tls)

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
            raise last or RedisConnectionError("no seed node reachable")

    def masters(self) -> list[Address]:
        """Masters in the current slot map, in slot order."""
        return list(dict.fromkeys(self.slots))

    def worker(self) -> WorkerConnections:
        """One ORS worker thread: opens one connection to each master now."""
        return WorkerConnections(self)

    def close(self) -> None:
        """Nothing is held here; workers own their connections."""


class WorkerConnections:
    """One ORS worker thread's connections: one per master. Not shared between greenlets."""

    def __init__(self, client: ClusterClient):
        self.client = client
        self.conns: dict[Address, Connection] = {}
        self.commands_ok = 0
        self.commands_failed = 0
        self.moved = 0
        self.asked = 0
        self.reconnects = 0
        try:
            for address in client.masters():
                self.conns[address] = client.connect(address)
        except RedisError:
            self.close()
            raise

    def _conn(self, address: Address) -> Connection:
        conn = self.conns.get(address)
        if conn is None:
            conn = self.conns[address] = self.client.connect(address)
            self.reconnects += 1
        return conn

    def _drop(self, address: Address) -> None:
        conn = self.conns.pop(address, None)
        if conn is not None:
            conn.close()

    def execute(self, key: bytes | str, *args: Any) -> Any:
        """Run one command (``args`` is the whole command) on the master owning ``key``'s slot."""
        client = self.client
        if client.stale:
            client.refresh_slots()
        slot = key_slot(key if isinstance(key, bytes) else key.encode())
        address = client.slots[slot]
        asking = False
        for attempt in range(MAX_TRIES):
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
                self.commands_ok += 1
                return reply
            except RedisError as exc:
                last_try = attempt == MAX_TRIES - 1
                if isinstance(exc, MovedError) and not last_try:
                    self.moved += 1
                    address = exc.address
                    client.slots[slot] = address
                    client.stale = True  # a MOVED means the map changed: reload it before the next command
                    asking = False
                    continue
                if isinstance(exc, AskError) and not last_try:
                    self.asked += 1
                    address = exc.address
                    asking = True
                    continue
                self.commands_failed += 1
                if isinstance(exc, (RedisTimeoutError, RedisConnectionError, TlsError, ProtocolError)):
                    self._drop(address)
                    client.stale = True
                raise
            except Exception as exc:  # noqa: BLE001 - socket errors: drop the connection, refresh the map
                self.commands_failed += 1
                self._drop(address)
                client.stale = True
                raise _socket_error(address, exc) from None
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

