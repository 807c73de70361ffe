"""Client-side measurements: microsecond HdrHistograms per operation plus counters.

Locust rounds response times below 100 ms to whole milliseconds, useless for Redis (0.1–1 ms), so
every operation is also recorded here in µs HdrHistograms (the ``hdrhistogram`` package):

* ``service``: from sending the first command of the operation to its last reply;
* ``latency``: from the operation's *intended* start (the time the model made it due), so time spent
  waiting for a free ORS worker thread or for a late scheduler counts (no coordinated omission);
* ``before_send``: latency − service of each operation (the schedule's lag and the wait for a free worker), a
  distribution of its own: the difference of two percentiles is not a percentile (a p99 "before the send" of 32 µs
  below its p50 of 34 µs was printed that way).

Histograms are mergeable (standard HdrHistogram encoding), which is how Locust workers report to the
master: ``drain()`` on a worker, ``merge()`` on the master.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
from hdrh.histogram import HdrHistogram

LOWEST_US, HIGHEST_US, DIGITS = 1, 60_000_000, 3  # 1 µs .. 60 s, 3 significant digits
KINDS = ("service", "latency", "before_send")
PERCENTILES = {"p50": 50.0, "p90": 90.0, "p99": 99.0, "p999": 99.9}


def new_histogram() -> HdrHistogram:
    return HdrHistogram(LOWEST_US, HIGHEST_US, DIGITS)


def clamp_us(value_us: float) -> int:
    return min(HIGHEST_US, max(LOWEST_US, int(value_us)))


# Values wait in a list and enter their histogram in batches, counted with numpy straight into hdrh's counts array:
# hdrh's record_value is pure Python (~2-5 us a value); recording a batch of 4,096 one distinct value at a time
# held the event loop 10-30 ms for the three histograms of an operation (every ~0.8 s at 5,000 operations/s: a
# schedule-lag p99 of several ms), vectorised it takes ~0.2 ms. Read through ``hist`` / ``lag``, which add what
# waits first.
BATCH = 4096


def record_many(hist: HdrHistogram, values: list[float] | np.ndarray) -> None:
    """Record µs ``values`` (clamped as ``clamp_us``) into ``hist``: the same counts, total, min and max as
    ``hist.record_value(clamp_us(v))`` for each (``_counts_index_for`` of hdrh/histogram.py, vectorised)."""
    if len(values) == 0:
        return
    v = np.clip(np.asarray(values, dtype=np.float64), LOWEST_US, HIGHEST_US).astype(np.int64)
    # bucket: the smallest power of 2 holding the value, as hdrh's _get_bucket_index (64 - clz(v | mask)); the
    # bit length of an int below 2**53 is frexp's exponent
    bits = np.frexp((v | hist.sub_bucket_mask).astype(np.float64))[1].astype(np.int64)
    bucket = bits - hist.unit_magnitude - (hist.sub_bucket_half_count_magnitude + 1)
    sub_bucket = v >> (bucket + hist.unit_magnitude)
    index = ((bucket + 1) << hist.sub_bucket_half_count_magnitude) + sub_bucket - hist.sub_bucket_half_count
    added = np.bincount(index)
    counts = np.ctypeslib.as_array(hist.counts)  # hdrh's own counters (what encode() and percentiles read)
    counts[:len(added)] += added.astype(counts.dtype)
    hist.total_count += len(v)
    hist.min_value = min(hist.min_value, int(v.min()))
    hist.max_value = max(hist.max_value, int(v.max()))


def stats(hist: HdrHistogram) -> dict[str, float]:
    """mean, p50, p90, p99, p999 and max in µs of a histogram (zeros when empty): hdrh's own ``get_mean_value``,
    ``get_value_at_percentile`` and ``get_max_value``, read from its counts array with numpy.

    Why not hdrh's: they walk the counts array in pure Python, one bucket at a time (the mean through its recorded
    iterator), and the live Redis Cluster tab asks for every operation's figures at each of the page's polls. Measured
    during a web-started test (9 HA pairs, 350 operations/s, py-spy): one poll held the event loop 290-750 ms, 90 % of
    it in ``get_mean_value``, and every HA pair's scheduler waited that long every two seconds (schedule lag max
    0.3-0.43 s per second, latency p99 0.41-0.43 s where the same load headless read 1.6-2.8 ms). Here about 0.3 ms a
    histogram (bench/histogram_stats.py); the same figures (a unit test compares them with hdrh's on random and edge
    values)."""
    total = hist.get_total_count()
    if total == 0:
        return {"count": 0, "mean": 0.0, **{k: 0 for k in PERCENTILES}, "max": 0}
    counts = np.ctypeslib.as_array(hist.counts)[:hist.counts_len].astype(np.int64)
    cumulative = np.cumsum(counts)
    half, half_mag, unit = hist.sub_bucket_half_count, hist.sub_bucket_half_count_magnitude, hist.unit_magnitude
    used = np.flatnonzero(counts)
    # each used index's lowest equivalent value and the size of its range (hdrh's get_value_from_index, vectorised)
    bucket = (used >> half_mag) - 1
    sub = (used & (half - 1)) + half
    first = bucket < 0
    sub[first] -= half
    bucket[first] = 0
    lowest = sub << (bucket + unit)
    size = np.left_shift(1, bucket + unit)
    # hdrh's mean: each recorded value at the middle of its range (exact integers, then one division)
    out: dict[str, float] = {"count": total,
                             "mean": round(int(np.dot(counts[used], lowest + (size >> 1))) / total, 1)}
    for name, pct in PERCENTILES.items():
        target = max(int(min(pct, 100.0) * total / 100 + 0.5), 1)  # hdrh's get_target_count_at_percentile
        at = int(np.searchsorted(cumulative, target))  # the first index whose running count reaches it
        i = int(np.searchsorted(used, at))
        out[name] = int(lowest[i] + size[i] - 1)  # its highest equivalent value, as hdrh returns for percentile > 0
    out["max"] = hist.get_max_value()
    return out


class Counts(Counter):
    """A Counter whose item assignment and deletion are dict's own. Counter's ``__delitem__`` (no KeyError for a
    missing key) is Python code, so CPython sent every ``counts[k] += 1`` through the Python-level item slot: 1,900
    CPU instructions an increment against 960 for a dict (valgrind), two per operation on the generator's hot path.
    Nothing here deletes a count."""

    __setitem__ = dict.__setitem__
    __delitem__ = dict.__delitem__


class Recorder:
    """Histograms and counters of one process. Not thread-safe; gevent greenlets are fine."""

    def __init__(self) -> None:
        self._hist: dict[tuple[str, str], HdrHistogram] = {}
        self._lag = new_histogram()  # how late the scheduler released due operations, µs
        # op -> its service and latency µs not yet recorded, one after the other (one list extended by a pair:
        # Recorder.record 83 -> 63 bytecodes an operation against three lists; before_send is computed when they
        # enter the histograms)
        self._waiting: dict[str, list[float]] = {}
        self._lag_waiting: list[float] = []
        self.ops: Counter[str] = Counts()  # successful operations by name, whole run (the per-second series)
        self.errors: Counter[str] = Counter()  # failed operations by error kind, whole run
        # The counting convention every surface shares (summary, text, Locust's tables and CSV): an operation
        # is counted in ``window`` (ok or failed, as Locust counts requests) when it was due in the statistics
        # window, else in ``warmup`` (pre-fill, warm-up), which no percentile includes.
        self.window: Counter[str] = Counts()
        self.warmup: Counter[str] = Counter()
        self.errors_by_op: Counter[str] = Counter()  # failed operations by operation name, statistics window
        self.commands = 0  # Redis commands acknowledged (for the server cross-check)
        self.offered = 0  # operations the schedule released in the steady window
        # every operation of the whole run is due (released by the schedule, a pre-fill create, a session to
        # restore), then either sent (ok: ``ops``, or failed: ``errors``) or never sent (``not_sent``: still queued
        # when its ORS node stopped): due = ok + errors + not_sent, counted apart so that a test can check it
        self.due = 0
        self.not_sent = 0
        self.cleaned = 0  # index entries the periodic cleaning removed (their body had expired)
        self.record_histograms = True  # False during warm-up / pre-fill
        self.lag_max_us = 0.0  # since the last per-second sample
        self.latency_max_us = 0.0  # largest operation latency since the last per-second sample

    @property
    def hist(self) -> dict[tuple[str, str], HdrHistogram]:
        """µs histograms per (operation, ``service`` | ``latency``), every value recorded so far in them."""
        for op in list(self._waiting):
            self._flush(op)
        return self._hist

    @property
    def lag(self) -> HdrHistogram:
        """How late the scheduler released due operations (statistics window), µs."""
        record_many(self._lag, self._lag_waiting)
        self._lag_waiting = []
        return self._lag

    def _flush(self, op: str) -> None:
        pairs = np.asarray(self._waiting.pop(op), dtype=np.float64).reshape(-1, 2)
        service, latency = pairs[:, 0], pairs[:, 1]
        record_many(self._h(op, "service"), service)
        record_many(self._h(op, "latency"), latency)
        record_many(self._h(op, "before_send"), latency - service)

    def _h(self, op: str, kind: str) -> HdrHistogram:
        h = self._hist.get((op, kind))
        if h is None:
            h = self._hist[(op, kind)] = new_histogram()
        return h

    def record(self, op: str, service_us: float, latency_us: float, commands: int) -> None:
        """A successful operation of the statistics window, with its latencies."""
        self.ops[op] += 1
        self.window[op] += 1
        self.commands += commands
        if latency_us > self.latency_max_us:
            self.latency_max_us = latency_us
        if self.record_histograms:
            waiting = self._waiting.get(op)
            if waiting is None:
                waiting = self._waiting[op] = []
            waiting += (service_us, latency_us)
            if len(waiting) >= 2 * BATCH:
                self._flush(op)

    def not_measured(self, op: str, commands: int = 0, steady: bool = False) -> None:
        """A successful operation without latencies: the pre-fill or warm-up (``steady`` False), or a run that
        persists nothing."""
        self.ops[op] += 1
        self.commands += commands
        (self.window if steady else self.warmup)[op] += 1

    def error(self, op: str, kind: str, commands_ok: int = 0, steady: bool = True) -> None:
        """A failed operation; ``steady`` False for one due before the statistics window (counted as warm-up)."""
        self.errors[kind] += 1
        self.commands += commands_ok
        if steady:
            self.window[op] += 1
            self.errors_by_op[op] += 1
        else:
            self.warmup[op] += 1

    def stuck(self, op: str, waited_us: float, steady: bool = True) -> None:
        """An operation still without a reply when its ORS node stopped (a silent node, no socket timeout): an
        error of kind ``stuck`` whose time so far is in the latency figures (a lower bound of its latency)."""
        self.error(op, "stuck", 0, steady)
        if waited_us > self.latency_max_us:
            self.latency_max_us = waited_us
        if steady and self.record_histograms:
            self._h(op, "latency").record_value(clamp_us(waited_us))

    def unsent(self, operations: int) -> None:
        """Operations due that no worker thread ever sent: queued when their ORS node stopped."""
        self.not_sent += operations

    def offer(self) -> None:
        """The schedule released an operation in the steady window."""
        self.offered += 1

    def count_commands(self, commands: int) -> None:
        """Redis commands acknowledged outside an operation (recovery scans, the read-back)."""
        self.commands += commands

    def cleaned_index(self, entries: int) -> None:
        """The periodic cleaning removed ``entries`` index entries whose body had expired."""
        self.cleaned += entries

    def schedule_lag(self, lag_s: float, steady: bool) -> None:
        """How late an operation was released (0 if on time); histogram only in the steady window."""
        lag_us = lag_s * 1e6
        if lag_us > self.lag_max_us:
            self.lag_max_us = lag_us
        if steady and self.record_histograms:
            self._lag_waiting.append(lag_us)
            if len(self._lag_waiting) >= BATCH:
                record_many(self._lag, self._lag_waiting)
                self._lag_waiting = []

    # -- distribution: worker → master
    def drain(self) -> dict[str, Any]:
        """Everything recorded since the last drain, encoded for Locust's worker report; resets."""
        payload = {
            "hist": {f"{op}|{kind}": h.encode() for (op, kind), h in self.hist.items() if h.get_total_count()},
            "lag": self.lag.encode() if self.lag.get_total_count() else None,
            "ops": dict(self.ops), "errors": dict(self.errors), "errors_by_op": dict(self.errors_by_op),
            "window": dict(self.window), "warmup": dict(self.warmup),
            "commands": self.commands, "lag_max_us": self.lag_max_us, "offered": self.offered,
            "due": self.due, "not_sent": self.not_sent,
            "latency_max_us": self.latency_max_us,
            "cleaned": self.cleaned,
        }
        keep = self.record_histograms
        self.__init__()  # type: ignore[misc]
        self.record_histograms = keep
        return payload

    def merge(self, payload: dict[str, Any]) -> None:
        """Add a worker's ``drain()`` payload to this recorder."""
        for key, encoded in payload.get("hist", {}).items():
            op, kind = key.split("|", 1)
            self._h(op, kind).decode_and_add(encoded)
        if payload.get("lag"):
            self.lag.decode_and_add(payload["lag"])
        self.ops.update(payload.get("ops", {}))
        self.errors.update(payload.get("errors", {}))
        self.errors_by_op.update(payload.get("errors_by_op", {}))
        self.window.update(payload.get("window", {}))
        self.warmup.update(payload.get("warmup", {}))
        self.commands += payload.get("commands", 0)
        self.offered += payload.get("offered", 0)
        self.due += payload.get("due", 0)
        self.not_sent += payload.get("not_sent", 0)
        self.cleaned += payload.get("cleaned", 0)
        self.lag_max_us = max(self.lag_max_us, payload.get("lag_max_us", 0.0))
        self.latency_max_us = max(self.latency_max_us, payload.get("latency_max_us", 0.0))

    def operations_summary(self) -> dict[str, dict[str, Any]]:
        """Per operation: ``count`` (statistics window, ok or failed: Locust's request count), ``errors`` (the
        failed ones among them), ``warmup`` (before the window, in no other figure) and the latencies."""
        names = sorted({op for op, _ in self.hist} | set(self.ops) | set(self.window) | set(self.warmup))
        return {op: {"count": self.window.get(op, 0), "errors": self.errors_by_op.get(op, 0),
                     "warmup": self.warmup.get(op, 0),
                     "service_us": stats(self._h(op, "service")), "latency_us": stats(self._h(op, "latency")),
                     "before_send_us": stats(self._h(op, "before_send"))}
                for op in names}
