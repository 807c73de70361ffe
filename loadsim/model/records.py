"""What a persisted record carries so that a read-back can tell current, stale, missing and corrupt apart
(pure: bytes in, bytes or a verdict out).

Every session and timers record starts with a 12-byte header: ``LSv1``, the session's write count
("version": the create is 1, each update adds 1) and a CRC-32 of the body, the session id and the version.
The body is a slice of a fixed random payload, so its own CRC depends only on its length and is computed
once per length (``BodyCrc``); the per-write cost is a CRC of the id and version, and the join.
"""

from __future__ import annotations

import struct
import zlib

HEADER = struct.Struct("!4sII")  # magic, version, crc32
HEADER_SIZE = HEADER.size
MAGIC = b"LSv1"
CURRENT, STALE, AHEAD, MISSING, CORRUPT = "current", "stale", "ahead", "missing", "corrupt"
VERDICTS = (CURRENT, STALE, AHEAD, MISSING, CORRUPT)
ENDED = 0xFFFFFFFF  # acknowledged version of a session whose delete Redis acknowledged
ENDED_VERDICT = "ended"  # a session restored after a switchover, but deleted (it ended) before its restore ran


def acknowledge(acked: int, version: int) -> int:
    """The session's last acknowledged version once a write of ``version`` (or its delete: ``ENDED``) is
    acknowledged: the highest. A node runs one operation of a session at a time (loadsim.locust.engine.OrsNode),
    so its acknowledgements come in order; the highest also keeps an ended session ended."""
    return version if version > acked else acked


def _crc(sid: bytes, version: int, body_crc: int) -> int:
    return zlib.crc32(sid + version.to_bytes(4, "big"), body_crc)


class BodyCrc(dict):
    """CRC-32 of ``payload[HEADER.size:size]`` by size (``body_crc[size]``), computed once per size: a dict whose
    missing sizes are computed, so a write's lookup is the dict's own (a ``__call__`` method cost a Python call a
    record)."""

    def __init__(self, payload: bytes):
        super().__init__()
        self.payload = payload

    def __missing__(self, size: int) -> int:
        crc = self[size] = zlib.crc32(self.payload[HEADER_SIZE:size])
        return crc


def record(payload: bytes, body_crc: BodyCrc, sid: str, version: int, size: int) -> bytes:
    """The record of ``size`` bytes (at least the header) for this session's write ``version``."""
    if size < HEADER_SIZE:
        size = HEADER_SIZE
    return HEADER.pack(MAGIC, version, _crc(sid.encode(), version, body_crc[size])) + payload[HEADER_SIZE:size]


def check(sid: str, value: bytes | None, acked: int) -> str:
    """The verdict on one record read back, against the version of the last acknowledged write:
    missing (no record), corrupt (not a record of this session, or its CRC fails), stale (older than the
    last acknowledged write: an acknowledged write was lost), ahead (newer: a write Redis applied but whose
    reply never came), else current. No write of the session is in flight during the read: an ORS node runs one
    operation of a session at a time (loadsim.locust.engine.OrsNode), and a run's read-back comes after its stop."""
    if value is None:
        return MISSING
    if len(value) < HEADER.size:
        return CORRUPT
    magic, version, crc = HEADER.unpack_from(value)
    if magic != MAGIC or _crc(sid.encode(), version, zlib.crc32(value[HEADER.size:])) != crc:
        return CORRUPT
    if version < acked:
        return STALE
    return AHEAD if version > acked else CURRENT
