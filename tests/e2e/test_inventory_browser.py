from __future__ import annotations

from typing import Any

import pytest

from hub.catalog.models import StockItem

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_create_item_set_level_and_see_it_in_the_list(
    live_server: Any, browser_page: Any, log_in: Any
) -> None:
    page = log_in(browser_page)
    page.click("nav >> text=Inventory")
    page.wait_for_url(f"{live_server.url}/inventory/")
    assert "No stock items yet" in page.inner_text("#inventory")

    page.click("text=New item")
    page.fill("#id_sku", "BROWSER-1")
    page.fill("#id_title", "Kubek z przeglądarki")
    page.fill("#id_ean", "5901234123457")
    page.get_by_label("Default").fill("17")
    page.click("button:has-text('Save')")

    page.wait_for_url(f"{live_server.url}/inventory/")
    assert "Saved BROWSER-1." in page.inner_text(".messages")
    row = page.locator("#inventory tbody tr", has_text="BROWSER-1")
    cells = row.locator("td").all_inner_texts()
    # SKU, title, EAN, on hand at Default, allocated, available
    assert cells == [
        "BROWSER-1",
        "Kubek z przeglądarki",
        "5901234123457",
        "17",
        "0",
        "17",
    ]

    # search narrows the list (with one item only, it could not show that)
    StockItem.objects.create(sku="OTHER-1", title="Talerz")
    page.reload()
    assert page.locator("#inventory tbody tr").count() == 2
    page.fill("input[name=q]", "przeglądarki")
    page.click("button:has-text('Search')")
    page.wait_for_url(f"{live_server.url}/inventory/?q=*")
    rows = page.locator("#inventory tbody tr")
    assert rows.count() == 1
    assert rows.first.inner_text().startswith("BROWSER-1")


def test_bad_csv_shows_per_row_errors(
    live_server: Any, browser_page: Any, log_in: Any, tmp_path: Any
) -> None:
    page = log_in(browser_page)
    bad = tmp_path / "stock.csv"
    bad.write_text("sku;title;on_hand\nA-1;Kubek;3\nB-2;Talerz;-5\n", encoding="utf-8")
    page.goto(f"{live_server.url}/inventory/import/")
    page.set_input_files("#id_file", str(bad))
    page.click("button:has-text('Import')")
    errors = page.inner_text("#import-errors")
    assert "Nothing was imported" in errors
    assert "-5 is negative" in errors
    page.goto(f"{live_server.url}/inventory/")
    assert "No stock items yet" in page.inner_text("#inventory")


def test_a_large_csv_import_shows_a_moving_bar_then_the_summary(
    live_server: Any, browser_page: Any, log_in: Any, tmp_path: Any
) -> None:
    """The page streams its progress: the bar is on screen while the rows are
    checked and saved, and ends at 100 % with the summary and a way on."""
    page = log_in(browser_page)
    big = tmp_path / "big.csv"
    lines = [f"BIG-{n:05d};Kubek numer {n} z długą nazwą;{n % 9}" for n in range(12000)]
    big.write_text("sku;title;on_hand\n" + "\n".join(lines) + "\n", encoding="utf-8")
    page.goto(f"{live_server.url}/inventory/import/")
    page.set_input_files("#id_file", str(big))
    page.click("button:has-text('Import')")
    page.wait_for_selector("#import-bar")  # shown before the import is done
    page.wait_for_selector("#import-done", timeout=120_000)
    assert page.get_attribute("#import-bar", "aria-valuenow") == "100"
    assert "12000 items created" in page.inner_text("#import-done")
    page.click("#import-done a")
    page.wait_for_url(f"{live_server.url}/inventory/")
    assert StockItem.objects.count() == 12000
