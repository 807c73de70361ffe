"""Batched recording gives the same statistics as recording one by one: Locust's request statistics
(loadsim.locust.batched_stats) and the µs HDR histograms (loadsim.results.recorder)."""

import random

from hdrh.histogram import HdrHistogram
from locust.env import Environment
from locust.event import Events

from loadsim.locust.batched_stats import BatchedStats
from loadsim.results.recorder import BATCH, HIGHEST_US, Recorder, clamp_us, new_histogram, record_many


def _times(n, seed=1):
    rng = random.Random(seed)
    return [rng.lognormvariate(-0.7, 0.8) for _ in range(n)]  # ms: 0.05 .. 10, as Redis operations take


def test_batched_locust_statistics_equal_one_request_event_per_operation():
    env = Environment(events=Events())
    env.create_local_runner()
    batched = BatchedStats(env)
    times = _times(5000)
    for i, t in enumerate(times):
        batched.ok("session.update", t, 1000 + i % 7)
        env.events.request.fire(request_type="redis", name="by-event", response_time=t, response_length=1000 + i % 7,
                                exception=None, context={})
        if i % 1000 == 999:
            batched.flush()  # several flushes, as the scheduler does every second
    batched.flush()
    a, b = env.stats.get("session.update", "redis"), env.stats.get("by-event", "redis")
    assert a.num_requests == b.num_requests == 5000
    assert a.total_content_length == b.total_content_length
    assert a.min_response_time == b.min_response_time and a.max_response_time == b.max_response_time
    assert abs(a.total_response_time - b.total_response_time) < 1e-6
    assert sum(a.num_reqs_per_sec.values()) == 5000
    for pct in (0.5, 0.9, 0.99):
        assert a.get_response_time_percentile(pct) == b.get_response_time_percentile(pct)
    assert env.stats.total.num_requests == 10000  # the total entry gets both
    assert not batched.times  # nothing left waiting


def test_after_test_stopping_each_operation_goes_in_at_once():
    env = Environment(events=Events())
    env.create_local_runner()
    batched = BatchedStats(env)
    batched.ok("session.create", 0.4, 10)
    assert env.stats.get("session.create", "redis").num_requests == 0  # waits for the next flush
    batched.direct = True
    batched.ok("session.create", 0.5, 10)
    assert env.stats.get("session.create", "redis").num_requests == 2


def test_recorder_histograms_in_batches_equal_recording_each_value():
    rec = Recorder()
    plain = {k: new_histogram() for k in ("service", "latency", "lag")}
    for t in _times(3 * BATCH + 17):  # several full batches and a partial one
        us = t * 1000
        rec.record("session.update", us / 2, us, 2)
        rec.schedule_lag(us / 1e7, steady=True)
        plain["service"].record_value(clamp_us(us / 2))
        plain["latency"].record_value(clamp_us(us))
        plain["lag"].record_value(clamp_us(us / 1e7 * 1e6))
    got: dict[str, HdrHistogram] = {"service": rec.hist[("session.update", "service")],
                                    "latency": rec.hist[("session.update", "latency")], "lag": rec.lag}
    for kind, h in plain.items():
        assert got[kind].get_total_count() == h.get_total_count() == 3 * BATCH + 17
        for pct in (0, 50, 99, 99.9, 100):
            assert got[kind].get_value_at_percentile(pct) == h.get_value_at_percentile(pct), (kind, pct)
    payload = rec.drain()  # what a Locust worker sends holds every value too
    merged = Recorder()
    merged.merge(payload)
    assert merged.hist[("session.update", "latency")].get_total_count() == 3 * BATCH + 17


def test_record_many_counts_exactly_as_hdrh_records_each_value():
    """The vectorised recording fills hdrh's own counters: every bucket, the total, min and max equal one
    ``record_value`` per value, over the whole range (clamped below 1 µs and above 60 s, bucket edges)."""
    rng = random.Random(3)
    values = [rng.lognormvariate(5, 3) for _ in range(20_000)]
    values += [-5, 0, 0.5, 1, 2047, 2048, 2049, 4095, 4096, 4097, HIGHEST_US - 1, HIGHEST_US, HIGHEST_US + 10, 1e12]
    one_by_one, batched = new_histogram(), new_histogram()
    for v in values:
        one_by_one.record_value(clamp_us(v))
    for start in range(0, len(values), BATCH):
        record_many(batched, values[start:start + BATCH])
    assert list(batched.counts) == list(one_by_one.counts)
    assert (batched.total_count, batched.min_value, batched.max_value) == \
        (one_by_one.total_count, one_by_one.min_value, one_by_one.max_value) == (len(values), 1, HIGHEST_US)
    assert batched.encode() == one_by_one.encode()  # what a Locust worker sends its master


def test_bucketing_is_remembered_per_function_and_follows_a_replacement(monkeypatch):
    """Each µs value is bucketed once (the memo), and a bucketing function replaced between flushes is used from
    the next flush on (Locust documents replacing it)."""
    import locust.stats as locust_stats

    calls = []

    def tens(v):
        calls.append(v)
        return float(round(v, -1))

    monkeypatch.setattr(locust_stats, "bucket_response_time", tens)
    env = Environment(events=Events())
    env.create_local_runner()
    batched = BatchedStats(env)
    for _ in range(2):
        for t in (12.0, 12.0, 47.0):
            batched.ok("session.update", t, 1)
        batched.flush()
    assert sorted(calls) == [12.0, 47.0]  # once per distinct value, the second flush from the memo
    assert dict(env.stats.get("session.update", "redis").response_times) == {10.0: 4, 50.0: 2}
    monkeypatch.setattr(locust_stats, "bucket_response_time", lambda v: float(round(v)))
    batched.ok("session.update", 12.0, 1)
    batched.flush()
    assert dict(env.stats.get("session.update", "redis").response_times) == {10.0: 4, 50.0: 2, 12.0: 1}
