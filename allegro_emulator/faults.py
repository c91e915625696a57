"""Fault injection and rate limiting (api-notes §9)."""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

FAULT_KINDS = ("500", "502", "503", "504", "429", "timeout", "slow")


@dataclass
class Fault:
    id: int
    path_regex: str
    kind: str
    count: int | None = 1  # None = every matching request until removed
    method: str | None = None
    delay_seconds: float = 0.0  # "slow": sleep then answer; "timeout": server hold
    skip: int = 0  # let this many matching requests through first
    hits: int = 0
    _compiled: re.Pattern[str] | None = field(default=None, repr=False, compare=False)

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method.upper():
            return False
        if self._compiled is None:
            self._compiled = re.compile(self.path_regex)
        return self._compiled.search(path) is not None

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "path_regex": self.path_regex,
            "kind": self.kind,
            "count": self.count,
            "method": self.method,
            "delay_seconds": self.delay_seconds,
            "skip": self.skip,
            "hits": self.hits,
        }


def take_fault(faults: list[Fault], method: str, path: str) -> Fault | None:
    """Return the first armed fault matching the request, consuming one use."""
    for fault in faults:
        if not fault.matches(method, path):
            continue
        if fault.skip > 0:
            fault.skip -= 1
            continue
        fault.hits += 1
        if fault.count is not None:
            fault.count -= 1
            if fault.count <= 0:
                faults.remove(fault)
        return fault
    return None


@dataclass
class TimeoutFault:
    """Returned by ``Emulator.dispatch`` instead of a response for "timeout"."""

    delay_seconds: float


class SlidingWindow:
    """Counts events in the trailing ``window`` of emulated time."""

    def __init__(self, window: timedelta):
        self.window = window
        self.events: deque[datetime] = deque()
        self.blocked_until: datetime | None = None

    def hit(self, now: datetime) -> int:
        while self.events and self.events[0] <= now - self.window:
            self.events.popleft()
        self.events.append(now)
        return len(self.events)


class RateLimiter:
    """Global limit per client id: N requests/min, then 429 for a block period."""

    def __init__(self) -> None:
        self.per_client: dict[str, SlidingWindow] = {}
        self.per_second: dict[str, SlidingWindow] = {}

    def check_global(
        self, client_id: str, now: datetime, limit: int, block_seconds: int
    ) -> bool:
        """True when the request may proceed."""
        win = self.per_client.setdefault(client_id, SlidingWindow(timedelta(minutes=1)))
        if win.blocked_until is not None:
            if now < win.blocked_until:
                return False
            win.blocked_until = None
            win.events.clear()
        if win.hit(now) > limit:
            # api-notes §9: the Client ID is blocked for one minute.
            win.blocked_until = now + timedelta(seconds=block_seconds)
            return False
        return True

    def check_per_second(self, key: str, now: datetime, limit: int) -> bool:
        win = self.per_second.setdefault(key, SlidingWindow(timedelta(seconds=1)))
        return win.hit(now) <= limit

    def reset(self) -> None:
        self.per_client.clear()
        self.per_second.clear()
