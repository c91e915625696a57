"""Keyset paging of orders by (bought_at, id), newest first.

OFFSET paging reads and throws away every row before the page, so page 1 000 of
100 000 orders costs as much as reading them all; a keyset reads only the page,
through the (…, -bought_at, -id) indexes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet

from hub.orders.models import Order


@dataclass
class Page:
    orders: list[Order]
    next_key: str  # "" = no next (older) page
    previous_key: str  # "" = no previous (newer) page


def key_of(order: Order) -> str:
    return f"{order.bought_at.isoformat()}_{order.pk}"


def parse_key(key: str) -> tuple[datetime, int] | None:
    """A page key from a URL; None when it is not one of ours (then: first page)."""
    when, _sep, pk = key.rpartition("_")
    try:
        moment = datetime.fromisoformat(when)
        number = int(pk)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return moment, number


def page_of(
    orders: QuerySet[Order], size: int, after: str = "", before: str = ""
) -> Page:
    """The page after key `after` (older), before key `before` (newer), or the first."""
    newest_first = orders.order_by("-bought_at", "-id")
    before_key = parse_key(before) if before else None
    if before_key is not None:
        moment, pk = before_key
        newer = orders.filter(
            Q(bought_at__gt=moment) | Q(bought_at=moment, id__gt=pk)
        ).order_by("bought_at", "id")[: size + 1]
        rows = list(newer)
        has_newer = len(rows) > size
        rows = rows[:size][::-1]
        return Page(
            orders=rows,
            next_key=key_of(rows[-1]) if rows else "",
            previous_key=key_of(rows[0]) if rows and has_newer else "",
        )
    after_key = parse_key(after) if after else None
    if after_key is not None:
        moment, pk = after_key
        newest_first = newest_first.filter(
            Q(bought_at__lt=moment) | Q(bought_at=moment, id__lt=pk)
        )
    rows = list(newest_first[: size + 1])
    has_older = len(rows) > size
    rows = rows[:size]
    return Page(
        orders=rows,
        next_key=key_of(rows[-1]) if rows and has_older else "",
        previous_key=key_of(rows[0]) if rows and after_key is not None else "",
    )
