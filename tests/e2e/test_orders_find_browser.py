"""The orders list in a real browser: search, filters, sort, pages, CSV link;
and the Polish order page of an order with history shows no English."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import translation

from hub.allegro import texts as allegro_texts
from hub.catalog import stock
from hub.catalog.models import StockItem
from hub.orders.dispatching import DispatchRequest, dispatch_order
from hub.orders.importing import save_orders
from hub.orders.linking import link_line_by_hand
from hub.orders.models import Dispatch, Order, OrderEvent
from hub.orders.tests.conftest import make_account, make_line, make_order
from hub.text.message import Message

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

START = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
A = "aaaa1111-0000-4000-8000-000000000001"
B = "bbbb2222-0000-4000-8000-000000000002"


def shop() -> None:
    location = stock.default_location()
    StockItem.objects.create(sku="MUG-1", title="Kubek")
    orders = [
        make_order(
            A,
            lines=[make_line(sku="MUG-1", offer_id="7001")],
            buyer_login="kasia_k",
            buyer_name="Katarzyna Nowak",
            paid=True,
            channel_status="READY_FOR_PROCESSING",
            total=Decimal("2469.12"),
            bought_at=START,
        ),
        make_order(
            B,
            lines=[make_line(sku="", offer_id="7002", title="Talerz")],
            buyer_login="jan99",
            buyer_name="Jan Kowalski",
            total=Decimal("15.00"),
            bought_at=START + timedelta(days=3),
        ),
    ]
    save_orders(make_account(location), orders)


def filter_orders(page: Any) -> None:
    """Submit the filters and wait for the page they bring (reading the rows
    at once could read the old page, or none while the new one loads)."""
    with page.expect_navigation():
        page.click("#order-filters button[type=submit]")


def shown_ids(page: Any) -> list[str]:
    return [
        text.strip()
        for text in page.locator("table.orders tbody td.id").all_inner_texts()
    ]


def search(page: Any, live_server: Any, text: str) -> list[str]:
    page.goto(f"{live_server.url}/orders/")
    page.fill("#id_q", text)
    filter_orders(page)
    return shown_ids(page)


def test_search_filters_sort_and_export(
    live_server: Any, browser_page: Any, log_in: Any
) -> None:
    shop()
    page = log_in(browser_page)
    page.goto(f"{live_server.url}/orders/")
    assert shown_ids(page) == [B, A]  # newest first, ids whole
    assert page.inner_text("#order-count") == "2 orders"

    assert search(page, live_server, "kasia") == [A]  # buyer login
    assert search(page, live_server, "kowalski") == [B]  # buyer name
    assert search(page, live_server, "bbbb2222") == [B]  # Allegro id, its start
    assert search(page, live_server, A) == [A]  # the whole id
    assert search(page, live_server, "7002") == [B]  # offer id
    assert search(page, live_server, "mug-1") == [A]  # SKU, any case
    assert search(page, live_server, "nobody") == []
    assert "No orders match." in page.inner_text("main")
    assert page.inner_text("#order-count") == "0 orders"

    page.goto(f"{live_server.url}/orders/")
    page.select_option("#id_paid", "no")
    filter_orders(page)
    assert shown_ids(page) == [B]
    page.select_option("#id_paid", "")
    page.check("#id_needs_action")
    filter_orders(page)
    assert shown_ids(page) == [B, A]  # A: paid, to send; B: a line to link
    page.uncheck("#id_needs_action")
    page.check("#id_unlinked")
    filter_orders(page)
    assert shown_ids(page) == [B]
    page.uncheck("#id_unlinked")
    page.fill("#id_bought_to", "2026-11-03")
    filter_orders(page)
    assert shown_ids(page) == [A]
    page.fill("#id_bought_to", "")
    page.select_option("#id_sort", "total_desc")
    filter_orders(page)
    assert shown_ids(page) == [A, B]

    # Money and statuses in words, the raw status as a tooltip.
    row = page.locator("table.orders tbody tr").first
    assert "PLN2,469.12" in row.inner_text()
    status = row.locator(".status")
    assert status.inner_text() == "Ready for processing"
    assert status.get_attribute("title") == "READY_FOR_PROCESSING"

    # The CSV link exports what the list shows.
    href = page.get_attribute("#export-csv", "href")
    assert href is not None
    assert parse_qs(urlsplit(href).query)["sort"] == ["total_desc"]
    page.fill("#id_q", "kasia")
    filter_orders(page)
    href = page.get_attribute("#export-csv", "href")
    assert href is not None
    response = page.request.get(live_server.url + href)
    assert response.ok
    assert response.headers["content-disposition"].startswith(
        'attachment; filename="orders-'
    )
    lines = response.text().splitlines()
    assert len(lines) == 2  # header + Kasia's order only
    assert A in lines[1]


def test_page_numbers_and_count(
    live_server: Any, browser_page: Any, log_in: Any
) -> None:
    location = stock.default_location()
    save_orders(
        make_account(location), [make_order(f"ORDER-{n:03d}") for n in range(120)]
    )
    page = log_in(browser_page)
    page.goto(f"{live_server.url}/orders/")
    assert page.inner_text("#order-count") == "120 orders"
    assert page.locator("table.orders tbody tr").count() == 50
    page.click(".pager >> text=3")
    assert page.locator("table.orders tbody tr").count() == 20
    assert page.inner_text(".pager .current") == "3"
    page.click("#newer")
    assert page.inner_text(".pager .current") == "2"


def test_polish_order_page_has_no_english(
    live_server: Any, browser_page: Any, log_in: Any
) -> None:
    location = stock.default_location()
    mug = StockItem.objects.create(sku="MUG-1", title="Kubek")
    stock.set_on_hand(mug, location, 5)
    account = replace(make_account(location), source="allegro")
    save_orders(account, [make_order("PL-ORDER", lines=[make_line(sku="")])])
    order = Order.objects.get(external_id="PL-ORDER")
    line = order.lines.get()
    # Paid and changed on the channel, linked by hand, dispatched.
    paid = make_order(
        "PL-ORDER",
        lines=[make_line(sku="")],
        paid=True,
        channel_status="READY_FOR_PROCESSING",
    )
    save_orders(account, [paid])
    link_line_by_hand(line, "MUG-1", actor="user:browser")
    sent = dispatch_order(
        Order.objects.get(pk=order.pk),
        DispatchRequest("DPD", "123", actor="user:browser"),
    )
    # Allegro did not know the carrier: the dispatch needs the seller.
    unknown = Message(allegro_texts.TRACKING_UNKNOWN_CARRIER, name="DPD")
    Dispatch.objects.filter(pk=sent.pk).update(
        state=Dispatch.State.NEEDS_ACTION, channel_message=unknown
    )
    events = list(OrderEvent.objects.filter(order=order))
    assert len(events) >= 4

    browser_page.context.add_cookies(
        [{"name": "django_language", "value": "pl", "url": live_server.url}]
    )
    page = log_in(browser_page)
    page.goto(f"{live_server.url}/orders/{order.pk}/")
    text = page.inner_text("main")
    english = ["History", "Lines", "Buyer", "Delivery", "Payment", "Total", "Who"]
    with translation.override("en"):
        english += [str(event.message) for event in events]
        english += [str(event.get_kind_display()) for event in events]
        english += [str(unknown), "Needs action", "Mark handled", "Send again"]
    with translation.override("pl"):
        polish = [str(event.message) for event in events]
        polish += [str(unknown), str(Dispatch.State.NEEDS_ACTION.label)]
    leftovers = [words for words in english if words in text]
    assert leftovers == []
    assert all(words in text for words in polish)
    assert "zł" in text
    assert "Allegro" in text  # the importer, named in the "Kto" column

    page.goto(f"{live_server.url}/orders/needs-action/")
    listed = page.inner_text("main")
    assert [words for words in english if words in listed] == []
    with translation.override("pl"):
        assert str(unknown) in listed
