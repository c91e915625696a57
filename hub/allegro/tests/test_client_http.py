"""The client over real HTTP (the emulator's server): every method, faults, refresh."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from hub.allegro.client import client_for_channel
from hub.allegro.errors import NotFound, TransientError
from hub.allegro.models import Channel

pytestmark = pytest.mark.django_db


@pytest.fixture
def http_client(channel_http, instant_retries):
    client = client_for_channel(channel_http, timeout=5, **instant_retries)
    yield client
    client.close()


def test_every_method_over_http(http_client, emulator):
    seller = emulator.seller_id
    offer_id = emulator.add_offer(seller, "Kubek", external_id="SKU-1", quantity=3)
    form_id = emulator.purchase(offer_id, quantity=1)
    emulator.pay(form_id)
    quantity_id, publication_id = str(uuid.uuid4()), str(uuid.uuid4())

    assert http_client.me().login == emulator.seller_login
    assert "allegro-pl" in {m.id for m in http_client.marketplaces()}
    assert "DPD" in {c.id for c in http_client.carriers()}
    assert [o.id for o in http_client.iter_offers(external_ids=["SKU-1"])] == [offer_id]
    assert http_client.get_product_offer(offer_id).available == 2
    assert http_client.get_offer_parts(offer_id).available == 2
    patched = http_client.patch_product_offer(offer_id, {"stock": {"available": 6}})
    assert patched.offer is not None
    assert patched.offer.available == 6
    assert http_client.put_quantity_command(quantity_id, [offer_id], value=9).id == (
        quantity_id
    )
    assert http_client.get_quantity_command(quantity_id).task_count.total == 1
    assert http_client.get_quantity_command_tasks(quantity_id)[0].status == "SUCCESS"
    http_client.put_publication_command(publication_id, [offer_id], action="END")
    assert http_client.get_publication_command(publication_id).is_complete
    assert http_client.get_publication_command_tasks(publication_id)[0].status == (
        "SUCCESS"
    )
    assert "OFFER_ENDED" in {e.type for e in http_client.offer_events()}
    events = list(http_client.iter_order_events())
    assert {e.checkout_form_id for e in events} == {form_id}
    assert http_client.order_event_stats().latest_event_id == events[-1].id
    now = emulator.clock.now()
    forms = list(http_client.iter_checkout_forms(now - timedelta(hours=1), now))
    assert [f.id for f in forms] == [form_id]
    http_client.set_fulfillment_status(form_id, "PROCESSING")
    shipment = http_client.create_shipment(
        form_id, carrier_id="OTHER", waybill="ABC-1", carrier_name="Kurier Jan"
    )
    assert [s.waybill for s in http_client.list_shipments(form_id)] == ["ABC-1"]
    assert shipment.carrier_name == "Kurier Jan"
    assert http_client.get_checkout_form(form_id).fulfillment.status == "PROCESSING"
    new = http_client.create_product_offer(
        {
            "name": "Kubek 2",
            "sellingMode": {"price": {"amount": "12.00", "currency": "PLN"}},
            "stock": {"available": 1},
        }
    )
    assert new.offer is not None
    assert new.offer.status == "INACTIVE"
    with pytest.raises(NotFound):
        http_client.get_checkout_form(str(uuid.uuid4()))


def test_read_timeout_over_http_is_retried(
    channel_http, emulator, instant_retries, retry_sleeps
):
    client = client_for_channel(channel_http, timeout=0.3, **instant_retries)
    emulator.add_fault("^/me$", "timeout", delay_seconds=1)

    assert client.me().id == emulator.seller_id
    assert retry_sleeps == [1.0]


def test_timeouts_until_the_end_raise_transient(
    channel_http, emulator, instant_retries
):
    client = client_for_channel(
        channel_http, timeout=0.2, max_attempts=2, **instant_retries
    )
    emulator.add_fault("^/me$", "timeout", count=None, delay_seconds=0.5)

    with pytest.raises(TransientError) as caught:
        client.me()

    assert "timed out" in str(caught.value)
    # Nothing retries after this: the text must not promise that anything will.
    assert "try again in a few minutes" in caught.value.user_text()
    assert "automatically" not in caught.value.user_text()


def test_5xx_and_429_over_http(http_client, emulator, retry_sleeps):
    emulator.add_fault("^/me$", "502")
    emulator.add_fault("^/me$", "429")

    http_client.me()

    assert [r["status"] for r in emulator.requests] == [502, 429, 200]
    assert retry_sleeps == [1.0, 60.0]


def test_refresh_over_http(http_client, emulator, channel_http):
    Channel.objects.filter(pk=channel_http.pk).update(
        access_token_expires_at=timezone.now() - timedelta(seconds=1)
    )

    http_client.me()

    assert [r["path"] for r in emulator.requests] == ["/auth/oauth/token", "/me"]
