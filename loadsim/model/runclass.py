"""Is a run about Redis or about the test rig? (pure: numbers in, class and evidence out)

A latency measured by a load generator is the sum of three things: the rig (the generator's schedule lag, the
wait for a free ORS worker thread, the generator's own CPU and wake-ups, other processes on the host), the
network round trip, and Redis (its event loop and execution). Only a run whose latency is about Redis may decide
how many masters to buy. ``classify`` names each run:

* ``rig-bound``: the generator or the host limited the run (generator CPU at its ceiling, the schedule fell behind,
  the backlog never drained, most of p99 spent in the rig, the host short of CPU or stolen from by its
  hypervisor). Its latency says nothing about Redis; its memory and CPU counters may still be sound.
* ``redis-bound``: Redis limited it (a master's CPU near one core, or Redis's own execution is most of p99).
* ``clean``: neither; the latency is a fair measurement of this deployment at this load.
* ``fault``: a master was dead, stopped, paused, busy or out of memory (or the cluster was down): what the run
  measured is that fault, named with its master and time, not the rig nor Redis's capacity. A stopped master makes
  the workers wait and the schedule fall behind, which would otherwise read as rig-bound.

A fault is checked first, then Redis: a master at its ceiling makes the generator fall behind too, and that run is
about Redis.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from loadsim import defaults as D

RIG_BOUND, REDIS_BOUND, CLEAN, FAULT = "rig-bound", "redis-bound", "clean", "fault"
CLASSES = (CLEAN, RIG_BOUND, REDIS_BOUND, FAULT)

# Fault reason codes (``run_class.codes``) and the words the evidence line uses for each.
MASTER_DEAD, MASTER_STOPPED, MASTER_SILENT, MASTER_PAUSED = "master-dead", "master-stopped", "master-silent", \
    "master-paused"
MASTER_BUSY, MASTER_OOM, CLUSTER_DOWN = "master-busy", "master-oom", "cluster-down"
FAULT_WORDS = {
    MASTER_DEAD: "dead (refuses connections)",
    MASTER_STOPPED: "stopped (accepts connections, answers neither its clients nor the cluster bus)",
    MASTER_SILENT: "silent (accepts connections, never answers)",
    MASTER_PAUSED: "paused (CLIENT PAUSE: answers the cluster bus, holds its clients)",
    MASTER_BUSY: "busy (answers BUSY: a script ran past busy-reply-threshold)",
    MASTER_OOM: "out of memory (refused writes with OOM: maxmemory reached, noeviction)",
    CLUSTER_DOWN: "cluster down",
}
FAULT_ADVICE = "the run measured this fault, not the rig nor Redis's capacity: size on a run without one"

# Thresholds, each with why it is where it is.
GENERATOR_CPU_CEILING = 90.0  # % of one core (p90 of per-second samples): a gevent process above this is late
LAG_P99_US = 10_000  # schedule lag p99 above 10 ms: operations released that late are the rig's delay
ACHIEVED_SHARE = 0.98  # achieved below 98 % of offered: someone did not keep up (Redis if its CPU is high)
RIG_SHARE_OF_P99 = 0.5  # more than half of p99 the rig's: before the send (lag, a worker) or the generator's own
HOST_PRESSURE_PERCENT = 25.0  # /proc/pressure/cpu "some": share of time a runnable task waited for a CPU
STEAL_PERCENT = 10.0  # /proc/stat steal: share of CPU time the hypervisor gave to other guests
# /proc/pressure/memory "some": share of time a task stalled on memory (reclaim, swap-in). Lower than the CPU
# pressure's 25 %: a task stalled on memory is blocked outright, while CPU "some" counts any runnable task waiting
# (often not the generator). It stays 0.0 under CPU contention alone (measured here: load average 9, CPU pressure
# 99 %, memory pressure 0.00), so it names memory, never a busy CPU.
MEMORY_PRESSURE_PERCENT = 10.0
MASTER_CPU_CEILING = D.value("master_cpu_knee")  # % of one core: Redis runs commands on one thread; past it, queues
REDIS_SHARE_OF_P99 = 0.5  # Redis's own execution (INFO latencystats) more than half of the client's p99

# Reason codes of the rig-bound and redis-bound checks (``run_class.codes``, beside the fault codes above): code
# decisions (which advice, is the generator the limit) read these, never the words of a reason.
MASTER_CPU, REDIS_SHARE = "master-cpu", "redis-share-of-p99"
NO_STEADY_STATE, GENERATOR_CPU, SCHEDULE_LAG = "no-steady-state", "generator-cpu", "schedule-lag"
ACHIEVED_BELOW_OFFERED, RIG_SHARE = "achieved-below-offered", "rig-share-of-p99"
HOST_CPU_PRESSURE, HOST_STEAL, HOST_MEMORY_PRESSURE = "host-cpu-pressure", "host-steal", "host-memory-pressure"
# What a check's hit says about the cause, which picks the advice: the generator itself could not offer more
# (GENERATOR); it could not unless the host was busy (GENERATOR_UNLESS_HOST: a backlog never drained or achieved
# below offered count against the generator only on a host that was not busy); other processes took the host
# (HOST); either (EITHER: a late schedule or the time before the send may be the host's doing); Redis (REDIS).
GENERATOR, GENERATOR_UNLESS_HOST_CAUSE, HOST, EITHER, REDIS = "generator", "generator-unless-host", "host", \
    "either", "redis"
ADVICE = "run fewer HA pairs per process (--processes N spreads them), or use a quieter machine"
GENERATOR_ADVICE = "the generator was the limit: run fewer HA pairs per process (--processes N spreads them)"
HOST_ADVICE = ("other processes took the host's CPU: use a quieter machine (or stop what else runs); more "
               "--processes would not help")


@dataclass(frozen=True)
class FaultSeen:
    """A fault of Redis seen in a run: its reason code (``FAULT_WORDS``), the master (host:port; None: the
    cluster as a whole), from when (s from the start; None: not known, e.g. a CLIENT PAUSE seen only in Redis's
    counters) and what else is known (``detail``: a failover, how many replies of that kind)."""

    code: str
    master: str | None
    at_s: float | None
    detail: str = ""

    def text(self) -> str:
        who = f"master {self.master} " if self.master else ""
        when = f" from {self.at_s:.1f} s" if self.at_s is not None else " during the run"
        return f"{who}{FAULT_WORDS.get(self.code, self.code)}{when}" + (f" ({self.detail})" if self.detail else "")


@dataclass(frozen=True)
class RunEvidence:
    """The figures a run is classified on. None: not measured (older kernel, older summary, no server samples)."""

    steady: bool  # a steady window of at least 5 s was reached (the pre-fill backlog drained)
    generator_cpu_p90: float  # % of one core, per-second samples
    schedule_lag_p99_us: float
    offered_ops_per_s: float
    achieved_ops_per_s: float
    latency_p99_us: float | None = None  # the busiest operation's p99 from the intended start
    rig_p99_us: float | None = None  # of which the rig's: before the send (lag, wait for a worker) + the client's own
    redis_p99_us: float | None = None  # of which Redis's own execution
    # contention on the generator's host, by the summary's ``host`` keys (loadsim.results.host.HOST_FIGURES: its
    # rows, e.g. cpu_pressure_percent, steal_percent); a key absent or None: not measured
    host: Mapping[str, float | None] = field(default_factory=dict)
    master_cpu_percent: float | None = None  # the busiest master, % of one core, steady window
    backlog: int | None = None  # operations still queued at the end (no steady state: never drained)
    faults: tuple[FaultSeen, ...] = ()  # faults of Redis seen in the run, in time order
    not_sent: int = 0  # operations due but never sent (queued when the run ended)


def generator_limited(codes: list[str]) -> bool:
    """True when a rig-bound run's reason codes say the generator itself could not offer more load (its CPU at the
    ceiling; a backlog never drained or achieved below offered on a host that was not busy): more load needs
    more generator processes (--processes). With the host busy, those say: a quieter machine."""
    found = set(codes)
    return bool(found & _caused_by(GENERATOR) or (found & _caused_by(GENERATOR_UNLESS_HOST_CAUSE)
                                                  and not found & _caused_by(HOST)))


def advice(codes: list[str]) -> str:
    """What to do about a rig-bound run, for the cause its reason codes name: the generator's own CPU (or a backlog
    on an idle host) -> --processes; host CPU pressure or steal -> a quieter machine; else (late schedule, the rig's
    share of p99 on a host that was not measured busy) both."""
    if generator_limited(codes):
        return GENERATOR_ADVICE
    if set(codes) & _caused_by(HOST):
        return HOST_ADVICE
    return ADVICE


def _ms(us: float) -> str:
    return f"{us / 1000:.1f} ms"


def _pct(part: float | None, whole: float | None) -> float | None:
    return None if part is None or not whole else 100.0 * part / whole


@dataclass(frozen=True)
class Check:
    """One figure ``classify`` checks, as a row of ``CHECKS``: its reason code, which side it speaks for (``REDIS``,
    else the rig: ``cause`` picks the advice), whether the run measured it, whether it triggered, and its words
    for the evidence line. A new reason is a new row (and, for a new host counter, a row of
    loadsim.results.host.HOST_FIGURES); classification, the evidence line, the advice and the summary's codes
    iterate over the rows."""

    code: str
    cause: str  # REDIS, GENERATOR, GENERATOR_UNLESS_HOST_CAUSE, HOST or EITHER
    measured: Callable[[RunEvidence], bool]
    hit: Callable[[RunEvidence], bool]
    text: Callable[[RunEvidence], str]

    @property
    def side(self) -> str:
        return "redis" if self.cause == REDIS else "rig"


def _rig_share(e: RunEvidence) -> float | None:
    return _pct(e.rig_p99_us, e.latency_p99_us)


def _redis_share(e: RunEvidence) -> float | None:
    return _pct(e.redis_p99_us, e.latency_p99_us)


def _achieved(e: RunEvidence) -> float | None:
    return _pct(e.achieved_ops_per_s, e.offered_ops_per_s)


def _host(e: RunEvidence, key: str) -> float | None:
    value = e.host.get(key)
    return None if value is None else float(value)


def _over(figure: Callable[[RunEvidence], float | None], limit: float) -> Callable[[RunEvidence], bool]:
    return lambda e: (x := figure(e)) is not None and x > limit


CHECKS: tuple[Check, ...] = (
    Check(MASTER_CPU, REDIS, lambda e: e.master_cpu_percent is not None,
          lambda e: e.master_cpu_percent is not None and e.master_cpu_percent >= MASTER_CPU_CEILING,
          lambda e: f"busiest master {e.master_cpu_percent or 0:.0f} % of a core"),
    Check(REDIS_SHARE, REDIS, lambda e: _redis_share(e) is not None,
          lambda e: (x := _redis_share(e)) is not None and x >= 100 * REDIS_SHARE_OF_P99,
          lambda e: f"Redis execution {_redis_share(e) or 0:.0f} % of p99"),
    Check(NO_STEADY_STATE, GENERATOR_UNLESS_HOST_CAUSE, lambda e: not e.steady, lambda e: not e.steady,
          lambda e: "no steady state" + (f" ({e.backlog:,} operations never drained)" if e.backlog else "")),
    Check(GENERATOR_CPU, GENERATOR, lambda e: True, lambda e: e.generator_cpu_p90 > GENERATOR_CPU_CEILING,
          lambda e: f"generator CPU p90 {e.generator_cpu_p90:.0f} % of a core"),
    Check(SCHEDULE_LAG, EITHER, lambda e: e.steady, lambda e: e.schedule_lag_p99_us > LAG_P99_US,
          lambda e: f"schedule lag p99 {_ms(e.schedule_lag_p99_us)}"),
    Check(ACHIEVED_BELOW_OFFERED, GENERATOR_UNLESS_HOST_CAUSE, lambda e: _achieved(e) is not None,
          lambda e: (x := _achieved(e)) is not None and x < 100 * ACHIEVED_SHARE,
          lambda e: f"achieved {_achieved(e) or 0:.0f} % of offered"),
    Check(RIG_SHARE, EITHER, lambda e: _rig_share(e) is not None, _over(_rig_share, 100 * RIG_SHARE_OF_P99),
          lambda e: f"rig {_rig_share(e) or 0:.0f} % of p99 {_ms(e.latency_p99_us or 0)}"),
    # said even when not measured: a busy host is the first suspect of a rig-bound run
    Check(HOST_CPU_PRESSURE, HOST, lambda e: True,
          _over(lambda e: _host(e, "cpu_pressure_percent"), HOST_PRESSURE_PERCENT),
          lambda e: "host CPU pressure " + ("not measured" if _host(e, "cpu_pressure_percent") is None
                                            else f"{_host(e, 'cpu_pressure_percent'):.0f} %")),
    Check(HOST_STEAL, HOST, lambda e: _host(e, "steal_percent") is not None,
          _over(lambda e: _host(e, "steal_percent"), STEAL_PERCENT),
          lambda e: f"steal {_host(e, 'steal_percent') or 0:.0f} %"),
    Check(HOST_MEMORY_PRESSURE, HOST, lambda e: _host(e, "memory_pressure_percent") is not None,
          _over(lambda e: _host(e, "memory_pressure_percent"), MEMORY_PRESSURE_PERCENT),
          lambda e: f"host memory pressure {_host(e, 'memory_pressure_percent') or 0:.0f} %"),
)
CODES = tuple(c.code for c in CHECKS)  # every check's code, in the order of the evidence line


def _caused_by(cause: str) -> set[str]:
    """The codes of the checks whose hit says ``cause``."""
    return {c.code for c in CHECKS if c.cause == cause}


def classify(e: RunEvidence) -> dict[str, object]:
    """``{"class": ..., "evidence": "<one line>", "reasons": [...], "codes": [...]}``; ``reasons`` are short strings
    naming what made the class (empty for a clean run), ``codes`` their reason codes, one per reason (the fault
    codes of ``FAULT_WORDS`` for a fault, else the codes of ``CHECKS``: ``GENERATOR_CPU``, ``HOST_CPU_PRESSURE``
    ...), what code decides on; the evidence line gives the reasons first, then the figures checked that did not
    trigger (for a fault: the figures the fault moved)."""
    if e.faults:
        return _fault(e)
    # (side, measured, triggered, text, code) of every figure
    checks = [(c.side, c.measured(e), c.hit(e), c.text(e), c.code) for c in CHECKS]
    redis = [(text, code) for side, _, hit, text, code in checks if side == "redis" and hit]
    rig = [(text, code) for side, _, hit, text, code in checks if side == "rig" and hit]
    # a master at its ceiling also makes the generator fall behind: that run is about Redis
    cls, hits = (REDIS_BOUND, redis) if redis else (RIG_BOUND, rig) if rig else (CLEAN, [])
    reasons, codes = [text for text, _ in hits], [code for _, code in hits]
    rest = ", ".join(text for _, seen, hit, text, _ in checks if seen and text not in reasons
                     and not (hit and cls == REDIS_BOUND))
    if not reasons:
        return {"class": CLEAN, "reasons": [], "codes": [], "evidence": f"clean: {rest}"}
    line = f"{cls}: {', '.join(reasons)}" + (f" ({rest})" if rest else "")
    return {"class": cls, "reasons": reasons, "codes": codes,
            "evidence": line + (f": {advice(codes)}" if cls == RIG_BOUND else "")}


def _fault(e: RunEvidence) -> dict[str, object]:
    """A run with a fault of Redis: the faults first (master and time), then what they did to the figures the
    other classes read (a stopped master makes the schedule fall behind: that is the fault's, not the rig's)."""
    faults = sorted(e.faults, key=lambda f: (f.at_s is None, f.at_s or 0.0))
    # masters that met the same fault at the same time are one reason ("masters A, B, C dead from 8.0 s")
    groups: dict[tuple[str, float | None, str], list[str]] = {}
    for f in faults:
        groups.setdefault((f.code, f.at_s, f.detail), []).append(f.master or "")
    reasons = []
    for (code, at, detail), names in groups.items():
        one = FaultSeen(code, names[0] or None, at, detail).text()
        reasons.append(one if len(names) == 1 else one.replace(f"master {names[0]}", "masters " + ", ".join(names), 1))
    moved = [f"{e.not_sent:,} operations due never sent"] if e.not_sent else []
    others = classify(RunEvidence(**{**e.__dict__, "faults": ()}))
    moved += [str(r) for r in others["reasons"]]  # type: ignore[attr-defined]
    line = f"{FAULT}: {'; '.join(reasons)}" + (f" (with it: {', '.join(moved)})" if moved else "")
    return {"class": FAULT, "reasons": reasons, "codes": list(dict.fromkeys(f.code for f in faults)),
            "evidence": f"{line}: {FAULT_ADVICE}"}


# The quiet-host gate of the latency closure check (``quiet_host``): the largest per-second share of each host
# figure (CPU, memory and disk pressure, steal) at most this. Why 3 %: the closure check's own load (3 HA pairs on
# a 3-master embedded cluster, its generator and probe, 2 cores) reached 1.6 to 2.8 % CPU pressure in its busiest
# second in 12 of 13 runs on an idle host (one second at 7.0 %), and 0.0 to 0.8 % disk pressure; a burst of other
# work shows above it (copies and installs beside a run: 3.1 to 27 % CPU, 15 to 28 % disk pressure). Per second,
# not the run's mean nor PSI's own avg10: a second-long burst is what puts a few operations into the top 1 %.
QUIET_HOST_PERCENT = 3.0


def quiet_host(host: Mapping[str, float | None] | None) -> tuple[bool, str]:
    """Whether the generator's host was quiet through the run, judged on the summary's ``host`` figures (the largest
    per-second share of each: ``<key>_max``), and why, for people: (True, "host quiet: ...") or (False, the figures
    over ``QUIET_HOST_PERCENT``, or "not measured"). A figure not measured (an older kernel, an older summary) is not
    taken as quiet: nothing says the host was."""
    peaks = {k.removesuffix("_max"): v for k, v in (host or {}).items() if k.endswith("_max")}
    shown = ", ".join(f"{k.removesuffix('_percent').replace('_', ' ')} {v:g} %" for k, v in peaks.items()
                      if v is not None)
    missing = [k for k, v in peaks.items() if v is None]
    if not peaks or missing:
        return False, "host contention not measured" + (f" ({', '.join(missing)})" if missing else "")
    over = {k: v for k, v in peaks.items() if v is not None and v > QUIET_HOST_PERCENT}
    if over:
        return False, (f"host busy: busiest second over {QUIET_HOST_PERCENT:g} % on "
                       + ", ".join(f"{k.removesuffix('_percent').replace('_', ' ')} {v:g} %" for k, v in over.items())
                       + f" (all: {shown})")
    return True, f"host quiet: busiest second {shown} (each at most {QUIET_HOST_PERCENT:g} %)"
