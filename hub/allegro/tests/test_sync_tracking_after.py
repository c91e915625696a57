"""After Allegro accepted a shipment: the order's lines sent read again from
Allegro, no resend for an order the buyer cancelled, and Allegro's own words
in the install's language."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from hub.allegro import client as allegro_api
from hub.allegro import texts
from hub.allegro.client import AllegroClient, client_for_channel
from hub.allegro.models import Channel
from hub.allegro.sync.orders import sync_orders
from hub.allegro.sync.tracking import sync_tracking
from hub.allegro.tests import test_sync_tracking as tracking
from hub.allegro.tests.fixtures import HubEmulator
from hub.allegro.tests.test_sync_tracking import (
    LATER,
    import_order,
    posts,
    two_line_order,
)
from hub.orders.dispatching import (
    DispatchRequest,
    NotDispatchable,
    dispatch_order,
    resend_dispatch,
)
from hub.orders.models import Dispatch, Order
from hub.text.message import Message

pytestmark = pytest.mark.django_db

FORM = r"^/order/checkout-forms/[0-9a-f-]{36}$"
# The same stock item, offer and channel as the tracking tests.
mug, offer, tracking_channel = tracking.mug, tracking.offer, tracking.tracking_channel


@pytest.fixture
def status_channel(tracking_channel: Channel) -> Channel:
    """The channel also sets Allegro's fulfilment status to SENT."""
    tracking_channel.tracking_status = "SENT"
    tracking_channel.save()
    return tracking_channel


def push(channel: Channel, client: AllegroClient) -> Any:
    return sync_tracking(channel.pk, client)


@pytest.fixture
def accepted(
    emulator: HubEmulator,
    tracking_channel: Channel,
    allegro_client: AllegroClient,
    offer: str,
) -> Dispatch:
    """A tracking number Allegro accepted (one shipment on the order)."""
    order = import_order(emulator, tracking_channel, allegro_client, offer)
    push(tracking_channel, allegro_client)
    sent = dispatch_order(order, DispatchRequest("DPD", "1234567890123"))
    push(tracking_channel, allegro_client)
    sent.refresh_from_db()
    assert sent.state == Dispatch.State.ACCEPTED
    return sent


# ------------------------------------------------------ 6. lines sent re-read


def test_accepted_shipment_reads_the_order_again_once(
    emulator: HubEmulator,
    tracking_channel: Channel,
    allegro_client: AllegroClient,
    offer: str,
):
    order = import_order(emulator, tracking_channel, allegro_client, offer)
    assert Order.objects.get().lines_sent == "NONE"
    push(tracking_channel, allegro_client)  # the carrier list
    dispatch_order(order, DispatchRequest("DPD", "1234567890123"))
    reads = emulator.count("GET", FORM)

    result = push(tracking_channel, allegro_client)

    assert result.accepted == 1
    assert result.reread == 1
    assert emulator.count("GET", FORM) == reads + 1  # one GET, no more
    assert Order.objects.get().lines_sent == "ALL"
    assert (
        emulator.checkout_form(order.external_id)["fulfillment"]["shipmentSummary"][
            "lineItemsSent"
        ]
        == "ALL"
    )


def test_a_parcel_of_some_lines_is_some_and_the_status_read_serves(
    emulator: HubEmulator,
    status_channel: Channel,
    allegro_client: AllegroClient,
    offer: str,
):
    order = two_line_order(emulator, status_channel, allegro_client, offer, paid=True)
    push(status_channel, allegro_client)
    first = Order.objects.get().lines.order_by("id").first()
    assert first is not None
    dispatch_order(order, DispatchRequest("DPD", "1234567890123", line_ids=[first.pk]))
    reads = emulator.count("GET", FORM)

    result = push(status_channel, allegro_client)

    stored = Order.objects.get()
    assert (stored.status, stored.lines_sent) == (Order.Status.OPEN, "SOME")
    assert result.reread == 1
    assert emulator.count("GET", FORM) == reads + 1
    assert emulator.count("PUT", r".*/fulfillment$") == 0  # not all left yet


def test_with_the_status_option_the_status_read_is_the_re_read(
    emulator: HubEmulator,
    status_channel: Channel,
    allegro_client: AllegroClient,
    offer: str,
):
    order = import_order(emulator, status_channel, allegro_client, offer)
    push(status_channel, allegro_client)
    dispatch_order(order, DispatchRequest("DPD", "1234567890123"))
    reads = emulator.count("GET", FORM)

    result = push(status_channel, allegro_client)

    stored = Order.objects.get()
    assert (stored.lines_sent, stored.fulfillment_status) == ("ALL", "SENT")
    assert (result.statuses, result.reread) == (1, 0)
    assert emulator.count("GET", FORM) == reads + 1  # the status check's read


# ------------------------------------------- 8. cancelled: nothing sent again


def test_resend_after_the_buyer_cancelled_sends_nothing_and_stays_in_needs_action(
    emulator: HubEmulator,
    tracking_channel: Channel,
    allegro_client: AllegroClient,
    accepted: Dispatch,
):
    sent = accepted
    emulator.cancel(sent.order.external_id)
    sync_orders(tracking_channel.pk, allegro_client)
    sent.refresh_from_db()
    assert sent.state == Dispatch.State.NEEDS_ACTION
    requests = len(emulator.requests)

    with pytest.raises(NotDispatchable, match="The buyer cancelled order"):
        resend_dispatch(sent)
    push(tracking_channel, allegro_client)
    sync_tracking(tracking_channel.pk, allegro_client, now=timezone.now() + LATER)

    sent.refresh_from_db()
    assert sent.state == Dispatch.State.NEEDS_ACTION  # never ACCEPTED unasked
    assert posts(emulator) == 1
    assert [r["path"] for r in emulator.requests[requests:]] == []


def test_resend_of_a_number_allegro_has_says_it_is_already_there(
    emulator: HubEmulator,
    tracking_channel: Channel,
    allegro_client: AllegroClient,
    accepted: Dispatch,
):
    sent = accepted
    # e.g. Allegro refused the order status after taking the number.
    Dispatch.objects.filter(pk=sent.pk).update(state=Dispatch.State.REFUSED)

    resend_dispatch(sent)
    push(tracking_channel, allegro_client)

    sent.refresh_from_db()
    assert sent.state == Dispatch.State.ACCEPTED
    assert sent.channel_message == Message(texts.TRACKING_ALREADY_THERE)
    assert posts(emulator) == 1


# ------------------------------------------------- 5. Allegro's language


@pytest.mark.parametrize(
    ("hub", "allegro"),
    [("pl", "pl-PL"), ("pl-pl", "pl-PL"), ("en", "en-US"), ("de", "en-US"),
     ("cs", "cs-CZ")],
)  # fmt: skip
def test_allegro_language_follows_the_install(hub: str, allegro: str):
    assert allegro_api.allegro_language(hub) == allegro


def test_a_polish_install_asks_allegro_in_polish(
    emulator: HubEmulator, channel: Channel, settings: Any
):
    settings.LANGUAGE_CODE = "pl"
    with client_for_channel(channel, transport=emulator.transport) as client:
        client.carriers()
    settings.LANGUAGE_CODE = "en"
    with client_for_channel(channel, transport=emulator.transport) as client:
        client.carriers()

    asked = [
        r["headers"].get("accept-language")
        for r in emulator.requests
        if r["path"] == "/order/carriers"
    ]
    assert asked == ["pl-PL", "en-US"]
