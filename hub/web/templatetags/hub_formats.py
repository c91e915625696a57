"""Template filters for money, times and channel statuses: one form per language.

Built in (settings.TEMPLATES builtins), so every template can write
``{{ order.total|money:order.currency }}``, ``{{ order.bought_at|when }}``,
``{{ day|day }}`` and ``{% status_badge order.channel_status %}``.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from django import template
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import pgettext_lazy

from hub.allegro.status import LISTING_STATUSES
from hub.orders.texts import lines_sent_words, status_words
from hub.text import formats

register = template.Library()


@register.filter
def money(amount: Decimal | str | None, currency: str = "") -> str:
    return formats.format_money(amount, currency or "")


@register.filter
def when(value: datetime | str | None) -> str:
    """A moment (or an ISO 8601 text, as JSON fields keep them) in local time."""
    if isinstance(value, str):
        try:
            moment = parse_datetime(value)
        except ValueError:
            moment = None
        return formats.format_when(moment) if moment else value
    return formats.format_when(value)


@register.filter
def day(value: date | datetime | None) -> str:
    return formats.format_day(value)


@register.simple_tag
def channel_status(raw: str) -> SafeString:
    """A channel's status in words, the raw code as a tooltip."""
    if not raw:
        return mark_safe("—")
    return format_html(
        '<span class="status status-{}" title="{}">{}</span>',
        raw.lower(),
        raw,
        status_words(raw),
    )


@register.simple_tag
def lines_sent(raw: str) -> SafeString:
    """How many lines the channel has in shipments (none/some/all), in words."""
    return format_html('<span title="{}">{}</span>', raw, lines_sent_words(raw))


@register.simple_tag
def listing_status(raw: str) -> SafeString:
    """An offer's status in words, the raw code as a tooltip."""
    if not raw:
        return mark_safe("—")
    words = LISTING_STATUSES.get(raw, raw)
    return format_html(
        '<span class="status status-{}" title="{}">{}</span>', raw.lower(), raw, words
    )


# Allegro's payment types (api-notes §3.2), in words; others stay raw.
PAYMENT_TYPES = {
    "CASH_ON_DELIVERY": pgettext_lazy("payment type", "Cash on delivery"),
    "WIRE_TRANSFER": pgettext_lazy("payment type", "Wire transfer"),
    "ONLINE": pgettext_lazy("payment type", "Online payment"),
    "SPLIT_PAYMENT": pgettext_lazy("payment type", "Split payment"),
    "EXTENDED_TERM": pgettext_lazy("payment type", "Deferred payment"),
}


@register.simple_tag
def payment_type(raw: str | None) -> SafeString:
    if not raw:
        return mark_safe("—")
    words = PAYMENT_TYPES.get(raw)
    return format_html('<span title="{}">{}</span>', raw, words or raw)


@register.filter
def address_lines(value: object) -> list[str]:
    """The filled-in values of an address-like dict (nested ones flattened),
    without their field names and ids: what a label would show."""
    lines: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "id":
                continue
            if isinstance(item, dict):
                lines += address_lines(item)
            elif item not in (None, "", True, False):
                lines.append(str(item))
    return lines
