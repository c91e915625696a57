"""The emulator's consent and device pages work in a real browser (the hub's
channel-setup browser tests rely on clicking "Approve")."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from allegro_emulator import MEDIA_TYPE, Emulator
from allegro_emulator.server import start_background

pytestmark = pytest.mark.browser


@pytest.fixture
def emulator_url() -> Iterator[tuple[Emulator, str]]:
    emu = Emulator()
    base, stop = start_background(emu)
    # The callback is an emulator path that answers 200, so the browser lands
    # somewhere real after the redirect.
    emu.register_client("web", "web-secret", redirect_uris=[f"{base}/__control/clock"])
    emu.add_seller("seller-a")
    emu.add_seller("seller-b")
    yield emu, base
    stop()


def _basic() -> str:
    return "Basic " + base64.b64encode(b"web:web-secret").decode()


def test_approve_in_browser_redirects_with_code_and_state(
    emulator_url: tuple[Emulator, str], browser_page: Any
) -> None:
    emu, base = emulator_url
    callback = f"{base}/__control/clock"
    page = browser_page
    page.goto(
        f"{base}/auth/oauth/authorize?response_type=code&client_id=web"
        f"&redirect_uri={callback}&state=st-42"
    )
    page.select_option("#login", "seller-b")
    page.click("#approve")
    page.wait_for_url(f"{callback}?*")
    query = parse_qs(urlsplit(page.url).query)
    assert query["state"] == ["st-42"]
    token = httpx.post(
        f"{base}/auth/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": query["code"][0],
            "redirect_uri": callback,
        },
        headers={"Authorization": _basic()},
    )
    assert token.status_code == 200
    me = httpx.get(
        f"{base}/me",
        headers={
            "Accept": MEDIA_TYPE,
            "Authorization": f"Bearer {token.json()['access_token']}",
        },
    )
    assert me.json()["login"] == "seller-b"


def test_deny_in_browser(emulator_url: tuple[Emulator, str], browser_page: Any) -> None:
    _, base = emulator_url
    callback = f"{base}/__control/clock"
    page = browser_page
    page.goto(
        f"{base}/auth/oauth/authorize?response_type=code&client_id=web"
        f"&redirect_uri={callback}&state=s1"
    )
    page.click("text=Deny")
    page.wait_for_url(f"{callback}?*")
    assert parse_qs(urlsplit(page.url).query) == {
        "error": ["access_denied"],
        "state": ["s1"],
    }


def test_device_page_links_the_application(
    emulator_url: tuple[Emulator, str], browser_page: Any
) -> None:
    emu, base = emulator_url
    dev = httpx.post(
        f"{base}/auth/oauth/device",
        data={"client_id": "web"},
        headers={"Authorization": _basic()},
    ).json()
    page = browser_page
    page.goto(dev["verification_uri_complete"])
    assert page.input_value("#user_code") == dev["user_code"]
    page.click("#approve")
    page.wait_for_selector("text=Application linked")
    poll = httpx.post(
        f"{base}/auth/oauth/token",
        data={
            "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
            "device_code": dev["device_code"],
        },
        headers={"Authorization": _basic()},
    )
    assert poll.status_code == 200
