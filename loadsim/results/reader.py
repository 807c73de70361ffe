"""Reading run folders into pandas: ``load(path)`` returns a ``RunResults``; ``find_runs(path)`` accepts a
run folder, a sweep folder or a folder of runs. The only module of the results layer that imports pandas.
"""

from __future__ import annotations

import json
import math
import os
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, NotRequired

import pandas as pd
from hdrh.histogram import HdrHistogram

from loadsim.errors import ResultsError
from loadsim.results.schema import Stub, Summary, _is_typeddict, upgrade
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


_DAMAGED = "the file is damaged: re-run, or restore it from a copy"
# Numbers that are counts, sizes, times or rates: never negative. (Other numbers need only be finite.)
_NON_NEGATIVE = ("operations", "rates", "workload", "live_sessions", "schedule_lag_us", "server", "client",
                 "masters", "errors", "duration_s", "steady_s")
# What every complete run has had, in every schema version, and what the tables, reports and sizing fit read
# first. (Other keys, some absent from older runs, are checked when present.)
COMPLETE_RUN_KEYS = ("workload", "rates", "operations", "masters", "server")


def check_summary(summary: Any, where: str) -> dict[str, Any]:
    """``summary`` (summary.json as read) if it holds what the schema says: an object, every key of a complete
    run present, every value of its type, every number finite (and not negative where it counts, measures or
    rates something). A ``complete: false`` stub need only be a stub. ResultsError naming the first key that is
    wrong otherwise, so that a damaged file is never shown (or reported on) as a valid run."""
    if not isinstance(summary, dict):
        raise ResultsError(f"'{where}' holds a JSON {type(summary).__name__}, not a run summary (an object); "
                           f"{_DAMAGED}")
    complete = summary.get("complete")
    if not isinstance(complete, bool):
        raise ResultsError(f"'{where}': 'complete' is {complete!r}, not true or false; {_DAMAGED}")
    missing = [key for key in COMPLETE_RUN_KEYS if key not in summary] if complete else []
    if missing:
        raise ResultsError(f"'{where}' says the run is complete but has no {', '.join(missing)}; {_DAMAGED}")
    _check_value(summary, Summary if complete else Stub, "", where)
    return summary


def _check_value(value: Any, hint: Any, path: str, where: str) -> None:
    """Raise ResultsError unless ``value`` fits the schema type ``hint`` (recursively; keys that are absent are
    not checked here)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is Annotated:
        return _check_value(value, args[0], path, where)
    if hint is Any:
        return None
    if origin in (types.UnionType, typing.Union):
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        if len(inner) == 1:
            return _check_value(value, inner[0], path, where)
        return None  # unions of several types: not checked further

    def wrong(expected: str) -> ResultsError:
        return ResultsError(f"'{where}': {path or 'the summary'} is {_shown(value)}, not {expected}; {_DAMAGED}")

    if _is_typeddict(hint):
        if not isinstance(value, dict):
            raise wrong("an object")
        for key, key_hint in typing.get_type_hints(hint, include_extras=True).items():
            if typing.get_origin(key_hint) is NotRequired:
                key_hint = typing.get_args(key_hint)[0]
            if key in value:
                _check_value(value[key], key_hint, f"{path}.{key}" if path else key, where)
        return None
    if origin is list:
        if not isinstance(value, list):
            raise wrong("a list")
        for i, item in enumerate(value):
            _check_value(item, args[0] if args else Any, f"{path}[{i}]", where)
        return None
    if origin is dict:
        if not isinstance(value, dict):
            raise wrong("an object")
        for key, item in value.items():
            _check_value(item, args[1] if len(args) == 2 else Any, f"{path}.{key}", where)
        return None
    if hint is bool:
        if not isinstance(value, bool):
            raise wrong("true or false")
        return None
    if hint in (int, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise wrong("a finite number")
        if value < 0 and path.split(".", 1)[0].split("[", 1)[0] in _NON_NEGATIVE:
            raise wrong("a number >= 0")
        return None
    if hint is str and not isinstance(value, str):
        raise wrong("text")
    return None


def _shown(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, float) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def load(path: str | os.PathLike[str]) -> RunResults:
    """Load a run folder. Raises ResultsError if it is not one, or if its summary is damaged."""
    p = Path(path)
    if not p.is_dir():
        raise ResultsError(f"'{p}' does not exist or is not a folder; give a run folder under results/")
    summary = upgrade(check_summary(_read_json(p / SUMMARY), str(p / SUMMARY)), str(p / SUMMARY))
    return RunResults(p, summary, _read_json(p / "config.json", required=False),
                      _read_json(p / "environment.json", required=False), _read_csv(p / "client_series.csv"),
                      _read_csv(p / "node_series.csv"))


def read_summary(run: str | os.PathLike[str]) -> dict[str, Any]:
    """The checked, upgraded ``summary.json`` of a run folder alone (no series): what ``load`` gives as
    ``summary``. Raises ResultsError for a missing or damaged one."""
    f = Path(run) / SUMMARY
    return upgrade(check_summary(_read_json(f), str(f)), str(f))


INCOMPLETE = "incomplete run: only the series are there"


def incomplete_text(summary: dict[str, Any]) -> str:
    """What a run without its summary (the stub written at its start) is, for people."""
    return (f"{INCOMPLETE} (scenario {summary.get('scenario', '?')}, started {summary.get('started', '?')}): the "
            "run ended before it wrote its summary (killed, or still running); client_series.csv and "
            "node_series.csv hold what it measured until then")


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
