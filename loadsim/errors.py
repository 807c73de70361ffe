"""Every exception loadsim raises, under one root (modelled on redis-py's ``redis/exceptions.py``).

::

    LoadsimError
    ├── UserError               bad input or a bad environment; the CLI prints one line, exit 2
    │   ├── OptionsError        an option value (names the option and the fix)
    │   ├── ResultsError        a results folder is missing, damaged or of an unknown schema
    │   ├── ExperimentError     a sweep / TLS comparison was given bad input
    │   ├── ClusterError        the embedded cluster could not start or be found
    │   ├── FitError            the runs given cannot be fitted (sizing)
    │   └── MemoryModelError    no memory constants for that allocator (loadsim.model.memory)
    ├── CheckFailed             ``loadsim check`` ran and found a problem (exit 1)
    └── RedisError              a failed Redis command or connection; ``kind`` names it in counters
        ├── ReplyError          the server answered with an error reply
        │   ├── MovedError, AskError   carry ``slot`` and ``address`` parsed from the reply
        │   └── OutOfMemoryError, NoAuthError, WrongPassError, NoPermError, ClusterDownError,
        │       TryAgainError, LoadingError, ReadOnlyError, MasterDownError
        ├── RedisTimeoutError   no reply / no connection within the ORS timeouts
        ├── RedisConnectionError   refused, reset, closed
        ├── TlsError            handshake or certificate failure
        └── ProtocolError       the peer did not speak RESP

Callers dispatch on the type, never on message text. ``ERROR_KINDS`` (one word per class) names the
error columns of ``client_series.csv`` and the keys of ``summary.json``'s ``errors``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any


class LoadsimError(Exception):
    """Root of every loadsim exception."""


class UserError(LoadsimError):
    """Bad input or environment that the user can fix; the message is one line naming the problem and the fix."""


class OptionsError(UserError):
    """A bad option value; the message names the option and how to fix it."""


class ResultsError(UserError):
    """A results folder is missing, unreadable or of a schema this version cannot read."""


class ExperimentError(UserError):
    """Bad sweep / comparison input; the message names the option and the fix."""


class ClusterError(UserError):
    """The embedded cluster failed to start, or its state folder is missing or damaged."""


class FitError(UserError):
    """The runs given cannot be fitted (too few distinct loads, no server samples); says what to add."""


class MemoryModelError(UserError):
    """The Redis memory model has no constants for what was asked (e.g. an allocator); says the fix."""


class CheckFailed(LoadsimError):
    """A check ran and found a problem (exit 1); the message names the problem and the fix. ``details``: what the
    check found (``loadsim check --json`` prints it with ``ok: false``)."""

    def __init__(self, message: str = "", details: dict[str, Any] | None = None):
        super().__init__(message)
        self.details = details


Address = tuple[str, int]


class RedisError(LoadsimError):
    """A failed command or connection. ``kind`` is one word, the class's name in counters and CSV columns."""

    kind = "other"


class ReplyError(RedisError):
    """An error reply from the server (``-ERR ...``, ``-OOM ...``); subclasses per reply prefix."""

    prefix = ""


class _RedirectError(ReplyError):
    """``<PREFIX> <slot> <host>:<port>``: the slot and the node to try, parsed here once."""

    def __init__(self, message: str):
        super().__init__(message)
        try:
            _, slot, where = message.split(" ")[:3]
            host, _, port = where.rpartition(":")
            self.slot = int(slot)
            self.address: Address = (host.strip("[]"), int(port))
        except ValueError:
            raise ProtocolError(f"cannot parse redirection '{message}'") from None


class MovedError(_RedirectError):
    """The slot lives on another master now (``MOVED 3999 127.0.0.1:6381``)."""

    kind, prefix = "moved", "MOVED"


class AskError(_RedirectError):
    """The slot is migrating; ask the importing node once (``ASK 3999 127.0.0.1:6381``)."""

    kind, prefix = "ask", "ASK"


class OutOfMemoryError(ReplyError):
    kind, prefix = "oom", "OOM"


class NoAuthError(ReplyError):
    kind, prefix = "noauth", "NOAUTH"


class WrongPassError(ReplyError):
    kind, prefix = "wrongpass", "WRONGPASS"


class NoPermError(ReplyError):
    kind, prefix = "noperm", "NOPERM"


class ClusterDownError(ReplyError):
    kind, prefix = "clusterdown", "CLUSTERDOWN"


class TryAgainError(ReplyError):
    kind, prefix = "tryagain", "TRYAGAIN"


class LoadingError(ReplyError):
    kind, prefix = "loading", "LOADING"


class ReadOnlyError(ReplyError):
    kind, prefix = "readonly", "READONLY"


class MasterDownError(ReplyError):
    kind, prefix = "masterdown", "MASTERDOWN"


class BusyError(ReplyError):
    """A script or function running longer than busy-reply-threshold (lua-time-limit) blocks the node."""

    kind, prefix = "busy", "BUSY"


class RedisTimeoutError(RedisError):
    kind = "timeout"


class RedisConnectionError(RedisError):
    kind = "connection"


class TlsError(RedisError):
    kind = "tls"


class ProtocolError(RedisError):
    kind = "protocol"


class StuckError(RedisError):
    """An operation still waiting for Redis's reply when its ORS node was stopped (a silent node, no socket
    timeout): never answered, counted with its time so far. Made by the engine, never raised by the client."""

    kind = "stuck"


class CutOffError(RedisError):
    """An operation sent when its ORS node crashed (no graceful stop): no reply will come, and Redis may or may
    not have executed it. Made by the engine, never raised by the client."""

    kind = "cut_off"


_REPLY_CLASSES: tuple[type[ReplyError], ...] = (
    MovedError, AskError, OutOfMemoryError, NoAuthError, WrongPassError, NoPermError, ClusterDownError,
    TryAgainError, LoadingError, ReadOnlyError, MasterDownError, BusyError)
_BY_PREFIX = {c.prefix: c for c in _REPLY_CLASSES}

# Every kind a RedisError can have, in column order (replies, then transport, then "other").
ERROR_KINDS: tuple[str, ...] = (*(c.kind for c in _REPLY_CLASSES), RedisTimeoutError.kind,
                                RedisConnectionError.kind, TlsError.kind, ProtocolError.kind, StuckError.kind,
                                CutOffError.kind, ReplyError.kind)


def reply_error(message: str) -> ReplyError:
    """The typed exception for an error reply's text (its first word is the prefix)."""
    cls = _BY_PREFIX.get(message.split(" ", 1)[0], ReplyError)
    return cls(message)


# What may stand right before or after a secret in a message for it to be a whole value: the start or end, blanks,
# quotes, brackets and the separators of "name=value", "user:secret@host", lists. Not "/", "." or letters: with
# password "x", "certs/fx/key.pem" stays a path (masking substrings garbled it and told which letters the password
# holds).
_EDGE = r"""\s'"`=:@,;()\[\]{}<>"""


def mask_secrets(text: str, secrets: Iterable[str | None]) -> str:
    """*text* with every secret that stands as a whole value replaced by ``***``, never a part of a word or path."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = re.sub(rf"(?<![^{_EDGE}]){re.escape(secret)}(?![^{_EDGE}])", "***", text)
    return text


_EXPECTED_ONE = re.compile(r"argument (?P<opt>(?:-\w\s*/?\s*)?--[\w-]+|-\w): expected one argument")


def explain_usage_error(message: str, argv: Iterable[str]) -> str:
    """argparse's ``argument --run-time: expected one argument`` for ``--run-time -5s``, with its cause and fix:
    argparse reads a word that starts with '-' (a negative value) as an option, not as the value. Any other
    message is returned as it is."""
    match = _EXPECTED_ONE.search(message)
    if not match:
        return message
    names = [n.strip() for n in match.group("opt").split("/")]
    words = list(argv)
    for i, word in enumerate(words[:-1]):
        nxt = words[i + 1]
        if word in names and nxt.startswith("-") and len(nxt) > 1:
            return (f"{word} {nxt}: '{nxt}' starts with '-', so it was read as an option and {word} got no value; "
                    f"give a value that does not start with '-' (a positive number or time), or write {word}={nxt}")
    return message
