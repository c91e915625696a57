"""The item page: one stock item's stock per location, its open orders, its
listings on the channels and its stock history.

It lives in web because it joins apps that never import each other: catalog
(stock and its history), orders (open orders), allegro (listings, through
hub.allegro.status). A fixed number of queries whatever the item's history.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import Q, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from hub.allegro.permissions import can_manage_channels
from hub.allegro.status import item_listings
from hub.catalog import stock
from hub.catalog import texts as catalog_texts
from hub.catalog.models import StockChange, StockItem
from hub.orders.models import Order

HISTORY_PAGE = 50
SHOWN_ORDERS = 50


@require_GET
def item_page(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(StockItem, pk=pk)
    levels = stock.stock_by_location(item)
    orders = (
        Order.objects.filter(status=Order.Status.OPEN, lines__stock_item=item)
        .annotate(units=Sum("lines__quantity", filter=Q(lines__stock_item=item)))
        .order_by("-bought_at", "-id")
    )
    open_orders = list(orders[: SHOWN_ORDERS + 1])
    changes = (
        StockChange.objects.filter(item=item)
        .select_related("location")
        .order_by("-created_at", "-id")
    )
    history = Paginator(changes, HISTORY_PAGE).get_page(request.GET.get("page"))
    context = {
        "item": item,
        "levels": levels,
        "totals": {
            "on_hand": sum(level.on_hand or 0 for level in levels),
            "allocated": sum(level.allocated for level in levels),
            "available": sum(level.available for level in levels),
        },
        "open_orders": open_orders[:SHOWN_ORDERS],
        "more_orders": len(open_orders) > SHOWN_ORDERS,
        "listings": item_listings(item.pk),
        "listing_pages": can_manage_channels(request.user),
        "history": history,
        "order_code": catalog_texts.ORDER,
    }
    return render(request, "web/item.html", context)
