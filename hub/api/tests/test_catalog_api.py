from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from hub.api.models import ApiToken
from hub.catalog import stock
from hub.catalog.models import Location, StockItem, StockLevel

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client: Client, user) -> Client:  # type: ignore[no-untyped-def]
    _row, token = ApiToken.issue(user, "tests")
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


def put_levels(api: Client, levels: list[dict[str, object]]):  # type: ignore[no-untyped-def]
    return api.put("/api/levels", {"levels": levels}, content_type="application/json")


def on_hand() -> dict[tuple[str, str], int]:
    return {
        (lvl.item.sku, lvl.location.name): lvl.on_hand
        for lvl in StockLevel.objects.select_related("item", "location")
    }


def test_create_read_update_item(api: Client) -> None:
    created = api.post(
        "/api/items",
        {"sku": "A/1", "title": "Mug", "ean": "5901234123457"},
        content_type="application/json",
    )
    assert created.status_code == 201
    assert created.json() == {
        "sku": "A/1",
        "title": "Mug",
        "ean": "5901234123457",
        "on_hand": 0,
        "allocated": 0,
        "available": 0,
        "levels": [],
    }
    patched = api.patch(
        "/api/items/A/1", {"title": "Big mug"}, content_type="application/json"
    )
    assert patched.status_code == 200
    assert api.get("/api/items/A/1").json()["title"] == "Big mug"
    assert StockItem.objects.get().ean == "5901234123457"


def test_create_duplicate_sku_is_409_and_changes_nothing(api: Client) -> None:
    StockItem.objects.create(sku="A-1", title="Mug")
    response = api.post(
        "/api/items", {"sku": "A-1", "title": "Other"}, content_type="application/json"
    )
    assert response.status_code == 409
    assert StockItem.objects.get().title == "Mug"


@pytest.mark.parametrize(
    "payload",
    [
        {"sku": "", "title": "Mug"},
        {"sku": "A-1", "title": ""},
        {"sku": "A-1", "title": "   "},
        {"sku": "A-1", "title": "Mug", "ean": "123"},
        {"sku": "x" * 101, "title": "Mug"},
        {"title": "Mug"},
    ],
)
def test_create_bad_item_is_422(api: Client, payload: dict[str, str]) -> None:
    response = api.post("/api/items", payload, content_type="application/json")
    assert response.status_code == 422
    assert StockItem.objects.count() == 0


def test_patch_to_a_blank_title_is_422_and_changes_nothing(api: Client) -> None:
    StockItem.objects.create(sku="A-1", title="Mug")

    response = api.patch(
        "/api/items/A-1", {"title": "  "}, content_type="application/json"
    )

    assert response.status_code == 422
    assert response.json() == {"detail": "title: is required"}
    assert StockItem.objects.get().title == "Mug"


def test_unknown_item_is_404(api: Client) -> None:
    assert api.get("/api/items/NOPE").status_code == 404
    assert (
        api.patch(
            "/api/items/NOPE", {"title": "x"}, content_type="application/json"
        ).status_code
        == 404
    )


def test_bulk_levels_all_or_nothing(api: Client) -> None:
    StockItem.objects.create(sku="A-1", title="Mug")
    StockItem.objects.create(sku="B-2", title="Plate")
    Location.objects.create(name="Back room")
    response = put_levels(
        api,
        [
            {"sku": "A-1", "on_hand": 5},
            {"sku": "A-1", "location": "Back room", "on_hand": 2},
            {"sku": "B-2", "location": "Nowhere", "on_hand": 1},
            {"sku": "C-3", "on_hand": 1},
            {"sku": "B-2", "on_hand": -4},
            {"sku": "A-1", "location": "Default", "on_hand": 6},
        ],
    )
    assert response.status_code == 422
    body = response.json()
    assert body["detail"] == "4 problem(s); nothing was changed"
    assert body["errors"] == [
        {
            "index": 2,
            "field": "location",
            "message": "unknown location Nowhere (known: Back room, Default); "
            "add it under Inventory → Locations first",
        },
        {"index": 3, "field": "sku", "message": "no stock item has the SKU C-3"},
        {
            "index": 4,
            "field": "on_hand",
            "message": "-4 is negative; stock on hand cannot be below 0",
        },
        {
            "index": 5,
            "field": "sku",
            "message": "A-1 at this location already appears on index 0",
        },
    ]
    assert StockLevel.objects.count() == 0


def test_bulk_levels_set_and_report_changes(api: Client) -> None:
    StockItem.objects.create(sku="A-1", title="Mug")
    Location.objects.create(name="Back room")
    first = put_levels(
        api,
        [
            {"sku": "A-1", "on_hand": 5},
            {"sku": "A-1", "location": "Back room", "on_hand": 2},
        ],
    )
    assert first.json() == {"levels_changed": 2, "levels_unchanged": 0}
    again = put_levels(
        api,
        [
            {"sku": "A-1", "on_hand": 5},
            {"sku": "A-1", "location": "Back room", "on_hand": 0},
        ],
    )
    assert again.json() == {"levels_changed": 1, "levels_unchanged": 1}
    assert on_hand() == {("A-1", "Default"): 5, ("A-1", "Back room"): 0}


def test_bulk_levels_thousands_in_one_call(
    api: Client, django_assert_max_num_queries: Any
) -> None:
    StockItem.objects.bulk_create(
        StockItem(sku=f"SKU-{n:05}", title=f"Item {n}") for n in range(5000)
    )
    levels = [{"sku": f"SKU-{n:05}", "on_hand": n % 7} for n in range(5000)]
    # Set-based: batched writes, about 105 queries for 5 000 rows rather than one or
    # more per row (timing lives in bench/, never in a test).
    with django_assert_max_num_queries(150):
        response = put_levels(api, levels)
    assert response.json() == {"levels_changed": 5000, "levels_unchanged": 0}
    assert StockLevel.objects.count() == 5000


def test_bulk_levels_over_the_limit_is_rejected(api: Client) -> None:
    response = put_levels(api, [{"sku": "A", "on_hand": 1}] * 10_001)
    assert response.status_code == 422
    assert StockLevel.objects.count() == 0


def test_available_quantities(api: Client) -> None:
    mug = StockItem.objects.create(sku="A-1", title="Mug")
    StockItem.objects.create(sku="B-2", title="Plate")
    location = stock.default_location()
    stock.set_on_hand(mug, location, 5)
    stock.allocate(mug, location, 2, "order line 1")
    body = api.get("/api/items", {"sku": ["A-1"]}).json()
    assert body["count"] == 1
    assert body["items"][0] == {
        "sku": "A-1",
        "title": "Mug",
        "ean": "",
        "on_hand": 5,
        "allocated": 2,
        "available": 3,
        "levels": [{"location": "Default", "on_hand": 5}],
    }
    page = api.get("/api/items", {"limit": 1, "offset": 1}).json()
    assert page["count"] == 2
    assert [i["sku"] for i in page["items"]] == ["B-2"]
    assert [
        i["sku"] for i in api.get("/api/items", {"search": "plat"}).json()["items"]
    ] == ["B-2"]


def test_locations(api: Client) -> None:
    Location.objects.create(name="Back room")
    assert api.get("/api/locations").json() == [
        {"name": "Default", "is_default": True},
        {"name": "Back room", "is_default": False},
    ]
