"""Helpers for tests that run the hub as real processes (hub/jobs/tests).

- ``hub_env``: the environment of a fresh install with its own file database:
  SQLite in a temporary data directory, or (when the suite runs on PostgreSQL)
  a PostgreSQL database of its own, dropped afterwards.
- ``add_channels``: connected channels of emulator sellers, made by a process.
- ``orders``/``imported``: what the hub holds, read by a process.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest

from hub.allegro.tests.fixtures import HubEmulator
from hub.allegro.tests.installation import ADD_CHANNELS, HUB, fresh_installation, hub

REDIS_TEST_URL = os.environ.get("HUB_TEST_REDIS_URL", "redis://127.0.0.1:6379/1")

IMPORTED = """
import json
from hub.orders.models import Order, OrderEvent
print(json.dumps({
    "orders": sorted(Order.objects.values_list("external_id", flat=True)),
    "imported": sorted(
        OrderEvent.objects.filter(kind="IMPORTED").values_list(
            "order__external_id", flat=True
        )
    ),
}))
"""


def start(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [HUB, *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def stop(process: subprocess.Popen[str], timeout: float = 30) -> str:
    """SIGTERM, wait, and return what it wrote to stderr."""
    if process.poll() is None:
        process.terminate()
    try:
        _out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        _out, err = process.communicate()
    return err or ""


@pytest.fixture(params=["sqlite", "postgresql"])
def hub_env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    """A fresh installation's environment, migrated, without Redis."""
    with fresh_installation(request.param, tmp_path, "hub_jobs") as env:
        migrated = hub(env, "migrate", "--noinput")
        assert migrated.returncode == 0, migrated.stderr
        yield env


def add_channels(
    env: dict[str, str],
    emu: HubEmulator,
    url: str,
    count: int,
    since: datetime | None = None,
) -> list[str]:
    """``count`` connected channels "Shop 0"… with a seller each (and *Sync
    Orders From* ``since``); returns the seller ids."""
    sellers = [emu.add_seller(f"seller-{n}") for n in range(count)]
    given = {
        "url": url,
        "since": since.isoformat() if since else "",
        "client_id": emu.client_id,
        "client_secret": emu.client_secret,
        "channels": [
            {
                "name": f"Shop {n}",
                "seller_id": seller,
                "tokens": emu.issue_tokens(emu.client_id, seller),
            }
            for n, seller in enumerate(sellers)
        ],
    }
    done = hub(env, "shell", "-c", ADD_CHANNELS, HUB_TEST_GIVEN=json.dumps(given))
    assert done.returncode == 0, done.stderr
    return sellers


def imported(env: dict[str, str]) -> dict[str, list[str]]:
    done = hub(env, "shell", "-c", IMPORTED)
    assert done.returncode == 0, done.stderr
    result: dict[str, list[str]] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out: {what}"
        time.sleep(0.3)
