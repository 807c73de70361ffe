"""The client's failure handling without Redis: the slot-map reload rate limiter (fake clock) and the
two-tries rule on I/O errors (fake connections)."""

import pytest

from loadsim.config.persistence import PersistenceOptions
from loadsim.errors import RedisConnectionError, RedisTimeoutError
from loadsim.redis.client import SLOTS, ClusterClient, RefreshLimiter, WorkerConnections, slot_of


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_limiter_allows_one_reload_per_interval_and_counts_the_skips():
    clock = FakeClock()
    lim = RefreshLimiter(0.1, clock)
    assert lim.due() and lim.allow()  # the first failure reloads
    assert [lim.allow() for _ in range(50)] == [False] * 50  # a storm of failures within 100 ms: skipped
    assert lim.skipped == 50 and not lim.due()
    clock.now += 0.099
    assert not lim.allow() and lim.skipped == 51
    clock.now += 0.001
    assert lim.due() and lim.skipped == 51  # due() only looks
    assert lim.allow() and not lim.allow() and lim.skipped == 52


def test_limiter_bounds_reloads_by_time_not_by_failures():
    clock = FakeClock()
    lim = RefreshLimiter(0.1, clock)
    allowed = 0
    for _ in range(10_000):  # 10,000 failures over 2 s (one every 0.2 ms)
        allowed += lim.allow()
        clock.now += 0.0002
    assert 19 <= allowed <= 21 and allowed + lim.skipped == 10_000


def test_zero_interval_reloads_on_every_failure_like_redis_plus_plus():
    lim = RefreshLimiter(0.0, FakeClock())
    assert all(lim.allow() for _ in range(100)) and lim.skipped == 0


class FakeConn:
    def __init__(self, address, script):
        self.address, self.script = address, script

    def send(self, *commands):
        outcome = self.script.pop(0)
        if callable(outcome):
            outcome = outcome()
        if isinstance(outcome, BaseException):
            raise outcome
        self.reply = outcome

    def read(self):
        return self.reply

    def close(self):
        pass


class FakeCluster(ClusterClient):
    """A client whose map reload and connections are scripted: ``maps`` are the successive slot owners."""

    def __init__(self, maps, script, clock):
        self.maps, self.script, self.opened = list(maps), script, []
        super().__init__(PersistenceOptions(), min_refresh_interval_s=0.1, clock=clock)

    def connect(self, address):
        self.opened.append(address)
        return FakeConn(address, self.script)

    def refresh_slots(self):
        self.slots = [self.maps.pop(0) if len(self.maps) > 1 else self.maps[0]] * SLOTS
        self.stale = False
        self.refreshes += 1


A, B = ("10.0.0.1", 6379), ("10.0.0.2", 6379)


def test_an_io_error_reloads_the_map_and_tries_once_more():
    clock = FakeClock()
    client = FakeCluster([A, B], [ConnectionResetError(), b"OK"], clock)
    w = WorkerConnections(client)
    assert w.opened == 0  # lazy: nothing opened before the first command
    assert w.execute("k", "SET", "k", "v") == b"OK"
    assert client.refreshes == 2 and client.opened == [A, B] and w.commands_ok == 1 and w.commands_failed == 0


def test_failures_between_reloads_fail_fast_without_reloading():
    clock = FakeClock()
    client = FakeCluster([A], [TimeoutError()] * 2 + [ConnectionRefusedError()] * 20, clock)
    w = WorkerConnections(client)
    with pytest.raises(RedisTimeoutError):
        w.execute("k", "GET", "k")  # timeout, reload (same map), timeout again: two tries
    assert client.refreshes == 2 and w.reconnects == 1
    for _ in range(10):  # within the interval: one try each, no reload
        with pytest.raises(RedisConnectionError):
            w.execute("k", "GET", "k")
    assert client.refreshes == 2 and client.refreshes_skipped == 10 and w.commands_failed == 11
    assert client.stale  # the next command after the interval reloads first
    clock.now += 0.1
    with pytest.raises(RedisConnectionError):
        w.execute("k", "GET", "k")  # reloads before sending; its failure right after is rate-limited
    assert client.refreshes == 3 and client.refreshes_skipped == 11


def test_a_skipped_reload_still_retries_when_another_worker_moved_the_slot():
    clock = FakeClock()
    client = FakeCluster([A, B], [], clock)
    w = WorkerConnections(client)

    def reset_while_another_worker_reloads():
        client.limiter.allow()  # another worker's reload starts while this one waits on its socket ...
        client.refresh_slots()  # ... and finishes: the map now says B
        return ConnectionResetError()

    client.script += [reset_while_another_worker_reloads, b"v"]
    assert w.execute("k", "GET", "k") == b"v"  # its own reload is skipped, but the slot moved: tried on B
    assert client.refreshes_skipped == 1 and client.opened == [A, B] and w.commands_failed == 0


def test_slot_of_is_redis_pys_key_slot_with_and_without_hash_tags():
    """The routing shortcut (no "{": CRC16 of the whole key) gives redis-py's slot for every key shape the layouts
    write, hash tags (node-tag), empty and unclosed tags, str and bytes alike."""
    from redis.crc import key_slot

    keys = [f"ORS:c1:session:{n:03d}-{s:010d}" for n in (1, 3, 999) for s in (0, 7, 123456789)]
    keys += ["ORS:c1:{001}:session:001-0000000001", "ORS:c1", "a{}b", "{", "x{unclosed", "{a}{b}", "", "timers:1"]
    for key in keys:
        assert slot_of(key) == slot_of(key.encode()) == key_slot(key.encode()), key
    assert all(slot_of(f"k{i}") == key_slot(f"k{i}".encode()) < SLOTS for i in range(20_000))
