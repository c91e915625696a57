"""Dispatching an order, or some of its lines: the guards, the stock, the record.

Every entry point (order page, bulk, CSV, REST API, CLI) calls dispatch_order.
The Dispatch it stores is also the outbox record of the tracking number: the
channel's tracking flow pushes it and records what the channel said.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from hub.catalog import stock
from hub.orders import texts
from hub.orders.carriers import CarrierError, check_tracking_number, choose_carrier
from hub.orders.history import history
from hub.orders.models import Dispatch, Order, OrderEvent, OrderLine
from hub.orders.stock import order_reason
from hub.text.message import Message

CASH_ON_DELIVERY = "CASH_ON_DELIVERY"


@dataclass
class DispatchRequest:
    carrier: str = ""
    tracking_number: str = ""
    # The order's lines to dispatch (OrderLine ids); None = every line not yet
    # dispatched.
    line_ids: Sequence[int] | None = None
    # The seller allows an unknown carrier to go as "another carrier" by name.
    other_carrier: bool = False
    # The seller dispatches unlinked lines knowingly, taking no stock for them.
    without_stock: bool = False
    # The seller confirms dispatching an unpaid, not cash-on-delivery order.
    confirm_unpaid: bool = False
    # Who asks (hub.text.actor), for the order's history.
    actor: str = ""


class NotDispatchable(ValueError):
    """The dispatch was refused and nothing changed.

    ``errors`` maps an input ("carrier", "tracking_number", "lines", or "" for
    the order as a whole) to the message for the seller. ``confirm`` names what
    the seller may confirm to go ahead anyway: "unpaid" and/or "without_stock".
    """

    def __init__(self, errors: dict[str, str], confirm: Sequence[str] = ()) -> None:
        super().__init__(" ".join(errors.values()))
        self.errors = errors
        self.confirm = list(confirm)


@dataclass
class Checked:
    carrier: str = ""
    carrier_code: str = ""
    tracking_number: str = ""
    lines: list[OrderLine] = field(default_factory=list)


def is_cash_on_delivery(order: Order) -> bool:
    return str((order.payment or {}).get("type") or "") == CASH_ON_DELIVERY


def check_input(order: Order, request: DispatchRequest) -> Checked:
    """The carrier and tracking number as they will be stored, or NotDispatchable
    with an error per field (what was typed is left to the caller to show)."""
    errors: dict[str, str] = {}
    checked = Checked()
    try:
        checked.tracking_number = check_tracking_number(request.tracking_number)
    except CarrierError as exc:
        errors[exc.field] = exc.message
    carrier_text = " ".join(request.carrier.split())
    if checked.tracking_number or carrier_text:
        if len(carrier_text) > 100:
            errors["carrier"] = _("A carrier's name has at most 100 characters.")
        elif checked.tracking_number or "tracking_number" in errors:
            try:
                choice = choose_carrier(
                    order.source,
                    order.account,
                    carrier_text,
                    other_allowed=request.other_carrier,
                )
            except CarrierError as exc:
                errors[exc.field] = exc.message
            else:
                checked.carrier = choice.name
                checked.carrier_code = choice.code
        else:
            checked.carrier = carrier_text  # a carrier without a number: kept as is
    if errors:
        raise NotDispatchable(errors)
    return checked


def _chosen_lines(order: Order, line_ids: Sequence[int] | None) -> list[OrderLine]:
    lines = list(order.lines.order_by("id"))
    waiting = [line for line in lines if line.dispatch_id is None]
    if line_ids is None:
        return waiting
    wanted = set(line_ids)
    if not wanted:
        raise NotDispatchable({"lines": _("Choose at least one line to dispatch.")})
    ours = {line.pk for line in lines}
    if wanted - ours:
        raise NotDispatchable(
            {"lines": _("Some of these lines are not in this order.")}
        )
    chosen = [line for line in waiting if line.pk in wanted]
    if len(chosen) != len(wanted):
        raise NotDispatchable(
            {"lines": _("Some of these lines have been dispatched already.")}
        )
    return chosen


def _guards(order: Order, lines: list[OrderLine], request: DispatchRequest) -> None:
    if order.status == Order.Status.CANCELLED:
        raise NotDispatchable(
            {"": _("Order %(id)s was cancelled, so it cannot be dispatched.")
             % {"id": order.external_id}}
        )  # fmt: skip
    if order.status != Order.Status.OPEN or not lines:
        raise NotDispatchable(
            {"": _("Order %(id)s has been dispatched already.")
             % {"id": order.external_id}}
        )  # fmt: skip
    errors: dict[str, str] = {}
    confirm: list[str] = []
    unlinked = [line for line in lines if line.stock_item_id is None]
    if unlinked and not request.without_stock:
        errors["without_stock"] = ngettext(
            "%(n)d line is not linked to a stock item, so no stock would be "
            "taken for it. Link it first, or dispatch it without stock.",
            "%(n)d lines are not linked to a stock item, so no stock would be "
            "taken for them. Link them first, or dispatch them without stock.",
            len(unlinked),
        ) % {"n": len(unlinked)}
        confirm.append("without_stock")
    if not order.paid and not is_cash_on_delivery(order) and not request.confirm_unpaid:
        errors["confirm_unpaid"] = _(
            "Order %(id)s is not paid (and not cash on delivery). Confirm to "
            "dispatch it anyway."
        ) % {"id": order.external_id}
        confirm.append("unpaid")
    if errors:
        raise NotDispatchable(errors, confirm)


def dispatch_order(order: Order, request: DispatchRequest | None = None) -> Dispatch:
    """dispatch_or_add_tracking, for callers that need only the dispatch."""
    return dispatch_or_add_tracking(order, request)[0]


def dispatch_or_add_tracking(
    order: Order, request: DispatchRequest | None = None
) -> tuple[Dispatch, bool]:
    """Dispatch the chosen lines (default: all not yet dispatched) of an order.

    Their allocations become real (on_hand goes down); when no line is left the
    order is DISPATCHED. Lines move with a conditional UPDATE under a lock on
    the order, so dispatching twice (a double click, two operators) consumes
    stock once; a refusal changes nothing.

    A tracking number for lines that already left without one (a bulk dispatch
    by carrier only) goes onto that dispatch instead: returns (the dispatch,
    True) then, and (the new dispatch, False) otherwise.
    """
    request = request or DispatchRequest()
    checked = check_input(order, request)
    now = timezone.now()
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        earlier = (
            _untracked_dispatch(locked, request.line_ids)
            if checked.tracking_number
            else None
        )
        if earlier is not None:
            _set_tracking(earlier, checked, request)
            order.status = locked.status
            return earlier, True
        lines = _chosen_lines(locked, request.line_ids)
        _guards(locked, lines, request)
        unlinked = [line for line in lines if line.stock_item_id is None]
        dispatch = Dispatch.objects.create(
            order=locked,
            carrier=checked.carrier,
            carrier_code=checked.carrier_code,
            other_carrier=request.other_carrier,
            tracking_number=checked.tracking_number,
            without_stock=bool(unlinked),
            confirmed_unpaid=not locked.paid and not is_cash_on_delivery(locked),
            dispatched_at=now,
            # Every tracking number goes to the outbox, whatever the channel's
            # settings now: none is ever silently dropped.
            state=(
                Dispatch.State.PENDING
                if checked.tracking_number
                else Dispatch.State.NOT_SENT
            ),
            next_attempt_at=now,
        )
        ids = [line.pk for line in lines]
        moved = OrderLine.objects.filter(pk__in=ids, dispatch__isnull=True).update(
            dispatch=dispatch
        )
        if moved != len(ids):  # pragma: no cover - the order lock prevents it
            raise NotDispatchable({"lines": _("Some lines were dispatched meanwhile.")})
        for line in lines:
            if line.stock_item_id is not None:
                stock.consume(
                    line.allocation_reference, order_reason(locked), request.actor
                )
        left = OrderLine.objects.filter(order=locked, dispatch__isnull=True).exists()
        if not left:
            locked.status = Order.Status.DISPATCHED
        locked.save(update_fields=["status", "updated_at"])
        order.status = locked.status
        _record(locked, dispatch, lines, unlinked, partial=left, actor=request.actor)
    return dispatch, False


def _untracked_dispatch(
    order: Order, line_ids: Sequence[int] | None
) -> Dispatch | None:
    """The earlier dispatch without a tracking number that these lines (default:
    the whole order) left in, when that is what they name; None when they are
    (partly) still to dispatch. NotDispatchable when it is ambiguous."""
    if order.status == Order.Status.CANCELLED:
        return None  # refused by the guards
    lines = list(order.lines.order_by("id"))
    if line_ids is None:
        if any(line.dispatch_id is None for line in lines):
            return None
        untracked = list(
            Dispatch.objects.filter(order=order, tracking_number="").order_by("id")
        )
        if len(untracked) > 1:
            raise NotDispatchable(
                {"lines": _("Order %(id)s left in several parcels without a "
                            "tracking number; name the lines of this one.")
                 % {"id": order.external_id}}
            )  # fmt: skip
        return untracked[0] if untracked else None
    wanted = set(line_ids)
    named = [line for line in lines if line.pk in wanted]
    if len(named) != len(wanted) or any(line.dispatch_id is None for line in named):
        return None
    left_in = {line.dispatch_id for line in named if line.dispatch_id is not None}
    if len(left_in) != 1:
        return None
    dispatch = Dispatch.objects.get(pk=left_in.pop())
    if dispatch.tracking_number:
        return None
    together = [line for line in lines if line.dispatch_id == dispatch.pk]
    if len(together) != len(named):
        raise NotDispatchable(
            {"lines": _("These lines left in one parcel with others (%(lines)s); "
                        "name all of them to add its tracking number.")
             % {"lines": ", ".join(f"{line.quantity}× {line.title}"
                                   for line in together)}}
        )  # fmt: skip
    return dispatch


def _record(
    order: Order,
    dispatch: Dispatch,
    lines: list[OrderLine],
    unlinked: list[OrderLine],
    *,
    partial: bool,
    actor: str,
) -> None:
    """The order's history: what left, with which number, and what the seller
    knowingly allowed (stored as codes, shown in the reader's language)."""
    kind = OrderEvent.Kind.DISPATCHED
    params: dict[str, Any] = {}
    if dispatch.tracking_number:
        params = {
            "carrier": dispatch.carrier or "?",
            "number": dispatch.tracking_number,
        }
        codes = (texts.DISPATCHED_TRACKED, texts.DISPATCHED_LINES_TRACKED)
    elif dispatch.carrier:
        params = {"carrier": dispatch.carrier}
        codes = (texts.DISPATCHED_WITH, texts.DISPATCHED_LINES_WITH)
    else:
        codes = (texts.DISPATCHED, texts.DISPATCHED_LINES)
    if partial:
        params["lines"] = ", ".join(f"{line.quantity}× {line.title}" for line in lines)
    history(order, kind, codes[partial], actor=actor, **params)
    if unlinked:
        history(
            order,
            kind,
            texts.DISPATCHED_WITHOUT_STOCK,
            actor=actor,
            count=len(unlinked),
        )
    if dispatch.confirmed_unpaid:
        history(order, kind, texts.DISPATCHED_UNPAID, actor=actor)


# ------------------------------------------------------------ after dispatch


def needing_attention() -> QuerySet[Dispatch]:
    """Dispatches the seller has to look at: refused, or needing action."""
    return (
        Dispatch.objects.filter(state__in=Dispatch.ATTENTION_STATES)
        .select_related("order")
        .order_by("-updated_at", "-id")
    )


def cancelled_after_dispatch(order_ids: Sequence[int]) -> int:
    """The buyer cancelled orders that (partly) left already: every dispatch of
    them needs the seller's action (stop the parcel, refund); a tracking number
    not yet sent is held back. One UPDATE; returns how many were flagged."""
    if not order_ids:
        return 0
    message = Message(texts.CANCELLED_AFTER_DISPATCH_ACTION)
    return (
        Dispatch.objects.filter(order_id__in=order_ids)
        .exclude(state=Dispatch.State.NEEDS_ACTION)
        .update(
            state=Dispatch.State.NEEDS_ACTION,
            channel_message=message,
            updated_at=timezone.now(),
        )
    )


def correct_dispatch(dispatch: Dispatch, request: DispatchRequest) -> Dispatch:
    """The seller corrected the carrier and/or number, or added the number a
    dispatch left without: send it (again).

    Only before the channel accepted it (a shipment cannot be taken back)."""
    order = dispatch.order
    checked = check_input(order, request)
    if not checked.tracking_number:
        raise NotDispatchable(
            {"tracking_number": _("Enter the tracking number to send.")}
        )
    with transaction.atomic():
        current = Dispatch.objects.select_for_update().get(pk=dispatch.pk)
        if not current.can_be_corrected:
            raise NotDispatchable(
                {"": _("The channel has this tracking number already; it cannot be "
                       "changed any more.")}
            )  # fmt: skip
        _refuse_if_cancelled(current.order)
        _set_tracking(current, checked, request)
    return current


def _set_tracking(
    current: Dispatch, checked: Checked, request: DispatchRequest
) -> None:
    """Store the carrier and number on the (locked) dispatch and queue it."""
    old = (current.carrier, current.tracking_number)
    current.carrier = checked.carrier
    current.carrier_code = checked.carrier_code
    current.other_carrier = request.other_carrier
    current.tracking_number = checked.tracking_number
    _requeue(current)
    if old == (current.carrier, current.tracking_number):
        return
    history(
        current.order,
        OrderEvent.Kind.TRACKING,
        texts.TRACKING_CORRECTED if old[1] else texts.TRACKING_ADDED,
        actor=request.actor,
        carrier=current.carrier,
        number=current.tracking_number,
    )


def is_cancelled(order: Order) -> bool:
    """Whether the buyer cancelled the order, also after it was dispatched (it
    stays DISPATCHED then: its stock left; its history says so)."""
    return (
        order.status == Order.Status.CANCELLED
        or order.events.filter(kind=OrderEvent.Kind.CANCELLED).exists()
    )


def _refuse_if_cancelled(order: Order) -> None:
    if is_cancelled(order):
        raise NotDispatchable(
            {"": _("The buyer cancelled order %(id)s, so its tracking number is "
                   "not sent to the channel. Stop the parcel or arrange its "
                   "return, then mark this handled.") % {"id": order.external_id}}
        )  # fmt: skip


def resend_dispatch(dispatch: Dispatch, actor: str = "") -> Dispatch:
    """Send the tracking number again as it is (e.g. after a cancellation the
    seller decided to ignore, or after fixing the carrier list)."""
    with transaction.atomic():
        current = Dispatch.objects.select_for_update().get(pk=dispatch.pk)
        if not current.tracking_number:
            raise NotDispatchable({"": _("This dispatch has no tracking number.")})
        if current.state in Dispatch.OUTBOX_STATES:
            return current
        _refuse_if_cancelled(current.order)
        _requeue(current)
        history(
            current.order,
            OrderEvent.Kind.TRACKING,
            texts.TRACKING_RESENT,
            actor=actor,
            number=current.tracking_number,
        )
    return current


def mark_handled(dispatch: Dispatch, actor: str = "") -> Dispatch:
    """The seller dealt with it outside the hub: nothing more to send."""
    with transaction.atomic():
        current = Dispatch.objects.select_for_update().get(pk=dispatch.pk)
        if current.state not in Dispatch.ATTENTION_STATES:
            return current
        current.state = (
            Dispatch.State.ACCEPTED if current.shipment_id else Dispatch.State.NOT_SENT
        )
        current.channel_message = Message(texts.MARKED_HANDLED)
        current.save()
        history(
            current.order,
            OrderEvent.Kind.TRACKING,
            texts.DISPATCH_HANDLED,
            actor=actor,
            number=current.tracking_number or "—",
        )
    return current


def _requeue(dispatch: Dispatch) -> None:
    dispatch.state = Dispatch.State.PENDING
    dispatch.attempts = 0
    dispatch.next_attempt_at = timezone.now()
    dispatch.channel_message = Message()
    dispatch.save()


# ------------------------------------------------------------ naming lines


def find_lines(order: Order, refs: Sequence[str]) -> list[int]:
    """The ids of the order's lines named by refs: a line's channel id, its offer
    id, its SKU (external id) or its hub id. NotDispatchable if one names no line
    or several."""
    lines = list(order.lines.order_by("id"))
    found: list[int] = []
    problems: list[str] = []
    for ref in refs:
        key = ref.strip().lower()
        if not key:
            continue
        matches = [
            line.pk
            for line in lines
            if key
            in {
                line.external_id.lower(),
                line.offer_id.lower(),
                line.sku.lower(),
                str(line.pk),
            }
        ]
        if len(set(matches)) == 1:
            found.append(matches[0])
        elif matches:
            problems.append(
                _("“%(ref)s” names several lines; use the line id.") % {"ref": ref}
            )
        else:
            problems.append(_("“%(ref)s” is not a line of this order.") % {"ref": ref})
    if problems:
        raise NotDispatchable({"lines": " ".join(problems)})
    if not found:
        raise NotDispatchable({"lines": _("Choose at least one line to dispatch.")})
    return list(dict.fromkeys(found))


def find_order(reference: str) -> Order:
    """An order by its channel id (e.g. the Allegro checkout form id) or hub id."""
    reference = reference.strip()
    matches = list(Order.objects.filter(external_id=reference)[:2])
    if not matches and reference.isdigit():
        matches = list(Order.objects.filter(pk=int(reference)))
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise NotDispatchable(
            {"order": _("Several channels have an order %(id)s; use the hub's "
                        "order number.") % {"id": reference}}
        )  # fmt: skip
    raise NotDispatchable({"order": _("No order %(id)s.") % {"id": reference}})
