"""hub.batch_sql writes what Django's own save would, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from django.utils import timezone as django_timezone

from hub.batch_sql import insert_rows, insert_values, update_rows
from hub.orders import texts
from hub.orders.models import Order, OrderEvent, OrderLine
from hub.text.message import Message

pytestmark = pytest.mark.django_db

WARSAW_SUMMER = timezone(timedelta(hours=2))


def _orders(*external_ids: str) -> list[Order]:
    orders = [
        Order(source="allegro", account="1", external_id=external_id)
        for external_id in external_ids
    ]
    insert_rows(Order, orders, key=("external_id",))
    return orders


def test_insert_rows_sets_the_ids_the_database_gave() -> None:
    orders = _orders("B", "A", "C")

    assert [order.pk for order in orders] == [
        Order.objects.get(external_id=external_id).pk for external_id in "BAC"
    ]
    assert all(not order._state.adding for order in orders)


def test_insert_values_returns_ids_in_the_rows_order_and_fills_defaults() -> None:
    (order,) = _orders("F-1")
    before = django_timezone.now()
    happened = datetime(2026, 6, 1, 12, 0, tzinfo=WARSAW_SUMMER)

    ids = insert_values(
        OrderEvent,
        ("order_id", "kind", "message", "occurred_at", "source_event"),
        [
            (order.pk, OrderEvent.Kind.PAID, Message(texts.PAID), happened, "e2"),
            (order.pk, OrderEvent.Kind.CHANGED, "literal words", happened, "e1"),
        ],
        key=("source_event",),
    )

    first, second = OrderEvent.objects.order_by("id")
    assert ids == [first.pk, second.pk]
    assert (first.kind, first.message, first.source_event) == (
        "PAID", Message(texts.PAID), "e2",
    )  # fmt: skip
    assert second.message == Message.literal("literal words")
    # An aware time in another zone is stored as the same moment.
    assert first.occurred_at == datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
    # Not named: the field's default; auto_now_add: now, one value for the call.
    assert first.actor == second.actor == ""
    assert first.created_at == second.created_at
    assert before <= first.created_at <= django_timezone.now()


def test_insert_values_without_key_returns_no_ids() -> None:
    (order,) = _orders("F-1")

    ids = insert_values(
        OrderLine,
        ("order_id", "external_id", "title", "quantity", "unit_price"),
        [(order.pk, "L-1", "Kubek", 2, Decimal("19.99"))],
    )

    assert ids == []
    line = OrderLine.objects.get()
    assert (line.title, line.quantity, line.unit_price, line.currency) == (
        "Kubek", 2, Decimal("19.99"), "",
    )  # fmt: skip
    assert line.stock_item_id is None


def test_insert_values_of_nothing_writes_nothing() -> None:
    assert insert_values(OrderEvent, ("order_id",), [], key=("order_id",)) == []
    assert not OrderEvent.objects.exists()


def test_update_rows_writes_only_the_named_columns() -> None:
    first, second = _orders("F-1", "F-2")
    Order.objects.filter(pk=second.pk).update(buyer_login="kept")
    first.paid, first.payment = True, {"id": "P-1"}
    second.paid, second.payment = False, {}
    second.buyer_login = "never written"

    update_rows(Order, ("paid", "payment"), [first, second])

    rows = Order.objects.order_by("external_id").values_list(
        "paid", "payment", "buyer_login"
    )
    assert list(rows) == [(True, {"id": "P-1"}, ""), (False, {}, "kept")]
