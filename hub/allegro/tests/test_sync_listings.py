"""Listings: every offer imported, kept current from the journal, linked by SKU."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hub.allegro.client import AllegroClient
from hub.allegro.models import Channel, Listing, ListingEvent
from hub.allegro.sync.listings import clear_manual_link, set_link, sync_listings
from hub.allegro.sync.orders import sync_orders
from hub.allegro.tests.fixtures import HubEmulator
from hub.catalog import stock
from hub.catalog.models import StockItem
from hub.orders.models import OrderLine

pytestmark = pytest.mark.django_db


def listing(offer_id: str) -> Listing:
    return Listing.objects.get(offer_id=offer_id)


def test_first_pass_imports_every_offer_and_links_by_exact_sku(
    emulator: HubEmulator, channel: Channel, allegro_client: AllegroClient
) -> None:
    mug = StockItem.objects.create(sku="MUG-1", title="Mug")
    StockItem.objects.create(sku="cup-2", title="Cup")
    seller = emulator.seller_id
    live = emulator.add_offer(seller, "Mug", external_id="MUG-1", quantity=7)
    other_case = emulator.add_offer(seller, "Cup", external_id="CUP-2", quantity=3)
    auction = emulator.add_offer(seller, "Vase", external_id="V", format="AUCTION")
    draft = emulator.add_offer(seller, "Draft", status="INACTIVE")
    ended = emulator.add_offer(seller, "Old", external_id="MUG-1", status="ENDED")

    result = sync_listings(channel.pk, allegro_client)

    assert result.reconciled
    assert (result.created, result.linked) == (5, 2)
    assert listing(live).stock_item == mug
    assert listing(live).link_method == Listing.LinkMethod.AUTO
    assert listing(live).known_quantity == 7
    assert listing(live).title == "Mug"
    assert listing(ended).stock_item == mug
    assert listing(ended).status == "ENDED"
    assert listing(other_case).stock_item is None  # exact only, never a guess
    assert listing(auction).format == "AUCTION"
    assert listing(draft).status == "INACTIVE"
    # A second pass reads only the (empty) journal: no offer list, nothing new.
    before = emulator.count("GET", "/sale/offers")
    again = sync_listings(channel.pk, allegro_client)
    assert (again.reconciled, again.created, again.changed) == (False, 0, 0)
    assert emulator.count("GET", "/sale/offers") == before


def test_journal_brings_sales_and_hand_changes_made_on_allegro(
    emulator: HubEmulator, channel: Channel, allegro_client: AllegroClient
) -> None:
    offer = emulator.add_offer(emulator.seller_id, "Mug", quantity=5)
    sync_listings(channel.pk, allegro_client)
    emulator.purchase(offer, quantity=2)
    result = sync_listings(channel.pk, allegro_client)
    assert result.events == 1
    assert listing(offer).known_quantity == 3
    assert listing(offer).quantity_dropped_at is not None
    emulator.end_offer(offer, "USER")
    sync_listings(channel.pk, allegro_client)
    found = listing(offer)
    assert (found.status, found.ended_by) == ("ENDED", "USER")
    history = [str(e.message) for e in ListingEvent.objects.filter(listing=found)]
    assert history == [
        "quantity on Allegro 5 → 3",
        "status ACTIVE → ENDED",
    ]


def test_offer_gone_from_allegro_is_archived_by_the_reconcile(
    emulator: HubEmulator, channel: Channel, allegro_client: AllegroClient
) -> None:
    offer = emulator.add_offer(emulator.seller_id, "Old", status="ENDED")
    sync_listings(channel.pk, allegro_client)
    emulator.advance(timedelta(days=61).total_seconds())  # archived after 60 days
    sync_listings(channel.pk, allegro_client, full=True)
    assert listing(offer).status == "ARCHIVED"


def test_hand_made_link_and_unlink_are_never_overwritten(
    emulator: HubEmulator, channel: Channel, allegro_client: AllegroClient
) -> None:
    mug = StockItem.objects.create(sku="MUG-1", title="Mug")
    cup = StockItem.objects.create(sku="CUP-2", title="Cup")
    linked = emulator.add_offer(emulator.seller_id, "A", external_id="MUG-1")
    unlinked = emulator.add_offer(emulator.seller_id, "B", external_id="MUG-1")
    sync_listings(channel.pk, allegro_client)
    set_link(listing(linked), cup, who="user alice")
    set_link(listing(unlinked), None, who="user alice")
    sync_listings(channel.pk, allegro_client, full=True)
    assert listing(linked).stock_item == cup
    assert listing(unlinked).stock_item is None
    clear_manual_link(listing(unlinked))  # back to automatic: external id = SKU
    assert listing(unlinked).stock_item == mug


def test_item_created_later_is_linked_and_its_waiting_order_lines_too(
    emulator: HubEmulator, channel: Channel, allegro_client: AllegroClient
) -> None:
    offer = emulator.add_offer(
        emulator.seller_id, "Mug", external_id="MUG-9", quantity=5
    )
    sync_orders(channel.pk, allegro_client)  # the first pass starts the journal
    emulator.purchase(offer, quantity=2)
    sync_orders(channel.pk, allegro_client)
    sync_listings(channel.pk, allegro_client)
    line = OrderLine.objects.get()
    assert line.stock_item is None
    assert listing(offer).stock_item is None

    mug = StockItem.objects.create(sku="MUG-9", title="Mug")
    result = sync_listings(channel.pk, allegro_client)

    assert (result.linked, result.lines_linked) == (1, 1)
    line.refresh_from_db()
    assert line.stock_item == mug
    assert stock.allocated(mug) == 2  # the order's units are promised now
    assert sync_listings(channel.pk, allegro_client).lines_linked == 0


def test_disabled_channel_reads_nothing(
    emulator: HubEmulator, channel: Channel, allegro_client: AllegroClient
) -> None:
    emulator.add_offer(emulator.seller_id, "Mug")
    Channel.objects.filter(pk=channel.pk).update(enabled=False)
    result = sync_listings(channel.pk, allegro_client)
    assert result.skipped
    assert not Listing.objects.exists()
    assert emulator.count("GET", "/sale/offers") == 0
