"""Retries: what is retried, how long it waits, and what must happen only once."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest
from django.utils import timezone

from allegro_emulator import EmulatorConfig
from hub.allegro import auth
from hub.allegro.client import AllegroClient, client_for_channel
from hub.allegro.errors import (
    PermanentError,
    RateLimited,
    TokenRateLimited,
    TransientError,
)
from hub.allegro.http import backoff_delay
from hub.allegro.limiter import LocalLimiter
from hub.allegro.models import Channel
from hub.allegro.tests.fixtures import HubEmulator, make_channel, make_emulator

pytestmark = pytest.mark.django_db

Handler = Callable[[httpx.Request], httpx.Response]


def wrapped(
    handle: Handler, change: Callable[[httpx.Request, Handler], httpx.Response]
):
    """A transport that lets a test alter what the emulator answers."""
    return httpx.MockTransport(lambda request: change(request, handle))


def test_5xx_then_success_retries_with_backoff(allegro_client, emulator, retry_sleeps):
    emulator.add_fault("^/me$", "503")

    assert allegro_client.me().login == emulator.seller_login
    assert emulator.count("GET", "/me") == 2
    assert retry_sleeps == [1.0]


def test_persistent_5xx_gives_up_after_max_attempts(
    allegro_client, emulator, retry_sleeps
):
    emulator.add_fault("^/me$", "500", count=None)

    with pytest.raises(TransientError) as caught:
        allegro_client.me()

    assert caught.value.status == 500
    assert caught.value.trace_id
    assert emulator.count("GET", "/me") == 4
    assert retry_sleeps == [1.0, 2.0, 4.0]


def test_timeout_then_success(allegro_client, emulator, retry_sleeps):
    emulator.add_fault("^/me$", "timeout")

    assert allegro_client.me().id == emulator.seller_id
    assert retry_sleeps == [1.0]


def test_429_without_retry_after_waits_out_the_one_minute_block(
    allegro_client, emulator, retry_sleeps
):
    emulator.add_fault("^/me$", "429")

    allegro_client.me()

    assert retry_sleeps == [60.0]
    assert emulator.count("GET", "/me") == 2


def test_429_honours_retry_after(channel, emulator, instant_retries, retry_sleeps):
    answered = []

    def add_retry_after(request, handle):
        response = handle(request)
        if response.status_code == 429:
            response.headers["Retry-After"] = "7"
        answered.append(response.status_code)
        return response

    emulator.add_fault("^/me$", "429")
    client = client_for_channel(
        channel, transport=wrapped(emulator.handle, add_retry_after), **instant_retries
    )

    client.me()

    assert answered == [429, 200]
    assert retry_sleeps == [7.0]


def test_rate_limit_longer_than_the_retry_budget_is_raised_at_once(
    channel, emulator, instant_retries, retry_sleeps
):
    client = client_for_channel(
        channel, transport=emulator.transport, max_retry_seconds=30, **instant_retries
    )
    emulator.add_fault("^/me$", "429")

    with pytest.raises(RateLimited) as caught:
        client.me()

    assert caught.value.retry_after == 60.0
    assert retry_sleeps == []
    assert emulator.count("GET", "/me") == 1
    assert "slow down" in caught.value.user_text()


def test_a_429_given_up_on_still_holds_the_client_id(
    channel, emulator, instant_retries, retry_sleeps
):
    client = client_for_channel(
        channel, transport=emulator.transport, max_retry_seconds=30, **instant_retries
    )
    emulator.add_fault("^/me$", "429")
    with pytest.raises(RateLimited):
        client.me()  # too long to wait here: raised at once

    client.list_offers()  # the next request on the Client ID waits out the block

    assert retry_sleeps == [60.0]
    assert [r["status"] for r in emulator.requests] == [429, 200]


def test_backoff_is_exponential_capped_and_jittered():
    error = TransientError("x")

    delays = [backoff_delay(error, n, lambda: 0.25) for n in (1, 2, 3, 6, 10)]

    assert delays == [1.25, 2.25, 4.25, 30.25, 30.25]


def test_retried_command_reuses_its_id_and_is_created_once(
    allegro_client, emulator, retry_sleeps
):
    offer_id = emulator.add_offer(emulator.seller_id, "Kubek", quantity=1)
    command_id = str(uuid.uuid4())
    emulator.add_fault("/sale/offer-quantity-change-commands/", "503", method="PUT")

    report = allegro_client.put_quantity_command(command_id, [offer_id], value=3)

    puts = [r["path"] for r in emulator.requests if r["method"] == "PUT"]
    assert puts == [f"/sale/offer-quantity-change-commands/{command_id}"] * 2
    assert report.id == command_id
    assert list(emulator.commands) == [("quantity", command_id)]
    emulator.process_commands()
    assert emulator.offer(offer_id)["stock"]["available"] == 3


def test_lost_response_then_409_reads_the_command_back(
    channel, emulator, instant_retries
):
    """The first PUT reaches Allegro but its answer is lost; the retry gets 409.

    The id is ours and reused only for the same command, so 409 means "already
    accepted": the client returns the existing command instead of failing.
    """
    offer_id = emulator.add_offer(emulator.seller_id, "Kubek", quantity=1)
    lost: list[int] = []

    def lose_first_put(request, handle):
        response = handle(request)
        if request.method == "PUT" and not lost:
            lost.append(response.status_code)
            raise httpx.ReadTimeout("response lost", request=request)
        return response

    client = client_for_channel(
        channel, transport=wrapped(emulator.handle, lose_first_put), **instant_retries
    )
    command_id = str(uuid.uuid4())

    report = client.put_quantity_command(command_id, [offer_id], value=2)

    assert lost == [201]
    assert [r["status"] for r in emulator.requests if r["method"] == "PUT"] == [
        201,
        409,
    ]
    assert report.id == command_id
    assert list(emulator.commands) == [("quantity", command_id)]
    assert emulator.offer(offer_id)["stock"]["available"] == 2


def test_409_for_a_command_of_other_offers_is_an_error(allegro_client, emulator):
    mug = emulator.add_offer(emulator.seller_id, "Kubek", quantity=1)
    plate = emulator.add_offer(emulator.seller_id, "Talerz", quantity=1)
    command_id = str(uuid.uuid4())
    allegro_client.put_quantity_command(command_id, [mug], value=5)

    with pytest.raises(PermanentError) as caught:
        allegro_client.put_quantity_command(command_id, [plate], value=5)

    assert caught.value.status == 409
    assert "other offers" in str(caught.value)
    assert emulator.offer(plate)["stock"]["available"] == 1


def test_post_is_not_retried_after_a_5xx(allegro_client, emulator, retry_sleeps):
    form_id = emulator.purchase(emulator.add_offer(emulator.seller_id, "Kubek"))
    emulator.add_fault("/shipments$", "503", method="POST")

    with pytest.raises(TransientError):
        allegro_client.create_shipment(
            form_id, carrier_id="DPD", waybill="1234567890123"
        )

    assert emulator.count("POST", "/order/checkout-forms/{id}/shipments") == 1
    assert retry_sleeps == []


def test_post_is_retried_after_429(allegro_client, emulator):
    form_id = emulator.purchase(emulator.add_offer(emulator.seller_id, "Kubek"))
    emulator.add_fault("/shipments$", "429", method="POST")

    allegro_client.create_shipment(form_id, carrier_id="DPD", waybill="1234567890123")

    assert emulator.count("POST", "/order/checkout-forms/{id}/shipments") == 2
    assert len(allegro_client.list_shipments(form_id)) == 1


def test_post_is_retried_when_the_connection_was_refused(
    channel, emulator, instant_retries
):
    form_id = emulator.purchase(emulator.add_offer(emulator.seller_id, "Kubek"))
    refused: list[int] = []

    def refuse_first_post(request, handle):
        if request.method == "POST" and not refused:
            refused.append(1)
            raise httpx.ConnectError("connection refused", request=request)
        return handle(request)

    client = client_for_channel(
        channel,
        transport=wrapped(emulator.handle, refuse_first_post),
        **instant_retries,
    )

    client.create_shipment(form_id, carrier_id="DPD", waybill="1234567890123")

    assert refused == [1]
    assert len(client.list_shipments(form_id)) == 1


def test_token_endpoint_5xx_during_refresh_is_retried(
    allegro_client, emulator, channel: Channel
):
    Channel.objects.filter(pk=channel.pk).update(
        access_token_expires_at=timezone.now() - timedelta(minutes=1)
    )
    emulator.add_fault("^/auth/oauth/token$", "503")

    assert allegro_client.me().login == emulator.seller_login

    channel.refresh_from_db()
    assert emulator.count("POST", "/auth/oauth/token") == 2
    assert channel.refresh_lease_until is None
    assert channel.needs_reconnect is False


def test_every_attempt_takes_a_slot_from_the_limiter(channel, emulator):
    taken: list[str] = []

    class CountingLimiter:
        def acquire(self, key: str) -> float:
            taken.append(key)
            return 0.0

        def pause(self, key: str, seconds: float) -> None:
            raise AssertionError("no 429 here")

    client = client_for_channel(
        channel,
        transport=emulator.transport,
        limiter=CountingLimiter(),
        sleep=lambda s: None,
        jitter=lambda: 0.0,
    )
    emulator.add_fault("^/me$", "502")

    client.me()

    assert taken == [emulator.client_id, emulator.client_id]


def test_no_auth_client_classifies_401_as_auth_revoked(emulator):
    client = AllegroClient("http://allegro.emulator", transport=emulator.transport)

    with pytest.raises(Exception) as caught:
        client.me()

    assert type(caught.value).__name__ == "AuthRevoked"
    assert caught.value.errors[0].code == "unauthorized"  # type: ignore[attr-defined]


def client_on_emulator_time(
    emulator: HubEmulator, per_minute: int
) -> tuple[AllegroClient, list[float]]:
    """A client of a new channel whose sleeps pass on the emulator's clock too,
    and the delays it slept."""
    channel = make_channel(emulator)
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        emulator.clock.advance(seconds=seconds)

    client = client_for_channel(
        channel,
        transport=emulator.transport,
        sleep=sleep,
        jitter=lambda: 0.0,
        clock=lambda: sum(slept),
        limiter=LocalLimiter(per_minute, clock=lambda: sum(slept), sleep=sleep),
    )
    return client, slept


def test_real_429_block_is_waited_out_without_retry_after(db):
    """The emulator's own limit (not an injected fault): 429 without Retry-After
    blocks the Client ID for a minute (api-notes §9). The client waits the whole
    minute once and then succeeds; waiting less would earn another 429."""
    emulator = make_emulator(EmulatorConfig(rate_limit_per_minute=3))
    client, slept = client_on_emulator_time(emulator, per_minute=100)

    logins = [client.me().login for _ in range(4)]

    assert logins == [emulator.seller_login] * 4
    assert [r["status"] for r in emulator.requests] == [200, 200, 200, 429, 200]
    assert slept == [60.0]


def test_token_endpoint_429_holds_only_that_channels_refresh(
    channel, emulator, instant_retries, retry_sleeps
):
    """Allegro's per-user token limit (api-notes §2.4, §9) is not the Client ID's
    block: other sellers on the same application keep calling, and the refresh
    is not retried at once (each try would generate another token)."""
    other_seller = emulator.add_seller("drugi-sklep")
    other = Channel.objects.get(pk=channel.pk)
    other.pk, other.name, other.account_id = None, "Second shop", other_seller
    other.save()
    auth.store_tokens(other, emulator.issue_tokens(emulator.client_id, other_seller))
    Channel.objects.filter(pk=channel.pk).update(
        access_token_expires_at=timezone.now() - timedelta(minutes=1)
    )
    emulator.add_fault("^/auth/oauth/token$", "429")
    limiter = instant_retries["limiter"]
    client = client_for_channel(
        channel, transport=emulator.transport, **instant_retries
    )
    other_client = client_for_channel(
        other, transport=emulator.transport, **instant_retries
    )

    with pytest.raises(TokenRateLimited):
        client.me()
    other_login = other_client.me().login

    channel.refresh_from_db()
    assert other_login == "drugi-sklep"
    assert emulator.count("POST", "/auth/oauth/token") == 1
    assert retry_sleeps == []  # neither a retry nor a wait for the other seller
    assert limiter.acquire(emulator.client_id) == 0.0
    assert channel.refresh_lease_until is None
    assert channel.needs_reconnect is False
    # the next sync refreshes again
    assert client.me().login == emulator.seller_login
    assert emulator.count("POST", "/auth/oauth/token") == 2


def test_a_burst_of_shipments_is_spaced_under_allegros_50_per_second(db):
    """Shipments have a limit of their own, 50 requests/second per seller
    (api-notes §4.1): 120 tracking numbers in one pass are spaced, none earns a
    429, and a small burst is not slowed at all."""
    emulator = make_emulator(EmulatorConfig(shipments_rate_per_second=50))
    client, slept = client_on_emulator_time(emulator, per_minute=9000)
    offer = emulator.add_offer(emulator.seller_id, "Kubek", quantity=500)
    forms = [emulator.purchase(offer) for _ in range(120)]
    emulator.clear_requests()

    for n, form in enumerate(forms):
        client.create_shipment(form, carrier_id="DPD", waybill=f"1234567890{n:03}")
        if n == 39:
            assert slept == []  # the first 40 of a second go at once

    statuses = [r["status"] for r in emulator.requests]
    assert statuses == [201] * 120
    assert sum(slept) == pytest.approx(2.0)  # 40 a second: two more seconds


def test_a_shipments_429_waits_a_second_and_holds_nothing_else(
    allegro_client, emulator, retry_sleeps, instant_retries
):
    """A 429 from the shipments endpoint is that endpoint's own limit: the
    POST is retried a second later, and the Client ID is not held for a minute."""
    form_id = emulator.purchase(emulator.add_offer(emulator.seller_id, "Kubek"))
    emulator.add_fault("/shipments$", "429", method="POST")

    allegro_client.create_shipment(form_id, carrier_id="DPD", waybill="1234567890123")
    allegro_client.me()

    assert retry_sleeps == [1.0]
    assert emulator.count("POST", "/order/checkout-forms/{id}/shipments") == 2
    assert instant_retries["limiter"].acquire(emulator.client_id) == 0.0
