"""OAuth: code + PKCE, device flow, refresh token connect, rotation-safe refresh."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.utils import timezone

from hub import crypto
from hub.allegro import auth
from hub.allegro.client import client_for_channel
from hub.allegro.errors import AuthRevoked, InvalidRequest, PermanentError
from hub.allegro.models import Channel
from hub.allegro.tests.fixtures import EMULATOR_URL, REDIRECT_URI, HubEmulator

pytestmark = pytest.mark.django_db


@pytest.fixture
def new_channel(emulator: HubEmulator) -> Channel:
    """A channel with credentials but not yet connected."""
    channel = Channel(
        name="Nowy",
        environment=Channel.Environment.CUSTOM,
        api_url=EMULATOR_URL,
        client_id=emulator.client_id,
    )
    channel.client_secret = emulator.client_secret
    channel.save()
    return channel


def token_posts(emulator: HubEmulator) -> list[dict]:
    return [r for r in emulator.requests if r["path"] == "/auth/oauth/token"]


# ------------------------------------------------------------ code + PKCE


def test_authorization_url_carries_state_and_s256_challenge(new_channel):
    verifier, challenge = auth.new_pkce_pair()
    state = auth.new_state()

    url = auth.authorization_url(new_channel, REDIRECT_URI, state, verifier)

    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == (
        f"{EMULATOR_URL}/auth/oauth/authorize"
    )
    assert query["response_type"] == "code"
    assert query["client_id"] == new_channel.client_id
    assert query["redirect_uri"] == REDIRECT_URI
    assert query["state"] == state
    assert query["code_challenge_method"] == "S256"
    assert query["code_challenge"] == challenge
    assert 43 <= len(verifier) <= 128
    assert auth.new_state() != state


def test_exchange_code_stores_encrypted_tokens(new_channel, emulator):
    verifier, challenge = auth.new_pkce_pair()
    code = emulator.authorize(
        emulator.client_id, emulator.seller_id, REDIRECT_URI, code_challenge=challenge
    )

    auth.exchange_code(
        new_channel, code, REDIRECT_URI, verifier, transport=emulator.transport
    )

    new_channel.refresh_from_db()
    assert new_channel.is_connected
    assert new_channel.token_version == 1
    assert new_channel.access_token_expires_at > timezone.now() + timedelta(hours=11)
    # Encrypted at rest: the stored text is not the token.
    assert new_channel.access_token not in new_channel.access_token_encrypted
    assert crypto.decrypt(new_channel.refresh_token_encrypted) == (
        new_channel.refresh_token
    )
    [post] = token_posts(emulator)
    assert post["query"] == {}  # parameters in the body (api-notes §2.1)
    assert post["form"]["grant_type"] == "authorization_code"
    assert "authorization" not in post["headers"]  # PKCE: no Basic header
    client = client_for_channel(new_channel, transport=emulator.transport)
    assert client.me().login == emulator.seller_login


def test_exchange_code_with_wrong_verifier_changes_nothing(new_channel, emulator):
    _, challenge = auth.new_pkce_pair()
    other_verifier, _ = auth.new_pkce_pair()
    code = emulator.authorize(
        emulator.client_id, emulator.seller_id, REDIRECT_URI, code_challenge=challenge
    )

    with pytest.raises(PermanentError) as caught:
        auth.exchange_code(
            new_channel,
            code,
            REDIRECT_URI,
            other_verifier,
            transport=emulator.transport,
        )

    new_channel.refresh_from_db()
    assert caught.value.has_code("invalid_grant")
    assert not new_channel.is_connected
    assert new_channel.token_version == 0


def test_code_is_single_use(new_channel, emulator):
    verifier, challenge = auth.new_pkce_pair()
    code = emulator.authorize(
        emulator.client_id, emulator.seller_id, REDIRECT_URI, code_challenge=challenge
    )
    auth.exchange_code(
        new_channel, code, REDIRECT_URI, verifier, transport=emulator.transport
    )

    with pytest.raises(PermanentError):
        auth.exchange_code(
            new_channel, code, REDIRECT_URI, verifier, transport=emulator.transport
        )

    new_channel.refresh_from_db()
    assert new_channel.token_version == 1


# ------------------------------------------------------------ device flow


def test_device_flow_pending_slow_down_then_connected(new_channel, emulator):
    device = auth.start_device_flow(new_channel, transport=emulator.transport)

    first = auth.poll_device_flow(
        new_channel, device.device_code, transport=emulator.transport
    )
    too_fast = auth.poll_device_flow(
        new_channel, device.device_code, transport=emulator.transport
    )
    emulator.clock.advance(device.interval)
    emulator.approve_device(device.user_code, emulator.seller_id)
    done = auth.poll_device_flow(
        new_channel, device.device_code, transport=emulator.transport
    )

    assert (device.interval, device.expires_in) == (5, 3600)
    assert device.verification_uri.endswith("/skojarz-aplikacje")
    assert device.user_code in device.verification_uri_complete
    assert device.device_code not in repr(device)
    assert [first.status, too_fast.status, done.status] == [
        "pending",
        "slow_down",
        "connected",
    ]
    new_channel.refresh_from_db()
    assert new_channel.is_connected
    assert client_for_channel(new_channel, transport=emulator.transport).me().id == (
        emulator.seller_id
    )


def test_device_flow_denied_and_unknown_code(new_channel, emulator):
    device = auth.start_device_flow(new_channel, transport=emulator.transport)
    emulator.deny_device(device.user_code)

    denied = auth.poll_device_flow(
        new_channel, device.device_code, transport=emulator.transport
    )
    unknown = auth.poll_device_flow(new_channel, "nope", transport=emulator.transport)

    assert denied.status == "denied"
    assert unknown.status == "expired"
    new_channel.refresh_from_db()
    assert not new_channel.is_connected


def test_device_flow_with_wrong_secret_is_permanent(new_channel, emulator):
    new_channel.client_secret = "wrong"
    new_channel.save()

    with pytest.raises(PermanentError) as caught:
        auth.start_device_flow(new_channel, transport=emulator.transport)

    assert caught.value.status == 401


def test_missing_credentials_are_refused_before_calling_allegro(
    settings, new_channel, emulator
):
    settings.ALLEGRO_CLIENT_ID = settings.ALLEGRO_CLIENT_SECRET = ""
    new_channel.client_id = new_channel.client_secret = ""
    new_channel.save()

    with pytest.raises(InvalidRequest) as caught:
        auth.start_device_flow(new_channel, transport=emulator.transport)

    # Not "Allegro refused": nothing was sent.
    assert caught.value.user_text().startswith("Not sent to Allegro: ")
    assert "Client ID" in caught.value.user_text()
    assert emulator.requests == []


# ------------------------------------------------- connect with refresh token


def test_connect_with_refresh_token_rotates_and_stores(new_channel, emulator):
    given = emulator.issue_tokens(emulator.client_id, emulator.seller_id)

    auth.connect_with_refresh_token(
        new_channel, given["refresh_token"], transport=emulator.transport
    )

    new_channel.refresh_from_db()
    assert new_channel.is_connected
    assert new_channel.refresh_token != given["refresh_token"]


def test_connect_with_bad_refresh_token_raises_auth_revoked(new_channel, emulator):
    with pytest.raises(AuthRevoked):
        auth.connect_with_refresh_token(
            new_channel, "not-a-token", transport=emulator.transport
        )

    new_channel.refresh_from_db()
    assert not new_channel.is_connected


def test_effective_credentials(settings, new_channel, emulator):
    settings.ALLEGRO_CLIENT_ID = "install-id"
    settings.ALLEGRO_CLIENT_SECRET = "install-secret"

    own = auth.effective_credentials(new_channel)
    new_channel.client_id = ""
    install_wide = auth.effective_credentials(new_channel)

    assert own == (
        new_channel.client_id or "hub-test-client",
        new_channel.client_secret,
    )
    assert install_wide == ("install-id", "install-secret")


# ---------------------------------------------------------------- refresh


def expire_in_db(channel: Channel) -> None:
    Channel.objects.filter(pk=channel.pk).update(
        access_token_expires_at=timezone.now() - timedelta(seconds=1)
    )


def test_expired_access_token_refreshes_once_before_the_call(
    allegro_client, emulator, channel
):
    old_access, old_version = channel.access_token, channel.token_version
    expire_in_db(channel)

    allegro_client.me()
    allegro_client.me()

    channel.refresh_from_db()
    assert emulator.count("POST", "/auth/oauth/token") == 1
    assert emulator.count("GET", "/me") == 2
    assert channel.token_version == old_version + 1
    assert channel.access_token != old_access
    assert channel.access_token_expires_at > timezone.now() + timedelta(hours=11)
    assert channel.refresh_lease_until is None
    [post] = token_posts(emulator)
    assert post["form"]["grant_type"] == "refresh_token"
    assert post["headers"]["authorization"] == "Basic <redacted>"


def test_401_on_an_expired_token_refreshes_once_and_retries(
    allegro_client, emulator, channel
):
    # Allegro's clock says the token expired, although our row thinks it is fine.
    emulator.clock.advance(hours=13)

    me = allegro_client.me()

    assert me.id == emulator.seller_id
    assert [r["status"] for r in emulator.requests] == [401, 200, 200]
    assert emulator.count("POST", "/auth/oauth/token") == 1


def test_refresh_rejected_after_another_process_rotated_uses_their_pair(
    channel, emulator, instant_retries
):
    """invalid_grant, but the row moved meanwhile: not a revocation."""
    expire_in_db(channel)

    def rotate_elsewhere_then_refuse(request):
        if request.url.path == "/auth/oauth/token":
            fresh = emulator.issue_tokens(emulator.client_id, emulator.seller_id)
            auth.store_tokens(Channel.objects.get(pk=channel.pk), fresh)
            return httpx.Response(400, json={"error": "invalid_grant"})
        return emulator.handle(request)

    transport = httpx.MockTransport(rotate_elsewhere_then_refuse)
    client = client_for_channel(channel, transport=transport, **instant_retries)

    assert client.me().login == emulator.seller_login

    channel.refresh_from_db()
    assert channel.needs_reconnect is False
    assert channel.token_version == 2


def test_waiter_uses_the_pair_another_worker_stored(channel, emulator):
    """A live lease held elsewhere: we wait, then pick up the rotated pair."""
    expire_in_db(channel)
    Channel.objects.filter(pk=channel.pk).update(
        refresh_lease_until=timezone.now() + timedelta(seconds=30)
    )
    polls = []

    def other_worker_finishes(seconds: float) -> None:
        polls.append(seconds)
        if len(polls) == 3:
            fresh = emulator.issue_tokens(emulator.client_id, emulator.seller_id)
            auth.store_tokens(Channel.objects.get(pk=channel.pk), fresh)

    state = auth.fresh_tokens(
        channel, channel.token_version, transport=emulator.transport,
        sleep=other_worker_finishes,
    )  # fmt: skip

    assert len(polls) == 3
    assert state.version == channel.token_version + 1
    assert emulator.count("POST", "/auth/oauth/token") == 0


def test_lease_of_a_dead_worker_expires(channel, emulator):
    expire_in_db(channel)
    Channel.objects.filter(pk=channel.pk).update(
        refresh_lease_until=timezone.now() - timedelta(seconds=1)
    )

    state = auth.fresh_tokens(
        channel, channel.token_version, transport=emulator.transport
    )

    assert state.version == channel.token_version + 1
    assert emulator.count("POST", "/auth/oauth/token") == 1


def test_revoked_refresh_token_marks_channel_and_stops_calling(
    allegro_client, emulator, channel
):
    emulator.revoke_tokens(emulator.seller_id)
    expire_in_db(channel)

    with pytest.raises(AuthRevoked):
        allegro_client.me()
    with pytest.raises(AuthRevoked):
        allegro_client.me()

    channel.refresh_from_db()
    assert channel.needs_reconnect is True
    assert "reconnect" in str(channel.last_error)
    assert channel.refresh_lease_until is None
    assert emulator.count("POST", "/auth/oauth/token") == 1  # not hammered
    assert emulator.count("GET", "/me") == 0


def test_reconnecting_clears_needs_reconnect(allegro_client, emulator, channel):
    emulator.revoke_tokens(emulator.seller_id)
    expire_in_db(channel)
    with pytest.raises(AuthRevoked):
        allegro_client.me()

    auth.store_tokens(
        channel, emulator.issue_tokens(emulator.client_id, emulator.seller_id)
    )

    channel.refresh_from_db()
    assert channel.needs_reconnect is False
    assert not channel.last_error
    assert allegro_client.me().id == emulator.seller_id


def test_not_connected_channel_raises_auth_revoked_without_calling(
    new_channel, emulator
):
    client = client_for_channel(new_channel, transport=emulator.transport)

    with pytest.raises(AuthRevoked):
        client.me()

    assert emulator.requests == []


def test_refresh_without_a_new_refresh_token_keeps_the_old_one(channel, emulator):
    expire_in_db(channel)
    old_refresh = channel.refresh_token

    def access_only(request: httpx.Request) -> httpx.Response:
        response = emulator.handle(request)
        if request.url.path == "/auth/oauth/token":
            body = response.json()
            del body["refresh_token"]
            return httpx.Response(200, json=body)
        return response

    client = client_for_channel(channel, transport=httpx.MockTransport(access_only))
    client.me()

    channel.refresh_from_db()
    assert channel.refresh_token == old_refresh
    assert channel.token_version == 2


# ------------------------------------------------------ client secret check


def refusing_client_credentials(
    emulator: HubEmulator, body: dict
) -> httpx.MockTransport:
    """The emulator, except that the client_credentials grant gets a 400 `body`."""

    def handle(request: httpx.Request) -> httpx.Response:
        if b"grant_type=client_credentials" in request.content:
            return httpx.Response(400, json=body)
        return emulator.handle(request)

    return httpx.MockTransport(handle)


def test_wrong_secret_is_refused_by_the_client_credentials_check(new_channel, emulator):
    new_channel.client_secret = "wrong"
    new_channel.save()

    with pytest.raises(auth.InvalidClient):
        auth.check_client_credentials(new_channel, transport=emulator.transport)

    new_channel.refresh_from_db()
    assert new_channel.access_token_encrypted == ""


def test_right_secret_passes_the_check_and_keeps_no_token(new_channel, emulator):
    auth.check_client_credentials(new_channel, transport=emulator.transport)

    new_channel.refresh_from_db()
    assert new_channel.access_token_encrypted == ""
    assert new_channel.token_version == 0


def test_a_grant_the_application_may_not_use_does_not_block_connecting(
    new_channel, emulator, caplog
):
    # An application without the client_credentials grant says nothing about its
    # secret: the check must let the seller connect.
    transport = refusing_client_credentials(emulator, {"error": "unauthorized_client"})

    auth.check_client_credentials(new_channel, transport=transport)

    assert "unauthorized_client" in caplog.text
    assert emulator.client_secret not in caplog.text


def test_fresh_token_refused_marks_channel_and_later_syncs_do_not_refresh(
    channel, emulator, instant_retries
):
    """401 even with the token just refreshed: the grant is gone. Refreshing on
    every later sync would burn the per-user token limit (api-notes §2.4)."""
    emulator.clock.advance(hours=13)  # Allegro says the access token expired

    def revoke_after_refresh(request: httpx.Request) -> httpx.Response:
        response = emulator.handle(request)
        if request.url.path == "/auth/oauth/token" and response.status_code == 200:
            emulator.revoke_tokens(emulator.seller_id)  # e.g. the app was unlinked
        return response

    transport = httpx.MockTransport(revoke_after_refresh)
    with pytest.raises(AuthRevoked):
        client_for_channel(channel, transport=transport, **instant_retries).me()

    channel.refresh_from_db()
    assert [(r["path"], r["status"]) for r in emulator.requests] == [
        ("/me", 401),
        ("/auth/oauth/token", 200),
        ("/me", 401),
    ]
    assert channel.needs_reconnect is True
    assert str(channel.last_error) == (
        "Allegro refused the channel's access even after a token refresh; "
        "reconnect the channel"
    )
    assert channel.last_error_at is not None

    # the next sync, with a new client: nothing is sent, no token is generated
    emulator.clear_requests()
    with pytest.raises(AuthRevoked):
        client_for_channel(channel, transport=transport, **instant_retries).me()
    assert emulator.count("POST", "/auth/oauth/token") == 0
    assert emulator.requests == []

    # until the seller reconnects
    auth.store_tokens(
        channel, emulator.issue_tokens(emulator.client_id, emulator.seller_id)
    )
    client = client_for_channel(channel, transport=transport, **instant_retries)
    assert client.me().id == emulator.seller_id


def test_same_client_stops_after_a_fresh_token_is_refused(
    channel, emulator, instant_retries
):
    emulator.clock.advance(hours=13)

    def revoke_after_refresh(request: httpx.Request) -> httpx.Response:
        response = emulator.handle(request)
        if request.url.path == "/auth/oauth/token":
            emulator.revoke_tokens(emulator.seller_id)
        return response

    client = client_for_channel(
        channel, transport=httpx.MockTransport(revoke_after_refresh), **instant_retries
    )
    with pytest.raises(AuthRevoked):
        client.me()
    with pytest.raises(AuthRevoked):
        client.me()

    assert emulator.count("POST", "/auth/oauth/token") == 1
    assert emulator.count("GET", "/me") == 2  # both from the first call
