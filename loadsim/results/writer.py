"""Writing a run folder (format in docs/results.md): atomic JSON replaces and flushed CSV appends.

``RunWriter`` creates the folder, replaces JSON files atomically (temp file + rename) and appends one
CSV line per sample, flushed at once, so a run killed at any moment leaves a loadable folder. This
module is on the Locust path: it imports nothing heavy (no pandas; the reader is ``results.reader``).
"""

from __future__ import annotations

import csv
import errno
import json
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any

from loadsim.errors import ResultsError

SUMMARY = "summary.json"
PROBE_BYTES = 64 * 1024  # the pre-flight probe's size: an empty file can still be made on a full disk


class ResultsWriteError(ResultsError):
    """A write into a run folder failed (disk full, read-only, permission): one line naming the folder and the
    fix. What was written before stays."""


def write_problem(folder: Path, exc: OSError, elsewhere: str = "give --results-dir a folder") -> ResultsWriteError:
    """The one line for a failed write into *folder*; *elsewhere* says how to write somewhere else."""
    why = exc.strerror or type(exc).__name__
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        fix = f"free space on that disk, or {elsewhere} on another one"
    elif exc.errno == errno.EROFS:
        fix = f"the file system is read-only: {elsewhere} that is writable"
    elif exc.errno in (errno.EACCES, errno.EPERM):
        fix = f"{elsewhere} this user may write in"
    else:
        fix = f"check the disk, or {elsewhere} elsewhere"
    return ResultsWriteError(f"cannot write in the results folder {folder} ({why}); {fix}")


def atomic_write(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + path.name, dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# Where a run writes its exit record (a JSON object: exit_code, error), when its parent asks for one: `loadsim sweep`
# and `compare-tls` learn why a child run failed from this data, never from the words of its output.
EXIT_RECORD_ENV = "LOADSIM_EXIT_RECORD"


def record_exit(exit_code: int, error: str) -> None:
    """Write this process's exit record where ``$LOADSIM_EXIT_RECORD`` says (nothing without it): the one line
    naming the problem and the code the process exits with. The first failure is kept (it is the cause)."""
    path = os.environ.get(EXIT_RECORD_ENV)
    if not path or os.path.exists(path):
        return
    try:
        atomic_write(Path(path), json.dumps({"exit_code": exit_code, "error": error}) + "\n")
    except OSError:
        pass  # the parent then reports the exit code and the log's last line


def read_exit_record(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """A child's exit record (see ``record_exit``); None if it wrote none."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("error"), str) else None


def check_results_dir(folder: str | os.PathLike[str], option: str = "--results-dir") -> None:
    """Raise ResultsError (one line naming *option* and the fix) unless *folder* is, or can be made, a folder
    this process can write in: writes and removes a probe file, in the folder or, when it does not exist yet,
    in a folder made for the probe and removed again (a run refused later leaves nothing behind)."""
    given = Path(folder)

    def refuse(why: str) -> None:
        raise ResultsError(f"{option} {folder}: {why}; give a writable folder")

    if given.exists() and not given.is_dir():
        refuse("it is a file, not a folder")
    for parent in given.parents:  # the nearest existing ancestor must be a folder
        if parent.exists():
            if not parent.is_dir():
                refuse(f"'{parent}' is a file, not a folder")
            break
    made = [p for p in (given, *given.parents) if not p.exists()]
    try:
        given.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".loadsim-write-test-", dir=given)
        try:
            os.write(fd, bytes(PROBE_BYTES))  # data, not only a name: a full disk still makes empty files
            os.fsync(fd)
        finally:
            os.close(fd)
            os.unlink(probe)
        for p in made:  # deepest first: only the folders made here, now empty again
            p.rmdir()
    except PermissionError:
        refuse("permission denied")
    except OSError as exc:
        for p in made:
            try:
                p.rmdir()
            except OSError:
                break
        refuse(f"cannot create it or write in it ({exc.strerror or type(exc).__name__})")


def new_run_dir(root: str | os.PathLike[str], scenario: str) -> Path:
    """``<root>/<YYYYmmdd-HHMMSS>-<scenario>``, made unique with a suffix if it exists."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", scenario) or "run"
    base = Path(root) / f"{time.strftime('%Y%m%d-%H%M%S')}-{safe}"
    path, n = base, 1
    while path.exists():
        n += 1
        path = Path(f"{base}-{n}")
    path.mkdir(parents=True)
    return path


class RunWriter:
    """Writes one run folder. ``path`` must not hold another run's files (a fresh folder)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        if (self.path / SUMMARY).exists():
            raise ResultsError(f"'{self.path}' already holds a run (summary.json); choose another --results-dir")
        self._csv: dict[str, tuple[Any, csv.DictWriter[str]]] = {}

    def write_json(self, name: str, obj: Any) -> None:
        self.write_text(name, json.dumps(obj, indent=2, sort_keys=False, default=str) + "\n")

    def write_text(self, name: str, text: str) -> None:
        """Replace *name* atomically. ResultsWriteError if the disk refuses (the old file stays)."""
        try:
            atomic_write(self.path / name, text)
        except OSError as exc:
            raise write_problem(self.path, exc) from None

    def append_rows(self, name: str, columns: list[str], rows: list[dict[str, Any]]) -> None:
        """Append rows to a CSV (header written once; missing keys are empty). A key that is not a column
        raises ValueError: a column silently dropped is a measurement lost (it happened to error kinds)."""
        try:
            entry = self._csv.get(name)
            if entry is None:
                fh = open(self.path / name, "w", newline="", encoding="utf-8")  # noqa: SIM115 - kept open for the run
                writer = csv.DictWriter(fh, fieldnames=columns, extrasaction="raise")
                writer.writeheader()
                entry = self._csv[name] = (fh, writer)
            fh, writer = entry
            writer.writerows(rows)
            fh.flush()
        except OSError as exc:
            raise write_problem(self.path, exc) from None

    def close(self) -> None:
        for fh, _ in self._csv.values():
            try:
                fh.close()
            except OSError:
                pass  # a flush that failed already raised ResultsWriteError; the file keeps what was written
        self._csv.clear()
