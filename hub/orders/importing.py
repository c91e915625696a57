"""Save orders a channel downloaded: upsert, link lines, allocate, record history.

Channel-agnostic: a channel maps its own data to IncomingOrder and passes its
listing links (offer id → stock item id) in. Call save_orders inside the
channel's transaction, together with its cursor move.

Idempotent: the order is found by its unique (source, account, external_id) and
lines by (order, external_id); saving the same data twice changes nothing and
records no history.

Set-based: a batch is planned in memory (hub.orders.import_plan) and written
with one insert per table for what is new and one batched UPDATE per table for
what changed (hub.batch_sql), allocations and locations preloaded;
the rows are the same as saving order by order would write, except the
history: one line per change, not one per finding (a payment was three).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction

from hub.catalog.models import Location
from hub.orders.import_plan import save_batch
from hub.orders.linking import Catalog, LineKey


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
    # Within the caller's transaction, if any (no savepoint: a failure voids it).
    with transaction.atomic(savepoint=False):
        for batch in _distinct_runs(incoming):
            save_batch(account, catalog, batch, counts)
    return counts


def _distinct_runs(incoming: list[IncomingOrder]) -> list[list[IncomingOrder]]:
    """The orders in batches without an external id twice: an order given twice
    is saved, then updated by its second copy, as one by one would."""
    runs: list[list[IncomingOrder]] = []
    seen: list[set[str]] = []
    for order in incoming:
        index = next(
            (i for i, ids in enumerate(seen) if order.external_id not in ids),
            len(runs),
        )
        if index == len(runs):
            runs.append([])
            seen.append(set())
        runs[index].append(order)
        seen[index].add(order.external_id)
    return runs
