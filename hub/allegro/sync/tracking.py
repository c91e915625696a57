"""Submit Tracking Info: push dispatches' tracking numbers to Allegro
(ARCHITECTURE.md §4 "Tracking", api-notes §4).

The Dispatch row is the outbox record, stored before anything is sent. Per due
dispatch of the channel:

1. Claim it with a conditional UPDATE that also moves its next attempt into the
   future (a lease: a crash leaves it to be retried later, never lost).
2. Read the order's shipments first and skip a waybill already there: the one
   our own earlier attempt sent before a crash or timeout ate Allegro's answer,
   or one Allegro put there itself ("Wysyłam z Allegro", api-notes §4.1). This
   is what makes a crash between storing and Allegro's answer give exactly one
   shipment: POST shipments has no idempotency key.
3. POST the shipment; store Allegro's shipment id at once.
4. Optionally set the order's fulfilment status (the channel's option) with the
   checkout form's revision, re-reading it when Allegro says it is stale (409).

Allegro's refusals (waybill invalid for the carrier, reused too often, line not
in the order) are stored on the dispatch and shown; they are not retried until
the seller corrects or resends. Transient errors (5xx, 429, timeouts) leave the
dispatch in the outbox with a growing delay, and stop the pass.

The carrier list (``/order/carriers``) is kept in orders' Carrier table, refreshed
daily, with the names sellers use mapped to Allegro's ids; ``ALLEGRO`` is never
offered (withdrawn on 2026-06-09, api-notes §4.1).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from hub.allegro import schemas, texts
from hub.allegro.client import AllegroClient
from hub.allegro.errors import AllegroError, PermanentError, TransientError
from hub.allegro.models import Channel, SyncCursor
from hub.allegro.sync.order_mapping import lines_sent as _lines_sent
from hub.orders.carriers import OTHER, find_carrier, normalise
from hub.orders.history import history
from hub.orders.models import Carrier, Dispatch, Order, OrderEvent
from hub.text import actor
from hub.text.message import Message

log = logging.getLogger(__name__)

SOURCE = "allegro"
CARRIERS = "carriers"  # SyncCursor stream: when the carrier list was last read
CARRIERS_EVERY = timedelta(days=1)
BATCH = 100  # dispatches per pass
BACKOFF_FIRST = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=1)
STATUS_TRIES = 3  # reads of a checkout form whose revision keeps moving
# api-notes §4.1 (#13267): no longer a carrier id since 2026-06-09; Allegro puts
# "Wysyłam z Allegro" waybills on the order itself.
WITHDRAWN = {"ALLEGRO"}
# The names sellers (and their other systems) use for Allegro's carriers.
ALIASES = {
    "INPOST": ["paczkomat", "paczkomaty", "inpost kurier", "inpost paczkomaty"],
    "DPD": ["dpd polska", "dpd pickup"],
    "DHL": ["dhl parcel", "dhl express", "dhl24", "dhl pop"],
    "POCZTA_POLSKA": ["poczta", "pocztex", "envelo", "pp"],
    "GLS": ["gls poland"],
    "FEDEX": ["fedex poland"],
    "ORLEN": ["orlen paczka", "ruch", "paczka w ruchu"],
    "YUN_EXPRESS": ["yun", "yunexpress"],
}
FULFILLMENT_STATUSES = ("PROCESSING", "READY_FOR_SHIPMENT", "SENT")

Progress = Callable[[str], None]


@dataclass
class TrackingResult:
    skipped: str = ""
    carriers: int = 0  # carriers read from Allegro this pass (0 = not read)
    accepted: int = 0
    already_there: int = 0
    refused: int = 0
    needs_action: int = 0
    statuses: int = 0
    reread: int = 0  # orders read again after their shipment (lines sent)
    waiting: int = 0  # in the outbox but not due or not allowed to go yet

    def summary(self) -> str:
        if self.skipped:
            return self.skipped
        text = _(
            "tracking: %(accepted)d accepted (%(there)d already on the order), "
            "%(refused)d refused, %(action)d need action, %(statuses)d statuses set"
        ) % {
            "accepted": self.accepted,
            "there": self.already_there,
            "refused": self.refused,
            "action": self.needs_action,
            "statuses": self.statuses,
        }
        if self.carriers:
            text += "; " + _("%(n)d carriers read") % {"n": self.carriers}
        return text


def outbox(channel_id: int) -> QuerySet[Dispatch]:
    return Dispatch.objects.filter(
        order__source=SOURCE,
        order__account=str(channel_id),
        state__in=Dispatch.OUTBOX_STATES,
    )


def pending(channel_id: int, now: datetime | None = None) -> bool:
    """Whether the channel has a tracking number due to be pushed now."""
    now = now or timezone.now()
    channel = Channel.objects.filter(pk=channel_id).first()
    if channel is None or not (channel.enabled and channel.submit_tracking):
        return False
    return outbox(channel_id).filter(next_attempt_at__lte=now).exists()


def sync_tracking(
    channel_id: int,
    client: AllegroClient,
    *,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> TrackingResult:
    """One pass: refresh the carrier list if a day old, push the due dispatches."""
    now = now or timezone.now()
    say = progress or (lambda _text: None)
    channel = Channel.objects.get(pk=channel_id)
    result = TrackingResult()
    waiting = outbox(channel_id).count()
    if not channel.enabled:
        result.skipped = ngettext(
            "Channel %(name)s is disabled; %(n)d tracking number waits.",
            "Channel %(name)s is disabled; %(n)d tracking numbers wait.",
            waiting,
        ) % {"name": channel.name, "n": waiting}
        return result
    result.carriers = refresh_carriers(channel, client, now)
    if not channel.submit_tracking:
        result.skipped = ngettext(
            "Submit Tracking Info is off for %(name)s; %(n)d tracking number "
            "waits and goes when it is on.",
            "Submit Tracking Info is off for %(name)s; %(n)d tracking numbers "
            "wait and go when it is on.",
            waiting,
        ) % {"name": channel.name, "n": waiting}
        return result
    due = list(
        outbox(channel_id)
        .filter(next_attempt_at__lte=now)
        .select_related("order")
        .order_by("next_attempt_at", "id")[:BATCH]
    )
    for dispatch in due:
        # Before the claim: a shutdown raised here leaves the dispatch as it was.
        say(
            _("Order %(order)s: sending %(number)s")
            % {"order": dispatch.order.external_id, "number": dispatch.tracking_number}
        )
        if not _claim(dispatch, now):
            continue  # another worker has it
        _push(channel, client, dispatch, result)
    result.waiting = outbox(channel_id).count()
    return result


# ---------------------------------------------------------------- carriers


def carriers_due(channel: Channel, now: datetime) -> bool:
    cursor = SyncCursor.objects.filter(channel=channel, stream=CARRIERS).first()
    if cursor is None or cursor.last_success_at is None:
        return True
    return cursor.last_success_at <= now - CARRIERS_EVERY


def refresh_carriers(channel: Channel, client: AllegroClient, now: datetime) -> int:
    """Read /order/carriers once a day into orders' Carrier table; returns how
    many were stored (0 = not due, or failed with a list still in place)."""
    if not carriers_due(channel, now):
        return 0
    account = str(channel.pk)
    try:
        carriers = client.carriers()
    except AllegroError as exc:
        SyncCursor.objects.update_or_create(
            channel=channel,
            stream=CARRIERS,
            defaults={"last_error": exc.user_message(), "last_error_at": now},
        )
        if not Carrier.objects.filter(source=SOURCE, account=account).exists():
            raise
        log.warning("Carrier list of %s not refreshed: %s", channel.name, exc)
        return 0
    rows = [
        Carrier(
            source=SOURCE,
            account=account,
            code=carrier.id,
            name=(carrier.name or carrier.id)[:100],
            aliases="|".join(normalise(alias) for alias in ALIASES.get(carrier.id, [])),
            position=position,
        )
        for position, carrier in enumerate(carriers)
        if carrier.id not in WITHDRAWN
    ]
    with transaction.atomic():
        Carrier.objects.filter(source=SOURCE, account=account).exclude(
            code__in=[row.code for row in rows]
        ).delete()
        Carrier.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["source", "account", "code"],
            update_fields=["name", "aliases", "position"],
        )
        SyncCursor.objects.update_or_create(
            channel=channel,
            stream=CARRIERS,
            defaults={
                "last_success_at": now,
                "last_error": Message(),
                "last_error_at": None,
            },
        )
    return len(rows)


# ------------------------------------------------------------------ pushing


def backoff(attempt: int) -> timedelta:
    """Delay before attempt ``attempt + 1``: 30 s, 1 min, 2 min, … up to 1 h."""
    return min(BACKOFF_FIRST * 2 ** max(attempt - 1, 0), BACKOFF_MAX)


def _claim(dispatch: Dispatch, now: datetime) -> bool:
    attempt = dispatch.attempts + 1
    claimed = Dispatch.objects.filter(
        pk=dispatch.pk,
        state__in=Dispatch.OUTBOX_STATES,
        next_attempt_at__lte=now,
        attempts=dispatch.attempts,
    ).update(
        state=Dispatch.State.SENT,
        attempts=F("attempts") + 1,
        last_attempt_at=now,
        next_attempt_at=now + backoff(attempt),
        updated_at=now,
    )
    if claimed:
        dispatch.state = Dispatch.State.SENT
        dispatch.attempts = attempt
        dispatch.next_attempt_at = now + backoff(attempt)
    return bool(claimed)


class _NeedsAction(Exception):
    """The hub cannot send it as it is; the message says what the seller must do."""

    def __init__(self, message: Message) -> None:
        super().__init__(message.code)
        self.message = message


def _push(
    channel: Channel,
    client: AllegroClient,
    dispatch: Dispatch,
    result: TrackingResult,
) -> None:
    order = dispatch.order
    try:
        if dispatch.shipment_id:  # Allegro accepted it on an earlier attempt
            dispatch.channel_message = Message(texts.TRACKING_ALREADY_THERE)
        else:
            _send_shipment(channel, client, dispatch, result)
        left_alone = False
        form, status = None, ""
        if channel.tracking_status and order.status == Order.Status.DISPATCHED:
            form, left_alone = _set_status(client, order, channel.tracking_status)
            result.statuses += int(not left_alone)
            status = "" if left_alone else channel.tracking_status
        _reread_order(client, order, form, status, result)
    except _NeedsAction as exc:
        _finish(dispatch, Dispatch.State.NEEDS_ACTION, exc.message)
        result.needs_action += 1
        return
    except TransientError as exc:
        # Still in the outbox: the claim already set the next attempt.
        Dispatch.objects.filter(pk=dispatch.pk, state=Dispatch.State.SENT).update(
            channel_message=exc.user_message(), updated_at=timezone.now()
        )
        raise
    except PermanentError as exc:
        if dispatch.shipment_id:  # the number is there; the status was refused
            message = Message(texts.TRACKING_STATUS_REFUSED, why=exc.user_message())
            note = message
        else:
            message = exc.user_message()
            # Allegro's own words once: "Allegro refused tracking number X: …".
            note = Message(
                texts.TRACKING_REFUSED,
                number=dispatch.tracking_number,
                why=exc.details_text() or exc.message,
            )
        _finish(dispatch, Dispatch.State.REFUSED, message)
        history(order, OrderEvent.Kind.TRACKING, note, actor=actor.ALLEGRO)
        result.refused += 1
        return
    message = dispatch.channel_message
    if left_alone:
        message = Message(texts.TRACKING_STATUS_LEFT_ALONE, text=message)
    _finish(dispatch, Dispatch.State.ACCEPTED, message)
    result.accepted += 1


def _reread_order(
    client: AllegroClient,
    order: Order,
    form: schemas.CheckoutForm | None,
    status: str,
    result: TrackingResult,
) -> None:
    """What Allegro now says about the order's shipments (lines sent: NONE /
    SOME / ALL) and its fulfilment status, from the form as it is after the
    shipment: the one the status check read (``status``: what it set), else one
    GET. Allegro's word, not
    ours: a shipment may cover fewer lines than the hub thinks. A failed read
    leaves the order as it was: the shipment is accepted all the same."""
    if form is None:
        result.reread += 1
        try:
            form = client.get_checkout_form(order.external_id)
        except AllegroError as exc:
            log.warning("Order %s not read again: %s", order.external_id, exc)
            return
    fields = {"lines_sent": _lines_sent(form.fulfillment)}
    status = status or (form.fulfillment.status if form.fulfillment else "") or ""
    if status:
        fields["fulfillment_status"] = status
    Order.objects.filter(pk=order.pk).update(**fields)
    for name, value in fields.items():
        setattr(order, name, value)


def _finish(dispatch: Dispatch, state: str, message: Message) -> None:
    # Only from SENT: the seller may have acted meanwhile (e.g. the buyer's
    # cancellation flagged it); the shipment id is stored regardless.
    Dispatch.objects.filter(pk=dispatch.pk, state=Dispatch.State.SENT).update(
        state=state, channel_message=message, updated_at=timezone.now()
    )


def _send_shipment(
    channel: Channel,
    client: AllegroClient,
    dispatch: Dispatch,
    result: TrackingResult,
) -> None:
    order = dispatch.order
    code = dispatch.carrier_code or _map_carrier(channel, dispatch)
    waybill = dispatch.tracking_number
    there = _shipment_with(client.list_shipments(order.external_id), waybill)
    if there is not None:
        if there.carrier_id in WITHDRAWN:
            message = Message(texts.TRACKING_BY_ALLEGRO)
        else:
            message = Message(texts.TRACKING_ALREADY_THERE)
        _accepted(dispatch, there, message)
        result.already_there += 1
        return
    all_lines = order.lines.count()
    line_ids = list(dispatch.lines.order_by("id").values_list("external_id", flat=True))
    shipment = client.create_shipment(
        order.external_id,
        carrier_id=code,
        waybill=waybill,
        carrier_name=dispatch.carrier[:30] if code == OTHER else None,
        line_item_ids=line_ids if len(line_ids) < all_lines else None,
    )
    _accepted(dispatch, shipment, Message(texts.TRACKING_ACCEPTED))


def _map_carrier(channel: Channel, dispatch: Dispatch) -> str:
    """The Allegro carrier id of a dispatch stored before the list was known."""
    known = list(Carrier.objects.filter(source=SOURCE, account=str(channel.pk)))
    found = find_carrier(known, dispatch.carrier)
    if found is not None and found.code != OTHER:
        code = found.code
    elif dispatch.other_carrier and len(dispatch.carrier) <= 30:
        code = OTHER
    elif not known:
        raise TransientError("the carrier list is not known yet")
    else:
        raise _NeedsAction(
            Message(texts.TRACKING_UNKNOWN_CARRIER, name=dispatch.carrier)
        )
    Dispatch.objects.filter(pk=dispatch.pk).update(carrier_code=code)
    dispatch.carrier_code = code
    return code


def _shipment_with(
    shipments: list[schemas.Shipment], waybill: str
) -> schemas.Shipment | None:
    key = waybill.strip().upper()
    for shipment in shipments:
        if shipment.waybill.strip().upper() == key:
            return shipment
    return None


def _accepted(dispatch: Dispatch, shipment: schemas.Shipment, message: Message) -> None:
    with transaction.atomic():
        Dispatch.objects.filter(pk=dispatch.pk).update(
            shipment_id=shipment.id[:64], channel_message=message
        )
        history(
            dispatch.order,
            OrderEvent.Kind.TRACKING,
            texts.TRACKING_ON_ORDER,
            actor=actor.ALLEGRO,
            number=dispatch.tracking_number,
        )
    dispatch.shipment_id = shipment.id
    dispatch.channel_message = message


def _set_status(
    client: AllegroClient, order: Order, wanted: str
) -> tuple[schemas.CheckoutForm, bool]:
    """Set the order's fulfilment status with the revision check. Returns the
    form as read (with the status as it is now) and whether the status was left
    alone because the buyer cancelled the order."""
    for _try in range(STATUS_TRIES):
        form = client.get_checkout_form(order.external_id)
        if form.status == "CANCELLED":
            return form, True
        current = form.fulfillment.status if form.fulfillment else None
        if current == wanted:
            return form, False  # e.g. Allegro switched it to SENT on the number
        try:
            client.set_fulfillment_status(
                order.external_id, wanted, revision=form.revision
            )
        except PermanentError as exc:
            if exc.status != 409:
                raise
            # The order changed between our read and the write: read it again.
            log.info("Order %s changed meanwhile; re-reading", order.external_id)
            continue
        return form, False
    raise TransientError("the order kept changing on Allegro (revision)")
