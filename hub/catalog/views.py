"""Inventory screens: list and search, create/edit with levels, locations, CSV."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, Q
from django.http import HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from hub.catalog import csvio, import_stream, stock, texts, usage
from hub.catalog.forms import (
    LOCATION_TAKEN,
    SKU_TAKEN,
    ImportForm,
    InventoryFilterForm,
    LevelsForm,
    LocationForm,
    StockItemForm,
)
from hub.catalog.models import Location, StockItem, StockLevel
from hub.catalog.rows import RowsInvalid
from hub.text import actor
from hub.text.message import Message

PAGE_SIZE = 50
SHOWN_ERRORS = import_stream.SHOWN_ERRORS


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
        try:
            with transaction.atomic():
                moved = levels_form.moved_since_shown(locked_levels(item))
                if moved:
                    raise LevelsMoved(moved)
                saved = form.save()
                stock.set_levels(
                    (
                        (saved.pk, location.pk, quantity)
                        for location, quantity in levels_form.levels()
                    ),
                    reason=Message(texts.EDITED),
                    actor=actor.of_request(request),
                )
        except LevelsMoved as exc:
            levels_form = show_moved(request, data, locations, exc.moved)
        except IntegrityError:
            # Another item took this SKU (in another case) since the check.
            form.add_error("sku", SKU_TAKEN)
        else:
            messages.success(request, _("Saved %(sku)s.") % {"sku": saved.sku})
            return redirect("inventory")
    context = {"form": form, "levels_form": levels_form, "item": item}
    return render(request, "catalog/item_form.html", context)


class LevelsMoved(Exception):
    def __init__(self, moved: list[tuple[Location, int | None]]) -> None:
        super().__init__("stock levels changed since the page was shown")
        self.moved = moved


def locked_levels(item: StockItem) -> dict[int, int]:
    """The item's on-hand per location, locked until the save commits."""
    if item.pk is None:
        return {}
    levels = StockLevel.objects.select_for_update().filter(item=item).order_by("pk")
    return dict(levels.values_list("location_id", "on_hand"))


def show_moved(
    request: HttpRequest,
    data: QueryDict,
    locations: list[Location],
    moved: list[tuple[Location, int | None]],
) -> LevelsForm:
    """The form again, saying what changed; the new values become the shown
    ones, so saving again (after a look) goes through."""
    data = data.copy()
    for location, now in moved:
        data[f"initial-{LevelsForm.field_name(location)}"] = (
            "" if now is None else str(now)
        )
    form = LevelsForm(data, locations=locations)
    form.is_valid()
    for location, now in moved:
        text = _(
            "Changed to %(now)s while you were editing (an order was dispatched, "
            "or someone else saved). Check your number and save again."
        ) % {"now": "—" if now is None else now}
        form.add_error(LevelsForm.field_name(location), text)
    messages.error(
        request,
        _("Nothing was saved: stock on hand changed while you were editing."),
    )
    return form


@require_http_methods(["GET", "POST"])
def locations(request: HttpRequest) -> HttpResponse:
    form = LocationForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                location = form.save()
        except IntegrityError:
            # Added meanwhile (in any case): the database's rule decides.
            form.add_error("name", LOCATION_TAKEN)
        else:
            messages.success(
                request, _("Added location %(name)s.") % {"name": location}
            )
            return redirect("inventory_locations")
    stock.default_location()
    context = {"form": form, "locations": Location.objects.all()}
    return render(request, "catalog/locations.html", context)


@require_http_methods(["GET", "POST"])
def location_rename(request: HttpRequest, pk: int) -> HttpResponse:
    location = get_object_or_404(Location, pk=pk)
    old_name = str(location)
    form = LocationForm(request.POST or None, instance=location)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                form.save()
        except IntegrityError:
            form.add_error("name", LOCATION_TAKEN)
        else:
            messages.success(
                request,
                _("Renamed location %(old)s to %(new)s.")
                % {"old": old_name, "new": location.name},
            )
            return redirect("inventory_locations")
    context = {"form": form, "location": location, "old_name": old_name}
    return render(request, "catalog/location_rename.html", context)


@require_http_methods(["GET", "POST"])
def location_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Asks first; refuses while anything uses the location (hub.catalog.usage)."""
    location = get_object_or_404(Location, pk=pk)
    uses = usage.location_uses(location)
    if request.method == "POST" and not uses:
        try:
            with transaction.atomic():
                # Levels at 0 go with it; anything added meanwhile is PROTECTed.
                StockLevel.objects.filter(location=location, on_hand=0).delete()
                location.delete()
        except ProtectedError:
            uses = usage.location_uses(location) or [
                _("Stock or an order came to this location meanwhile.")
            ]
        else:
            messages.success(
                request, _("Deleted location %(name)s.") % {"name": location}
            )
            return redirect("inventory_locations")
    if request.method == "POST":
        messages.error(
            request,
            _("Location %(name)s was not deleted: it is still in use.")
            % {"name": location},
        )
    context = {"location": location, "uses": uses}
    return render(request, "catalog/location_delete.html", context)


@require_http_methods(["GET", "POST"])
def import_csv(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    form = ImportForm(
        request.POST if request.method == "POST" else None, request.FILES or None
    )
    errors = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size >= import_stream.STREAM_FROM_BYTES:
            return import_stream.stream_import(
                request, upload.read(), upload.name, actor.of_request(request)
            )
        try:
            result = csvio.import_csv(
                form.cleaned_data["file"].read(),
                actor=actor.of_request(request),
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
    # Named with the day (local time), so the downloads of several days stay apart.
    today = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="stock-{today}.csv"'
    return response
