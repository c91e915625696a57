"""ALLEGRO_HTTP_TIMEOUT is how long the hub waits for Allegro's answer."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from hub.allegro import auth
from hub.allegro.client import client_for_channel
from hub.allegro.models import Channel
from hub.allegro.tests.fixtures import HubEmulator

pytestmark = pytest.mark.django_db


def recording(emulator: HubEmulator, seen: list[dict[str, Any]]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(dict(request.extensions["timeout"]))
        return emulator.transport.handle_request(request)

    return httpx.MockTransport(handle)


def test_api_requests_wait_as_long_as_the_setting_says(
    settings: Any, channel: Channel, emulator: HubEmulator, instant_retries: Any
) -> None:
    settings.ALLEGRO_HTTP_TIMEOUT = 7
    seen: list[dict[str, Any]] = []
    client = client_for_channel(
        channel, transport=recording(emulator, seen), **instant_retries
    )

    client.me()

    assert seen == [{"connect": 7.0, "read": 7.0, "write": 7.0, "pool": 7.0}]


@pytest.mark.parametrize(("setting", "expected"), [(5, 5.0), (120, 20.0)])
def test_token_requests_use_it_too_within_the_refresh_lease(
    settings: Any,
    channel: Channel,
    emulator: HubEmulator,
    setting: int,
    expected: float,
) -> None:
    settings.ALLEGRO_HTTP_TIMEOUT = setting
    seen: list[dict[str, Any]] = []

    auth.check_client_credentials(channel, transport=recording(emulator, seen))

    assert seen == [dict.fromkeys(("connect", "read", "write", "pool"), expected)]
