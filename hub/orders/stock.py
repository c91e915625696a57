"""How orders promise and use stock: only through hub.catalog.stock."""

from __future__ import annotations

from django.db import transaction

from hub.catalog import stock
from hub.catalog import texts as catalog_texts
from hub.catalog.models import Allocation, Location
from hub.orders.models import Order, OrderLine
from hub.text.message import Message


def order_location(order: Order) -> Location:
    return order.location or stock.default_location()


def order_reason(order: Order) -> Message:
    """How an order's stock changes are labelled in the item's stock history
    (the order's pk lets the item page link to it)."""
    return order_reason_of(order.external_id, order.pk)


def order_reason_of(external_id: str, order_id: int) -> Message:
    return Message(catalog_texts.ORDER, order=external_id, id=order_id)


def allocate_line(line: OrderLine) -> bool:
    """Promise a linked line's units at its order's location (no-op if done).

    A dispatched line (of a partly dispatched order) has taken its stock already.
    """
    if (
        line.stock_item_id is None
        or line.dispatch_id is not None
        or line.order.status != Order.Status.OPEN
    ):
        return False
    location = order_location(line.order)
    existing = Allocation.objects.filter(reference=line.allocation_reference).first()
    if existing is not None:
        if (existing.item_id, existing.location_id, existing.quantity) == (
            line.stock_item_id,
            location.pk,
            line.quantity,
        ):
            return False
        # The line changed (relinked, new quantity): promise the new thing instead.
        stock.release(line.allocation_reference, order_reason(line.order))
    assert line.stock_item is not None
    return stock.allocate(
        line.stock_item,
        location,
        line.quantity,
        line.allocation_reference,
        order_reason(line.order),
    )


def release_order(order: Order) -> None:
    with transaction.atomic():
        for line in order.lines.all():
            stock.release(line.allocation_reference, order_reason(order))


def take_dispatched_line(line: OrderLine, order: Order) -> None:
    """A line linked after its order left: its units leave on_hand now."""
    assert line.stock_item is not None
    reference = line.allocation_reference
    reason = order_reason(order)
    location = order_location(order)
    stock.allocate(line.stock_item, location, line.quantity, reference, reason)
    stock.consume(reference, reason)
