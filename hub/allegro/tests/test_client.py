"""AllegroClient against the in-process emulator: every method, parsing, errors."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import httpx
import pytest
from django.utils import timezone

from allegro_emulator import MEDIA_TYPE
from hub.allegro.client import USER_AGENT, AllegroClient, client_for_channel
from hub.allegro.errors import (
    AuthRevoked,
    InvalidRequest,
    MalformedResponse,
    NotFound,
    PermanentError,
)
from hub.allegro.models import Channel
from hub.allegro.tests.fixtures import HubEmulator

pytestmark = pytest.mark.django_db


def test_me_reads_login_and_base_marketplace(allegro_client, emulator):
    me = allegro_client.me()

    assert me.id == emulator.seller_id
    assert me.login == emulator.seller_login
    assert me.marketplace_id == "allegro-pl"


def test_sends_media_type_language_user_agent_and_bearer(allegro_client, emulator):
    allegro_client.me()

    headers = emulator.requests[-1]["headers"]
    assert headers["accept"] == MEDIA_TYPE
    assert headers["accept-language"] == "en-US"
    assert headers["user-agent"] == USER_AGENT
    assert USER_AGENT.startswith("allegro-hub/")
    assert headers["authorization"] == "Bearer <redacted>"


def test_marketplaces_and_carriers(allegro_client):
    markets = {m.id: m.currency for m in allegro_client.marketplaces()}
    carriers = {c.id for c in allegro_client.carriers()}

    assert markets["allegro-pl"] == "PLN"
    assert markets["allegro-cz"] == "CZK"
    assert {"DPD", "INPOST", "OTHER"} <= carriers


def test_list_offers_filters_and_flattens(allegro_client, emulator):
    mug = emulator.add_offer(
        emulator.seller_id, "Kubek", external_id="SKU-1", quantity=5, price="19.99"
    )
    emulator.add_offer(emulator.seller_id, "Talerz", external_id="SKU-2")
    emulator.add_offer(emulator.seller_id, "Stary", status="ENDED")

    page = allegro_client.list_offers(external_ids=["SKU-1"], statuses=["ACTIVE"])

    assert page.total_count == 1
    [offer] = page.offers
    assert (offer.id, offer.name, offer.external_id) == (mug, "Kubek", "SKU-1")
    assert (offer.format, offer.status, offer.available) == ("BUY_NOW", "ACTIVE", 5)
    assert offer.price is not None
    assert offer.price.amount == Decimal("19.99")
    assert offer.price.currency == "PLN"
    assert emulator.requests[-1]["query"]["external.id"] == ["SKU-1"]


def test_ended_offer_when_from_the_list_why_from_the_offer(allegro_client, emulator):
    # SPEC: OfferListingDto.publication has endedAt, not endedBy;
    # SaleProductOfferResponseV1.publication has endedBy, not endedAt.
    offer_id = emulator.add_offer(emulator.seller_id, "Kubek", quantity=1)
    emulator.purchase(offer_id)  # the last unit: ends with EMPTY_STOCK
    now = emulator.clock.now()
    ended_at = now.replace(microsecond=now.microsecond // 1000 * 1000)  # ms

    [listed] = allegro_client.list_offers(statuses=["ENDED"]).offers
    offer = allegro_client.get_product_offer(offer_id)

    assert (listed.status, listed.ended_at) == ("ENDED", ended_at)
    assert "ended_by" not in type(listed).model_fields
    assert (offer.status, offer.ended_by) == ("ENDED", "EMPTY_STOCK")
    assert "ended_at" not in type(offer).model_fields


def test_list_offers_refuses_more_than_100_external_ids(allegro_client, emulator):
    with pytest.raises(InvalidRequest):
        allegro_client.list_offers(external_ids=[f"S{i}" for i in range(101)])

    assert emulator.count("GET", "/sale/offers") == 0


def test_product_offer_parts_and_patch(allegro_client, emulator):
    offer_id = emulator.add_offer(emulator.seller_id, "Kubek", quantity=5)

    offer = allegro_client.get_product_offer(offer_id)
    parts = allegro_client.get_offer_parts(offer_id)
    change = allegro_client.patch_product_offer(offer_id, {"stock": {"available": 7}})

    assert (offer.id, offer.name, offer.available, offer.status) == (
        offer_id,
        "Kubek",
        5,
        "ACTIVE",
    )
    assert (parts.available, parts.price.amount if parts.price else None) == (
        5,
        Decimal("10.00"),
    )
    assert change.accepted is False
    assert change.offer is not None
    assert change.offer.available == 7
    assert emulator.offer(offer_id)["stock"]["available"] == 7


def test_patch_validation_error_is_permanent_with_allegro_details(
    allegro_client, emulator
):
    offer_id = emulator.add_offer(emulator.seller_id, "Kubek")

    with pytest.raises(PermanentError) as caught:
        allegro_client.patch_product_offer(offer_id, {"bogus": 1})

    error = caught.value
    assert error.status == 400
    assert error.codes == ["UnknownJSONProperty"]
    assert error.trace_id
    assert error.trace_id in error.user_text()
    assert emulator.count("PATCH", "/sale/product-offers/{offerId}") == 1  # no retry


def test_unknown_offer_is_not_found(allegro_client):
    with pytest.raises(NotFound) as caught:
        allegro_client.get_product_offer("99999999999")

    assert caught.value.status == 404
    assert caught.value.has_code("OfferNotFoundException")


def test_create_product_offer_returns_new_offer(allegro_client, emulator):
    change = allegro_client.create_product_offer(
        {
            "name": "Nowa aukcja",
            "sellingMode": {
                "format": "AUCTION",
                "startingPrice": {"amount": "5.00", "currency": "PLN"},
            },
            "stock": {"available": 1},
            "external": {"id": "SKU-9"},
            "publication": {"status": "ACTIVE", "duration": "P7D"},
        }
    )

    assert change.offer is not None
    assert change.offer.format == "AUCTION"
    assert change.offer.external_id == "SKU-9"
    assert emulator.offer(change.offer.id)["name"] == "Nowa aukcja"


def test_offer_events_after_a_change(allegro_client, emulator):
    offer_id = emulator.add_offer(emulator.seller_id, "Kubek", external_id="SKU-1")
    emulator.end_offer(offer_id)

    events = allegro_client.offer_events()
    later = allegro_client.offer_events(from_event=events[-1].id)

    assert [(e.type, e.offer_id, e.ended_by) for e in events] == [
        ("OFFER_ENDED", offer_id, "USER")
    ]
    assert events[0].external_id == "SKU-1"
    assert later == []


def test_quantity_command_report_and_tasks(allegro_client, emulator):
    good = emulator.add_offer(emulator.seller_id, "Kubek", quantity=1)
    command_id = str(uuid.uuid4())

    created = allegro_client.put_quantity_command(command_id, [good, "123"], value=4)
    report = allegro_client.get_quantity_command(command_id)
    tasks = {
        t.offer_id: t for t in allegro_client.get_quantity_command_tasks(command_id)
    }

    assert created.id == command_id
    assert created.completed_at is None
    assert report.is_complete
    assert (report.task_count.total, report.task_count.success) == (2, 1)
    assert tasks[good].status == "SUCCESS"
    assert tasks["123"].status == "FAIL"
    assert tasks["123"].errors[0].code == "OfferNotFoundException"
    assert emulator.offer(good)["stock"]["available"] == 4


@pytest.mark.parametrize("value", [0, -3])
def test_quantity_command_refuses_fixed_below_one_without_sending(
    allegro_client, emulator, value
):
    with pytest.raises(InvalidRequest) as caught:
        allegro_client.put_quantity_command(str(uuid.uuid4()), ["1"], value=value)

    assert "1 or more" in caught.value.user_text()
    assert emulator.count("PUT") == 0


def test_commands_refuse_more_than_1000_offers(allegro_client, emulator):
    ids = [str(i) for i in range(1001)]

    with pytest.raises(InvalidRequest):
        allegro_client.put_quantity_command(str(uuid.uuid4()), ids, value=1)
    with pytest.raises(InvalidRequest):
        allegro_client.put_publication_command(str(uuid.uuid4()), ids, action="END")

    assert emulator.count("PUT") == 0


def test_publication_command_ends_and_reactivates_scheduled(allegro_client, emulator):
    offer_id = emulator.add_offer(emulator.seller_id, "Kubek", quantity=2)
    end_id, activate_id = str(uuid.uuid4()), str(uuid.uuid4())

    allegro_client.put_publication_command(end_id, [offer_id], action="END")
    [ended] = allegro_client.get_publication_command_tasks(end_id)
    when = emulator.clock.now() + timedelta(minutes=30)
    allegro_client.put_publication_command(
        activate_id, [offer_id], action="ACTIVATE", scheduled_for=when
    )
    sent = emulator.requests[-1]["json"]["publication"]

    assert ended.status == "SUCCESS"
    assert allegro_client.get_publication_command(end_id).is_complete
    assert sent["action"] == "ACTIVATE"
    assert sent["scheduledFor"].endswith("Z")


def test_order_events_stats_and_checkout_form(allegro_client, emulator):
    offer_id = emulator.add_offer(
        emulator.seller_id, "Kubek", external_id="SKU-1", quantity=5, price="19.99"
    )
    form_id = emulator.purchase(offer_id, quantity=2, message="Szybko proszę")
    emulator.pay(form_id)

    events = allegro_client.order_events()
    stats = allegro_client.order_event_stats()
    form = allegro_client.get_checkout_form(form_id)

    assert [e.type for e in events] == ["BOUGHT", "FILLED_IN", "READY_FOR_PROCESSING"]
    assert {e.checkout_form_id for e in events} == {form_id}
    assert stats.latest_event_id == events[-1].id
    assert form.status == "READY_FOR_PROCESSING"
    assert form.message_to_seller == "Szybko proszę"
    [line] = form.line_items
    assert (line.offer.id, line.offer.external_id, line.quantity) == (
        offer_id,
        "SKU-1",
        2,
    )
    assert line.price.amount == Decimal("19.99")
    assert form.total_to_pay is not None
    assert form.total_to_pay.currency == "PLN"
    assert form.delivery is not None
    assert form.delivery.address is not None
    assert form.revision


def test_event_stats_without_events(allegro_client):
    assert allegro_client.order_event_stats().latest_event_id is None


def test_list_checkout_forms_with_filters(allegro_client, emulator):
    offer_id = emulator.add_offer(emulator.seller_id, "Kubek", quantity=5)
    first = emulator.purchase(offer_id)
    emulator.clock.advance(minutes=10)
    second = emulator.purchase(offer_id)
    emulator.cancel(second)
    now = emulator.clock.now()

    everything = allegro_client.list_checkout_forms(
        bought_from=now - timedelta(hours=1), bought_to=now
    )
    cancelled = allegro_client.list_checkout_forms(status="CANCELLED")

    assert [f.id for f in everything.checkout_forms] == [second, first]
    assert everything.total_count == 2
    assert [f.id for f in cancelled.checkout_forms] == [second]
    assert "lineItems.boughtAt.gte" in emulator.requests[-2]["query"]


def test_fulfillment_status_with_revision(allegro_client, emulator):
    offer_id = emulator.add_offer(emulator.seller_id, "Kubek")
    form_id = emulator.purchase(offer_id)
    emulator.pay(form_id)
    revision = allegro_client.get_checkout_form(form_id).revision

    allegro_client.set_fulfillment_status(form_id, "PROCESSING", revision=revision)
    with pytest.raises(PermanentError) as stale:
        allegro_client.set_fulfillment_status(form_id, "SENT", revision=revision)

    form = allegro_client.get_checkout_form(form_id)
    assert form.fulfillment is not None
    assert form.fulfillment.status == "PROCESSING"
    assert stale.value.status == 409


def test_shipments_create_and_list(allegro_client, emulator):
    offer_id = emulator.add_offer(emulator.seller_id, "Kubek")
    form_id = emulator.purchase(offer_id)
    emulator.pay(form_id)
    line_id = allegro_client.get_checkout_form(form_id).line_items[0].id

    created = allegro_client.create_shipment(
        form_id, carrier_id="DPD", waybill="1234567890123", line_item_ids=[line_id]
    )
    listed = allegro_client.list_shipments(form_id)

    assert (created.carrier_id, created.waybill, created.line_item_ids) == (
        "DPD",
        "1234567890123",
        [line_id],
    )
    assert [s.id for s in listed] == [created.id]


def test_invalid_waybill_for_carrier_is_permanent_and_not_retried(
    allegro_client, emulator
):
    form_id = emulator.purchase(emulator.add_offer(emulator.seller_id, "Kubek"))

    with pytest.raises(PermanentError) as caught:
        allegro_client.create_shipment(form_id, carrier_id="DPD", waybill="ABC")

    assert caught.value.has_code("CarrierWaybillValidationException")
    assert emulator.count("POST", "/order/checkout-forms/{id}/shipments") == 1


def test_overlong_waybill_refused_locally(allegro_client, emulator):
    with pytest.raises(InvalidRequest):
        allegro_client.create_shipment("x", carrier_id="OTHER", waybill="9" * 65)

    assert emulator.count("POST") == 0


# ---------------------------------------------------------- malformed input


def _client_answering(response: httpx.Response) -> AllegroClient:
    def handler(request: httpx.Request) -> httpx.Response:
        response.headers["Trace-Id"] = "trace-123"
        return response

    return AllegroClient("http://allegro.test", transport=httpx.MockTransport(handler))


def test_malformed_json_raises_malformed_response():
    client = _client_answering(httpx.Response(200, content=b"{not json"))

    with pytest.raises(MalformedResponse) as caught:
        client.me()

    assert "not JSON" in str(caught.value)
    assert caught.value.trace_id == "trace-123"


def test_missing_required_field_raises_malformed_response_naming_it():
    client = _client_answering(httpx.Response(200, json={"login": "x"}))

    with pytest.raises(MalformedResponse) as caught:
        client.me()

    assert "id: Field required" in str(caught.value)


def test_wrong_type_in_list_raises_malformed_response_without_values():
    body = {"offers": [{"id": "1", "stock": {"available": "lots-of-secret"}}]}
    client = _client_answering(httpx.Response(200, json=body))

    with pytest.raises(MalformedResponse) as caught:
        client.list_offers()

    assert "offers.0.available" in str(caught.value)
    assert "lots-of-secret" not in str(caught.value)


def test_unknown_fields_are_ignored():
    body = {"id": "1", "login": "x", "brandNewField": {"a": 1}}
    client = _client_answering(httpx.Response(200, json=body))

    assert client.me().login == "x"


def test_revoked_tokens_raise_auth_revoked_and_mark_channel(
    allegro_client, emulator, channel
):
    emulator.revoke_tokens(emulator.seller_id)

    with pytest.raises(AuthRevoked) as caught:
        allegro_client.me()

    channel.refresh_from_db()
    assert channel.needs_reconnect is True
    assert "connect the account again" in caught.value.user_text()
    assert emulator.count("POST", "/auth/oauth/token") == 1


def test_client_for_channel_uses_install_wide_credentials(
    settings, emulator: HubEmulator, channel: Channel
):
    settings.ALLEGRO_CLIENT_ID = emulator.client_id
    settings.ALLEGRO_CLIENT_SECRET = emulator.client_secret
    channel.client_id = ""
    channel.client_secret = ""
    channel.save()

    client = client_for_channel(channel, transport=emulator.transport)

    assert client.limiter_key == emulator.client_id
    assert client.me().login == emulator.seller_login


def test_language_is_configurable_but_en_us_only_operations_keep_it(channel, emulator):
    client = client_for_channel(channel, transport=emulator.transport, language="pl-PL")

    client.me()
    client.offer_events()

    languages = [r["headers"]["accept-language"] for r in emulator.requests]
    assert languages == ["pl-PL", "en-US"]


@pytest.mark.parametrize(
    ("environment", "api_host", "auth_host"),
    [
        ("production", "api.allegro.pl", "allegro.pl"),
        ("sandbox", "api.allegro.pl.allegrosandbox.pl", "allegro.pl.allegrosandbox.pl"),
    ],
)
def test_environments_use_allegros_hosts(
    channel, emulator, environment, api_host, auth_host
):
    channel.environment = environment
    channel.save()
    Channel.objects.filter(pk=channel.pk).update(
        access_token_expires_at=timezone.now() - timedelta(seconds=1)
    )
    hosts = []

    def record_host(request: httpx.Request) -> httpx.Response:
        hosts.append((request.url.scheme, request.url.host, request.url.path))
        return emulator.handle(request)

    client = client_for_channel(channel, transport=httpx.MockTransport(record_host))
    client.me()

    assert hosts == [
        ("https", auth_host, "/auth/oauth/token"),
        ("https", api_host, "/me"),
    ]


def test_accepted_patch_is_polled_until_done():
    """Allegro may answer a PATCH with 202 + Location (api-notes §5.2)."""
    polls = []

    def allegro(request: httpx.Request) -> httpx.Response:
        if request.method == "PATCH":
            return httpx.Response(
                202,
                headers={
                    "Location": "http://allegro.test/sale/product-offers/1/operations/op-1",
                    "Retry-After": "5",
                },
            )
        polls.append(request.url.path)
        if len(polls) == 1:
            return httpx.Response(202, json={}, headers={"Retry-After": "3"})
        return httpx.Response(303, headers={"Location": "/sale/product-offers/1"})

    client = AllegroClient(
        "http://allegro.test", transport=httpx.MockTransport(allegro)
    )

    change = client.patch_product_offer("1", {"stock": {"available": 2}})
    assert change.operation_url is not None
    pending = client.get_product_offer_operation(change.operation_url)
    done = client.get_product_offer_operation(change.operation_url)

    assert (change.accepted, change.offer, change.retry_after) == (True, None, 5.0)
    assert (pending.done, pending.retry_after) == (False, 3.0)
    assert (done.done, done.offer_url) == (True, "/sale/product-offers/1")
    assert polls == ["/sale/product-offers/1/operations/op-1"] * 2
