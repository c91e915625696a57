"""Links from an order to its page on the channel it came from.

orders never imports a channel app: a channel registers a function (at start-up,
in its texts.py or AppConfig.ready) that, given a page of orders of its source,
returns order id → URL, reading what it needs in one query.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from hub.orders.models import Order

Linker = Callable[[list[Order]], dict[int, str]]
LINKERS: dict[str, Linker] = {}


def register(source: str, linker: Linker) -> None:
    LINKERS[source] = linker


def channel_links(orders: Iterable[Order]) -> dict[int, str]:
    """Order pk → its page on the channel, for the orders that have one."""
    by_source: dict[str, list[Order]] = {}
    for order in orders:
        by_source.setdefault(order.source, []).append(order)
    links: dict[int, str] = {}
    for source, group in by_source.items():
        linker = LINKERS.get(source)
        if linker is not None:
            links.update(linker(group))
    return links
