"""A large CSV import shows its progress: the page streams a bar that moves
step by step, then the outcome; the command line prints its progress too."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.http import StreamingHttpResponse
from django.test import Client
from django.utils import translation

from hub.catalog import import_stream, progress, stock
from hub.catalog.models import StockChange, StockItem

pytestmark = pytest.mark.django_db


def big_file(count: int, bad_line: int | None = None) -> bytes:
    lines = ["sku,title,on_hand"]
    for n in range(count):
        quantity = "-1" if n + 2 == bad_line else str(n % 7)
        lines.append(f"SKU-{n:06d},Kubek ceramiczny numer {n} z długą nazwą,{quantity}")
    data = ("\n".join(lines) + "\n").encode()
    assert len(data) >= import_stream.STREAM_FROM_BYTES
    return data


def post(client: Client, data: bytes, lang: str = "en") -> list[str]:
    upload = SimpleUploadedFile("stock 2026.csv", data, content_type="text/csv")
    response = client.post(
        "/inventory/import/", {"file": upload}, HTTP_ACCEPT_LANGUAGE=lang
    )
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/html; charset=utf-8"
    return [piece.decode() for piece in response.streaming_content]


def bar(pieces: list[str]) -> list[int]:
    return [int(n) for n in re.findall(r"importStep\((\d+),", "".join(pieces))]


def test_a_large_import_streams_its_progress_then_the_summary(
    logged_in_client: Client,
) -> None:
    pieces = post(logged_in_client, big_file(progress.PROGRESS_CHUNK + 10))
    # The page's top (with the bar) comes first, alone, before any work is done.
    assert 'id="import-bar"' in pieces[0]
    assert bar(pieces[:1]) == []
    steps = bar(pieces)
    assert steps == sorted(steps)  # it only moves forward
    # Started; checked; items saved; levels saved; done. (Steps in between are
    # sent at most every EVERY_SECONDS.)
    assert {0, 30, 65, 100} <= set(steps)
    assert steps[0] == 0
    html = "".join(pieces)
    assert "5010 items created, 0 updated; 5010 stock levels changed" in html
    assert html.rstrip().endswith("</html>")
    assert StockItem.objects.count() == 5010
    assert StockChange.objects.count() == 5010


def test_a_large_bad_file_streams_its_problems_and_saves_nothing(
    logged_in_client: Client,
) -> None:
    stock.default_location()
    html = "".join(post(logged_in_client, big_file(5000, bad_line=4000), lang="pl"))
    assert 'id="import-errors"' in html
    assert "Niczego nie zaimportowano" in html
    assert "<td>4000</td><td>on_hand</td>" in html
    assert not StockItem.objects.exists()
    assert not StockChange.objects.exists()


def test_a_browser_that_goes_away_mid_way_leaves_nothing_saved() -> None:
    """The server closes the page's stream when the browser disconnects; the
    import stops there and its transaction rolls back."""
    stock.default_location()
    pieces = import_stream.progress_and_outcome(
        big_file(3 * progress.PROGRESS_CHUNK), actor="user:alice"
    )
    count = 3 * progress.PROGRESS_CHUNK
    seen = ""
    with translation.override("en"):
        while f"Saving items: {count} of {count}" not in seen:  # items written
            seen = next(pieces)
    assert StockItem.objects.count() == count  # inside the import's transaction
    pieces.close()
    assert not StockItem.objects.exists()
    assert not StockChange.objects.exists()


def test_a_small_file_still_redirects_to_the_inventory(logged_in_client: Client):  # type: ignore[no-untyped-def]
    upload = SimpleUploadedFile("s.csv", b"sku,title,on_hand\nA-1,Mug,3\n")
    response = logged_in_client.post("/inventory/import/", {"file": upload})
    assert response.status_code == 302
    assert response["Location"] == "/inventory/"


def test_the_command_line_import_prints_its_progress(tmp_path) -> None:  # type: ignore[no-untyped-def]
    count = 2 * progress.PROGRESS_CHUNK + 1
    path = tmp_path / "stock.csv"
    path.write_bytes(big_file(count))
    out, err = StringIO(), StringIO()
    call_command("stock", "import", str(path), stdout=out, stderr=err)
    # A line per step and per tenth of the whole (and each step's end).
    assert err.getvalue().splitlines() == [
        f"  0%  checking rows: 0 of {count}",
        f" 14%  checking rows: 5000 of {count}",
        f" 29%  checking rows: 10000 of {count}",
        f" 30%  checking rows: {count} of {count}",
        f" 30%  saving items: 0 of {count}",
        f" 47%  saving items: 5000 of {count}",
        f" 64%  saving items: 10000 of {count}",
        f" 65%  saving items: {count} of {count}",
        f" 65%  saving stock levels: 0 of {count}",
        f" 82%  saving stock levels: 5000 of {count}",
        f" 99%  saving stock levels: 10000 of {count}",
        f"100%  saving stock levels: {count} of {count}",
    ]
    assert f"{count} items created" in out.getvalue()
