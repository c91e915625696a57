"""What the front page shows: each channel's health, what needs action, the
latest orders. Plain functions, a fixed number of queries whatever the size of
the catalogue or the order book (per 5 000 stock items, two more)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from hub.allegro.models import Channel
from hub.allegro.sync.orders import JOURNAL
from hub.allegro.sync.progress import ImportProgress, order_import_progress
from hub.catalog import stock
from hub.catalog.models import StockItem
from hub.orders.models import Order

RECENT_ORDERS = 10
SHOWN_ITEMS = 10
# available_by_item takes a list of ids; SQLite refuses a query with more than
# 32 766 parameters, so a big catalogue is read in slices.
ITEM_SLICE = 5000


@dataclass(frozen=True)
class ChannelHealth:
    channel: Channel
    last_order_sync: datetime | None  # the order journal's last good pass
    sync_error: str  # the order journal's last failure, if it is still failing
    progress: ImportProgress | None  # a backfill or gap re-read while it runs


@dataclass(frozen=True)
class StockSummary:
    item_count: int
    oversold_count: int  # available < 0: promised more than is on hand
    out_of_stock_count: int  # available == 0
    oversold: list[tuple[StockItem, int]]  # the worst first, at most SHOWN_ITEMS


def channel_health() -> list[ChannelHealth]:
    """One line per channel (two queries, and one more per running import)."""
    lines = []
    for channel in Channel.objects.order_by("name").prefetch_related("cursors"):
        journal = next((c for c in channel.cursors.all() if c.stream == JOURNAL), None)
        lines.append(
            ChannelHealth(
                channel=channel,
                last_order_sync=journal.last_success_at if journal else None,
                sync_error=journal.last_error if journal else "",
                # The channel list's helper: it counts the orders only while an
                # import runs (the first sync, or after a gap in the journal).
                progress=order_import_progress(channel),
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
    """Oversold and out-of-stock items, from the catalogue's own stock rules."""
    ids = list(StockItem.objects.order_by("pk").values_list("pk", flat=True))
    available: dict[int, int] = {}
    for chunk in _slices(ids, ITEM_SLICE):
        available.update(stock.available_by_item(chunk))
    oversold_ids = sorted(
        (pk for pk, qty in available.items() if qty < 0),
        key=lambda pk: (available[pk], pk),
    )
    shown = StockItem.objects.in_bulk(oversold_ids[:SHOWN_ITEMS])
    return StockSummary(
        item_count=len(ids),
        oversold_count=len(oversold_ids),
        out_of_stock_count=sum(1 for qty in available.values() if qty == 0),
        oversold=[(shown[pk], available[pk]) for pk in oversold_ids[:SHOWN_ITEMS]],
    )


def _slices(ids: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]
