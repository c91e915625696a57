"""Crashes between planning and Allegro's report lose nothing and do nothing
twice; an ended auction is listed again as a new offer with lineage."""

from __future__ import annotations

import httpx
import pytest

from hub.allegro.client import client_for_channel
from hub.allegro.models import Listing, ListingEvent, PendingAction, RemoteCommand
from hub.allegro.sync.lifecycle import sync_lifecycle
from hub.allegro.sync.orders import sync_orders
from hub.allegro.tests.lifecycle_helpers import (
    MOD,
    PUB,
    QTY,
    item,
    listed,
    sent,
    set_stock,
    status_on_allegro,
)
from hub.orders.models import OrderLine

pytestmark = pytest.mark.django_db


class Crash(BaseException):
    """The process dies here (not an error anything may catch)."""


class CrashingTransport(httpx.BaseTransport):
    """The emulator, except that the process dies once at one request: before it
    reaches Allegro, or after Allegro handled it but before the answer is used."""

    def __init__(self, inner, method, path_part, *, after):
        self.inner, self.method, self.path_part, self.after = (
            inner,
            method,
            path_part,
            after,
        )
        self.armed = True

    def handle_request(self, request):
        hit = request.method == self.method and self.path_part in request.url.path
        if not (self.armed and hit):
            return self.inner.handle_request(request)
        self.armed = False
        if self.after:
            self.inner.handle_request(request)
        raise Crash


def crashing_client(channel, emulator, instant_retries, method, path, after):
    transport = CrashingTransport(emulator.transport, method, path, after=after)
    return client_for_channel(channel, transport=transport, **instant_retries)


def commands_on_allegro(emulator, kind):
    return [c for c in emulator.commands.values() if c.kind == kind]


def configure(channel, **options):
    for name, value in options.items():
        setattr(channel, name, value)
    channel.save()


@pytest.mark.parametrize(
    ("method", "path", "after"),
    [
        ("PUT", PUB, False),  # planned and stored, never sent
        ("PUT", PUB, True),  # Allegro took it, the answer was lost
        ("GET", "/tasks", True),  # the report was read, not recorded
    ],
)
def test_crash_around_an_end_ends_once_and_loses_nothing(
    channel, allegro_client, emulator, instant_retries, method, path, after
):
    configure(channel, end_listings=True, no_manual_confirmation=True)
    listing = listed(emulator, channel, item("A", 0))
    crashing = crashing_client(channel, emulator, instant_retries, method, path, after)

    with pytest.raises(Crash):
        sync_lifecycle(channel.pk, crashing)
    sync_lifecycle(channel.pk, allegro_client)
    sync_lifecycle(channel.pk, allegro_client)

    assert len(commands_on_allegro(emulator, "publication")) == 1
    # Every send used the one command id stored before the first attempt.
    command = RemoteCommand.objects.get()
    puts = [r["path"] for r in emulator.requests if r["method"] == "PUT"]
    assert set(puts) == {f"{PUB}{command.command_id}"}
    assert command.state == RemoteCommand.State.DONE
    assert status_on_allegro(emulator, listing.offer_id) == "ENDED"
    listing.refresh_from_db()
    assert listing.relist_pending_since is not None
    assert PendingAction.objects.get().state == PendingAction.State.DONE
    confirmed = ListingEvent.objects.filter(
        listing=listing, kind=ListingEvent.Kind.CONFIRMED
    )
    assert confirmed.count() == 1


def test_crash_between_relist_steps_resumes_where_it_stopped(
    channel, allegro_client, emulator, instant_retries
):
    configure(
        channel,
        relist_items=True,
        no_manual_confirmation=True,
        relist_duration="P7D",
    )
    stock = item("A", 3)
    listing = listed(emulator, channel, stock, quantity=0, status="ENDED")
    Listing.objects.filter(pk=listing.pk).update(
        ended_by="EMPTY_STOCK",
        ended_at=emulator.clock.now(),
        relist_pending_since=emulator.clock.now(),
    )
    crashing = crashing_client(channel, emulator, instant_retries, "PUT", MOD, True)

    with pytest.raises(Crash):
        sync_lifecycle(channel.pk, crashing)
    sync_lifecycle(channel.pk, allegro_client)

    assert len(commands_on_allegro(emulator, "quantity")) == 1
    assert len(commands_on_allegro(emulator, "modification")) == 1
    assert len(commands_on_allegro(emulator, "publication")) == 1
    assert len(sent(emulator, QTY)) == 1  # the done step was not sent again
    assert status_on_allegro(emulator, listing.offer_id) == "ACTIVE"
    assert emulator.offer(listing.offer_id)["publication"]["duration"] == "P7D"


def auction_channel(channel):
    configure(
        channel,
        end_listings=True,
        end_auctions=True,
        end_auctions_with_bids=True,
        relist_items=True,
        no_manual_confirmation=True,
        relist_auction_duration="P3D",
    )


def unlabelled_auction(emulator, channel, stock):
    """An auction linked by hand: no external id, so only the link resolves it."""
    offer_id = emulator.add_offer(
        emulator.seller_id, "Zegarek", format="AUCTION", price="50", duration="P7D"
    )
    return Listing.objects.create(
        channel=channel,
        offer_id=offer_id,
        title="Zegarek",
        format="AUCTION",
        status="ACTIVE",
        stock_item=stock,
        known_quantity=1,
    )


def test_auction_relisted_as_new_offer_with_lineage_and_orders_on_both_ids(
    channel, allegro_client, emulator
):
    auction_channel(channel)
    sync_orders(channel.pk, allegro_client)  # the order cursor starts here
    stock = item("WATCH", 1)
    old = unlabelled_auction(emulator, channel, stock)
    emulator.bid(old.offer_id, "60", "licytant")
    Listing.objects.filter(pk=old.pk).update(bidders=1)
    set_stock(stock, 0)

    sync_lifecycle(channel.pk, allegro_client)  # ends it: sold to the bidder
    set_stock(stock, 1)
    result = sync_lifecycle(channel.pk, allegro_client)  # stock back: new offer

    new = Listing.objects.get(relisted_from=old)
    assert new.offer_id != old.offer_id
    assert new.stock_item_id == stock.pk
    assert result.relisted == 1
    offer = emulator.offer(new.offer_id)
    assert offer["sellingMode"]["format"] == "AUCTION"
    assert offer["publication"]["duration"] == "P3D"
    assert offer["name"] == "Zegarek"
    old.refresh_from_db()
    assert old.relist_pending_since is None
    assert PendingAction.objects.get(kind="RELIST_NEW").new_offer_id == new.offer_id
    # An order on the new id, like the one on the old id, is the same item.
    emulator.bid(new.offer_id, "70", "drugi")
    emulator.end_offer(new.offer_id)
    sync_orders(channel.pk, allegro_client)
    lines = OrderLine.objects.order_by("pk")
    assert [line.offer_id for line in lines] == [old.offer_id, new.offer_id]
    assert {line.stock_item_id for line in lines} == {stock.pk}


def test_crash_after_creating_the_new_offer_does_not_create_another(
    channel, allegro_client, emulator, instant_retries
):
    auction_channel(channel)
    stock = item("WATCH", 1)
    old = unlabelled_auction(emulator, channel, stock)
    emulator.end_offer(old.offer_id)
    Listing.objects.filter(pk=old.pk).update(
        status="ENDED",
        ended_at=emulator.clock.now(),
        ended_by="USER",
        relist_pending_since=emulator.clock.now(),
    )
    crashing = crashing_client(
        channel, emulator, instant_retries, "POST", "/sale/product-offers", True
    )

    with pytest.raises(Crash):
        sync_lifecycle(channel.pk, crashing)
    sync_lifecycle(channel.pk, allegro_client)
    sync_lifecycle(channel.pk, allegro_client)

    assert len(sent(emulator, "/sale/product-offers", "POST")) == 1
    assert len(emulator.offers) == 2
    new = Listing.objects.get(relisted_from=old)
    assert status_on_allegro(emulator, new.offer_id) == "ACTIVE"
    assert PendingAction.objects.get().state == PendingAction.State.DONE
