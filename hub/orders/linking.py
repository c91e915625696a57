"""Which stock item an order line is: the rules, and linking by hand.

Resolution order (ARCHITECTURE.md §4): the channel's listing link, then the line's
external id equal to a SKU, then — only when the channel allows it — the exact
normalised title. An ambiguous or unknown line stays unlinked with a reason; we
never guess. The channel side looks up its listing link and passes it in, so this
module never imports a channel app.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from hub.catalog.models import StockItem
from hub.orders import texts
from hub.orders.history import history
from hub.orders.models import Order, OrderEvent, OrderLine
from hub.orders.stock import allocate_line, take_dispatched_line
from hub.text.message import Message

_SPACES = re.compile(r"\s+")


def normalise_title(title: str) -> str:
    """Case and runs of whitespace do not make titles differ; anything else does."""
    return _SPACES.sub(" ", title).strip().casefold()


@dataclass(frozen=True)
class Resolution:
    item_id: int | None
    method: str  # an OrderLine.LinkMethod value
    reason: Message = field(default_factory=Message)  # why not linked


@dataclass(frozen=True)
class LineKey:
    """What a line offers for resolution."""

    listing_item_id: int | None  # the channel's listing → stock item link, if any
    external_id: str
    title: str


class Catalog:
    """Stock item lookups for a batch of lines: one query per kind, not per line."""

    def __init__(self, lines: Iterable[LineKey], by_title: bool) -> None:
        keys = list(lines)
        skus = {k.external_id for k in keys if k.external_id}
        linked = {k.listing_item_id for k in keys if k.listing_item_id is not None}
        # The items themselves, so allocating needs no query per line.
        # order_by(): no sort by SKU (the default ordering) over the catalogue.
        self.items: dict[int, StockItem] = {
            item.pk: item
            for item in StockItem.objects.filter(
                Q(sku__in=skus) | Q(pk__in=linked)
            ).order_by()
        }
        self.by_sku: dict[str, int] = {
            item.sku: item.pk for item in self.items.values() if item.sku in skus
        }
        self.by_title: dict[str, list[int]] = defaultdict(list)
        if by_title and any(self._needs_title(k) for k in keys):
            # Normalised equality can't be expressed portably in SQL; the catalog's
            # titles are small enough to index in memory once per batch.
            for pk, title in StockItem.objects.order_by().values_list("pk", "title"):
                self.by_title[normalise_title(title)].append(pk)
        self.title_allowed = by_title

    def _needs_title(self, key: LineKey) -> bool:
        return key.listing_item_id is None and key.external_id not in self.by_sku

    def resolve(self, key: LineKey) -> Resolution:
        if key.listing_item_id is not None:
            return Resolution(key.listing_item_id, OrderLine.LinkMethod.LISTING)
        if key.external_id and key.external_id in self.by_sku:
            return Resolution(self.by_sku[key.external_id], OrderLine.LinkMethod.SKU)
        if not self.title_allowed:
            return Resolution(None, OrderLine.LinkMethod.NONE, _no_match_reason(key))
        matches = self.by_title.get(normalise_title(key.title), [])
        if len(matches) == 1:
            return Resolution(matches[0], OrderLine.LinkMethod.TITLE)
        if len(matches) > 1:
            return Resolution(
                None,
                OrderLine.LinkMethod.NONE,
                Message(texts.AMBIGUOUS_TITLE, count=len(matches)),
            )
        return Resolution(None, OrderLine.LinkMethod.NONE, _no_match_reason(key))


def _no_match_reason(key: LineKey) -> Message:
    if key.external_id:
        return Message(texts.NO_SKU_MATCH, sku=key.external_id)
    return Message(texts.NO_EXTERNAL_ID)


def refresh_unlinked_flag(order: Order) -> bool:
    """Store whether the order has unlinked lines; returns the new value."""
    flag = order.lines.filter(stock_item__isnull=True).exists()
    if flag != order.has_unlinked_lines:
        Order.objects.filter(pk=order.pk).update(has_unlinked_lines=flag)
        order.has_unlinked_lines = flag
    return flag


def find_item(sku: str) -> StockItem | None:
    """The stock item with this SKU: the exact spelling, else in any case (SKUs
    are unique regardless of case, docs/csv.md)."""
    sku = sku.strip()
    if not sku:
        return None
    exact = StockItem.objects.filter(sku=sku).first()
    return exact or StockItem.objects.filter(sku__iexact=sku).first()


class LinkError(ValueError):
    """A link by hand that cannot be made; the message is for the seller."""


def link_line_by_hand(line: OrderLine, sku: str, actor: str = "") -> OrderLine:
    """Link a line to the stock item with this SKU and allocate it (if open).

    ``actor`` (hub.text.actor) is who did it, for the order's history.
    Relinking a linked line moves its allocation to the new item. A dispatched
    order's unlinked line took no stock when it left: linking it takes it now.
    """
    item = find_item(sku)
    if item is None:
        raise LinkError(_("No stock item with SKU %(sku)s.") % {"sku": sku.strip()})
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=line.order_id)
        line.refresh_from_db()
        # The line itself left (its order may be only partly dispatched).
        dispatched = line.dispatch_id is not None or (
            order.status == Order.Status.DISPATCHED
        )
        if dispatched and line.stock_item_id is not None:
            raise LinkError(
                _(
                    "This order was dispatched with the line linked, so its stock "
                    "has already been taken off; correct the stock levels instead."
                )
            )
        OrderLine.objects.filter(pk=line.pk).update(
            stock_item=item,
            link_method=OrderLine.LinkMethod.MANUAL,
            unlinked_reason="",
        )
        line.refresh_from_db()
        code = texts.LINKED_BY_HAND
        if dispatched:
            take_dispatched_line(line, order)
            code = texts.LINKED_AFTER_DISPATCH
        else:
            allocate_line(line)
        refresh_unlinked_flag(order)
        # Touch the order so API "changed since" readers see the new link.
        order.save(update_fields=["updated_at"])
        history(
            order,
            OrderEvent.Kind.LINKED,
            code,
            actor=actor,
            title=line.title,
            sku=item.sku,
        )
    return line


def link_lines_of_offer(source: str, account: str, offer_id: str, item_id: int) -> int:
    """A channel linked a listing to a stock item: link its open orders' unlinked
    lines the same way and allocate them. Returns how many lines were linked.

    Lines that left without stock stay as they are (linking one by hand takes
    its units); only their reason says the listing is linked now."""
    sku = StockItem.objects.filter(pk=item_id).values_list("sku", flat=True).first()
    OrderLine.objects.filter(
        order__source=source,
        order__account=account,
        offer_id=offer_id,
        stock_item__isnull=True,
        dispatch__isnull=False,
    ).update(
        unlinked_reason=Message(texts.LISTING_LINKED_AFTER_DISPATCH, sku=sku or "?")
    )
    lines = OrderLine.objects.filter(
        order__source=source,
        order__account=account,
        order__status=Order.Status.OPEN,
        offer_id=offer_id,
        stock_item__isnull=True,
        dispatch__isnull=True,  # a line dispatched without stock is linked by hand
    ).select_related("order")
    linked = 0
    with transaction.atomic():
        for line in lines.select_for_update(of=("self",)):
            line.stock_item_id = item_id
            line.link_method = OrderLine.LinkMethod.LISTING
            line.unlinked_reason = ""
            line.save(update_fields=["stock_item", "link_method", "unlinked_reason"])
            allocate_line(line)
            refresh_unlinked_flag(line.order)
            history(
                line.order,
                OrderEvent.Kind.LINKED,
                texts.LINKED_BY_LISTING,
                actor=source,
                title=line.title,
            )
            linked += 1
    return linked
