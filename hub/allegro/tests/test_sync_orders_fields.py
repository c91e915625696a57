"""Nothing of the order a seller or an accountant needs is dropped: surcharges,
discounts (originalPrice), the marketplace, the delivery method id, guest
buyers, the seller's note, what was sent, and each line's purchase time — kept
and shown on the order page."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from hub.allegro.client import AllegroClient, client_for_channel
from hub.allegro.models import Channel
from hub.allegro.sync.orders import sync_orders
from hub.allegro.tests.fixtures import HubEmulator
from hub.orders.models import Order, OrderEvent
from hub.text import formats

pytestmark = pytest.mark.django_db


def extras(form: dict[str, Any]) -> None:
    """What Allegro sends for a discounted order a guest paid extra for."""
    form["lineItems"][0]["originalPrice"] = {"amount": "25.00", "currency": "PLN"}
    form["surcharges"] = [
        {
            "id": "b8e7c2f0-0000-4000-8000-000000000001",
            "type": "ONLINE",
            "provider": "P24",
            "finishedAt": "2026-11-30T10:00:00.000Z",
            "paidAmount": {"amount": "7.50", "currency": "PLN"},
        }
    ]
    form["note"] = {"text": "Gift wrap promised"}
    form["buyer"]["guest"] = True


@pytest.fixture
def extras_client(
    channel: Channel, emulator: HubEmulator, instant_retries: dict[str, Any]
) -> Iterator[AllegroClient]:
    def handle(request: httpx.Request) -> httpx.Response:
        response = emulator.handle(request)
        if not request.url.path.startswith("/order/checkout-forms/"):
            return response
        if response.status_code != 200 or request.method != "GET":
            return response
        body = response.json()
        extras(body)
        return httpx.Response(200, json=body, headers=response.headers)

    transport = httpx.MockTransport(handle)
    with client_for_channel(channel, transport=transport, **instant_retries) as c:
        yield c


def test_everything_the_seller_needs_is_kept_and_shown(
    emulator: HubEmulator,
    channel: Channel,
    extras_client: AllegroClient,
    logged_in_client: Any,
):
    offer = emulator.add_offer(emulator.seller_id, "Kubek", quantity=9, price="19.99")
    sync_orders(channel.pk, extras_client)
    form_id = emulator.purchase(offer, quantity=2)
    emulator.pay(form_id)
    form = emulator.checkout_forms[form_id]

    sync_orders(channel.pk, extras_client)

    order = Order.objects.get()
    assert order.marketplace == "allegro-pl"
    assert order.delivery_method_id == form.delivery["method_id"]
    assert order.buyer_id == form.buyer["id"]
    assert order.buyer_guest is True
    assert order.note == "Gift wrap promised"
    assert order.lines_sent == "NONE"
    assert order.surcharges_total == Decimal("7.50")
    assert order.surcharges[0]["paid_amount"] == "7.50"
    line = order.lines.get()
    assert line.original_unit_price == Decimal("25.00")
    assert line.discount == Decimal("10.02")  # (25.00 − 19.99) × 2
    assert line.bought_at == order.bought_at  # (to the millisecond Allegro sends)
    assert line.bought_at is not None

    page = logged_in_client.get(f"/orders/{order.pk}/").content.decode()
    assert "Gift wrap promised" in page
    surcharge = formats.format_money(Decimal("7.50"), "PLN")
    discount = formats.format_money(Decimal("10.02"), "PLN")
    assert f'id="surcharges">{surcharge}' in page
    assert f"discounts −{discount}" in page
    assert "allegro-pl" in page
    assert form.delivery["method_id"] in page
    assert "guest, no Allegro account" in page

    # Read again unchanged: no history line, nothing rewritten.
    events = OrderEvent.objects.count()
    sync_orders(channel.pk, extras_client)
    assert OrderEvent.objects.count() == events
