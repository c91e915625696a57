"""The item page: stock per location, open orders, listings, stock history."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from hub.allegro.models import Channel, Listing
from hub.catalog import stock
from hub.catalog.models import Location, StockChange, StockItem
from hub.orders.importing import save_orders
from hub.orders.models import Order
from hub.orders.tests.conftest import make_account, make_line, make_order
from hub.web import item_page

pytestmark = pytest.mark.django_db


def page(client: Client, item: StockItem, query: str = "", lang: str = "en") -> str:
    response = client.get(f"/inventory/{item.pk}/{query}", HTTP_ACCEPT_LANGUAGE=lang)
    assert response.status_code == 200
    return response.content.decode()


def section(html: str, table_id: str) -> str:
    match = re.search(f'<table[^>]*id="{table_id}".*?</table>', html, re.DOTALL)
    assert match is not None, table_id
    return match.group(0)


@pytest.fixture
def mug() -> StockItem:
    return StockItem.objects.create(sku="MUG-1", title="Blue Mug")


def test_stock_per_location_and_open_orders(logged_in_client: Client, mug) -> None:  # type: ignore[no-untyped-def]
    default = stock.default_location()
    back = Location.objects.create(name="Back room")
    stock.set_on_hand(mug, default, 10, actor="user:alice")
    stock.set_on_hand(mug, back, 4)
    save_orders(
        make_account(default),
        [
            make_order("OPEN-1", lines=[make_line(quantity=3)]),
            make_order("GONE-1", lines=[make_line(quantity=1)], cancelled=True),
            make_order("OTHER-1", lines=[make_line(sku="NO-SUCH")]),
        ],
    )
    html = page(logged_in_client, mug)
    levels = section(html, "levels")
    # Default: 10 on hand, 3 promised to OPEN-1, 7 left; Back room untouched.
    assert re.findall(r"<td[^>]*>([^<]*)</td>", levels) == [
        "Default", "10", "3", "7", "Back room", "4", "0", "4",
    ]  # fmt: skip
    orders = section(html, "open-orders")
    opened = Order.objects.get(external_id="OPEN-1")
    assert f'href="/orders/{opened.pk}/">OPEN-1</a>' in orders
    assert "GONE-1" not in orders
    assert "OTHER-1" not in orders
    assert 'id="available-total">11<' in html


def test_history_says_who_what_when_and_pages(logged_in_client: Client, mug) -> None:  # type: ignore[no-untyped-def]
    default = stock.default_location()
    for quantity in range(1, item_page.HISTORY_PAGE + 3):
        stock.set_on_hand(mug, default, quantity, actor="cli")
    save_orders(make_account(default), [make_order("F-9", lines=[make_line()])])
    order = Order.objects.get()
    newest = section(page(logged_in_client, mug, lang="pl"), "stock-history")
    # The newest first: the order's allocation, linked to the order page.
    assert f'<a href="/orders/{order.pk}/">Zamówienie F-9</a>' in newest
    assert "51 → 52" in newest
    assert "wiersz poleceń" in newest
    assert "None" not in newest
    older = section(page(logged_in_client, mug, "?page=2"), "stock-history")
    assert "— → 1" in older  # the first change: no level before
    assert "51 → 52" not in older
    assert StockChange.objects.filter(item=mug).count() == item_page.HISTORY_PAGE + 3


def test_listings_of_the_item_on_every_channel(
    logged_in_client: Client,
    plain_client: Client,
    mug,  # type: ignore[no-untyped-def]
) -> None:
    shop = Channel.objects.create(name="Shop", marketplace_id="allegro-cz")
    Listing.objects.create(
        channel=shop,
        offer_id="7001",
        title="Mug offer",
        stock_item=mug,
        status="ACTIVE",
    )
    Listing.objects.create(channel=shop, offer_id="7002", title="Unlinked")
    listings = section(page(logged_in_client, mug), "listings")
    assert "7001" in listings
    assert "7002" not in listings
    assert 'href="https://allegro.cz/oferta/7001"' in listings
    listing = Listing.objects.get(offer_id="7001")
    assert f"/settings/channels/{shop.pk}/listings/{listing.pk}/" in listings
    # Someone who may not manage channels sees the listing, not a link to 403.
    plain = section(page(plain_client, mug), "listings")
    assert "7001" in plain
    assert "/settings/channels/" not in plain


def test_an_item_with_nothing_yet(logged_in_client: Client, mug) -> None:  # type: ignore[no-untyped-def]
    html = page(logged_in_client, mug)
    assert "No open orders for this item." in html
    assert "No listing is linked to this item." in html
    assert "No stock changes yet." in html
    assert logged_in_client.get("/inventory/999999/").status_code == 404


def test_an_order_line_links_to_its_item_page(logged_in_client: Client, mug) -> None:  # type: ignore[no-untyped-def]
    save_orders(make_account(stock.default_location()), [make_order("F-1")])
    order = Order.objects.get()
    html = logged_in_client.get(f"/orders/{order.pk}/").content.decode()
    assert f'<a class="ok" href="/inventory/{mug.pk}/">MUG-1</a>' in html
