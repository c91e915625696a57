from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from hub.orders.models import Order
from hub.web import dashboard as board


def dashboard(request: HttpRequest) -> HttpResponse:
    """The front page: channel health, what needs action, the latest orders."""
    context = {
        "channels": board.channel_health(),
        "orders": board.order_counts(),
        "stock": board.stock_summary(),
        "recent_orders": board.recent_orders(),
        "open_status": Order.Status.OPEN.value,
    }
    return render(request, "web/dashboard.html", context)
