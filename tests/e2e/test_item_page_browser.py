"""The item page in a real browser, in Polish: stock per location, the open
order (linked), the listing, and a stock history that names who and why —
with no English left on the page."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import translation

from hub.allegro.models import Channel, Listing
from hub.catalog import csvio, stock
from hub.catalog.models import StockChange, StockItem
from hub.orders.importing import save_orders
from hub.orders.models import Order
from hub.orders.tests.conftest import make_account, make_line, make_order

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_polish_item_page_with_history_has_no_english(
    live_server: Any, browser_page: Any, log_in: Any
) -> None:
    location = stock.default_location()
    csvio.import_csv(b"sku,title,on_hand\nMUG-1,Kubek,9\n", actor="user:browser")
    call_command("stock", "set", "MUG-1", "7", stdout=None)
    account = replace(make_account(location), source="allegro")
    save_orders(account, [make_order("PL-ITEM-1", lines=[make_line(quantity=2)])])
    mug = StockItem.objects.get(sku="MUG-1")
    channel = Channel.objects.create(name="Sklep", marketplace_id="allegro-pl")
    Listing.objects.create(
        channel=channel, offer_id="17000001", title="Kubek", stock_item=mug,
        status="ACTIVE", known_quantity=5,
    )  # fmt: skip
    order = Order.objects.get()
    changes = list(StockChange.objects.filter(item=mug))
    assert len(changes) == 3

    browser_page.context.add_cookies(
        [{"name": "django_language", "value": "pl", "url": live_server.url}]
    )
    page = log_in(browser_page)
    page.goto(f"{live_server.url}/inventory/{mug.pk}/")
    text = page.inner_text("main")
    english = [
        "Stock per location", "Open orders", "Listings", "Stock history",
        "On hand", "Allocated", "Available", "Why", "Who", "Edit", "Active",
        "command line", "CSV import", "Order PL-ITEM-1",
    ]  # fmt: skip
    with translation.override("pl"):
        polish = [str(change.reason) for change in changes]
        polish += [change.actor_name for change in changes if change.actor]
    assert [words for words in english if words in text] == []
    assert all(words in text for words in polish), (polish, text)
    assert "Aktywna" in text  # the listing's status in words
    # The open order and the order's stock change both lead to the order page.
    links = page.locator(f"a[href='/orders/{order.pk}/']")
    assert links.count() == 2
    links.first.click()
    page.wait_for_url(f"{live_server.url}/orders/{order.pk}/")
