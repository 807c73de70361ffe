"""``loadsim sweep``: run a grid of real Locust runs, one results folder per point, one index.

Each point gets a fresh embedded cluster of its own shape (masters, replicas, TLS), so memory
baselines do not carry over, and runs ``scenarios/<scenario>.py`` headless against it. Steady state:
the runs pre-fill the Little's-law population of calls in progress (``--prefill``, default on) and
``--warmup`` seconds are excluded from statistics. Points are ordered so that the TLS arms alternate
(A/B interleaved) and repeats are spread over time, which keeps slow drifts of a noisy machine out of
the comparison.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from loadsim import defaults as D
from loadsim import paths
from loadsim.embedded.cluster import ClusterSpec, EmbeddedCluster
from loadsim.errors import ExperimentError, UserError, explain_usage_error
from loadsim.results.figures import used_memory_added
from loadsim.results.writer import EXIT_RECORD_ENV, atomic_write, read_exit_record

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

    def validate(self) -> None:
        """Bad input is refused before any cluster starts (one line naming the option)."""
        from loadsim.experiments.precision import CAP

        if not 1 <= self.repeats <= CAP:
            raise ExperimentError(f"--repeats {self.repeats}: give 1 to {CAP} (more is what --precision adds, up to "
                                  f"{CAP})")
        for p in self.ha_pairs:
            if p < 1:
                raise ExperimentError(f"--ha-pairs {p}: give at least 1 HA pair")
        (low, high), (r_low, r_high) = D.EMBEDDED_MASTERS_RANGE, D.EMBEDDED_REPLICAS_RANGE
        for m in self.masters:
            if not low <= m <= high:
                raise ExperimentError(f"--masters {m}: an embedded cluster has {low}..{high} masters")
        for r in self.replicas:
            if not r_low <= r <= r_high:
                raise ExperimentError(f"--replicas {r}: an embedded cluster has {r_low}..{r_high} replicas per master")
        for c in self.complexity:
            check_complexity(c)
        for cps in self.cps_per_pair:
            if cps is not None and not 0 < cps < float("inf"):
                raise ExperimentError(f"--cps-per-pair {cps:g}: the offered load must be a finite number > 0")

    def points(self) -> list[Point]:
        """Every point; repeats outermost, TLS innermost (A/B interleaved)."""
        return [p for rep in range(1, self.repeats + 1) for p in self.repeat_points(rep)]

    def repeat_points(self, rep: int) -> list[Point]:
        """The points of one repeat, TLS innermost (A/B interleaved)."""
        out = []
        for pairs, masters, replicas, cx, cps in itertools.product(
                self.ha_pairs, self.masters, self.replicas, self.complexity, self.cps_per_pair):
            for tls in self.tls:
                out.append(Point(pairs, masters, replicas, tls, cx, rep, cps))
        return out


_EXAMPLES = {"tls": "off,on", "complexity": "simple,standard", "cps-per-pair": "5,10,20", "masters": "3,6",
             "concurrency": "1,2,4,8"}


def parse_list(name: str, text: str, kind: Callable[[str], Any]) -> list[Any]:
    """``"1,3,9"`` → ``[1, 3, 9]``; a clear ExperimentError otherwise."""
    try:
        values = [kind(t.strip()) for t in text.split(",") if t.strip()]
    except ValueError:
        raise ExperimentError(f"--{name}: '{text}' is not a comma-separated list; e.g. --{name} "
                              f"{_EXAMPLES.get(name, '1,3,9')}") from None
    if not values:
        raise ExperimentError(f"--{name} is empty; e.g. --{name} {_EXAMPLES.get(name, '1,3,9')}")
    return values


def check_complexity(name: str) -> None:
    """ExperimentError unless *name* is a complexity preset."""
    from loadsim.model.workload import PRESETS

    if name not in PRESETS:
        raise ExperimentError(f"--complexity {name}: unknown preset; use one of {', '.join(PRESETS)}")


MAX_RUN_TIME_S = 7 * 24 * 3600  # per run of an experiment: a week is a soak test; more is a typo
_TIMESPAN = re.compile(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")


def check_run_time(text: str) -> float:
    """Seconds of a Locust ``--run-time`` (``90``, ``30s``, ``5m``, ``1h30m``); ExperimentError otherwise."""
    t = str(text).strip()
    match = _TIMESPAN.fullmatch(t)
    seconds = (float(t) if t.isdigit() else
               sum(int(g or 0) * k for g, k in zip(match.groups(), (3600, 60, 1), strict=True))
               if match and t else 0.0)
    if seconds <= 0:
        raise ExperimentError(f"--run-time {text}: give a duration in Locust's syntax, e.g. 30s, 5m or 1h30m")
    if seconds > MAX_RUN_TIME_S:
        raise ExperimentError(f"--run-time {text}: more than {MAX_RUN_TIME_S // 3600} h per run; give a duration "
                              "up to that, e.g. 30s, 5m or 1h30m")
    return seconds


def check_run_options(extra: Iterable[str]) -> None:
    """The loadsim options among the words given to every run (after '--'), checked as a run would check them,
    so that a bad one stops the experiment before its first cluster starts. Locust's own options are left
    to Locust."""
    from loadsim.config.persistence import add_arguments, from_namespace
    from loadsim.config.simulation import add_simulation_arguments, simulation_values

    words = list(extra)

    class _Parser(argparse.ArgumentParser):
        def error(self, message: str) -> None:  # type: ignore[override]
            raise ExperimentError(f"after '--': {explain_usage_error(message, words)}")

    parser = _Parser(prog="run", add_help=False, allow_abbrev=False)
    add_arguments(parser)
    add_simulation_arguments(parser, {})
    ns, _locust_options = parser.parse_known_args(list(extra))
    try:
        sim = simulation_values(ns, {})
        from_namespace(ns)
    except UserError as exc:
        raise ExperimentError(f"after '--': {exc}") from None
    from loadsim.model.workload import KEY_LAYOUTS

    if "key_layout" in sim and sim["key_layout"] not in KEY_LAYOUTS:
        raise ExperimentError(f"after '--': --key-layout {sim['key_layout']}: use one of {', '.join(KEY_LAYOUTS)}")


CHECK_TIMEOUT_S = 120  # one Locust start-up that stops after its option checks (about 2 s when idle)


def check_runs(scenario: Path, run_time: str, points: Iterable[Point], extra: Iterable[str]) -> None:
    """Ask the scenario itself, in a Locust process that stops after its option checks, whether it accepts the
    runs of these points: Locust's own options, the scenario's defaults, what one generator can hold (calls/s x
    lifetime) and the fault targets are checked exactly as the runs will check them, before any cluster starts.
    One process per distinct workload: for each complexity, the most HA pairs at the highest rate (capacity)
    and the fewest at the lowest (fault targets). ExperimentError with the run's own one line otherwise."""
    import tempfile

    from loadsim.config.simulation import CHECK_ONLY_ENV

    chosen: dict[tuple[Any, ...], Point] = {}
    for cx in sorted({p.complexity for p in points}, key=str):
        same = [p for p in points if p.complexity == cx]
        for pick in (max(same, key=lambda p: (p.ha_pairs, p.cps_per_pair or 0)),
                     min(same, key=lambda p: (p.ha_pairs, p.cps_per_pair or 0))):
            chosen.setdefault((pick.ha_pairs, pick.cps_per_pair, cx), pick)
    for point in chosen.values():
        # the runs get --redis-nodes of their cluster: a placeholder here (never contacted: the check-only run
        # exits before it connects), so that options needing the embedded cluster are refused as they will be
        args = [sys.executable, "-m", "locust", "-f", str(scenario), "--headless", "-t", run_time, "--only-summary",
                "-u", str(point.ha_pairs), "--redis-nodes", "127.0.0.1:1", "--complexity", point.complexity]
        if point.cps_per_pair is not None:
            args += ["--cps-per-pair", str(point.cps_per_pair)]
        with tempfile.TemporaryDirectory(prefix="loadsim-check-") as folder:
            record_path = os.path.join(folder, "exit.json")
            env = {**embedded_child_env()[0], CHECK_ONLY_ENV: "1", EXIT_RECORD_ENV: record_path}
            try:
                proc = subprocess.run([*args, *extra], capture_output=True, text=True, stdin=subprocess.DEVNULL,
                                      timeout=CHECK_TIMEOUT_S, env=env)
            except subprocess.TimeoutExpired:
                raise ExperimentError(f"checking the run options of {point.label} took over {CHECK_TIMEOUT_S} s; "
                                      "is the machine overloaded? try again") from None
            record = read_exit_record(record_path)
        if proc.returncode != 0:
            problem = child_problem(record, proc.stderr, proc.returncode)
            raise ExperimentError(f"a run of {point.label} would refuse its options: {problem} (nothing was "
                                  "started)")


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
              mutual_tls: bool = False, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Start a cluster of the point's shape, run Locust against it (in ``env``: default this process's
    environment), return the index entry."""
    spec = ClusterSpec(masters=point.masters, replicas=point.replicas, tls=point.tls,
                       mutual_tls=mutual_tls and point.tls)
    record_path = exit_record_path(out)
    record_path.unlink(missing_ok=True)
    env = {**(env if env is not None else os.environ), EXIT_RECORD_ENV: str(record_path)}
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
        log_path = out.parent / f"{out.name}.log"
        code, interrupted = run_child([*args, *extra], log_path, env=env)
    entry = {"point": asdict(point), "label": point.label, "path": out.name, "seconds": round(time.time() - started, 1),
             "exit_code": code, "ok": _complete(out)}
    if interrupted:
        entry["interrupted"] = True
    if not entry["ok"]:
        entry["error"] = child_problem(read_exit_record(record_path), _log_tail(log_path), code)[:300]
    if interrupted:
        raise RunInterrupted(entry)
    return entry


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C during a child run: the run was told to stop and has ended; ``entry`` is its index entry."""

    def __init__(self, entry: dict[str, Any]):
        super().__init__(entry.get("label", ""))
        self.entry = entry


CHILD_STOP_S = 120  # after Ctrl-C: how long a child run may take to stop its pairs and write its summary


def embedded_child_env(env: dict[str, str] | None = None) -> tuple[dict[str, str], list[str]]:
    """The environment for a run against an embedded cluster that an experiment started (sweep, compare-tls,
    capacity), and the names left out: the connection variables (``LOCUST_PASSWORD``, ``LOCUST_USERNAME``,
    ``LOCUST_ORS_CONFIG``, ``LOCUST_TLS_*`` ...) are for the user's own cluster; the embedded one has no password
    and the run is given where and how to connect. Exported, they made every run fail ("a password is given but
    the server has no password")."""
    from loadsim.config.persistence import ENV_PREFIX, OPTIONS

    base = dict(os.environ if env is None else env)
    names = {o.env for o in OPTIONS if not o.form} | {ENV_PREFIX + "ORS_CONFIG"}
    dropped = sorted(n for n in names if n in base)
    return {k: v for k, v in base.items() if k not in names}, dropped


def ignored_connection_note(env: dict[str, str] | None = None) -> str | None:
    """One line when connection variables are exported: they are for the user's cluster, not the embedded ones."""
    _, dropped = embedded_child_env(env)
    if not dropped:
        return None
    return (f"note: {', '.join(dropped)} {'is' if len(dropped) == 1 else 'are'} for your own cluster; the embedded "
            "clusters this command starts do not use them (they have no password, and each run is told where and "
            "how to connect)")


def run_child(args: list[str], log_path: Path, stop_s: float = CHILD_STOP_S,
              env: dict[str, str] | None = None) -> tuple[int, bool]:
    """Run one child Locust run with its output (stdout and stderr) written to ``log_path`` as it comes.

    Returns (exit code, interrupted). Ctrl-C is forwarded: the child runs in a session of its own (a Ctrl-C in
    the terminal reaches this process only, so the child gets exactly one SIGINT), gets SIGINT, stops its HA
    pairs and writes its summary (``interrupted: true``); this waits for that, at most ``stop_s`` (then it is
    killed), a repeated Ctrl-C being forwarded too. ``subprocess.run`` would SIGKILL the child at the first
    Ctrl-C, leaving the run's start stub and no log."""
    child_env, _ = embedded_child_env(env)  # every child run is against an embedded cluster
    with open(log_path, "w", encoding="utf-8") as log:
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, env=child_env)
        try:
            return proc.wait(), False
        except KeyboardInterrupt:
            proc.send_signal(signal.SIGINT)
        deadline = time.monotonic() + stop_s
        while True:
            try:
                return proc.wait(timeout=max(0.1, deadline - time.monotonic())), True
            except KeyboardInterrupt:
                proc.send_signal(signal.SIGINT)  # the child says it is still writing its summary
            except subprocess.TimeoutExpired:
                proc.kill()
                log.write(f"\nloadsim: the run did not stop within {stop_s:.0f} s of Ctrl-C: killed\n")
                return proc.wait(), True


def exit_record_path(run_dir: Path) -> Path:
    """Where a child run writes its exit record: beside its folder and its log (``<run>.exit.json``)."""
    return run_dir.parent / f"{run_dir.name}.exit.json"


def child_problem(record: dict[str, Any] | None, output: str, code: int) -> str:
    """Why a child run failed: its exit record's one line (what loadsim itself refused or failed on), else the last
    line it printed (a Locust option, a scenario that raised: their own last words) and its exit code. Decided on
    the record's presence, never on the words of the output."""
    if record is not None:
        return str(record["error"])
    lines = [line.strip() for line in output.strip().splitlines() if line.strip()]
    return (lines[-1] if lines else "it printed nothing") + f" (exit {code})"


def _log_tail(path: Path, size: int = 20000) -> str:
    try:
        with open(path, "rb") as fh:
            fh.seek(max(0, path.stat().st_size - size))
            return fh.read().decode("utf-8", "replace")
    except OSError:
        return ""


def stop_interrupted(index: dict[str, Any], save: Callable[[], None], exc: RunInterrupted, out_dir: Path) -> None:
    """Record ``stopped_by: interrupted`` in the experiment's index, then end with KeyboardInterrupt (exit 130)
    saying where the interrupted run and its log are."""
    index["stopped_by"] = "interrupted"
    index["ended"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    save()
    run = out_dir / exc.entry["path"]
    kept = "its summary says interrupted" if exc.entry["ok"] else "it wrote no summary"
    raise KeyboardInterrupt(f"interrupted: the run in progress was stopped ({kept}): {run}, log {run}.log; "
                            f"{out_dir.name} records stopped_by: interrupted") from None


def stop_while_starting(index: dict[str, Any], save: Callable[[], None], label: str, out_dir: Path) -> None:
    """Ctrl-C (or SIGTERM) while a run was starting (its embedded cluster coming up, before Locust ran): record
    ``stopped_by: interrupted`` as for a run in progress (the index had none), then end with KeyboardInterrupt."""
    index["stopped_by"] = "interrupted"
    index["ended"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    save()
    raise KeyboardInterrupt(f"interrupted while the run {label} was starting (its cluster was stopped; nothing of "
                            f"it ran); {out_dir.name} records stopped_by: interrupted") from None


def _complete(run_dir: Path) -> bool:
    """True if the run wrote its summary (not only the stub written at its start)."""
    try:
        return bool(json.loads((run_dir / "summary.json").read_text()).get("complete"))
    except (OSError, ValueError, AttributeError):
        return False


def stop_if_first_failed(entry: dict[str, Any], out_dir: Path) -> None:
    """The first run failed: the others would fail the same way (same options), so stop now."""
    if not entry["ok"]:
        raise ExperimentError(f"the first run failed ({entry.get('error')}); the others would too, so nothing "
                              f"more was run: see {out_dir / entry['path']}.log, fix it and start again")


def failed_runs(entries: Iterable[dict[str, Any]]) -> list[str]:
    """Labels of the runs that wrote no summary."""
    return [e["label"] for e in entries if not e["ok"]]


SWEEP_FIGURES = {"bytes_per_live_session": "bytes/live session", "server_cpu_us_per_command": "server CPU/command"}


def run_figures(summary: dict[str, Any]) -> dict[str, float | None]:
    """A run's key figures: used_memory (steady mean, summed over masters, less what the cluster held before the
    run) per live session, server CPU/command."""
    out: dict[str, float | None] = {}
    try:
        live = float(summary["live_sessions"]["steady_mean"])
        memory = used_memory_added(summary)  # less what the cluster held before the run
        out["bytes_per_live_session"] = memory / live if live > 0 else None
    except (KeyError, TypeError, ValueError):
        out["bytes_per_live_session"] = None
    try:
        out["server_cpu_us_per_command"] = float(summary["server"]["cpu_us_per_command"])
    except (KeyError, TypeError, ValueError):
        out["server_cpu_us_per_command"] = None
    return out


def point_key(point: dict[str, Any]) -> str:
    """A grid point's label without its repeat."""
    return Point(**{**point, "repeat": 0}).label.rsplit("-rep", 1)[0]


def sweep_widths(out_dir: Path, runs: list[dict[str, Any]]) -> dict[str, dict[str, float | None]]:
    """Per grid point, the relative half-width of the 95 % t-interval of each key figure's mean across repeats."""
    from loadsim.experiments.precision import mean_half_width

    values: dict[str, dict[str, list[float]]] = {}
    for e in runs:
        fig = values.setdefault(point_key(e["point"]), {f: [] for f in SWEEP_FIGURES})
        if not e["ok"]:
            continue
        try:
            summary = json.loads((out_dir / e["path"] / "summary.json").read_text())
        except (OSError, ValueError):
            continue
        for f, v in run_figures(summary).items():
            if v is not None:
                fig[f].append(v)
    return {k: {f: mean_half_width(v) for f, v in figs.items()} for k, figs in values.items()}


def widths_line(rep: int, widths: dict[str, dict[str, float | None]], goal: float | None,
                budget_s: float | None) -> str:
    """``[repeat 3] bytes/live session worst ±4.1 % (p9-m3-...); server CPU/command worst ±9.0 % (...) (goal ±5 %
    from 10 repeats)``"""
    from loadsim.experiments.precision import fmt_width, goal_text

    parts = []
    for f, name in SWEEP_FIGURES.items():
        known = {k: w[f] for k, w in widths.items()}
        worst = max(known, key=lambda k: float("inf") if known[k] is None else known[k]) if known else None
        if worst is None or known[worst] is None:  # no spread yet: no "worst" to name
            parts.append(f"{name} {fmt_width(None)} (2 repeats needed)")
            continue
        where = f" ({worst})" if len(known) > 1 else ""
        parts.append(f"{name} {'worst ' if len(known) > 1 else ''}{fmt_width(known[worst])}{where}")
    return f"[repeat {rep}] {'; '.join(parts)}{goal_text(goal, budget_s)}"


def run_sweep(grid: Grid, out_dir: Path, run_time: str = "60s", scenario: str = "ha9", extra: Iterable[str] = (),
              echo: Callable[[str], None] = print, precision: float | None = None,
              budget_s: float | None = None) -> Path:
    """Run every point of ``grid`` into ``out_dir`` (created; must not hold another sweep).

    With ``precision`` (relative half-width goal) or ``budget_s``, repeats of the whole grid are added after
    ``grid.repeats`` until every point's key figures are precise enough, the budget is spent or the cap is
    reached (loadsim.experiments.precision). Writes ``sweep.json`` after every point, so an interrupted sweep
    keeps what it measured.
    """
    from loadsim.config.persistence import mask_secret_arguments
    from loadsim.experiments import precision as prec

    grid.validate()
    check_run_time(run_time)
    check_run_options(extra)
    scenario_file = paths.scenario_file(scenario)
    if (out_dir / SWEEP_INDEX).exists():
        raise ExperimentError(f"'{out_dir}' already holds a sweep; choose a new --out folder")
    check_runs(scenario_file, run_time, grid.points(), list(extra))
    out_dir.mkdir(parents=True, exist_ok=True)
    points = grid.points()
    index: dict[str, Any] = {"grid": asdict(grid), "run_time": run_time, "scenario": scenario_file.name,
                             "extra_args": mask_secret_arguments(list(extra)),
                             "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                             "complete": False, "runs": []}
    atomic_write(out_dir / SWEEP_INDEX, json.dumps(index, indent=2))
    t0 = time.time()
    total, i, rep, stopped_by = len(points), 0, 0, None
    current = ""  # the point being started or run, for an interrupt
    try:
        while stopped_by is None:
            rep += 1
            if rep > grid.repeats:
                total += len(grid.repeat_points(rep))
            for point in grid.repeat_points(rep):
                i += 1
                done = time.time() - t0
                eta = f", about {fmt_duration(done / (i - 1) * (total - i + 1))} left" if i > 1 else ""
                echo(f"[{i}/{total}] {point.label}: running{eta}")
                current = point.label
                try:
                    entry = run_point(point, out_dir / f"{i:03d}-{point.label}", scenario_file, run_time, list(extra))
                except RunInterrupted as exc:
                    index["runs"].append(exc.entry)
                    stop_interrupted(index, lambda: atomic_write(out_dir / SWEEP_INDEX, json.dumps(index, indent=2)),
                                     exc, out_dir)
                index["runs"].append(entry)
                atomic_write(out_dir / SWEEP_INDEX, json.dumps(index, indent=2))
                status = "ok" if entry["ok"] else f"FAILED: {entry.get('error')}"
                echo(f"[{i}/{total}] {point.label}: {status} in {entry['seconds']:.0f} s")
                if i == 1:
                    stop_if_first_failed(entry, out_dir)
            widths = sweep_widths(out_dir, index["runs"])
            echo(widths_line(rep, widths, precision, budget_s))
            stopped_by = prec.decide(rep, grid.repeats, [w for fig in widths.values() for w in fig.values()],
                                     precision, budget_s, time.time() - t0)
    except KeyboardInterrupt:
        if index.get("stopped_by") == "interrupted":  # a run in progress was stopped and kept: already recorded
            raise
        # between runs or while one was starting (its embedded cluster coming up): recorded all the same
        stop_while_starting(index, lambda: atomic_write(out_dir / SWEEP_INDEX, json.dumps(index, indent=2)),
                            current or "(none yet)", out_dir)
    echo(prec.stop_text(stopped_by, rep, precision, budget_s))
    index.update(precision=precision, budget_s=budget_s, stopped_by=stopped_by, repeats_done=rep, half_widths=widths)
    index["complete"] = True
    index["ended"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    atomic_write(out_dir / SWEEP_INDEX, json.dumps(index, indent=2))
    return out_dir
