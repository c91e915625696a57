"""Settings → Channel Integration: the list, Add New Channel, the config screen,
Save and Test (against the emulator over HTTP)."""

from __future__ import annotations

import socket
from datetime import datetime
from typing import Any

import httpx
import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from hub import crypto
from hub.allegro import connection
from hub.allegro.models import Channel, SyncCursor
from hub.allegro.schemas import Me
from hub.allegro.tests.fixtures import HubEmulator, make_channel, token_grants

pytestmark = pytest.mark.django_db


def flash(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def form_data(channel: Channel, **changes: Any) -> dict[str, Any]:
    """What the config screen posts back for CHANNEL, unchanged (secret blank)."""
    data: dict[str, Any] = {
        "name": channel.name,
        "environment": channel.environment,
        "api_url": channel.api_url,
        "auth_url": channel.auth_url,
        "client_id": channel.client_id,
        "client_secret": "",
        "default_currency": channel.default_currency,
        "sync_orders_from": "2026-11-01T08:00",
        "relist_delay_minutes": str(channel.relist_delay_minutes),
        "relist_duration": channel.relist_duration,
        "relist_auction_duration": channel.relist_auction_duration,
    }
    if channel.enabled:
        data["enabled"] = "on"
    data.update(changes)
    return data


def press_test(client: Client, channel: Channel) -> str:
    response = client.post(
        reverse("channel_config", args=[channel.pk]),
        form_data(channel, action="test"),
    )
    assert response["Location"] == reverse("channel_config", args=[channel.pk])
    return flash(response)[-1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---------------------------------------------------------------- screens


def test_pages_need_a_login(client: Client):
    for name in ("channels", "channel_add", "channel_new"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_quick_guide_steps_link_up(logged_in_client: Client):
    listing = logged_in_client.get(reverse("channels")).content.decode()
    assert reverse("channel_add") in listing
    add = logged_in_client.get(reverse("channel_add")).content.decode()
    assert "Allegro" in add
    assert reverse("channel_new") in add
    config = logged_in_client.get(reverse("channel_new")).content.decode()
    for label in (
        "SubSource",
        "Client ID",
        "Client Secret",
        "Default Currency",
        "Enabled",
        "Inventory Sync",
        "Inventory Update From Location",
        "Submit Tracking Info",
        "Sync Orders From",
        "Relist Items",
        "End Listings",
        "No Manual Confirmation",
        "Relist Listing Duration",
        "Relist Listing Delay",
        "End Auctions",
        "End Auctions With Bids",
        "Link Order Item To Stock Item By Title",
        "Connect with Allegro",
        "Powiązane aplikacje",
    ):
        assert label in config, label
    assert "http://testserver/settings/channels/oauth/callback/" in config
    now = timezone.localtime().strftime("%Y-%m-%dT%H:")
    assert f'name="sync_orders_from" value="{now}' in config
    assert 'name="password"' not in config
    assert 'name="username"' not in config


def test_save_adds_the_channel_to_the_list(logged_in_client: Client, emulator):
    data = {
        "name": "MyAllegroChannel",
        "environment": "sandbox",
        "client_id": "app",
        "client_secret": "app-secret",
        "enabled": "on",
        "sync_orders_from": "2026-11-01T08:00",
        "relist_delay_minutes": "5",
        "action": "save",
    }
    response = logged_in_client.post(reverse("channel_new"), data)

    assert response["Location"] == reverse("channels")
    assert flash(response) == [
        "Saved MyAllegroChannel. Changes apply from the next sync.",
        "MyAllegroChannel is not connected to Allegro yet: nothing syncs until you "
        "click “Connect with Allegro”.",
    ]
    listing = logged_in_client.get(reverse("channels")).content.decode()
    assert "MyAllegroChannel" in listing
    assert "not connected" in listing
    # no Allegro was asked: the channel has no tokens yet
    assert emulator.requests == []


def test_nonsense_is_shown_on_the_field_and_nothing_saved(logged_in_client: Client):
    data = {
        "name": "X",
        "client_id": "app",
        "client_secret": "typed-secret",
        "environment": "production",
        "sync_orders_from": "2026-11-01T08:00",
        "relist_delay_minutes": "-3",
        "end_auctions_with_bids": "on",
        "action": "save",
    }
    response = logged_in_client.post(reverse("channel_new"), data)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Enter a delay between 0 and 43200 minutes." in html
    assert "End Auctions With Bids needs End Auctions" in html
    assert "typed-secret" not in html
    assert not Channel.objects.exists()


def test_list_shows_health_and_last_sync_per_flow(
    logged_in_client: Client, channel: Channel
):
    SyncCursor.objects.create(
        channel=channel, stream="order_events", last_success_at=timezone.now()
    )
    SyncCursor.objects.create(
        channel=channel, stream="offer_events", last_error="Allegro said no"
    )
    Channel.objects.filter(pk=channel.pk).update(
        needs_reconnect=True, last_error="token rejected", enabled=False
    )

    html = logged_in_client.get(reverse("channels")).content.decode()

    assert channel.account_login in html
    assert "allegro-pl" in html
    # each flow by a name the seller knows, not the stream's internal name
    assert "Orders:</span>" in html
    assert "Listings:</span>" in html
    assert "order_events" not in html
    assert "Allegro said no" in html
    assert "needs reconnect" in html
    assert "token rejected" in html
    assert "no (nothing syncs)" in html


def test_several_channels_side_by_side(logged_in_client: Client, emulator: HubEmulator):
    make_channel(emulator, name="Shop A")
    other = emulator.add_seller("shop-b")
    second = Channel.objects.create(
        name="Shop B", account_login="shop-b", account_id=other
    )
    html = logged_in_client.get(reverse("channels")).content.decode()
    assert "Shop A" in html
    assert "Shop B" in html
    assert reverse("channel_config", args=[second.pk]) in html


def test_no_setup_page_renders_a_secret(
    logged_in_client: Client, channel: Channel, emulator: HubEmulator
):
    Channel.objects.filter(pk=channel.pk).update(last_error="boom")
    channel.refresh_from_db()
    secrets = [
        channel.client_secret,
        channel.access_token,
        channel.refresh_token,
        channel.client_secret_encrypted,
        channel.access_token_encrypted,
        channel.refresh_token_encrypted,
    ]
    assert all(secrets)
    pages = [
        reverse("channels"),
        reverse("channel_add"),
        reverse("channel_new"),
        reverse("channel_config", args=[channel.pk]),
    ]
    for url in pages:
        html = logged_in_client.get(url).content.decode()
        for secret in secrets:
            assert secret not in html, url
    # and after a Test, whose outcome is shown on the config screen
    press_test(logged_in_client, channel)
    html = logged_in_client.get(pages[-1]).content.decode()
    channel.refresh_from_db()
    for secret in [channel.client_secret, channel.access_token, channel.refresh_token]:
        assert secret not in html


def test_blank_secret_on_save_keeps_the_stored_one(
    logged_in_client: Client, channel: Channel, emulator: HubEmulator
):
    logged_in_client.post(
        reverse("channel_config", args=[channel.pk]),
        form_data(channel, inventory_sync="on", action="save"),
    )
    channel.refresh_from_db()
    assert channel.inventory_sync
    assert channel.client_secret == emulator.client_secret
    assert channel.is_connected


def test_disabling_a_channel_is_saved(logged_in_client: Client, channel: Channel):
    data = form_data(channel, action="save")
    del data["enabled"]
    logged_in_client.post(reverse("channel_config", args=[channel.pk]), data)
    channel.refresh_from_db()
    assert not channel.enabled
    assert channel.is_connected


def test_save_fills_an_empty_currency_from_the_marketplace(
    logged_in_client: Client, channel_http: Channel, emulator: HubEmulator
):
    Channel.objects.filter(pk=channel_http.pk).update(default_currency="")
    channel_http.refresh_from_db()

    logged_in_client.post(
        reverse("channel_config", args=[channel_http.pk]),
        form_data(channel_http, default_currency="", action="save"),
    )

    channel_http.refresh_from_db()
    assert channel_http.default_currency == "PLN"
    assert emulator.count("GET", "/marketplaces") == 1


# -------------------------------------------------------------------- Test


def test_test_with_good_tokens(
    logged_in_client: Client, channel_http: Channel, emulator: HubEmulator
):
    Channel.objects.filter(pk=channel_http.pk).update(last_error="old problem")
    channel_http.refresh_from_db()

    text = press_test(logged_in_client, channel_http)

    assert text == f"OK — connected as {emulator.seller_login} on allegro-pl"
    channel_http.refresh_from_db()
    assert not channel_http.last_error
    assert emulator.count("GET", "/me") == 1
    assert token_grants(emulator) == ["client_credentials"]


def test_test_refreshes_an_expired_token(
    logged_in_client: Client, channel_http: Channel, emulator: HubEmulator
):
    # given the access token expired (12 h) on Allegro's clock and ours
    emulator.clock.advance(hours=13)
    Channel.objects.filter(pk=channel_http.pk).update(
        access_token_expires_at=timezone.now()
    )
    old_refresh = channel_http.refresh_token

    text = press_test(logged_in_client, channel_http)

    assert text.startswith("OK — connected as")
    channel_http.refresh_from_db()
    assert token_grants(emulator) == ["client_credentials", "refresh_token"]
    assert channel_http.refresh_token != old_refresh  # rotated and stored
    assert channel_http.token_version == 2


def test_test_with_revoked_tokens_asks_to_reconnect(
    logged_in_client: Client, channel_http: Channel, emulator: HubEmulator
):
    emulator.revoke_tokens(emulator.seller_id)

    text = press_test(logged_in_client, channel_http)

    assert "no longer accepts this connection" in text
    assert "Connect with Allegro" in text
    channel_http.refresh_from_db()
    assert channel_http.needs_reconnect
    assert str(channel_http.last_error) == text
    listing = logged_in_client.get(reverse("channels")).content.decode()
    assert "needs reconnect" in listing
    config = logged_in_client.get(reverse("channel_config", args=[channel_http.pk]))
    assert 'id="needs-reconnect"' in config.content.decode()


def test_test_with_a_wrong_secret_says_check_the_secret(
    logged_in_client: Client, channel_http: Channel, emulator: HubEmulator
):
    # given working tokens (GET /me alone would succeed) but a mistyped secret
    Channel.objects.filter(pk=channel_http.pk).update(
        client_secret_encrypted=crypto.encrypt("wrong-secret")
    )

    text = press_test(logged_in_client, channel_http)

    assert text == (
        "Allegro does not accept this Client ID and Secret: check them in the "
        "application settings at apps.developer.allegro.pl"
    )
    assert "wrong-secret" not in text
    channel_http.refresh_from_db()
    assert str(channel_http.last_error) == text
    assert not channel_http.needs_reconnect  # the tokens are fine; the secret isn't
    assert channel_http.is_connected
    assert token_grants(emulator) == ["client_credentials"]
    assert emulator.count("GET", "/me") == 0


def test_test_with_a_wrong_secret_and_an_expired_token_says_the_same(
    logged_in_client: Client, channel_http: Channel, emulator: HubEmulator
):
    emulator.clock.advance(hours=13)
    Channel.objects.filter(pk=channel_http.pk).update(
        client_secret_encrypted=crypto.encrypt("wrong-secret"),
        access_token_expires_at=timezone.now(),
    )

    text = press_test(logged_in_client, channel_http)

    assert text.startswith("Allegro does not accept this Client ID and Secret")
    assert token_grants(emulator) == ["client_credentials"]  # no refresh tried


def test_test_with_an_unreachable_host(logged_in_client: Client, channel: Channel):
    url = f"http://127.0.0.1:{free_port()}"
    Channel.objects.filter(pk=channel.pk).update(api_url=url, auth_url=url)
    channel.refresh_from_db()

    text = press_test(logged_in_client, channel)

    assert text == (
        f"Cannot reach {url[7:]}: check the API URL and the network connection."
    )
    channel.refresh_from_db()
    assert str(channel.last_error) == text
    assert not channel.needs_reconnect


def test_connect_with_an_unreachable_host_stays_on_the_screen(
    logged_in_client: Client, channel: Channel
):
    url = f"http://127.0.0.1:{free_port()}"
    Channel.objects.filter(pk=channel.pk).update(api_url=url, auth_url=url)
    channel.refresh_from_db()

    response = logged_in_client.post(
        reverse("channel_config", args=[channel.pk]),
        form_data(channel, action="connect"),
    )

    assert response["Location"] == reverse("channel_config", args=[channel.pk])
    assert flash(response) == [
        f"Cannot reach {url[7:]}: check the API URL and the network connection."
    ]
    channel.refresh_from_db()
    assert channel.is_connected  # the old tokens are untouched


def test_test_shows_allegros_own_words(
    logged_in_client: Client, channel_http: Channel, emulator: HubEmulator
):
    emulator.add_fault("^/me$", "503")
    text = press_test(logged_in_client, channel_http)
    assert "temporary problem" in text
    assert emulator.count("GET", "/me") == 1  # one attempt, no retries at the screen


def test_test_without_a_connection(logged_in_client: Client, emulator: HubEmulator):
    channel = Channel.objects.create(
        name="Fresh", client_id="x", client_secret_encrypted=crypto.encrypt("y")
    )
    text = press_test(logged_in_client, channel)
    assert text == "Not connected yet: click “Connect with Allegro” first."
    assert emulator.requests == []


def test_test_on_a_new_channel_says_it_saved_it_first(
    logged_in_client: Client, emulator: HubEmulator
):
    # Test uses what is on the screen, so it saves it; the seller must be told,
    # or "Cancel" afterwards looks like it threw the channel away.
    data = {
        "name": "Typed",
        "environment": "sandbox",
        "client_id": "app",
        "client_secret": "app-secret",
        "sync_orders_from": "2026-11-01T08:00",
        "relist_delay_minutes": "0",
        "action": "test",
    }
    response = logged_in_client.post(reverse("channel_new"), data)

    channel = Channel.objects.get(name="Typed")
    assert response["Location"] == reverse("channel_config", args=[channel.pk])
    assert flash(response) == [
        "Saved your changes to Typed first: Connect and Test use what is on this page.",
        "Not connected yet: click “Connect with Allegro” first.",
    ]
    assert emulator.requests == []


def test_test_with_nothing_changed_only_tests(
    logged_in_client: Client, channel_http: Channel
):
    local = timezone.get_current_timezone()
    channel_http.sync_orders_from = datetime(2026, 11, 1, 8, 0, tzinfo=local)
    channel_http.save()
    response = logged_in_client.post(
        reverse("channel_config", args=[channel_http.pk]),
        form_data(channel_http, action="test"),
    )

    assert [m[:3] for m in flash(response)] == ["OK "]


def test_the_database_keeps_one_channel_per_account(
    channel: Channel, emulator: HubEmulator
):
    # given a second channel on the same Allegro, not yet holding an account
    twin = Channel.objects.create(
        name="Twin", environment=channel.environment, api_url=channel.api_url
    )
    me = Me(id=emulator.seller_id, login=emulator.seller_login)
    # when it tries to record the account another channel holds (a lost race)
    stored = connection.store_account(twin, me)
    # then the unique constraint refuses it and nothing changes
    assert stored is False
    assert Channel.objects.get(pk=twin.pk).account_id == ""
    assert Channel.objects.get(pk=channel.pk).account_id == emulator.seller_id


def test_redirect_uri_follows_hub_public_url(logged_in_client: Client, settings):
    settings.PUBLIC_URL = "https://hub.example.com"
    config = logged_in_client.get(reverse("channel_new")).content.decode()
    assert "https://hub.example.com/settings/channels/oauth/callback/" in config


def test_test_shows_allegros_user_message(
    logged_in_client: Client, channel_http: Channel, emulator: HubEmulator
):
    # given tokens for the application, not the seller (client_credentials)
    answer = httpx.post(
        f"{channel_http.api_url}/auth/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(emulator.client_id, emulator.client_secret),
    )
    app_token = answer.json()["access_token"]
    Channel.objects.filter(pk=channel_http.pk).update(
        access_token_encrypted=crypto.encrypt(app_token)
    )

    text = press_test(logged_in_client, channel_http)

    assert text.startswith(
        "Allegro refused the request: This resource requires a user token"
    )
    assert "Trace-Id" in text
    assert app_token not in text
