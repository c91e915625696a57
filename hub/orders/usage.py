"""Orders' uses of a location (hub.catalog.usage): orders take their stock from one."""

from __future__ import annotations

from django.utils.translation import ngettext

from hub.catalog import usage
from hub.catalog.models import Location
from hub.orders.models import Order


def order_uses(location: Location) -> list[str]:
    count = Order.objects.filter(location=location).count()
    if not count:
        return []
    text = ngettext(
        "%(count)d order takes its stock from here.",
        "%(count)d orders take their stock from here.",
        count,
    )
    return [text % {"count": count}]


usage.register(order_uses)
