"""The dashboard: channel health, what needs action, the latest orders."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from hub import crypto
from hub.allegro.models import Channel, SyncCursor
from hub.catalog import stock
from hub.catalog.models import StockItem
from hub.jobs.models import FlowState
from hub.orders.models import Dispatch, Order
from hub.text.message import Message
from hub.web import dashboard

pytestmark = pytest.mark.django_db

SYNCED = datetime(2026, 11, 29, 6, 30, tzinfo=UTC)


def make_item(sku: str, on_hand: int, promised: int = 0) -> StockItem:
    item = StockItem.objects.create(sku=sku, title=f"Item {sku}")
    location = stock.default_location()
    stock.set_on_hand(item, location, on_hand)
    if promised:
        stock.allocate(item, location, promised, f"test:{sku}")
    return item


def make_order(
    number: int,
    *,
    status: str = Order.Status.OPEN,
    unlinked: bool = False,
    hours_ago: int = 0,
    channel: Channel | None = None,
) -> Order:
    return Order.objects.create(
        source="allegro",
        account=str(channel.pk) if channel else "0",
        external_id=f"order-{number:03}",
        sub_source="Shop",
        status=status,
        has_unlinked_lines=unlinked,
        buyer_login=f"buyer{number}",
        total="10.00",
        currency="PLN",
        bought_at=timezone.now() - timedelta(hours=hours_ago),
    )


def connected_channel(name: str, login: str) -> Channel:
    return Channel.objects.create(
        name=name,
        account_id=f"id-{login}",
        account_login=login,
        refresh_token_encrypted=crypto.encrypt("refresh"),
    )


@pytest.fixture
def shop() -> dict[str, Any]:
    """Two channels (one importing old orders, one needing a reconnect), five
    items (two oversold, two out of stock) and twelve orders."""
    importing = connected_channel("Alpha", "alpha-shop")
    SyncCursor.objects.create(
        channel=importing, stream="order_events", value="77", last_success_at=SYNCED
    )
    SyncCursor.objects.create(
        channel=importing, stream="order_backfill", value="2026-11-20T00:00:00+00:00"
    )
    broken = connected_channel("Beta", "beta-shop")
    Channel.objects.filter(pk=broken.pk).update(
        needs_reconnect=True,
        last_error="Allegro rejected the refresh token; reconnect the channel",
        last_error_at=SYNCED,
    )
    SyncCursor.objects.create(channel=broken, stream="order_events", value="5")
    # What the runner recorded (hub/jobs): Alpha's orders fine, Beta's failing.
    FlowState.objects.create(
        channel=importing, flow="orders", due_at=SYNCED, last_success_at=SYNCED
    )
    FlowState.objects.create(
        channel=broken,
        flow="orders",
        due_at=SYNCED + timedelta(minutes=5),
        last_success_at=SYNCED - timedelta(days=1),
        failures=3,
        last_error="Allegro rejected the refresh token; reconnect the channel",
    )
    items = {
        "plenty": make_item("A-1", 5),
        "oversold_2": make_item("B-2", 1, promised=3),
        "empty": make_item("C-3", 0),
        "all_promised": make_item("D-4", 2, promised=2),
        "oversold_1": make_item("E-5", 0, promised=1),
    }
    # Alpha's: 8 open (2 with unlinked lines), 3 dispatched, 1 cancelled
    for n in range(1, 9):
        make_order(n, unlinked=n in (1, 4), hours_ago=n, channel=importing)
    sent = make_order(9, status=Order.Status.DISPATCHED, hours_ago=9, channel=importing)
    # Its tracking number refused by Allegro: a dispatch needing action.
    Dispatch.objects.create(order=sent, tracking_number="1", state="REFUSED")
    make_order(
        10,
        status=Order.Status.CANCELLED,
        unlinked=True,
        hours_ago=10,
        channel=importing,
    )
    for n in (11, 12):
        make_order(n, status=Order.Status.DISPATCHED, hours_ago=n, channel=importing)
    return {"importing": importing, "broken": broken, "items": items}


def test_counts_what_needs_action(shop: dict[str, Any]):
    assert dashboard.order_counts() == {"open": 8, "unlinked": 2, "dispatches": 1}
    summary = dashboard.stock_summary()
    items = shop["items"]
    assert summary.item_count == 5
    assert summary.oversold_count == 2
    assert summary.out_of_stock_count == 2  # C-3 (nothing) and D-4 (all promised)
    assert summary.oversold == [(items["oversold_2"], -2), (items["oversold_1"], -1)]


def test_channel_health_lines(shop: dict[str, Any]):
    alpha, beta = dashboard.channel_health()

    assert alpha.channel == shop["importing"]
    orders = alpha.flows[0]
    assert (orders.name, orders.last_success_at, orders.error) == (
        "orders",
        SYNCED,
        Message(),
    )
    assert orders.stale  # SYNCED is in the past: more than 10 minutes ago
    progress = alpha.status.progress
    assert progress is not None
    assert progress.stream == "order_backfill"
    assert progress.reached == datetime(2026, 11, 20, tzinfo=UTC)
    assert progress.orders == 12
    assert beta.channel == shop["broken"]
    assert beta.status.needs_reconnect
    orders = beta.flows[0]
    assert orders.last_success_at == SYNCED - timedelta(days=1)
    assert str(orders.error).startswith("Allegro rejected the refresh token")
    assert orders.failures == 3
    assert beta.status.progress is None
    assert beta.problems == [orders]


def test_a_fresh_success_is_not_a_problem(shop: dict[str, Any]):
    FlowState.objects.filter(channel=shop["importing"]).update(
        last_success_at=timezone.now() - timedelta(minutes=2)
    )
    alpha, _beta = dashboard.channel_health()

    assert not alpha.flows[0].stale
    assert alpha.problems == []


def test_a_new_channel_not_synced_yet_is_not_stale_at_once(shop: dict[str, Any]):
    connected_channel("Gamma", "gamma-shop")  # created now; no run yet
    gamma = dashboard.channel_health()[2]

    assert gamma.flows[0].last_success_at is None
    assert not gamma.flows[0].stale
    assert gamma.problems == []


def test_problems_listed_with_what_to_do_and_sync_now(
    logged_in_client: Client, shop: dict[str, Any]
):
    html = logged_in_client.get(reverse("dashboard")).content.decode()

    alpha, beta = shop["importing"], shop["broken"]
    assert 'id="sync-problems"' in html
    problem = html.split(f'id="problem-{beta.pk}-orders"')[1].split("</li>")[0]
    assert "Allegro rejected the refresh token" in problem
    assert "Failed 3 times in a row; the hub tries again at" in problem
    stale = html.split(f'id="problem-{alpha.pk}-orders"')[1].split("</li>")[0]
    assert "is the worker running?" in stale
    # Sync now for a working channel; not for one that must reconnect first.
    assert f'action="{reverse("sync_now", args=[alpha.pk])}"' in html
    assert f'id="sync-now-{beta.pk}"' not in html


def test_recent_orders_are_the_ten_newest(shop: dict[str, Any]):
    recent = dashboard.recent_orders()
    assert [o.external_id for o in recent] == [f"order-{n:03}" for n in range(1, 11)]


def test_dashboard_page(logged_in_client: Client, shop: dict[str, Any]):
    html = logged_in_client.get(reverse("dashboard")).content.decode()

    orders_url = reverse("orders")
    assert (
        f'id="open-orders" href="{orders_url}?status=OPEN"><strong>8</strong>' in html
    )
    assert (
        f'id="unlinked-orders" href="{orders_url}?status=OPEN&amp;unlinked=on">'
        '<strong class="bad">2</strong> open orders with unlinked lines'
    ) in html
    assert (
        f'id="dispatches-needing-action" href="{reverse("orders_needs_action")}">'
        '<strong class="bad">1</strong> dispatch needs action'
    ) in html
    inventory_url = reverse("inventory")
    assert (
        f'id="oversold" href="{inventory_url}?stock=oversold">'
        '<strong class="bad">2</strong> items oversold'
    ) in html
    assert (
        f'id="out-of-stock" href="{inventory_url}?stock=out_of_stock">'
        "<strong>2</strong> items out of stock"
    ) in html
    assert "5 stock items in the inventory." in html
    assert "connected as alpha-shop" in html
    broken = shop["broken"]
    config_url = reverse("channel_config", args=[broken.pk])
    assert f'href="{config_url}" id="reconnect-{broken.pk}"' in html
    assert "needs reconnect" in html
    assert "Importing orders from Allegro: up to" in html
    assert "12 orders so far." in html
    item = shop["items"]["oversold_2"]
    assert f'href="{reverse("inventory_item", args=[item.pk])}">B-2</a>' in html
    assert len(re.findall(r'href="/orders/\d+/"', html)) == 10  # the latest
    assert "order-011" not in html


def test_the_links_land_on_the_filtered_lists(
    logged_in_client: Client, shop: dict[str, Any]
):
    # the tile's query string is one the orders list understands
    response = logged_in_client.get(reverse("orders") + "?status=OPEN&unlinked=on")
    html = response.content.decode()
    assert "order-001" in html
    assert "order-004" in html
    assert "order-002" not in html
    assert "order-010" not in html  # cancelled, though unlinked


def test_the_stock_tiles_land_on_the_filtered_inventory(
    logged_in_client: Client, shop: dict[str, Any]
):
    html = logged_in_client.get(reverse("dashboard")).content.decode()
    tiles = dict(re.findall(r'class="tile" id="([\w-]+)" href="([^"]+)"', html))

    oversold = logged_in_client.get(tiles["oversold"].replace("&amp;", "&"))
    out_of_stock = logged_in_client.get(tiles["out-of-stock"].replace("&amp;", "&"))

    def skus(response: Any) -> list[str]:
        return [row["item"].sku for row in response.context["rows"]]

    assert skus(oversold) == ["B-2", "E-5"]
    assert skus(out_of_stock) == ["C-3", "D-4"]


def test_more_oversold_than_shown_links_to_all_of_them(logged_in_client: Client):
    for n in range(12):
        make_item(f"O-{n:02}", 0, promised=n + 1)

    summary = dashboard.stock_summary()
    html = logged_in_client.get(reverse("dashboard")).content.decode()

    assert summary.oversold_count == 12
    assert [available for _item, available in summary.oversold] == list(range(-12, -2))
    assert "The 10 worst of 12." in html
    assert f'href="{reverse("inventory")}?stock=oversold" id="all-oversold"' in html


def test_empty_hub(logged_in_client: Client):
    html = logged_in_client.get(reverse("dashboard")).content.decode()
    assert "No channels yet." in html
    assert "No orders yet." in html
    assert "<strong>0</strong> open orders" in html


def test_queries_do_not_grow_with_the_data(
    logged_in_client: Client, shop: dict[str, Any], django_assert_num_queries: Any
):
    # session + user, channels + cursors, the running backfill's order count,
    # the ends and relists coming up, the runner's flow states, three order
    # counts, the stock counts, the oversold items shown, the latest orders
    with django_assert_num_queries(13):
        logged_in_client.get(reverse("dashboard"))
    for n in range(20, 40):
        make_order(n, unlinked=True)
        make_item(f"X-{n}", 0, promised=1)
    connected_channel("Gamma", "gamma-shop")
    with django_assert_num_queries(13):
        logged_in_client.get(reverse("dashboard"))


def test_order_import_progress_costs_one_query_for_any_number_of_channels(
    shop: dict[str, Any], django_assert_num_queries: Any
):
    second = connected_channel("Gamma", "gamma-shop")
    SyncCursor.objects.create(
        channel=second, stream="order_gap", value="2026-11-25T00:00:00+00:00"
    )
    make_order(50, channel=second)
    make_order(51, channel=second)

    # channels, their cursors, one grouped count of the importing channels'
    # orders, the ends and relists coming up, the runner's flow states
    with django_assert_num_queries(5):
        lines = dashboard.channel_health()

    progress = {line.channel.name: line.status.progress for line in lines}
    assert progress["Beta"] is None
    alpha, gamma = progress["Alpha"], progress["Gamma"]
    assert alpha is not None
    assert gamma is not None
    assert (alpha.stream, alpha.orders) == ("order_backfill", 12)
    assert (gamma.stream, gamma.orders) == ("order_gap", 2)
    assert gamma.reached == datetime(2026, 11, 25, tzinfo=UTC)
