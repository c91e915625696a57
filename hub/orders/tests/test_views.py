"""Orders list and detail screens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from hub.catalog import stock
from hub.catalog.models import Location, StockItem
from hub.orders.importing import save_orders
from hub.orders.models import Order, OrderLine
from hub.orders.tests.conftest import make_account, make_line, make_order

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)


def many_orders(location: Location, count: int, **fields: Any) -> None:
    save_orders(
        make_account(location),
        [
            make_order(f"F-{i:05d}", bought_at=T0 + timedelta(minutes=i), **fields)
            for i in range(count)
        ],
    )


def shown(response: Any) -> list[str]:
    return [o.external_id for o in response.context["page"].object_list]


def test_list_needs_a_login(client: Client):
    response = client.get(reverse("orders"))
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_list_pages_newest_first_without_gaps_or_overlap(
    logged_in_client: Client, warehouse: Location, mug: StockItem
):
    many_orders(warehouse, 120)
    seen: list[str] = []
    for number in (1, 2, 3):
        response = logged_in_client.get(reverse("orders") + f"?page={number}")
        assert response.context["page"].paginator.count == 120
        seen += shown(response)

    assert seen == [f"F-{i:05d}" for i in reversed(range(120))]
    body = response.content.decode()
    assert "120 orders" in body
    assert 'aria-current="page">3<' in body


def test_page_links_keep_the_filters(
    logged_in_client: Client, warehouse: Location, mug: StockItem
):
    many_orders(warehouse, 120)
    response = logged_in_client.get(reverse("orders") + "?status=OPEN&sort=oldest")
    body = response.content.decode()
    assert 'href="?status=OPEN&amp;sort=oldest&amp;page=2"' in body
    assert shown(response)[0] == "F-00000"


def test_list_runs_the_same_number_of_queries_for_any_size(
    logged_in_client: Client,
    warehouse: Location,
    mug: StockItem,
    django_assert_num_queries: Any,
):
    # session, user, orders set aside (count), dispatches needing action (count),
    # channel names, count, one page of orders, their lines
    many_orders(warehouse, 3)
    with django_assert_num_queries(8):
        logged_in_client.get(reverse("orders"))
    many_orders(warehouse, 300)
    with django_assert_num_queries(8):
        response = logged_in_client.get(
            reverse("orders") + "?status=OPEN&q=F-00&sort=total_desc&page=3"
        )
    assert len(shown(response)) == 50


def test_filters(logged_in_client: Client, warehouse: Location, mug: StockItem):
    save_orders(
        make_account(warehouse),
        [
            make_order("A", bought_at=T0, sub_source="Shop PL"),
            make_order("B", bought_at=T0 + timedelta(days=2), sub_source="Shop CZ"),
            make_order("C", bought_at=T0, cancelled=True, sub_source="Shop PL"),
            make_order("D", bought_at=T0, lines=[make_line(sku="NOPE")]),
        ],
    )

    def get(query: str) -> set[str]:
        return set(shown(logged_in_client.get(reverse("orders") + query)))

    assert get("") == {"A", "B", "C", "D"}
    assert get("?channel=Shop+PL") == {"A", "C"}
    assert get("?status=CANCELLED") == {"C"}
    assert get("?unlinked=on") == {"D"}
    assert get("?bought_from=2026-03-02") == {"B"}
    assert get("?bought_to=2026-03-01") == {"A", "C", "D"}


def test_bad_filter_says_so_and_filters_nothing(
    logged_in_client: Client, warehouse: Location, mug: StockItem
):
    many_orders(warehouse, 2)

    response = logged_in_client.get(reverse("orders") + "?bought_from=yesterday")

    assert "Enter a valid date" in response.content.decode()
    assert len(shown(response)) == 2


def test_a_bad_page_number_shows_a_page_anyway(
    logged_in_client: Client, warehouse: Location, mug: StockItem
):
    many_orders(warehouse, 2)
    response = logged_in_client.get(reverse("orders") + "?page=garbage")
    assert shown(response) == ["F-00001", "F-00000"]
    response = logged_in_client.get(reverse("orders") + "?page=99")
    assert shown(response) == ["F-00001", "F-00000"]


def test_search_and_the_new_filters(
    logged_in_client: Client, warehouse: Location, mug: StockItem
):
    save_orders(
        make_account(warehouse),
        [
            make_order("A-1", buyer_login="kasia", buyer_name="Kasia Nowak", paid=True),
            make_order("B-2", buyer_login="jan", lines=[make_line(offer_id="77")]),
            make_order("C-3", buyer_login="ola", lines=[make_line(sku="NOPE")]),
            make_order("D-4", buyer_login="ewa", cancelled=True, paid=True),
        ],
    )

    def get(query: str) -> set[str]:
        return set(shown(logged_in_client.get(reverse("orders") + query)))

    assert get("?q=NOWAK") == {"A-1"}
    assert get("?q=b-2") == {"B-2"}
    assert get("?q=77") == {"B-2"}
    assert get("?q=nope") == {"C-3"}
    assert get("?q=mug-1") == {"A-1", "B-2", "D-4"}
    assert get("?paid=yes") == {"A-1", "D-4"}
    assert get("?paid=no") == {"B-2", "C-3"}
    # Open and paid (to send) or with a line to link; never a cancelled one.
    assert get("?needs_action=on") == {"A-1", "C-3"}


def test_csv_export_follows_the_filters_and_is_named_with_the_date(
    logged_in_client: Client, warehouse: Location, mug: StockItem
):
    save_orders(
        make_account(warehouse),
        [
            make_order("A-1", buyer_login="=HYPERLINK(1)"),
            make_order("B-2", buyer_login="jan", cancelled=True),
        ],
    )
    response = logged_in_client.get(reverse("orders_export") + "?status=OPEN")

    assert response["Content-Disposition"].startswith('attachment; filename="orders-')
    assert response["Content-Disposition"].endswith('.csv"')
    text = b"".join(response.streaming_content).decode("utf-8-sig")  # type: ignore[attr-defined]
    rows = text.splitlines()
    assert rows[0].startswith("Order,Bought,Channel,Status")
    assert len(rows) == 2
    assert rows[1].startswith("A-1,2026-")
    assert ",'=HYPERLINK(1)," in rows[1]  # never run as a formula
    assert "2× MUG-1" in rows[1]


def test_detail_shows_lines_and_history(
    logged_in_client: Client, warehouse: Location, mug: StockItem
):
    save_orders(make_account(warehouse), [make_order(message_to_seller="Gift wrap")])
    order = Order.objects.get()

    response = logged_in_client.get(reverse("order_detail", args=[order.pk]))

    body = response.content.decode()
    assert "Gift wrap" in body
    assert "MUG-1" in body
    assert "Imported" in body
    assert "PLN39.98" in body  # money in the reader's locale


def test_linking_a_line_from_the_detail_page_allocates(
    logged_in_client: Client, warehouse: Location, mug: StockItem
):
    save_orders(make_account(warehouse), [make_order(lines=[make_line(sku="NOPE")])])
    order = Order.objects.get()
    line = order.lines.get()

    response = logged_in_client.post(
        reverse("order_link_line", args=[order.pk, line.pk]), {"sku": "MUG-1"}
    )

    assert response.status_code == 302
    assert OrderLine.objects.get().stock_item == mug
    assert stock.available(mug, warehouse) == 8


def test_linking_to_an_unknown_sku_shows_an_error_and_changes_nothing(
    logged_in_client: Client, warehouse: Location, mug: StockItem
):
    save_orders(make_account(warehouse), [make_order(lines=[make_line(sku="NOPE")])])
    order = Order.objects.get()
    line = order.lines.get()

    response = logged_in_client.post(
        reverse("order_link_line", args=[order.pk, line.pk]),
        {"sku": "GHOST"},
        follow=True,
    )

    assert "No stock item with SKU GHOST" in response.content.decode()
    assert OrderLine.objects.get().stock_item is None


def test_dispatch_from_the_detail_page_consumes_stock(
    logged_in_client: Client, warehouse: Location, mug: StockItem
):
    save_orders(make_account(warehouse), [make_order()])
    order = Order.objects.get()

    logged_in_client.post(
        reverse("order_dispatch", args=[order.pk]),
        {"carrier": "DPD", "tracking_number": "0000000000001", "confirm_unpaid": "on"},
    )
    again = logged_in_client.post(
        reverse("order_dispatch", args=[order.pk]), {}, follow=True
    )

    assert Order.objects.get().status == Order.Status.DISPATCHED
    assert stock.on_hand(mug, warehouse) == 8
    assert "has been dispatched already" in again.content.decode()
