"""Shared fixtures for everything that talks to Allegro (registered in conftest.py).

- ``emulator``: a fresh in-memory Allegro with one registered application
  (``emulator.client_id`` / ``emulator.client_secret``) and one seller
  (``emulator.seller_id`` / ``emulator.seller_login``).
- ``channel``: a saved, connected Channel pointing at the emulator
  (environment "custom", ``http://allegro.emulator``).
- ``allegro_client``: ``client_for_channel(channel, transport=emulator.transport)``
  with instant retries; the delays it would have slept are in ``retry_sleeps``.
- ``instant_retries``: the keyword options that make any AllegroClient retry
  without sleeping (``client_for_channel(ch, transport=..., **instant_retries)``);
  its private limiter's clock moves only by the recorded sleeps.
- ``emulator_http``: the same emulator served over real HTTP; yields its base URL.
- ``channel_http``: like ``channel`` but pointing at ``emulator_http``.

Helpers for tests that need their own setup: ``make_emulator(EmulatorConfig(...))``
and ``make_channel(emulator, url=...)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings

from allegro_emulator import Emulator, EmulatorConfig
from allegro_emulator.server import start_background
from hub.allegro.auth import store_tokens
from hub.allegro.client import AllegroClient, client_for_channel
from hub.allegro.limiter import LocalLimiter
from hub.allegro.models import Channel

EMULATOR_URL = "http://allegro.emulator"
CLIENT_ID = "hub-test-client"
CLIENT_SECRET = "hub-test-client-secret-0123456789"
SELLER_LOGIN = "sklep-testowy"
REDIRECT_URI = "http://testserver/settings/channels/oauth/callback/"


class HubEmulator(Emulator):
    """The emulator plus the ids of the application and seller set up for tests."""

    client_id: str
    client_secret: str
    seller_id: str
    seller_login: str


def make_emulator(config: EmulatorConfig | None = None) -> HubEmulator:
    """A fresh emulator with the test application and seller registered."""
    emu = HubEmulator(config)
    emu.register_client(
        CLIENT_ID,
        CLIENT_SECRET,
        redirect_uris=[REDIRECT_URI, "http://localhost/", "http://127.0.0.1/"],
        name="allegro-hub tests",
    )
    emu.client_id = CLIENT_ID
    emu.client_secret = CLIENT_SECRET
    emu.seller_login = SELLER_LOGIN
    emu.seller_id = emu.add_seller(SELLER_LOGIN)
    return emu


@pytest.fixture
def emulator() -> HubEmulator:
    return make_emulator()


def make_channel(
    emulator: HubEmulator,
    *,
    url: str = EMULATOR_URL,
    name: str = "Allegro test",
    seller_id: str | None = None,
) -> Channel:
    """A connected channel of the emulator's seller (or of ``seller_id``, another
    seller added with ``emulator.add_seller``), saved with fresh tokens."""
    seller_id = seller_id or emulator.seller_id
    channel = Channel(
        name=name,
        environment=Channel.Environment.CUSTOM,
        api_url=url,
        auth_url=url,
        client_id=emulator.client_id,
        account_id=seller_id,
        account_login=emulator.sellers[seller_id].login,
        marketplace_id="allegro-pl",
        default_currency="PLN",
    )
    channel.client_secret = emulator.client_secret
    channel.save()
    store_tokens(channel, emulator.issue_tokens(emulator.client_id, seller_id))
    return channel


@pytest.fixture
def channel(db: None, emulator: HubEmulator) -> Channel:
    return make_channel(emulator)


@pytest.fixture
def retry_sleeps() -> list[float]:
    """The delays a client with ``instant_retries`` would have slept, in order."""
    return []


@pytest.fixture
def instant_retries(retry_sleeps: list[float]) -> dict[str, Any]:
    def clock() -> float:  # time passes only by the sleeps recorded
        return 1000.0 + sum(retry_sleeps)

    return {
        "sleep": retry_sleeps.append,
        "jitter": lambda: 0.0,
        "clock": clock,
        # A private budget per test, so tests never wait on each other's requests.
        "limiter": LocalLimiter(
            settings.ALLEGRO_REQUESTS_PER_MINUTE, clock=clock, sleep=retry_sleeps.append
        ),
    }


@pytest.fixture
def allegro_client(
    channel: Channel, emulator: HubEmulator, instant_retries: dict[str, Any]
) -> Iterator[AllegroClient]:
    client = client_for_channel(
        channel, transport=emulator.transport, **instant_retries
    )
    yield client
    client.close()


@pytest.fixture
def emulator_http(emulator: HubEmulator) -> Iterator[str]:
    base_url, stop = start_background(emulator)
    yield base_url
    stop()


@pytest.fixture
def channel_http(db: None, emulator: HubEmulator, emulator_http: str) -> Channel:
    return make_channel(emulator, url=emulator_http, name="Allegro over HTTP")


def token_grants(emulator: Emulator) -> list[str]:
    """The grant_type of every `POST /auth/oauth/token` the emulator saw, in order."""
    return [
        str((r.get("form") or {}).get("grant_type", ""))
        for r in emulator.requests
        if r["method"] == "POST" and r["path"] == "/auth/oauth/token"
    ]
