"""The seed's Quick Guide in a real browser, against the emulator over HTTP:
Settings → Channel Integration → Add New Channel → Allegro → Integrate → fill in →
Connect with Allegro → Test shows OK → Save → the channel is listed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from allegro_emulator import EmulatorConfig
from allegro_emulator.server import start_background
from hub.allegro.models import Channel
from hub.allegro.tests.fixtures import HubEmulator, make_emulator

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

APP_ID = "browser-app"
APP_SECRET = "browser-app-secret-value-42"


def test_quick_guide(
    live_server: Any,
    browser_page: Any,
    log_in: Any,
    emulator: HubEmulator,
    emulator_http: str,
) -> None:
    emulator.register_client(
        APP_ID, APP_SECRET, redirect_uris=[f"{live_server.url}/settings/channels/*"]
    )
    page = log_in(browser_page)

    # 1. Settings → Channel Integration → Add New Channel
    page.click("nav >> text=Channel Integration")
    page.wait_for_url(f"{live_server.url}/settings/channels/")
    assert "No channels yet" in page.inner_text("main")
    page.click("#add-channel")
    # 2. Allegro → Integrate
    page.click("#integrate-allegro")
    page.wait_for_url(f"{live_server.url}/settings/channels/add/allegro/")
    # 3. fill in the config screen (no username or password anywhere)
    assert page.locator("input[type=password]").count() == 1  # the Client Secret
    page.fill("#id_name", "MyAllegroChannel")
    # the URL fields only matter, so only show, for custom URLs
    assert not page.is_visible("#id_api_url")
    assert not page.is_visible("#id_auth_url")
    page.select_option("#id_environment", "custom")
    assert page.is_visible("#id_auth_url")
    page.fill("#id_api_url", emulator_http)
    page.fill("#id_auth_url", emulator_http)
    page.fill("#id_client_id", APP_ID)
    page.fill("#id_client_secret", APP_SECRET)
    page.check("#id_inventory_sync")
    page.select_option("#id_relist_duration", "P10D")
    # connect: Allegro's consent page, the seller approves, and back
    page.click("#connect")
    page.wait_for_url(f"{emulator_http}/auth/oauth/authorize?*")
    page.select_option("#login", emulator.seller_login)
    page.click("#approve")
    page.wait_for_url(f"{live_server.url}/settings/channels/*/")
    messages = page.inner_text(".messages")
    assert f"OK — connected as {emulator.seller_login} on allegro-pl" in messages
    assert APP_SECRET not in page.content()
    # 4. Test
    page.click("#test")
    page.wait_for_load_state()
    assert "OK — connected as sklep-testowy on allegro-pl" in page.inner_text(
        ".messages"
    )
    # 5. Save, top right
    save = page.locator("#save").bounding_box()
    test = page.locator("#test").bounding_box()
    assert save["y"] < test["y"]
    page.click("#save")
    page.wait_for_url(f"{live_server.url}/settings/channels/")
    row = page.locator("table.channels tbody tr", has_text="MyAllegroChannel")
    text = row.inner_text()
    assert emulator.seller_login in text
    assert "allegro-pl · PLN" in text
    assert "OK" in text

    channel = Channel.objects.get()
    assert channel.inventory_sync
    assert channel.relist_duration == "P10D"
    assert channel.account_id == emulator.seller_id
    assert emulator.count("GET", "/me") == 2


@pytest.fixture
def device_emulator() -> Iterator[tuple[HubEmulator, str]]:
    """Emulated time runs with the wall clock and the device interval is 1 s, so
    the page's own polling (a few lines of JS) finishes within the test."""
    emu = make_emulator(EmulatorConfig(device_interval=1, realtime_clock=True))
    base_url, stop = start_background(emu)
    yield emu, base_url
    stop()


def test_connect_with_a_code_finishes_by_itself(
    live_server: Any,
    browser_page: Any,
    log_in: Any,
    device_emulator: tuple[HubEmulator, str],
) -> None:
    emu, url = device_emulator
    channel = Channel(
        name="Headless",
        environment=Channel.Environment.CUSTOM,
        api_url=url,
        client_id=emu.client_id,
    )
    channel.client_secret = emu.client_secret
    channel.save()
    page = log_in(browser_page)
    page.goto(f"{live_server.url}/settings/channels/{channel.pk}/")

    page.click("#connect-device")
    page.wait_for_url(f"{live_server.url}/settings/channels/{channel.pk}/device/")
    shown = page.inner_text("#user-code")
    assert len(shown) == 11  # XXX XXX XXX
    link = page.get_attribute("#verification-link", "href")
    assert link == f"{url}/skojarz-aplikacje?code={shown.replace(' ', '')}"
    # the seller allows access on Allegro's page (here: the emulator's control)
    emu.approve_device(shown, emu.seller_id)

    page.wait_for_url(f"{live_server.url}/settings/channels/{channel.pk}/")
    assert f"OK — connected as {emu.seller_login}" in page.inner_text(".messages")
    channel.refresh_from_db()
    assert channel.is_connected
