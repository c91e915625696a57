"""Fixtures for emulator tests. Nothing here needs Django: the tests run the same
with ``-p no:django`` and inside the full suite with pytest-django active."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest

from allegro_emulator import MEDIA_TYPE, Emulator, EmulatorConfig

START = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
BASE = "http://allegro.emulator"
CLIENT_ID = "hub-client"
CLIENT_SECRET = "hub-secret"
REDIRECT = "http://hub.test/allegro/callback"


def basic(client_id: str = CLIENT_ID, secret: str = CLIENT_SECRET) -> str:
    raw = f"{client_id}:{secret}".encode()
    return "Basic " + base64.b64encode(raw).decode()


@dataclass
class World:
    emu: Emulator
    seller_id: str
    tokens: dict[str, object]
    api: httpx.Client  # authorised as the seller, Accept set
    raw: httpx.Client  # no default headers

    def reauth(self) -> None:
        """New access token for ``api`` (tests that move the clock > 12 h)."""
        tokens = self.emu.issue_tokens(CLIENT_ID, self.seller_id)
        self.api.headers["Authorization"] = f"Bearer {tokens['access_token']}"

    def client_for(self, token: str) -> httpx.Client:
        return httpx.Client(
            transport=self.emu.transport,
            base_url=BASE,
            headers={"Accept": MEDIA_TYPE, "Authorization": f"Bearer {token}"},
        )


def make_world(config: EmulatorConfig | None = None) -> World:
    config = config or EmulatorConfig(start_time=START)
    if config.start_time is None:
        config.start_time = START
    emu = Emulator(config)
    emu.register_client(CLIENT_ID, CLIENT_SECRET, redirect_uris=[REDIRECT])
    seller_id = emu.add_seller("shop-1")
    tokens = emu.issue_tokens(CLIENT_ID, seller_id)
    api = httpx.Client(
        transport=emu.transport,
        base_url=BASE,
        headers={
            "Accept": MEDIA_TYPE,
            "Authorization": f"Bearer {tokens['access_token']}",
        },
    )
    raw = httpx.Client(transport=emu.transport, base_url=BASE)
    return World(emu, seller_id, tokens, api, raw)


@pytest.fixture
def world() -> Iterator[World]:
    w = make_world()
    yield w
    w.api.close()
    w.raw.close()


@pytest.fixture
def world_factory() -> Callable[..., World]:
    def factory(**config: object) -> World:
        return make_world(EmulatorConfig(start_time=START, **config))  # type: ignore[arg-type]

    return factory


def put_json(client: httpx.Client, url: str, body: object) -> httpx.Response:
    return client.put(url, json=body, headers={"Content-Type": MEDIA_TYPE})


def post_json(client: httpx.Client, url: str, body: object) -> httpx.Response:
    return client.post(url, json=body, headers={"Content-Type": MEDIA_TYPE})


def patch_json(client: httpx.Client, url: str, body: object) -> httpx.Response:
    return client.patch(url, json=body, headers={"Content-Type": MEDIA_TYPE})
