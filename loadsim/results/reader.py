"""Reading run folders into pandas: ``load(path)`` returns a ``RunResults``; ``find_runs(path)`` accepts a
run folder, a sweep folder or a folder of runs. The only module of the results layer that imports pandas.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from hdrh.histogram import HdrHistogram

from loadsim.errors import ResultsError
from loadsim.results.schema import upgrade
from loadsim.results.writer import SUMMARY


@dataclass
class RunResults:
    """A loaded run folder."""

    path: Path
    summary: dict[str, Any]
    config: dict[str, Any]
    environment: dict[str, Any]
    client_series: pd.DataFrame
    node_series: pd.DataFrame

    def histogram(self, operation: str, kind: str = "latency") -> HdrHistogram:
        """The µs HdrHistogram of an operation (``kind`` service or latency)."""
        f = self.path / "histograms" / f"{operation}.{kind}.hdr"
        if not f.exists():
            raise ResultsError(f"no histogram for {operation} ({kind}) in '{self.path}'")
        return HdrHistogram.decode(f.read_text().strip())

    @property
    def complete(self) -> bool:
        return bool(self.summary.get("complete"))


def _read_json(path: Path, required: bool = True) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        if required:
            raise ResultsError(f"'{path.parent}' is not a loadsim run folder: {path.name} is missing") from None
        return {}
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ResultsError(f"'{path}' is damaged ({exc.msg if hasattr(exc, 'msg') else exc})") from None


def _read_csv(path: Path) -> pd.DataFrame:
    if not path.exists() or path.stat().st_size == 0:
        return pd.DataFrame()
    try:
        return pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError):
        # a run killed mid-line: keep the complete lines
        return pd.read_csv(path, on_bad_lines="skip")


def load(path: str | os.PathLike[str]) -> RunResults:
    """Load a run folder. Raises ResultsError if it is not one."""
    p = Path(path)
    if not p.is_dir():
        raise ResultsError(f"'{p}' does not exist or is not a folder; give a run folder under results/")
    summary = upgrade(_read_json(p / SUMMARY), str(p / SUMMARY))
    return RunResults(p, summary, _read_json(p / "config.json", required=False),
                      _read_json(p / "environment.json", required=False), _read_csv(p / "client_series.csv"),
                      _read_csv(p / "node_series.csv"))


def find_runs(path: str | os.PathLike[str]) -> list[Path]:
    """Run folders at or below ``path`` (a run, a sweep folder or a folder of runs), sorted."""
    p = Path(path)
    if not p.is_dir():
        raise ResultsError(f"'{p}' does not exist or is not a folder")
    if (p / SUMMARY).exists():
        return [p]
    runs = sorted(s.parent for s in p.rglob(SUMMARY))
    if not runs:
        raise ResultsError(f"no runs (summary.json) found under '{p}'")
    return runs
