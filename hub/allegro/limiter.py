"""Client-side request budget per Client ID, so the hub never earns Allegro's block.

Allegro allows 9 000 requests per minute per Client ID; exceeding it blocks the
Client ID for a whole minute (api-notes §9). Every channel sharing a Client ID
(the install-wide one, typically) shares one budget of
``settings.ALLEGRO_REQUESTS_PER_MINUTE`` (default 7 200, a safe share of 9 000).

Both limiters keep a sliding log of the last minute's requests rather than a
fixed per-minute counter: a fixed window lets a full budget through at the end
of one minute and another at the start of the next, which is up to twice the
budget inside one rolling minute and could cross 9 000.

- ``LocalLimiter``: in-process, thread-safe (the embedded runner, one process).
- ``RedisLimiter``: shared by every process through Redis (Celery workers), when
  ``settings.REDIS_URL`` is set. One Lua script per request, atomic in Redis.
- ``FileLimiter``: shared by every process of this machine using the same data
  directory, without Redis (`allegro-hub run` next to a cron `allegro-hub sync`,
  or several workers on one machine): each request reserves the next free slot,
  ``60 / budget`` seconds after the previous one, under a lock file. Evenly
  spaced requests never exceed the budget in any rolling minute. This is the
  default without Redis.

If Allegro answers 429 anyway (another application or install sharing the
Client ID), ``pause(key, seconds)`` holds every request for that Client ID
until the block is over, instead of each worker discovering it on its own.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings

from hub.allegro.errors import TransientError

log = logging.getLogger(__name__)

WINDOW_SECONDS = 60.0


class Limiter(Protocol):
    def acquire(self, key: str) -> float:
        """Block until one more request for ``key`` fits; return seconds waited."""
        ...

    def pause(self, key: str, seconds: float) -> None:
        """Hold all requests for ``key`` for ``seconds`` (Allegro said 429)."""
        ...


class LocalLimiter:
    """Sliding one-minute log per key, in this process only."""

    def __init__(
        self,
        per_minute: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self.per_minute = per_minute
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._log: dict[str, deque[float]] = {}
        self._paused_until: dict[str, float] = {}

    def pause(self, key: str, seconds: float) -> None:
        with self._lock:
            until = self._clock() + seconds
            self._paused_until[key] = max(self._paused_until.get(key, 0.0), until)

    def _try(self, key: str) -> float:
        """Record a request and return 0, or return how long to wait."""
        with self._lock:
            now = self._clock()
            paused = self._paused_until.get(key, 0.0) - now
            if paused > 0:
                return paused
            stamps = self._log.setdefault(key, deque())
            while stamps and stamps[0] <= now - WINDOW_SECONDS:
                stamps.popleft()
            if len(stamps) < self.per_minute:
                stamps.append(now)
                return 0.0
            return max(stamps[0] + WINDOW_SECONDS - now, 0.001)

    def acquire(self, key: str) -> float:
        waited = 0.0
        while (wait := self._try(key)) > 0:
            log.info("Request budget for a Client ID used up; waiting %.1f s", wait)
            self._sleep(wait)
            waited += wait
        return waited


# KEYS[1] = the key's sorted set, KEYS[2] = its pause flag;
# ARGV = budget, window (ms), unique member. Uses Redis' own clock so every
# process agrees on "now".
_SLIDING_LOG = """
local paused = redis.call('PTTL', KEYS[2])
if paused > 0 then
  return paused
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(tonumber(oldest[2]) + window - now, 1)
"""

# KEYS[1] = the key's pause flag; ARGV[1] = the pause (ms). A shorter pause
# never cuts a longer one already set (PTTL is -2 when there is none).
_PAUSE = """
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], 1, 'PX', ARGV[1])
end
return 0
"""


class RedisLimiter:
    """The same sliding log, kept in Redis so all processes share one budget."""

    def __init__(
        self,
        redis_client: Any,
        per_minute: int,
        *,
        prefix: str = "allegro-hub:limit:",
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self.per_minute = per_minute
        self._prefix = prefix
        self._sleep = sleep
        self._script = redis_client.register_script(_SLIDING_LOG)
        self._pause = redis_client.register_script(_PAUSE)

    def _try(self, key: str) -> float:
        import redis

        try:
            wait_ms = self._script(
                keys=[self._prefix + key, self._prefix + key + ":paused"],
                args=[self.per_minute, int(WINDOW_SECONDS * 1000), uuid.uuid4().hex],
            )
        except redis.RedisError as exc:
            # Without the shared budget we could overrun it: wait, don't guess.
            raise TransientError(
                f"request budget store (Redis) unavailable: {type(exc).__name__}"
            ) from None
        return int(wait_ms) / 1000

    def pause(self, key: str, seconds: float) -> None:
        import redis

        milliseconds = max(int(seconds * 1000), 1)
        try:
            self._pause(keys=[self._prefix + key + ":paused"], args=[milliseconds])
        except redis.RedisError as exc:
            # Best effort: the caller still waits (or gives up) on its own, and
            # the next acquire() reports Redis being down as a TransientError.
            log.warning("Could not share a 429 pause through Redis: %s", exc)

    def acquire(self, key: str) -> float:
        waited = 0.0
        while (wait := self._try(key)) > 0:
            log.info(
                "Shared request budget for a Client ID used up; waiting %.1f s", wait
            )
            self._sleep(wait)
            waited += wait
        return waited


class FileLimiter:
    """Evenly spaced slots per key, reserved under a lock file in ``directory``.

    The file of a key holds two wall-clock times: the next free slot and the
    end of a 429 pause. Wall clock, because other processes read them too.
    """

    def __init__(
        self,
        directory: Path,
        per_minute: int,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self.per_minute = per_minute
        self.spacing = WINDOW_SECONDS / per_minute
        self._directory = directory
        self._clock = clock
        self._sleep = sleep
        directory.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        # The Client ID is not secret, but a hash keeps the name file-safe.
        return self._directory / (hashlib.sha256(key.encode()).hexdigest()[:24])

    def _update(
        self, key: str, change: Callable[[float, float, float], tuple[float, float]]
    ) -> tuple[float, float]:
        """Under the key's lock: (next slot, paused until) → change(…, now)."""
        with open(self._path(key), "a+") as file:
            fcntl.flock(file, fcntl.LOCK_EX)
            try:
                file.seek(0)
                parts = file.read().split()
                try:
                    next_slot, paused_until = float(parts[0]), float(parts[1])
                except (IndexError, ValueError):  # new or damaged: start afresh
                    next_slot = paused_until = 0.0
                now = self._clock()
                stored = change(next_slot, paused_until, now)
                file.seek(0)
                file.truncate()
                file.write(f"{stored[0]!r} {stored[1]!r}\n")
                file.flush()
                return stored
            finally:
                fcntl.flock(file, fcntl.LOCK_UN)

    def acquire(self, key: str) -> float:
        slot = 0.0

        def reserve(
            next_slot: float, paused_until: float, now: float
        ) -> tuple[float, float]:
            nonlocal slot
            slot = max(now, next_slot, paused_until)
            return slot + self.spacing, paused_until

        self._update(key, reserve)
        wait = slot - self._clock()
        if wait > 0:
            if wait > 1:
                log.info("Request budget for a Client ID used up; waiting %.1f s", wait)
            self._sleep(wait)
            return wait
        return 0.0

    def pause(self, key: str, seconds: float) -> None:
        def hold(
            next_slot: float, paused_until: float, now: float
        ) -> tuple[float, float]:
            return next_slot, max(paused_until, now + seconds)

        self._update(key, hold)


@lru_cache(maxsize=1)
def default_limiter() -> Limiter:
    """The process-wide limiter: Redis-backed when REDIS_URL is set, else one
    lock file per Client ID in the data directory, shared by this machine."""
    per_minute = settings.ALLEGRO_REQUESTS_PER_MINUTE
    if settings.REDIS_URL:
        import redis

        return RedisLimiter(redis.Redis.from_url(settings.REDIS_URL), per_minute)
    return FileLimiter(Path(settings.DATA_DIR) / "request-budget", per_minute)
