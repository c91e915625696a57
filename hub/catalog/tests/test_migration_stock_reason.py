"""The migration that stores a stock change's reason as a code: the English
texts written before become codes and an actor; anything else stays readable."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import translation

from hub.catalog.models import StockChange
from hub.text.message import Message

BEFORE = [("catalog", "0004_unique_names_any_case")]
AFTER = [("catalog", "0005_stock_change_reason_actor")]
OLD_REASONS = [
    "user alice",
    "CSV import, user alice",
    "API, user bob",
    "CLI import",
    "CLI",
    "demo set-up",
    "order 29f5bbd0-7f3c",
    "order-line:42",
    "",
]


@pytest.mark.django_db(transaction=True)
def test_old_reasons_become_codes_and_actors() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    try:
        old = MigrationExecutor(connection).loader.project_state(BEFORE).apps
        location = old.get_model("catalog", "Location").objects.create(name="Shelf")
        item = old.get_model("catalog", "StockItem").objects.create(sku="M", title="M")
        changes = old.get_model("catalog", "StockChange")
        for reason in OLD_REASONS:
            changes.objects.create(item=item, location=location, reason=reason)

        MigrationExecutor(connection).migrate(AFTER)

        rows = [(row.reason, row.actor) for row in StockChange.objects.order_by("pk")]
        assert rows == [
            (Message("stock.edited"), "user:alice"),
            (Message("stock.csv_import"), "user:alice"),
            (Message("stock.api"), "user:bob"),
            (Message("stock.csv_import"), "cli"),
            (Message("stock.set"), "cli"),
            (Message("stock.demo"), "cli"),
            (Message("stock.order", order="29f5bbd0-7f3c"), ""),
            (Message.literal("order-line:42"), ""),
            (Message(), ""),
        ]
        with translation.override("pl"):
            assert str(rows[6][0]) == "Zamówienie 29f5bbd0-7f3c"
            assert str(rows[7][0]) == "order-line:42"
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
