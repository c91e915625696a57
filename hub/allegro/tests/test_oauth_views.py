"""Connect with Allegro (code + PKCE) and Connect with a code (device flow), end to
end against the emulator served over HTTP."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from hub.allegro.models import Channel
from hub.allegro.tests.fixtures import HubEmulator, token_grants
from hub.allegro.views_oauth import DEVICE_SESSION_KEY, OAUTH_SESSION_KEY

pytestmark = pytest.mark.django_db

TOKEN = "/auth/oauth/token"


def config_data(emulator: HubEmulator, url: str, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "MyAllegroChannel",
        "environment": "custom",
        "api_url": url,
        "auth_url": url,
        "client_id": emulator.client_id,
        "client_secret": emulator.client_secret,
        "enabled": "on",
        "sync_orders_from": "2026-11-01T08:00",
        "relist_delay_minutes": "0",
    }
    data.update(changes)
    return data


def flash(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def start_connect(client: Client, emulator: HubEmulator, url: str) -> str:
    """Fill in the config screen and press Connect with Allegro; the Allegro URL."""
    response = client.post(
        reverse("channel_new"), config_data(emulator, url, action="connect")
    )
    assert response.status_code == 302
    return str(response["Location"])


def consent(authorize_url: str, decision: str, login: str) -> str:
    """Play the seller on Allegro's consent page; the URL Allegro sends us back to."""
    page = httpx.get(authorize_url)
    assert page.status_code == 200
    params = {k: v[-1] for k, v in parse_qs(urlsplit(authorize_url).query).items()}
    answer = httpx.post(
        authorize_url.split("?")[0],
        data=params | {"login": login, "decision": decision},
    )
    assert answer.status_code == 302
    back = urlsplit(answer.headers["Location"])
    return f"{back.path}?{back.query}"


def test_connect_with_allegro_end_to_end(
    logged_in_client: Client, emulator: HubEmulator, emulator_http: str
):
    # given the config screen filled in, Connect with Allegro pressed
    authorize_url = start_connect(logged_in_client, emulator, emulator_http)
    channel = Channel.objects.get()
    assert authorize_url.startswith(f"{emulator_http}/auth/oauth/authorize?")
    query = parse_qs(urlsplit(authorize_url).query)
    assert query["redirect_uri"] == [
        "http://testserver/settings/channels/oauth/callback/"
    ]
    assert query["code_challenge_method"] == ["S256"]
    assert query["state"] == [logged_in_client.session[OAUTH_SESSION_KEY]["state"]]
    # when the seller approves on Allegro and comes back
    callback = consent(authorize_url, "approve", emulator.seller_login)
    response = logged_in_client.get(callback)
    # then the channel holds tokens of that seller, with the marketplace's currency
    assert response.status_code == 302
    assert response["Location"] == reverse("channel_config", args=[channel.pk])
    assert flash(response) == [
        f"OK — connected as {emulator.seller_login} on allegro-pl"
    ]
    channel.refresh_from_db()
    assert channel.is_connected
    assert channel.account_id == emulator.seller_id
    assert channel.account_login == emulator.seller_login
    assert channel.marketplace_id == "allegro-pl"
    assert channel.default_currency == "PLN"
    assert not channel.needs_reconnect
    assert OAUTH_SESSION_KEY not in logged_in_client.session
    # one check of the Client Secret before the redirect, one code exchange
    assert token_grants(emulator) == ["client_credentials", "authorization_code"]


def test_wrong_state_stores_nothing(
    logged_in_client: Client, emulator: HubEmulator, emulator_http: str
):
    authorize_url = start_connect(logged_in_client, emulator, emulator_http)
    callback = consent(authorize_url, "approve", emulator.seller_login)
    forged = callback.replace("state=", "state=forged")

    response = logged_in_client.get(forged)

    assert "state does not match" in flash(response)[0]
    channel = Channel.objects.get()
    assert not channel.is_connected
    assert channel.account_id == ""
    assert token_grants(emulator) == ["client_credentials"]
    # the pending connection is gone: replaying the genuine answer fails too
    replay = logged_in_client.get(callback)
    assert "state does not match" in flash(replay)[0]
    assert token_grants(emulator) == ["client_credentials"]


def test_a_non_ascii_state_is_refused_not_a_crash(
    logged_in_client: Client, emulator: HubEmulator, emulator_http: str
):
    start_connect(logged_in_client, emulator, emulator_http)
    response = logged_in_client.get(
        reverse("channel_oauth_callback") + "?code=abc&state=%C5%BC"  # "ż"
    )

    assert response.status_code == 302
    assert "state does not match" in flash(response)[0]
    assert token_grants(emulator) == ["client_credentials"]


def test_callback_without_a_started_connection(logged_in_client: Client):
    response = logged_in_client.get(
        reverse("channel_oauth_callback") + "?code=abc&state=xyz"
    )
    assert response["Location"] == reverse("channels")
    assert "state does not match" in flash(response)[0]


def test_denied_consent_connects_nothing(
    logged_in_client: Client, emulator: HubEmulator, emulator_http: str
):
    authorize_url = start_connect(logged_in_client, emulator, emulator_http)
    callback = consent(authorize_url, "deny", emulator.seller_login)
    assert "error=access_denied" in callback

    response = logged_in_client.get(callback)

    assert flash(response) == [
        "You did not allow access on Allegro, so nothing was connected."
    ]
    assert not Channel.objects.get().is_connected
    assert token_grants(emulator) == ["client_credentials"]


def test_expired_code_shows_allegros_refusal(
    logged_in_client: Client, emulator: HubEmulator, emulator_http: str
):
    authorize_url = start_connect(logged_in_client, emulator, emulator_http)
    callback = consent(authorize_url, "approve", emulator.seller_login)
    emulator.clock.advance(seconds=11)  # api-notes §2.1: valid 10 seconds

    response = logged_in_client.get(callback)

    assert "Authorization code expired" in flash(response)[0]
    assert not Channel.objects.get().is_connected


def test_connecting_another_account_keeps_nothing(
    logged_in_client: Client, emulator: HubEmulator, emulator_http: str
):
    # given the channel belongs to the test seller
    authorize_url = start_connect(logged_in_client, emulator, emulator_http)
    logged_in_client.get(consent(authorize_url, "approve", emulator.seller_login))
    channel = Channel.objects.get()
    # when someone signs in as another seller on reconnect
    emulator.add_seller("inny-sklep")
    response = logged_in_client.post(
        reverse("channel_config", args=[channel.pk]),
        config_data(emulator, emulator_http, client_secret="", action="connect"),
    )
    back = logged_in_client.get(consent(response["Location"], "approve", "inny-sklep"))
    # then the other account's tokens are dropped and the channel keeps its account
    assert "belongs to sklep-testowy" in flash(back)[-1]
    channel.refresh_from_db()
    assert not channel.is_connected
    assert channel.account_login == emulator.seller_login


def test_one_account_cannot_be_two_channels(
    logged_in_client: Client, emulator: HubEmulator, emulator_http: str
):
    first = start_connect(logged_in_client, emulator, emulator_http)
    logged_in_client.get(consent(first, "approve", emulator.seller_login))
    response = logged_in_client.post(
        reverse("channel_new"),
        config_data(emulator, emulator_http, name="Second", action="connect"),
    )
    back = logged_in_client.get(
        consent(response["Location"], "approve", emulator.seller_login)
    )
    assert "already connected as channel MyAllegroChannel" in flash(back)[-1]
    assert not Channel.objects.get(name="Second").is_connected
    assert Channel.objects.get(name="MyAllegroChannel").is_connected


# ------------------------------------------------------------------ device flow


def start_device(client: Client, emulator: HubEmulator, url: str) -> str:
    response = client.post(
        reverse("channel_new"), config_data(emulator, url, action="device")
    )
    channel = Channel.objects.get()
    assert response["Location"] == reverse("channel_device", args=[channel.pk])
    page = client.get(response["Location"])
    assert page.status_code == 200
    return page.content.decode()


def poll(client: Client) -> dict[str, Any]:
    channel = Channel.objects.get()
    response = client.post(reverse("channel_device_poll", args=[channel.pk]))
    assert response.status_code == 200
    return dict(response.json())


def test_device_flow_shows_the_code_and_finishes_by_itself(
    logged_in_client: Client, emulator: HubEmulator, emulator_http: str
):
    html = start_device(logged_in_client, emulator, emulator_http)
    pending = logged_in_client.session[DEVICE_SESSION_KEY]
    user_code = pending["user_code"]
    shown = " ".join(user_code[i : i + 3] for i in (0, 3, 6))
    assert shown in html
    assert f"{emulator_http}/skojarz-aplikacje?code={user_code}" in html
    assert pending["device_code"] not in html  # the device code stays server-side
    # while the seller has not decided, the page keeps waiting
    assert poll(logged_in_client)["status"] == "pending"
    # when the seller allows access on Allegro
    emulator.approve_device(user_code, emulator.seller_id)
    emulator.clock.advance(seconds=5)
    answer = poll(logged_in_client)
    # then the page is sent back to the config screen, connected
    channel = Channel.objects.get()
    assert answer == {
        "status": "connected",
        "redirect": reverse("channel_config", args=[channel.pk]),
    }
    assert channel.is_connected
    assert channel.account_login == emulator.seller_login
    assert DEVICE_SESSION_KEY not in logged_in_client.session


def test_device_flow_backs_off_on_slow_down(
    logged_in_client: Client, emulator: HubEmulator, emulator_http: str
):
    start_device(logged_in_client, emulator, emulator_http)
    assert poll(logged_in_client) == {
        "status": "pending",
        "interval": 5,
        "message": "Waiting for you to allow access on Allegro…",
    }
    # a second poll at the same emulated instant is too fast
    answer = poll(logged_in_client)
    assert answer["status"] == "slow_down"
    assert answer["interval"] == 10
    assert not Channel.objects.get().is_connected


def test_device_flow_denied(
    logged_in_client: Client, emulator: HubEmulator, emulator_http: str
):
    start_device(logged_in_client, emulator, emulator_http)
    emulator.deny_device(logged_in_client.session[DEVICE_SESSION_KEY]["user_code"])

    answer = poll(logged_in_client)

    assert answer["status"] == "denied"
    assert answer["done"] is True
    assert not Channel.objects.get().is_connected
    assert DEVICE_SESSION_KEY not in logged_in_client.session


def test_device_flow_expired_code(
    logged_in_client: Client, emulator: HubEmulator, emulator_http: str
):
    start_device(logged_in_client, emulator, emulator_http)
    emulator.clock.advance(seconds=3601)

    answer = poll(logged_in_client)

    assert answer == {
        "status": "expired",
        "done": True,
        "message": "The code expired before access was allowed. Start again.",
    }
    assert not Channel.objects.get().is_connected
    # and nothing is polled any more for it
    tokens_before = emulator.count("POST", TOKEN)
    assert poll(logged_in_client)["done"] is True
    assert emulator.count("POST", TOKEN) == tokens_before


def test_device_flow_with_a_wrong_secret_says_so(
    logged_in_client: Client, emulator: HubEmulator, emulator_http: str
):
    response = logged_in_client.post(
        reverse("channel_new"),
        config_data(emulator, emulator_http, client_secret="wrong", action="device"),
    )
    channel = Channel.objects.get()
    assert response["Location"] == reverse("channel_config", args=[channel.pk])
    assert "check them" in flash(response)[0]
    assert DEVICE_SESSION_KEY not in logged_in_client.session


# --------------------------------------------------------- wrong Client Secret

WRONG_SECRET_TEXT = (
    "Allegro does not accept this Client ID and Secret: check them in the "
    "application settings at apps.developer.allegro.pl"
)


def test_connect_with_a_wrong_secret_stops_before_allegros_page(
    logged_in_client: Client,
    emulator: HubEmulator,
    emulator_http: str,
    caplog: pytest.LogCaptureFixture,
):
    # PKCE's code exchange never sends the secret, so without this check a wrong
    # one would connect and fail only at the first refresh, 12 h later.
    response = logged_in_client.post(
        reverse("channel_new"),
        config_data(
            emulator, emulator_http, client_secret="wrong-secret", action="connect"
        ),
    )

    channel = Channel.objects.get()
    assert response["Location"] == reverse("channel_config", args=[channel.pk])
    assert flash(response) == [WRONG_SECRET_TEXT]
    assert OAUTH_SESSION_KEY not in logged_in_client.session
    assert not channel.is_connected
    assert token_grants(emulator) == ["client_credentials"]
    assert emulator.count("GET", "/auth/oauth/authorize") == 0
    assert "wrong-secret" not in caplog.text


def test_device_connect_with_a_wrong_secret_asks_for_no_code(
    logged_in_client: Client, emulator: HubEmulator, emulator_http: str
):
    response = logged_in_client.post(
        reverse("channel_new"),
        config_data(
            emulator, emulator_http, client_secret="wrong-secret", action="device"
        ),
    )

    channel = Channel.objects.get()
    assert response["Location"] == reverse("channel_config", args=[channel.pk])
    assert flash(response) == [WRONG_SECRET_TEXT]
    assert DEVICE_SESSION_KEY not in logged_in_client.session
    assert not channel.is_connected
    assert token_grants(emulator) == ["client_credentials"]
    assert emulator.count("POST", "/auth/oauth/device") == 0


def test_device_flow_checks_the_secret_exactly_once(
    logged_in_client: Client, emulator: HubEmulator, emulator_http: str
):
    start_device(logged_in_client, emulator, emulator_http)
    user_code = logged_in_client.session[DEVICE_SESSION_KEY]["user_code"]
    emulator.approve_device(user_code, emulator.seller_id)

    assert poll(logged_in_client)["status"] == "connected"

    assert token_grants(emulator) == [
        "client_credentials",
        "urn:ietf:params:oauth:grant-type:device_code",
    ]
