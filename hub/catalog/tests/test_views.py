from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.http import StreamingHttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from hub.catalog import stock
from hub.catalog.models import Allocation, Location, StockItem, StockLevel

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
    page = logged_in_client.get(f"/inventory/{item.pk}/edit/")
    assert page.context["levels_form"].initial == {f"on_hand_{default.pk}": 3}
    logged_in_client.post(
        f"/inventory/{item.pk}/edit/",
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
    page = logged_in_client.get(f"/inventory/{item.pk}/edit/").content.decode()
    field = f"on_hand_{default.pk}"
    assert f'name="initial-{field}" value="5"' in page
    # and an order took 2 meanwhile
    stock.set_on_hand(item, default, 3)

    # when they save a new title, the level field still showing 5
    logged_in_client.post(
        f"/inventory/{item.pk}/edit/",
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
    today = timezone.localdate().isoformat()  # e.g. stock-2026-11-30.csv
    assert response["Content-Disposition"] == (
        f'attachment; filename="stock-{today}.csv"'
    )
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body == "\ufeffsku;title;ean;location;on_hand\r\nA-1;Kubek;;Default;2\r\n"


# ------------------------------------------------- oversold / out of stock


def stocked(sku: str, levels: dict[Location, int], promised: dict[Location, int]):
    item = StockItem.objects.create(sku=sku, title=f"Item {sku}")
    for location, quantity in levels.items():
        stock.set_on_hand(item, location, quantity)
    for location, quantity in promised.items():
        stock.allocate(item, location, quantity, f"{sku}@{location.pk}")
    return item


@pytest.fixture
def shelves() -> dict[str, StockItem]:
    """Two locations; summed over both, two items oversold and two out of stock."""
    default = stock.default_location()
    back = Location.objects.create(name="Back room")
    return {
        "plenty": stocked("A-1", {default: 5}, {}),
        "oversold": stocked("B-2", {default: 1}, {default: 3}),  # -2
        "never_stocked": stocked("C-3", {}, {}),  # 0: no level at all
        "all_promised": stocked("D-4", {default: 2, back: 1}, {back: 3}),  # 0
        "promised_nothing_here": stocked("E-5", {}, {back: 1}),  # -1
        # oversold at the default location, but not in total
        "short_here": stocked("F-6", {default: 1, back: 4}, {default: 2}),  # 3
    }


def listed(client: Client, **params: str) -> list[str]:
    response = client.get("/inventory/", params)
    assert response.status_code == 200
    return [row["item"].sku for row in response.context["rows"]]


def test_annotate_available_agrees_with_available_by_item(shelves) -> None:
    ids = [item.pk for item in shelves.values()]
    for location in [None, *Location.objects.all()]:
        annotated = stock.annotate_available(StockItem.objects.all(), location)
        assert {item.pk: item.available for item in annotated} == (
            stock.available_by_item(ids, location)
        )
    summed = {
        item.sku: (item.on_hand_total, item.allocated_total, item.available)
        for item in stock.annotate_available(StockItem.objects.all())
    }
    assert summed == {
        "A-1": (5, 0, 5),
        "B-2": (1, 3, -2),
        "C-3": (0, 0, 0),
        "D-4": (3, 3, 0),
        "E-5": (0, 1, -1),
        "F-6": (5, 2, 3),
    }
    default = stock.default_location()
    here = stock.annotate_available(StockItem.objects.all(), default)
    assert sorted(i.sku for i in here.filter(available__lt=0)) == ["B-2", "F-6"]


def test_list_filters_oversold_and_out_of_stock(
    logged_in_client: Client, shelves
) -> None:
    assert listed(logged_in_client, stock="oversold") == ["B-2", "E-5"]
    assert listed(logged_in_client, stock="out_of_stock") == ["C-3", "D-4"]
    assert listed(logged_in_client, stock="") == [
        "A-1",
        "B-2",
        "C-3",
        "D-4",
        "E-5",
        "F-6",
    ]
    assert listed(logged_in_client, stock="oversold", q="e-5") == ["E-5"]
    assert listed(logged_in_client, stock="out_of_stock", q="B-2") == []
    response = logged_in_client.get("/inventory/", {"stock": "oversold"})
    rows = {row["item"].sku: row for row in response.context["rows"]}
    assert (rows["B-2"]["allocated"], rows["B-2"]["available"]) == (3, -2)
    html = response.content.decode()
    assert '<option value="oversold" selected>' in html
    assert 'id="clear-search"' in html


def test_list_shows_why_a_filter_matched_nothing(logged_in_client: Client) -> None:
    StockItem.objects.create(sku="A-1", title="Mug")  # 0 available, not oversold
    html = logged_in_client.get("/inventory/", {"stock": "oversold"}).content.decode()
    assert "No items match your search." in html


def test_unknown_filter_shows_every_item_and_says_so(
    logged_in_client: Client, shelves
) -> None:
    response = logged_in_client.get("/inventory/", {"stock": "lost"})
    assert len(response.context["rows"]) == 6
    assert "Select a valid choice. lost is not one of the available choices." in (
        response.content.decode()
    )


def test_filtered_pages_keep_the_filter(logged_in_client: Client) -> None:
    default = stock.default_location()
    items = StockItem.objects.bulk_create(
        StockItem(sku=f"S-{n:03}", title=f"Item {n}") for n in range(120)
    )
    stock.set_levels((item.pk, default.pk, 1) for item in items[::2])
    html = logged_in_client.get(
        "/inventory/", {"stock": "out_of_stock", "q": "S-"}
    ).content.decode()
    assert '<a href="?stock=out_of_stock&amp;q=S-&amp;page=2">Next</a>' in html
    page_2 = logged_in_client.get(
        "/inventory/", {"stock": "out_of_stock", "q": "S-", "page": "2"}
    )
    assert [r["item"].sku for r in page_2.context["rows"]][:2] == ["S-101", "S-103"]
    assert page_2.context["page"].paginator.count == 60


def test_filters_over_ten_thousand_items_take_the_same_queries(
    logged_in_client: Client, django_assert_num_queries
) -> None:
    default = stock.default_location()

    def add_items(start: int, count: int) -> None:
        items = StockItem.objects.bulk_create(
            StockItem(sku=f"N-{n:05}", title=f"Item {n}")
            for n in range(start, start + count)
        )
        # every third item oversold (1 on hand, 2 promised), every third at 0
        stock.set_levels((item.pk, default.pk, 1) for item in items[::3])
        Allocation.objects.bulk_create(
            Allocation(item=item, location=default, quantity=2, reference=f"r{item.pk}")
            for item in items[::3]
        )
        stock.set_levels((item.pk, default.pk, 5) for item in items[1::3])

    add_items(0, 30)
    # session + user, count, page, levels of the page, locations
    with django_assert_num_queries(6):
        small = logged_in_client.get("/inventory/", {"stock": "oversold"})
    add_items(30, 10_050)
    with django_assert_num_queries(6):
        large = logged_in_client.get("/inventory/", {"stock": "oversold"})
    with django_assert_num_queries(6):
        out = logged_in_client.get("/inventory/", {"stock": "out_of_stock"})

    assert small.context["page"].paginator.count == 10
    assert large.context["page"].paginator.count == 3360
    assert out.context["page"].paginator.count == 3360
    assert [r["available"] for r in large.context["rows"]] == [-1] * 50
    assert [r["available"] for r in out.context["rows"]] == [0] * 50
