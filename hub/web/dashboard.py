"""What the front page shows: each channel's health, what needs action, the
latest orders. Plain functions, a fixed number of queries whatever the size of
the catalogue or the order book."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q

from hub.allegro.models import Channel
from hub.allegro.sync.orders import JOURNAL
from hub.allegro.sync.progress import ImportProgress, import_progress_by_channel
from hub.catalog import stock
from hub.catalog.models import StockItem
from hub.orders.models import Order
from hub.text.message import Message

RECENT_ORDERS = 10
SHOWN_ITEMS = 10


@dataclass(frozen=True)
class ChannelHealth:
    channel: Channel
    last_order_sync: datetime | None  # the order journal's last good pass
    sync_error: Message  # the order journal's last failure, if still failing
    progress: ImportProgress | None  # a backfill or gap re-read while it runs


@dataclass(frozen=True)
class StockSummary:
    item_count: int
    oversold_count: int  # available < 0: promised more than is on hand
    out_of_stock_count: int  # available == 0
    oversold: list[tuple[StockItem, int]]  # the worst first, at most SHOWN_ITEMS


def channel_health() -> list[ChannelHealth]:
    """One line per channel (two queries, and one more if any import runs)."""
    channels = list(Channel.objects.order_by("name").prefetch_related("cursors"))
    # The channel list's helper: it counts the orders (one grouped query) only
    # while an import runs (the first sync, or after a gap in the journal).
    progress = import_progress_by_channel(channels)
    lines = []
    for channel in channels:
        journal = next((c for c in channel.cursors.all() if c.stream == JOURNAL), None)
        lines.append(
            ChannelHealth(
                channel=channel,
                last_order_sync=journal.last_success_at if journal else None,
                sync_error=journal.last_error if journal else Message(),
                progress=progress.get(channel.pk),
            )
        )
    return lines


def order_counts() -> dict[str, int]:
    """Open orders, and those of them with lines not linked to a stock item."""
    open_orders = Order.objects.filter(status=Order.Status.OPEN)
    return {
        "open": open_orders.count(),
        "unlinked": open_orders.filter(has_unlinked_lines=True).count(),
    }


def recent_orders() -> list[Order]:
    return list(Order.objects.order_by("-bought_at", "-id")[:RECENT_ORDERS])


def stock_summary() -> StockSummary:
    """Oversold and out-of-stock items, counted by the database with the
    catalogue's own rule (stock.annotate_available): two queries however big
    the catalogue, and the same numbers the inventory's filtered lists show."""
    items = stock.annotate_available(StockItem.objects.all())
    counts = items.aggregate(
        items=Count("pk"),
        oversold=Count("pk", filter=Q(available__lt=0)),
        out_of_stock=Count("pk", filter=Q(available=0)),
    )
    worst = items.filter(available__lt=0).order_by("available", "pk")[:SHOWN_ITEMS]
    return StockSummary(
        item_count=counts["items"],
        oversold_count=counts["oversold"],
        out_of_stock_count=counts["out_of_stock"],
        oversold=[(item, item.available) for item in worst],
    )
