"""*Sync Orders From* after the first sync: moved earlier, the missing range is
imported once; moved later, nothing already imported changes."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from hub.allegro.client import AllegroClient
from hub.allegro.errors import TransientError
from hub.allegro.models import Channel, SyncCursor
from hub.allegro.sync.order_backfill import BACKFILL, COVERED
from hub.allegro.sync.orders import sync_orders
from hub.allegro.tests.fixtures import HubEmulator
from hub.allegro.tests.test_sync_orders import buy_in_the_past
from hub.catalog import stock
from hub.catalog.models import Allocation, StockItem
from hub.orders.models import Order, OrderEvent

pytestmark = pytest.mark.django_db

LIST = r"^/order/checkout-forms$"


@pytest.fixture
def offer(emulator: HubEmulator) -> str:
    item = StockItem.objects.create(sku="MUG-1", title="Kubek")
    stock.set_on_hand(item, stock.default_location(), 50)
    return emulator.add_offer(
        emulator.seller_id, "Kubek", external_id="MUG-1", quantity=500
    )


def imported() -> list[str]:
    return sorted(Order.objects.values_list("external_id", flat=True))


def cursor(channel: Channel, stream: str) -> str:
    return SyncCursor.objects.get(channel=channel, stream=stream).value


def move_from(channel: Channel, days_ago: float) -> datetime:
    channel.sync_orders_from = timezone.now() - timedelta(days=days_ago)
    channel.save(update_fields=["sync_orders_from"])
    return channel.sync_orders_from


def test_moved_earlier_imports_the_missing_range_once(
    emulator: HubEmulator, channel: Channel, allegro_client: AllegroClient, offer: str
):
    oldest = buy_in_the_past(emulator, offer, days_ago=40)
    old = buy_in_the_past(emulator, offer, days_ago=20, quantity=2)
    recent = buy_in_the_past(emulator, offer, days_ago=5)
    first_from = move_from(channel, 10)
    sync_orders(channel.pk, allegro_client)
    assert imported() == [recent]
    assert cursor(channel, COVERED) == first_from.isoformat()

    earlier = move_from(channel, 30)
    lists = emulator.count("GET", LIST)
    result = sync_orders(channel.pk, allegro_client)

    assert imported() == sorted([old, recent])
    assert result.created == 1
    assert cursor(channel, BACKFILL) == ""
    assert cursor(channel, COVERED) == earlier.isoformat()
    # Only the missing 20 days were listed (7-day windows: 3 reads), not up to now.
    assert emulator.count("GET", LIST) - lists == 3

    lists = emulator.count("GET", LIST)
    result = sync_orders(channel.pk, allegro_client)

    assert emulator.count("GET", LIST) == lists  # read once
    assert result.created == 0
    assert oldest not in imported()
    assert Order.objects.get(external_id=old).lines.get().quantity == 2
    assert OrderEvent.objects.filter(kind=OrderEvent.Kind.IMPORTED).count() == 2
    assert sorted(Allocation.objects.values_list("quantity", flat=True)) == [1, 2]


def test_moved_later_changes_nothing_imported(
    emulator: HubEmulator, channel: Channel, allegro_client: AllegroClient, offer: str
):
    old = buy_in_the_past(emulator, offer, days_ago=20)
    recent = buy_in_the_past(emulator, offer, days_ago=5)
    first_from = move_from(channel, 30)
    sync_orders(channel.pk, allegro_client)

    move_from(channel, 10)
    lists = emulator.count("GET", LIST)
    result = sync_orders(channel.pk, allegro_client)
    # … and back, still within what is covered: nothing to read either.
    move_from(channel, 25)
    sync_orders(channel.pk, allegro_client)

    assert imported() == sorted([old, recent])
    assert (result.created, result.updated) == (0, 0)
    assert emulator.count("GET", LIST) == lists
    assert cursor(channel, COVERED) == first_from.isoformat()
    assert Allocation.objects.count() == 2


def test_set_after_a_first_sync_without_it_imports_what_came_before(
    emulator: HubEmulator, channel: Channel, allegro_client: AllegroClient, offer: str
):
    old = buy_in_the_past(emulator, offer, days_ago=3)
    sync_orders(channel.pk, allegro_client)  # no Sync Orders From: new orders only
    new = emulator.purchase(offer)
    sync_orders(channel.pk, allegro_client)
    assert imported() == [new]

    move_from(channel, 7)
    result = sync_orders(channel.pk, allegro_client)

    assert imported() == sorted([old, new])
    assert result.created == 1
    assert OrderEvent.objects.filter(kind=OrderEvent.Kind.IMPORTED).count() == 2


def test_moved_earlier_while_the_first_backfill_runs_waits_for_it(
    emulator: HubEmulator, channel: Channel, allegro_client: AllegroClient, offer: str
):
    old = buy_in_the_past(emulator, offer, days_ago=20)
    move_from(channel, 10)
    emulator.add_fault(LIST, "503", count=None, skip=1)  # the backfill stops
    with pytest.raises(TransientError):
        sync_orders(channel.pk, allegro_client)
    assert cursor(channel, BACKFILL) != ""

    move_from(channel, 30)
    emulator.clear_faults()
    sync_orders(channel.pk, allegro_client)  # finishes the first backfill
    sync_orders(channel.pk, allegro_client)  # then the added range

    assert imported() == [old]
    assert cursor(channel, BACKFILL) == ""
