"""The device flow's verification link comes from Allegro's answer and is rendered
as a link: only https (plain http only for custom URLs, e.g. the emulator)."""

from __future__ import annotations

import json

import httpx
import pytest

from hub.allegro import auth
from hub.allegro.errors import MalformedResponse
from hub.allegro.models import Channel
from hub.allegro.tests.fixtures import EMULATOR_URL, HubEmulator

pytestmark = pytest.mark.django_db


def rewriting(emulator: HubEmulator, link: str) -> httpx.MockTransport:
    """The emulator, with its device answer's links replaced by LINK."""

    def handle(request: httpx.Request) -> httpx.Response:
        response = emulator.transport.handle_request(request)
        if not request.url.path.endswith("/auth/oauth/device"):
            return response
        body = json.loads(response.read())
        body["verification_uri"] = link
        body["verification_uri_complete"] = link
        return httpx.Response(200, json=body)

    return httpx.MockTransport(handle)


def channel_in(emulator: HubEmulator, environment: str) -> Channel:
    channel = Channel(
        name=environment,
        environment=environment,
        api_url=EMULATOR_URL if environment == "custom" else "",
        client_id=emulator.client_id,
    )
    channel.client_secret = emulator.client_secret
    channel.save()
    return channel


@pytest.mark.parametrize(
    ("environment", "link"),
    [
        ("custom", "javascript:alert(document.cookie)"),
        ("custom", "JavaScript://allegro.pl/%0aalert(1)"),
        ("custom", "data:text/html,<script>alert(1)</script>"),
        ("custom", "//allegro.pl/skojarz-aplikacje"),
        ("production", "http://allegro.pl/skojarz-aplikacje"),
        ("sandbox", "ftp://allegro.pl.allegrosandbox.pl/x"),
    ],
)
def test_a_link_that_is_not_https_is_refused(
    emulator: HubEmulator, environment: str, link: str
) -> None:
    channel = channel_in(emulator, environment)
    with pytest.raises(MalformedResponse) as caught:
        auth.start_device_flow(channel, transport=rewriting(emulator, link))
    assert "verification_uri is not an https:// address" in str(caught.value)
    assert link not in caught.value.user_text()


@pytest.mark.parametrize(
    ("environment", "link"),
    [
        ("production", "https://allegro.pl/skojarz-aplikacje?code=abc"),
        ("custom", "http://127.0.0.1:8900/skojarz-aplikacje?code=abc"),
        ("custom", "HTTPS://emulator.example/skojarz-aplikacje"),
    ],
)
def test_https_and_http_for_custom_urls_are_accepted(
    emulator: HubEmulator, environment: str, link: str
) -> None:
    channel = channel_in(emulator, environment)
    device = auth.start_device_flow(channel, transport=rewriting(emulator, link))
    assert device.verification_uri == link
