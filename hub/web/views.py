from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from hub.catalog.models import StockItem
from hub.orders.models import Order


def dashboard(request: HttpRequest) -> HttpResponse:
    context = {
        "item_count": StockItem.objects.count(),
        "open_order_count": Order.objects.filter(status=Order.Status.OPEN).count(),
    }
    return render(request, "web/dashboard.html", context)
