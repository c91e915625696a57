"""The README's screenshot of the dashboard, made from the demo's own data.

The demo's setup (sample stock), the emulator's demo account with a day of buyers,
and one real order sync: what a newcomer sees after `make demo`. The test checks
the page shows that, and saves the picture. `make screenshots` saves it as
docs/dashboard.png (the README shows that file); a plain test run saves it under
a temporary directory, so running the suite never changes the repository.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from allegro_emulator import Emulator, EmulatorConfig
from allegro_emulator.__main__ import DEMO_SEED
from allegro_emulator.buyers import BuyerConfig, BuyerSimulator
from hub.allegro.auth import store_tokens
from hub.allegro.client import client_for_channel
from hub.allegro.models import Channel
from hub.allegro.sync.orders import sync_orders
from hub.orders.models import Order

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SELLER = "demo-seller"  # from allegro_emulator/demo_seed.json
CLIENT_ID = "demo-client"


def demo_account() -> Emulator:
    """The emulator's demo account after a day of simulated buyers."""
    seed = json.loads(DEMO_SEED.read_text(encoding="utf-8"))
    now = datetime.now(UTC)
    emu = Emulator(EmulatorConfig(seed=16, start_time=now - timedelta(hours=23)))
    emu.seed(seed)
    buyers = BuyerSimulator(emu, BuyerConfig(seed=16))
    for _ in range(40):
        emu.advance(23 * 3600 / 41)
        buyers.step()
    emu.clock.set(now)
    return emu


def connected_channel(emu: Emulator) -> Channel:
    secret = next(
        c["client_secret"]
        for c in json.loads(DEMO_SEED.read_text(encoding="utf-8"))["clients"]
        if c["client_id"] == CLIENT_ID
    )
    seller_id = emu.seller_id_for_login(SELLER)
    channel = Channel(
        name="Allegro Demo",
        environment=Channel.Environment.CUSTOM,
        api_url="http://allegro.emulator",
        auth_url="http://allegro.emulator",
        client_id=CLIENT_ID,
        account_id=seller_id,
        account_login=SELLER,
        marketplace_id="allegro-pl",
        sync_orders_from=timezone.now() - timedelta(days=1),
    )
    channel.client_secret = secret
    channel.save()
    store_tokens(channel, emu.issue_tokens(CLIENT_ID, seller_id))
    return channel


def screenshot_path(tmp_path: Path) -> Path:
    directory = os.environ.get("HUB_SCREENSHOTS")
    return Path(directory) / "dashboard.png" if directory else tmp_path / "d.png"


def test_dashboard_screenshot_of_the_demo(
    live_server: Any, browser_page: Any, log_in: Any, tmp_path: Path
) -> None:
    call_command("demo", "--setup-only", verbosity=0)
    emu = demo_account()
    channel = connected_channel(emu)
    client = client_for_channel(channel, transport=emu.transport, limiter=None)
    result = sync_orders(channel.pk, client)
    assert result.created > 0
    open_orders = Order.objects.filter(status=Order.Status.OPEN).count()
    assert open_orders > 0

    page = log_in(browser_page, "seller")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.reload()

    assert page.locator("#open-orders strong").inner_text() == str(open_orders)
    channels = page.locator("#channels").inner_text()
    assert "Allegro Demo" in channels
    assert (
        f"connected as {SELLER}" in page.locator(f"#channel-{channel.pk}").inner_text()
    )
    path = screenshot_path(tmp_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
