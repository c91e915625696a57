"""No token, secret, code or verifier in any log record or error, at DEBUG level."""

from __future__ import annotations

import base64
import logging
from datetime import timedelta

import httpx
import pytest
from django.utils import timezone

from hub.allegro import auth
from hub.allegro.client import client_for_channel
from hub.allegro.errors import AllegroError, AuthRevoked
from hub.allegro.models import Channel
from hub.allegro.tests.fixtures import REDIRECT_URI

pytestmark = pytest.mark.django_db


def all_secrets(emulator, extra: list[str]) -> set[str]:
    secrets = {emulator.client_secret, *extra}
    secrets |= set(emulator.access_tokens) | set(emulator.refresh_tokens)
    secrets |= set(emulator.auth_codes) | set(emulator.device_codes)
    basic = f"{emulator.client_id}:{emulator.client_secret}".encode()
    secrets.add(base64.b64encode(basic).decode())
    return {s for s in secrets if s}


def everything_logged(caplog) -> str:
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return "\n".join(
        formatter.format(r) + repr(r.args) + repr(r.__dict__) for r in caplog.records
    )


def test_full_oauth_refresh_and_api_run_logs_no_secret(caplog, emulator, emulator_http):
    for name in ("", "httpx", "httpcore", "hub", "django"):
        caplog.set_level(logging.DEBUG, logger=name)
    channel = Channel(
        name="Sekrety",
        environment=Channel.Environment.CUSTOM,
        api_url=emulator_http,
        client_id=emulator.client_id,
    )
    channel.client_secret = emulator.client_secret
    channel.save()
    errors: list[AllegroError] = []

    # Connect with code + PKCE, call the API, refresh twice (expiry, 401).
    verifier, challenge = auth.new_pkce_pair()
    code = emulator.authorize(
        emulator.client_id, emulator.seller_id, REDIRECT_URI, code_challenge=challenge
    )
    auth.exchange_code(channel, code, REDIRECT_URI, verifier)
    client = client_for_channel(channel, sleep=lambda s: None, jitter=lambda: 0.0)
    client.me()
    Channel.objects.filter(pk=channel.pk).update(
        access_token_expires_at=timezone.now() - timedelta(seconds=1)
    )
    client.me()
    emulator.clock.advance(hours=13)
    client.list_offers()
    emulator.add_fault("^/me$", "503")
    client.me()

    # Device flow, then a refresh token connect.
    device = auth.start_device_flow(channel)
    auth.poll_device_flow(channel, device.device_code)
    emulator.clock.advance(10)
    emulator.approve_device(device.user_code, emulator.seller_id)
    auth.poll_device_flow(channel, device.device_code)
    spare = emulator.issue_tokens(emulator.client_id, emulator.seller_id)
    auth.connect_with_refresh_token(channel, spare["refresh_token"])

    # Revocation: the refresh is refused and the error is logged and raised.
    emulator.revoke_tokens(emulator.seller_id)
    emulator.clock.advance(hours=13)
    with pytest.raises(AuthRevoked) as revoked:
        client_for_channel(channel).me()
    errors.append(revoked.value)

    logged = everything_logged(caplog)
    assert "HTTP Request" in logged  # httpx really logged, at DEBUG included
    assert "Refreshed Allegro access token" in logged
    assert emulator.count("POST", "/auth/oauth/token") >= 5
    leaked = [
        s for s in all_secrets(emulator, [verifier, device.device_code]) if s in logged
    ]
    assert leaked == []
    for error in errors:
        text = f"{error} {error.user_text()} {error.errors!r}"
        assert not [s for s in all_secrets(emulator, [verifier]) if s in text]


def test_reprs_do_not_show_tokens(emulator):
    tokens = emulator.issue_tokens(emulator.client_id, emulator.seller_id)

    from hub.allegro.schemas import TokenResponse

    parsed = TokenResponse.model_validate(tokens)

    assert tokens["access_token"] not in repr(parsed)
    assert tokens["refresh_token"] not in str(parsed)


def test_refresh_token_echoed_by_allegro_is_redacted(caplog, channel, emulator):
    """Allegro says "Invalid refresh token: <the token>" (allegro-api #6733)."""
    caplog.set_level(logging.DEBUG)
    refresh = channel.refresh_token
    Channel.objects.filter(pk=channel.pk).update(
        access_token_expires_at=timezone.now() - timedelta(seconds=1)
    )

    def echo_token(request):
        if request.url.path == "/auth/oauth/token":
            description = f"Invalid refresh token: {refresh}"
            return httpx.Response(
                400, json={"error": "invalid_grant", "error_description": description}
            )
        return emulator.handle(request)

    client = client_for_channel(channel, transport=httpx.MockTransport(echo_token))
    with pytest.raises(AuthRevoked) as caught:
        client.me()

    channel.refresh_from_db()
    error = caught.value
    shown = f"{error} {error.user_text()} {error.errors!r} {channel.last_error}"
    assert refresh not in shown
    assert refresh not in everything_logged(caplog)
    assert error.errors[0].message == "Invalid refresh token: <redacted>"
    assert channel.needs_reconnect is True
