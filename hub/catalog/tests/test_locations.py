"""Renaming and deleting locations, and the guards: a location with stock, an
allocation, orders or a channel using it is never deleted; the default neither."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from hub.allegro.models import Channel
from hub.catalog import stock
from hub.catalog.models import Location, StockChange, StockItem, StockLevel
from hub.orders.models import Order

pytestmark = pytest.mark.django_db


@pytest.fixture
def shelf() -> Location:
    stock.default_location()
    return Location.objects.create(name="Shelf B")


@pytest.fixture
def mug() -> StockItem:
    return StockItem.objects.create(sku="MUG", title="Mug")


def delete(client: Client, location: Location) -> str:
    response = client.post(reverse("inventory_location_delete", args=[location.pk]))
    return response.content.decode()


def test_rename_and_refuse_a_taken_name(logged_in_client: Client, shelf) -> None:  # type: ignore[no-untyped-def]
    url = reverse("inventory_location_rename", args=[shelf.pk])
    response = logged_in_client.post(url, {"name": "Shelf C"}, follow=True)
    assert "Renamed location Shelf B to Shelf C." in response.content.decode()
    shelf.refresh_from_db()
    assert shelf.name == "Shelf C"
    taken = logged_in_client.post(url, {"name": "default"})
    assert taken.status_code == 200
    assert "A location with this name exists already." in taken.content.decode()
    assert Location.objects.get(pk=shelf.pk).name == "Shelf C"


def test_an_empty_location_is_deleted_after_asking(
    logged_in_client: Client, shelf: Location, mug: StockItem
) -> None:
    stock.set_on_hand(mug, shelf, 3)
    stock.set_on_hand(mug, shelf, 0)  # a level at 0 does not hold it back
    page = logged_in_client.get(reverse("inventory_location_delete", args=[shelf.pk]))
    assert 'id="confirm-delete"' in page.content.decode()
    assert Location.objects.filter(pk=shelf.pk).exists()
    response = logged_in_client.post(
        reverse("inventory_location_delete", args=[shelf.pk]), follow=True
    )
    assert "Deleted location Shelf B." in response.content.decode()
    assert not Location.objects.filter(pk=shelf.pk).exists()
    assert not StockLevel.objects.exists()
    assert not StockChange.objects.filter(location_id=shelf.pk).exists()


@pytest.mark.parametrize(
    ("use", "said"),
    [
        ("on_hand", "3 units are on hand here"),
        ("allocation", "1 allocation (stock promised to an order) is here."),
        ("order", "1 order takes its stock from here."),
        ("inventory", "Channel Shop sends this location's stock to Allegro."),
        ("fulfilment", "Channel Shop takes its orders' stock from here."),
    ],
)
def test_a_location_in_use_is_not_deleted(
    logged_in_client: Client, shelf: Location, mug: StockItem, use: str, said: str
) -> None:
    if use == "on_hand":
        stock.set_on_hand(mug, shelf, 3)
    elif use == "allocation":
        stock.allocate(mug, shelf, 1, "order-line:1")
    elif use == "order":
        Order.objects.create(source="t", account="1", external_id="F", location=shelf)
    elif use == "inventory":
        Channel.objects.create(name="Shop", inventory_location=shelf)
    else:
        Channel.objects.create(name="Shop", fulfilment_location=shelf)
    said = escape(said)
    page = logged_in_client.get(reverse("inventory_location_delete", args=[shelf.pk]))
    assert said in page.content.decode()
    assert 'id="confirm-delete"' not in page.content.decode()
    html = delete(logged_in_client, shelf)
    assert "Location Shelf B was not deleted: it is still in use." in html
    assert said in html
    assert Location.objects.filter(pk=shelf.pk).exists()


def test_the_default_location_is_never_deleted(logged_in_client: Client) -> None:
    default = stock.default_location()
    html = delete(logged_in_client, default)
    assert "It is the default location" in html
    assert Location.objects.filter(pk=default.pk).exists()
    listing = logged_in_client.get(reverse("inventory_locations")).content.decode()
    assert reverse("inventory_location_delete", args=[default.pk]) not in listing
    assert reverse("inventory_location_rename", args=[default.pk]) in listing
