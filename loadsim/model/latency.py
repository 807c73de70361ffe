"""Latency predicted for production: a composition a user can check (pure: numbers in, µs out).

In production the client is ORS (C++, redis-plus-plus) on its own host across a real network, so the test rig's
p99 (a Python client on loopback, Locust's wake-ups, other processes on a busy laptop) is not the answer. What
carries over from a rig to production, per persistence operation of ``k`` commands sent one after the other:

    p99 = k x (network round trip + ORS client's own time per command)
          + Redis's execution: the slowest command at its q_k quantile, the other k - 1 at their p50
          + Redis's queueing at the master's utilisation rho: the slowest at its q_k wait, the others at the mean

    with q_k = 1 - (1 - 0.99) / k (``tail_quantile``): 0.99 for one command, 0.995 for two, 0.9967 for three

* the **network round trip** is the production one, an input (``--network-rtt-us``; default a LAN, about 200 µs on
  1 Gbit/s per Redis's benchmark docs; ``loadsim check`` measures it from the host it runs on);
* **Redis's execution** is Redis's own ``INFO latencystats`` (the runs' when they are not rig-bound, else the
  reference machine's), which a busy client does not inflate;
* **queueing** is read off a master's latency-vs-load curve when ``loadsim capacity`` measured one for the question's
  transport (closed loop at increasing concurrency: the p99 wait Redis added beyond its unloaded latency against its
  own CPU utilisation; ``curve_wait_us``, linear between the points) and that curve is valid for the question (see
  ``queueing``: its kept levels reach the question's connections per master and its utilisation), else the M/M/1
  waiting time of the master's event loop with the service time its CPU per command (``wait_us``), an assumption;
  ``Composition.queue_basis`` says which and why, and every surface prints it;
* the **ORS client's own time** is not published: an assumption (``loadsim.defaults``), plus its TLS share when the
  question has TLS.

Why the slowest command at q_k and the others at their typical value (``tail_quantile``): an operation is slower
than its p99 in 1 % of cases, and the likeliest way is one slow command on top of typical ones, not k slow ones
(adding k p99s overstates it by about k x; adding k p50s misses the tail). With k independent commands, the chance
that at least one of them is beyond its q quantile is 1 - q^k, about k (1 - q): that is 1 % when q = q_k. So the
slowest command of a p99 operation sits near its q_k quantile, not its p99: the former rule ("one at its p99, the
others at their p50") is biased low for k > 1 (on 13 closure runs of this repository's own test load on an idle
host, it under-predicted the 3-command operations' measured p99 by 12 % at the median; this rule by 7 %). Assumed:
the commands' times independent (no stall of the whole client delaying all k) and the others' spread small beside
the slowest one's (``tail_quantile`` says where that gives a lower estimate).

The rig's own time never enters the prediction. The closure check (``closure``) puts the rig's round trip and its
client's time back and compares with what a quiet run measured.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from loadsim import defaults as D

P99 = 0.99
P50 = 0.5
MM1_SOURCE = "M/M/1 (assumption): the wait of the master's event loop, service time its CPU per command"


def tail_quantile(commands: float, q: float = P99) -> float:
    """The per-command quantile at which the slowest of ``commands`` independent commands sits when their operation
    is at its ``q`` quantile: q_k = 1 - (1 - q) / k (1 command: q itself; 3 commands at p99: 0.99667).

    Why: the operation is beyond its q quantile in a share 1 - q of cases. With k independent commands, the share of
    operations with at least one command beyond that command's quantile p is 1 - p^k, about k (1 - p) for p near 1,
    and an operation is slow mostly when one command is (one slow part on typical ones); solving k (1 - p) = 1 - q
    gives p = q_k, so (q_k)^k is about q. Assumes the k commands' times independent (a stall of the whole client that
    delays all k at once breaks it: the closure check gates on a quiet host for that reason) and the others' spread
    small beside the slowest one's: when every command is as widely spread as an exponential, the sum's own spread
    adds on top (3 exponentials: the rule gives 7.09 mean service times where the Erlang p99 is 8.41, the former rule
    5.99), so it is a lower estimate there; a production command is mostly its network round trip, which is not."""
    k = max(1.0, commands)
    return 1.0 - (1.0 - q) / k


def exponential_tail(p50: float, at_q: float, q: float, target: float) -> float:
    """The value at quantile ``target`` of a distribution known at its median (``p50``) and at quantile ``q``
    (``at_q``), with an exponential tail: the value linear in ln(1 / (1 - quantile)) through the two points (an
    exponential's quantile is its shift + its scale x ln(1 / (1 - quantile))). At ``q`` it is ``at_q`` exactly; past
    it, the same slope. Never below ``p50``; ``at_q`` below ``p50`` is read as ``p50`` (no tail)."""
    at_q = max(at_q, p50)
    if q <= P50 or target <= P50:
        return p50 if target <= P50 else at_q
    return p50 + (at_q - p50) * math.log(0.5 / (1.0 - target)) / math.log(0.5 / (1.0 - q))


def transport(tls: bool) -> str:
    return "TLS" if tls else "plain"


@dataclass(frozen=True)
class QueueCurve:
    """A master's latency-vs-load curve measured by ``loadsim capacity``: (Redis's CPU utilisation, p99 wait µs)
    points of the levels it kept (increasing), the most connections among those levels (0: not recorded), its
    transport and where it comes from (``source``: the label the composition prints when it reads the curve)."""

    points: tuple[tuple[float, float], ...]
    connections: int
    tls: bool = False
    source: str = "measured curve"

    @property
    def top(self) -> float:
        """The utilisation of its last kept level (0: none kept)."""
        return max((u for u, _ in self.points), default=0.0)


@dataclass(frozen=True)
class RedisLatency:
    """Redis's own side of the composition: execution per command (p50, p99, µs) and where it comes from, and the
    measured queueing curves (at most one per transport: plain, TLS) when ``loadsim capacity`` gave them."""

    exec_us_p50: float = D.value("redis_exec_us_p50")
    exec_us_p99: float = D.value("redis_exec_us_p99")
    source: str = f"the reference machine's ({D.DEFAULTS['redis_exec_us_p99'].label})"
    curves: tuple[QueueCurve, ...] = ()
    exec_us_p999: float | None = None  # INFO latencystats' p99.9 when the source recorded it

    def exec_us_at(self, q: float) -> float:
        """Redis's execution per command at quantile ``q`` (µs): p50 at or below the median, p99 at 0.99; between
        p99 and p99.9 (and past it, on the same slope) interpolated on the log of the tail probability when p99.9 is
        known, else the exponential tail through p50 and p99 (``exponential_tail``)."""
        if q <= P99 or self.exec_us_p999 is None:
            return exponential_tail(self.exec_us_p50, self.exec_us_p99, P99, q)
        p99, p999 = self.exec_us_p99, max(self.exec_us_p99, self.exec_us_p999)
        return p99 + (p999 - p99) * math.log(0.01 / (1.0 - q)) / math.log(10.0)

    def curve_for(self, tls: bool) -> QueueCurve | None:
        """The measured curve of this transport (TLS costs more per command: the other's does not apply)."""
        return next((c for c in self.curves if c.tls == tls), None)

    def with_curve(self, curve: QueueCurve) -> RedisLatency:
        """These latencies with ``curve`` in place of any curve of its transport."""
        return replace(self, curves=(*(c for c in self.curves if c.tls != curve.tls), curve))

    def curve_text(self, tls: bool) -> str:
        """The curve available to a question of this transport, for the unit-cost tables (plan --json's and the
        report's): its label, or that none was given or kept (then every prediction uses M/M/1)."""
        curve = self.curve_for(tls)
        return curve.source if curve is not None and curve.points else f"{MM1_SOURCE}; {_no_curve(self, tls)}"


DEFAULT_REDIS = RedisLatency()


def wait_us(rho: float, service_us: float, q: float = P99) -> float:
    """Waiting time (µs) before a master's event loop starts a command, at quantile ``q`` (None-free; ``inf`` at
    or past saturation), for an M/M/1 queue: P(W > t) = rho exp(-(1 - rho) t / S), so the q-quantile is
    S / (1 - rho) ln(rho / (1 - q)) when rho > 1 - q, else 0 (most commands do not wait at all)."""
    if rho >= 1.0:
        return math.inf
    rho = max(0.0, rho)
    if rho <= 1.0 - q:
        return 0.0
    return service_us / (1.0 - rho) * math.log(rho / (1.0 - q))


def mean_wait_us(rho: float, service_us: float) -> float:
    """The M/M/1 mean wait, rho S / (1 - rho) (``inf`` at or past saturation)."""
    return math.inf if rho >= 1.0 else max(0.0, rho) * service_us / (1.0 - max(0.0, rho))


def monotone_curve(points: list[tuple[float, float]] | tuple[tuple[float, float], ...]
                   ) -> tuple[tuple[float, float], ...]:
    """A measured curve ((utilisation, p99 wait µs) points) made fit to interpolate: sorted by utilisation, the wait
    never falling as utilisation rises (a running maximum: more load never predicts less waiting; a noisy point
    below an earlier one is lifted to it), one point per utilisation, negative waits 0, points at or past
    saturation and non-finite ones dropped."""
    clean = sorted((float(u), max(0.0, float(w))) for u, w in points
                   if math.isfinite(u) and math.isfinite(w) and 0.0 <= u < 1.0)
    out: list[tuple[float, float]] = []
    for u, w in clean:
        w = max(w, out[-1][1]) if out else w
        if out and u == out[-1][0]:
            out[-1] = (u, w)
        else:
            out.append((u, w))
    return tuple(out)


def curve_wait_us(curve: tuple[tuple[float, float], ...], rho: float) -> float:
    """The p99 wait at ``rho`` read off a measured curve (linear between its points, from 0 wait at 0 below its
    first one; ``inf`` at saturation). Never extrapolated: past its last point, that point's wait (whether the curve
    may answer at ``rho`` at all is ``queueing``'s decision)."""
    if rho >= 1.0:
        return math.inf
    points = monotone_curve(curve)
    if not points:
        raise ValueError("an empty queueing curve")
    if rho <= points[0][0]:
        return points[0][1] * (max(0.0, rho) / points[0][0] if points[0][0] > 0 else 1.0)
    for (u0, w0), (u1, w1) in zip(points, points[1:], strict=False):
        if rho <= u1:  # at a point, its own wait (no rounding above the flat wait past the last one)
            return w1 if rho == u1 else w0 + (w1 - w0) * (rho - u0) / (u1 - u0)
    return points[-1][1]


def _no_curve(redis: RedisLatency, tls: bool) -> str:
    """Why a question of this transport has no curve to read: none given, or one that kept no level."""
    own = redis.curve_for(tls)
    if own is not None:  # measured, but every level was left off: said so, not "none was given"
        return f"the measured {transport(tls)} curve kept no level ({own.source})"
    other = next((c for c in redis.curves if c.tls != tls and c.points), None)
    return (f"no measured {transport(tls)} curve was given"
            + (f" (the {transport(not tls)} one does not apply: TLS changes the cost of a command)" if other else "")
            + "; loadsim capacity measures one: plan --from its folder, or a run's --capacity-from, reads it")


def curve_tail_ratio(q: float) -> float:
    """How much a measured curve's p99 wait grows to quantile ``q``: ln(1 / (1 - q)) / ln(100), an exponential tail
    (M/M/1's is one) through zero wait, the level measured and the shape assumed (1 at p99; 1.24 at 0.99667, the
    slowest of 3 commands). Without M/M/1's atom of commands that do not wait at all, so never above M/M/1's own ratio
    at the same utilisation: a lower estimate where the wait is rare."""
    return math.log(1.0 / (1.0 - q)) / math.log(100.0) if q > P99 else 1.0


def queueing(redis: RedisLatency, rho: float, service_us: float, connections: int, tls: bool = False,
             q: float = P99) -> tuple[float, float, str]:
    """The queueing of one operation's commands at a master's utilisation ``rho``: (the wait at quantile ``q`` µs,
    typical wait µs, which queueing and why, for people). ``connections``: the question's connections that send to
    one master (every working ORS node's worker threads: each has a connection to each master); ``tls``: its
    transport; ``q``: the slowest command's quantile (``tail_quantile``; a curve's p99 is taken to ``q`` along
    ``curve_tail_ratio``).

    The measured curve of the question's transport is read when it is valid for the question, else M/M/1:

    * its kept levels must reach the question's connections: a closed loop of N connections queues at most N - 1
      commands behind one, so a curve measured at 4 connections says nothing of the queue 36 can build (a quiet
      2-core host kept levels 1 and 4: 0 µs p99 wait at 82 % of a core, where M/M/1 gives about 470 µs);
    * ``rho`` must lie within its kept levels: past the last one nothing was measured, and no curve is invented
      (the M/M/1 shape scaled to meet the last point would be one). A curve that covers the connections is still
      used up to its range: a question inside it is what the curve measured, whatever other questions ask.

    M/M/1 is never taken below what the curve measured (at ``rho``, or at its last kept level past it): fewer
    connections at the same utilisation queue less, so the measurement is a lower bound; and without that floor more
    load could predict less waiting where M/M/1 sits below the curve's last point, and the masters search (which
    walks the utilisation down as masters are added) would see a wait rise with fewer commands per master."""
    curve = redis.curve_for(tls)
    arm = transport(tls)
    if curve is None or not curve.points:
        why = _no_curve(redis, tls)
        floor = 0.0
    elif curve.connections < connections:
        kept = f"{curve.connections} connections" if curve.connections else "connections it did not record"
        why = (f"the measured {arm} curve stops at {kept}, this question has {connections} per master (a closed loop "
               "of N connections queues at most N - 1 commands)")
        floor = curve_wait_us(curve.points, rho) * curve_tail_ratio(q) if rho < 1.0 else 0.0
    elif rho > curve.top:
        why = (f"{100 * rho:.1f} % of a core is past the measured {arm} curve's last kept level "
               f"({100 * curve.top:.1f} % at {curve.connections} connections)")
        floor = curve_wait_us(curve.points, rho) * curve_tail_ratio(q) if rho < 1.0 else 0.0
    else:
        wait = curve_wait_us(curve.points, rho)  # M/M/1's mean/p99 ~ 1/ln(100 rho): its typical wait
        return wait * curve_tail_ratio(q), wait / math.log(100.0), curve.source
    if rho >= 1.0:
        return math.inf, math.inf, f"M/M/1 (assumption): {why}; unbounded: the master is saturated"
    slow, mean = wait_us(rho, service_us, q), mean_wait_us(rho, service_us)
    label = f"M/M/1 (assumption): {why}; the wait of the master's event loop, service time its CPU per command"
    if floor > slow:
        return floor, max(mean, floor / curve_tail_ratio(q) / math.log(100.0)), (
            f"{label}, not below the {floor:,.0f} µs the curve measured")
    return slow, mean, label


@dataclass(frozen=True)
class Composition:
    """One operation's predicted p99 (µs) and its parts; ``rtt_us`` and ``rtt_source`` say which round trip."""

    commands: float
    rtt_us: float
    rtt_source: str
    network_us: float
    client_us: float
    redis_us: float
    queue_us: float
    utilisation: float
    queue_basis: str = MM1_SOURCE  # which queueing: the measured curve, or the M/M/1 assumption and why (``queueing``)
    operation: str = "persistence operation"  # what sends the commands: "session delete", "session create or delete"

    @property
    def p99_us(self) -> float:
        return self.network_us + self.client_us + self.redis_us + self.queue_us

    def headline(self) -> str:
        """``p99 of a session delete (3 commands): 6,060 µs at a 2,000 µs round trip``: the operation, its p99 and
        the round trip it assumed, in one phrase (the verdict's latency line opens with it)."""
        total = "unbounded (the master is saturated)" if not math.isfinite(self.p99_us) else f"{self.p99_us:,.0f} µs"
        k = f"{self.commands:g} command{'s' if self.commands != 1 else ''}"
        return f"p99 of a {self.operation} ({k}): {total} at a {self.rtt_us:,.0f} µs round trip"

    def text(self) -> str:
        """The composition as a line a user can check by hand."""
        k = f"{self.commands:g}"
        queue = "unbounded (the master is saturated)" if not math.isfinite(self.queue_us) else f"{self.queue_us:,.0f}"
        total = "unbounded" if not math.isfinite(self.p99_us) else f"{self.p99_us:,.0f}"
        return (f"p99 {total} µs = {k} command{'s' if self.commands != 1 else ''} x {self.rtt_us:,.0f} µs network "
                f"round trip ({self.rtt_source}) "
                f"{self.network_us:,.0f} + ORS client {self.client_us:,.0f} + Redis execution {self.redis_us:,.0f} "
                f"+ queueing at {100 * self.utilisation:.1f} % of a core {queue} ({self.queue_basis})")

    def as_dict(self) -> dict[str, float | str | None]:
        def finite(x: float) -> float | None:
            return round(x, 1) if math.isfinite(x) else None

        return {"operation": self.operation, "p99_us": finite(self.p99_us), "commands": self.commands,
                "network_rtt_us": self.rtt_us,
                "network_rtt_source": self.rtt_source, "network_us": finite(self.network_us),
                "client_us": finite(self.client_us), "redis_us": finite(self.redis_us),
                "queue_us": finite(self.queue_us), "utilisation": self.utilisation,
                "queueing": self.queue_basis}


def compose(commands: float, rtt_us: float, client_us_per_command: float, redis: RedisLatency, utilisation: float,
            service_us: float, rtt_source: str = "given", operation: str = "persistence operation",
            connections: int = 1, tls: bool = False) -> Composition:
    """The p99 of an operation of ``commands`` commands (see the module's docstring): the round trip and the client's
    time per command, Redis's execution (the slowest command at ``tail_quantile(commands)``, the others at p50), and
    queueing at ``utilisation`` of the master's core whose service time per command is ``service_us`` (its CPU per
    command; the slowest at the same quantile, the others at the mean), for a question with ``connections`` sending
    to one master over ``tls`` or not (which curve, and whether it is valid: ``queueing``)."""
    k = max(1.0, commands)
    rest = k - 1.0
    q = tail_quantile(k)
    redis_us = redis.exec_us_at(q) + rest * redis.exec_us_p50
    queue, typical, basis = queueing(redis, utilisation, service_us, connections, tls, q)
    queue_us = queue + rest * typical if math.isfinite(queue) and math.isfinite(typical) else math.inf
    return Composition(k, rtt_us, rtt_source, k * rtt_us, k * client_us_per_command, redis_us, queue_us,
                       utilisation, basis, operation)


def binding(compositions: tuple[Composition, ...]) -> Composition:
    """The operation whose p99 is highest (the one an SLO on every operation binds on); operations that tie (the
    same command count gives the same p99) are named together: ``session create, delete or recovery``."""
    worst = max(compositions, key=lambda c: c.p99_us)
    tied = [c.operation for c in compositions if c.p99_us == worst.p99_us]
    if len(tied) == 1:
        return worst
    words = [t.removeprefix("session ") for t in tied]
    joined = ", ".join(words[:-1]) + " or " + words[-1]
    return replace(worst, operation=("session " if all(t.startswith("session ") for t in tied) else "") + joined)


def client_us_per_command(tls: bool) -> float:
    """The ORS client's own time per command (an assumption: not published), with its TLS share when TLS is on."""
    return D.value("ors_client_us_per_command") + (D.value("ors_client_tls_us_per_command") if tls else 0.0)


def rtt_source(rtt_us: float) -> str:
    """What a round trip is: the default LAN assumption, or given."""
    return ("assumed: a LAN, Redis's benchmark docs" if rtt_us == D.value("network_rtt_us")
            else "given")


@dataclass(frozen=True)
class RigTime:
    """The rig's own round trip and client time per command (µs) at its median and at one tail quantile ``q``, read
    off a run (``rig_per_command``); ``at`` reads it at any quantile along the exponential tail through the two."""

    p50: float
    at_q: float
    q: float

    def at(self, quantile: float) -> float:
        return exponential_tail(self.p50, self.at_q, self.q, quantile)


def rig_per_command(service_p50_us: float, service_p99_us: float, redis: RedisLatency, utilisation: float,
                    service_us: float, commands_p50: float = 1.0, commands_p99: float = 1.0) -> RigTime:
    """The rig's own round trip and client time per command, read off a run's operation with the fewest commands (a
    session update: at p50 one SET, at p99 also the timers record when over 1 % of updates rewrite it:
    ``commands_p50``, ``commands_p99``, as the run's latency split counts them) by inverting the composition: at p50
    every command is typical, so the service time is k50 x (rig + execution + mean wait); at p99 the slowest of k99
    commands is at its ``tail_quantile(k99)`` and the other k99 - 1 typical, which gives the rig's time at that
    quantile. Never below 0 nor its median. Only the closure check uses it: the rig's time never enters a
    prediction. Known bias, small: an update's p99 mixes 1- and 2-command updates (70 / 30 % for simple sessions),
    whose 1 % tail is thinner than a pure 2-command one, so the slowest command's quantile read off it is a little
    too high and the rig's tail a little light (an exponential-tail fit to the mixture moved the closure's error
    by +3 to +5 % on 13 quiet runs; not used, to keep the reading one inversion of the same composition)."""
    k50, k99 = max(1.0, commands_p50), max(1.0, commands_p99)
    q = tail_quantile(k99)
    typical = redis.exec_us_p50 + mean_wait_us(utilisation, service_us)
    p50 = max(0.0, service_p50_us / k50 - typical)
    slow = (service_p99_us - (k99 - 1.0) * (p50 + typical) - redis.exec_us_at(q)
            - queueing(redis, utilisation, service_us, 1, q=q)[0])
    return RigTime(p50, max(0.0, slow, p50), q)


def closure(commands: float, rig: RigTime, redis: RedisLatency, utilisation: float, service_us: float) -> Composition:
    """The composition with the rig's own round trip and client time put back in place of production's (per
    command, from ``rig_per_command``): the p99 the run should have measured for an operation of ``commands``
    commands if the composition is right: the slowest command's rig time at ``tail_quantile(commands)``, the others'
    at their median, as ``compose`` adds Redis's parts. Checked against the run's operations of that many commands,
    which it was not read off."""
    k = max(1.0, commands)
    c = compose(k, 0.0, 0.0, redis, utilisation, service_us, "the rig's")
    network = rig.at(tail_quantile(k)) + (k - 1.0) * rig.p50
    return replace(c, rtt_us=rig.p50, rtt_source="the rig's round trip and client time, read off its fewest-command "
                                                 "operation", network_us=network)
