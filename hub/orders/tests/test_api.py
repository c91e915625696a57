"""Orders REST API: changed-since feed, one order, linking a line."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from hub.api.models import ApiToken
from hub.catalog import stock
from hub.catalog.models import Location, StockItem
from hub.orders.importing import save_orders
from hub.orders.models import Order
from hub.orders.problems import record_problems
from hub.orders.tests.conftest import make_account, make_line, make_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client: Client, user: Any) -> Client:
    _row, token = ApiToken.issue(user, "erp")
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


def test_needs_a_token(client: Client):
    assert client.get("/api/orders").status_code == 401
    assert client.get("/api/order-problems").status_code == 401


def test_feed_pages_through_changes_in_order(
    api: Client, warehouse: Location, mug: StockItem
):
    start = timezone.now()
    for i in range(5):
        with time_machine.travel(start + timedelta(seconds=i), tick=False):
            save_orders(make_account(warehouse), [make_order(f"F-{i}")])

    seen: list[str] = []
    body = api.get("/api/orders", {"limit": 2}).json()
    while True:
        seen += [o["external_id"] for o in body["items"]]
        if body["next_cursor"] is None:
            break
        body = api.get(
            "/api/orders", {"limit": 2, "cursor": body["next_cursor"]}
        ).json()

    assert seen == [f"F-{i}" for i in range(5)]


def test_feed_since_a_time_includes_later_changes_only(
    api: Client, warehouse: Location, mug: StockItem
):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        save_orders(make_account(warehouse), [make_order("OLD"), make_order("PAID")])
    with time_machine.travel(start + timedelta(hours=1), tick=False):
        save_orders(make_account(warehouse), [make_order("PAID", paid=True)])

    since = (start + timedelta(minutes=30)).isoformat()
    body = api.get("/api/orders", {"changed_since": since}).json()

    assert [o["external_id"] for o in body["items"]] == ["PAID"]
    assert body["items"][0]["paid"] is True
    assert body["items"][0]["lines"][0]["stock_item_sku"] == "MUG-1"
    assert body["next_cursor"] is None


def test_bad_cursor_is_a_clear_422(api: Client):
    response = api.get("/api/orders", {"cursor": "nonsense"})
    assert response.status_code == 422
    assert "cursor" in response.json()["detail"]


def test_read_one_order_with_history(api: Client, warehouse: Location, mug: StockItem):
    save_orders(make_account(warehouse), [make_order(message_to_seller="Hi")])
    order = Order.objects.get()

    body = api.get(f"/api/orders/{order.pk}").json()

    assert body["external_id"] == "F-1"
    assert body["message_to_seller"] == "Hi"
    assert body["total"] == "39.98"
    assert [e["kind"] for e in body["events"]] == ["IMPORTED"]
    assert api.get("/api/orders/999999").status_code == 404


def test_link_a_line(api: Client, warehouse: Location, mug: StockItem):
    save_orders(make_account(warehouse), [make_order(lines=[make_line(sku="NOPE")])])
    order = Order.objects.get()
    line = order.lines.get()
    url = f"/api/orders/{order.pk}/lines/{line.pk}/link"

    bad = api.post(url, {"sku": "GHOST"}, content_type="application/json")
    assert bad.status_code == 422
    assert stock.available(mug, warehouse) == 10

    good = api.post(url, {"sku": "MUG-1"}, content_type="application/json")
    assert good.status_code == 200
    assert good.json()["stock_item_sku"] == "MUG-1"
    assert good.json()["link_method"] == "MANUAL"
    assert stock.available(mug, warehouse) == 8
    assert Order.objects.get().has_unlinked_lines is False


def test_cli_json_prints_the_same_orders_as_the_api(
    api: Client, warehouse: Location, mug: StockItem
):
    save_orders(
        make_account(warehouse),
        [make_order("F-1"), make_order("F-2", lines=[make_line(sku="NOPE")])],
    )
    out = StringIO()

    call_command("orders", "list", "--json", stdout=out)

    def same_moments(row: dict[str, Any]) -> dict[str, Any]:
        # The two print the same instant with different ISO-8601 spellings.
        for name in ("bought_at", "updated_at"):
            row[name] = datetime.fromisoformat(row[name].replace("Z", "+00:00"))
        return row

    printed = sorted(json.loads(out.getvalue()), key=lambda row: row["id"])
    served = api.get("/api/orders").json()["items"]
    assert [same_moments(row) for row in printed] == [
        same_moments(row) for row in served
    ]
    assert [row["lines"][0]["stock_item_sku"] for row in printed] == ["MUG-1", None]


def test_orders_set_aside_are_listed_with_the_reason(api: Client):
    with time_machine.travel("2026-11-01 10:00Z", tick=False):
        record_problems("allegro", "1", "Shop", {"cf-1": "No line items."})
    with time_machine.travel("2026-11-02 10:00Z", tick=False):
        record_problems("allegro", "1", "Shop", {"cf-1": "No line items."})

    response = api.get("/api/order-problems")

    assert response.status_code == 200
    assert response.json() == [
        {
            "source": "allegro",
            "account": "1",
            "external_id": "cf-1",
            "sub_source": "Shop",
            "reason": "No line items.",
            "first_seen_at": "2026-11-01T10:00:00Z",
            "last_seen_at": "2026-11-02T10:00:00Z",
            "attempts": 2,
        }
    ]
