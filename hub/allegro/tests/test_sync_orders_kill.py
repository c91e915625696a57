"""Exactly once under a real kill: `allegro-hub sync` SIGKILLed mid-pass, resumed.

Each pass runs in its own process against the emulator over HTTP, on a file
database (SQLite in a temporary data directory; PostgreSQL in a database of its
own when the suite runs on PostgreSQL). The test kills the process after the
emulator has seen a chosen number of its requests (plus a short random delay,
fixed seed), changes things on Allegro between passes (new orders, buyer edits,
payments, cancellations before and after payment, duplicated and reordered
events), and at the end compares the hub's orders, lines, allocations and
history with Allegro's checkout forms: every order once, none lost, each open
line allocated once, with its current quantity, at the channel's fulfilment
location, nothing allocated for a cancelled order.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from allegro_emulator import EmulatorConfig
from allegro_emulator.server import start_background
from hub.allegro.tests.fixtures import HubEmulator, make_emulator
from hub.allegro.tests.installation import HUB, fresh_installation, hub

CHANNEL = "Killed shop"
SKUS = ("MUG-1", "CUP-2", "PLATE-3")
ROUNDS = 8

SETUP = """
import json, os
from datetime import datetime
from hub.allegro.auth import store_tokens
from hub.allegro.models import Channel
from hub.catalog import stock
from hub.catalog.models import Location, StockItem
given = json.loads(os.environ["KILL_TEST"])
front = stock.default_location()
back = Location.objects.create(name="Back room")
for sku in given["skus"]:
    item = StockItem.objects.create(sku=sku, title=sku)
    stock.set_on_hand(item, front, 100)
    stock.set_on_hand(item, back, 50)
channel = Channel(
    name=given["name"], environment="custom", api_url=given["url"],
    auth_url=given["url"], client_id=given["client_id"],
    account_id=given["seller_id"], marketplace_id="allegro-pl",
    default_currency="PLN", fulfilment_location=back,
    sync_orders_from=datetime.fromisoformat(given["since"]),
)
channel.client_secret = given["client_secret"]
channel.save()
store_tokens(channel, given["tokens"])
"""

DUMP = """
import json
from hub.catalog.models import Allocation
from hub.orders.models import Order, OrderEvent, OrderLine
lines = {l.allocation_reference: l for l in OrderLine.objects.select_related("order")}
print(json.dumps({
    "orders": [
        [o.external_id, o.status, o.paid, o.location.name if o.location else None]
        for o in Order.objects.select_related("location")
    ],
    "lines": [[l.order.external_id, l.external_id, l.quantity, l.sku]
              for l in lines.values()],
    "allocations": [
        [lines[a.reference].order.external_id, lines[a.reference].external_id,
         a.item.sku, a.location.name, a.quantity]
        for a in Allocation.objects.select_related("item", "location")
    ],
    "imported": [
        e.order.external_id
        for e in OrderEvent.objects.filter(kind="IMPORTED").select_related("order")
    ],
}))
"""


def sync(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [HUB, "sync", CHANNEL, "--only", "orders", "--quiet"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def kill_after(
    emu: HubEmulator, process: subprocess.Popen[str], requests: int, delay: float
) -> bool:
    """SIGKILL once the emulator saw `requests` more requests (+ delay); True if
    the process was still running when killed."""
    target = len(emu.request_log) + requests
    deadline = time.monotonic() + 60
    while len(emu.request_log) < target and process.poll() is None:
        assert time.monotonic() < deadline, "the sync pass made no progress"
        time.sleep(0.002)
    time.sleep(delay)
    running = process.poll() is None
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    return running


@pytest.fixture(params=["sqlite", "postgresql"])
def hub_env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The environment of a fresh hub installation with its own file database."""
    with fresh_installation(request.param, tmp_path, "hub_kill") as env:
        yield env


def buy(emu: HubEmulator, offers: list[str], rng: random.Random, n: int) -> None:
    for _ in range(n):
        cf = emu.purchase(rng.choice(offers), quantity=rng.randint(1, 3))
        fate = rng.random()
        if fate < 0.5:
            emu.pay(cf)
        if fate < 0.15 or 0.85 < fate:  # cancelled after and before payment
            emu.cancel(cf)


def expected(emu: HubEmulator) -> dict[str, Any]:
    forms = [emu.checkout_form(cf_id) for cf_id in list(emu.checkout_forms)]
    return {
        "orders": sorted(
            [
                f["id"],
                "CANCELLED" if f["status"] == "CANCELLED" else "OPEN",
                "finishedAt" in f["payment"],
                "Back room",
            ]
            for f in forms
        ),
        "allocations": sorted(
            [
                f["id"],
                li["id"],
                li["offer"]["external"]["id"],
                "Back room",
                li["quantity"],
            ]
            for f in forms
            if f["status"] != "CANCELLED"
            for li in f["lineItems"]
        ),
        "imported": sorted(f["id"] for f in forms),
    }


def test_sync_killed_at_random_moments_imports_every_order_exactly_once(
    hub_env: dict[str, str],
) -> None:
    rng = random.Random(6)
    emu = make_emulator(EmulatorConfig(seed=6, rate_limit_per_minute=None))
    offers = [
        emu.add_offer(emu.seller_id, sku, external_id=sku, quantity=10_000)
        for sku in SKUS
    ]
    # Orders from before the first pass: the backfill's (boughtAt windows).
    now = emu.clock.now()
    for days_ago in range(20, 0, -1):
        emu.clock.set(now - timedelta(days=days_ago, hours=rng.randint(0, 23)))
        buy(emu, offers, rng, 3)
    emu.clock.set(now)
    # Each form read takes a little while: kills land between fetch and commit.
    emu.add_fault(r"^/order/checkout-forms", "slow", count=None, delay_seconds=0.01)
    base_url, stop = start_background(emu)
    try:
        assert hub(hub_env, "migrate", "--noinput").returncode == 0
        given = {
            "skus": SKUS,
            "name": CHANNEL,
            "url": base_url,
            "client_id": emu.client_id,
            "client_secret": emu.client_secret,
            "seller_id": emu.seller_id,
            "since": (now - timedelta(days=30)).isoformat(),
            "tokens": emu.issue_tokens(emu.client_id, emu.seller_id),
        }
        setup = hub({**hub_env, "KILL_TEST": json.dumps(given)}, "shell", "-c", SETUP)
        assert setup.returncode == 0, setup.stderr

        killed = 0
        for round_ in range(ROUNDS):
            # The first pass backfills (many requests); later ones read the
            # journal, then the forms it names through the list (one request
            # of up to 100) and the one the list does not show yet by id: at
            # least 3 requests.
            most = 40 if round_ == 0 else 3
            process = sync(hub_env)
            killed += kill_after(emu, process, rng.randint(1, most), rng.random() / 100)
            # Meanwhile on Allegro: new orders, payments, cancellations, and the
            # journal's duplicates and reordering.
            emu.clock.advance(minutes=5)
            buy(emu, offers, rng, 2)
            unpaid = [
                cf_id
                for cf_id in sorted(emu.checkout_forms)
                if emu.checkout_form(cf_id)["status"] in ("BOUGHT", "FILLED_IN")
            ]
            edited, paid = rng.sample(unpaid, 2)
            line = emu.checkout_form(edited)["lineItems"][0]["id"]
            emu.modify(edited, {line: rng.randint(1, 4)})  # BUYER_MODIFIED
            emu.pay(paid)
            emu.lag_list(paid, 60)  # the list lags: read by id next pass
            if round_ % 3 == 1:
                emu.inject_duplicate_events(2)
                emu.inject_out_of_order(2)
        assert killed >= ROUNDS - 2, f"only {killed} passes were killed mid-pass"

        for _ in range(2):  # the resume, then a pass with nothing to do
            done = hub(hub_env, "sync", CHANNEL, "--only", "orders", "--quiet")
            assert done.returncode == 0, done.stderr
        dump = hub(hub_env, "shell", "-c", DUMP)
        assert dump.returncode == 0, dump.stderr
    finally:
        stop()

    state = json.loads(dump.stdout.strip().splitlines()[-1])
    want = expected(emu)
    assert len(want["orders"]) == 60 + 2 * ROUNDS
    assert sorted(state["orders"]) == want["orders"]
    assert sorted(state["allocations"]) == want["allocations"]
    assert sorted(state["imported"]) == want["imported"]  # one history "imported" each
    assert len(state["lines"]) == len(want["orders"])  # one line per order, no extra
