"""Submit Tracking Info against the emulator: exactly one shipment per tracking
number, Allegro's refusals kept and shown, transient errors retried."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from django.utils import timezone, translation

from allegro_emulator import orders as emulator_orders
from hub.allegro import texts
from hub.allegro.client import AllegroClient, client_for_channel
from hub.allegro.errors import TransientError
from hub.allegro.models import Channel
from hub.allegro.sync.orders import sync_orders
from hub.allegro.sync.tracking import pending, sync_tracking
from hub.allegro.tests.fixtures import HubEmulator
from hub.catalog import stock
from hub.catalog.models import StockItem
from hub.orders import texts as order_texts
from hub.orders.dispatching import (
    DispatchRequest,
    NotDispatchable,
    correct_dispatch,
    dispatch_order,
    needing_attention,
)
from hub.orders.models import Carrier, Dispatch, Order, OrderEvent
from hub.text.message import Message

pytestmark = pytest.mark.django_db

SHIPMENTS = r"^/order/checkout-forms/[0-9a-f-]{36}/shipments$"
FULFILLMENT = r"^/order/checkout-forms/[0-9a-f-]{36}/fulfillment$"
LATER = timedelta(hours=2)  # past any back-off of the first attempts


@pytest.fixture
def mug(db: None) -> StockItem:
    item = StockItem.objects.create(sku="MUG-1", title="Kubek")
    stock.set_on_hand(item, stock.default_location(), 20)
    return item


@pytest.fixture
def offer(emulator: HubEmulator, mug: StockItem) -> str:
    return emulator.add_offer(
        emulator.seller_id, "Kubek", external_id="MUG-1", quantity=500
    )


@pytest.fixture
def tracking_channel(channel: Channel) -> Channel:
    channel.submit_tracking = True
    channel.save()
    return channel


def import_order(
    emulator: HubEmulator,
    channel: Channel,
    client: AllegroClient,
    offer: str,
    **kw: Any,
) -> Order:
    sync_orders(channel.pk, client)  # the journal starts before the purchase
    cf_id = emulator.purchase(offer, **kw)
    emulator.pay(cf_id)
    sync_orders(channel.pk, client)
    return Order.objects.get(external_id=cf_id)


def shipments(emulator: HubEmulator, order: Order) -> list[tuple[str, str, list[str]]]:
    forms = emulator.checkout_forms[order.external_id]
    return [(s.carrier_id, s.waybill, s.line_item_ids) for s in forms.shipments]


def posts(emulator: HubEmulator) -> int:
    return emulator.count("POST", SHIPMENTS)


def dispatch(order: Order, carrier: str, number: str, **kw: Any) -> Dispatch:
    return dispatch_order(order, DispatchRequest(carrier, number, **kw))


def push(channel: Channel, client: AllegroClient, now: datetime | None = None) -> Any:
    return sync_tracking(channel.pk, client, now=now)


@pytest.fixture
def order(
    emulator: HubEmulator,
    tracking_channel: Channel,
    allegro_client: AllegroClient,
    offer: str,
) -> Order:
    return import_order(emulator, tracking_channel, allegro_client, offer)


# ------------------------------------------------------------------ carriers


def test_carriers_are_read_daily_without_allegro(
    emulator: HubEmulator, tracking_channel: Channel, allegro_client: AllegroClient
):
    now = timezone.now()
    result = push(tracking_channel, allegro_client, now)
    push(tracking_channel, allegro_client, now + timedelta(hours=23))

    codes = set(Carrier.objects.values_list("code", flat=True))
    assert result.carriers == len(codes)
    assert {"INPOST", "DPD", "POCZTA_POLSKA", "OTHER"} <= codes
    assert "ALLEGRO" not in codes
    assert emulator.count("GET", "^/order/carriers$") == 1
    push(tracking_channel, allegro_client, now + timedelta(hours=25))
    assert emulator.count("GET", "^/order/carriers$") == 2


# ------------------------------------------------------- waybills per carrier


@pytest.mark.parametrize(
    ("typed", "carrier_id", "number"),
    [
        ("InPost", "INPOST", "6" * 24),
        ("paczkomat", "INPOST", "1" * 24),
        ("DPD Polska", "DPD", "1234567890123"),
        ("Poczta Polska", "POCZTA_POLSKA", "00" + "1" * 18),
        ("dhl", "DHL", "JJD" + "1" * 18),
    ],
)
def test_valid_waybill_is_accepted_once(
    emulator: HubEmulator,
    tracking_channel: Channel,
    allegro_client: AllegroClient,
    order: Order,
    typed: str,
    carrier_id: str,
    number: str,
):
    push(tracking_channel, allegro_client)  # reads the carrier list
    sent = dispatch(order, typed, number)
    assert sent.carrier_code == carrier_id
    assert pending(tracking_channel.pk)

    result = push(tracking_channel, allegro_client)
    push(tracking_channel, allegro_client, timezone.now() + LATER)

    sent.refresh_from_db()
    assert result.accepted == 1
    assert sent.state == Dispatch.State.ACCEPTED
    assert shipments(emulator, order) == [(carrier_id, number, [_line(order)])]
    assert (
        sent.shipment_id == emulator.checkout_forms[order.external_id].shipments[0].id
    )
    assert posts(emulator) == 1
    assert not pending(tracking_channel.pk)
    assert order.events.filter(kind=OrderEvent.Kind.TRACKING).count() == 1


def _line(order: Order) -> str:
    return order.lines.get().external_id


def test_unknown_carrier_goes_as_other_only_when_allowed(
    emulator: HubEmulator,
    tracking_channel: Channel,
    allegro_client: AllegroClient,
    order: Order,
):
    push(tracking_channel, allegro_client)
    with pytest.raises(NotDispatchable) as refused:
        dispatch(order, "Kurier Zenek", "ZEN-1")
    assert "carrier" in refused.value.errors
    assert not Dispatch.objects.exists()

    dispatch(order, "Kurier Zenek", "ZEN-1", other_carrier=True)
    push(tracking_channel, allegro_client)

    cf = emulator.checkout_forms[order.external_id]
    assert [(s.carrier_id, s.carrier_name, s.waybill) for s in cf.shipments] == [
        ("OTHER", "Kurier Zenek", "ZEN-1")
    ]


@pytest.mark.parametrize(
    ("carrier", "number", "said"),
    [
        ("DPD", "AD1234567890", "not valid for this carrier"),
        ("InPost", "123", "not valid for this carrier"),
    ],
)
def test_invalid_waybill_is_refused_kept_and_not_retried_blindly(
    emulator: HubEmulator,
    tracking_channel: Channel,
    allegro_client: AllegroClient,
    order: Order,
    carrier: str,
    number: str,
    said: str,
):
    push(tracking_channel, allegro_client)
    sent = dispatch(order, carrier, number)

    result = push(tracking_channel, allegro_client)
    push(tracking_channel, allegro_client, timezone.now() + LATER)

    sent.refresh_from_db()
    assert result.refused == 1
    assert sent.state == Dispatch.State.REFUSED
    assert said in str(sent.channel_message)
    refusal = order.events.get(kind=OrderEvent.Kind.TRACKING).message
    assert refusal.code == texts.TRACKING_REFUSED
    # One sentence: Allegro's own words once, not "…: Allegro refused the request: …".
    assert str(refusal).startswith(f"Allegro refused tracking number {number}: ")
    assert said in str(refusal)
    assert str(refusal).count("refused") == 1
    assert "Trace-Id" not in str(refusal)
    assert list(needing_attention()) == [sent]
    assert posts(emulator) == 1  # the second pass sent nothing
    assert shipments(emulator, order) == []


def test_resend_after_correction_gives_one_shipment(
    emulator: HubEmulator,
    tracking_channel: Channel,
    allegro_client: AllegroClient,
    order: Order,
):
    push(tracking_channel, allegro_client)
    sent = dispatch(order, "DPD", "AD1234567890")
    push(tracking_channel, allegro_client)

    correct_dispatch(Dispatch.objects.get(), DispatchRequest("DPD", "1234567890123"))
    push(tracking_channel, allegro_client)

    sent.refresh_from_db()
    assert sent.state == Dispatch.State.ACCEPTED
    assert sent.tracking_number == "1234567890123"
    assert shipments(emulator, order) == [("DPD", "1234567890123", [_line(order)])]
    assert list(needing_attention()) == []
    with pytest.raises(NotDispatchable):  # accepted: no longer changeable
        correct_dispatch(sent, DispatchRequest("DPD", "9999999999999"))


def test_waybill_allegro_put_on_the_order_is_never_sent_again(
    emulator: HubEmulator,
    tracking_channel: Channel,
    allegro_client: AllegroClient,
    order: Order,
):
    # "Wysyłam z Allegro": Allegro filled the waybill in itself (api-notes §4.1).
    emulator.ship_with_allegro(order.external_id, "AD1234567890")
    push(tracking_channel, allegro_client)
    sent = dispatch(order, "DPD", "AD1234567890")

    result = push(tracking_channel, allegro_client)

    sent.refresh_from_db()
    assert result.already_there == 1
    assert sent.state == Dispatch.State.ACCEPTED
    assert sent.channel_message == Message(texts.TRACKING_BY_ALLEGRO)
    assert posts(emulator) == 0
    assert len(shipments(emulator, order)) == 1


# ------------------------------------------------------------------- partial


def two_line_order(
    emulator: HubEmulator,
    channel: Channel,
    client: AllegroClient,
    offer: str,
    paid: bool = False,
) -> Order:
    """Two mugs, then a plate the buyer added (a line no stock item has)."""
    plate = emulator.add_offer(emulator.seller_id, "Talerz", quantity=5)
    sync_orders(channel.pk, client)
    cf_id = emulator.purchase(offer, quantity=2)
    emulator.modify(cf_id, add={plate: 1})
    if paid:
        emulator.pay(cf_id)
    sync_orders(channel.pk, client)
    return Order.objects.get()


def test_partial_dispatch_by_lines_sends_each_parcels_lines(
    emulator: HubEmulator,
    tracking_channel: Channel,
    allegro_client: AllegroClient,
    offer: str,
    mug: StockItem,
):
    order = two_line_order(emulator, tracking_channel, allegro_client, offer, paid=True)
    first, second = order.lines.order_by("id")
    push(tracking_channel, allegro_client)

    dispatch(order, "DPD", "1234567890123", line_ids=[first.pk])
    push(tracking_channel, allegro_client)
    order.refresh_from_db()
    assert order.status == Order.Status.OPEN
    assert stock.on_hand(mug) == 18
    dispatch(order, "InPost", "6" * 24, line_ids=[second.pk], without_stock=True)
    push(tracking_channel, allegro_client)

    order.refresh_from_db()
    assert order.status == Order.Status.DISPATCHED
    assert shipments(emulator, order) == [
        ("DPD", "1234567890123", [first.external_id]),
        ("INPOST", "6" * 24, [second.external_id]),
    ]
    form = emulator.checkout_form(order.external_id)
    assert form["fulfillment"]["shipmentSummary"]["lineItemsSent"] == "ALL"
    assert stock.on_hand(mug) == 18  # the unlinked line took nothing


def test_line_no_longer_in_the_order_is_refused_and_not_retried(
    emulator: HubEmulator,
    tracking_channel: Channel,
    allegro_client: AllegroClient,
    offer: str,
):
    order = two_line_order(emulator, tracking_channel, allegro_client, offer)
    plate = order.lines.order_by("id").last()
    assert plate is not None
    push(tracking_channel, allegro_client)
    sent = dispatch(
        order,
        "DPD",
        "1234567890123",
        line_ids=[plate.pk],
        confirm_unpaid=True,
        without_stock=True,
    )
    # The buyer drops that line on Allegro before the hub has heard of it.
    emulator.modify(order.external_id, quantities={plate.external_id: 0})

    result = push(tracking_channel, allegro_client)
    push(tracking_channel, allegro_client, timezone.now() + LATER)

    sent.refresh_from_db()
    assert result.refused == 1
    assert sent.state == Dispatch.State.REFUSED
    assert "Line item does not belong to the order" in str(sent.channel_message)
    assert posts(emulator) == 1  # not sent again by the later pass
    assert shipments(emulator, order) == []


# ------------------------------------------------------------ failures


def test_5xx_leaves_it_in_the_outbox_and_a_later_pass_delivers_it(
    emulator: HubEmulator,
    tracking_channel: Channel,
    allegro_client: AllegroClient,
    order: Order,
):
    push(tracking_channel, allegro_client)
    sent = dispatch(order, "DPD", "1234567890123")
    emulator.add_fault(SHIPMENTS, "503", method="POST")

    with pytest.raises(TransientError) as raised:
        push(tracking_channel, allegro_client)
    sent.refresh_from_db()
    assert sent.state == Dispatch.State.SENT
    assert sent.attempts == 1
    assert sent.channel_message == raised.value.user_message()
    assert "try again" in str(sent.channel_message)
    assert sent.next_attempt_at > timezone.now()
    assert not pending(tracking_channel.pk)  # backing off

    push(tracking_channel, allegro_client, timezone.now() + LATER)

    sent.refresh_from_db()
    assert sent.state == Dispatch.State.ACCEPTED
    assert sent.attempts == 2
    assert len(shipments(emulator, order)) == 1


def test_shipments_429_is_waited_out_and_retried(
    emulator: HubEmulator,
    tracking_channel: Channel,
    allegro_client: AllegroClient,
    order: Order,
    retry_sleeps: list[float],
):
    push(tracking_channel, allegro_client)
    dispatch(order, "DPD", "1234567890123")
    emulator.add_fault(SHIPMENTS, "429", count=2, method="POST")

    push(tracking_channel, allegro_client)

    assert Dispatch.objects.get().state == Dispatch.State.ACCEPTED
    assert len(shipments(emulator, order)) == 1
    # The shipments endpoint's own limit (50/s, api-notes §4.1): a second each,
    # not the Client ID's one-minute block.
    assert retry_sleeps == [1.0, 1.0]


class Crash(BaseException):
    """The process dies (kill -9 stand-in): nothing after it runs."""


def after_the_shipment(
    emulator: HubEmulator, error: Callable[[httpx.Request], BaseException]
) -> Callable[[httpx.Request], httpx.Response]:
    """A transport where Allegro stores the shipment, then ``error`` is raised
    instead of its answer reaching the hub."""

    def handler(request: httpx.Request) -> httpx.Response:
        response = emulator.handle(request)
        if request.method == "POST" and request.url.path.endswith("/shipments"):
            raise error(request)
        return response

    return handler


def test_timeout_after_allegro_stored_it_gives_exactly_one_shipment(
    emulator: HubEmulator,
    tracking_channel: Channel,
    allegro_client: AllegroClient,
    order: Order,
    instant_retries: dict[str, Any],
):
    push(tracking_channel, allegro_client)
    dispatch(order, "DPD", "1234567890123")

    def answer_lost(request: httpx.Request) -> BaseException:
        return httpx.ReadTimeout("answer lost", request=request)

    lost = after_the_shipment(emulator, answer_lost)
    with _client(tracking_channel, lost, instant_retries) as client:
        with pytest.raises(TransientError):
            push(tracking_channel, client)

    push(tracking_channel, allegro_client, timezone.now() + LATER)

    assert Dispatch.objects.get().state == Dispatch.State.ACCEPTED
    assert len(shipments(emulator, order)) == 1
    assert posts(emulator) == 1


def test_crash_between_storing_and_allegros_answer_gives_exactly_one_shipment(
    emulator: HubEmulator,
    tracking_channel: Channel,
    allegro_client: AllegroClient,
    order: Order,
    instant_retries: dict[str, Any],
):
    push(tracking_channel, allegro_client)
    dispatch(order, "DPD", "1234567890123")

    crash = after_the_shipment(emulator, lambda request: Crash())
    with _client(tracking_channel, crash, instant_retries) as client:
        with pytest.raises(Crash):
            push(tracking_channel, client)
    assert Dispatch.objects.get().state == Dispatch.State.SENT
    assert not pending(tracking_channel.pk)  # its claim holds until the back-off

    push(tracking_channel, allegro_client, timezone.now() + LATER)

    done = Dispatch.objects.get()
    assert done.state == Dispatch.State.ACCEPTED
    assert done.channel_message == Message(texts.TRACKING_ALREADY_THERE)
    assert len(shipments(emulator, order)) == 1
    assert posts(emulator) == 1


def _client(
    channel: Channel,
    handler: Callable[[httpx.Request], httpx.Response],
    options: dict[str, Any],
) -> AllegroClient:
    return client_for_channel(
        channel, transport=httpx.MockTransport(handler), **options
    )


# ------------------------------------------------------- fulfilment status


def test_fulfilment_status_set_with_the_revision_check(
    emulator: HubEmulator,
    tracking_channel: Channel,
    allegro_client: AllegroClient,
    order: Order,
):
    tracking_channel.tracking_status = "SENT"
    tracking_channel.save()
    push(tracking_channel, allegro_client)
    dispatch(order, "DPD", "1234567890123")

    result = push(tracking_channel, allegro_client)

    assert result.statuses == 1
    assert emulator.checkout_form(order.external_id)["fulfillment"]["status"] == "SENT"
    put = [r for r in emulator.requests if r["method"] == "PUT"]
    assert len(put) == 1
    assert put[0]["query"]["checkoutForm.revision"]


def test_stale_revision_is_read_again_then_set(
    emulator: HubEmulator,
    tracking_channel: Channel,
    order: Order,
    instant_retries: dict[str, Any],
):
    tracking_channel.tracking_status = "SENT"
    tracking_channel.save()
    cf = emulator.checkout_forms[order.external_id]
    puts: list[int] = []

    def buyer_changes_it_first(request: httpx.Request) -> httpx.Response:
        if request.method == "PUT" and not puts:
            emulator_orders.touch(emulator, cf)  # the form moved on meanwhile
        response = emulator.handle(request)
        if request.method == "PUT":
            puts.append(response.status_code)
        return response

    dispatch(order, "DPD", "1234567890123")
    with _client(tracking_channel, buyer_changes_it_first, instant_retries) as client:
        push(tracking_channel, client)

    assert puts == [409, 204]
    assert cf.fulfillment_status == "SENT"
    assert Dispatch.objects.get().state == Dispatch.State.ACCEPTED


def test_status_left_alone_when_the_buyer_cancelled_meanwhile(
    emulator: HubEmulator,
    tracking_channel: Channel,
    allegro_client: AllegroClient,
    order: Order,
):
    tracking_channel.tracking_status = "SENT"
    tracking_channel.save()
    dispatch(order, "DPD", "1234567890123")
    emulator.cancel(order.external_id)

    push(tracking_channel, allegro_client)

    assert emulator.count("PUT", FULFILLMENT) == 0
    assert Dispatch.objects.get().channel_message == Message(
        texts.TRACKING_STATUS_LEFT_ALONE, text=Message(texts.TRACKING_ACCEPTED)
    )


# ------------------------------------------------ delivered later, never lost


def test_dispatch_made_while_off_or_disabled_is_delivered_later(
    emulator: HubEmulator,
    channel: Channel,
    allegro_client: AllegroClient,
    offer: str,
):
    order = import_order(emulator, channel, allegro_client, offer)
    dispatch(order, "DPD", "1234567890123")

    off = push(channel, allegro_client)
    channel.submit_tracking = True
    channel.enabled = False
    channel.save()
    disabled = push(channel, allegro_client)

    assert "Submit Tracking Info is off" in off.skipped
    assert "disabled" in disabled.skipped
    assert posts(emulator) == 0
    assert not pending(channel.pk)
    assert Dispatch.objects.get().state == Dispatch.State.PENDING

    channel.enabled = True
    channel.save()
    assert pending(channel.pk)
    push(channel, allegro_client)

    assert Dispatch.objects.get().state == Dispatch.State.ACCEPTED
    assert len(shipments(emulator, order)) == 1


def test_dispatch_before_the_carrier_list_is_known_is_mapped_when_sent(
    emulator: HubEmulator,
    tracking_channel: Channel,
    allegro_client: AllegroClient,
    order: Order,
):
    sent = dispatch(order, "paczkomat", "6" * 24)
    assert sent.carrier_code == ""

    push(tracking_channel, allegro_client)

    sent.refresh_from_db()
    assert (sent.carrier_code, sent.state) == ("INPOST", Dispatch.State.ACCEPTED)


def test_unmappable_carrier_needs_action_instead_of_a_guess(
    emulator: HubEmulator,
    tracking_channel: Channel,
    allegro_client: AllegroClient,
    order: Order,
):
    sent = dispatch(order, "Kurier Zenek", "ZEN-1")  # list not known yet

    push(tracking_channel, allegro_client)

    sent.refresh_from_db()
    assert sent.state == Dispatch.State.NEEDS_ACTION
    assert sent.channel_message == Message(
        texts.TRACKING_UNKNOWN_CARRIER, name="Kurier Zenek"
    )
    with translation.override("pl"):  # stored as a code: shown in Polish too
        assert str(sent.channel_message).startswith(
            "Allegro nie zna przewoźnika „Kurier Zenek”."
        )
    assert posts(emulator) == 0


def test_buyer_cancelling_after_dispatch_holds_the_number_and_needs_action(
    emulator: HubEmulator,
    tracking_channel: Channel,
    allegro_client: AllegroClient,
    order: Order,
):
    sent = dispatch(order, "DPD", "1234567890123")
    emulator.cancel(order.external_id)
    sync_orders(tracking_channel.pk, allegro_client)

    push(tracking_channel, allegro_client)

    sent.refresh_from_db()
    assert sent.state == Dispatch.State.NEEDS_ACTION
    assert sent.channel_message == Message(order_texts.CANCELLED_AFTER_DISPATCH_ACTION)
    assert list(needing_attention()) == [sent]
    assert posts(emulator) == 0


def test_waybill_used_on_too_many_orders_is_refused(
    emulator: HubEmulator,
    tracking_channel: Channel,
    allegro_client: AllegroClient,
    offer: str,
):
    emulator.config.waybill_max_orders = 1
    first = import_order(emulator, tracking_channel, allegro_client, offer)
    second = import_order(emulator, tracking_channel, allegro_client, offer)
    push(tracking_channel, allegro_client)
    dispatch(first, "DPD", "1234567890123")
    dispatch(second, "DPD", "1234567890123")

    result = push(tracking_channel, allegro_client)

    refused = Dispatch.objects.get(order=second)
    assert (result.accepted, result.refused) == (1, 1)
    assert refused.state == Dispatch.State.REFUSED
    assert "Maximum waybill usage exceeded" in str(refused.channel_message)
    assert shipments(emulator, second) == []
