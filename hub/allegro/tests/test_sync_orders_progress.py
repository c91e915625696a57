"""The order backfill's progress on Settings → Channel Integration, not only in
the CLI: how far it got and how many orders it has brought so far."""

from __future__ import annotations

from datetime import datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from hub.allegro.client import AllegroClient
from hub.allegro.errors import TransientError
from hub.allegro.models import Channel, SyncCursor
from hub.allegro.sync.orders import BACKFILL, GAP, sync_orders
from hub.allegro.tests.fixtures import HubEmulator
from hub.allegro.tests.test_sync_orders import buy_in_the_past
from hub.orders.problems import record_problems, resolve_problems
from hub.text import formats

pytestmark = pytest.mark.django_db


def test_channel_list_shows_a_running_backfill_then_nothing_once_done(
    emulator: HubEmulator,
    channel: Channel,
    allegro_client: AllegroClient,
    logged_in_client: Client,
):
    offer = emulator.add_offer(emulator.seller_id, "Kubek", quantity=500)
    channel.sync_orders_from = timezone.now() - timedelta(days=20)
    channel.save()
    for days_ago in (19, 18, 17, 16, 5, 4, 3):
        buy_in_the_past(emulator, offer, days_ago=days_ago)
    # The first 7-day window's orders arrive; the next window keeps failing.
    emulator.add_fault(r"^/order/checkout-forms$", "500", count=None, skip=1)
    with pytest.raises(TransientError):
        sync_orders(channel.pk, allegro_client)
    cursor = SyncCursor.objects.get(channel=channel, stream=BACKFILL)
    reached = timezone.localtime(datetime.fromisoformat(cursor.value))

    page = logged_in_client.get(reverse("channels")).content.decode()

    day = formats.format_day(reached)  # the one date format of the UI
    assert f"Importing orders from Allegro: up to {day}, 4 orders so far." in page
    emulator.clear_faults()
    sync_orders(channel.pk, allegro_client)
    page = logged_in_client.get(reverse("channels")).content.decode()
    assert "Importing orders" not in page


def test_channel_list_shows_the_re_read_after_a_journal_gap(
    channel: Channel, logged_in_client: Client
):
    SyncCursor.objects.create(
        channel=channel, stream=GAP, value="2026-03-02T10:00:00+00:00"
    )

    page = logged_in_client.get(reverse("channels")).content.decode()

    assert "Re-reading orders changed on Allegro: up to " in page
    assert ", 0 orders so far." in page


def test_the_cli_prints_each_backfill_window_with_the_count_so_far(
    emulator: HubEmulator, channel_http: Channel
):
    offer = emulator.add_offer(emulator.seller_id, "Kubek", quantity=500)
    channel_http.sync_orders_from = timezone.now() - timedelta(days=10)
    channel_http.save()
    for days_ago in (9, 8, 2):
        buy_in_the_past(emulator, offer, days_ago=days_ago)
    out = StringIO()

    call_command("sync", channel_http.name, "--only", "orders", stdout=out)

    windows = [line for line in out.getvalue().splitlines() if "read so far" in line]
    assert len(windows) == 2  # 7 days, then the rest up to now
    assert windows[0].endswith("(0 read so far)")
    assert windows[1].endswith("(2 read so far)")
    assert "orders: 3 new" in out.getvalue()


def test_channel_list_links_to_the_orders_set_aside(
    channel: Channel, logged_in_client: Client
):
    record_problems(
        "allegro", str(channel.pk), channel.name, {"cf-1": "x", "cf-2": "y"}
    )
    record_problems("allegro", str(channel.pk + 1), "Other", {"cf-3": "z"})

    page = logged_in_client.get(reverse("channels")).content.decode()

    assert (
        f'<a href="{reverse("orders")}#import-problems">2 orders could not be '
        "imported</a>; retried on every sync."
    ) in page
    resolve_problems("allegro", str(channel.pk), ["cf-1", "cf-2"])
    page = logged_in_client.get(reverse("channels")).content.decode()
    assert 'id="orders-set-aside"' not in page
