"""Inventory screens: list and search, create/edit with levels, locations, CSV."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from hub.catalog import csvio, stock
from hub.catalog.forms import (
    ImportForm,
    InventoryFilterForm,
    LevelsForm,
    LocationForm,
    StockItemForm,
)
from hub.catalog.models import Location, StockItem
from hub.catalog.rows import RowsInvalid

PAGE_SIZE = 50
SHOWN_ERRORS = 100


@require_GET
def inventory(request: HttpRequest) -> HttpResponse:
    filters = InventoryFilterForm(request.GET)
    # A bad value (a hand-edited address) is left out and shown as an error.
    filters.is_valid()
    query = filters.cleaned_data.get("q", "").strip()
    wanted = filters.cleaned_data.get("stock", "")
    items = stock.annotate_available(StockItem.objects.order_by("sku"))
    if query:
        items = items.filter(
            Q(sku__icontains=query) | Q(title__icontains=query) | Q(ean=query)
        )
    if wanted == InventoryFilterForm.OVERSOLD:
        items = items.filter(available__lt=0)
    elif wanted == InventoryFilterForm.OUT_OF_STOCK:
        items = items.filter(available=0)
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    shown: list[stock.ItemWithAvailable] = list(page.object_list)
    # A fixed number of queries per page, however many items or locations.
    on_hand = stock.on_hand_by_item_location(item.pk for item in shown)
    locations = list(Location.objects.all())
    rows = [
        {
            "item": item,
            "on_hand": [on_hand.get((item.pk, loc.pk)) for loc in locations],
            "allocated": item.allocated_total,
            "available": item.available,
        }
        for item in shown
    ]
    context = {
        "page": page,
        "rows": rows,
        "locations": locations,
        "query": query,
        "filters": filters,
        "filtered": bool(query or wanted),
    }
    return render(request, "catalog/inventory.html", context)


@require_http_methods(["GET", "POST"])
def item_create(request: HttpRequest) -> HttpResponse:
    return item_form(request, StockItem())


@require_http_methods(["GET", "POST"])
def item_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return item_form(request, get_object_or_404(StockItem, pk=pk))


def item_form(request: HttpRequest, item: StockItem) -> HttpResponse:
    locations = list(Location.objects.all()) or [stock.default_location()]
    initial = (
        {
            LevelsForm.field_name(level.location): level.on_hand
            for level in item.levels.select_related("location")
        }
        if item.pk
        else {}
    )
    data = request.POST if request.method == "POST" else None
    form = StockItemForm(data, instance=item)
    levels_form = LevelsForm(data, locations=locations, initial=initial)
    if data is not None and form.is_valid() and levels_form.is_valid():
        with transaction.atomic():
            saved = form.save()
            stock.set_levels(
                (
                    (saved.pk, location.pk, quantity)
                    for location, quantity in levels_form.levels()
                ),
                reason=f"user {request.user.get_username()}",
            )
        messages.success(request, _("Saved %(sku)s.") % {"sku": saved.sku})
        return redirect("inventory")
    context = {"form": form, "levels_form": levels_form, "item": item}
    return render(request, "catalog/item_form.html", context)


@require_http_methods(["GET", "POST"])
def locations(request: HttpRequest) -> HttpResponse:
    form = LocationForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        location = form.save()
        messages.success(request, _("Added location %(name)s.") % {"name": location})
        return redirect("inventory_locations")
    stock.default_location()
    context = {"form": form, "locations": Location.objects.all()}
    return render(request, "catalog/locations.html", context)


@require_http_methods(["GET", "POST"])
def import_csv(request: HttpRequest) -> HttpResponse:
    form = ImportForm(
        request.POST if request.method == "POST" else None, request.FILES or None
    )
    errors = None
    if request.method == "POST" and form.is_valid():
        try:
            result = csvio.import_csv(
                form.cleaned_data["file"].read(),
                reason=f"CSV import, user {request.user.get_username()}",
            )
        except RowsInvalid as exc:
            errors = exc.errors
        else:
            messages.success(request, result.summary())
            return redirect("inventory")
    context = {
        "form": form,
        "errors": errors[:SHOWN_ERRORS] if errors else None,
        "error_count": len(errors or []),
        "hidden_error_count": max(0, len(errors or []) - SHOWN_ERRORS),
    }
    return render(request, "catalog/import.html", context)


@require_GET
def export_csv(request: HttpRequest) -> StreamingHttpResponse:
    # "excel": semicolons and a BOM, so Polish Excel opens it in columns, in UTF-8.
    excel = request.GET.get("format") == "excel"
    body = csvio.export_csv(delimiter=";" if excel else ",", bom=excel)
    response = StreamingHttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="stock.csv"'
    return response
