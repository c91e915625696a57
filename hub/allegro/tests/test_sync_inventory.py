"""Inventory push: targets, grouping, the outbox, task reports, what is never sent."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone, translation

from hub.allegro.client import AllegroClient
from hub.allegro.errors import TransientError
from hub.allegro.models import Channel, Listing, ListingEvent, RemoteCommand
from hub.allegro.sync.inventory import has_stock_changes, push_changed, push_inventory
from hub.allegro.sync.listings import sync_listings
from hub.allegro.sync.orders import sync_orders
from hub.allegro.tests.fixtures import HubEmulator
from hub.catalog import stock
from hub.catalog.models import Location, StockItem
from hub.text.message import Message

pytestmark = pytest.mark.django_db

PUT = r"/sale/offer-quantity-change-commands/[^/]+"


def no_wait(_seconds: float) -> None:
    return None


def push(channel: Channel, client: AllegroClient, **kwargs: Any):  # type: ignore[no-untyped-def]
    return push_inventory(channel.pk, client, sleep=no_wait, **kwargs)


def item(sku: str, on_hand: int, location: Location | None = None) -> StockItem:
    created = StockItem.objects.create(sku=sku, title=sku)
    stock.set_on_hand(created, location or stock.default_location(), on_hand)
    return created


def sync_on(channel: Channel) -> None:
    Channel.objects.filter(pk=channel.pk).update(inventory_sync=True)


def mug_offer(
    emulator: HubEmulator, channel: Channel, client: AllegroClient, quantity: int = 1
) -> str:
    """Inventory Sync on, item MUG with 5 on hand, its offer at ``quantity``."""
    sync_on(channel)
    item("MUG", 5)
    offer = emulator.add_offer(
        emulator.seller_id, "M", external_id="MUG", quantity=quantity
    )
    sync_listings(channel.pk, client)
    return offer


def quantity_puts(emulator: HubEmulator) -> list[dict[str, Any]]:
    return [
        r
        for r in emulator.requests
        if r["method"] == "PUT" and "offer-quantity-change-commands" in r["path"]
    ]


def report_reads(emulator: HubEmulator) -> list[str]:
    """The quantity-command reports read: "summary" or "tasks", in order."""
    return [
        "tasks" if r["path"].endswith("/tasks") else "summary"
        for r in emulator.requests
        if r["method"] == "GET" and "offer-quantity-change-commands" in r["path"]
    ]


def test_pushes_differences_grouped_by_value_in_commands_of_at_most_1000(
    emulator: HubEmulator, channel: Channel, allegro_client: AllegroClient
) -> None:
    sync_on(channel)
    seven, three, same = item("SEVEN", 7), item("THREE", 3), item("SAME", 4)
    offers: dict[str, list[str]] = {"SEVEN": [], "THREE": [], "SAME": []}
    for n in range(2100):
        offers["SEVEN"].append(
            emulator.add_offer(emulator.seller_id, f"o{n}", external_id="SEVEN")
        )
    offers["THREE"].append(
        emulator.add_offer(emulator.seller_id, "t", external_id="THREE", quantity=9)
    )
    offers["SAME"].append(
        emulator.add_offer(emulator.seller_id, "s", external_id="SAME", quantity=4)
    )
    sync_listings(channel.pk, allegro_client)

    result = push(channel, allegro_client)

    puts = quantity_puts(emulator)
    sizes = sorted(
        (
            r["json"]["modification"]["value"],
            len(r["json"]["offerCriteria"][0]["offers"]),
        )
        for r in puts
    )
    assert sizes == [(3, 1), (7, 100), (7, 1000), (7, 1000)]
    assert (result.pushed, result.commands, result.confirmed) == (2101, 4, 2101)
    assert {emulator.offer(o)["stock"]["available"] for o in offers["SEVEN"]} == {7}
    assert emulator.offer(offers["THREE"][0])["stock"]["available"] == 3
    assert set(Listing.objects.values_list("push_state", flat=True)) == {
        "DONE",
        "",  # SAME: already right, never pushed
    }
    assert RemoteCommand.objects.filter(state="DONE").count() == 4
    # Every offer counted SUCCESS in each summary: the task lists are not read.
    assert report_reads(emulator) == ["summary"] * 4
    # Nothing changed: the next pass sends nothing.
    again = push(channel, allegro_client)
    assert (again.pushed, len(quantity_puts(emulator))) == (0, 4)
    assert seven
    assert three
    assert same


def test_timeline_says_why_what_was_sent_and_what_allegro_answered(
    emulator: HubEmulator, channel: Channel, allegro_client: AllegroClient
) -> None:
    sync_on(channel)
    item("MUG", 5)
    offer = emulator.add_offer(emulator.seller_id, "Mug", external_id="MUG", quantity=2)
    sync_listings(channel.pk, allegro_client)
    push(channel, allegro_client)
    listing = Listing.objects.get(offer_id=offer)
    command = RemoteCommand.objects.get()
    events = list(ListingEvent.objects.filter(listing=listing))
    assert [e.kind for e in events] == ["LINKED", "DECIDED", "SENT", "CONFIRMED"]
    assert str(events[1].message) == (
        f"Available 5 at all locations, Allegro shows 2: set it to 5 "
        f"(command {command.command_id})."
    )
    assert events[3].message == Message("inventory.confirmed", n=5)  # a code
    with translation.override("pl"):
        assert str(events[3].message) == "Allegro potwierdziło ilość 5."
    assert {e.command_id for e in events[1:]} == {command.pk}
    assert command.results == {offer: {"status": "SUCCESS", "message": ""}}


def test_target_uses_the_chosen_location_and_allocations(
    emulator: HubEmulator, channel: Channel, allegro_client: AllegroClient
) -> None:
    back = Location.objects.create(name="Back")
    mug = item("MUG", 10)
    stock.set_on_hand(mug, back, 4)
    stock.allocate(mug, back, 1, "order-line:x")
    offer = emulator.add_offer(emulator.seller_id, "Mug", external_id="MUG", quantity=1)
    Channel.objects.filter(pk=channel.pk).update(inventory_sync=True)
    sync_listings(channel.pk, allegro_client)
    push(channel, allegro_client)
    assert emulator.offer(offer)["stock"]["available"] == 13  # 10 + 4 − 1
    Channel.objects.filter(pk=channel.pk).update(inventory_location=back)
    push(channel, allegro_client)
    assert emulator.offer(offer)["stock"]["available"] == 3  # Back only: 4 − 1


def test_zero_is_never_sent_and_the_live_offer_is_flagged(
    emulator: HubEmulator, channel: Channel, allegro_client: AllegroClient
) -> None:
    sync_on(channel)
    mug = item("MUG", 0)
    stock.allocate(mug, stock.default_location(), 2, "order-line:1")  # −2
    offer = emulator.add_offer(emulator.seller_id, "Mug", external_id="MUG", quantity=5)
    sync_listings(channel.pk, allegro_client)
    result = push(channel, allegro_client)
    assert quantity_puts(emulator) == []
    assert result.out_of_stock == 1
    listing = Listing.objects.get(offer_id=offer)
    assert listing.target == -2
    assert listing.out_of_stock_live
    assert (
        ListingEvent.objects.filter(listing=listing, kind="OUT_OF_STOCK").count() == 1
    )
    push(channel, allegro_client)  # flagged once, not on every pass
    assert (
        ListingEvent.objects.filter(listing=listing, kind="OUT_OF_STOCK").count() == 1
    )


def test_auctions_and_ended_offers_are_not_pushed(
    emulator: HubEmulator, channel: Channel, allegro_client: AllegroClient
) -> None:
    sync_on(channel)
    item("MUG", 5)
    emulator.add_offer(emulator.seller_id, "A", external_id="MUG", format="AUCTION")
    emulator.add_offer(emulator.seller_id, "E", external_id="MUG", status="ENDED")
    emulator.add_offer(emulator.seller_id, "D", external_id="MUG", status="INACTIVE")
    sync_listings(channel.pk, allegro_client)
    assert push(channel, allegro_client).pushed == 0
    assert quantity_puts(emulator) == []


def test_inventory_sync_off_or_channel_disabled_sends_nothing(
    emulator: HubEmulator, channel: Channel, allegro_client: AllegroClient
) -> None:
    item("MUG", 5)
    offer = emulator.add_offer(emulator.seller_id, "Mug", external_id="MUG", quantity=2)
    sync_listings(channel.pk, allegro_client)
    off = push(channel, allegro_client)
    assert off.skipped.startswith("Inventory Sync is off")
    assert Listing.objects.get(offer_id=offer).target == 5  # shown on the screen
    Channel.objects.filter(pk=channel.pk).update(inventory_sync=True, enabled=False)
    assert push(channel, allegro_client).skipped
    assert quantity_puts(emulator) == []
    assert emulator.offer(offer)["stock"]["available"] == 2


def test_allegro_side_sale_is_not_pushed_twice(
    emulator: HubEmulator, channel: Channel, allegro_client: AllegroClient
) -> None:
    sync_on(channel)
    mug = item("MUG", 10)
    offer = emulator.add_offer(emulator.seller_id, "M", external_id="MUG", quantity=10)
    sync_orders(channel.pk, allegro_client)
    sync_listings(channel.pk, allegro_client)
    emulator.purchase(offer, quantity=3)  # Allegro: 10 → 7 at once

    # The sale is on the offer journal before the hub imported the order: the
    # hub must not raise the offer back to 10 meanwhile.
    early = push(channel, allegro_client)
    assert (early.pushed, quantity_puts(emulator)) == (0, [])
    assert emulator.offer(offer)["stock"]["available"] == 7

    sync_orders(channel.pk, allegro_client)  # allocates 3: available 7
    late = push(channel, allegro_client)
    assert (late.pushed, quantity_puts(emulator)) == (0, [])
    assert stock.available(mug) == 7
    assert emulator.offer(offer)["stock"]["available"] == 7


def test_refused_offer_keeps_allegros_message_and_is_retried_later(
    emulator: HubEmulator, channel: Channel, allegro_client: AllegroClient
) -> None:
    sync_on(channel)
    mug = item("MUG", 5)
    good = emulator.add_offer(emulator.seller_id, "M", external_id="MUG", quantity=1)
    sync_listings(channel.pk, allegro_client)
    # A listing Allegro does not know (e.g. removed meanwhile).
    gone = Listing.objects.create(
        channel=channel, offer_id="999", status="ACTIVE", known_quantity=1,
        stock_item=mug, link_method="MANUAL",
    )  # fmt: skip

    result = push(channel, allegro_client)

    assert (result.confirmed, result.failed) == (1, 1)
    # A FAIL in the summary: the task list is read for Allegro's message.
    assert report_reads(emulator) == ["summary", "tasks"]
    gone.refresh_from_db()
    assert gone.push_state == "FAILED"
    # Allegro's own words, kept as they came.
    assert gone.push_message == Message.literal(
        "Offer not found (OfferNotFoundException)"
    )
    assert gone.known_quantity == 1  # not assumed
    assert Listing.objects.get(offer_id=good).known_quantity == 5
    assert push(channel, allegro_client).pushed == 0  # not asked again at once
    Listing.objects.filter(pk=gone.pk).update(
        pushed_at=timezone.now() - timedelta(hours=1)
    )
    assert push(channel, allegro_client).pushed == 1  # retried after a while


def test_retry_after_a_failed_put_reuses_the_command_id(
    emulator: HubEmulator, channel: Channel, allegro_client: AllegroClient
) -> None:
    offer = mug_offer(emulator, channel, allegro_client)
    emulator.add_fault(PUT, "503", count=20, method="PUT")
    with pytest.raises(TransientError):
        push(channel, allegro_client)
    command = RemoteCommand.objects.get()
    assert (command.state, command.attempts) == ("NEW", 1)
    assert Listing.objects.get(offer_id=offer).push_state == "PENDING"
    emulator.clear_faults()

    push(channel, allegro_client)

    command.refresh_from_db()
    assert (command.state, command.attempts) == ("DONE", 2)
    paths = {r["path"] for r in quantity_puts(emulator)}
    assert paths == {f"/sale/offer-quantity-change-commands/{command.command_id}"}
    assert emulator.offer(offer)["stock"]["available"] == 5
    assert RemoteCommand.objects.count() == 1


def test_lost_answer_reads_the_accepted_command_back_instead_of_sending_another(
    emulator: HubEmulator, channel: Channel, allegro_client: AllegroClient
) -> None:
    offer = mug_offer(emulator, channel, allegro_client)
    # Allegro takes the PUT but the answer never arrives (timeout, then a crash).
    emulator.add_fault(PUT, "timeout", count=20, method="PUT")
    with pytest.raises(TransientError):
        push(channel, allegro_client)
    command = RemoteCommand.objects.get()
    emulator.clear_faults()
    allegro_client.put_quantity_command(str(command.command_id), [offer], value=5)

    push(channel, allegro_client)  # PUT again: 409, read back, report read

    command.refresh_from_db()
    assert command.state == "DONE"
    assert RemoteCommand.objects.count() == 1
    assert Listing.objects.get(offer_id=offer).push_state == "DONE"
    assert len(emulator.commands) == 1


def test_report_not_ready_is_read_by_the_next_pass(
    emulator: HubEmulator, channel: Channel, allegro_client: AllegroClient
) -> None:
    emulator.config.command_delay_seconds = 30
    offer = mug_offer(emulator, channel, allegro_client)
    first = push(channel, allegro_client, wait=0)
    assert (first.pushed, first.confirmed, first.waiting) == (1, 0, 1)
    listing = Listing.objects.get(offer_id=offer)
    assert (listing.push_state, listing.known_quantity) == ("PENDING", 1)
    assert push(channel, allegro_client, wait=0).pushed == 0  # in flight: not again
    emulator.advance(31)
    second = push(channel, allegro_client, wait=0)
    assert (second.pushed, second.confirmed) == (0, 1)
    assert len(quantity_puts(emulator)) == 1


def test_stock_change_triggers_a_push_of_only_that_items_listings(
    emulator: HubEmulator, channel: Channel, allegro_client: AllegroClient
) -> None:
    sync_on(channel)
    mug, cup = item("MUG", 5), item("CUP", 5)
    m = emulator.add_offer(emulator.seller_id, "M", external_id="MUG", quantity=5)
    emulator.add_offer(emulator.seller_id, "C", external_id="CUP", quantity=5)
    sync_listings(channel.pk, allegro_client)
    push_changed(channel.pk, allegro_client, sleep=no_wait)
    assert not has_stock_changes(channel.pk)
    stock.set_on_hand(mug, stock.default_location(), 8, reason="user alice")
    assert has_stock_changes(channel.pk)

    result = push_changed(channel.pk, allegro_client, sleep=no_wait)

    assert result.pushed == 1
    put = quantity_puts(emulator)[-1]["json"]
    assert put["offerCriteria"][0]["offers"] == [{"id": m}]
    assert emulator.offer(m)["stock"]["available"] == 8
    assert not has_stock_changes(channel.pk)
    assert cup


def test_item_created_after_the_listings_import_is_linked_and_pushed(
    emulator: HubEmulator, channel: Channel, allegro_client: AllegroClient
) -> None:
    sync_on(channel)
    offer = emulator.add_offer(emulator.seller_id, "N", external_id="NEW", quantity=1)
    sync_listings(channel.pk, allegro_client)
    push_changed(channel.pk, allegro_client, sleep=no_wait)
    item("NEW", 6)  # created with stock, e.g. by a CSV import

    result = push_changed(channel.pk, allegro_client, sleep=no_wait)

    assert (result.pushed, result.confirmed) == (1, 1)
    assert Listing.objects.get(offer_id=offer).link_method == "AUTO"
    assert emulator.offer(offer)["stock"]["available"] == 6
