from __future__ import annotations

from pathlib import Path

import pytest

from hub.catalog import csvio, stock
from hub.catalog.models import Location, StockItem, StockLevel
from hub.catalog.rows import RowError, RowsInvalid

pytestmark = pytest.mark.django_db

DEMO = Path(__file__).resolve().parents[2] / "demo" / "fixtures" / "demo_stock.csv"


def levels() -> dict[tuple[str, str], int]:
    return {
        (lvl.item.sku, lvl.location.name): lvl.on_hand
        for lvl in StockLevel.objects.select_related("item", "location")
    }


def import_errors(text: str | bytes) -> list[tuple[int, str]]:
    data = text.encode() if isinstance(text, str) else text
    with pytest.raises(RowsInvalid) as caught:
        csvio.import_csv(data)
    return [(e.line, e.field) for e in caught.value.errors]


def test_good_file_creates_items_and_levels() -> None:
    Location.objects.create(name="Back room")
    data = (
        "sku,title,ean,location,on_hand\n"
        "A-1,Mug,5901234123457,,5\n"
        "A-1,Mug,,Back room,2\n"
        "B-2,Plate,,,0\n"
    )
    result = csvio.import_csv(data.encode())
    assert (result.items_created, result.items_updated) == (2, 0)
    assert (result.levels_changed, result.levels_unchanged) == (3, 0)
    assert levels() == {
        ("A-1", "Default"): 5,
        ("A-1", "Back room"): 2,
        ("B-2", "Default"): 0,
    }
    mug = StockItem.objects.get(sku="A-1")
    assert (mug.title, mug.ean) == ("Mug", "5901234123457")
    assert stock.available(mug) == 7


def test_reimport_changes_only_what_differs() -> None:
    csvio.import_csv(b"sku,title,on_hand\nA-1,Mug,5\nB-2,Plate,1\n")
    result = csvio.import_csv(b"sku,title,on_hand\nA-1,Mug,5\nB-2,Big plate,3\n")
    assert (result.items_created, result.items_updated) == (0, 1)
    assert (result.levels_changed, result.levels_unchanged) == (1, 1)
    assert StockItem.objects.get(sku="B-2").title == "Big plate"
    assert levels() == {("A-1", "Default"): 5, ("B-2", "Default"): 3}


def test_blank_cells_keep_current_values() -> None:
    csvio.import_csv(b"sku,title,ean,on_hand\nA-1,Mug,5901234123457,5\n")
    csvio.import_csv(b"sku,title,ean,on_hand\nA-1,,,\n")
    mug = StockItem.objects.get(sku="A-1")
    assert (mug.title, mug.ean) == ("Mug", "5901234123457")
    assert levels() == {("A-1", "Default"): 5}


def test_levels_only_file_updates_existing_items() -> None:
    csvio.import_csv(b"sku,title,on_hand\nA-1,Mug,5\n")
    result = csvio.import_csv(b"sku,on_hand\nA-1,9\n")
    assert result.levels_changed == 1
    assert levels() == {("A-1", "Default"): 9}


def test_excel_polish_file_semicolons_bom_and_crlf() -> None:
    data = "\ufeffSKU;Title;EAN;Location;On_hand\r\nA-1;Kubek żółty;;;3\r\n;;;;\r\n"
    csvio.import_csv(data.encode("utf-8"))
    assert StockItem.objects.get(sku="A-1").title == "Kubek żółty"
    assert levels() == {("A-1", "Default"): 3}


def test_windows_1250_file() -> None:
    data = "sku;title;on_hand\r\nA-1;Łódź ćma;4\r\n".encode("cp1250")
    csvio.import_csv(data)
    assert StockItem.objects.get(sku="A-1").title == "Łódź ćma"


def test_tab_separated_and_quoted_fields() -> None:
    csvio.import_csv(b'sku\ttitle\ton_hand\nA-1\t"Mug, large"\t2\n')
    assert StockItem.objects.get(sku="A-1").title == "Mug, large"


def test_location_matches_case_insensitively() -> None:
    Location.objects.create(name="Back room")
    csvio.import_csv(b"sku,title,location,on_hand\nA-1,Mug,back ROOM,2\n")
    assert levels() == {("A-1", "Back room"): 2}


def test_demo_stock_file_loads() -> None:
    result = csvio.import_csv(DEMO.read_bytes())
    assert result.items_created == 10
    skus = list(StockItem.objects.values_list("sku", flat=True))
    assert skus == [f"DEMO-{n:03}" for n in range(1, 11)]
    assert StockItem.objects.get(sku="DEMO-008").title == "Termos stalowy 0,5 l"


@pytest.mark.parametrize(
    ("row", "field"),
    [
        (",Mug,,,1", "sku"),
        ("A-1,Mug,,,-1", "on_hand"),
        ("A-1,Mug,,,1.5", "on_hand"),
        ("A-1,Mug,,,abc", "on_hand"),
        ("A-1,Mug,,,99999999999", "on_hand"),
        ("A-1,Mug,,Nowhere,1", "location"),
        ("A-1,Mug,12345,,1", "ean"),
        ("A-1,Mug,5901234123458,,1", "ean"),
        ("A-1,Mug,5.90123E+12,,1", "ean"),
        ("A-1,,,,1", "title"),
        ("A-1," + "x" * 256 + ",,,1", "title"),
        ("X" * 101 + ",Mug,,,1", "sku"),
        ("A-1,Mug,,,1,surplus", "row"),
    ],
)
def test_bad_row_names_line_and_field_and_imports_nothing(row: str, field: str) -> None:
    data = f"sku,title,ean,location,on_hand\nOK-1,Fine,,,3\n{row}\nOK-2,Fine,,,4\n"
    assert import_errors(data) == [(3, field)]
    assert StockItem.objects.count() == 0
    assert StockLevel.objects.count() == 0


def test_every_bad_row_is_reported_at_once() -> None:
    data = (
        "sku,title,location,on_hand\n"
        "A-1,Mug,,-2\n"
        "B-2,,Mars,x\n"
        "C-3,Cup,,1\n"
        ",Nope,,1\n"
        "C-3,Cup,,2\n"
    )
    assert import_errors(data) == [
        (2, "on_hand"),
        (3, "location"),
        (3, "on_hand"),
        (3, "title"),
        (5, "sku"),
        (6, "sku"),
    ]


def test_error_message_is_readable() -> None:
    with pytest.raises(RowsInvalid) as caught:
        csvio.import_csv(b"sku,title,on_hand\nA-1,Mug,-2\n")
    assert [str(e) for e in caught.value.errors] == [
        "line 2, on_hand: -2 is negative; stock on hand cannot be below 0"
    ]


def test_duplicate_sku_and_location_in_file() -> None:
    data = "sku,title,location,on_hand\nA-1,Mug,,1\nA-1,Mug,Default,2\n"
    assert import_errors(data) == [(3, "sku")]


def test_conflicting_titles_for_one_sku() -> None:
    Location.objects.create(name="Back room")
    data = "sku,title,location,on_hand\nA-1,Mug,,1\nA-1,Cup,Back room,2\n"
    assert import_errors(data) == [(3, "title")]


def test_existing_items_untouched_when_a_row_is_bad() -> None:
    csvio.import_csv(b"sku,title,on_hand\nA-1,Mug,5\n")
    assert import_errors("sku,title,on_hand\nA-1,Renamed,7\nB-2,New,-1\n") == [
        (3, "on_hand")
    ]
    assert StockItem.objects.get().title == "Mug"
    assert levels() == {("A-1", "Default"): 5}


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"", RowError(1, "file", "is empty")),
        (b"sku,title\n", RowError(1, "file", "has a header but no rows")),
        (
            b"sku,titel\nA,B\n",
            RowError(
                1,
                "header",
                "unknown column 'titel'; the columns are: "
                "sku, title, ean, location, on_hand",
            ),
        ),
        (b"title,on_hand\nA,1\n", RowError(1, "header", "a sku column is required")),
        (b"sku,sku\nA,B\n", RowError(1, "header", "column sku appears twice")),
        (
            b"sku,title\nA,\x81\x98\n",
            RowError(1, "file", "is neither UTF-8 nor Windows-1250 text"),
        ),
        (  # the .xlsx itself (a zip) instead of a CSV saved from it
            b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00[Content_Types].xml",
            RowError(
                1,
                "file",
                "is not a CSV file (it looks like a spreadsheet or other binary "
                "file); in Excel use File → Save As → CSV",
            ),
        ),
    ],
)
def test_broken_files(data: bytes, error: RowError) -> None:
    with pytest.raises(RowsInvalid) as caught:
        csvio.import_csv(data)
    assert caught.value.errors == [error]


def test_export_round_trips() -> None:
    Location.objects.create(name="Back room")
    original = (
        "sku,title,ean,location,on_hand\r\n"
        'A-1,"Mug, large",5901234123457,Back room,2\r\n'
        'A-1,"Mug, large",5901234123457,Default,5\r\n'
        "B-2,Plate,,,\r\n"
    )
    csvio.import_csv(original.encode())
    assert "".join(csvio.export_csv()) == original
    result = csvio.import_csv("".join(csvio.export_csv()).encode())
    assert (result.items_created, result.items_updated, result.levels_changed) == (
        0,
        0,
        0,
    )


def test_excel_export_has_bom_and_semicolons() -> None:
    csvio.import_csv(b"sku,title,on_hand\nA-1,Kubek,5\n")
    text = "".join(csvio.export_csv(delimiter=";", bom=True))
    assert text == "\ufeffsku;title;ean;location;on_hand\r\nA-1;Kubek;;Default;5\r\n"
    csvio.import_csv(text.encode())
