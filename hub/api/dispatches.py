"""Dispatch over REST: dispatch an order (or some lines), read its dispatches and
what the channel said, correct a refused tracking number, list what needs action.

The rules are the same as on the order page (hub/orders/dispatching.py). A
refusal answers 422 with ``errors`` per field and ``confirm`` naming what may be
confirmed (``unpaid``, ``without_stock``) to go ahead anyway.
"""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status

from hub.orders.dispatching import (
    DispatchRequest,
    NotDispatchable,
    correct_dispatch,
    dispatch_or_add_tracking,
    find_lines,
    needing_attention,
)
from hub.orders.models import Dispatch, Order
from hub.text import actor

router = Router(tags=["dispatch"])


class DispatchIn(Schema):
    carrier: str = Field("", max_length=200, description="Carrier name or id.")
    tracking_number: str = Field("", max_length=200)
    lines: list[str] | None = Field(
        None,
        description="Only these lines (channel line id, offer id, SKU or line id); "
        "omitted = every line not dispatched yet.",
    )
    other_carrier: bool = Field(
        False, description="Send a carrier the channel does not list as 'other'."
    )
    without_stock: bool = Field(
        False, description="Dispatch unlinked lines without taking stock for them."
    )
    confirm_unpaid: bool = Field(
        False, description="Dispatch although the order is not paid."
    )


class CorrectionIn(Schema):
    carrier: str = Field(max_length=200)
    tracking_number: str = Field(max_length=200)
    other_carrier: bool = False


class DispatchOut(Schema):
    id: int
    order_id: int
    order_external_id: str
    carrier: str
    carrier_code: str = Field(
        description="The channel's carrier id; '' = not mapped yet."
    )
    tracking_number: str
    line_ids: list[int]
    without_stock: bool
    dispatched_at: datetime
    state: str = Field(
        description="NOT_SENT, PENDING, SENT, ACCEPTED, REFUSED or NEEDS_ACTION."
    )
    attempts: int
    next_attempt_at: datetime
    shipment_id: str
    channel_message: str = Field(
        description="What the channel said, or why the seller must act, in the "
        "language of the request."
    )
    channel_message_code: str = Field(
        description="The message's stable code (e.g. allegro.tracking_accepted); "
        "'' when there is none."
    )


class Refused(Schema):
    detail: str
    errors: dict[str, str]
    confirm: list[str]


def dispatch_out(dispatch: Dispatch) -> DispatchOut:
    return DispatchOut(
        id=dispatch.pk,
        order_id=dispatch.order_id,
        order_external_id=dispatch.order.external_id,
        carrier=dispatch.carrier,
        carrier_code=dispatch.carrier_code,
        tracking_number=dispatch.tracking_number,
        line_ids=sorted(line.pk for line in dispatch.lines.all()),
        without_stock=dispatch.without_stock,
        dispatched_at=dispatch.dispatched_at,
        state=dispatch.state,
        attempts=dispatch.attempts,
        next_attempt_at=dispatch.next_attempt_at,
        shipment_id=dispatch.shipment_id,
        channel_message=str(dispatch.channel_message),
        channel_message_code=dispatch.channel_message.code,
    )


def refused(error: NotDispatchable) -> Status[Refused]:
    return Status(
        422, Refused(detail=str(error), errors=error.errors, confirm=error.confirm)
    )


@router.post(
    "/orders/{int:order_id}/dispatches",
    response={200: DispatchOut, 201: DispatchOut, 422: Refused},
)
def create_dispatch(
    request: HttpRequest, order_id: int, payload: DispatchIn
) -> Status[DispatchOut] | Status[Refused]:
    """Dispatch the order, or the given lines; stock is taken off at once and a
    tracking number waits in the outbox for the channel (201). A tracking number
    for lines that left without one (e.g. dispatched in bulk by carrier only) is
    added to that dispatch instead (200)."""
    order = get_object_or_404(Order, pk=order_id)
    try:
        lines = find_lines(order, payload.lines) if payload.lines is not None else None
        done, added = dispatch_or_add_tracking(
            order,
            DispatchRequest(
                carrier=payload.carrier,
                tracking_number=payload.tracking_number,
                line_ids=lines,
                other_carrier=payload.other_carrier,
                without_stock=payload.without_stock,
                confirm_unpaid=payload.confirm_unpaid,
                actor=actor.of_request(request),
            ),
        )
    except NotDispatchable as exc:
        return refused(exc)
    return Status(200 if added else 201, dispatch_out(done))


@router.get("/orders/{int:order_id}/dispatches", response=list[DispatchOut])
def list_dispatches(request: HttpRequest, order_id: int) -> list[DispatchOut]:
    order = get_object_or_404(Order, pk=order_id)
    return [
        dispatch_out(d)
        for d in order.dispatches.select_related("order").prefetch_related("lines")
    ]


@router.put("/dispatches/{int:dispatch_id}", response={200: DispatchOut, 422: Refused})
def correct(
    request: HttpRequest, dispatch_id: int, payload: CorrectionIn
) -> DispatchOut | Status[Refused]:
    """Correct the carrier or tracking number and send it again (only until the
    channel has accepted it)."""
    dispatch = get_object_or_404(
        Dispatch.objects.select_related("order"), pk=dispatch_id
    )
    try:
        done = correct_dispatch(
            dispatch,
            DispatchRequest(
                carrier=payload.carrier,
                tracking_number=payload.tracking_number,
                other_carrier=payload.other_carrier,
                actor=actor.of_request(request),
            ),
        )
    except NotDispatchable as exc:
        return refused(exc)
    return dispatch_out(done)


@router.get("/dispatches/needing-action", response=list[DispatchOut])
def needs_action(request: HttpRequest) -> list[DispatchOut]:
    """Tracking numbers the channel refused, and dispatched orders the buyer
    cancelled, newest first (at most 500)."""
    return [
        dispatch_out(d) for d in needing_attention().prefetch_related("lines")[:500]
    ]
