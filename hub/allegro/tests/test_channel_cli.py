"""`allegro-hub channel add|connect|test|list|show|set` for scripted installs."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from allegro_emulator import EmulatorConfig
from allegro_emulator.server import start_background
from hub import crypto
from hub.allegro import options
from hub.allegro.models import Channel
from hub.allegro.tests.fixtures import HubEmulator, make_emulator, token_grants
from hub.catalog.models import Location

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("channel", *args, stdout=out)
    return out.getvalue()


def add_args(emulator: HubEmulator, url: str, name: str = "Scripted") -> list[str]:
    return [
        "add",
        name,
        "--client-id",
        emulator.client_id,
        "--client-secret",
        emulator.client_secret,
        "--environment",
        "custom",
        "--api-url",
        url,
    ]


def test_add_creates_a_channel_with_the_screens_defaults(emulator: HubEmulator):
    out = run(*add_args(emulator, "http://allegro.emulator"))

    channel = Channel.objects.get()
    assert "Added channel Scripted" in out
    assert "allegro-hub channel connect Scripted" in out
    assert channel.environment == "custom"
    assert channel.client_secret == emulator.client_secret
    assert channel.enabled
    assert channel.sync_orders_from is not None
    assert abs(channel.sync_orders_from - timezone.now()) < timedelta(minutes=2)
    assert not channel.is_connected
    assert emulator.requests == []


def test_add_refuses_what_the_screen_refuses(emulator: HubEmulator, settings):
    settings.ALLEGRO_CLIENT_ID = ""
    with pytest.raises(CommandError, match="API URL"):
        run(
            "add",
            "X",
            "--client-id",
            "a",
            "--client-secret",
            "b",
            "--environment",
            "custom",
        )
    with pytest.raises(CommandError, match="Client Secret"):
        run("add", "X", "--client-id", "a")
    run(*add_args(emulator, "http://allegro.emulator"))
    with pytest.raises(CommandError, match="already exists"):
        run(*add_args(emulator, "http://allegro.emulator"))
    assert Channel.objects.count() == 1


def test_add_reads_the_secret_from_a_file(emulator: HubEmulator, tmp_path: Path):
    secret_file = tmp_path / "secret"
    secret_file.write_text(emulator.client_secret + "\n")
    run(
        "add",
        "FromFile",
        "--client-id",
        emulator.client_id,
        "--client-secret-file",
        str(secret_file),
    )
    assert Channel.objects.get().client_secret == emulator.client_secret


def test_add_with_a_refresh_token_connects(emulator: HubEmulator, emulator_http: str):
    tokens = emulator.issue_tokens(emulator.client_id, emulator.seller_id)

    out = run(
        *add_args(emulator, emulator_http),
        "--refresh-token",
        tokens["refresh_token"],
    )

    assert f"OK — connected as {emulator.seller_login} on allegro-pl" in out
    channel = Channel.objects.get()
    assert channel.is_connected
    assert channel.account_id == emulator.seller_id
    assert channel.default_currency == "PLN"
    # the migrated token was rotated at once: the new pair is ours alone
    assert channel.refresh_token != tokens["refresh_token"]
    assert tokens["refresh_token"] not in out
    assert token_grants(emulator) == ["client_credentials", "refresh_token"]


def test_add_with_a_wrong_secret_keeps_no_tokens(
    emulator: HubEmulator, emulator_http: str
):
    tokens = emulator.issue_tokens(emulator.client_id, emulator.seller_id)
    args = add_args(emulator, emulator_http)
    args[args.index("--client-secret") + 1] = "wrong-secret"

    with pytest.raises(CommandError) as raised:
        run(*args, "--refresh-token", tokens["refresh_token"])

    assert str(raised.value) == (
        "The channel was added but not connected: Allegro does not accept this "
        "Client ID and Secret: check them in the application settings at "
        "apps.developer.allegro.pl"
    )
    assert not Channel.objects.get().is_connected
    # the refresh token was not spent: it still works once the secret is fixed
    assert token_grants(emulator) == ["client_credentials"]


def test_add_with_a_used_refresh_token_keeps_the_channel_unconnected(
    emulator: HubEmulator, emulator_http: str
):
    with pytest.raises(CommandError, match="added but not connected") as raised:
        run(*add_args(emulator, emulator_http), "--refresh-token", "not-a-token")
    assert "Connect with Allegro" in str(raised.value)
    assert not Channel.objects.get().is_connected


def test_list_and_show(channel: Channel):
    Channel.objects.filter(pk=channel.pk).update(last_error="Allegro said no")

    listing = run("list")
    shown = run("show", channel.name)

    assert channel.name in listing
    assert f"account={channel.account_login}" in listing
    assert "marketplace=allegro-pl" in listing
    assert "last error: Allegro said no" in listing
    for option in options.OPTIONS:
        assert option.cli_name in shown
    assert channel.client_secret not in listing + shown
    assert channel.refresh_token not in listing + shown


def test_list_without_channels():
    assert "No channels" in run("list")


@pytest.mark.parametrize(
    ("option", "text", "expected"),
    [
        ("enabled", "no", False),
        ("inventory-sync", "yes", True),
        ("submit-tracking", "on", True),
        ("tracking-status", "sent", "SENT"),
        ("tracking-status", "", ""),
        ("relist-items", "true", True),
        ("end-listings", "1", True),
        ("no-manual-confirmation", "yes", True),
        ("link-by-title", "yes", True),
        ("relist-duration", "p10d", "P10D"),
        ("relist-duration", "until-sold-out", ""),
        ("relist-auction-duration", "P1D", "P1D"),
        ("relist-delay-minutes", "30", 30),
        ("default-currency", "czk", "CZK"),
        ("default-currency", "huf", "HUF"),
        ("default_currency", "", ""),
    ],
)
def test_set_each_option(channel: Channel, option: str, text: str, expected: Any):
    run("set", channel.name, option, text)
    channel.refresh_from_db()
    assert getattr(channel, option.replace("-", "_")) == expected


def test_set_location_and_date(channel: Channel):
    warehouse = Location.objects.create(name="Warehouse A")

    run("set", channel.name, "inventory-location", "Warehouse A")
    run("set", channel.name, "sync-orders-from", "2026-10-01T08:30")

    channel.refresh_from_db()
    assert channel.inventory_location == warehouse
    assert (
        timezone.localtime(channel.sync_orders_from)
        .isoformat()
        .startswith("2026-10-01T08:30")
    )
    run("set", channel.name, "inventory-location", "all")
    channel.refresh_from_db()
    assert channel.inventory_location is None


def test_set_auction_options_in_order(channel: Channel):
    run("set", channel.name, "end-listings", "yes")
    run("set", channel.name, "end-auctions", "yes")
    run("set", channel.name, "end-auctions-with-bids", "yes")
    channel.refresh_from_db()
    assert channel.end_auctions_with_bids


@pytest.mark.parametrize(
    ("option", "text", "message"),
    [
        ("relist-duration", "P14D", "does not allow"),
        ("relist-duration", "P1D", "does not allow"),
        ("relist-auction-duration", "P30D", "does not allow"),
        ("relist-delay-minutes", "-1", "between 0 and 43200"),
        ("relist-delay-minutes", "soon", "whole number"),
        ("end-auctions-with-bids", "yes", "needs End Auctions"),
        ("end-auctions", "yes", "together with End Listings"),
        ("enabled", "maybe", "yes or no"),
        ("inventory-location", "Nowhere", "No location called"),
        ("sync-orders-from", "2999-01-01", "future"),
        ("sync-orders-from", "last week", "Enter a date"),
        ("default-currency", "zloty", "marketplaces. currencies"),
        ("tracking-status", "DELIVERED", "READY_FOR_SHIPMENT"),
        ("colour", "red", "Unknown option"),
    ],
)
def test_set_refuses_nonsense_and_changes_nothing(
    channel: Channel, option: str, text: str, message: str
):
    before = options.option_values(Channel.objects.get(pk=channel.pk))
    with pytest.raises(CommandError, match=message):
        run("set", channel.name, option, text)
    assert options.option_values(Channel.objects.get(pk=channel.pk)) == before


def test_unknown_channel():
    with pytest.raises(CommandError, match="No channel called 'Nope'"):
        run("test", "Nope")


def test_test_command(channel_http: Channel, emulator: HubEmulator):
    out = run("test", channel_http.name)
    assert f"OK — connected as {emulator.seller_login} on allegro-pl" in out
    assert token_grants(emulator) == ["client_credentials"]

    emulator.revoke_tokens(emulator.seller_id)
    with pytest.raises(CommandError, match="no longer accepts this connection"):
        run("test", channel_http.name)
    channel_http.refresh_from_db()
    assert channel_http.needs_reconnect


@pytest.fixture
def device_emulator() -> Iterator[tuple[HubEmulator, str]]:
    """An emulator whose clock runs with the wall clock, so the CLI's real waits
    count, and a 1 s polling interval; served over HTTP."""
    emu = make_emulator(EmulatorConfig(device_interval=1, realtime_clock=True))
    base_url, stop = start_background(emu)
    yield emu, base_url
    stop()


def decide_when_asked(emulator: HubEmulator, login: str, allow: bool) -> None:
    """Play the seller on Allegro's device page once the code exists."""

    def decide() -> None:
        deadline = time.monotonic() + 10
        while not emulator.device_codes and time.monotonic() < deadline:
            time.sleep(0.05)
        user_code = next(iter(emulator.device_codes.values())).user_code
        if allow:
            emulator.approve_device(user_code, login)
        else:
            emulator.deny_device(user_code)

    threading.Thread(target=decide, daemon=True).start()


def test_connect_runs_the_device_flow_in_the_terminal(
    device_emulator: tuple[HubEmulator, str],
):
    emu, url = device_emulator
    run(*add_args(emu, url, name="Headless"))
    decide_when_asked(emu, emu.seller_login, allow=True)

    out = run("connect", "Headless")

    assert "/skojarz-aplikacje?code=" in out
    assert f"OK — connected as {emu.seller_login} on allegro-pl" in out
    assert Channel.objects.get().is_connected


def test_connect_with_a_wrong_secret_asks_for_no_code(
    emulator: HubEmulator, emulator_http: str
):
    args = add_args(emulator, emulator_http, name="Headless")
    args[args.index("--client-secret") + 1] = "wrong-secret"
    run(*args)

    with pytest.raises(CommandError, match="does not accept this Client ID and Secret"):
        run("connect", "Headless")

    assert not Channel.objects.get().is_connected
    assert token_grants(emulator) == ["client_credentials"]
    assert emulator.count("POST", "/auth/oauth/device") == 0


def test_test_command_with_a_wrong_secret(channel_http: Channel, emulator: HubEmulator):
    Channel.objects.filter(pk=channel_http.pk).update(
        client_secret_encrypted=crypto.encrypt("wrong-secret")
    )

    with pytest.raises(CommandError, match="does not accept this Client ID and Secret"):
        run("test", channel_http.name)


def test_connect_denied(device_emulator: tuple[HubEmulator, str]):
    emu, url = device_emulator
    run(*add_args(emu, url, name="Headless"))
    decide_when_asked(emu, emu.seller_login, allow=False)

    with pytest.raises(CommandError, match="not allowed"):
        run("connect", "Headless")
    assert not Channel.objects.get().is_connected


def test_disabled_channel_is_not_synced(channel_http: Channel, emulator: HubEmulator):
    run("set", channel_http.name, "enabled", "no")
    emulator.clear_requests()

    out = StringIO()
    call_command("sync", channel_http.name, stdout=out)

    assert "disabled" in out.getvalue()
    assert emulator.requests == []
