from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.http import StreamingHttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext

from hub.catalog import stock
from hub.catalog.models import Location, StockItem, StockLevel

pytestmark = pytest.mark.django_db


def test_create_item_with_levels(logged_in_client: Client) -> None:
    back = Location.objects.create(name="Back room")
    default = stock.default_location()
    response = logged_in_client.post(
        "/inventory/new/",
        {
            "sku": " A-1 ",
            "title": "Mug",
            "ean": "",
            f"on_hand_{default.pk}": "4",
            f"on_hand_{back.pk}": "",
        },
    )
    assert response.status_code == 302
    item = StockItem.objects.get()
    assert item.sku == "A-1"
    assert list(StockLevel.objects.values_list("location__name", "on_hand")) == [
        ("Default", 4)
    ]


def test_bad_item_form_changes_nothing(logged_in_client: Client) -> None:
    default = stock.default_location()
    response = logged_in_client.post(
        "/inventory/new/",
        {"sku": "A-1", "title": "Mug", "ean": "123", f"on_hand_{default.pk}": "-1"},
    )
    assert response.status_code == 200
    assert "ean" in response.context["form"].errors
    assert f"on_hand_{default.pk}" in response.context["levels_form"].errors
    assert StockItem.objects.count() == 0


def test_duplicate_sku_is_refused(logged_in_client: Client) -> None:
    StockItem.objects.create(sku="A-1", title="Mug")
    response = logged_in_client.post("/inventory/new/", {"sku": "A-1", "title": "X"})
    assert response.status_code == 200
    assert "sku" in response.context["form"].errors
    assert StockItem.objects.get().title == "Mug"


def test_edit_item_and_level(logged_in_client: Client) -> None:
    item = StockItem.objects.create(sku="A-1", title="Mug")
    default = stock.default_location()
    stock.set_on_hand(item, default, 3)
    page = logged_in_client.get(f"/inventory/{item.pk}/")
    assert page.context["levels_form"].initial == {f"on_hand_{default.pk}": 3}
    logged_in_client.post(
        f"/inventory/{item.pk}/",
        {"sku": "A-1", "title": "Big mug", "ean": "", f"on_hand_{default.pk}": "9"},
    )
    item.refresh_from_db()
    assert item.title == "Big mug"
    assert stock.on_hand(item) == 9


def test_saving_a_page_opened_before_a_dispatch_keeps_the_new_level(
    logged_in_client: Client,
) -> None:
    # given the seller opened the item at 5 on hand
    item = StockItem.objects.create(sku="A-1", title="Mug")
    default = stock.default_location()
    stock.set_on_hand(item, default, 5)
    page = logged_in_client.get(f"/inventory/{item.pk}/").content.decode()
    field = f"on_hand_{default.pk}"
    assert f'name="initial-{field}" value="5"' in page
    # and an order took 2 meanwhile
    stock.set_on_hand(item, default, 3)

    # when they save a new title, the level field still showing 5
    logged_in_client.post(
        f"/inventory/{item.pk}/",
        {
            "sku": "A-1",
            "title": "Big mug",
            "ean": "",
            field: "5",
            f"initial-{field}": "5",
        },
    )

    # then the title is saved and the level is not set back to 5
    item.refresh_from_db()
    assert item.title == "Big mug"
    assert stock.on_hand(item) == 3


def test_list_shows_levels_allocated_available_in_fixed_queries(
    logged_in_client: Client,
) -> None:
    default = stock.default_location()
    back = Location.objects.create(name="Back room")
    items = StockItem.objects.bulk_create(
        StockItem(sku=f"S-{n:03}", title=f"Item {n}") for n in range(120)
    )
    for item in items[:60]:
        stock.set_on_hand(item, default, 5)
        stock.set_on_hand(item, back, 1)
        stock.allocate(item, default, 2, f"ref {item.pk}")
    with CaptureQueriesContext(connection) as queries:
        response = logged_in_client.get("/inventory/")
    assert response.status_code == 200
    rows = response.context["rows"]
    assert len(rows) == 50
    assert rows[0]["on_hand"] == [5, 1]
    assert (rows[0]["allocated"], rows[0]["available"]) == (2, 4)
    assert len(queries) <= 12
    assert response.context["page"].paginator.num_pages == 3


def test_search_by_sku_title_and_ean(logged_in_client: Client) -> None:
    StockItem.objects.create(sku="MUG-1", title="Kubek", ean="5901234123457")
    StockItem.objects.create(sku="PLATE-1", title="Talerz")
    for query, expected in [
        ("mug", ["MUG-1"]),
        ("talerz", ["PLATE-1"]),
        ("5901234123457", ["MUG-1"]),
        ("nothing", []),
    ]:
        response = logged_in_client.get("/inventory/", {"q": query})
        assert [r["item"].sku for r in response.context["rows"]] == expected


def test_add_location(logged_in_client: Client) -> None:
    logged_in_client.post("/inventory/locations/", {"name": "Back room"})
    response = logged_in_client.post("/inventory/locations/", {"name": "back room"})
    assert response.status_code == 200
    assert list(Location.objects.values_list("name", flat=True)) == [
        "Default",
        "Back room",
    ]


def test_import_upload_good_and_bad(logged_in_client: Client) -> None:
    good = SimpleUploadedFile("s.csv", b"sku;title;on_hand\r\nA-1;Mug;3\r\n")
    response = logged_in_client.post("/inventory/import/", {"file": good})
    assert response.status_code == 302
    assert stock.on_hand(StockItem.objects.get(sku="A-1")) == 3
    bad = SimpleUploadedFile("s.csv", b"sku,title,on_hand\nA-1,Mug,7\nB-2,,x\n")
    response = logged_in_client.post("/inventory/import/", {"file": bad})
    assert response.status_code == 200
    assert [(e.line, e.field) for e in response.context["errors"]] == [
        (3, "on_hand"),
        (3, "title"),
    ]
    assert "Nothing was imported" in response.content.decode()
    assert stock.on_hand(StockItem.objects.get(sku="A-1")) == 3
    assert StockItem.objects.count() == 1


def test_export_download(logged_in_client: Client) -> None:
    item = StockItem.objects.create(sku="A-1", title="Kubek")
    stock.set_on_hand(item, stock.default_location(), 2)
    response = logged_in_client.get("/inventory/export.csv", {"format": "excel"})
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Disposition"] == 'attachment; filename="stock.csv"'
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body == "\ufeffsku;title;ean;location;on_hand\r\nA-1;Kubek;;Default;2\r\n"
