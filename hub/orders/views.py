"""Orders screens: the list (search, filters, pages, CSV) and one order with its
history."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hub.orders.dispatching import needing_attention
from hub.orders.export import export_orders
from hub.orders.finding import filtered_orders
from hub.orders.forms import LinkLineForm, OrderFilterForm
from hub.orders.linking import LinkError, link_line_by_hand
from hub.orders.models import ImportProblem, Order, OrderLine
from hub.orders.views_dispatch import detail_context
from hub.text import actor

PAGE_SIZE = 50
SHOWN_PROBLEMS = 20  # orders set aside, listed above the orders


def channel_names() -> list[str]:
    # DISTINCT over the (sub_source, …) index: no table scan.
    names = Order.objects.order_by("sub_source").values_list("sub_source", flat=True)
    return [name for name in names.distinct() if name]


def order_list(request: HttpRequest) -> HttpResponse:
    form = OrderFilterForm(request.GET or None, channels=channel_names())
    orders = filtered_orders(form).prefetch_related("lines")
    paginator = Paginator(orders, PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    filters = {k: v for k, v in request.GET.items() if k != "page" and v}
    context = {
        "form": form,
        "page": page,
        "page_numbers": paginator.get_elided_page_range(page.number),
        "query": urlencode(filters),
        # Orders a channel could not import: few, and the seller must see them.
        "problem_count": ImportProblem.objects.count(),
        "problems": ImportProblem.objects.all()[:SHOWN_PROBLEMS],
        "attention_count": needing_attention().count(),
    }
    return render(request, "orders/list.html", context)


def export_csv(request: HttpRequest) -> StreamingHttpResponse:
    """The orders the list's filters select, as CSV, named with today's date."""
    form = OrderFilterForm(request.GET or None, channels=channel_names())
    response = StreamingHttpResponse(
        export_orders(filtered_orders(form)), content_type="text/csv; charset=utf-8"
    )
    today = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="orders-{today}.csv"'
    return response


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
        linked = link_line_by_hand(
            line, form.cleaned_data["sku"], actor.of_request(request)
        )
    except LinkError as exc:
        messages.error(request, str(exc))
    else:
        item = linked.stock_item
        messages.success(
            request,
            _("Linked to %(sku)s; its stock is now promised to this order.")
            % {"sku": item.sku if item else form.cleaned_data["sku"]},
        )
    return redirect("order_detail", pk=pk)
