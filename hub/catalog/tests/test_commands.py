from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from hub.catalog import stock
from hub.catalog.models import Location, StockItem

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("stock", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_import_then_export(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("sku;title;on_hand\nA-1;Kubek;3\n", encoding="utf-8")
    assert run("import", str(source)) == (
        "1 items created, 0 updated; 1 stock levels changed, 0 unchanged.\n"
    )
    target = tmp_path / "out.csv"
    assert run("export", str(target)) == f"Wrote 1 row(s) to {target}.\n"
    assert target.read_bytes() == (
        b"sku,title,ean,location,on_hand\r\nA-1,Kubek,,Default,3\r\n"
    )


def test_import_bad_file_lists_problems_and_changes_nothing(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("sku,title,on_hand\nA-1,Kubek,3\nB-2,Talerz,-1\n")
    err = StringIO()
    with pytest.raises(CommandError, match="1 problem"):
        call_command("stock", "import", str(source), stdout=StringIO(), stderr=err)
    assert err.getvalue() == (
        f"{source}: line 3, on_hand: -1 is negative; stock on hand cannot be below 0\n"
    )
    assert StockItem.objects.count() == 0


def test_import_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="cannot read"):
        run("import", str(tmp_path / "nope.csv"))


def test_set_quantity() -> None:
    item = StockItem.objects.create(sku="A-1", title="Mug")
    Location.objects.create(name="Back room")
    assert run("set", "A-1", "7") == "A-1 at Default: on hand 7, available 7.\n"
    run("set", "A-1", "2", "--location", "Back room")
    assert stock.on_hand(item) == 9


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["NOPE", "1"], "no stock item with SKU 'NOPE'"),
        (["A-1", "-1"], "quantity -1 is negative"),
        (["A-1", "x"], "quantity x is not a whole number"),
        (["A-1", "1", "--location", "Mars"], "no location 'Mars'"),
    ],
)
def test_set_refuses_bad_input(args: list[str], message: str) -> None:
    item = StockItem.objects.create(sku="A-1", title="Mug")
    with pytest.raises(CommandError, match=message):
        run("set", *args)
    assert stock.on_hand(item) == 0
