"""The per-Client-ID request budget: in-process and shared through Redis."""

from __future__ import annotations

import threading
import uuid

import pytest

from hub.allegro.client import client_for_channel
from hub.allegro.errors import TransientError
from hub.allegro.limiter import (
    WINDOW_SECONDS,
    FileLimiter,
    LocalLimiter,
    RedisLimiter,
    default_limiter,
)

REDIS_TEST_URL = "redis://127.0.0.1:6379/15"


class FakeClock:
    """Time that moves only when someone sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.lock = threading.Lock()
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        with self.lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.sleeps.append(seconds)
            self.now += seconds


def test_local_limiter_waits_for_the_oldest_request_to_leave_the_window():
    clock = FakeClock()
    limiter = LocalLimiter(3, clock=clock, sleep=clock.sleep)

    waits = [limiter.acquire("client-a") for _ in range(3)]
    clock.now += 10
    fourth = limiter.acquire("client-a")

    assert waits == [0.0, 0.0, 0.0]
    assert fourth == pytest.approx(50.0)
    assert clock.sleeps == [pytest.approx(50.0)]


def test_local_limiter_budgets_are_per_client_id():
    clock = FakeClock()
    limiter = LocalLimiter(1, clock=clock, sleep=clock.sleep)

    limiter.acquire("client-a")
    limiter.acquire("client-b")

    assert clock.sleeps == []


def test_local_limiter_never_admits_more_than_the_budget_in_any_minute():
    clock = FakeClock()
    limiter = LocalLimiter(50, clock=clock, sleep=clock.sleep)
    admitted: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(40):
            limiter.acquire("client-a")
            with lock:
                admitted.append(clock())

    threads = [threading.Thread(target=worker) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    admitted.sort()
    assert len(admitted) == 200
    for i, start in enumerate(admitted):
        in_window = [t for t in admitted[i:] if t < start + WINDOW_SECONDS]
        assert len(in_window) <= 50
    assert clock.now - 1000.0 >= 3 * WINDOW_SECONDS  # 200 requests need 4 windows


def test_client_goes_through_the_limiter(channel, emulator):
    clock = FakeClock()
    client = client_for_channel(
        channel,
        transport=emulator.transport,
        limiter=LocalLimiter(2, clock=clock, sleep=clock.sleep),
    )

    client.me()
    client.me()
    client.me()

    assert clock.sleeps == [pytest.approx(60.0)]
    assert emulator.count("GET", "/me") == 3


# ------------------------------------------------------------------ Redis


@pytest.fixture
def redis_client():
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_TEST_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.skip(f"no Redis at {REDIS_TEST_URL}")
    yield client
    client.close()


class Waited(Exception):
    pass


def refuse_to_sleep(seconds: float) -> None:
    raise Waited(seconds)


def test_redis_limiter_shares_one_budget_between_processes(redis_client):
    key = f"client-{uuid.uuid4().hex}"
    prefix = "allegro-hub-test:"
    worker_a = RedisLimiter(redis_client, 3, prefix=prefix, sleep=refuse_to_sleep)
    worker_b = RedisLimiter(redis_client, 3, prefix=prefix, sleep=refuse_to_sleep)

    assert [worker_a.acquire(key), worker_b.acquire(key), worker_a.acquire(key)] == [
        0.0,
        0.0,
        0.0,
    ]
    with pytest.raises(Waited) as waited:
        worker_b.acquire(key)

    assert 55 < waited.value.args[0] <= WINDOW_SECONDS
    assert 0 < redis_client.pttl(prefix + key) <= WINDOW_SECONDS * 1000
    assert redis_client.zcard(prefix + key) == 3
    redis_client.delete(prefix + key)


def test_redis_limiter_keys_are_per_client_id(redis_client):
    prefix = f"allegro-hub-test-{uuid.uuid4().hex}:"
    limiter = RedisLimiter(redis_client, 1, prefix=prefix, sleep=refuse_to_sleep)

    limiter.acquire("a")
    limiter.acquire("b")

    assert redis_client.zcard(prefix + "a") == redis_client.zcard(prefix + "b") == 1
    redis_client.delete(prefix + "a", prefix + "b")


def test_default_limiter_follows_redis_url(settings, redis_client):
    default_limiter.cache_clear()
    try:
        settings.REDIS_URL = ""
        local = default_limiter()
        default_limiter.cache_clear()
        settings.REDIS_URL = REDIS_TEST_URL
        shared = default_limiter()
    finally:
        default_limiter.cache_clear()

    assert isinstance(local, FileLimiter)  # shared by this machine's processes
    assert isinstance(shared, RedisLimiter)
    assert shared.per_minute == settings.ALLEGRO_REQUESTS_PER_MINUTE


def test_local_pause_holds_only_that_client_id():
    clock = FakeClock()
    limiter = LocalLimiter(100, clock=clock, sleep=clock.sleep)

    limiter.pause("client-a", 30)
    limiter.pause("client-a", 5)  # a shorter pause never cuts a longer one
    other = limiter.acquire("client-b")
    held = limiter.acquire("client-a")

    assert other == 0.0
    assert held == pytest.approx(30.0)


def test_429_pauses_every_request_of_the_client_id(channel, emulator):
    clock = FakeClock()
    limiter = LocalLimiter(100, clock=clock, sleep=clock.sleep)
    client = client_for_channel(
        channel,
        transport=emulator.transport,
        limiter=limiter,
        sleep=lambda s: None,
        jitter=lambda: 0.0,
    )
    emulator.add_fault("^/me$", "429")

    client.me()

    # The client's own sleep did nothing here; the shared limiter held the retry.
    assert clock.sleeps == [pytest.approx(60.0)]
    assert [r["status"] for r in emulator.requests] == [429, 200]


def test_redis_pause_is_shared(redis_client):
    prefix = f"allegro-hub-test-{uuid.uuid4().hex}:"
    worker_a = RedisLimiter(redis_client, 100, prefix=prefix, sleep=refuse_to_sleep)
    worker_b = RedisLimiter(redis_client, 100, prefix=prefix, sleep=refuse_to_sleep)

    worker_a.pause("client", 20)
    with pytest.raises(Waited) as waited:
        worker_b.acquire("client")

    assert 15 < waited.value.args[0] <= 20
    redis_client.delete(prefix + "client", prefix + "client:paused")


def test_unreachable_redis_is_a_transient_error():
    redis = pytest.importorskip("redis")
    limiter = RedisLimiter(
        redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2), 10
    )

    with pytest.raises(TransientError) as caught:
        limiter.acquire("client")

    assert "Redis" in str(caught.value)


def test_unreachable_redis_during_a_pause_is_only_logged(caplog):
    redis = pytest.importorskip("redis")
    limiter = RedisLimiter(
        redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2), 10
    )

    limiter.pause("client", 60)  # must not raise a redis error into the client

    assert "Could not share a 429 pause" in caplog.text


def test_redis_pause_never_cuts_a_longer_pause(redis_client):
    prefix = f"allegro-hub-test-{uuid.uuid4().hex}:"
    worker_a = RedisLimiter(redis_client, 100, prefix=prefix, sleep=refuse_to_sleep)
    worker_b = RedisLimiter(redis_client, 100, prefix=prefix, sleep=refuse_to_sleep)

    worker_a.pause("client", 30)
    worker_b.pause("client", 5)  # another worker's shorter pause
    with pytest.raises(Waited) as waited:
        worker_b.acquire("client")
    worker_b.pause("client", 45)  # a longer one does extend it

    assert 25 < waited.value.args[0] <= 30
    assert 40_000 < redis_client.pttl(prefix + "client:paused") <= 45_000
    redis_client.delete(prefix + "client", prefix + "client:paused")
