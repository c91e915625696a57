"""Every stock change leaves one StockChange row: the item's history and the
signal other apps (inventory push) read."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import translation

from hub.api.models import ApiToken
from hub.catalog import csvio, stock, texts
from hub.catalog.models import Location, StockChange, StockItem
from hub.text.message import Message

pytestmark = pytest.mark.django_db


@pytest.fixture
def mug() -> StockItem:
    return StockItem.objects.create(sku="MUG", title="Mug")


def history(item: StockItem) -> list[tuple[object, ...]]:
    return [
        (
            c.location.name,
            c.on_hand_before,
            c.on_hand_after,
            c.allocated_delta,
            str(c.reason),
        )
        for c in StockChange.objects.filter(item=item)
        .select_related("location")
        .order_by("created_at", "id")
    ]


def test_set_on_hand_records_before_and_after_once(mug: StockItem) -> None:
    default = stock.default_location()
    stock.set_on_hand(mug, default, 5, reason="user alice")
    stock.set_on_hand(mug, default, 5, reason="user alice")  # no change: no row
    stock.set_on_hand(mug, default, 2, reason="CLI")
    assert history(mug) == [
        ("Default", None, 5, 0, "user alice"),
        ("Default", 5, 2, 0, "CLI"),
    ]


def test_set_levels_records_only_levels_that_change(mug: StockItem) -> None:
    default = stock.default_location()
    back = Location.objects.create(name="Back")
    stock.set_levels([(mug.pk, default.pk, 3), (mug.pk, back.pk, 0)], reason="x")
    stock.set_levels([(mug.pk, default.pk, 3), (mug.pk, back.pk, 7)], reason="y")
    assert history(mug) == [
        ("Default", None, 3, 0, "x"),
        ("Back", None, 0, 0, "x"),
        ("Back", 0, 7, 0, "y"),
    ]


def test_allocate_release_consume_record_the_allocation(mug: StockItem) -> None:
    default = stock.default_location()
    stock.set_on_hand(mug, default, 10)
    StockChange.objects.all().delete()
    assert stock.allocate(mug, default, 3, "order-line:1", reason="order 7")
    assert not stock.allocate(mug, default, 3, "order-line:1", reason="order 7")
    assert stock.allocate(mug, default, 2, "order-line:2")
    assert stock.release("order-line:2", reason="order 8")
    assert not stock.release("order-line:2")
    assert stock.consume("order-line:1", reason="order 7")
    assert not stock.consume("order-line:1")
    assert history(mug) == [
        ("Default", None, None, 3, "order 7"),
        ("Default", None, None, 2, "order-line:2"),  # no reason: the reference
        ("Default", None, None, -2, "order 8"),
        ("Default", 10, 7, -3, "order 7"),
    ]


def test_a_rolled_back_change_leaves_no_record(mug: StockItem) -> None:
    with pytest.raises(ValueError):
        stock.set_levels([(mug.pk, stock.default_location().pk, -1)])
    assert history(mug) == []


def test_csv_cli_api_and_ui_paths_say_who(
    mug: StockItem,
    client: Client,
    user,  # type: ignore[no-untyped-def]
) -> None:
    csvio.import_csv(b"sku,on_hand\nMUG,1\n", actor="cli")
    call_command("stock", "set", "MUG", "2", stdout=StringIO())
    _row, token = ApiToken.issue(user, "tests")
    response = client.put(
        "/api/levels",
        {"levels": [{"sku": "MUG", "on_hand": 3}]},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 200
    client.force_login(user)
    default = stock.default_location()
    client.post(
        f"/inventory/{mug.pk}/edit/",
        {"sku": "MUG", "title": "Mug", f"on_hand_{default.pk}": "4"},
    )
    name = user.get_username()
    changes = StockChange.objects.filter(item=mug).order_by("created_at", "id")
    stored = [(c.on_hand_after, c.reason, c.actor) for c in changes]
    assert stored == [
        (1, Message(texts.CSV_IMPORT), "cli"),
        (2, Message(texts.SET), "cli"),
        (3, Message(texts.API), "token:tests"),
        (4, Message(texts.EDITED), f"user:{name}"),
    ]
    # Stored as codes: each reader sees them in their own language.
    with translation.override("pl"):
        shown = [(str(c.reason), c.actor_name) for c in changes]
    assert shown == [
        ("Import CSV", "wiersz poleceń"),
        ("Ustawiono w wierszu poleceń", "wiersz poleceń"),
        ("REST API", "token API „tests”"),
        ("Zmieniono na stronie produktu", name),
    ]
