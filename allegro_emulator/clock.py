"""The emulator's adjustable clock.

All emulated behaviour (token expiry, event retention, command processing,
archiving of ended offers) reads time from here, never from the system clock
directly, so tests can move time deterministically.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


def utcnow() -> datetime:
    return datetime.now(UTC)


class Clock:
    """Aware-UTC clock.

    ``realtime=False`` (default): time stands still until ``advance``/``set``.
    ``realtime=True``: time follows the system clock plus an adjustable offset
    (used by the HTTP server / demo so tokens and events age naturally).
    """

    def __init__(self, start: datetime | None = None, *, realtime: bool = False):
        self._lock = threading.Lock()
        self.realtime = realtime
        start = _aware(start) if start is not None else utcnow()
        self._frozen = start
        self._offset = start - utcnow()

    def now(self) -> datetime:
        with self._lock:
            if self.realtime:
                return utcnow() + self._offset
            return self._frozen

    def advance(
        self,
        seconds: float = 0,
        *,
        minutes: float = 0,
        hours: float = 0,
        days: float = 0,
    ) -> datetime:
        delta = timedelta(seconds=seconds, minutes=minutes, hours=hours, days=days)
        with self._lock:
            self._frozen += delta
            self._offset += delta
        return self.now()

    def set(self, dt: datetime) -> datetime:
        dt = _aware(dt)
        with self._lock:
            self._frozen = dt
            self._offset = dt - utcnow()
        return self.now()


def _aware(dt: datetime) -> datetime:
    if dt.tzinfo is None:
        raise ValueError("clock times must be timezone-aware (UTC)")
    return dt.astimezone(UTC)
