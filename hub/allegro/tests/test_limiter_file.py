"""FileLimiter: one request budget for every process of the machine, without
Redis (the processes themselves: hub/jobs/tests/test_distributed.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.allegro.limiter import FileLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.now += seconds


def test_requests_are_spaced_evenly_across_limiters_sharing_a_directory(
    tmp_path: Path,
):
    clock = Clock()
    one = FileLimiter(tmp_path, 600, clock=clock, sleep=clock.sleep)
    two = FileLimiter(
        tmp_path, 600, clock=clock, sleep=clock.sleep
    )  # "another process"

    waits = [limiter.acquire("client-a") for limiter in (one, two, one, two)]

    assert waits == pytest.approx([0, 0.1, 0.1, 0.1])
    assert two.acquire("client-b") == 0  # another Client ID: its own budget


def test_at_most_the_budget_in_any_minute(tmp_path: Path):
    clock = Clock()
    limiter = FileLimiter(tmp_path, 60, clock=clock, sleep=clock.sleep)
    stamps = []
    for _ in range(150):
        limiter.acquire("client")
        stamps.append(clock.now)

    for n, at in enumerate(stamps):
        assert len([t for t in stamps[n:] if t < at + 60]) <= 60


def test_a_429_pause_holds_every_process(tmp_path: Path):
    clock = Clock()
    one = FileLimiter(tmp_path, 600, clock=clock, sleep=clock.sleep)
    two = FileLimiter(tmp_path, 600, clock=clock, sleep=clock.sleep)

    one.pause("client", 30)
    one.pause("client", 5)  # a shorter pause never cuts the longer one

    assert two.acquire("client") == pytest.approx(30)


def test_a_damaged_file_starts_afresh(tmp_path: Path):
    clock = Clock()
    limiter = FileLimiter(tmp_path, 600, clock=clock, sleep=clock.sleep)
    limiter.acquire("client")
    for path in tmp_path.iterdir():
        path.write_text("garbage")

    assert limiter.acquire("client") == 0
