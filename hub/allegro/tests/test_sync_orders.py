"""Order download against the emulator: bootstrap, backfill, journal, exactly once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from hub.allegro.client import AllegroClient
from hub.allegro.errors import AuthRevoked, TransientError
from hub.allegro.models import Channel, Listing, SyncCursor
from hub.allegro.sync.orders import BACKFILL, JOURNAL, sync_orders
from hub.allegro.tests.fixtures import HubEmulator
from hub.catalog import stock
from hub.catalog.models import Allocation, StockItem
from hub.orders.models import Order, OrderEvent

pytestmark = pytest.mark.django_db

FORM_GET = r"^/order/checkout-forms/[0-9a-f-]{36}$"


@pytest.fixture
def mug(db: None) -> StockItem:
    item = StockItem.objects.create(sku="MUG-1", title="Kubek niebieski")
    stock.set_on_hand(item, stock.default_location(), 20)
    return item


@pytest.fixture
def offer(emulator: HubEmulator, mug: StockItem) -> str:
    return emulator.add_offer(
        emulator.seller_id, "Kubek niebieski", external_id="MUG-1", quantity=500
    )


def buy_in_the_past(
    emulator: HubEmulator, offer: str, days_ago: float, **kw: Any
) -> str:
    """A purchase that happened days ago on Allegro's clock (the clock moves back)."""
    now = emulator.clock.now()
    emulator.clock.set(now - timedelta(days=days_ago))
    try:
        return emulator.purchase(offer, **kw)
    finally:
        emulator.clock.set(now)


def orders() -> dict[str, Order]:
    return {o.external_id: o for o in Order.objects.all()}


def journal(channel: Channel) -> SyncCursor:
    return SyncCursor.objects.get(channel=channel, stream=JOURNAL)


# ----------------------------------------------------------------- first run


def test_first_pass_backfills_from_sync_orders_from_then_follows_the_journal(
    emulator: HubEmulator, channel: Channel, allegro_client: AllegroClient, offer: str
):
    too_old = buy_in_the_past(emulator, offer, days_ago=40)
    recent = buy_in_the_past(emulator, offer, days_ago=10, quantity=2)
    channel.sync_orders_from = timezone.now() - timedelta(days=30)
    channel.save()

    result = sync_orders(channel.pk, allegro_client)

    assert set(orders()) == {recent}
    assert result.created == 1
    assert orders()[recent].sub_source == channel.name
    assert orders()[recent].account == str(channel.pk)
    assert journal(channel).value == str(emulator.last_order_event_id)
    assert SyncCursor.objects.get(channel=channel, stream=BACKFILL).value == ""
    assert too_old not in orders()

    # Then a new order and a payment arrive through the journal.
    new = emulator.purchase(offer)
    emulator.pay(recent)
    result = sync_orders(channel.pk, allegro_client)

    assert set(orders()) == {recent, new}
    assert (result.created, result.updated) == (1, 1)
    assert orders()[recent].paid is True
    assert orders()[recent].channel_status == "READY_FOR_PROCESSING"


def test_backfill_reads_across_window_boundaries_exactly_once(
    emulator: HubEmulator, channel: Channel, allegro_client: AllegroClient, offer: str
):
    now = emulator.clock.now()  # one clock for both sides, so boundaries are exact
    channel.sync_orders_from = now - timedelta(days=21)
    channel.save()
    # Orders every 12 hours over three 7-day windows, and exactly on the two
    # boundaries (a window's end = the next one's start).
    bought = {buy_in_the_past(emulator, offer, days_ago=d / 2) for d in range(1, 42)}
    bought.add(buy_in_the_past(emulator, offer, days_ago=14))
    bought.add(buy_in_the_past(emulator, offer, days_ago=7))

    with time_machine.travel(now, tick=False):
        result = sync_orders(channel.pk, allegro_client)

    assert set(orders()) == bought
    assert Order.objects.count() == 43
    assert result.created == 43


def test_without_sync_orders_from_only_new_orders_come(
    emulator: HubEmulator, channel: Channel, allegro_client: AllegroClient, offer: str
):
    buy_in_the_past(emulator, offer, days_ago=3)

    sync_orders(channel.pk, allegro_client)
    new = emulator.purchase(offer)
    sync_orders(channel.pk, allegro_client)

    assert set(orders()) == {new}
    assert emulator.count("GET", "/order/checkout-forms") == 0


def test_disabled_channel_does_nothing(
    emulator: HubEmulator, channel: Channel, allegro_client: AllegroClient, offer: str
):
    emulator.purchase(offer)
    channel.enabled = False
    channel.save()

    result = sync_orders(channel.pk, allegro_client)

    assert "disabled" in result.summary()
    assert emulator.requests == []
    assert Order.objects.count() == 0
    assert not SyncCursor.objects.filter(channel=channel).exists()


# ------------------------------------------------------------------- journal


def test_duplicate_events_make_no_second_order_and_no_second_read(
    emulator: HubEmulator, channel: Channel, allegro_client: AllegroClient, offer: str
):
    sync_orders(channel.pk, allegro_client)
    form = emulator.purchase(offer)
    sync_orders(channel.pk, allegro_client)
    reads = emulator.count("GET", FORM_GET)

    emulator.inject_duplicate_events(1, checkout_form_id=form)
    result = sync_orders(channel.pk, allegro_client)

    assert Order.objects.count() == 1
    assert result.events == 1
    assert result.forms_read == 0
    assert emulator.count("GET", FORM_GET) == reads
    assert OrderEvent.objects.filter(order__external_id=form).count() == 1
    assert journal(channel).value == str(emulator.last_order_event_id)


def test_out_of_order_events_end_in_the_current_state(
    emulator: HubEmulator,
    channel: Channel,
    allegro_client: AllegroClient,
    offer: str,
    mug: StockItem,
):
    sync_orders(channel.pk, allegro_client)
    form = emulator.purchase(offer, quantity=3)
    emulator.pay(form)  # FILLED_IN, READY_FOR_PROCESSING
    emulator.inject_out_of_order(3)  # READY first, BOUGHT last

    result = sync_orders(channel.pk, allegro_client)

    order = Order.objects.get()
    assert result.forms_read == 1  # three events, one form, one read
    assert (order.channel_status, order.paid) == ("READY_FOR_PROCESSING", True)
    assert order.delivery_address["city"]
    assert stock.available(mug) == 17


def test_events_page_by_page_with_a_small_limit(
    emulator: HubEmulator, channel: Channel, allegro_client: AllegroClient, offer: str
):
    sync_orders(channel.pk, allegro_client)
    bought = {emulator.purchase(offer) for _ in range(7)}

    result = sync_orders(channel.pk, allegro_client, event_page=3)

    assert set(orders()) == bought
    assert result.events == 7
    assert emulator.count("GET", "/order/events") == 3 + 1  # 3+3+1, plus first pass


# ------------------------------------------------------------- kill & resume


def test_failure_on_the_last_read_of_a_page_commits_nothing_then_resumes(
    emulator: HubEmulator, channel: Channel, allegro_client: AllegroClient, offer: str
):
    """A crash after fetching but before committing: the page is void, cursor stays."""
    sync_orders(channel.pk, allegro_client)
    before = journal(channel).value
    bought = [emulator.purchase(offer) for _ in range(4)]
    # The list shows the first three; the fourth (last of the page), which the
    # list does not show yet, keeps failing by id.
    emulator.lag_list(bought[3], 3600)
    emulator.add_fault(FORM_GET, "503", count=None)

    with pytest.raises(TransientError):
        sync_orders(channel.pk, allegro_client)

    assert Order.objects.count() == 0
    assert journal(channel).value == before
    assert "temporary" in str(journal(channel).last_error)

    emulator.clear_faults()
    result = sync_orders(channel.pk, allegro_client)

    assert set(orders()) == set(bought)
    assert result.created == 4
    assert not journal(channel).last_error


def test_failure_mid_journal_keeps_committed_pages_and_loses_nothing(
    emulator: HubEmulator, channel: Channel, allegro_client: AllegroClient, offer: str
):
    sync_orders(channel.pk, allegro_client)
    bought = [emulator.purchase(offer) for _ in range(5)]
    emulator.add_fault(FORM_GET, "timeout", count=None, skip=3)

    with pytest.raises(TransientError):
        sync_orders(channel.pk, allegro_client, event_page=2)

    # Pages 1 (2 orders) committed; page 2 failed on its second read.
    assert set(orders()) == set(bought[:2])
    emulator.clear_faults()
    sync_orders(channel.pk, allegro_client, event_page=2)
    assert set(orders()) == set(bought)
    assert Order.objects.count() == 5


def test_failure_mid_backfill_resumes_without_duplicates(
    emulator: HubEmulator, channel: Channel, allegro_client: AllegroClient, offer: str
):
    channel.sync_orders_from = timezone.now() - timedelta(days=5)
    channel.save()
    bought = {
        buy_in_the_past(emulator, offer, days_ago=1 + i / 200) for i in range(150)
    }
    # Page 1 of the window (100 forms, one save batch) arrives; page 2 keeps
    # failing.
    emulator.add_fault(r"^/order/checkout-forms$", "500", count=None, skip=1)

    with pytest.raises(TransientError):
        sync_orders(channel.pk, allegro_client, save_batch=100)

    assert Order.objects.count() == 100  # saved; the backfill cursor did not move
    assert SyncCursor.objects.get(channel=channel, stream=BACKFILL).value != ""
    emulator.clear_faults()

    sync_orders(channel.pk, allegro_client)

    assert set(orders()) == bought
    assert Order.objects.count() == 150
    assert SyncCursor.objects.get(channel=channel, stream=BACKFILL).value == ""


def test_failure_before_the_journal_starts_records_it_on_the_channel(
    emulator: HubEmulator, channel: Channel, allegro_client: AllegroClient
):
    emulator.add_fault("^/order/event-stats$", "500", count=None)

    with pytest.raises(TransientError):
        sync_orders(channel.pk, allegro_client)

    channel.refresh_from_db()
    assert "temporary" in str(channel.last_error)
    assert not SyncCursor.objects.filter(channel=channel).exists()


def test_revoked_authorisation_stops_the_pass_and_says_so(
    emulator: HubEmulator, channel: Channel, allegro_client: AllegroClient, offer: str
):
    sync_orders(channel.pk, allegro_client)
    emulator.purchase(offer)
    emulator.revoke_tokens(emulator.seller_id)

    with pytest.raises(AuthRevoked):
        sync_orders(channel.pk, allegro_client)

    assert Order.objects.count() == 0
    assert "connect the account again" in str(journal(channel).last_error)


# ------------------------------------------------------- status and stock


def test_cancellation_before_and_after_payment_releases_stock(
    emulator: HubEmulator,
    channel: Channel,
    allegro_client: AllegroClient,
    offer: str,
    mug: StockItem,
):
    sync_orders(channel.pk, allegro_client)
    unpaid = emulator.purchase(offer, quantity=2)
    paid = emulator.purchase(offer, quantity=3)
    emulator.pay(paid)
    sync_orders(channel.pk, allegro_client)
    assert stock.available(mug) == 15  # unpaid orders allocate too

    emulator.cancel(unpaid)
    sync_orders(channel.pk, allegro_client)
    assert stock.available(mug) == 17
    emulator.cancel(paid)
    sync_orders(channel.pk, allegro_client)

    assert {o.status for o in Order.objects.all()} == {Order.Status.CANCELLED}
    assert Allocation.objects.count() == 0
    assert stock.available(mug) == 20
    assert stock.on_hand(mug) == 20


def test_order_bought_and_cancelled_between_passes_allocates_nothing(
    emulator: HubEmulator,
    channel: Channel,
    allegro_client: AllegroClient,
    offer: str,
    mug: StockItem,
):
    sync_orders(channel.pk, allegro_client)
    form = emulator.purchase(offer, quantity=2)
    emulator.cancel(form)

    sync_orders(channel.pk, allegro_client)

    assert Order.objects.get().status == Order.Status.CANCELLED
    assert stock.available(mug) == 20


def test_listing_link_and_fulfilment_location_are_used(
    emulator: HubEmulator,
    channel: Channel,
    allegro_client: AllegroClient,
    mug: StockItem,
):
    from hub.catalog.models import Location

    plate = StockItem.objects.create(sku="PLATE", title="Talerz")
    store = Location.objects.create(name="Store B")
    stock.set_on_hand(plate, store, 5)
    no_sku = emulator.add_offer(emulator.seller_id, "Talerz biały", quantity=9)
    Listing.objects.create(channel=channel, offer_id=no_sku, stock_item=plate)
    channel.fulfilment_location = store
    channel.save()
    sync_orders(channel.pk, allegro_client)

    emulator.purchase(no_sku, quantity=2)
    sync_orders(channel.pk, allegro_client)

    line = Order.objects.get().lines.get()
    assert (line.stock_item_id, line.link_method) == (plate.pk, "LISTING")
    assert stock.available(plate, store) == 3
    assert Order.objects.get().location == store


# ------------------------------------------------------------ 60-day journal


def test_journal_older_than_sixty_days_is_restarted_from_checkout_forms(
    emulator: HubEmulator, channel: Channel, allegro_client: AllegroClient, offer: str
):
    sync_orders(channel.pk, allegro_client)
    form = emulator.purchase(offer)
    sync_orders(channel.pk, allegro_client)
    assert Order.objects.get().paid is False

    # The buyer pays a day later; then nobody syncs for 62 days, so Allegro drops
    # that event. A new order comes meanwhile.
    start = emulator.clock.now()
    emulator.advance(days=1)
    emulator.pay(form)
    emulator.advance(days=61)
    new = emulator.purchase(offer)
    assert emulator.order_events[0].checkout_form_id == new

    with time_machine.travel(emulator.clock.now(), tick=False):
        result = sync_orders(channel.pk, allegro_client)

    assert result.rebootstrapped is True
    assert set(orders()) == {form, new}
    assert orders()[form].paid is True
    assert emulator.clock.now() - start == timedelta(days=62)


def test_rate_limit_and_server_errors_are_retried_within_the_pass(
    emulator: HubEmulator,
    channel: Channel,
    allegro_client: AllegroClient,
    offer: str,
    retry_sleeps: list[float],
):
    sync_orders(channel.pk, allegro_client)
    form = emulator.purchase(offer)
    emulator.add_fault("^/order/events$", "429", count=1)
    emulator.add_fault(FORM_GET, "502", count=1)

    result = sync_orders(channel.pk, allegro_client)

    assert set(orders()) == {form}
    assert result.created == 1
    assert len(retry_sleeps) == 2
    assert retry_sleeps[0] >= 60  # Allegro blocks a Client ID for a minute (§9)
    assert not journal(channel).last_error


def test_a_second_pass_that_lost_the_race_commits_nothing(
    channel: Channel,
):
    from hub.allegro.sync.orders import CursorMoved, _move_cursor

    SyncCursor.objects.create(channel=channel, stream=JOURNAL, value="100")
    stale = journal(channel)
    SyncCursor.objects.filter(pk=stale.pk).update(value="200")  # the other pass

    with pytest.raises(CursorMoved):
        _move_cursor(stale, "150")

    assert journal(channel).value == "200"  # never moved backwards
