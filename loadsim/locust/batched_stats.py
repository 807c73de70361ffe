"""Locust's request statistics fed in batches: one update per operation name and interval, not one event per
operation.

Why: firing Locust's ``request`` event costs ~10-20 µs per operation here (the event hook, then
``RequestStats.log_request``: two ``StatsEntry.log`` calls, each bucketing the time), as much as the rest of
an operation's Python work. The engine calls ``ok()`` per successful operation (a list append) and
``flush()`` adds what waited to Locust's ``StatsEntry`` objects exactly as ``StatsEntry.log`` would have,
request by request: counts, per-second counts, total and min/max time, bucketed times (Locust's current
``bucket_response_time``, once per distinct µs value), content length, and the response-times cache the web
UI's current percentiles use. Failed operations still fire Locust's event one by one (they are few and carry
their exception).

So other listeners of Locust's ``request`` event do not see loadsim's successful operations; what they are
for (web UI, ``--csv``, ``--html``, master/worker reports) reads ``RequestStats``, which is complete after
every ``flush()``: every ``FLUSH_INTERVAL_S``. From Locust's ``test_stopping`` on (``direct``) each operation
goes in at once, as the event did: operations finishing while the users stop are in Locust's final statistics.
"""

from __future__ import annotations

import time
from typing import Any

import locust.stats as locust_stats
import numpy as np

REQUEST_TYPE = "redis"
FLUSH_INTERVAL_S = 1.0
# Bucketing each distinct time (loadsim.locust.resolution formats it with two significant digits) cost ~1 µs a
# value: 6.4 ms a flush of 5,000 operations (the loop held once a second at 5,000 operations/s: schedule lag for
# what was due then). Each µs value's bucket is kept once computed (times are rounded to the µs first; below
# 100 ms that is at most 100,000 values, and the memo is dropped past MEMO_MAX).
MEMO_MAX = 200_000


class BatchedStats:
    """Successful operations waiting to enter Locust's ``RequestStats`` of one Environment."""

    def __init__(self, environment: Any):
        self.environment = environment
        self.times: dict[str, list[float]] = {}  # operation name -> response times, ms
        self.lengths: dict[str, int] = {}
        self.direct = False  # the test is stopping: no batching
        self._bucket: Any = None  # the bucketing function the memo holds results of
        self._memo: dict[float, float] = {}  # time (ms, rounded to the µs) -> its bucket

    def ok(self, name: str, response_time_ms: float, length: int) -> None:
        times = self.times.get(name)
        if times is None:
            times = self.times[name] = []
            self.lengths[name] = 0
        times.append(response_time_ms)
        self.lengths[name] += length
        if self.direct:
            self.flush()

    def discard(self) -> None:
        """Forget what waits (Locust's statistics are being reset)."""
        self.times, self.lengths = {}, {}

    def flush(self) -> None:
        if not self.times:
            return
        stats = getattr(self.environment, "stats", None)
        batch, lengths = self.times, self.lengths
        self.discard()
        if stats is None:
            return
        now = time.time()
        bucket = locust_stats.bucket_response_time  # Locust's, or a replacement (resolution.install)
        if bucket is not self._bucket or len(self._memo) > MEMO_MAX:
            self._bucket, self._memo = bucket, {}
        memo = self._memo
        for name, times in batch.items():
            values = np.asarray(times)
            # distinct times at 1 µs, each bucketed by Locust's bucketing function once (then from the memo)
            distinct, counts = np.unique(np.round(values, 3), return_counts=True)
            buckets: dict[float, int] = {}
            for v, n in zip(distinct.tolist(), counts.tolist(), strict=True):
                b = memo.get(v)
                if b is None:
                    b = memo[v] = bucket(v)
                buckets[b] = buckets.get(b, 0) + n
            summary = (len(times), float(values.sum()), float(values.min()), float(values.max()), buckets,
                       lengths[name])
            for entry in (stats.get(name, REQUEST_TYPE), stats.total):
                log_many(entry, now, *summary)


def log_many(entry: Any, now: float, n: int, total: float, lowest: float, highest: float,
             buckets: dict[float, int], length: int) -> None:
    """What ``n`` calls of ``StatsEntry.log`` at time ``now`` would do (locust/stats.py)."""
    t = int(now)
    if entry.use_response_times_cache and entry.last_request_timestamp and t > int(entry.last_request_timestamp):
        entry._cache_response_times(t - 1)
    entry.num_requests += n
    entry.num_reqs_per_sec[t] += n
    entry.last_request_timestamp = now
    entry.total_response_time += total
    entry.min_response_time = lowest if entry.min_response_time is None else min(entry.min_response_time, lowest)
    entry.max_response_time = max(entry.max_response_time, highest)
    for b, count in buckets.items():
        entry.response_times[b] += count
    entry.total_content_length += length
