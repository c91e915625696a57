"""Buyer edits (BUYER_MODIFIED) and allocation arithmetic over several locations:
the journal's changes move exactly the promised units at the channel's
fulfilment location, and never touch another location's stock."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from django.utils import timezone

from hub.allegro.client import AllegroClient, client_for_channel
from hub.allegro.models import Channel
from hub.allegro.sync.orders import sync_orders
from hub.allegro.tests.fixtures import HubEmulator
from hub.allegro.tests.test_sync_orders import buy_in_the_past
from hub.catalog import stock
from hub.catalog.models import Allocation, Location, StockItem
from hub.orders.models import Order, OrderEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(db: None) -> dict[str, Location]:
    return {
        "front": stock.default_location(),
        "back": Location.objects.create(name="Back"),
    }


@pytest.fixture
def items(shop: dict[str, Location]) -> dict[str, StockItem]:
    result = {}
    for sku in ("MUG-1", "CUP-2"):
        item = StockItem.objects.create(sku=sku, title=sku)
        stock.set_on_hand(item, shop["front"], 30)
        stock.set_on_hand(item, shop["back"], 10)
        result[sku] = item
    return result


def allocations() -> set[tuple[str, str, str, int]]:
    """(line's offer id, item sku, location, quantity) of every allocation."""
    from hub.orders.models import OrderLine

    lines = {line.allocation_reference: line for line in OrderLine.objects.all()}
    return {
        (lines[a.reference].offer_id, a.item.sku, a.location.name, a.quantity)
        for a in Allocation.objects.select_related("item", "location")
    }


def test_buyer_edits_reallocate_quantities_and_lines_at_the_fulfilment_location(
    emulator: HubEmulator,
    channel: Channel,
    allegro_client: AllegroClient,
    shop: dict[str, Location],
    items: dict[str, StockItem],
):
    mug, cup = items["MUG-1"], items["CUP-2"]
    mug_offer = emulator.add_offer(
        emulator.seller_id, "Mug", external_id="MUG-1", quantity=99
    )
    cup_offer = emulator.add_offer(
        emulator.seller_id, "Cup", external_id="CUP-2", quantity=99
    )
    channel.fulfilment_location = shop["back"]
    channel.save()
    sync_orders(channel.pk, allegro_client)
    form = emulator.purchase(mug_offer, quantity=2)
    other = emulator.purchase(mug_offer, quantity=1)
    sync_orders(channel.pk, allegro_client)
    assert allocations() == {
        (mug_offer, "MUG-1", "Back", 2),
        (mug_offer, "MUG-1", "Back", 1),
    }
    assert stock.available(mug, shop["back"]) == 7

    # The buyer raises the mug to 4 and adds 3 cups.
    mug_line = emulator.checkout_form(form)["lineItems"][0]["id"]
    emulator.modify(form, {mug_line: 4}, add={cup_offer: 3})
    sync_orders(channel.pk, allegro_client)

    assert allocations() == {
        (mug_offer, "MUG-1", "Back", 4),
        (cup_offer, "CUP-2", "Back", 3),
        (mug_offer, "MUG-1", "Back", 1),
    }
    assert (stock.available(mug, shop["back"]), stock.available(cup, shop["back"])) == (
        5,
        7,
    )
    assert (
        stock.available(mug, shop["front"]),
        stock.available(cup, shop["front"]),
    ) == (30, 30)
    assert stock.available(mug) == 35  # summed over both locations

    # Then drops the mug line; the same event delivered twice changes nothing more.
    emulator.modify(form, {mug_line: 0})
    emulator.inject_duplicate_events(1)
    sync_orders(channel.pk, allegro_client)

    assert allocations() == {
        (cup_offer, "CUP-2", "Back", 3),
        (mug_offer, "MUG-1", "Back", 1),
    }
    assert [li.offer_id for li in Order.objects.get(external_id=form).lines.all()] == [
        cup_offer
    ]
    assert stock.available(mug, shop["back"]) == 9
    history = OrderEvent.objects.filter(order__external_id=form).order_by("id")
    # One line per edit (what one read found), the duplicate adds nothing.
    assert [str(e.message) for e in history if e.kind == OrderEvent.Kind.CHANGED] == [
        "Changed: total. Order lines changed.",
    ] * 2

    # Paying, then cancelling, leaves the other order's promise alone.
    emulator.pay(form)
    emulator.cancel(form)
    sync_orders(channel.pk, allegro_client)
    assert allocations() == {(mug_offer, "MUG-1", "Back", 1)}
    assert Order.objects.get(external_id=other).status == Order.Status.OPEN
    assert (stock.on_hand(mug), stock.on_hand(cup)) == (40, 40)  # nothing consumed


def test_an_event_without_a_revision_always_rereads_its_form(
    emulator: HubEmulator, channel: Channel, allegro_client: AllegroClient
):
    from hub.allegro import schemas
    from hub.allegro.sync.orders import _named_forms

    offer = emulator.add_offer(emulator.seller_id, "Mug", quantity=9)
    sync_orders(channel.pk, allegro_client)
    form = emulator.purchase(offer)
    sync_orders(channel.pk, allegro_client)
    # Allegro's revision is optional (SPEC CheckoutFormReference): a form and an
    # event without one say nothing about being the same version.
    Order.objects.update(revision="")
    event = schemas.OrderEvent(
        id="1", type="BUYER_MODIFIED", occurred_at=emulator.clock.now(),
        checkout_form_id=form,
    )  # fmt: skip

    assert list(_named_forms(channel, [event])) == [form]


def test_orders_bought_and_paid_while_the_backfill_runs_come_once(
    emulator: HubEmulator,
    channel: Channel,
    instant_retries: dict[str, Any],
    items: dict[str, StockItem],
):
    """event-stats first, then the backfill, then the journal: an order bought
    after the journal's starting point is in both the backfill and the journal,
    and a payment of a backfilled order is in the journal — each lands once."""
    offer = emulator.add_offer(
        emulator.seller_id, "Mug", external_id="MUG-1", quantity=99
    )
    old = buy_in_the_past(emulator, offer, days_ago=3)
    channel.sync_orders_from = timezone.now() - timedelta(days=10)
    channel.save()
    during: list[str] = []

    def allegro(request: httpx.Request) -> httpx.Response:
        response = emulator.handle(request)
        until = request.url.params.get("lineItems.boughtAt.lte", "")
        if until > emulator.clock.now().isoformat() and not during:
            # Right after the backfill's last read: only the journal has these.
            during.append(emulator.purchase(offer, quantity=2))
            emulator.pay(old)
        return response

    transport = httpx.MockTransport(allegro)
    with client_for_channel(channel, transport=transport, **instant_retries) as client:
        result = sync_orders(channel.pk, client)

    assert {o.external_id for o in Order.objects.all()} == {old, during[0]}
    assert result.created == 2
    assert Order.objects.get(external_id=old).paid is True
    assert OrderEvent.objects.filter(kind=OrderEvent.Kind.IMPORTED).count() == 2
    assert sorted(a.quantity for a in Allocation.objects.all()) == [1, 2]
