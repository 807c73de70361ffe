"""``loadsim capacity``: what one Redis master sustains with the ORS command mix, measured two ways on one cluster.

(a) **Open loop** (loadsim itself): headless runs at more and more HA pairs, each ``step_time`` long, on the same
    embedded cluster. Latency is from the intended start, so it is the latency ORS would see at that offered load.
    Stepping stops at the first step whose p99 is over the SLO, whose busiest master is at the CPU ceiling, or
    whose generator bound first (the run was rig-bound because of the generator: it could not offer more; the
    commands/s where it stopped are reported, and ``--processes`` raises that limit).
(b) **Closed loop** (``redis-benchmark`` from redis-tools, a compiled driver faster than one master): the commands
    of the open loop's mix (as Redis counted them on the master), with the records' size, keys hash-tagged into
    the first master's slots, ``clients`` connections that never wait. It gives the master's ceiling in commands/s
    and the server's CPU µs per command at saturation (``used_cpu_sys + used_cpu_user`` over the commands it ran).

The result (``capacity.json``, ``capacity.png``: latency against offered load, with the SLO and the closed-loop
ceiling) is documented in docs/results.md.
"""

from __future__ import annotations

import csv
import io
import json
import math
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from redis.crc import key_slot

from loadsim import options as O
from loadsim import paths
from loadsim.defaults import value
from loadsim.embedded.cluster import ClusterSpec, EmbeddedCluster
from loadsim.errors import ExperimentError
from loadsim.experiments.sweep import check_run_time, run_child
from loadsim.model.runclass import RIG_BOUND, generator_limited
from loadsim.results.capacity import kept_connections
from loadsim.results.figures import busiest_operation
from loadsim.results.host import HostCounters
from loadsim.results.writer import atomic_write

# The curve's levels: connections that never wait (closed loop), doubling from 1 (the unloaded level). 64 is past
# the knee of one master here: redis-benchmark SET 4 KB, 2 cores, at 32 connections Redis used 0.93 of a core.
CURVE_CONCURRENCY = (1, 2, 4, 8, 16, 32, 64)
CURVE_REQUESTS = 6000  # per level over the mix: 0.1-0.5 s a level at the 15-40 k commands/s one master runs here
MAX_CURVE_CLIENTS = 1000
MIN_LEVEL_REQUESTS = 300  # per command of a level: its first requests (connections, key misses) stay a few %
DRIVER_BOUND_SHARE = 0.9  # a driver on 90 % of its core no longer out-runs the master: its own queue is in the wait
# Redis's main thread waiting for a CPU this share of a level's time: the host delayed it. At 20 k commands/s one
# 4 ms wait of the scheduler delays ~80 commands, over 1 % of a 6,000-command level: its p99 is the host's.
# Measured here (redis-server, redis-benchmark SET on a unix socket, 20,000 requests): 0.13 % at 1 connection
# (20,000 wake-ups cost 0.5 ms in all: waking Redis is not what this catches), 24 % and 37 % at 8 and 32
# connections at load 6 on 2 cores; a capacity run under nice 10 at load 3.8: 30-33 % at every level.
HOST_BOUND_SHARE = 0.01
SATURATED_SHARE = 0.95  # the master's event loop on 95 % of a core: the last level worth measuring
MAX_STEP_PAIRS = 10_000  # HA pairs in one open-loop step: beyond any estate (Genesys sizes ORS in tens of pairs)
MAX_SLO_US = O.LATENCY_SLO_P99_US.high  # a p99 objective above a minute is a typo (the row's range: every command)
CAPACITY_FILE = "capacity.json"
CAPACITY_VERSION = 1
CPU_CEILING_PERCENT = value("master_cpu_knee")  # a master's event loop past this share of a core queues commands
BENCH_MEMORY_BYTES = 64 * 2**20  # the closed loop's keys stay under this, whatever the record size
# ORS commands (as commandstats names them) and how redis-benchmark sends one of them; __rand_int__ is a random
# key number, VALUE the record, TTL the session TTL in ms. Keys carry the master's hash tag {TAG}.
TEMPLATES: dict[str, list[str]] = {
    "set": ["SET", "{TAG}:s:__rand_int__", "VALUE", "PX", "TTL"],
    "set owner": ["SET", "{TAG}:o:__rand_int__", "1", "PX", "TTL"],
    "del": ["DEL", "{TAG}:s:__rand_int__"],
    "get": ["GET", "{TAG}:s:__rand_int__"],
    "pexpire": ["PEXPIRE", "{TAG}:s:__rand_int__", "TTL"],
    "hset": ["HSET", "{TAG}:index", "__rand_int__", "VALUE"],
    "hdel": ["HDEL", "{TAG}:index", "__rand_int__"],
    "hget": ["HGET", "{TAG}:index", "__rand_int__"],
}


@dataclass
class CapacityPlan:
    """What ``loadsim capacity`` measures; ``validate()`` refuses bad input before anything starts."""

    steps: list[int] = field(default_factory=lambda: [1, 2, 4, 8, 16, 32])  # HA pairs per open-loop step
    step_time: str = "15s"
    masters: int = 3
    tls: bool = False
    complexity: str = "standard"
    cps_per_pair: float | None = None
    processes: int = 1
    slo_p99_us: float = 5000.0
    cpu_ceiling_percent: float = CPU_CEILING_PERCENT
    clients: int = 50  # closed-loop connections
    requests: int = 50_000  # closed-loop requests per command of the mix
    redis_benchmark: str | None = None  # path; None: from PATH
    scenario: str = "ha9"
    # the latency-vs-load curve: closed-loop connections per level (doubling: the wait roughly doubles with them
    # until the master saturates) and requests per level over the whole mix
    concurrency: list[int] = field(default_factory=lambda: list(CURVE_CONCURRENCY))
    curve_requests: int = CURVE_REQUESTS
    memtier: str | None = None  # memtier_benchmark's path: it drives the curve (the mix in one run) when given

    def validate(self) -> None:
        """Every check that needs no process: ranges, NaN and infinity, the steps, the redis-benchmark binary
        (tried with --version). ``check_runs`` (a Locust process that stops after its option checks) then asks
        the scenario about the runs themselves, before the cluster starts."""
        shown = ",".join(map(str, self.steps))
        pairs = zip(self.steps, self.steps[1:], strict=False)
        if not self.steps or any(s < 1 for s in self.steps) or any(b <= a for a, b in pairs):
            raise ExperimentError(f"--steps {shown}: give strictly increasing HA pair counts (no repeats), "
                                  "e.g. 1,2,4,8")
        if self.steps[-1] > MAX_STEP_PAIRS:
            raise ExperimentError(f"--steps {shown}: at most {MAX_STEP_PAIRS:,} HA pairs per step; give fewer, "
                                  "e.g. 1,2,4,8,16,32")
        low, high = O.CPS_PER_PAIR.range or (0, math.inf)
        if self.cps_per_pair is not None and not (math.isfinite(self.cps_per_pair)
                                                  and low <= self.cps_per_pair <= high):
            raise ExperimentError(f"--cps-per-pair {self.cps_per_pair:g}: give calls per second per HA pair from "
                                  f"{low:g} to {high:g}")
        try:
            check_run_time(self.step_time)
        except ExperimentError:
            raise ExperimentError(f"--step-time {self.step_time}: give a duration in Locust's syntax, e.g. 15s or "
                                  "1m") from None
        if not (math.isfinite(self.slo_p99_us) and 0 < self.slo_p99_us <= MAX_SLO_US):
            raise ExperimentError(f"--latency-slo-p99-us {self.slo_p99_us:g}: give the p99 objective in µs, from "
                                  f"1 to {MAX_SLO_US:,.0f}, e.g. 5000")
        if not 1 <= self.clients <= 1000 or not 1000 <= self.requests <= 10_000_000:
            raise ExperimentError("--clients must be 1..1000 and --requests 1000..10000000")
        if self.processes < 1:
            raise ExperimentError(f"--processes {self.processes}: give 1 or more generator processes")
        if not (math.isfinite(self.cpu_ceiling_percent) and 0 < self.cpu_ceiling_percent <= 100):
            raise ExperimentError(f"--stop-at-cpu {self.cpu_ceiling_percent:g}: give a percentage of one core, 1..100")
        levels = ",".join(map(str, self.concurrency))
        if (not self.concurrency or self.concurrency[0] != 1 or any(b <= a for a, b in zip(
                self.concurrency, self.concurrency[1:], strict=False)) or self.concurrency[-1] > MAX_CURVE_CLIENTS):
            raise ExperimentError(f"--concurrency {levels}: give increasing connection counts starting at 1 (the "
                                  f"unloaded level the waits are measured from), at most {MAX_CURVE_CLIENTS}, "
                                  "e.g. 1,2,4,8,16,32,64")
        if not 100 <= self.curve_requests <= 10_000_000:
            raise ExperimentError(f"--curve-requests {self.curve_requests}: give 100..10000000 requests per level")
        self.bench_path()
        if self.memtier is not None:
            self.memtier_path()

    def bench_path(self) -> str:
        """The redis-benchmark to run, tried with ``--version`` (a wrong binary, /bin/false, was found out only
        after the open loop, as "redis-benchmark failed (exit 1):" and nothing after the colon)."""
        found = shutil.which(self.redis_benchmark or "redis-benchmark")
        where = f"at {self.redis_benchmark}" if self.redis_benchmark else "on PATH"
        if not found:
            raise ExperimentError(f"redis-benchmark not found {where}: install redis-tools (apt-get install "
                                  "redis-tools) or give --redis-benchmark PATH")
        proc, said = version_of(found)
        if proc is None or proc.returncode != 0 or not said.startswith("redis-benchmark"):
            answer = f"exit {proc.returncode}" if proc is not None and proc.returncode else "no version"
            raise ExperimentError(f"--redis-benchmark {found}: not a working redis-benchmark ('--version' gave "
                                  f"{answer}{': ' + said.splitlines()[0][:80] if said else ''}); give the path of "
                                  "redis-benchmark from redis-tools")
        return found


    def memtier_path(self) -> str:
        """The memtier_benchmark given with ``--memtier``, tried with ``--version``."""
        found = shutil.which(self.memtier or "memtier_benchmark")
        if not found:
            raise ExperimentError(f"--memtier {self.memtier}: no memtier_benchmark there; build it as its README says "
                                  "(https://github.com/redis/memtier_benchmark) or leave --memtier out "
                                  "(redis-benchmark then drives the curve)")
        proc, said = version_of(found)
        if proc is None or proc.returncode != 0 or "memtier" not in said.lower():
            raise ExperimentError(f"--memtier {found}: not a working memtier_benchmark ('--version' gave "
                                  f"{said.splitlines()[0][:80] if said else 'nothing'}); give the path of "
                                  "memtier_benchmark")
        return found


def version_of(binary: str) -> tuple[subprocess.CompletedProcess[str] | None, str]:
    """``binary --version``: the finished process (None when it could not run) and what it said, stripped (the
    error's text when it could not run). How capacity tries a driver before anything starts."""
    try:
        proc = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10,
                              stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError) as exc:
        return None, str(exc)
    return proc, (proc.stdout + proc.stderr).strip()


def hash_tag_for(slot_ranges: list[tuple[int, int]]) -> str:
    """A short hash tag whose slot one of these ranges holds (keys ``{tag}...`` all go to that master)."""
    for i in range(100_000):
        tag = f"m{i}"
        slot = key_slot(tag.encode())
        if any(a <= slot <= b for a, b in slot_ranges):
            return tag
    raise ExperimentError("no hash tag found for the master's slots")


def step_figures(summary: dict[str, Any]) -> dict[str, Any]:
    """One open-loop step from its summary.json: offered load and latency, the busiest master's commands/s and
    CPU, the run's class."""
    ops = summary.get("operations", {})
    op = busiest_operation(ops)
    lat = ops[op]["latency_us"] if op else {}
    # the steady window's figures; a step without one (the backlog never drained) reports its whole run
    steady = bool(summary.get("steady_s")) and not summary.get("flags", {}).get("no_steady_state")
    duration = float(summary.get("duration_s") or 0.0)
    masters = summary.get("masters", [])
    if steady:
        per_s = {m["node"]: (m["commands_steady"] / m["steady_s"], 100.0 * m["cpu_s_steady"] / m["steady_s"])
                 for m in masters if m.get("steady_s")}
    else:
        per_s = {m["node"]: (m["commands"] / duration, 100.0 * m["cpu_s"] / duration) for m in masters if duration}
    per_master, cpu = max(per_s.values(), default=(0.0, 0.0))
    rc = summary.get("run_class", {})
    return {"ha_pairs": summary["workload"]["ha_pairs"], "operation": op, "steady": steady,
            "offered_ops_per_s": summary["rates"]["offered_ops_per_s"],
            "achieved_ops_per_s": summary["rates"]["achieved_ops_per_s"],
            "commands_per_s": summary["rates"].get("steady_commands_per_s", 0.0),
            "commands_per_s_busiest_master": round(per_master, 1), "busiest_master_cpu_percent": round(cpu, 1),
            "p50_us": lat.get("p50"), "p99_us": lat.get("p99"),
            # like the other figures: the steady window's (idle CPU included), the whole run's without one
            "server_us_per_command": (summary["server"].get("cpu_us_per_command_steady") if steady else None)
            or summary["server"]["cpu_us_per_command"],
            "run_class": rc.get("class"), "evidence": rc.get("evidence"),
            "generator_bound": rc.get("class") == RIG_BOUND and generator_limited(list(rc.get("codes", [])))}


def stop_reason(step: dict[str, Any], slo_p99_us: float, cpu_ceiling: float) -> str | None:
    """Why stepping stops after this step (None: go on): ``cpu-ceiling`` (the master's limit: the knee),
    ``generator`` (it could not offer more) or ``slo`` (p99 over the SLO in a step that was not rig-bound). A
    rig-bound step over the SLO for the host's reasons (other work on the machine) does not stop the stepping: its
    p99 is not Redis's, and the next steps still show where the master or the generator binds."""
    if step["busiest_master_cpu_percent"] >= cpu_ceiling:
        return "cpu-ceiling"
    if step["generator_bound"]:
        return "generator"
    over = step["p99_us"] is not None and step["p99_us"] > slo_p99_us
    return "slo" if over and step["run_class"] != RIG_BOUND else None


def model_mix(workload: dict[str, Any]) -> dict[str, float]:
    """Share of each command in one session's life as ORS sends it (the workload model's commands for a create,
    the updates and a delete in this key layout): the steady-state mix, whatever the run's length. A SET of the
    owner record (a few bytes) is told apart from a SET of a session record."""
    from loadsim.model import workload as wl

    layout = wl.KeyLayout(str(workload.get("key_layout", "per-session")), "capacity")
    records = int(workload.get("records_per_session", 1) or 1)
    updates = max(0.0, float(workload.get("writes_per_session", 2.0)) - 2.0)
    counts: dict[str, float] = {}
    for kind, times in ((wl.CREATE, 1.0), (wl.UPDATE, updates), (wl.DELETE, 1.0)):
        for cmd in wl.commands_for(layout, kind, "1-1", 1, b"x", None, 1000, records, -1 if kind != wl.UPDATE else 0):
            name = str(cmd[0]).lower()
            if name == "set" and ":owner:" in str(cmd[1]):
                name = "set owner"
            counts[name] = counts.get(name, 0.0) + times
    total = sum(counts.values())
    return {name: round(n / total, 4) for name, n in sorted(counts.items()) if name in TEMPLATES and n} if total else {}


def parse_bench_csv(text: str) -> dict[str, float]:
    """rps and latency (ms) of redis-benchmark --csv output (one test)."""
    rows = list(csv.DictReader(io.StringIO(text)))
    if not rows:
        raise ExperimentError(f"redis-benchmark printed no result: {text.strip()[:200]}")
    row = rows[-1]
    return {k: float(v) for k, v in row.items() if k != "test"}


def combine(per_command: dict[str, dict[str, float]], mix: dict[str, float]) -> dict[str, float]:
    """The mix's closed-loop rate (each command costs the master 1/rps of a second: the mix's cost per command is
    the share-weighted sum) and its server CPU µs per command."""
    seconds = sum(share / per_command[c]["rps"] for c, share in mix.items() if per_command[c]["rps"] > 0)
    cpu = sum(share * per_command[c]["server_us_per_command"] for c, share in mix.items())
    received = sum(share * per_command[c].get("bytes_per_command", 0.0) for c, share in mix.items())
    return {"commands_per_s": round(1 / seconds, 1) if seconds else 0.0, "server_us_per_command": round(cpu, 2),
            "cpu_capacity_commands_per_s": round(1e6 / cpu, 1) if cpu else 0.0,
            "bytes_per_command": round(received, 1)}


def capacity_summary(steps: list[dict[str, Any]], stopped_by: str, closed: dict[str, Any] | None,
                     slo_p99_us: float) -> dict[str, Any]:
    """The answer: the highest commands/s one master sustained at the SLO in the open loop, and the ceiling."""
    ok = [s for s in steps if s["p99_us"] is not None and s["p99_us"] <= slo_p99_us and s["run_class"] != RIG_BOUND]
    best = max(ok, key=lambda s: s["commands_per_s_busiest_master"], default=None)
    last = steps[-1] if steps else None
    out: dict[str, Any] = {
        "commands_per_s_per_master_at_slo": best["commands_per_s_busiest_master"] if best else None,
        "at_slo_is_lower_bound": stopped_by in ("generator", "steps"),
        "rig_bound_steps": sum(1 for s in steps if s["run_class"] == RIG_BOUND),
        "stopped_by": stopped_by,
        "stopped_at_commands_per_s_per_master": last["commands_per_s_busiest_master"] if last else None,
        "closed_loop_commands_per_s": closed["commands_per_s"] if closed else None,
        "server_us_per_command_at_saturation": closed["server_us_per_command"] if closed else None,
        "cpu_capacity_commands_per_s": closed["cpu_capacity_commands_per_s"] if closed else None,
    }
    return out


def verdict_lines(result: dict[str, Any]) -> list[str]:
    """What ``loadsim capacity`` prints at the end."""
    c, arm = result["capacity"], "TLS" if result["tls"] else "plain"
    why = {"slo": f"p99 went over the SLO ({result['slo_p99_us']:,.0f} us)",
           "cpu-ceiling": f"the busiest master reached {result['cpu_ceiling_percent']:.0f} % of a core (--stop-at-cpu)",
           "generator": "the generator bound first (it could not offer more: add --processes, or a quieter machine)",
           "steps": "the last step was reached"}[c["stopped_by"]]
    lines = [f"capacity of one master ({arm}, {result['masters']} masters, {result['complexity']} sessions):"]
    at_slo = c["commands_per_s_per_master_at_slo"]
    lines.append("  open loop: " + (f"{at_slo:,.0f} commands/s per master with p99 within the SLO"
                                     + (" (a lower bound)" if c["at_slo_is_lower_bound"] else "")
                                     if at_slo is not None else "no step that was not rig-bound within the SLO")
                 + f"; stopped at {c['stopped_at_commands_per_s_per_master'] or 0:,.0f} commands/s: {why}")
    if c["rig_bound_steps"]:
        lines.append(f"  {c['rig_bound_steps']} of {len(result['open_loop']['steps'])} open-loop steps were rig-bound "
                     "(their latency is the machine's, not Redis's; see each step's evidence in capacity.json): "
                     "use a quieter machine for the curve")
    if c["closed_loop_commands_per_s"] is not None:
        closed = result["closed_loop"]
        lines.append(f"  closed loop (redis-benchmark, {closed['clients']} connections, mix "
                     + ", ".join(f"{k} {100 * v:.0f} %" for k, v in closed["mix"].items())
                     + f"): server {c['server_us_per_command_at_saturation']:.1f} us CPU per command at saturation "
                     f"(redis-benchmark drove {c['closed_loop_commands_per_s']:,.0f} commands/s on this machine, "
                     "the driver sharing its cores: a measurement, not a ceiling plan uses)")
    curve = result.get("queue_curve")
    if curve:
        lines.append("  " + curve_line(curve))
    return lines


def curve_line(curve: dict[str, Any]) -> str:
    """The latency-vs-load curve in one line: its points and what was left off."""
    points = ", ".join(f"{100 * u:.0f} % {w:,.0f} us" for u, w in curve["points"])
    left = "".join(f"; {n} level{'s' if n != 1 else ''} left off ({why})" for n, why in (
        (curve.get("driver_bound_levels"), "the driver bound first"),
        (curve.get("host_bound_levels"), "the machine delayed Redis: its main thread waited for a CPU"))
        if n)
    if not curve["points"]:
        return (f"latency-vs-load curve ({curve['driver']}): no level measured Redis's own queueing{left}; plan uses "
                "the M/M/1 assumption: measure on a quieter machine")
    top = curve.get("measured_up_to_utilisation")
    return (f"latency-vs-load curve ({curve['driver']}, {len(curve['levels'])} levels of "
            f"{curve['levels'][0]['clients']}..{curve['levels'][-1]['clients']} connections; unloaded p99 "
            f"{curve['unloaded_p99_us']:,.0f} us): p99 wait at Redis's CPU utilisation {points or 'none'}"
            + (f"; kept levels up to {kept_connections(curve)} connections and {100 * top:.0f} % of a core: plan reads "
               "it for questions within both (a closed loop of N connections queues at most N - 1 commands), M/M/1 "
               "(an assumption) beyond"
               if top is not None else "") + left)


def plan_lines(v: Any) -> list[str]:
    """What ``loadsim plan --from`` this folder uses, from the same verdict (``loadsim.results.runs.verdict_for``):
    the one ceiling of a master its CPU constraint uses (the CPU per command, never redis-benchmark's rate, which on
    a shared machine is the driver's limit as much as the master's) and which queueing its latency uses."""
    from loadsim.model import sizing as sz

    p = v.prediction
    lines = [f"  ceiling plan uses: {sz.ceiling_text(p)}",
             f"  {p.cpu_line}"]
    if p.latency is not None:
        lines.append(f"  queueing plan uses: {p.latency.queue_basis}")
    return lines


def run_capacity(plan: CapacityPlan, out_dir: Path, echo: Callable[[str], None] = print,
                 extra: list[str] | None = None) -> dict[str, Any]:
    """Measure; write ``capacity.json`` (and ``capacity.png``) in ``out_dir``; return the result."""
    plan.validate()
    bench = plan.bench_path()
    scenario = paths.scenario_file(plan.scenario)
    out_dir.mkdir(parents=True, exist_ok=True)
    spec = ClusterSpec(masters=plan.masters, tls=plan.tls)
    steps: list[dict[str, Any]] = []
    stopped_by = "steps"
    closed: dict[str, Any] | None = None
    with EmbeddedCluster(spec) as cluster:
        opts = cluster.options
        base = [sys.executable, "-m", "locust", "-f", str(scenario), "--headless", "-t", plan.step_time,
                "--only-summary", "--redis-nodes", ",".join(str(n) for n in opts.redis_nodes),
                "--complexity", plan.complexity]
        if plan.cps_per_pair is not None:
            base += ["--cps-per-pair", str(plan.cps_per_pair)]
        if plan.processes > 1:
            base += ["--processes", str(plan.processes)]
        if plan.tls:
            base += ["--tls-enabled", "true", "--tls-cacert", str(opts.tls_cacert)]
        last_summary: dict[str, Any] | None = None
        for pairs in plan.steps:
            run_dir = out_dir / f"open-p{pairs}"
            code, _ = run_child([*base, "-u", str(pairs), "--results-dir", str(run_dir), *(extra or [])],
                                out_dir / f"open-p{pairs}.log")
            summary_path = run_dir / "summary.json"
            summary = json.loads(summary_path.read_text()) if summary_path.exists() else {}
            if code != 0 or not summary.get("complete"):
                raise ExperimentError(f"the open-loop step at {pairs} HA pairs failed (exit {code}): see "
                                      f"{out_dir / f'open-p{pairs}.log'}")
            step = step_figures(summary)
            steps.append(step)
            last_summary = summary
            latency = (f"p50 {step['p50_us']:,} us, p99 {step['p99_us']:,} us" if step["p99_us"] else
                       "no latency: no steady window (the backlog never drained)")
            echo(f"open loop {pairs:>3} HA pairs: {step['commands_per_s_busiest_master']:>9,.0f} commands/s on the "
                 f"busiest master ({step['busiest_master_cpu_percent']:.0f} % CPU), {latency}, {step['run_class']}")
            reason = stop_reason(step, plan.slo_p99_us, plan.cpu_ceiling_percent)
            if reason:
                stopped_by = reason
                break
        closed = closed_loop(cluster, bench, plan, last_summary or {}, out_dir, echo)
        curve = latency_curve(cluster, bench, plan, last_summary or {}, out_dir, echo)
    result = {"kind": "loadsim-capacity", "version": CAPACITY_VERSION, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
              "plan": asdict(plan), "tls": plan.tls, "masters": plan.masters, "complexity": plan.complexity,
              "slo_p99_us": plan.slo_p99_us, "cpu_ceiling_percent": plan.cpu_ceiling_percent,
              "open_loop": {"steps": steps, "stopped_by": stopped_by}, "closed_loop": closed, "queue_curve": curve,
              "capacity": capacity_summary(steps, stopped_by, closed, plan.slo_p99_us)}
    atomic_write(out_dir / CAPACITY_FILE, json.dumps(result, indent=2) + "\n")
    try:
        draw(result, out_dir / "capacity.png")
    except Exception as exc:  # noqa: BLE001 - the figure is a view of capacity.json, which is written
        echo(f"capacity.png not drawn: {exc}")
    return result


@dataclass(frozen=True)
class MixTarget:
    """One master and the mix the closed loops send it: keys hash-tagged into its slots, the records' size."""

    port: int
    node: str
    tag: str
    mix: dict[str, float]
    size: int
    ttl_ms: str
    keyspace: int
    tls: tuple[str, ...]

    def args(self, name: str) -> list[str]:
        """redis-benchmark's arguments for one command of the mix (``__rand_int__``: a random key number)."""
        value = "x" * self.size
        return [a.replace("TAG", self.tag) if "TAG" in a else value if a == "VALUE" else self.ttl_ms if a == "TTL"
                else a for a in TEMPLATES[name]]

    def order(self) -> list[str]:
        return sorted(self.mix, key=lambda c: not c.startswith("set"))  # SETs first: the others find keys


def mix_target(cluster: EmbeddedCluster, plan: CapacityPlan, summary: dict[str, Any]) -> MixTarget:
    """The first master and the open loop's command mix and record size (from its last step's summary)."""
    master = cluster.masters_in_slot_order()[0]
    topo = {t.port: t for t in cluster.topology()}
    tag = hash_tag_for(list(topo[master.port].slots))
    mix = model_mix(summary.get("workload", {}))
    if not mix:
        raise ExperimentError("the open loop's summary holds no workload to take the command mix from")
    size = int(summary.get("workload", {}).get("record_bytes_mean") or 4096)
    ttl = str(int(summary.get("workload", {}).get("session_ttl_s") or 3600) * 1000)
    tls: tuple[str, ...] = ()
    if plan.tls:
        t = cluster.tls_dir
        tls = ("--tls", "--cacert", str(t / "ca.crt"), "--cert", str(t / "client.crt"), "--key", str(t / "client.key"))
    if cluster.options.password:
        raise ExperimentError("the closed loop needs a cluster without a password (redis-benchmark -a would show "
                              "it in the process list)")
    return MixTarget(master.port, f"127.0.0.1:{master.port}", tag, mix, size, ttl,
                     max(1000, min(100_000, BENCH_MEMORY_BYTES // max(1, size))), tls)


def closed_loop(cluster: EmbeddedCluster, bench: str, plan: CapacityPlan, summary: dict[str, Any], out_dir: Path,
                echo: Callable[[str], None]) -> dict[str, Any]:
    """redis-benchmark against the first master, one command of the mix at a time, keys in its slots."""
    target = mix_target(cluster, plan, summary)
    per_command: dict[str, dict[str, float]] = {}
    master = next(m for m in cluster.masters_in_slot_order() if m.port == target.port)
    with cluster.admin_client(master) as admin:
        for name in target.order():
            command = TEMPLATES[name][0].lower()
            before = _server_counters(admin, command)
            proc = subprocess.run([bench, "-h", "127.0.0.1", "-p", str(target.port), *target.tls, "-c",
                                   str(plan.clients), "-n", str(plan.requests), "-r", str(target.keyspace), "--csv",
                                   *target.args(name)], capture_output=True, text=True, timeout=600)
            after = _server_counters(admin, command)
            if proc.returncode != 0:
                raise ExperimentError(f"redis-benchmark failed (exit {proc.returncode}): "
                                      f"{(proc.stderr or proc.stdout).strip()[:200]}")
            figures = parse_bench_csv(proc.stdout)
            calls = after["calls"] - before["calls"]
            cpu_us = (after["cpu_s"] - before["cpu_s"]) * 1e6
            figures["server_us_per_command"] = round(cpu_us / calls, 2) if calls else 0.0
            figures["usec_per_call"] = round((after["usec"] - before["usec"]) / calls, 2) if calls else 0.0
            figures["calls"] = calls
            # what the master received per command: the per-byte CPU term (loadsim.model.unitcosts)
            figures["bytes_per_command"] = round((after["bytes_in"] - before["bytes_in"]) / calls, 1) if calls else 0.0
            per_command[name] = figures
            echo(f"closed loop {name.upper():<8} {figures['rps']:>10,.0f} commands/s, server "
                 f"{figures['server_us_per_command']:.1f} us CPU/command ({figures['usec_per_call']:.1f} us in the "
                 f"command), p99 {figures.get('p99_latency_ms', 0) * 1000:,.0f} us")
    combined = combine(per_command, target.mix)
    return {"driver": "redis-benchmark", "master": target.node, "hash_tag": target.tag, "clients": plan.clients,
            "requests_per_command": plan.requests, "record_bytes": target.size, "keyspace": target.keyspace,
            "mix": target.mix, "per_command": per_command, **combined}


# ------------------------------------------------------------------------------------------ latency-vs-load curve
CURVE_METHOD = (
    "closed loop at increasing concurrency against one master with the workload's command mix; x: Redis's own CPU "
    "utilisation of that master (used_cpu_sys + used_cpu_user delta over the driver's measured span); y: the p99 "
    "latency the driver saw less its p99 at 1 connection (the unloaded level: the round trip, the driver's and "
    "Redis's own time per command), i.e. what the other connections' commands ahead of it in the master's event "
    "loop added. Redis 7.0 has no counter of that wait (INFO commandstats usec_per_call and latencystats time the "
    "command's execution only, recorded per level beside it), so the driver's clock is read; a level whose driver "
    "used 90 % of its core or more no longer out-runs the master (its own queue is in the figure) and is left off "
    "the curve. Mean wait cross-checked from Redis's own call counts by Little's law: connections / throughput less "
    "the same at 1 connection.")


def _level_redis_benchmark(bench: str, target: MixTarget, clients: int, requests: int) -> dict[str, float]:
    """One level with redis-benchmark: each command of the mix in turn (it sends one command per run), its share
    of ``requests``; latency percentiles weighted by requests (redis-benchmark prints percentiles, not histograms:
    an approximation of the mix's percentiles, exact for a mix of one command)."""
    total = {"span_s": 0.0, "requests": 0.0, "p50_us": 0.0, "p99_us": 0.0, "avg_us": 0.0, "driver_cpu_s": 0.0,
             "driver_wall_s": 0.0}
    for name in target.order():
        n = max(MIN_LEVEL_REQUESTS, round(requests * target.mix[name]))
        before, t0 = resource.getrusage(resource.RUSAGE_CHILDREN), time.monotonic()
        proc = subprocess.run([bench, "-h", "127.0.0.1", "-p", str(target.port), *target.tls, "-c", str(clients),
                               "-n", str(n), "-r", str(target.keyspace), "--csv", *target.args(name)],
                              capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
        wall, after = time.monotonic() - t0, resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode != 0:
            raise ExperimentError(f"redis-benchmark failed (exit {proc.returncode}): "
                                  f"{(proc.stderr or proc.stdout).strip()[:200]}")
        f = parse_bench_csv(proc.stdout)
        total["span_s"] += n / f["rps"] if f["rps"] > 0 else wall
        total["requests"] += n
        for key, col in (("p50_us", "p50_latency_ms"), ("p99_us", "p99_latency_ms"), ("avg_us", "avg_latency_ms")):
            total[key] += n * 1000.0 * f[col]
        total["driver_cpu_s"] += (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        total["driver_wall_s"] += wall
    for key in ("p50_us", "p99_us", "avg_us"):
        total[key] /= total["requests"]
    return total


def memtier_command_args(target: MixTarget) -> list[str]:
    """memtier_benchmark's arguments for the whole mix in one run: one ``--command`` per command of the mix, its
    ``--command-ratio`` the mix's share in whole numbers (``__key__`` memtier's key, after the master's hash tag)."""
    smallest = min(target.mix.values())
    out = ["-d", str(target.size)]
    for name in target.order():
        words = [w.replace("__rand_int__", "__key__").replace("TAG", target.tag) if "__rand_int__" in w or "TAG" in w
                 else "__data__" if w == "VALUE" else target.ttl_ms if w == "TTL" else w for w in TEMPLATES[name]]
        out += [f"--command={' '.join(words)}", f"--command-ratio={max(1, round(target.mix[name] / smallest))}",
                "--command-key-pattern=R"]
    return out


def _level_memtier(memtier: str, target: MixTarget, clients: int, requests: int, work: Path) -> dict[str, float]:
    """One level with memtier_benchmark: the mix in one run (one thread, ``clients`` connections), its JSON's
    totals (percentiles from its own histogram of the mix)."""
    out = work / f"memtier-c{clients}.json"
    per_client = max(1, math.ceil(requests / clients))
    tls = ["--tls", "--cacert", target.tls[2], "--cert", target.tls[4], "--key", target.tls[6]] if target.tls else []
    before, t0 = resource.getrusage(resource.RUSAGE_CHILDREN), time.monotonic()
    proc = subprocess.run([memtier, "-s", "127.0.0.1", "-p", str(target.port), *tls, "--protocol=redis", "-t", "1",
                           "-c", str(clients), f"--requests={per_client}", f"--key-maximum={target.keyspace}",
                           "--hide-histogram", f"--json-out-file={out}", *memtier_command_args(target)],
                          capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    wall, after = time.monotonic() - t0, resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0 or not out.exists():
        raise ExperimentError(f"memtier_benchmark failed (exit {proc.returncode}): "
                              f"{(proc.stderr or proc.stdout).strip()[-200:]}")
    stats = json.loads(out.read_text())["ALL STATS"]
    totals, pct = stats["Totals"], stats["Totals"]["Percentile Latencies"]
    count = float(totals["Count"])
    return {"span_s": count / totals["Ops/sec"] if totals["Ops/sec"] else wall, "requests": count,
            "p50_us": 1000.0 * pct["p50.00"], "p99_us": 1000.0 * pct["p99.00"],
            "avg_us": 1000.0 * totals["Average Latency"],
            "driver_cpu_s": (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
            "driver_wall_s": wall}


def latency_curve(cluster: EmbeddedCluster, bench: str, plan: CapacityPlan, summary: dict[str, Any], out_dir: Path,
                  echo: Callable[[str], None]) -> dict[str, Any]:
    """A master's latency-vs-load curve (``CURVE_METHOD``): one level per connection count of
    ``plan.concurrency``, stopped early when the master saturates or the driver binds. Returns the levels, the
    curve (``points``: utilisation, p99 wait µs; monotone, for ``loadsim.model.latency.curve_wait_us``) and its
    provenance."""
    from loadsim.model.latency import monotone_curve

    target = mix_target(cluster, plan, summary)
    driver = "memtier_benchmark" if plan.memtier else "redis-benchmark"
    memtier = plan.memtier_path() if plan.memtier else None
    master = next(m for m in cluster.masters_in_slot_order() if m.port == target.port)
    host = HostCounters()
    levels: list[dict[str, Any]] = []
    with cluster.admin_client(master) as admin:
        for clients in plan.concurrency:
            before = _server_counters(admin, None)
            host.sample()
            waited0, t0 = _runqueue_wait_s(master.pid), time.monotonic()
            if memtier:
                got = _level_memtier(memtier, target, clients, plan.curve_requests, out_dir)
            else:
                got = _level_redis_benchmark(bench, target, clients, plan.curve_requests)
            waited1, wall = _runqueue_wait_s(master.pid), time.monotonic() - t0
            after = _server_counters(admin, None)
            pressure = host.sample().get("host_cpu_pressure_percent")
            span = got["span_s"]
            calls = after["calls"] - before["calls"]
            level = {"clients": clients, "requests": int(got["requests"]),
                     "commands_per_s": round(calls / span, 1) if span else 0.0,
                     "utilisation": round((after["cpu_s"] - before["cpu_s"]) / span, 4) if span else 0.0,
                     "p50_us": round(got["p50_us"], 1), "p99_us": round(got["p99_us"], 1),
                     "avg_us": round(got["avg_us"], 1),
                     "usec_per_call": round((after["usec"] - before["usec"]) / calls, 2) if calls else 0.0,
                     "driver_cpu_share": round(got["driver_cpu_s"] / got["driver_wall_s"], 3)
                     if got["driver_wall_s"] else 0.0,
                     "host_cpu_pressure_percent": None if pressure is None else round(pressure, 1),
                     # the time Redis's main thread was ready to run but waited for a CPU: the host's delay, in
                     # every latency of the level (schedstat; None where the kernel does not keep it)
                     "redis_runqueue_share": round((waited1 - waited0) / wall, 4)
                     if waited0 is not None and waited1 is not None and wall > 0 else None}
            level["driver_bound"] = level["driver_cpu_share"] >= DRIVER_BOUND_SHARE
            level["host_bound"] = (level["redis_runqueue_share"] or 0.0) >= HOST_BOUND_SHARE
            level["used"] = not (level["driver_bound"] or level["host_bound"])
            levels.append(level)
            base = levels[0]
            level["wait_p50_us"] = round(max(0.0, level["p50_us"] - base["p50_us"]), 1)
            level["wait_p99_us"] = round(max(0.0, level["p99_us"] - base["p99_us"]), 1)
            # Little's law on Redis's own counts: a connection's cycle is clients / throughput
            level["wait_mean_us_littles_law"] = round(max(0.0, 1e6 * (clients / level["commands_per_s"]
                                                                      - 1 / base["commands_per_s"])), 1) \
                if level["commands_per_s"] and base["commands_per_s"] else None
            echo(f"curve {clients:>4} connections: {level['commands_per_s']:>9,.0f} commands/s, Redis "
                 f"{100 * level['utilisation']:.0f} % of a core, p99 {level['p99_us']:,.0f} us (wait "
                 f"{level['wait_p99_us']:,.0f} us), driver {100 * level['driver_cpu_share']:.0f} % of a core"
                 + (f", Redis waited for a CPU {100 * level['redis_runqueue_share']:.1f} % of the time"
                    if level["redis_runqueue_share"] is not None else "")
                 + (": driver-bound, left off the curve" if level["driver_bound"] else
                    ": host-bound (the machine delayed Redis), left off the curve" if level["host_bound"] else ""))
            if level["driver_bound"] or level["utilisation"] >= SATURATED_SHARE:
                break
    # the unloaded level is every wait's reference: delayed by the host, no wait of the level is Redis's own
    usable = [lv for lv in levels if lv["used"]] if levels[0]["used"] else []
    points = monotone_curve([(lv["utilisation"], lv["wait_p99_us"]) for lv in usable])
    return {"driver": driver, "driver_version": _version(memtier or bench), "master": target.node,
            "hash_tag": target.tag, "mix": target.mix, "record_bytes": target.size,
            "requests_per_level": plan.curve_requests, "method": CURVE_METHOD, "levels": levels,
            "points": [list(pt) for pt in points],
            "unloaded_p50_us": levels[0]["p50_us"], "unloaded_p99_us": levels[0]["p99_us"],
            "measured_up_to_utilisation": points[-1][0] if points else None,
            "driver_bound_levels": sum(1 for lv in levels if lv["driver_bound"]),
            "host_bound_levels": sum(1 for lv in levels if lv["host_bound"])}


def _runqueue_wait_s(pid: int) -> float | None:
    """Seconds the process's main thread has waited on a run queue (``/proc/PID/schedstat``, second field, ns)."""
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return None


def _version(binary: str) -> str:
    try:
        proc = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10,
                              stdin=subprocess.DEVNULL)
        return (proc.stdout + proc.stderr).strip().splitlines()[0][:100]
    except (OSError, subprocess.SubprocessError, IndexError):
        return "unknown"


def _server_counters(client: Any, command: str | None) -> dict[str, float]:
    """Redis's own counters: CPU, and calls and usec of ``command`` (None: of every command but INFO itself)."""
    info = client.info("all")
    stats = ([info.get(f"cmdstat_{command}", {}) or {}] if command else
             [v for k, v in info.items() if k.startswith("cmdstat_") and k != "cmdstat_info" and isinstance(v, dict)])
    return {"cpu_s": float(info.get("used_cpu_sys", 0)) + float(info.get("used_cpu_user", 0)),
            "calls": sum(float(st.get("calls", 0)) for st in stats),
            "usec": sum(float(st.get("usec", 0)) for st in stats),
            "bytes_in": float(info.get("total_net_input_bytes", 0))}


def draw(result: dict[str, Any], path: Path) -> None:
    """Left: latency against offered load (the hockey stick): open-loop p50/p99 per step, the SLO, the closed-loop
    rate. Right: the master's latency-vs-load curve (p99 wait against Redis's CPU utilisation, as plan reads it),
    with the levels left off (driver-bound) hollow."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curve = result.get("queue_curve")
    fig, axes = plt.subplots(1, 2 if curve else 1, figsize=(12 if curve else 7, 4), squeeze=False)
    ax = axes[0][0]
    steps = [s for s in result["open_loop"]["steps"] if s["p99_us"]]
    x = [s["commands_per_s_busiest_master"] for s in steps]
    ax.plot(x, [s["p99_us"] for s in steps], "-", color="C0", label="open loop p99 (from intended start)")
    ax.plot(x, [s["p50_us"] for s in steps], "--", color="C1", label="open loop p50")
    # a rig-bound step's latency is the machine's, not Redis's: hollow markers
    for s in steps:
        face = "none" if s["run_class"] == "rig-bound" else None
        ax.plot([s["commands_per_s_busiest_master"]], [s["p99_us"]], "o", color="C0", mfc=face)
        ax.plot([s["commands_per_s_busiest_master"]], [s["p50_us"]], "s", color="C1", mfc=face)
    if any(s["run_class"] == "rig-bound" for s in steps):
        ax.plot([], [], "o", color="gray", mfc="none", label="hollow: rig-bound step (the machine's latency)")
    ax.axhline(result["slo_p99_us"], color="red", lw=1, label=f"SLO p99 {result['slo_p99_us']:,.0f} us")
    closed = result.get("closed_loop")
    if closed and closed.get("commands_per_s"):
        ax.axvline(closed["commands_per_s"], color="black", ls=":", lw=1,
                   label=f"closed loop drove {closed['commands_per_s']:,.0f} commands/s (not plan's ceiling)")
    ax.set_xlabel("commands/s on the busiest master")
    ax.set_ylabel("latency, us")
    ax.set_yscale("log")
    ax.set_title(f"one master, {'TLS' if result['tls'] else 'plain'}: latency vs offered load")
    ax.legend(fontsize=8)
    if curve:
        ax = axes[0][1]
        levels = curve["levels"]
        pts = curve["points"]
        if pts:
            ax.plot([100 * u for u, _ in pts], [w for _, w in pts], "-", color="C2",
                    label="p99 wait plan reads (monotone)")
        for lv in levels:
            ax.plot([100 * lv["utilisation"]], [lv["wait_p99_us"]], "o", color="C2",
                    mfc=None if lv.get("used", True) else "none")
            ax.annotate(str(lv["clients"]), (100 * lv["utilisation"], lv["wait_p99_us"]), fontsize=7,
                        xytext=(3, 3), textcoords="offset points")
        ax.plot([100 * lv["utilisation"] for lv in levels], [lv["wait_p50_us"] for lv in levels], "s--",
                color="C3", label="p50 wait")
        if not all(lv.get("used", True) for lv in levels):
            ax.plot([], [], "o", color="gray", mfc="none", label="hollow: left off (driver- or host-bound)")
        ax.set_xlabel("Redis's CPU utilisation of the master, % of a core (labels: connections)")
        ax.set_ylabel("wait beyond unloaded latency, us")
        ax.set_xlim(0, 100)
        ax.set_title(f"queueing curve: {curve['driver']} closed loop, unloaded p99 {curve['unloaded_p99_us']:,.0f} us")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
