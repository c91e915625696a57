"""Who may do what: channels are for staff (or the "manage channels" permission),
every such action is on the audit record, and everyone keeps inventory and orders."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from hub.allegro.models import Channel
from hub.allegro.tests.test_setup_views import form_data
from hub.api.models import ApiToken

pytestmark = pytest.mark.django_db


def channel_urls(channel: Channel) -> list[tuple[str, str]]:
    return [
        ("get", reverse("channels")),
        ("get", reverse("channel_add")),
        ("get", reverse("channel_new")),
        ("post", reverse("channel_new")),
        ("get", reverse("channel_config", args=[channel.pk])),
        ("post", reverse("channel_config", args=[channel.pk])),
        ("get", reverse("channel_delete", args=[channel.pk])),
        ("post", reverse("channel_delete", args=[channel.pk])),
        ("get", reverse("channel_device", args=[channel.pk])),
        ("post", reverse("channel_device_poll", args=[channel.pk])),
        ("get", reverse("channel_oauth_callback") + "?state=x&code=y"),
    ]


def test_a_user_who_is_not_staff_gets_403_on_every_channel_page(
    plain_client: Client, channel: Channel, emulator: Any
) -> None:
    before = Channel.objects.values().get(pk=channel.pk)
    evil = form_data(
        channel,
        environment="custom",
        api_url="https://attacker.example",
        auth_url="https://attacker.example",
        action="connect",
    )
    for method, url in channel_urls(channel):
        response = getattr(plain_client, method)(url, evil if method == "post" else {})
        assert response.status_code == 403, url
    assert Channel.objects.values().get(pk=channel.pk) == before
    assert Channel.objects.count() == 1
    assert emulator.requests == []  # nothing was sent anywhere
    assert not LogEntry.objects.exists()


def test_the_menu_hides_channels_from_users_who_may_not_manage_them(
    plain_client: Client, logged_in_client: Client
) -> None:
    link = f'href="{reverse("channels")}"'
    assert link not in plain_client.get("/inventory/").content.decode()
    assert link in logged_in_client.get("/inventory/").content.decode()


def test_the_manage_channels_permission_is_enough(
    plain_client: Client, plain_user: Any, channel: Channel
) -> None:
    plain_user.user_permissions.add(Permission.objects.get(codename="manage_channels"))
    for method, url in channel_urls(channel)[:5]:
        assert getattr(plain_client, method)(url).status_code == 200, url


def test_a_user_who_is_not_staff_keeps_inventory_orders_and_own_tokens(
    plain_client: Client,
) -> None:
    for url in ("/", "/inventory/", "/orders/", "/settings/api-tokens/"):
        assert plain_client.get(url).status_code == 200, url
    response = plain_client.post("/settings/api-tokens/", {"name": "scanner"})
    assert response.status_code == 200
    assert ApiToken.objects.get().name == "scanner"


def test_staff_actions_on_a_channel_are_recorded(
    logged_in_client: Client, user: Any, channel_http: Channel
) -> None:
    url = reverse("channel_config", args=[channel_http.pk])
    logged_in_client.post(
        url, form_data(channel_http, name="Renamed", client_secret="new-secret")
    )
    logged_in_client.post(url, form_data(channel_http, name="Renamed", action="test"))

    entries = list(LogEntry.objects.order_by("pk"))
    assert [(e.user_id, e.object_id, e.action_flag) for e in entries] == [
        (user.pk, str(channel_http.pk), CHANGE),
        (user.pk, str(channel_http.pk), CHANGE),
    ]
    assert entries[0].change_message.startswith("Changed ")
    assert "name" in entries[0].change_message
    assert "client_secret" in entries[0].change_message
    assert entries[1].change_message == "Ran Test."
    for entry in entries:
        assert "new-secret" not in entry.change_message


def test_adding_a_channel_is_recorded(logged_in_client: Client, user: Any) -> None:
    data = {
        "name": "New",
        "environment": "sandbox",
        "client_id": "app",
        "client_secret": "app-secret",
        "sync_orders_from": "2026-11-01T08:00",
        "relist_delay_minutes": "5",
        "action": "save",
    }
    logged_in_client.post(reverse("channel_new"), data)
    entry = LogEntry.objects.get()
    assert (entry.user_id, entry.action_flag, entry.object_repr) == (
        user.pk,
        ADDITION,
        "New",
    )


def test_staff_see_and_revoke_others_tokens_and_it_is_recorded(
    logged_in_client: Client, user: Any, plain_user: Any
) -> None:
    row, _token = ApiToken.issue(plain_user, "bob feed")
    page = logged_in_client.get("/settings/api-tokens/").content.decode()
    assert "bob feed" in page
    assert plain_user.username in page

    response = logged_in_client.post(f"/settings/api-tokens/{row.pk}/revoke/")

    assert response.status_code == 302
    row.refresh_from_db()
    assert row.revoked_at is not None
    entry = LogEntry.objects.get()
    assert (entry.user_id, entry.object_id, entry.change_message) == (
        user.pk,
        str(row.pk),
        "Revoked the API token.",
    )


def test_staff_read_the_audit_record_in_the_admin(
    logged_in_client: Client, channel: Channel
) -> None:
    url = reverse("channel_config", args=[channel.pk])
    logged_in_client.post(url, form_data(channel, name="Renamed"))
    page = logged_in_client.get("/admin/admin/logentry/")
    assert page.status_code == 200
    assert "Renamed" in page.content.decode()
