from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from hub.catalog import stock
from hub.catalog.models import Allocation, Location, StockItem, StockLevel

pytestmark = pytest.mark.django_db


@pytest.fixture
def mug() -> StockItem:
    return StockItem.objects.create(sku="MUG", title="Mug")


@pytest.fixture
def back_room() -> Location:
    return Location.objects.create(name="Back room")


def test_available_is_on_hand_minus_allocations(
    mug: StockItem, back_room: Location
) -> None:
    default = stock.default_location()
    stock.set_on_hand(mug, default, 10)
    stock.set_on_hand(mug, back_room, 4)
    stock.allocate(mug, default, 3, "order line 1")
    stock.allocate(mug, back_room, 1, "order line 2")
    assert stock.available(mug) == 10
    assert stock.available(mug, default) == 7
    assert stock.available(mug, back_room) == 3
    assert (stock.on_hand(mug), stock.allocated(mug)) == (14, 4)


def test_available_can_go_negative_to_show_an_oversell(mug: StockItem) -> None:
    default = stock.default_location()
    stock.set_on_hand(mug, default, 1)
    stock.allocate(mug, default, 3, "order line 1")
    assert stock.available(mug) == -2


def test_available_by_item_covers_items_without_stock(mug: StockItem) -> None:
    plate = StockItem.objects.create(sku="PLATE", title="Plate")
    stock.set_on_hand(mug, stock.default_location(), 5)
    assert stock.available_by_item([mug.pk, plate.pk]) == {mug.pk: 5, plate.pk: 0}


def test_allocating_the_same_reference_twice_changes_nothing(mug: StockItem) -> None:
    default = stock.default_location()
    stock.set_on_hand(mug, default, 5)
    assert stock.allocate(mug, default, 2, "order line 1") is True
    assert stock.allocate(mug, default, 2, "order line 1") is False
    assert stock.available(mug) == 3
    assert Allocation.objects.count() == 1


def test_release_and_consume(mug: StockItem) -> None:
    default = stock.default_location()
    stock.set_on_hand(mug, default, 5)
    stock.allocate(mug, default, 2, "a")
    stock.allocate(mug, default, 1, "b")
    assert stock.release("a") is True
    assert stock.release("a") is False
    assert stock.consume("b") is True
    assert stock.consume("b") is False
    assert (stock.on_hand(mug), stock.available(mug)) == (4, 4)


def test_consume_never_takes_on_hand_below_zero(mug: StockItem) -> None:
    default = stock.default_location()
    stock.set_on_hand(mug, default, 1)
    stock.allocate(mug, default, 3, "a")
    stock.consume("a")
    assert stock.on_hand(mug) == 0


def test_set_levels_upserts(mug: StockItem, back_room: Location) -> None:
    default = stock.default_location()
    stock.set_on_hand(mug, default, 1)
    stock.set_levels([(mug.pk, default.pk, 7), (mug.pk, back_room.pk, 2)])
    assert StockLevel.objects.count() == 2
    assert (stock.on_hand(mug, default), stock.on_hand(mug, back_room)) == (7, 2)
    with pytest.raises(ValueError):
        stock.set_levels([(mug.pk, default.pk, -1)])
    assert stock.on_hand(mug, default) == 7


def test_database_refuses_negative_on_hand_and_second_level(mug: StockItem) -> None:
    default = stock.default_location()
    with pytest.raises(IntegrityError), transaction.atomic():
        StockLevel.objects.create(item=mug, location=default, on_hand=-1)
    StockLevel.objects.create(item=mug, location=default, on_hand=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        StockLevel.objects.create(item=mug, location=default, on_hand=2)
    with pytest.raises(ValueError):
        stock.set_on_hand(mug, default, -1)


def test_one_default_location() -> None:
    first = stock.default_location()
    assert stock.default_location() == first
    with pytest.raises(IntegrityError), transaction.atomic():
        Location.objects.create(name="Other", is_default=True)


def test_sku_is_unique(mug: StockItem) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        StockItem.objects.create(sku="MUG", title="Another mug")


def test_consume_takes_from_the_allocations_location_only(
    mug: StockItem, back_room: Location
) -> None:
    default = stock.default_location()
    stock.set_on_hand(mug, default, 10)
    stock.set_on_hand(mug, back_room, 4)
    stock.allocate(mug, back_room, 3, "order line 1")

    assert stock.consume("order line 1") is True

    assert (stock.on_hand(mug, default), stock.on_hand(mug, back_room)) == (10, 1)
    assert (stock.available(mug, default), stock.available(mug, back_room)) == (10, 1)
    assert stock.available(mug) == 11


def test_an_allocation_needs_at_least_one_unit(mug: StockItem) -> None:
    with pytest.raises(ValueError, match="at least one unit"):
        stock.allocate(mug, stock.default_location(), 0, "order line 1")
    assert Allocation.objects.count() == 0
