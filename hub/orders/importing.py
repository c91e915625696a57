"""Save orders a channel downloaded: upsert, link lines, allocate, record history.

Channel-agnostic: a channel maps its own data to IncomingOrder and passes its
listing links (offer id → stock item id) in. Call save_orders inside the
channel's transaction, together with its cursor move.

Idempotent: the order is found by its unique (source, account, external_id) and
lines by (order, external_id); saving the same data twice changes nothing and
records no history.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction

from hub.catalog import stock
from hub.catalog.models import Location
from hub.orders import texts
from hub.orders.dispatching import cancelled_after_dispatch
from hub.orders.history import history
from hub.orders.linking import Catalog, LineKey
from hub.orders.models import Order, OrderEvent, OrderLine
from hub.orders.stock import allocate_line, order_reason, release_order
from hub.text.message import Message, labels, money, status

# Fields whose change is worth a line in the order's history (field → label code).
WATCHED_FIELDS = texts.FIELD_LABELS


QUIET_FIELDS = {"marketplace", "delivery_method_id", "buyer_id", "buyer_guest",
                "lines_sent"}  # fmt: skip


@dataclass(frozen=True)
class IncomingLine:
    external_id: str
    offer_id: str
    title: str
    sku: str
    quantity: int
    unit_price: Decimal
    currency: str
    original_unit_price: Decimal | None = None
    bought_at: datetime | None = None


@dataclass(frozen=True)
class IncomingOrder:
    external_id: str
    cancelled: bool
    fields: dict[str, Any]  # Order field → value, as the channel knows it now
    lines: list[IncomingLine]
    # What made us read it (e.g. the channel's event ids), for the history.
    source_event: str = ""
    occurred_at: datetime | None = None


@dataclass
class SaveCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    cancelled: int = 0
    unlinked_lines: int = 0
    created_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Account:
    """Where the orders come from and how their lines are linked and allocated."""

    source: str
    account: str
    location: Location
    listing_links: Mapping[str, int]  # offer id → stock item id
    link_by_title: bool


def save_orders(account: Account, incoming: list[IncomingOrder]) -> SaveCounts:
    counts = SaveCounts()
    if not incoming:
        return counts
    catalog = Catalog(
        (
            LineKey(account.listing_links.get(line.offer_id), line.sku, line.title)
            for order in incoming
            for line in order.lines
        ),
        account.link_by_title,
    )
    # One fixed order for every lock and insert (by external id), so two passes
    # saving overlapping orders wait for each other instead of deadlocking.
    incoming = sorted(incoming, key=lambda order: order.external_id)
    with transaction.atomic():
        existing = {
            order.external_id: order
            for order in Order.objects.select_for_update()
            .filter(
                source=account.source,
                account=account.account,
                external_id__in=[order.external_id for order in incoming],
            )
            .order_by("external_id")
            .prefetch_related("lines")
        }
        for data in incoming:
            order = existing.get(data.external_id)
            if order is None:
                order = _create_order(account, data)
                if order is not None:
                    _fill_new_order(account, catalog, order, data, counts)
                    continue
                # Created meanwhile (by another process, or earlier in this list):
                # the unique constraint said so; update it instead.
                order = Order.objects.select_for_update().get(
                    source=account.source,
                    account=account.account,
                    external_id=data.external_id,
                )
            _update_order(account, catalog, order, data, counts)
    return counts


def _create_order(account: Account, data: IncomingOrder) -> Order | None:
    status = Order.Status.CANCELLED if data.cancelled else Order.Status.OPEN
    try:
        with transaction.atomic():
            return Order.objects.create(
                source=account.source,
                account=account.account,
                external_id=data.external_id,
                status=status,
                location=account.location,
                **data.fields,
            )
    except IntegrityError:
        return None


def _fill_new_order(
    account: Account,
    catalog: Catalog,
    order: Order,
    data: IncomingOrder,
    counts: SaveCounts,
) -> None:
    counts.created += 1
    counts.created_ids.append(order.pk)
    lines, _changed = _save_lines(account, catalog, order, data, {})
    if order.status == Order.Status.OPEN:
        for line in lines:
            if line.stock_item is not None:
                # A new line holds no allocation yet: no need to look for one.
                stock.allocate(
                    line.stock_item, account.location, line.quantity,
                    line.allocation_reference, order_reason(order), account.source,
                )  # fmt: skip
    unlinked = _store_unlinked_flag(order, lines)
    counts.unlinked_lines += unlinked
    counts.cancelled += int(order.status == Order.Status.CANCELLED)
    params = {
        "status": status(order.channel_status),
        "lines": len(lines),
        "total": money(order.total, order.currency),
    }
    message = Message(texts.IMPORTED, **params)
    if unlinked:
        message = Message(texts.IMPORTED_UNLINKED, unlinked=unlinked, **params)
    _history(account, order, data, OrderEvent.Kind.IMPORTED, message)


def _update_order(
    account: Account,
    catalog: Catalog,
    order: Order,
    data: IncomingOrder,
    counts: SaveCounts,
) -> None:
    incoming_at = data.fields.get("channel_updated_at")
    if (
        incoming_at
        and order.channel_updated_at
        and incoming_at < order.channel_updated_at
    ):
        # An older read than the one we hold (two overlapping reads committed out
        # of order): never let it overwrite newer data.
        counts.unchanged += 1
        return
    notes = _changes(order, data)
    newly_cancelled = data.cancelled and (
        data.fields.get("channel_status", order.channel_status) != order.channel_status
    )
    for name, value in data.fields.items():
        setattr(order, name, value)
    old_status = order.status
    if order.status != Order.Status.DISPATCHED:
        # The channel's form is the truth; a dispatched order stays dispatched
        # (its stock has already left).
        order.status = Order.Status.CANCELLED if data.cancelled else Order.Status.OPEN
    old_lines = {line.external_id: line for line in order.lines.all()}
    lines, lines_changed = _save_lines(account, catalog, order, data, old_lines)
    if not notes and old_status == order.status and not lines_changed:
        # Nothing the seller sees changed; keep the revision current, so a repeat
        # of the event that announced it costs no read.
        Order.objects.filter(pk=order.pk).update(
            revision=order.revision, channel_updated_at=order.channel_updated_at
        )
        counts.unchanged += 1
        return
    order.save()
    if order.status == Order.Status.CANCELLED:
        release_order(order)
    if newly_cancelled:
        # Stock already left for the dispatched lines: the seller must act.
        cancelled_after_dispatch(order)
    _allocate(order, lines)
    counts.unlinked_lines += _store_unlinked_flag(order, lines)
    counts.updated += 1
    if old_status != order.status and order.status == Order.Status.CANCELLED:
        counts.cancelled += 1
        cancelled = Message(texts.CANCELLED)
        _history(account, order, data, OrderEvent.Kind.CANCELLED, cancelled)
    for kind, message in notes:
        _history(account, order, data, kind, message)
    if lines_changed:
        changed = Message(texts.LINES_CHANGED)
        _history(account, order, data, OrderEvent.Kind.CHANGED, changed)


def _changes(order: Order, data: IncomingOrder) -> list[tuple[str, Message]]:
    notes: list[tuple[str, Message]] = []
    new_status = data.fields.get("channel_status", order.channel_status)
    if new_status != order.channel_status and not data.cancelled:
        notes.append(
            (
                OrderEvent.Kind.STATUS,
                Message(
                    texts.STATUS_CHANGED,
                    old=status(order.channel_status),
                    new=status(new_status),
                ),
            )
        )
    if (
        data.cancelled
        and order.status == Order.Status.DISPATCHED
        and order.channel_status != new_status
    ):
        notes.append(
            (
                OrderEvent.Kind.CANCELLED,
                Message(texts.CANCELLED_AFTER_DISPATCH),
            )
        )
    if data.fields.get("paid") and not order.paid:
        notes.append((OrderEvent.Kind.PAID, Message(texts.PAID)))
    changed = [
        label
        for name, label in WATCHED_FIELDS.items()
        if name in data.fields and _differs(getattr(order, name), data.fields[name])
    ]
    if changed:
        notes.append(
            (
                OrderEvent.Kind.CHANGED,
                Message(texts.FIELDS_CHANGED, fields=labels(*changed)),
            )
        )
    # Fields that change with others already noted, or say nothing to the seller
    # on their own (e.g. filled in on the first read after an upgrade).
    quiet = {"channel_updated_at", "revision", "channel_status", *QUIET_FIELDS}
    if not notes and any(
        _differs(getattr(order, name), value)
        for name, value in data.fields.items()
        if name not in quiet
    ):
        notes.append((OrderEvent.Kind.CHANGED, Message(texts.DETAILS_CHANGED)))
    return notes


def _differs(old: Any, new: Any) -> bool:
    if isinstance(old, Decimal) or isinstance(new, Decimal):
        return Decimal(str(old)) != Decimal(str(new))
    return bool(old != new)


_LINE_FIELDS = (
    "offer_id",
    "title",
    "sku",
    "quantity",
    "unit_price",
    "currency",
    "stock_item_id",
    "link_method",
    "unlinked_reason",
)


def _save_lines(
    account: Account,
    catalog: Catalog,
    order: Order,
    data: IncomingOrder,
    old_lines: dict[str, OrderLine],
) -> tuple[list[OrderLine], bool]:
    """Upsert the order's lines; returns them and whether anything changed."""
    lines: list[OrderLine] = []
    changed = False
    for incoming in data.lines:
        line = old_lines.get(incoming.external_id) or OrderLine(
            order=order, external_id=incoming.external_id
        )
        before = [getattr(line, name) for name in _LINE_FIELDS]
        quiet_before = (line.original_unit_price, line.bought_at)
        line.order = order
        line.original_unit_price = incoming.original_unit_price
        line.bought_at = incoming.bought_at
        line.offer_id = incoming.offer_id
        line.title = incoming.title
        line.sku = incoming.sku
        line.quantity = incoming.quantity
        line.unit_price = incoming.unit_price
        line.currency = incoming.currency
        if line.stock_item_id is None:
            # Not linked yet (or never could be): try again, a listing or a SKU
            # may have appeared since. A linked line keeps its link.
            found = catalog.resolve(
                LineKey(
                    account.listing_links.get(incoming.offer_id),
                    incoming.sku,
                    incoming.title,
                )
            )
            line.stock_item_id = found.item_id
            if found.item_id in catalog.items:
                line.stock_item = catalog.items[found.item_id]
            line.link_method = found.method
            line.unlinked_reason = found.reason
        after = [getattr(line, name) for name in _LINE_FIELDS]
        if line.pk is None or any(map(_differs, before, after)):
            line.save()
            changed = True
        elif quiet_before != (line.original_unit_price, line.bought_at):
            # Known since an upgrade only: kept, without a line in the history.
            line.save(update_fields=["original_unit_price", "bought_at"])
        lines.append(line)
    keep = {line.external_id for line in data.lines}
    for external_id, old in old_lines.items():
        if external_id not in keep:
            stock.release(old.allocation_reference, order_reason(order), account.source)
            old.delete()
            changed = True
    return lines, changed


def _allocate(order: Order, lines: list[OrderLine]) -> None:
    if order.status != Order.Status.OPEN:
        return
    for line in lines:
        if line.stock_item_id is not None:
            allocate_line(line)


def _store_unlinked_flag(order: Order, lines: list[OrderLine]) -> int:
    unlinked = sum(1 for line in lines if line.stock_item_id is None)
    if bool(unlinked) != order.has_unlinked_lines:
        order.has_unlinked_lines = bool(unlinked)
        Order.objects.filter(pk=order.pk).update(has_unlinked_lines=bool(unlinked))
    return unlinked


def _history(
    account: Account, order: Order, data: IncomingOrder, kind: str, message: Message
) -> None:
    history(
        order,
        kind,
        message,
        actor=account.source,  # the channel did it (e.g. "allegro")
        occurred_at=data.occurred_at,
        source_event=data.source_event,
    )
