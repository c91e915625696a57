"""The data migration: stored English texts become codes, the rest literals."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import translation

from hub.allegro.models import Channel
from hub.orders.models import ImportProblem, OrderEvent, OrderLine
from hub.text.message import Message

BEFORE = [
    ("orders", "0004_importproblem_retry_at"),
    ("allegro", "0007_lifecycle"),
]
AFTER = [("orders", "0005_stored_messages"), ("allegro", "0008_stored_messages")]


@pytest.mark.django_db(transaction=True)
def test_old_rows_are_migrated_to_codes():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    order = old.get_model("orders", "Order").objects.create(
        source="allegro", account="1", external_id="o1"
    )
    events = old.get_model("orders", "OrderEvent")
    events.objects.create(order=order, kind="PAID", message="Payment received.")
    events.objects.create(order=order, kind="CHANGED", message="Something odd.")
    old.get_model("orders", "OrderLine").objects.create(
        order=order,
        external_id="l1",
        title="Mug",
        quantity=1,
        unlinked_reason="No listing link and no stock item with SKU X-1.",
    )
    old.get_model("orders", "ImportProblem").objects.create(
        source="allegro", account="1", external_id="f1",
        reason="Checkout form f1 has no line items.",
    )  # fmt: skip
    old.get_model("allegro", "Channel").objects.create(
        name="A", last_error="Allegro rejected the refresh token; reconnect the channel"
    )

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert [e.message for e in OrderEvent.objects.order_by("id")] == [
        Message("order.paid"),
        Message.literal("Something odd."),
    ]
    line = OrderLine.objects.get()
    assert line.unlinked_reason == Message("line.no_sku_match", sku="X-1")
    with translation.override("pl"):
        assert str(line.unlinked_reason) == (
            "Brak powiązania z ofertą i brak produktu o SKU X-1."
        )
    assert ImportProblem.objects.get().reason == Message(
        "allegro.form_no_lines", id="f1"
    )
    assert Channel.objects.get().last_error == Message("allegro.refresh_rejected")
