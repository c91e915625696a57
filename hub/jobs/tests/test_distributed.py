"""The distributed runner as real processes: Celery workers and beat over Redis,
several channels against the emulator over HTTP; and the request budget shared
by processes without Redis."""

from __future__ import annotations

import random
import signal
import subprocess
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import redis

from allegro_emulator import EmulatorConfig
from allegro_emulator.server import start_background
from hub.allegro.tests.fixtures import HubEmulator, make_emulator
from hub.jobs.tests.processes import (
    HUB,
    REDIS_TEST_URL,
    add_channels,
    hub,
    imported,
    start,
    stop,
    wait_for,
)

BUDGET = 240  # the hub's requests per minute per Client ID in these tests


@pytest.fixture
def redis_url() -> Iterator[str]:
    client = redis.Redis.from_url(REDIS_TEST_URL)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip(f"no Redis at {REDIS_TEST_URL}")
    client.flushdb()
    yield REDIS_TEST_URL
    client.flushdb()


def celery_env(env: dict[str, str], redis_url: str, **extra: str) -> dict[str, str]:
    return {
        **env,
        "REDIS_URL": redis_url,
        "HUB_CELERY_QUEUE": f"test-{uuid.uuid4().hex[:8]}",
        "HUB_SYNC_INTERVALS": "orders=1",
        "HUB_DISPATCH_SECONDS": "1",
        "ALLEGRO_REQUESTS_PER_MINUTE": str(BUDGET),
        **extra,
    }


def busiest_minute(emu: HubEmulator) -> int:
    """The most API requests (tokens excluded) in any rolling minute."""
    times = sorted(
        datetime.fromisoformat(r["time"])
        for r in emu.request_log
        if not r["path"].startswith("/auth/")
    )
    most, first = 0, 0
    for last, at in enumerate(times):
        while times[first] <= at - timedelta(minutes=1):
            first += 1
        most = max(most, last - first + 1)
    return most


def requests_to(emu: HubEmulator, prefix: str) -> int:
    return sum(r["path"].startswith(prefix) for r in emu.request_log)


def served(emu: HubEmulator, status: int) -> list[dict[str, Any]]:
    return [r for r in emu.request_log if r["status"] == status]


def test_two_workers_and_beat_import_every_order_exactly_once_within_budget(
    hub_env: dict[str, str], redis_url: str
) -> None:
    rng = random.Random(10)
    # Allegro's own limit, a little above the hub's share: any overrun is a 429.
    emu = make_emulator(
        EmulatorConfig(seed=10, realtime_clock=True, rate_limit_per_minute=BUDGET + 20)
    )
    emu.add_fault(r"^/order/", "slow", count=None, delay_seconds=0.02)
    base_url, stop_emulator = start_background(emu)
    env = celery_env(hub_env, redis_url)
    processes = []
    try:
        sellers = add_channels(env, emu, base_url, 6)
        offers = [
            emu.add_offer(s, f"Mug {n}", quantity=1000) for n, s in enumerate(sellers)
        ]
        processes = [
            start(env, "beat"),
            start(env, "worker", "--concurrency", "2"),
            start(env, "worker", "--concurrency", "2"),
        ]
        # Every channel's first pass starts its journal.
        wait_for(
            lambda: requests_to(emu, "/order/event-stats") >= 6,
            180,  # the processes' start-up, on a busy machine
            "first passes",
        )
        forms = []
        for _ in range(30):
            forms.append(emu.purchase(rng.choice(offers), quantity=rng.randint(1, 3)))
            if rng.random() < 0.3:
                emu.pay(forms[-1])
        wait_for(lambda: imported(env)["orders"] == sorted(forms), 120, "all orders")
    finally:
        logs = [stop(process) for process in processes]
        stop_emulator()

    state = imported(env)
    assert state["orders"] == sorted(forms)
    assert state["imported"] == sorted(forms)  # one "imported" each, never two
    assert served(emu, 429) == []
    assert busiest_minute(emu) <= BUDGET
    assert all("Traceback" not in log for log in logs), logs
    runs = hub(env, "shell", "-c", WORKERS)
    assert runs.returncode == 0, runs.stderr
    assert runs.stdout.strip().splitlines()[-1] == "2"  # both workers ran flows


WORKERS = """
from hub.jobs.models import FlowRun
print(len({w.split(":")[1] for w in FlowRun.objects.values_list("worker", flat=True)}))
"""


def test_a_worker_killed_mid_run_loses_its_lease_and_another_finishes(
    hub_env: dict[str, str], redis_url: str
) -> None:
    emu = make_emulator(EmulatorConfig(seed=11, rate_limit_per_minute=None))
    base_url, stop_emulator = start_background(emu)
    env = celery_env(hub_env, redis_url, HUB_LEASE_SECONDS="5")
    processes = []
    try:
        now = emu.clock.now()
        [seller] = add_channels(env, emu, base_url, 1, since=now - timedelta(days=30))
        offer = emu.add_offer(seller, "Mug", quantity=10_000)
        forms = []
        for days_ago in range(20, 0, -1):  # a backfill of 80 orders, read slowly
            emu.clock.set(now - timedelta(days=days_ago))
            forms += [emu.purchase(offer) for _ in range(4)]
        emu.clock.set(now)
        emu.add_fault(r"^/order/checkout-forms", "slow", count=None, delay_seconds=0.3)
        processes = [start(env, "beat"), start(env, "worker", "--concurrency", "1")]
        wait_for(
            lambda: (
                sum(
                    r["path"].startswith("/order/checkout-forms")
                    for r in emu.request_log
                )
                >= 3
            ),
            180,
            "the backfill to start",
        )
        processes[1].send_signal(signal.SIGKILL)  # mid-run, holding the lease
        processes[1].wait(timeout=10)
        processes.append(start(env, "worker", "--concurrency", "1"))
        wait_for(lambda: imported(env)["orders"] == sorted(forms), 120, "all orders")
    finally:
        for process in processes:
            stop(process)
        stop_emulator()

    state = imported(env)
    assert state["orders"] == sorted(forms)
    assert state["imported"] == sorted(forms)
    runs = hub(env, "shell", "-c", RUNS)
    assert runs.returncode == 0, runs.stderr
    outcomes = runs.stdout.strip().splitlines()[-1].split()
    assert outcomes[0] == "lost"  # the killed worker's run, marked by the next one
    assert "ok" in outcomes[1:]


RUNS = """
from hub.jobs.models import FlowRun
runs = FlowRun.objects.filter(flow="orders").order_by("started_at")
print(" ".join(runs.values_list("outcome", flat=True)))
"""


SPEND = """
import os
from hub.allegro.client import client_for_channel
from hub.allegro.models import Channel
with client_for_channel(Channel.objects.get(name=os.environ["CHANNEL"])) as client:
    for _ in range(int(os.environ["REQUESTS"])):
        client.me()
"""


def test_two_processes_without_redis_share_one_budget(hub_env: dict[str, str]) -> None:
    # 600 a minute is one request every 0.1 s for the Client ID, whichever
    # process sends it: 2 × 20 requests take at least 3.9 s together, where
    # each process alone, on a budget of its own, would finish in 1.9 s.
    emu = make_emulator(EmulatorConfig(realtime_clock=True, rate_limit_per_minute=None))
    base_url, stop_emulator = start_background(emu)
    env = {**hub_env, "ALLEGRO_REQUESTS_PER_MINUTE": "600", "REQUESTS": "20"}
    try:
        add_channels(env, emu, base_url, 2)
        emu.request_log.clear()
        spenders = [
            subprocess.Popen(
                [HUB, "shell", "-c", SPEND],
                env={**env, "CHANNEL": f"Shop {n}"},
                stderr=subprocess.PIPE,
                text=True,
            )
            for n in range(2)
        ]
        for spender in spenders:
            _out, err = spender.communicate(timeout=60)
            assert spender.returncode == 0, err
    finally:
        stop_emulator()

    times = sorted(
        datetime.fromisoformat(r["time"]) for r in emu.request_log if r["path"] == "/me"
    )
    assert len(times) == 40
    span = (times[-1] - times[0]).total_seconds()
    assert span >= 39 * 0.1 * 0.95
    # Evenly spread: no two-second stretch with more than its share (20), give
    # or take the jitter of two processes' scheduling.
    for n, at in enumerate(times):
        within = [t for t in times[n:] if (t - at).total_seconds() < 2]
        assert len(within) <= 22
