"""The ``loadsim`` command line: one module per subcommand, each with ``register(subparsers)``.

Every module in ``SUBCOMMANDS`` adds its parser and sets ``func(args) -> int``; heavy imports
(pandas, papermill, Locust) happen inside ``func``, so ``loadsim --help`` stays fast.

Errors (``loadsim.errors``): a ``UserError`` or any other ``LoadsimError`` prints one line
``loadsim: error: ...`` and exits 2; ``CheckFailed`` exits 1; Ctrl-C exits 130. Anything else is a bug:
one line names the log file that keeps the traceback (mode 0600; ``--debug`` shows it instead). The
password given (flag, ``LOCUST_PASSWORD``, ``--ors-config``) is replaced by ``***`` in both. Exit codes:
0 ok, 1 a check failed, 2 bad input or another error, 3 a plan/validation FAIL, 130 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from loadsim import __version__
from loadsim.cli import (
    capacity,
    check,
    cluster,
    compare_tls,
    explain,
    jsonout,
    options,
    plan,
    report,
    results,
    scenario_path,
    sweep,
    validate,
)
from loadsim.config.persistence import (
    ENV_PREFIX,
    mask_secret_arguments,
    read_ors_config,
    refuse_password_argument,
)
from loadsim.errors import CheckFailed, LoadsimError, OptionsError, explain_usage_error, mask_secrets

SUBCOMMANDS = (cluster, check, plan, sweep, capacity, compare_tls, report, validate, results, explain, options,
               scenario_path)


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (problem + where to look), exit 2."""

    last_error: str | None = None  # the usage error, for --json's failure object
    words: list[str] | None = None  # the words parsed (main's argv), to explain a usage error

    def error(self, message: str) -> None:  # type: ignore[override]
        message = explain_usage_error(message, sys.argv[1:] if _Parser.words is None else _Parser.words)
        _Parser.last_error = f"{message} (see '{self.prog} --help')"
        self.exit(2, f"loadsim: error: {_Parser.last_error}\n")

    def parse_known_args(self, args=None, namespace=None):  # type: ignore[no-untyped-def,override]
        """An empty value (``--out ''``, ``report ''``) is refused: it used to fall back to a default or to the
        current folder without a word. Every subcommand's parser is a ``_Parser`` too, so this covers them all."""
        ns, rest = super().parse_known_args(args, namespace)
        for action in self._actions:
            value = getattr(ns, action.dest, None)
            if isinstance(value, str) and not value.strip() or isinstance(value, list) and "" in value:
                if action.option_strings:
                    self.error(f"{action.option_strings[-1]} is empty; give a value or leave it out")
                self.error(f"the {action.metavar or action.dest.upper()} argument is empty; give one")
        return ns, rest


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="loadsim", description="Capacity planning and load simulation for "
                                                 "Genesys ORS session persistence on Redis Cluster.")
    parser.add_argument("--version", action="version", version=f"loadsim {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an unexpected error")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in SUBCOMMANDS:
        module.register(sub)
    return parser


def _err(message: str, secrets: list[str] | None = None) -> None:
    """``loadsim: error: ...`` on stderr, always one line (a multi-line message is joined), no password."""
    one_line = " ".join(line.strip() for line in message.splitlines() if line.strip())
    print(f"loadsim: error: {_scrub(one_line, secrets or [])}", file=sys.stderr, flush=True)


def _secrets(args: argparse.Namespace) -> list[str]:
    """The passwords this command was given (flag, environment, --ors-config file), to keep out of output."""
    found = [getattr(args, "password", None), os.environ.get(ENV_PREFIX + "PASSWORD")]
    ors_config = getattr(args, "ors_config", None) or os.environ.get(ENV_PREFIX + "ORS_CONFIG")
    if ors_config:
        try:
            found.append(read_ors_config(ors_config).get("password"))
        except (LoadsimError, OSError):
            pass  # the command itself reports a bad file
    return [s for s in found if s]


def _scrub(text: str, secrets: list[str]) -> str:
    return mask_secrets(text, secrets)


def crash_log_dir() -> Path:
    """Where tracebacks of unexpected errors are kept: ``$LOADSIM_LOG_DIR`` or the temp folder."""
    return Path(os.environ.get("LOADSIM_LOG_DIR") or tempfile.gettempdir())


def _keep_traceback(exc: BaseException, secrets: list[str]) -> Path | None:
    """Write the traceback to a log file (mode 0600, passwords scrubbed); its path, or None if that fails."""
    try:
        folder = crash_log_dir()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"loadsim-crash-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
        text = (f"loadsim {__version__}\nargv: {mask_secret_arguments(sys.argv)!r}\n\n"
                + "".join(traceback.format_exception(exc)))
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(_scrub(text, secrets))
        return path
    except OSError:
        return None


def _terminated(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


@contextlib.contextmanager
def _signals_as_ctrl_c() -> Iterator[None]:
    """SIGINT and SIGTERM stop a command as Ctrl-C does, whatever this process inherited, and the handlers found
    are put back after it (a command run in-process leaves the signal state as it found it).

    SIGTERM (``timeout``, ``kill``, a service manager): sweep and compare-tls forward it to the run in progress
    and keep it, instead of dying and leaving that run orphaned until its run time ends. SIGINT: Python raises
    KeyboardInterrupt only when it started with SIGINT at its default; a process started in the background of a
    non-interactive shell (``make test &``, a CI step, ``nohup`` scripts) inherits SIGINT *ignored*, and then a
    SIGINT sent to ``loadsim sweep`` did nothing: the run went on to its end and the sweep exited 0 (seen in the
    suite: ``assert 0 == 130``, and compare-tls waited out its 120 s), while the Locust run itself, which takes
    SIGINT explicitly, would have stopped. Only where Python lets a handler be set (the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.signal(signum, _terminated) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            if handler is not None:
                signal.signal(signum, handler)


def _usage_failure_as_json(words: list[str], message: str) -> None:
    """With --json among the words, the failure object for an error found before the command ran."""
    if "--json" in words and "--" not in words[:words.index("--json")]:
        command = " ".join(words[:2]) if words[:1] == ["results"] else (words[0] if words else "")
        jsonout.emit_failure(command, message, 2)


def main(argv: list[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else list(argv)
    jsonout.reset()
    try:
        refuse_password_argument(words)  # before anything reads or prints it
    except OptionsError as exc:
        _err(str(exc))
        _usage_failure_as_json(words, str(exc))
        return 2
    _Parser.last_error, _Parser.words = None, words
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:
        if exc.code == 2 and _Parser.last_error:
            _usage_failure_as_json(words, _Parser.last_error)
        raise
    secrets = _secrets(args)

    def failed(message: str, code: int, details: dict[str, Any] | None = None) -> int:
        """The one line on stderr, and with --json the failure object on stdout (the exit code kept)."""
        _err(message, secrets)
        if jsonout.wanted(args):
            one_line = " ".join(line.strip() for line in message.splitlines() if line.strip())
            jsonout.emit_failure(jsonout.command_name(args), _scrub(one_line, secrets), code, details, secrets)
        return code

    try:
        with _signals_as_ctrl_c():
            return int(args.func(args) or 0)
    except CheckFailed as exc:
        return failed(str(exc), 1, exc.details)
    except LoadsimError as exc:
        return failed(str(exc), 2)
    except KeyboardInterrupt as exc:
        said = str(exc)  # sweep and compare-tls say where the interrupted run and its log are
        return failed(said if said.startswith("interrupted") else "interrupted", 130)
    except BrokenPipeError:
        # the reader of our output went away (``loadsim results show --json | head``): not an error of ours.
        # Python's documented recipe: point stdout at devnull so that the flush at exit does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # noqa: BLE001 - sorted below: a user's file, or a bug
        if args.debug:
            raise
        if isinstance(exc, OSError) and exc.filename is not None:
            # a file the user named, or the disk: say which file and why (permission denied, disk full ...)
            return failed(f"'{exc.filename}': {exc.strerror}; check the path and its permissions", 2)
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS):
            # a write with no file name (a flush, a write to an open file): the disk, not a bug
            return failed(f"{exc.strerror}: a write failed; free space on the disk (or use a writable one) and "
                          "start again", 2)
        where = _keep_traceback(exc, secrets)
        hint = f"the traceback is in {where}" if where else "re-run with --debug for the traceback"
        return failed(f"unexpected {type(exc).__name__}: {exc} (a bug in loadsim: {hint}; please report it)", 2)

if __name__ == "__main__":
    sys.exit(main())
