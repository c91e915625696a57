"""Races on the inventory screens: names unique in any case (enforced by the
database, shown as a field error) and a stale levels page refused, not saved."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.db import IntegrityError, transaction
from django.test import Client

from hub.catalog import csvio, stock
from hub.catalog.models import Location, StockItem, StockLevel

pytestmark = pytest.mark.django_db


# ------------------------------------------------------------ any case, once


@pytest.mark.parametrize(
    ("model", "field", "first", "second"),
    [
        (Location, "name", "Back room", "BACK ROOM"),
        (StockItem, "sku", "DEMO-001", "demo-001"),
    ],
)
def test_the_database_refuses_a_name_that_differs_only_in_case(
    model: type[Location] | type[StockItem], field: str, first: str, second: str
) -> None:
    extra = {"title": "x"} if model is StockItem else {}
    model.objects.create(**{field: first}, **extra)
    with pytest.raises(IntegrityError), transaction.atomic():
        model.objects.create(**{field: second}, **extra)
    assert model.objects.filter(**{f"{field}__iexact": first}).count() == 1


@pytest.mark.parametrize("name", ["Back room", "back ROOM", "  Back room "])
def test_a_taken_location_name_is_a_field_error(
    logged_in_client: Client, name: str
) -> None:
    Location.objects.create(name="Back room")

    response = logged_in_client.post("/inventory/locations/", {"name": name})

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "name": ["A location with this name exists already."]
    }
    assert Location.objects.filter(name__iexact="back room").count() == 1


def test_a_sku_taken_in_another_case_is_a_field_error(logged_in_client: Client) -> None:
    StockItem.objects.create(sku="DEMO-001", title="Mug")

    response = logged_in_client.post(
        "/inventory/new/", {"sku": "demo-001", "title": "Other", "ean": ""}
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "sku": ["A stock item with this SKU exists already (in any case)."]
    }
    assert list(StockItem.objects.values_list("sku", "title")) == [("DEMO-001", "Mug")]


def test_a_csv_row_in_another_case_updates_the_item() -> None:
    item = StockItem.objects.create(sku="DEMO-001", title="Mug")

    result = csvio.import_csv(
        b"sku,title,on_hand\ndemo-001,Big mug,4\nNEW-1,Plate,1\nnew-1,,\n"
    )

    assert (result.items_created, result.items_updated) == (1, 1)
    assert sorted(StockItem.objects.values_list("sku", "title")) == [
        ("DEMO-001", "Big mug"),
        ("NEW-1", "Plate"),
    ]
    item.refresh_from_db()
    assert stock.on_hand(item) == 4


def test_the_same_sku_twice_in_two_cases_is_one_duplicate_row() -> None:
    with pytest.raises(csvio.RowsInvalid) as caught:
        csvio.import_csv(b"sku,title,on_hand\nA-1,Mug,4\na-1,Mug,5\n")
    assert [(e.line, e.field) for e in caught.value.errors] == [(3, "sku")]
    assert not StockItem.objects.exists()


def test_the_api_finds_a_sku_in_any_case(client: Client, user: object) -> None:
    from hub.api.models import ApiToken

    _row, token = ApiToken.issue(user, "t")  # type: ignore[arg-type]
    item = StockItem.objects.create(sku="DEMO-001", title="Mug")
    response = client.put(
        "/api/levels",
        {"levels": [{"sku": "demo-001", "on_hand": 6}]},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.json() == {"levels_changed": 1, "levels_unchanged": 0}
    assert stock.on_hand(item) == 6
    created = client.post(
        "/api/items",
        {"sku": "Demo-001", "title": "Again"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert created.status_code == 409
    assert StockItem.objects.count() == 1


# ------------------------------------------------------------ stale levels


def test_a_level_edited_on_a_page_opened_before_a_dispatch_is_refused(
    logged_in_client: Client,
) -> None:
    item = StockItem.objects.create(sku="A-1", title="Mug")
    default = stock.default_location()
    stock.set_on_hand(item, default, 10)
    field = f"on_hand_{default.pk}"
    page = logged_in_client.get(f"/inventory/{item.pk}/edit/").content.decode()
    assert f'name="initial-{field}" value="10"' in page
    stock.set_on_hand(item, default, 9)  # an order dispatched meanwhile
    posted = {
        "sku": "A-1",
        "title": "Big mug",
        "ean": "",
        field: "12",
        f"initial-{field}": "10",
    }

    response = logged_in_client.post(f"/inventory/{item.pk}/edit/", posted)

    assert response.status_code == 200
    assert response.context["levels_form"].errors[field] == [
        "Changed to 9 while you were editing (an order was dispatched, or someone "
        "else saved). Check your number and save again."
    ]
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Nothing was saved: stock on hand changed while you were editing."
    ]
    html = response.content.decode()
    assert f'name="initial-{field}" value="9"' in html
    assert f'name="{field}" value="12"' in html  # what they typed is kept
    item.refresh_from_db()
    assert item.title == "Mug"
    assert stock.on_hand(item) == 9

    # saving again from the page that now shows 9 goes through
    again = logged_in_client.post(
        f"/inventory/{item.pk}/edit/", {**posted, f"initial-{field}": "9"}
    )
    assert again.status_code == 302
    assert stock.on_hand(item) == 12
    assert StockLevel.objects.get(item=item).on_hand == 12
