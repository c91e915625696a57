"""hub.batch_sql writes what Django's own save would, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from django.db import DataError, connection, transaction
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


def test_values_of_every_kind_come_back_as_they_went_in() -> None:
    (order,) = _orders("F-1")
    awkward = 'Zażółć "gęślą" \\ jaźń\n\t{}[],\'%s?'
    address = {"street": awkward, "lines": [1, "2", None, {"x": True}]}

    order.buyer_name, order.delivery_address = awkward, address
    order.surcharges, order.total = ["a string in a list"], Decimal("1234567.89")
    update_rows(
        Order, ("buyer_name", "delivery_address", "surcharges", "total"), [order]
    )

    stored = Order.objects.get()
    assert stored.buyer_name == awkward
    assert stored.delivery_address == address
    assert stored.surcharges == ["a string in a list"]
    assert stored.total == Decimal("1234567.89")


def test_a_value_too_long_for_its_column_is_refused_not_cut() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite does not enforce a text column's length")
    (order,) = _orders("F-1")
    order.buyer_login = "x" * 101  # max_length 100

    with pytest.raises(DataError), transaction.atomic():
        update_rows(Order, ("buyer_login",), [order])

    assert Order.objects.get().buyer_login == ""


@pytest.mark.filterwarnings("ignore:DateTimeField .* received a naive datetime")
def test_insert_values_writes_each_kind_as_djangos_own_save(settings: Any) -> None:
    settings.TIME_ZONE = "Europe/Warsaw"
    (order,) = _orders("F-1")
    naive_noon = datetime(2026, 6, 1, 12, 0)  # noqa: DTZ001 - naive on purpose

    insert_values(
        OrderLine,
        ("order_id", "external_id", "quantity", "unit_price", "original_unit_price",
         "bought_at", "stock_item_id", "unlinked_reason"),
        [
            (order.pk, "L-1", 1, Decimal("12.346"), None, None, None, None),
            (order.pk, "L-2", 3, Decimal("0.10"), Decimal("1E+1"), naive_noon, None,
             Message(texts.NO_EXTERNAL_ID)),
        ],
    )  # fmt: skip

    first, second = OrderLine.objects.order_by("external_id")
    assert (first.unit_price, first.original_unit_price, first.bought_at) == (
        Decimal("12.35"), None, None,  # rounded to the column's 2 places
    )  # fmt: skip
    assert first.unlinked_reason == Message()  # None: the empty message
    assert second.original_unit_price == Decimal("10.00")
    # Naive: taken in TIME_ZONE (Warsaw summer time), 10:00 UTC.
    assert second.bought_at == datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
    assert second.unlinked_reason == Message(texts.NO_EXTERNAL_ID)


def test_json_values_keep_their_json_types_and_refuse_what_json_cannot_hold() -> None:
    (order,) = _orders("F-1")
    order.payment = {"text": "a", "n": 1.5, "yes": True, "none": None, "list": [1]}
    order.surcharges = "just a string"  # type: ignore[assignment]
    update_rows(Order, ("payment", "surcharges"), [order])

    stored = Order.objects.get()
    assert stored.payment == {"text": "a", "n": 1.5, "yes": True, "none": None,
                              "list": [1]}  # fmt: skip
    assert stored.surcharges == "just a string"

    order.payment = {"amount": Decimal("1.50")}  # json cannot write a Decimal
    with pytest.raises(TypeError), transaction.atomic():
        update_rows(Order, ("payment",), [order])
    assert Order.objects.get().payment == stored.payment


def test_insert_values_refuses_rows_it_would_write_wrong() -> None:
    (order,) = _orders("F-1")
    names = ("order_id", "kind", "source_event")

    with pytest.raises(ValueError, match="a value for each"):
        insert_values(OrderEvent, names, [(order.pk, "PAID")])
    with pytest.raises(ValueError, match="among the named"):
        insert_values(OrderEvent, names, [(order.pk, "PAID", "e1")], key=("actor",))
    with (
        pytest.raises(ValueError, match="does not tell the rows apart"),
        transaction.atomic(),
    ):
        insert_values(
            OrderEvent, names,
            [(order.pk, "PAID", "same"), (order.pk, "STATUS", "same")],
            key=("source_event",),
        )  # fmt: skip
    assert not OrderEvent.objects.exists()
