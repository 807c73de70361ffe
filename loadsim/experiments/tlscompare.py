"""``loadsim compare-tls``: what TLS between ORS and Redis costs, for your workload.

Runs the same scenario, same seed, on a plain and a TLS embedded cluster of the same shape,
A/B interleaved (plain, TLS, plain, TLS ...), at least 3 repeats each:

1. at a fixed offered load (both arms must achieve it) → latency, server CPU per command, client
   CPU per command, each as TLS/plain ratio with a confidence interval from the paired repeats;
2. at the saturation point of each arm: the highest offered rate (stepping ×``step``) whose p99 stays
   under the SLO and whose achieved rate keeps up (≥ 98 % of offered);
3. connection set-up: time to open TCP (+TLS handshake) connections to a master, plain vs TLS;
4. cross-check: ``redis-benchmark`` SET throughput TLS/plain on the same cluster pair.

Everything lands in one folder with ``compare.json``; ``loadsim report`` renders it with
``notebooks/tls_vs_plain.ipynb``.
"""

from __future__ import annotations

import json
import math
import socket
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from loadsim import defaults as D
from loadsim import options as O
from loadsim import paths
from loadsim.embedded.cluster import ClusterSpec, EmbeddedCluster
from loadsim.errors import ExperimentError
from loadsim.experiments import precision as prec
from loadsim.experiments.sweep import (
    Point,
    RunInterrupted,
    check_complexity,
    check_run_time,
    check_runs,
    fmt_duration,
    run_point,
    stop_if_first_failed,
    stop_interrupted,
    stop_while_starting,
)
from loadsim.model import ratios as rt
from loadsim.model.ratios import ratio_ci, t95  # noqa: F401 (t95: as loadsim.experiments.precision's)
from loadsim.model.workload import operation_percentile
from loadsim.results.compare import METRICS, fixed_summaries, paired_ratios, seconds_per_repeat
from loadsim.results.reader import load
from loadsim.results.summary import MIN_STEADY_S
from loadsim.results.writer import atomic_write

COMPARE_INDEX = "compare.json"


@dataclass
class CompareSpec:
    ha_pairs: int = 3
    masters: int = 3
    repeats: int = 3
    run_time: str = "30s"
    cps_per_pair: float = 20.0  # the fixed offered load per pair
    complexity: str = "standard"
    mutual_tls: bool = False
    slo_p99_us: float = 5000.0
    saturation_steps: int = 4
    step: float = 1.6
    scenario: str = "ha9"
    precision: float | None = None  # relative half-width goal of the key ratios' 95 % intervals (0.05 = ±5 %)
    budget_s: float | None = None  # wall-clock budget of the fixed-load repeats, seconds
    fips: bool = False  # a third fixed-load arm: TLS with the client as ORS in FIPS mode (loadsim.redis.fips)

    def loads_in_range(self) -> bool:
        """Whether the fixed load and the last saturation step are calls/s a run accepts."""
        from loadsim.config.simulation import SIM_BY_DEST, check_range
        from loadsim.errors import OptionsError

        try:
            for cps in (self.cps_per_pair, self.cps_per_pair * self.step ** self.saturation_steps):
                check_range(SIM_BY_DEST["cps_per_pair"], round(cps, 3))
        except OptionsError:
            return False
        return True

    def validate(self) -> None:
        """Bad input is refused before any cluster starts (one line naming the option)."""
        if self.ha_pairs < 1:
            raise ExperimentError(f"--ha-pairs {self.ha_pairs}: give at least 1 HA pair")
        low, high = O.EMBEDDED_MASTERS.range or D.EMBEDDED_MASTERS_RANGE
        if not low <= self.masters <= high:
            raise ExperimentError(f"--masters {self.masters}: an embedded cluster has {low}..{high} masters (Redis "
                                  "Cluster needs at least 3)")
        if not 0 < self.cps_per_pair < float("inf"):
            raise ExperimentError(f"--cps-per-pair {self.cps_per_pair:g}: the offered load must be a finite number > 0")
        if self.repeats < 3:
            raise ExperimentError("--repeats must be at least 3: the confidence interval needs repeats")
        if self.repeats > prec.CAP:
            raise ExperimentError(f"--repeats {self.repeats}: give 3 to {prec.CAP} (more is what --precision adds, "
                                  f"up to {prec.CAP})")
        if self.ha_pairs > (most := O.HA_PAIRS.high or 0):
            raise ExperimentError(f"--ha-pairs {self.ha_pairs}: give at most {most:,.0f} (as loadsim plan)")
        if self.saturation_steps < 0 or self.saturation_steps > 10 or self.step <= 1.0:
            raise ExperimentError("--saturation-steps must be 0..10 and --step > 1")
        if not 0 < self.slo_p99_us <= (most := O.LATENCY_SLO_P99_US.high or 0):
            raise ExperimentError(f"--latency-slo-p99-us {self.slo_p99_us:g}: give a p99 target in microseconds, more "
                                  f"than 0 and at most {most:,.0f} (a minute)")
        check_complexity(self.complexity)
        check_run_time(self.run_time)
        if self.loads_in_range():  # else the runs' own check names the load (run_compare), not the run time
            check_steady_run_time(self)
        if self.precision is not None and not 0 < self.precision < 1:
            raise ExperimentError(f"--precision {self.precision:g}: give a relative half-width > 0 and < 100 %, "
                                  "e.g. 5% or 0.05")
        if self.budget_s is not None and not self.budget_s > 0:
            raise ExperimentError(f"--budget {self.budget_s:g}: give a wall-clock time > 0, e.g. 90s, 10m or 1h")


# The fastest pre-fill seen: 10,800 sessions (3 HA pairs at 20 calls/s, standard preset) written in 1.98 s on a
# 2-core box (5,450 creates/s; 3.7 s with TLS beside it). Twice that is taken as the fastest any machine writes
# them, so a run time refused up front is too short everywhere; one that passes here but leaves no steady state
# on a slower machine is stopped after the first pair (``stop_if_no_steady_state``).
FASTEST_PREFILL_PER_S = 2 * 5_450


def prefill_s(spec: CompareSpec) -> tuple[float, float]:
    """(live sessions of the fixed load by Little's law, the shortest time their pre-fill takes)."""
    from loadsim.model.sizing import Deployment

    live = Deployment(ha_pairs=spec.ha_pairs, cps_per_pair=spec.cps_per_pair, complexity=spec.complexity).live_sessions
    return live, live / FASTEST_PREFILL_PER_S


def min_run_time_s(spec: CompareSpec) -> float:
    """The shortest run time that can leave a steady window: the pre-fill of the fixed load's live sessions at
    the fastest rate seen, then ``MIN_STEADY_S`` of statistics (whole seconds, rounded up)."""
    return float(math.ceil(MIN_STEADY_S + prefill_s(spec)[1]))


def check_steady_run_time(spec: CompareSpec) -> None:
    """A ``--run-time`` too short for a steady state is refused before anything starts (one line, the fix)."""
    seconds = check_run_time(spec.run_time)
    need = min_run_time_s(spec)
    if seconds < need:
        live, fill = prefill_s(spec)
        raise ExperimentError(f"--run-time {spec.run_time}: too short for a steady state: the pre-fill of about "
                              f"{live:,.0f} live sessions takes {fill:.1f} s or more and the statistics need "
                              f"{MIN_STEADY_S:.0f} s after it; give --run-time {need:.0f}s at least (30s or more "
                              "for intervals that resolve in a few repeats)")


def stop_if_no_steady_state(out_dir: Path, entries: list[dict[str, Any]], run_time: str) -> None:
    """The first pair left no steady window (the pre-fill took most of the run on this machine): every other run
    would be the same, and their ratios mean nothing, so stop now and say what run time would do (from the
    slowest pre-fill of the pair)."""
    short = []
    for e in entries:
        if e["ok"]:
            s = load(out_dir / e["path"]).summary
            if s["flags"].get("no_steady_state"):
                short.append((e["path"], s.get("steady_from_s")))  # the folder: TLS and FIPS runs share a label
    if not short:
        return
    drained = [p for _, p in short if p is not None]
    if len(drained) == len(short):
        slowest = max(drained)
        took = f"the pre-fill took up to {slowest:.1f} s of it"
        # half as long again as this pre-fill (it varies with the machine's load), then the window, then the end
        need = math.ceil(1.5 * slowest + MIN_STEADY_S + 1)
    else:
        took = "the pre-fill never drained within it"
        need = math.ceil(2 * check_run_time(run_time) + MIN_STEADY_S)
    names = ", ".join(label for label, _ in short)
    raise ExperimentError(f"--run-time {run_time} left no steady state in {names} ({took}; statistics need "
                          f"{MIN_STEADY_S:.0f} s after it), so nothing more was run: give --run-time {need}s or more")


def connect_times(cluster: EmbeddedCluster, count: int = 50) -> dict[str, float]:
    """Median and p90 ms to open a TCP connection (+ TLS handshake) to the first master."""
    node = cluster.nodes[0]
    ctx = cluster.options.ssl_context()
    times = []
    for _ in range(count):
        t0 = time.perf_counter()
        with socket.create_connection(("127.0.0.1", node.port), timeout=5) as sock:
            if ctx is not None:
                with ctx.wrap_socket(sock, server_hostname="127.0.0.1"):
                    times.append(time.perf_counter() - t0)
                    continue
            times.append(time.perf_counter() - t0)
    times.sort()
    return {"median_ms": round(1000 * statistics.median(times), 3),
            "p90_ms": round(1000 * times[int(0.9 * (len(times) - 1))], 3), "count": count}


def redis_benchmark_ops(cluster: EmbeddedCluster, size: int, clients: int = 50, requests: int = 100_000) -> float:
    """SET ops/s from redis-benchmark against the cluster (TLS flags when the cluster has TLS)."""
    node = cluster.nodes[0]
    args = ["redis-benchmark", "-h", "127.0.0.1", "-p", str(node.port), "--cluster", "-t", "set", "-d", str(size),
            "-c", str(clients), "-n", str(requests), "-P", "1", "--csv"]
    if cluster.spec.tls:
        t = cluster.tls_dir
        args += ["--tls", "--cacert", str(t / "ca.crt"), "--cert", str(t / "client.crt"),
                 "--key", str(t / "client.key")]
    out = subprocess.run(args, capture_output=True, text=True, timeout=300)
    for line in out.stdout.splitlines():
        cells = [c.strip('"') for c in line.split(",")]
        if cells and cells[0].upper().startswith("SET"):
            return float(cells[1])
    raise ExperimentError(f"redis-benchmark gave no SET result: {out.stderr.strip()[:200]}")


def run_compare(spec: CompareSpec, out_dir: Path, echo: Callable[[str], None] = print) -> Path:
    """Run the whole comparison into ``out_dir``; ``compare.json`` is rewritten after every run."""
    spec.validate()
    scenario = paths.scenario_file(spec.scenario)
    if (out_dir / COMPARE_INDEX).exists():
        raise ExperimentError(f"'{out_dir}' already holds a comparison; choose a new --out folder")
    highest = spec.cps_per_pair * spec.step ** spec.saturation_steps  # the last saturation step offers the most
    check_runs(scenario, spec.run_time, [Point(spec.ha_pairs, spec.masters, 0, False, spec.complexity, 1, cps)
                                         for cps in {spec.cps_per_pair, round(highest, 3)}], ["--seed", "1"])
    check_steady_run_time(spec)  # validate() left it to the runs' checks when a load was out of range
    out_dir.mkdir(parents=True, exist_ok=True)
    index: dict[str, Any] = {"spec": asdict(spec), "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                             "complete": False, "fixed": [], "saturation": {"plain": [], "tls": []}}

    def save() -> None:
        atomic_write(out_dir / COMPARE_INDEX, json.dumps(index, indent=2))

    fips_env: dict[str, str] | None = None
    if spec.fips:
        from loadsim.redis.fips import client_environment

        index["fips_mode"], fips_env = client_environment(out_dir)
        index["fips"] = []
        echo(f"FIPS arm: {index['fips_mode']} (each fixed-load repeat adds a TLS run whose client is restricted "
             "to FIPS-approved versions, suites and groups)")
    save()
    extra = ["--seed", "1"]
    per_repeat = 3 if spec.fips else 2
    total = per_repeat * spec.repeats + 2 * spec.saturation_steps
    n = 0
    t0 = time.time()

    def progress(what: str) -> None:
        """'[n/total] what', with the time left estimated from the runs so far (as loadsim sweep does)."""
        left = f", about {fmt_duration((time.time() - t0) / (n - 1) * (total - n + 1))} left" if n > 1 else ""
        echo(f"[{n}/{total}] {what}: running{left}")

    def done(entry: dict[str, Any]) -> None:
        if entry["ok"] and load(out_dir / entry["path"]).summary["flags"].get("no_steady_state"):
            echo(f"[{n}/{total}] ok in {entry['seconds']:.0f} s, but no steady state (no steady rates)")
        elif entry["ok"]:
            rates = load(out_dir / entry["path"]).summary["rates"]
            echo(f"[{n}/{total}] ok in {entry['seconds']:.0f} s: offered {rates['offered_ops_per_s']:,.1f}, "
                 f"achieved {rates['achieved_ops_per_s']:,.1f} ops/s")
        else:
            echo(f"[{n}/{total}] FAILED in {entry['seconds']:.0f} s: {entry.get('error')}")
    # 1. fixed load, interleaved; with --precision/--budget, more pairs until the key ratios are precise enough
    rep, stopped_by = 0, None
    while stopped_by is None:
        rep += 1
        if rep > spec.repeats:
            total += per_repeat
        for arm in ("plain", "tls", "fips")[:per_repeat]:
            n += 1
            tls = arm != "plain"
            p = Point(spec.ha_pairs, spec.masters, 0, tls, spec.complexity, rep, spec.cps_per_pair)
            progress(f"fixed load {'plain' if arm == 'plain' else arm.upper()} repeat {rep}")
            runs = index["fips"] if arm == "fips" else index["fixed"]
            where = f"fixed-fips-{p.label}" if arm == "fips" else f"fixed-{p.label}"
            try:
                entry = run_point(p, out_dir / where, scenario, spec.run_time, extra,
                                  mutual_tls=spec.mutual_tls and tls, **({"env": fips_env} if arm == "fips" else {}))
            except RunInterrupted as exc:
                runs.append(exc.entry)
                stop_interrupted(index, save, exc, out_dir)
            except KeyboardInterrupt:
                stop_while_starting(index, save, "of the fixed-load part", out_dir)
            done(entry)
            runs.append(entry)
            save()
            if n == 1 or (arm == "fips" and rep == 1):
                stop_if_first_failed(entry, out_dir)
        if rep == 1:
            try:
                stop_if_no_steady_state(out_dir, index["fixed"] + index.get("fips", []), spec.run_time)
            except ExperimentError:
                index["stopped_by"] = "no steady state"
                index["ended"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
                save()
                raise
        ratios = fixed_ratios(out_dir, index)
        widths = key_widths(ratios)
        echo(interval_line(rep, ratios, spec, seconds_per_repeat(index)))
        stopped_by = prec.decide(rep, spec.repeats, widths.values(), spec.precision, spec.budget_s,
                                 time.time() - t0)
    echo(prec.stop_text(stopped_by, rep, spec.precision, spec.budget_s))
    index["stopped_by"], index["repeats_done"], index["half_widths"] = stopped_by, rep, widths
    save()
    # 2. saturation, interleaved step by step; an arm stops stepping once it fails
    alive = {"plain": True, "tls": True}
    for step in range(spec.saturation_steps):
        cps = spec.cps_per_pair * spec.step ** (step + 1)
        for tls in (False, True):
            arm = "tls" if tls else "plain"
            n += 1
            if not alive[arm]:
                continue
            p = Point(spec.ha_pairs, spec.masters, 0, tls, spec.complexity, 1, round(cps, 3))
            progress(f"saturation {arm} at {cps:.1f} calls/s per pair")
            try:
                entry = run_point(p, out_dir / f"sat-{p.label}", scenario, spec.run_time,
                                  extra, mutual_tls=spec.mutual_tls and tls)
            except RunInterrupted as exc:
                index["saturation"][arm].append(exc.entry)
                stop_interrupted(index, save, exc, out_dir)
            except KeyboardInterrupt:
                stop_while_starting(index, save, f"of the {arm} saturation step", out_dir)
            done(entry)
            entry["sustained"] = sustained(out_dir / entry["path"], spec.slo_p99_us) if entry["ok"] else False
            alive[arm] = bool(entry["sustained"])
            index["saturation"][arm].append(entry)
            save()
    # 3 + 4. connection set-up and redis-benchmark cross-check on a fresh plain/TLS pair
    echo("measuring connection set-up times and the redis-benchmark cross-check ...")
    size = 4096
    cross: dict[str, Any] = {}
    for tls in (False, True):
        with EmbeddedCluster(ClusterSpec(masters=spec.masters, tls=tls, mutual_tls=spec.mutual_tls and tls)) as c:
            arm = "tls" if tls else "plain"
            cross[arm] = {"connect": connect_times(c), "redis_benchmark_set_ops_per_s": redis_benchmark_ops(c, size)}
    cross["redis_benchmark_ratio"] = round(cross["tls"]["redis_benchmark_set_ops_per_s"]
                                           / cross["plain"]["redis_benchmark_set_ops_per_s"], 4)
    index["cross_check"] = cross
    echo("connection set-up times and redis-benchmark cross-check")
    for line in cross_check_lines(cross):
        echo(line)
    index["analysis"] = analyse(out_dir, index, spec)
    index["complete"] = True
    index["ended"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    save()
    return out_dir


def cross_check_lines(cross: dict[str, Any]) -> list[str]:
    """The connection set-up times and redis-benchmark's SET rate per arm, with the TLS/plain ratios, as a table."""
    rows = [f"  {'':<10}{'connect median':>16}{'connect p90':>14}{'redis-benchmark SET ops/s':>28}"]
    for arm in ("plain", "tls"):
        c = cross[arm]["connect"]
        rows.append(f"  {arm:<10}{c['median_ms']:>13,.3f} ms{c['p90_ms']:>11,.3f} ms"
                    f"{cross[arm]['redis_benchmark_set_ops_per_s']:>28,.0f}")
    plain, tls = cross["plain"], cross["tls"]

    def ratio(a: float, b: float) -> str:
        return f"{b / a:.2f}x" if a else "-"

    rows.append(f"  {'TLS/plain':<10}{ratio(plain['connect']['median_ms'], tls['connect']['median_ms']):>16}"
                f"{ratio(plain['connect']['p90_ms'], tls['connect']['p90_ms']):>14}"
                f"{ratio(plain['redis_benchmark_set_ops_per_s'], tls['redis_benchmark_set_ops_per_s']):>28}")
    return rows


def sustained(run_dir: Path, slo_p99_us: float) -> bool:
    s = load(run_dir).summary
    return (float(operation_percentile(s, "p99") or 0) <= slo_p99_us and not s["flags"]["schedule_fell_behind"]
            and not s["flags"]["errors"] and not s["flags"].get("no_steady_state"))


def load_shortfalls(arms: dict[str, list[dict[str, Any]]]) -> list[str]:
    """One line per fixed-load run that did not achieve what was offered: arm, repeat and shortfall."""
    lines = []
    for arm, summaries in arms.items():
        for repeat, s in enumerate(summaries, 1):
            if not s["flags"]["schedule_fell_behind"]:
                continue
            r, lag = s["rates"], s["schedule_lag_us"]["p99"]
            offered, achieved = r["offered_ops_per_s"], r["achieved_ops_per_s"]
            short = 100 * (1 - achieved / offered) if offered else 0.0
            lines.append(f"{arm} repeat {repeat}: achieved {achieved:,.1f} of {offered:,.1f} ops/s offered "
                         f"({short:.1f} % short), schedule lag p99 {lag / 1000:,.1f} ms")
    return lines


KEY_FIGURES = {"server_cpu_us_per_command": "server CPU/command", "p99_us": "p99"}


def fixed_ratios(out_dir: Path, index: dict[str, Any]) -> dict[str, dict[str, float]]:
    """TLS/plain ratio with its 95 % interval per metric, from the paired fixed-load repeats so far."""
    return paired_ratios(out_dir, index)


def key_widths(ratios: dict[str, dict[str, float]]) -> dict[str, float | None]:
    """Relative half-width of each key figure's interval (None until two pairs succeeded)."""
    return {m: prec.ratio_half_width(ratios[m]["ratio"], ratios[m]["ci_low"], ratios[m]["ci_high"])
            for m in KEY_FIGURES}


def interval_line(rep: int, ratios: dict[str, dict[str, float]], spec: CompareSpec,
                  per_repeat_s: float | None = None) -> str:
    """``[repeat 4] server CPU/command TLS/plain 1.31 [1.22, 1.41] ±7.4 %; p99 unresolved: run longer (about
    25 min for ±5 %) (goal ±5 % from 10 repeats)``: each key figure as ``loadsim.model.ratios.describe`` reads it."""
    parts = []
    for i, (m, name) in enumerate(KEY_FIGURES.items()):
        view = rt.describe(ratios[m], spec.precision, per_repeat_s)
        parts.append(f"{name}{' TLS/plain' if i == 0 else ''} {view.text}")
    return f"[repeat {rep}] {'; '.join(parts)}{prec.goal_text(spec.precision, spec.budget_s)}"


def analyse(out_dir: Path, index: dict[str, Any], spec: CompareSpec) -> dict[str, Any]:
    """Ratios with confidence intervals from the paired fixed-load repeats, and max sustainable rates."""
    arms = fixed_summaries(out_dir, index)
    n = min(len(arms["plain"]), len(arms["tls"]))
    ratios = paired_ratios(out_dir, index)
    shortfalls = load_shortfalls(arms)
    max_rate, lower_bound = {}, {}
    for arm, entries in index["saturation"].items():
        ok = [e for e in entries if e.get("sustained")]
        max_rate[arm] = (load(out_dir / ok[-1]["path"]).summary["rates"]["achieved_ops_per_s"] if ok else None)
        # every step passed: saturation lies beyond the last step, the figure is only a lower bound
        lower_bound[arm] = bool(entries) and all(e.get("sustained") for e in entries)
    out = {"ratios": ratios, "fixed_load_achieved_by_both": not shortfalls, "fixed_load_shortfalls": shortfalls,
           "max_sustained_ops_per_s": max_rate,
           "max_sustained_is_lower_bound": lower_bound, "repeats_used": n}
    if index.get("fips") is not None:
        fips = [load(out_dir / e["path"]).summary for e in index["fips"] if e["ok"]]
        k = min(len(arms["plain"]), len(fips))
        j = min(len(arms["tls"]), len(fips))
        out["fips"] = {"mode": index.get("fips_mode"), "repeats_used": k,
                       "ratios_to_plain": {m: ratio_ci([f(s) for s in arms["plain"][:k]], [f(s) for s in fips[:k]])
                                           for m, f in METRICS.items()},
                       "ratios_to_tls": {m: ratio_ci([f(s) for s in arms["tls"][:j]], [f(s) for s in fips[:j]])
                                         for m, f in METRICS.items()}}
    return out
