from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.templatetags.static import static

from hub.catalog.forms import InventoryFilterForm
from hub.orders.models import Order
from hub.web import dashboard as board


def dashboard(request: HttpRequest) -> HttpResponse:
    """The front page: channel health, what needs action, the latest orders."""
    channels = board.channel_health()
    context = {
        "channels": channels,
        "sync_problems": [(line, flow) for line in channels for flow in line.problems],
        "orders": board.order_counts(),
        "stock": board.stock_summary(),
        "recent_orders": board.recent_orders(),
        "open_status": Order.Status.OPEN.value,
        "oversold_filter": InventoryFilterForm.OVERSOLD,
        "out_of_stock_filter": InventoryFilterForm.OUT_OF_STOCK,
    }
    return render(request, "web/dashboard.html", context)


def settings_index(request: HttpRequest) -> HttpResponse:
    """Settings in the top bar: where each kind of setting lives."""
    return render(request, "web/settings.html")


@login_not_required
def favicon(request: HttpRequest) -> HttpResponse:
    """The icon browsers ask for on pages without the base template's link."""
    return HttpResponseRedirect(static("hub/favicon.svg"))
