"""Orders screens: the list (filters, keyset paging) and one order with its history."""

from __future__ import annotations

from datetime import datetime, time
from urllib.parse import urlencode

from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hub.orders.dispatching import needing_attention
from hub.orders.forms import LinkLineForm, OrderFilterForm
from hub.orders.linking import LinkError, link_line_by_hand
from hub.orders.models import ImportProblem, Order, OrderLine
from hub.orders.paging import page_of
from hub.orders.views_dispatch import detail_context

PAGE_SIZE = 50
SHOWN_PROBLEMS = 20  # orders set aside, listed above the orders


def channel_names() -> list[str]:
    # DISTINCT over the (sub_source, …) index: no table scan.
    names = Order.objects.order_by("sub_source").values_list("sub_source", flat=True)
    return [name for name in names.distinct() if name]


def filtered_orders(form: OrderFilterForm) -> QuerySet[Order]:
    orders = Order.objects.all()
    if not form.is_valid():
        return orders
    data = form.cleaned_data
    if data["channel"]:
        orders = orders.filter(sub_source=data["channel"])
    if data["status"]:
        orders = orders.filter(status=data["status"])
    if data["unlinked"]:
        orders = orders.filter(has_unlinked_lines=True)
    zone = timezone.get_current_timezone()
    if data["bought_from"]:
        start = datetime.combine(data["bought_from"], time.min, tzinfo=zone)
        orders = orders.filter(bought_at__gte=start)
    if data["bought_to"]:
        end = datetime.combine(data["bought_to"], time.max, tzinfo=zone)
        orders = orders.filter(bought_at__lte=end)
    return orders


def order_list(request: HttpRequest) -> HttpResponse:
    form = OrderFilterForm(request.GET or None, channels=channel_names())
    page = page_of(
        filtered_orders(form).prefetch_related("lines"),
        PAGE_SIZE,
        after=request.GET.get("after", ""),
        before=request.GET.get("before", ""),
    )
    filters = {
        k: v for k, v in request.GET.items() if k not in ("after", "before") and v
    }
    context = {
        "form": form,
        "page": page,
        "next_url": "?" + urlencode({**filters, "after": page.next_key})
        if page.next_key
        else "",
        "previous_url": "?" + urlencode({**filters, "before": page.previous_key})
        if page.previous_key
        else "",
        "first_url": "?" + urlencode(filters),
        # Orders a channel could not import: few, and the seller must see them.
        "problem_count": ImportProblem.objects.count(),
        "problems": ImportProblem.objects.all()[:SHOWN_PROBLEMS],
        "attention_count": needing_attention().count(),
    }
    return render(request, "orders/list.html", context)


def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    order = get_object_or_404(Order.objects.select_related("location"), pk=pk)
    return render(request, "orders/detail.html", detail_context(order))


@require_POST
def link_line(request: HttpRequest, pk: int, line_id: int) -> HttpResponse:
    line = get_object_or_404(OrderLine, pk=line_id, order_id=pk)
    form = LinkLineForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter the SKU of a stock item."))
        return redirect("order_detail", pk=pk)
    try:
        link_line_by_hand(line, form.cleaned_data["sku"])
    except LinkError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("Linked to %(sku)s; its stock is now promised to this order.")
            % {"sku": form.cleaned_data["sku"]},
        )
    return redirect("order_detail", pk=pk)
