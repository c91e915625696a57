"""The orders list as CSV: exactly the orders the screen's filters select."""

from __future__ import annotations

import csv
from collections.abc import Iterator

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from hub.orders.models import Order
from hub.orders.texts import status_words

CHUNK = 2000
# Spreadsheets run a cell starting with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


class _Echo:
    def write(self, value: str) -> str:
        return value


def header() -> list[str]:
    return [
        _("Order"),
        _("Bought"),
        _("Channel"),
        _("Status"),
        _("Channel status"),
        _("Paid"),
        _("Buyer login"),
        _("Buyer name"),
        _("Total"),
        _("Currency"),
        _("Items"),
    ]


def row(order: Order) -> list[str]:
    lines = sorted(order.lines.all(), key=lambda line: line.pk)
    items = "; ".join(f"{line.quantity}× {line.sku or line.title}" for line in lines)
    bought = timezone.localtime(order.bought_at).strftime("%Y-%m-%d %H:%M")
    values = [
        order.external_id,
        bought,
        order.sub_source or order.source,
        order.get_status_display(),
        status_words(order.channel_status),
        _("yes") if order.paid else _("no"),
        order.buyer_login,
        order.buyer_name,
        order.total,  # plain 1234.56: a spreadsheet reads it as a number
        order.currency,
        items,
    ]
    return [cell(value) for value in values]


def csv_lines(orders: Iterator[Order]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(header())  # BOM: Excel then reads UTF-8
    for order in orders:
        yield writer.writerow(row(order))


def export_orders(orders: QuerySet[Order]) -> Iterator[str]:
    """CSV text of these orders, streamed, CHUNK orders (+ their lines) per
    round trip."""
    return csv_lines(orders.prefetch_related("lines").iterator(chunk_size=CHUNK))
