"""The run folder (format in docs/results.md): written atomically, loaded into pandas.

Writing: ``RunWriter`` creates the folder, replaces JSON files atomically (temp file + rename) and
appends one CSV line per sample, flushed at once, so a run killed at any moment leaves a loadable
folder. Reading: ``load(path)`` returns a ``RunResults``; ``find_runs(path)`` accepts a run folder, a
sweep folder or a folder of runs.
"""

from __future__ import annotations

import csv
import json
import os
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from hdrh.histogram import HdrHistogram

SUMMARY = "summary.json"


class ResultsError(ValueError):
    """A results folder is missing or unreadable; the message says which and why."""


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
        """Append rows to a CSV (header written once; unknown keys ignored, missing ones empty)."""
        entry = self._csv.get(name)
        if entry is None:
            fh = open(self.path / name, "w", newline="", encoding="utf-8")  # noqa: SIM115 - kept open for the run
            writer = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
            writer.writeheader()
            entry = self._csv[name] = (fh, writer)
        fh, writer = entry
        writer.writerows(rows)
        fh.flush()

    def close(self) -> None:
        for fh, _ in self._csv.values():
            fh.close()
        self._csv.clear()


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
    return RunResults(p, _read_json(p / SUMMARY), _read_json(p / "config.json", required=False),
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


def summary_table(summary: dict[str, Any]) -> str:
    """The summary as a plain-text table for the terminal."""
    w = summary.get("workload", {})
    r = summary.get("rates", {})
    lines = [
        f"run: {summary.get('scenario')}  {summary.get('started')}  {summary.get('duration_s', 0):.0f} s"
        f"  complete={summary.get('complete')}",
        f"workload: {w.get('ha_pairs')} HA pairs x {w.get('cps_per_pair')} cps, AHT {w.get('aht_s')} s, "
        f"{w.get('complexity')}, layout {w.get('key_layout')}, {w.get('worker_threads')} threads/node",
        f"rates (steady state): offered {r.get('offered_ops_per_s', 0):.1f} ops/s, achieved "
        f"{r.get('achieved_ops_per_s', 0):.1f} ops/s, {r.get('commands_per_s', 0):.1f} commands/s",
        "",
        f"{'operation':<18}{'count':>9}{'errors':>8}{'p50 us':>9}{'p90 us':>9}{'p99 us':>9}"
        f"{'p99.9 us':>10}{'max us':>10}   (latency from intended start; service p99)",
    ]
    for name, op in summary.get("operations", {}).items():
        lat, svc = op.get("latency_us", {}), op.get("service_us", {})
        if not lat.get("count"):
            lines.append(f"{name:<18}{op.get('count', 0):>9}{op.get('errors', 0):>8}   (warm-up / pre-fill: "
                         "not in the statistics)")
            continue
        lines.append(f"{name:<18}{op.get('count', 0):>9}{op.get('errors', 0):>8}{lat.get('p50', 0):>9}"
                     f"{lat.get('p90', 0):>9}{lat.get('p99', 0):>9}{lat.get('p999', 0):>10}{lat.get('max', 0):>10}"
                     f"   svc p99 {svc.get('p99', 0)}")
    ls = summary.get("live_sessions", {})
    lines += ["", f"live sessions: steady mean {ls.get('steady_mean', 0):.0f}, final {ls.get('final', 0)}, "
                  f"Little's law {ls.get('expected', 0):.0f}"]
    lines.append(f"{'master':<22}{'used_memory':>14}{'keys':>10}{'cpu s':>8}{'commands':>10}")
    for m in summary.get("masters", []):
        lines.append(f"{m.get('node', '?'):<22}{m.get('used_memory', 0):>14}{m.get('keys', 0):>10}"
                     f"{m.get('cpu_s', 0):>8.2f}{m.get('commands', 0):>10}")
    s, c = summary.get("server", {}), summary.get("client", {})
    lines.append(f"server: {s.get('commands', 0)} commands (client counted {s.get('commands_client_counted', 0)}), "
                 f"{s.get('cpu_us_per_command', 0):.1f} us CPU/command; generator: "
                 f"{c.get('cpu_us_per_command', 0):.1f} us CPU/command, max {c.get('max_cpu_percent', 0):.0f} % CPU")
    if summary.get("recovery"):
        rv = summary["recovery"]
        lines.append(f"switchover: {rv.get('recovered', 0)} sessions recovered of {rv.get('expected', 0)} live, "
                     f"{rv.get('lost', 0)} lost ({rv.get('lost_never_written', 0)} never written: their create was "
                     f"still queued in the old primary; {rv.get('lost_written', 0)} written but not found), "
                     f"slowest pair {rv.get('max_seconds', 0):.2f} s")
    flags = [k for k, v in summary.get("flags", {}).items() if v]
    lines.append("flags: " + (", ".join(flags) if flags else "none"))
    return "\n".join(lines)
