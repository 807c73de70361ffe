"""Writing a run folder (format in docs/results.md): atomic JSON replaces and flushed CSV appends.

``RunWriter`` creates the folder, replaces JSON files atomically (temp file + rename) and appends one
CSV line per sample, flushed at once, so a run killed at any moment leaves a loadable folder. This
module is on the Locust path: it imports nothing heavy (no pandas; the reader is ``results.reader``).
"""

from __future__ import annotations

import csv
import json
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any

from loadsim.errors import ResultsError

SUMMARY = "summary.json"


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
        os.close(fd)
        os.unlink(probe)
        for p in made:  # deepest first: only the folders made here, now empty again
            p.rmdir()
    except PermissionError:
        refuse("permission denied")
    except OSError as exc:
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
        atomic_write(self.path / name, json.dumps(obj, indent=2, sort_keys=False, default=str) + "\n")

    def write_text(self, name: str, text: str) -> None:
        atomic_write(self.path / name, text)

    def append_rows(self, name: str, columns: list[str], rows: list[dict[str, Any]]) -> None:
        """Append rows to a CSV (header written once; missing keys are empty). A key that is not a column
        raises ValueError: a column silently dropped is a measurement lost (it happened to error kinds)."""
        entry = self._csv.get(name)
        if entry is None:
            fh = open(self.path / name, "w", newline="", encoding="utf-8")  # noqa: SIM115 - kept open for the run
            writer = csv.DictWriter(fh, fieldnames=columns, extrasaction="raise")
            writer.writeheader()
            entry = self._csv[name] = (fh, writer)
        fh, writer = entry
        writer.writerows(rows)
        fh.flush()

    def close(self) -> None:
        for fh, _ in self._csv.values():
            fh.close()
        self._csv.clear()
