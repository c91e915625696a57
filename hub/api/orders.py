"""Orders over REST (token auth, see auth.py): a "changed since" feed, one order, links.

The feed is keyset-paged by (updated_at, id): pass ``changed_since`` once, then
the ``next_cursor`` of each answer until it is null. A change is stamped when it is
written but seen when its transaction commits, so a poller that wants to miss
nothing starts each new poll a minute before the newest ``updated_at`` it has seen
(orders are identified by ``id``; seeing one twice is harmless).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Q
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError

from hub.orders.linking import LinkError, link_line_by_hand
from hub.orders.models import Order, OrderLine

router = Router(tags=["orders"])

MAX_PAGE = 500


class LineOut(Schema):
    id: int
    external_id: str = Field(description="The channel's line id.")
    offer_id: str
    title: str
    sku: str = Field(description="The offer's external id (the seller's SKU).")
    quantity: int
    unit_price: Decimal
    currency: str
    stock_item_sku: str | None = Field(description="Linked stock item; null = not.")
    link_method: str
    unlinked_reason: str


class EventOut(Schema):
    kind: str
    message: str
    occurred_at: datetime
    source_event: str


class OrderOut(Schema):
    id: int
    source: str
    account: str
    external_id: str = Field(description="E.g. the Allegro checkout form id.")
    sub_source: str
    status: str = Field(description="OPEN, CANCELLED or DISPATCHED.")
    channel_status: str
    fulfillment_status: str
    paid: bool
    bought_at: datetime
    updated_at: datetime
    buyer_login: str
    buyer_email: str
    buyer_name: str
    buyer_phone: str
    delivery_method: str
    delivery_address: dict[str, Any]
    pickup_point: dict[str, Any]
    payment: dict[str, Any]
    invoice_required: bool
    invoice: dict[str, Any]
    message_to_seller: str
    total: Decimal
    delivery_cost: Decimal
    currency: str
    location: str | None
    has_unlinked_lines: bool
    lines: list[LineOut]


class OrderDetailOut(OrderOut):
    events: list[EventOut]


class OrderPage(Schema):
    items: list[OrderOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null = up to date."
    )


class LinkIn(Schema):
    sku: str = Field(min_length=1, max_length=100)


class Message(Schema):
    detail: str


def line_out(line: OrderLine) -> LineOut:
    return LineOut(
        id=line.pk,
        external_id=line.external_id,
        offer_id=line.offer_id,
        title=line.title,
        sku=line.sku,
        quantity=line.quantity,
        unit_price=line.unit_price,
        currency=line.currency,
        stock_item_sku=line.stock_item.sku if line.stock_item else None,
        link_method=line.link_method,
        unlinked_reason=line.unlinked_reason,
    )


def order_fields(order: Order) -> dict[str, Any]:
    names = [
        "source", "account", "external_id", "sub_source", "status", "channel_status",
        "fulfillment_status", "paid", "bought_at", "updated_at", "buyer_login",
        "buyer_email", "buyer_name", "buyer_phone", "delivery_method",
        "delivery_address", "pickup_point", "payment", "invoice_required", "invoice",
        "message_to_seller", "total", "delivery_cost", "currency",
        "has_unlinked_lines",
    ]  # fmt: skip
    fields = {name: getattr(order, name) for name in names}
    fields["id"] = order.pk
    fields["location"] = order.location.name if order.location else None
    # Sorted in Python: a prefetched set keeps its prefetch (one query per page).
    lines = sorted(order.lines.all(), key=lambda line: line.pk)
    fields["lines"] = [line_out(line) for line in lines]
    return fields


def cursor_of(order: Order) -> str:
    return f"{order.updated_at.isoformat()}_{order.pk}"


def parse_cursor(cursor: str) -> tuple[datetime, int]:
    when, _sep, pk = cursor.rpartition("_")
    try:
        moment, number = datetime.fromisoformat(when), int(pk)
    except ValueError:
        raise HttpError(422, "cursor: not a cursor this API gave out") from None
    if moment.tzinfo is None:
        raise HttpError(422, "cursor: not a cursor this API gave out")
    return moment, number


@router.get("/orders", response={200: OrderPage, 422: Message})
def list_orders(
    request: HttpRequest,
    changed_since: datetime | None = None,
    cursor: str = "",
    limit: int = Query(100, ge=1, le=MAX_PAGE),  # noqa: B008
) -> OrderPage:
    """Orders created or changed since a time, oldest change first.

    An order changes when the channel changes it (payment, cancellation, buyer
    edits), when a line is linked, or when it is dispatched.
    """
    orders = Order.objects.select_related("location").prefetch_related(
        "lines__stock_item"
    )
    if cursor:
        moment, pk = parse_cursor(cursor)
        orders = orders.filter(
            Q(updated_at__gt=moment) | Q(updated_at=moment, id__gt=pk)
        )
    elif changed_since is not None:
        if changed_since.tzinfo is None:
            raise HttpError(422, "changed_since: give a time zone, e.g. …Z")
        orders = orders.filter(updated_at__gte=changed_since)
    page = list(orders.order_by("updated_at", "id")[:limit])
    return OrderPage(
        items=[OrderOut(**order_fields(order)) for order in page],
        next_cursor=cursor_of(page[-1]) if len(page) == limit else None,
    )


@router.get("/orders/{order_id}", response={200: OrderDetailOut, 404: Message})
def read_order(request: HttpRequest, order_id: int) -> OrderDetailOut:
    order = get_object_or_404(
        Order.objects.select_related("location").prefetch_related(
            "lines__stock_item", "events"
        ),
        pk=order_id,
    )
    events = [
        EventOut(
            kind=e.kind,
            message=e.message,
            occurred_at=e.occurred_at,
            source_event=e.source_event,
        )
        for e in order.events.all()
    ]
    return OrderDetailOut(**order_fields(order), events=events)


@router.post(
    "/orders/{order_id}/lines/{line_id}/link",
    response={200: LineOut, 404: Message, 422: Message},
)
def link_line(
    request: HttpRequest, order_id: int, line_id: int, payload: LinkIn
) -> LineOut:
    """Link a line to the stock item with this SKU; an open order allocates it."""
    line = get_object_or_404(OrderLine, pk=line_id, order_id=order_id)
    try:
        link_line_by_hand(line, payload.sku)
    except LinkError as exc:
        raise HttpError(422, str(exc)) from None
    line = OrderLine.objects.select_related("stock_item").get(pk=line.pk)
    return line_out(line)
