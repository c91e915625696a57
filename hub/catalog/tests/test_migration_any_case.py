"""The migration that makes names unique in any case keeps every row: names that
differ only in case get a number appended on the newer rows."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("catalog", "0003_stock_change")]
AFTER = [("catalog", "0004_unique_names_any_case")]


@pytest.mark.django_db(transaction=True)
def test_existing_case_duplicates_are_renamed_not_merged() -> None:
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate(BEFORE)
    try:
        old = MigrationExecutor(connection).loader.project_state(BEFORE).apps
        Location = old.get_model("catalog", "Location")
        StockItem = old.get_model("catalog", "StockItem")
        for name in ("Shelf", "SHELF", "shelf", "Shelf (2)", "Other"):
            Location.objects.create(name=name)
        for sku in ("demo-001", "DEMO-001", "x" * 100, "X" * 100):
            StockItem.objects.create(sku=sku, title=sku[:10])

        MigrationExecutor(connection).migrate(AFTER)

        names = Location.objects.exclude(is_default=True).values_list("name")
        assert sorted(name for (name,) in names) == sorted(
            ["Shelf", "SHELF (3)", "shelf (4)", "Shelf (2)", "Other"]
        )
        assert sorted(StockItem.objects.values_list("sku", flat=True)) == sorted(
            ["demo-001", "DEMO-001 (2)", "x" * 100, "X" * 96 + " (2)"]
        )
        assert StockItem.objects.filter(title="DEMO-001").get().sku == "DEMO-001 (2)"
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(latest)
