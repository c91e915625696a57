"""What the front page shows: each channel's health, what needs action, the
latest orders. Plain functions, a fixed number of queries whatever the size of
the catalogue or the order book."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q

from hub.allegro.models import Channel
from hub.allegro.status import ChannelStatus, channel_statuses
from hub.catalog import stock
from hub.catalog.models import StockItem
from hub.jobs.status import FlowHealth, flow_health
from hub.orders.models import Dispatch, Order

RECENT_ORDERS = 10
SHOWN_ITEMS = 10


@dataclass(frozen=True)
class ChannelHealth:
    status: ChannelStatus  # what allegro says about the channel
    flows: list[FlowHealth]  # each sync flow's last success, failure, next run

    @property
    def channel(self) -> Channel:
        return self.status.channel

    @property
    def problems(self) -> list[FlowHealth]:
        """Flows failing, or not run for longer than they should have been."""
        runnable = self.status.connected and self.status.enabled
        return [f for f in self.flows if f.error or (f.stale and runnable)]


@dataclass(frozen=True)
class StockSummary:
    item_count: int
    oversold_count: int  # available < 0: promised more than is on hand
    out_of_stock_count: int  # available == 0
    oversold: list[tuple[StockItem, int]]  # the worst first, at most SHOWN_ITEMS


def channel_health() -> list[ChannelHealth]:
    """One line per channel: allegro's status, and the runner's per flow."""
    statuses = channel_statuses()
    flows = flow_health([status.channel for status in statuses])
    return [
        ChannelHealth(status=status, flows=flows[status.channel.pk])
        for status in statuses
    ]


def order_counts() -> dict[str, int]:
    """Open orders, those of them with lines not linked to a stock item, and
    dispatches the seller must look at (tracking number refused by the channel,
    order cancelled by the buyer after it left)."""
    open_orders = Order.objects.filter(status=Order.Status.OPEN)
    attention = Dispatch.objects.filter(state__in=Dispatch.ATTENTION_STATES)
    return {
        "open": open_orders.count(),
        "unlinked": open_orders.filter(has_unlinked_lines=True).count(),
        "dispatches": attention.count(),
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
