"""CSV export never hands Excel a formula, and the hub's own import undoes the
escaping, so export → import is exact."""

from __future__ import annotations

import csv
import io

import pytest

from hub.catalog import csvio, stock
from hub.catalog.models import Location, StockItem, StockLevel
from hub.catalog.rows import RowsInvalid

pytestmark = pytest.mark.django_db

TRICKY = [
    ('=HYPERLINK("http://x","y")', "=1+1 mug"),
    ("+48-123", "+ plus"),
    ("-001", "-5 below"),
    ("@SUM", "@home"),
    ("'=already", "'=quoted"),
    ("''@twice", "'' two quotes"),
    ("'plain", "'Tis the season"),
    ("PLAIN-1", "ordinary title"),
]


def export(delimiter: str = ",", bom: bool = False) -> str:
    return "".join(csvio.export_csv(delimiter=delimiter, bom=bom))


def snapshot() -> list[tuple[str, str, str, str, int]]:
    return sorted(
        (lvl.item.sku, lvl.item.title, lvl.item.ean, lvl.location.name, lvl.on_hand)
        for lvl in StockLevel.objects.select_related("item", "location")
    )


def load_tricky_stock() -> None:
    cellar = Location.objects.create(name="-1 cellar")
    for n, (sku, title) in enumerate(TRICKY):
        item = StockItem.objects.create(sku=sku, title=title)
        stock.set_levels([(item.pk, cellar.pk, n + 1)])
        stock.set_levels([(item.pk, stock.default_location().pk, 10 * n)])


@pytest.mark.parametrize(("delimiter", "bom"), [(",", False), (";", True)])
def test_no_exported_cell_starts_a_formula(delimiter: str, bom: bool) -> None:
    load_tricky_stock()

    text = export(delimiter, bom).lstrip(csvio.BOM)

    cells = [
        c for row in csv.reader(io.StringIO(text), delimiter=delimiter) for c in row
    ]
    assert cells
    assert [c for c in cells if c[:1] in ("=", "+", "-", "@")] == []
    assert "'=HYPERLINK" in text
    assert "'-1 cellar" in text


@pytest.mark.parametrize(("delimiter", "bom"), [(",", False), (";", True)])
def test_export_then_import_is_exact(delimiter: str, bom: bool) -> None:
    load_tricky_stock()
    before = snapshot()
    text = export(delimiter, bom)
    StockLevel.objects.all().delete()
    StockItem.objects.all().delete()

    csvio.import_csv(text.encode())

    assert snapshot() == before
    assert export(delimiter, bom) == text


def test_a_negative_quantity_is_still_refused_as_negative() -> None:
    with pytest.raises(RowsInvalid) as caught:
        csvio.import_csv(b"sku,title,on_hand\nA-1,Mug,-5\n")
    assert [(e.line, e.field) for e in caught.value.errors] == [(2, "on_hand")]
    assert "-5 is negative" in caught.value.errors[0].message
    assert not StockItem.objects.exists()


def test_a_hand_written_apostrophe_before_other_text_is_kept() -> None:
    csvio.import_csv(b"sku,title\n'Tis-1,'Tis the season\n")
    item = StockItem.objects.get()
    assert (item.sku, item.title) == ("'Tis-1", "'Tis the season")
