"""``loadsim sweep``: run a grid of real Locust runs, one results folder per point, one index.

Each point gets a fresh embedded cluster of its own shape (masters, replicas, TLS), so memory
baselines do not carry over, and runs ``scenarios/<scenario>.py`` headless against it. Steady state:
the runs pre-fill the Little's-law population of calls in progress (``--prefill``, default on) and
``--warmup`` seconds are excluded from statistics. Points are ordered so that the TLS arms alternate
(A/B interleaved) and repeats are spread over time, which keeps slow drifts of a noisy machine out of
the comparison.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from loadsim import paths
from loadsim.embedded.cluster import ClusterSpec, EmbeddedCluster
from loadsim.errors import ExperimentError
from loadsim.results.writer import atomic_write

SWEEP_INDEX = "sweep.json"


@dataclass(frozen=True)
class Point:
    ha_pairs: int
    masters: int
    replicas: int
    tls: bool
    complexity: str
    repeat: int
    cps_per_pair: float | None = None

    @property
    def label(self) -> str:
        cps = f"-cps{self.cps_per_pair:g}" if self.cps_per_pair is not None else ""
        return (f"p{self.ha_pairs}-m{self.masters}-r{self.replicas}-{'tls' if self.tls else 'plain'}"
                f"-{self.complexity}{cps}-rep{self.repeat}")


@dataclass
class Grid:
    ha_pairs: list[int] = field(default_factory=lambda: [1, 3, 9])
    masters: list[int] = field(default_factory=lambda: [3])
    replicas: list[int] = field(default_factory=lambda: [0])
    tls: list[bool] = field(default_factory=lambda: [False])
    complexity: list[str] = field(default_factory=lambda: ["standard"])
    cps_per_pair: list[float | None] = field(default_factory=lambda: [None])
    repeats: int = 1

    def points(self) -> list[Point]:
        """Every point; repeats outermost, TLS innermost (A/B interleaved)."""
        out = []
        for rep in range(1, self.repeats + 1):
            for pairs, masters, replicas, cx, cps in itertools.product(
                    self.ha_pairs, self.masters, self.replicas, self.complexity, self.cps_per_pair):
                for tls in self.tls:
                    out.append(Point(pairs, masters, replicas, tls, cx, rep, cps))
        return out


def parse_list(name: str, text: str, kind: Callable[[str], Any]) -> list[Any]:
    """``"1,3,9"`` → ``[1, 3, 9]``; a clear ExperimentError otherwise."""
    try:
        values = [kind(t.strip()) for t in text.split(",") if t.strip()]
    except ValueError:
        raise ExperimentError(f"--{name}: '{text}' is not a comma-separated list; e.g. --{name} 1,3,9") from None
    if not values:
        raise ExperimentError(f"--{name} is empty; e.g. --{name} 1,3,9")
    return values


def parse_onoff(text: str) -> bool:
    low = text.lower()
    if low in ("on", "true", "yes", "tls"):
        return True
    if low in ("off", "false", "no", "plain"):
        return False
    raise ValueError(text)  # parse_list turns it into one line naming the option


def fmt_duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


def run_point(point: Point, out: Path, scenario: Path, run_time: str, extra: list[str],
              mutual_tls: bool = False) -> dict[str, Any]:
    """Start a cluster of the point's shape, run Locust against it, return the index entry."""
    spec = ClusterSpec(masters=point.masters, replicas=point.replicas, tls=point.tls,
                       mutual_tls=mutual_tls and point.tls)
    with EmbeddedCluster(spec) as cluster:
        opts = cluster.options
        args = [sys.executable, "-m", "locust", "-f", str(scenario), "--headless", "-t", run_time, "--only-summary",
                "-u", str(point.ha_pairs), "--redis-nodes", ",".join(str(n) for n in opts.redis_nodes),
                "--complexity", point.complexity, "--results-dir", str(out)]
        if point.cps_per_pair is not None:
            args += ["--cps-per-pair", str(point.cps_per_pair)]
        if point.tls:
            args += ["--tls-enabled", "true", "--tls-cacert", str(opts.tls_cacert)]
            if opts.tls_cert:
                args += ["--redis-tls-cert", str(opts.tls_cert), "--redis-tls-key", str(opts.tls_key)]
        started = time.time()
        proc = subprocess.run([*args, *extra], capture_output=True, text=True, stdin=subprocess.DEVNULL)
        (out.parent / f"{out.name}.log").write_text(proc.stdout[-20000:] + proc.stderr[-20000:])
    entry = {"point": asdict(point), "label": point.label, "path": out.name, "seconds": round(time.time() - started, 1),
             "exit_code": proc.returncode, "ok": (out / "summary.json").exists()}
    if not entry["ok"]:
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        entry["error"] = last[:300]
    return entry


def run_sweep(grid: Grid, out_dir: Path, run_time: str = "60s", scenario: str = "ha9", extra: Iterable[str] = (),
              echo: Callable[[str], None] = print) -> Path:
    """Run every point of ``grid`` into ``out_dir`` (created; must not hold another sweep).

    Writes ``sweep.json`` after every point, so an interrupted sweep keeps what it measured.
    """
    scenario_file = paths.scenario_file(scenario)
    if (out_dir / SWEEP_INDEX).exists():
        raise ExperimentError(f"'{out_dir}' already holds a sweep; choose a new --out folder")
    out_dir.mkdir(parents=True, exist_ok=True)
    points = grid.points()
    index: dict[str, Any] = {"grid": asdict(grid), "run_time": run_time, "scenario": scenario_file.name,
                             "extra_args": list(extra), "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                             "complete": False, "runs": []}
    atomic_write(out_dir / SWEEP_INDEX, json.dumps(index, indent=2))
    t0 = time.time()
    for i, point in enumerate(points, 1):
        done = time.time() - t0
        eta = f", about {fmt_duration(done / (i - 1) * (len(points) - i + 1))} left" if i > 1 else ""
        echo(f"[{i}/{len(points)}] {point.label}: running{eta}")
        entry = run_point(point, out_dir / f"{i:03d}-{point.label}", scenario_file, run_time, list(extra))
        index["runs"].append(entry)
        atomic_write(out_dir / SWEEP_INDEX, json.dumps(index, indent=2))
        status = "ok" if entry["ok"] else f"FAILED: {entry.get('error')}"
        echo(f"[{i}/{len(points)}] {point.label}: {status} in {entry['seconds']:.0f} s")
    index["complete"] = True
    index["ended"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    atomic_write(out_dir / SWEEP_INDEX, json.dumps(index, indent=2))
    return out_dir
