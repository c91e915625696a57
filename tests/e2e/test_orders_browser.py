"""Orders screens in a real browser: find an unlinked order, link it, dispatch it."""

from __future__ import annotations

from typing import Any

import pytest

from hub.catalog import stock
from hub.catalog.models import StockItem
from hub.orders.importing import save_orders
from hub.orders.models import Order
from hub.orders.tests.conftest import make_account, make_line, make_order

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_link_an_unlinked_line_then_dispatch(
    live_server: Any, browser_page: Any, log_in: Any
) -> None:
    location = stock.default_location()
    mug = StockItem.objects.create(sku="MUG-1", title="Kubek")
    stock.set_on_hand(mug, location, 10)
    save_orders(
        make_account(location),
        [
            make_order("LINKED-ORDER"),
            make_order("LOST-ORDER", lines=[make_line(sku="", title="Kubek ?")]),
        ],
    )
    page = log_in(browser_page)

    page.click("nav >> text=Orders")
    page.wait_for_url(f"{live_server.url}/orders/")
    assert page.locator("table.orders tbody tr").count() == 2
    page.check("#id_unlinked")
    with page.expect_navigation():
        page.click("#order-filters button[type=submit]")
    rows = page.locator("table.orders tbody tr")
    assert rows.count() == 1
    assert "not linked" in rows.first.inner_text()

    rows.first.locator("a").click()
    assert "Not linked" in page.inner_text("table.lines")
    page.fill("form.link-line input[name=sku]", "MUG-1")
    page.click("form.link-line button")
    assert "Linked to MUG-1" in page.inner_text(".messages")
    assert stock.available(mug, location) == 6  # both orders hold 2 each

    page.fill("#id_carrier", "DPD")
    page.fill("#id_tracking_number", "0000000000001")
    page.click("button:has-text('Mark dispatched')")
    # Unpaid: the hub asks first, keeping what was typed.
    assert "Confirm to dispatch it anyway" in page.inner_text("#dispatch-form")
    assert page.input_value("#id_tracking_number") == "0000000000001"
    assert Order.objects.get(external_id="LOST-ORDER").status == "OPEN"
    page.check("#id_confirm_unpaid")
    page.click("button:has-text('Mark dispatched')")
    assert "Dispatched" in page.inner_text(".messages")
    assert "0000000000001" in page.inner_text("body")
    history = page.inner_text("table.history")
    assert "Imported" in history
    assert "Line linked to stock" in history
    assert Order.objects.get(external_id="LOST-ORDER").status == "DISPATCHED"
    assert stock.on_hand(mug, location) == 8
