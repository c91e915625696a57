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
from hub.orders.models import ImportProblem, Order, OrderLine
from hub.orders.serialize import event_data, line_data, order_data
from hub.text import actor

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
    # Who did it: "user:NAME", "token:NAME", "cli", "allegro", "" (unknown).
    actor: str
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


class ProblemOut(Schema):
    source: str
    account: str
    external_id: str = Field(description="The order the channel could not import.")
    sub_source: str
    reason: str = Field(description="Why, in plain words.")
    first_seen_at: datetime
    last_seen_at: datetime = Field(description="The last time it was tried.")
    attempts: int


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
        items=[OrderOut(**order_data(order)) for order in page],
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
    events = [EventOut(**event_data(e)) for e in order.events.all()]
    return OrderDetailOut(**order_data(order), events=events)


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
        link_line_by_hand(line, payload.sku, actor.of_request(request))
    except LinkError as exc:
        raise HttpError(422, str(exc)) from None
    line = OrderLine.objects.select_related("stock_item").get(pk=line.pk)
    return LineOut(**line_data(line))


@router.get("/order-problems", response=list[ProblemOut])
def list_order_problems(request: HttpRequest) -> list[ProblemOut]:
    """Orders a channel offered but the hub could not import (no lines, a
    quantity of 0, an unreadable answer, …), oldest first. Each sync pass tries
    them again; one that imports leaves this list."""
    return [
        ProblemOut(
            source=p.source,
            account=p.account,
            external_id=p.external_id,
            sub_source=p.sub_source,
            reason=str(p.reason),
            first_seen_at=p.first_seen_at,
            last_seen_at=p.last_seen_at,
            attempts=p.attempts,
        )
        for p in ImportProblem.objects.all()
    ]
