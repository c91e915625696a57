"""Finding orders: the orders list's search, filters and sort, shared by the
screen and its CSV export (which exports exactly what the screen shows).

Every filter is a WHERE on the orders table or an EXISTS over the lines, so a
page costs the same few queries (count, page, its lines) at any size.
"""

from __future__ import annotations

from datetime import datetime, time

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from hub.orders.forms import OrderFilterForm
from hub.orders.models import Dispatch, Order, OrderLine

# Allegro's checkout-form status once the buyer has paid (api-notes §3.2).
READY = "READY_FOR_PROCESSING"
SORTS = {
    "newest": ("-bought_at", "-id"),
    "oldest": ("bought_at", "id"),
    "total_desc": ("-total", "-id"),
    "total_asc": ("total", "id"),
}


def needs_action() -> Q:
    """Orders the seller has to do something about: open ones with lines to
    link, or paid and waiting to be sent; and any with a dispatch the channel
    refused or the buyer cancelled after it left."""
    attention = Dispatch.objects.filter(
        order=OuterRef("pk"), state__in=Dispatch.ATTENTION_STATES
    )
    waiting = Q(status=Order.Status.OPEN) & (
        Q(has_unlinked_lines=True) | Q(paid=True) | Q(channel_status=READY)
    )
    return waiting | Q(Exists(attention))


def search(orders: QuerySet[Order], text: str) -> QuerySet[Order]:
    """Buyer login or name (contains), Allegro order id (whole or its start),
    or a line's offer id or SKU (exact)."""
    text = text.strip()
    if not text:
        return orders
    lines = OrderLine.objects.filter(order=OuterRef("pk")).filter(
        Q(offer_id=text) | Q(sku__iexact=text)
    )
    return orders.filter(
        Q(buyer_login__icontains=text)
        | Q(buyer_name__icontains=text)
        | Q(external_id__istartswith=text)
        | Exists(lines)
    )


def filtered_orders(form: OrderFilterForm) -> QuerySet[Order]:
    orders = Order.objects.all()
    if not form.is_valid():
        return orders.order_by(*SORTS["newest"])
    data = form.cleaned_data
    orders = search(orders, data["q"])
    if data["channel"]:
        orders = orders.filter(sub_source=data["channel"])
    if data["status"]:
        orders = orders.filter(status=data["status"])
    if data["paid"]:
        orders = orders.filter(paid=data["paid"] == "yes")
    if data["unlinked"]:
        orders = orders.filter(has_unlinked_lines=True)
    if data["needs_action"]:
        orders = orders.filter(needs_action())
    zone = timezone.get_current_timezone()
    if data["bought_from"]:
        start = datetime.combine(data["bought_from"], time.min, tzinfo=zone)
        orders = orders.filter(bought_at__gte=start)
    if data["bought_to"]:
        end = datetime.combine(data["bought_to"], time.max, tzinfo=zone)
        orders = orders.filter(bought_at__lte=end)
    return orders.order_by(*SORTS.get(data["sort"] or "newest", SORTS["newest"]))
