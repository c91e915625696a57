"""The dashboard in a real browser: it renders, and its tiles lead to the lists."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hub.allegro.models import Channel, SyncCursor
from hub.web.tests.test_dashboard import (
    SYNCED,
    connected_channel,
    make_item,
    make_order,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_dashboard_tiles_lead_to_what_needs_action(
    live_server: Any, browser_page: Any, log_in: Any, tmp_path: Path
) -> None:
    make_item("MUG-1", 1, promised=3)
    make_item("CUP-2", 0)
    make_order(1, unlinked=True)
    make_order(2)
    alpha = connected_channel("Alpha", "alpha-shop")
    SyncCursor.objects.create(
        channel=alpha, stream="order_events", last_success_at=SYNCED
    )
    SyncCursor.objects.create(
        channel=alpha, stream="order_backfill", value="2026-11-20T00:00:00+00:00"
    )
    beta = connected_channel("Beta", "beta-shop")
    Channel.objects.filter(pk=beta.pk).update(
        needs_reconnect=True,
        last_error="Allegro rejected the refresh token; reconnect the channel",
        last_error_at=SYNCED,
    )
    page = log_in(browser_page)

    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
    assert page.locator("#open-orders strong").inner_text() == "2"
    assert page.locator("#oversold strong").inner_text() == "1"
    assert page.locator("#out-of-stock strong").inner_text() == "1"
    assert "MUG-1" in page.locator("#oversold-items").inner_text()

    assert (
        "connected as alpha-shop" in page.locator(f"#channel-{alpha.pk}").inner_text()
    )
    assert "Importing orders from Allegro" in page.locator("#channels").inner_text()

    page.click("#unlinked-orders")
    page.wait_for_url(f"{live_server.url}/orders/?status=OPEN&unlinked=on")
    rows = page.locator("table.orders tbody tr")
    assert rows.count() == 1
    assert "order-001" in rows.first.inner_text()
    page.go_back()
    page.click(f"#reconnect-{beta.pk}")
    page.wait_for_url(f"{live_server.url}/settings/channels/{beta.pk}/")
