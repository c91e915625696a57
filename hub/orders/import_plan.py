"""Saving a batch of downloaded orders as sets: plan in memory, then write each
table at once (hub.orders.importing.save_orders is the entry point).

For each order the plan follows the rules saving one by one followed: a new
order is inserted with its lines, their allocations and one "imported" line of
history; a known order is updated only where its fields differ, with one line
of history for what the seller is told of (a quiet change, e.g. the lines
Allegro counts as sent, is kept without one; nothing changed: only its revision
and channel time move), a dispatched order stays dispatched, an older read
never overwrites a newer one, a cancellation releases the order's stock, a
changed line is promised again. The writes: one insert each for orders, lines,
allocations and history (new orders and lines as plain tuples, no model
instance per row), one batched UPDATE (hub.batch_sql) for each set of changed
columns; the known orders' lines, their allocations and the orders' locations
are read once per batch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from hub.batch_sql import insert_rows, insert_values, update_rows
from hub.catalog import stock
from hub.catalog.models import Allocation, Location
from hub.orders import texts
from hub.orders.dispatching import cancelled_after_dispatch
from hub.orders.linking import Catalog, LineKey, Resolution
from hub.orders.models import Order, OrderEvent, OrderLine, line_reference
from hub.orders.stock import order_reason, order_reason_of
from hub.text.message import Message, labels, money, sentences, status

if TYPE_CHECKING:
    from hub.orders.importing import Account, IncomingOrder, SaveCounts

# Fields whose change is worth a line in the order's history (field → label code).
WATCHED_FIELDS = texts.FIELD_LABELS

QUIET_FIELDS = {"marketplace", "delivery_method_id", "buyer_id", "buyer_guest",
                "lines_sent"}  # fmt: skip

LINE_FIELDS = (
    "offer_id", "title", "sku", "quantity", "unit_price", "currency",
    "stock_item_id", "link_method", "unlinked_reason",
)  # fmt: skip
LINE_QUIET = ("original_unit_price", "bought_at")
INSERT_ATTEMPTS = 3
NEW_LINE_COLUMNS = (
    "order_id", "external_id", *LINE_FIELDS, *LINE_QUIET,
)  # fmt: skip
KEY = ("order_id", "external_id")
# A new order's line before it has its order's id (_new_line_values): where
# its stock item and quantity are.
LINE_ITEM = NEW_LINE_COLUMNS.index("stock_item_id") - 1
LINE_QUANTITY = NEW_LINE_COLUMNS.index("quantity") - 1
HISTORY_COLUMNS = (
    "order_id", "kind", "message", "actor", "occurred_at", "source_event",
)  # fmt: skip


@dataclass
class Writes:
    """Everything one batch writes, collected before anything is written."""

    new_lines: list[OrderLine] = field(default_factory=list)
    changed_lines: list[OrderLine] = field(default_factory=list)
    quiet_lines: list[OrderLine] = field(default_factory=list)
    dropped_lines: list[OrderLine] = field(default_factory=list)
    changed_orders: dict[tuple[str, ...], list[Order]] = field(default_factory=dict)
    touched_orders: list[Order] = field(default_factory=list)
    # Rows of the orders' history, as HISTORY_COLUMNS.
    history: list[tuple[Any, ...]] = field(default_factory=list)
    # New orders' lines, as NEW_LINE_COLUMNS.
    new_line_rows: list[tuple[Any, ...]] = field(default_factory=list)
    # Lines to promise once they have ids: (line, location id, reason, actor);
    # of new orders, (index in new_line_rows, item id, quantity, location id,
    # reason, actor).
    promise: list[tuple[OrderLine, int, Message, str]] = field(default_factory=list)
    promise_rows: list[tuple[int, int, int, int, Message, str]] = field(
        default_factory=list
    )
    release: list[tuple[Allocation, Message, str]] = field(default_factory=list)
    # Orders the buyer cancelled in this batch: what left already needs action.
    cancelled_ids: list[int] = field(default_factory=list)


def save_batch(
    account: Account,
    catalog: Catalog,
    incoming: list[IncomingOrder],
    counts: SaveCounts,
) -> None:
    """Save orders with distinct external ids, sorted by them (the lock order)."""
    for _attempt in range(INSERT_ATTEMPTS):
        existing = _lock(account, [data.external_id for data in incoming])
        fresh = [data for data in incoming if data.external_id not in existing]
        writes = Writes()
        created = _insert_orders(account, catalog, fresh, writes, counts)
        if created is not None:
            break
        # Created meanwhile by another pass: the unique constraint said so;
        # lock again, and those are updated instead.
    else:
        raise IntegrityError("orders kept being created by another pass")
    if existing:
        _plan_updates(account, catalog, incoming, existing, writes, counts)
    _write(writes)


def _lock(account: Account, external_ids: list[str]) -> dict[str, Order]:
    return {
        order.external_id: order
        for order in Order.objects.select_for_update()
        .filter(
            source=account.source,
            account=account.account,
            external_id__in=external_ids,
        )
        .order_by("external_id")
    }


def _lines_of(orders: list[Order]) -> dict[int, list[OrderLine]]:
    """The orders' lines by order id: grouped here rather than by
    prefetch_related, which builds a queryset per order (most of the time of
    reading a page of known orders)."""
    lines: dict[int, list[OrderLine]] = {order.pk: [] for order in orders}
    for line in OrderLine.objects.filter(order_id__in=list(lines)).order_by(
        "order_id", "external_id"
    ):
        lines[line.order_id].append(line)
    return lines


# ------------------------------------------------------------------ new orders


def _insert_orders(
    account: Account,
    catalog: Catalog,
    fresh: list[IncomingOrder],
    writes: Writes,
    counts: SaveCounts,
) -> list[int] | None:
    """Insert the new orders (None if one exists already) and plan their lines,
    allocations and history. Rows go in as plain tuples: a model instance per
    order and line cost more than writing them."""
    if not fresh:
        return []
    # What a new order's history line needs, even from a channel without it.
    names = {"channel_status", "total", "currency"}
    names.update(name for data in fresh for name in data.fields)
    defaults = {
        f.name: f.get_default() for f in Order._meta.concrete_fields if f.name in names
    }
    orders: list[dict[str, Any]] = []
    lines_of: list[list[tuple[Any, ...]]] = []
    for data in fresh:
        lines = [_new_line_values(account, catalog, line) for line in data.lines]
        orders.append(
            {
                **defaults,
                **data.fields,
                "source": account.source,
                "account": account.account,
                "external_id": data.external_id,
                "status": Order.Status.CANCELLED
                if data.cancelled
                else Order.Status.OPEN,
                "location_id": account.location.pk,
                "has_unlinked_lines": any(line[LINE_ITEM] is None for line in lines),
            }
        )
        lines_of.append(lines)
    columns = list(orders[0])
    try:
        with transaction.atomic():
            ids = insert_values(
                Order,
                columns,
                [tuple(order[name] for name in columns) for order in orders],
                key=("external_id",),
            )
    except IntegrityError:
        return None
    for order_id, order, data, lines in zip(ids, orders, fresh, lines_of, strict=True):
        first = len(writes.new_line_rows)
        writes.new_line_rows.extend((order_id, *line) for line in lines)
        _plan_new_order(account, order_id, order, data, lines, first, writes, counts)
    return ids


def _plan_new_order(
    account: Account,
    order_id: int,
    order: dict[str, Any],
    data: IncomingOrder,
    lines: list[tuple[Any, ...]],
    first_row: int,
    writes: Writes,
    counts: SaveCounts,
) -> None:
    counts.created += 1
    counts.created_ids.append(order_id)
    if order["status"] == Order.Status.OPEN:
        reason = order_reason_of(order["external_id"], order_id)
        writes.promise_rows.extend(
            (
                first_row + i,
                line[LINE_ITEM],
                line[LINE_QUANTITY],
                account.location.pk,
                reason,
                account.source,
            )
            for i, line in enumerate(lines)
            if line[LINE_ITEM] is not None
        )
    unlinked = sum(1 for line in lines if line[LINE_ITEM] is None)
    counts.unlinked_lines += unlinked
    counts.cancelled += int(order["status"] == Order.Status.CANCELLED)
    params = {
        "status": status(order["channel_status"]),
        "lines": len(lines),
        "total": money(order["total"], order["currency"]),
    }
    message = Message(texts.IMPORTED, **params)
    if unlinked:
        message = Message(texts.IMPORTED_UNLINKED, unlinked=unlinked, **params)
    _note(account, order_id, data, OrderEvent.Kind.IMPORTED, message, writes)


def _new_line_values(
    account: Account, catalog: Catalog, incoming: Any
) -> tuple[Any, ...]:
    """A new order's line as NEW_LINE_COLUMNS without its order id."""
    found = _resolve(account, catalog, incoming)
    return (
        incoming.external_id, incoming.offer_id, incoming.title, incoming.sku,
        incoming.quantity, incoming.unit_price, incoming.currency,
        found.item_id, found.method, found.reason,
        incoming.original_unit_price, incoming.bought_at,
    )  # fmt: skip


def _resolve(account: Account, catalog: Catalog, incoming: Any) -> Resolution:
    """The stock item a line's offer, SKU or title points at, if any."""
    key = LineKey(
        account.listing_links.get(incoming.offer_id), incoming.sku, incoming.title
    )
    return catalog.resolve(key)


def _new_line(
    account: Account, catalog: Catalog, order: Order, incoming: Any
) -> OrderLine:
    line = OrderLine(order=order, external_id=incoming.external_id)
    _fill_line(account, catalog, line, incoming)
    return line


def _fill_line(
    account: Account, catalog: Catalog, line: OrderLine, incoming: Any
) -> None:
    line.original_unit_price = incoming.original_unit_price
    line.bought_at = incoming.bought_at
    line.offer_id = incoming.offer_id
    line.title = incoming.title
    line.sku = incoming.sku
    line.quantity = incoming.quantity
    line.unit_price = incoming.unit_price
    line.currency = incoming.currency
    if line.stock_item_id is None:
        # Not linked yet (or never could be): try again, a listing or a SKU may
        # have appeared since. A linked line keeps its link.
        found = _resolve(account, catalog, incoming)
        line.stock_item_id = found.item_id
        line.link_method = found.method
        line.unlinked_reason = found.reason


# ---------------------------------------------------------------- known orders


def _plan_updates(
    account: Account,
    catalog: Catalog,
    incoming: list[IncomingOrder],
    existing: dict[str, Order],
    writes: Writes,
    counts: SaveCounts,
) -> None:
    lines_of = _lines_of(list(existing.values()))
    held = {
        allocation.reference: allocation
        for allocation in Allocation.objects.filter(
            reference__in=[
                line.allocation_reference
                for lines in lines_of.values()
                for line in lines
            ]
        )
    }
    # Orders sit at the account's location (unless moved, or older than it):
    # only the others are looked up, most batches need no query for them.
    locations = {account.location.pk: account.location}
    others = {order.location_id for order in existing.values()} - {*locations, None}
    if others:
        locations.update(Location.objects.in_bulk(others))
    default: list[Location] = []

    def location_of(order: Order) -> Location:
        if order.location_id is not None:
            return locations[order.location_id]
        if not default:
            default.append(stock.default_location())
        return default[0]

    for data in incoming:
        order = existing.get(data.external_id)
        if order is not None:
            old_lines = {line.external_id: line for line in lines_of[order.pk]}
            _plan_update(
                account, catalog, order, data, old_lines, held, location_of, writes,
                counts,
            )  # fmt: skip


def _plan_update(
    account: Account,
    catalog: Catalog,
    order: Order,
    data: IncomingOrder,
    old_lines: dict[str, OrderLine],
    held: dict[str, Allocation],
    location_of: Any,
    writes: Writes,
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
    # Only what differs is written back: most of a changed order stays as it is
    # (a payment moves a handful of its ~30 fields).
    moved = sorted(
        name
        for name, value in data.fields.items()
        if differs(getattr(order, name), value)
    )
    notes = changes(order, data, set(moved))
    new_status = data.fields.get("channel_status", order.channel_status)
    if data.cancelled and new_status != order.channel_status:
        writes.cancelled_ids.append(order.pk)
    for name in moved:
        setattr(order, name, data.fields[name])
    old_status = order.status
    if order.status != Order.Status.DISPATCHED:
        # The channel's form is the truth; a dispatched order stays dispatched
        # (its stock has already left).
        order.status = Order.Status.CANCELLED if data.cancelled else Order.Status.OPEN
    lines, lines_changed = _plan_lines(account, catalog, order, data, old_lines, writes)
    reason = order_reason(order)
    for external_id, old in old_lines.items():
        if external_id not in {line.external_id for line in data.lines}:
            allocation = held.pop(old.allocation_reference, None)
            if allocation is not None:
                writes.release.append((allocation, reason, account.source))
    if not notes and old_status == order.status and not lines_changed:
        # Nothing the seller is told of changed; keep the revision current, so a
        # repeat of the event that announced it costs no read, and keep what
        # moved quietly (e.g. the lines Allegro counts as sent), without a line
        # in the history.
        if set(moved) - {"revision", "channel_updated_at"}:
            writes.changed_orders.setdefault(("updated_at", *moved), []).append(order)
        else:
            writes.touched_orders.append(order)
        counts.unchanged += 1
        return
    if order.status == Order.Status.CANCELLED:
        for line in old_lines.values():
            allocation = held.pop(line.allocation_reference, None)
            if allocation is not None:
                writes.release.append((allocation, reason, ""))
    if order.status == Order.Status.OPEN:
        _plan_promises(order, lines, held, location_of(order), writes)
    unlinked = sum(1 for line in lines if line.stock_item_id is None)
    order.has_unlinked_lines = bool(unlinked)
    columns = ("status", "has_unlinked_lines", "updated_at", *moved)
    writes.changed_orders.setdefault(columns, []).append(order)
    counts.unlinked_lines += unlinked
    counts.updated += 1
    if old_status != order.status and order.status == Order.Status.CANCELLED:
        counts.cancelled += 1
        # Some lines already left (a partial dispatch): the seller has a parcel
        # to stop, as for an order dispatched whole.
        left = any(line.dispatch_id is not None for line in old_lines.values())
        code = texts.CANCELLED_AFTER_DISPATCH if left else texts.CANCELLED
        notes.insert(0, (OrderEvent.Kind.CANCELLED, Message(code)))
    if lines_changed:
        notes.append((OrderEvent.Kind.CHANGED, Message(texts.LINES_CHANGED)))
    if notes:
        _note(account, order.pk, data, *one_change(notes), writes)


# The kind of a line that says several things: the weightiest of them.
WEIGHT = [OrderEvent.Kind.CANCELLED, OrderEvent.Kind.PAID, OrderEvent.Kind.STATUS]


def one_change(notes: list[tuple[str, Message]]) -> tuple[str, Message]:
    """What one read of a changed order found, as one line of its history (a
    payment moves the status, pays and changes the payment details at once)."""
    if len(notes) == 1:
        return notes[0]
    kinds = {kind for kind, _message in notes}
    kind = next((k for k in WEIGHT if k in kinds), OrderEvent.Kind.CHANGED)
    parts = sentences(*(message for _kind, message in notes))
    return kind, Message(texts.SEVERAL_CHANGES, changes=parts)


def _plan_lines(
    account: Account,
    catalog: Catalog,
    order: Order,
    data: IncomingOrder,
    old_lines: dict[str, OrderLine],
    writes: Writes,
) -> tuple[list[OrderLine], bool]:
    """The order's lines as they will be, and whether anything changed."""
    lines: list[OrderLine] = []
    changed = False
    for incoming in data.lines:
        line = old_lines.get(incoming.external_id)
        if line is None:
            line = _new_line(account, catalog, order, incoming)
            writes.new_lines.append(line)
            changed = True
            lines.append(line)
            continue
        before = [getattr(line, name) for name in LINE_FIELDS]
        quiet_before = [getattr(line, name) for name in LINE_QUIET]
        _fill_line(account, catalog, line, incoming)
        if any(map(differs, before, [getattr(line, name) for name in LINE_FIELDS])):
            writes.changed_lines.append(line)
            changed = True
        elif quiet_before != [getattr(line, name) for name in LINE_QUIET]:
            # Known since an upgrade only: kept, without a line in the history.
            writes.quiet_lines.append(line)
        lines.append(line)
    keep = {line.external_id for line in data.lines}
    dropped = [old for external_id, old in old_lines.items() if external_id not in keep]
    writes.dropped_lines.extend(dropped)
    return lines, changed or bool(dropped)


def _plan_promises(
    order: Order,
    lines: list[OrderLine],
    held: dict[str, Allocation],
    location: Location,
    writes: Writes,
) -> None:
    """Promise each linked line's units, unless the same promise stands."""
    reason = order_reason(order)
    for line in lines:
        if line.stock_item_id is None or line.dispatch_id is not None:
            continue  # a dispatched line (order partly dispatched) took its stock
        allocation = held.get(line.allocation_reference) if line.pk else None
        if allocation is not None:
            same = (allocation.item_id, allocation.location_id, allocation.quantity)
            if same == (line.stock_item_id, location.pk, line.quantity):
                continue
            # The line changed (relinked, new quantity): promise the new thing.
            del held[line.allocation_reference]
            writes.release.append((allocation, reason, ""))
        writes.promise.append((line, location.pk, reason, ""))


def _note(
    account: Account,
    order_id: int,
    data: IncomingOrder,
    kind: str,
    message: Message,
    writes: Writes,
) -> None:
    writes.history.append(
        (
            order_id, kind, message,
            account.source[:100],  # the channel did it (e.g. "allegro")
            data.occurred_at or timezone.now(),
            data.source_event[:255],
        )
    )  # fmt: skip


# --------------------------------------------------------------------- writing


def _write(writes: Writes) -> None:
    stock.release_many(writes.release)
    if writes.dropped_lines:
        OrderLine.objects.filter(
            pk__in=[line.pk for line in writes.dropped_lines]
        ).delete()
    rows = writes.new_line_rows
    ids = insert_values(OrderLine, NEW_LINE_COLUMNS, rows, key=KEY)
    insert_rows(OrderLine, writes.new_lines, key=KEY)
    update_rows(OrderLine, [*LINE_FIELDS, *LINE_QUIET], writes.changed_lines)
    update_rows(OrderLine, LINE_QUIET, writes.quiet_lines)
    stock.allocate_many(
        [
            *(
                (item, location, quantity, line_reference(ids[i]), why, actor)
                for i, item, quantity, location, why, actor in writes.promise_rows
            ),
            *(
                (item, location, line.quantity, line.allocation_reference, why, actor)
                for line, location, why, actor in writes.promise
                if (item := line.stock_item_id) is not None
            ),
        ]
    )  # fmt: skip
    for columns, orders in writes.changed_orders.items():
        for order in orders:
            # What Model.save() would do for auto_now.
            order.updated_at = Order._meta.get_field("updated_at").pre_save(
                order, False
            )
        update_rows(Order, columns, orders)
    update_rows(Order, ("revision", "channel_updated_at"), writes.touched_orders)
    insert_values(OrderEvent, HISTORY_COLUMNS, writes.history)
    cancelled_after_dispatch(writes.cancelled_ids)


# ------------------------------------------------------------------- the rules


def changes(
    order: Order, data: IncomingOrder, moved: set[str]
) -> list[tuple[str, Message]]:
    """What the seller is told of a known order's new read (``moved``: the
    fields whose values differ)."""
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
    changed = [label for name, label in WATCHED_FIELDS.items() if name in moved]
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
    if not notes and any(name not in quiet for name in moved):
        notes.append((OrderEvent.Kind.CHANGED, Message(texts.DETAILS_CHANGED)))
    return notes


def differs(old: Any, new: Any) -> bool:
    if old == new:
        return False
    if isinstance(old, Decimal) or isinstance(new, Decimal):
        return Decimal(str(old)) != Decimal(str(new))
    return bool(old != new)
