"""Deleting a channel: asked first, its orders kept (and said so), the rest goes,
the audit record keeps who did it; a user with the permission may, others not."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.admin.models import DELETION, LogEntry
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from hub.allegro.models import Channel, Listing
from hub.catalog import stock
from hub.catalog.models import Allocation, StockItem
from hub.orders.models import ImportProblem, Order

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop() -> Channel:
    channel = Channel.objects.create(name="Shop PL", account_id="77")
    Listing.objects.create(channel=channel, offer_id="1001", title="Mug")
    return channel


def orders_of(channel: Channel, count: int) -> None:
    item = StockItem.objects.create(sku="MUG", title="Mug")
    stock.set_on_hand(item, stock.default_location(), 10)
    for n in range(count):
        order = Order.objects.create(
            source="allegro", account=str(channel.pk), external_id=f"F-{n}",
            sub_source=channel.name,
        )  # fmt: skip
        stock.allocate(item, stock.default_location(), 1, f"order-line:{order.pk}")
    ImportProblem.objects.create(
        source="allegro", account=str(channel.pk), external_id="bad"
    )


def test_the_confirmation_page_says_orders_are_kept(
    logged_in_client: Client, shop: Channel
) -> None:
    orders_of(shop, 2)
    response = logged_in_client.get(reverse("channel_delete", args=[shop.pk]))
    html = response.content.decode()
    assert "Its 2 orders are kept, under the name Shop PL." in html
    assert "its 1 listing" in html
    assert Channel.objects.filter(pk=shop.pk).exists()  # a GET deletes nothing


def test_deleting_keeps_orders_and_allocations_and_is_recorded(
    logged_in_client: Client, user: Any, shop: Channel
) -> None:
    orders_of(shop, 2)
    response = logged_in_client.post(
        reverse("channel_delete", args=[shop.pk]), follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("channels")
    assert "Deleted channel Shop PL. Its 2 orders are kept." in (
        response.content.decode()
    )
    assert not Channel.objects.exists()
    assert not Listing.objects.exists()
    assert not ImportProblem.objects.exists()
    assert sorted(Order.objects.values_list("external_id", "sub_source")) == [
        ("F-0", "Shop PL"),
        ("F-1", "Shop PL"),
    ]
    assert Allocation.objects.count() == 2
    entry = LogEntry.objects.get()
    assert (entry.user_id, entry.object_id, entry.action_flag) == (
        user.pk,
        str(shop.pk),
        DELETION,
    )
    assert entry.object_repr == "Shop PL"


def test_the_permission_is_enough_and_plain_users_are_refused(
    plain_client: Client, plain_user: Any, shop: Channel
) -> None:
    url = reverse("channel_delete", args=[shop.pk])
    assert plain_client.post(url).status_code == 403
    assert Channel.objects.exists()
    assert not LogEntry.objects.exists()
    plain_user.user_permissions.add(Permission.objects.get(codename="manage_channels"))
    client = Client()
    client.force_login(plain_user)
    assert client.post(url).status_code == 302
    assert not Channel.objects.exists()


def test_renaming_a_channel_keeps_its_orders_name_as_imported(
    logged_in_client: Client, shop: Channel
) -> None:
    """Rename is the config screen's SubSource field; the config page links to
    delete."""
    page = logged_in_client.get(reverse("channel_config", args=[shop.pk]))
    assert reverse("channel_delete", args=[shop.pk]) in page.content.decode()
    assert (
        logged_in_client.get(reverse("channel_delete", args=[999])).status_code == 404
    )
