"""Orders as plain data: one shape for the REST API and `orders list --json`.

The API documents this shape with its schemas (hub/api/orders.py) and the CLI
prints it as JSON; both read it from here, so they cannot drift apart and orders
never import the API.
"""

from __future__ import annotations

from typing import Any

from hub.orders.models import Order, OrderEvent, OrderLine

ORDER_FIELDS = (
    "source", "account", "external_id", "sub_source", "status", "channel_status",
    "fulfillment_status", "paid", "bought_at", "updated_at", "buyer_login",
    "buyer_email", "buyer_name", "buyer_phone", "delivery_method",
    "delivery_address", "pickup_point", "payment", "invoice_required", "invoice",
    "message_to_seller", "total", "delivery_cost", "currency", "has_unlinked_lines",
)  # fmt: skip


def line_data(line: OrderLine) -> dict[str, Any]:
    return {
        "id": line.pk,
        "external_id": line.external_id,
        "offer_id": line.offer_id,
        "title": line.title,
        "sku": line.sku,
        "quantity": line.quantity,
        "unit_price": line.unit_price,
        "currency": line.currency,
        "stock_item_sku": line.stock_item.sku if line.stock_item else None,
        "link_method": line.link_method,
        "unlinked_reason": str(line.unlinked_reason),
    }


def order_data(order: Order) -> dict[str, Any]:
    """The order with its lines; prefetch ``lines__stock_item`` and select
    ``location`` for a page of orders, or this costs queries per order."""
    data = {name: getattr(order, name) for name in ORDER_FIELDS}
    data["id"] = order.pk
    data["location"] = order.location.name if order.location else None
    # Sorted in Python: a prefetched set keeps its prefetch (one query per page).
    lines = sorted(order.lines.all(), key=lambda line: line.pk)
    data["lines"] = [line_data(line) for line in lines]
    return data


def event_data(event: OrderEvent) -> dict[str, Any]:
    return {
        "kind": event.kind,
        "message": str(event.message),
        "actor": event.actor,
        "occurred_at": event.occurred_at,
        "source_event": event.source_event,
    }
