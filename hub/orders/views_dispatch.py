"""Dispatch screens: dispatch from the order page, correct/resend/handle a
dispatch, and the "needs action" list. The rules are in dispatching.py."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from hub.catalog.rows import RowsInvalid
from hub.orders.carriers import carriers_of
from hub.orders.dispatch_csv import Options, dispatch_csv, summary
from hub.orders.dispatching import (
    DispatchRequest,
    NotDispatchable,
    correct_dispatch,
    dispatch_order,
    is_cancelled,
    mark_handled,
    needing_attention,
    resend_dispatch,
)
from hub.orders.forms import (
    BulkDispatchForm,
    DispatchCsvForm,
    DispatchForm,
    DispatchOrderForm,
    LinkLineForm,
)
from hub.orders.links import channel_links
from hub.orders.models import Dispatch, Order
from hub.text import actor

SHOWN_ATTENTION = 200


def line_choices(order: Order) -> list[tuple[int, str]]:
    waiting = order.lines.filter(dispatch__isnull=True).order_by("id")
    return [(line.pk, f"{line.quantity}× {line.title}") for line in waiting]


def add_errors(form: Any, error: NotDispatchable) -> None:
    """Put each refusal on its field, so the page shows it next to what was typed."""
    for name, message in error.errors.items():
        form.add_error(name if name and name in form.fields else None, message)


def detail_context(
    order: Order,
    dispatch_form: DispatchOrderForm | None = None,
    correct_forms: dict[int, DispatchForm] | None = None,
) -> dict[str, Any]:
    dispatches = list(order.dispatches.prefetch_related("lines"))
    correct_forms = correct_forms or {}
    for dispatch in dispatches:
        dispatch.correct_form = correct_forms.get(dispatch.pk) or DispatchForm(  # type: ignore[attr-defined]
            initial={
                "carrier": dispatch.carrier,
                "tracking_number": dispatch.tracking_number,
                "other_carrier": dispatch.other_carrier,
            },
            prefix=f"d{dispatch.pk}",
        )
    lines = order.lines.select_related("stock_item", "dispatch").order_by("id")
    return {
        "order": order,
        "channel_link": channel_links([order]).get(order.pk, ""),
        "lines": lines,
        "discount": sum((line.discount for line in lines), Decimal(0)),
        "events": order.events.all(),
        "dispatches": dispatches,
        # Nothing is sent (again) for an order the buyer cancelled.
        "cancelled": bool(dispatches) and is_cancelled(order),
        "link_form": LinkLineForm(),
        "dispatch_form": dispatch_form or DispatchOrderForm(lines=line_choices(order)),
        "carriers": carriers_of(order.source, order.account),
    }


def _request_from(request: HttpRequest, data: dict[str, Any]) -> DispatchRequest:
    return DispatchRequest(
        actor=actor.of_request(request),
        carrier=data.get("carrier") or "",
        tracking_number=data.get("tracking_number") or "",
        line_ids=data.get("lines") or None,
        other_carrier=bool(data.get("other_carrier")),
        without_stock=bool(data.get("without_stock")),
        confirm_unpaid=bool(data.get("confirm_unpaid")),
    )


@require_POST
def dispatch(request: HttpRequest, pk: int) -> HttpResponse:
    order = get_object_or_404(Order, pk=pk)
    form = DispatchOrderForm(request.POST, lines=line_choices(order))
    if form.is_valid():
        try:
            done = dispatch_order(order, _request_from(request, form.cleaned_data))
        except NotDispatchable as exc:
            if set(exc.errors) == {""}:  # about the order, not the input
                messages.error(request, exc.errors[""])
                return redirect("order_detail", pk=pk)
            add_errors(form, exc)
        else:
            text = _("Dispatched.") + " " + stock_taken(*stock_counts(done))
            if done.tracking_number:
                text += " " + _("The tracking number waits in the outbox for the "
                                "channel.")  # fmt: skip
            messages.success(request, text)
            return redirect("order_detail", pk=pk)
    order.refresh_from_db()
    context = detail_context(order, dispatch_form=form)
    return render(request, "orders/detail.html", context, status=400)


def stock_counts(dispatch: Dispatch) -> tuple[int, int]:
    """(lines whose units were taken off, unlinked lines that took none)."""
    linked = dispatch.lines.filter(stock_item__isnull=False).count()
    return linked, dispatch.lines.count() - linked


def stock_taken(linked: int, unlinked: int) -> str:
    """What a dispatch did to the stock, in words."""
    parts = []
    if linked or not unlinked:
        parts.append(
            ngettext(
                "Stock taken off for %(n)d line.",
                "Stock taken off for %(n)d lines.",
                linked,
            )
            % {"n": linked}
        )
    if unlinked:
        parts.append(
            ngettext(
                "No stock taken for %(n)d unlinked line (dispatched without stock).",
                "No stock taken for %(n)d unlinked lines (dispatched without stock).",
                unlinked,
            )
            % {"n": unlinked}
        )
    return " ".join(parts)


def _dispatch_of(pk: int, dispatch_id: int) -> Dispatch:
    return get_object_or_404(
        Dispatch.objects.select_related("order"), pk=dispatch_id, order_id=pk
    )


@require_POST
def correct(request: HttpRequest, pk: int, dispatch_id: int) -> HttpResponse:
    dispatch = _dispatch_of(pk, dispatch_id)
    adding = not dispatch.tracking_number
    form = DispatchForm(request.POST, prefix=f"d{dispatch.pk}")
    if form.is_valid():
        try:
            correct_dispatch(dispatch, _request_from(request, form.cleaned_data))
        except NotDispatchable as exc:
            add_errors(form, exc)
        else:
            if adding:
                messages.success(
                    request,
                    _("Tracking number added; it waits in the outbox for the "
                      "channel."),
                )  # fmt: skip
            else:
                messages.success(request, _("Corrected; it will be sent again."))
            return redirect("order_detail", pk=pk)
    context = detail_context(dispatch.order, correct_forms={dispatch.pk: form})
    return render(request, "orders/detail.html", context, status=400)


@require_POST
def resend(request: HttpRequest, pk: int, dispatch_id: int) -> HttpResponse:
    try:
        resend_dispatch(_dispatch_of(pk, dispatch_id), actor.of_request(request))
    except NotDispatchable as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The tracking number will be sent again."))
    return redirect("order_detail", pk=pk)


@require_POST
def handled(request: HttpRequest, pk: int, dispatch_id: int) -> HttpResponse:
    mark_handled(_dispatch_of(pk, dispatch_id), actor.of_request(request))
    messages.success(request, _("Marked handled."))
    if request.POST.get("back") == "needs_action":
        return redirect("orders_needs_action")
    return redirect("order_detail", pk=pk)


def needs_action(request: HttpRequest) -> HttpResponse:
    dispatches = needing_attention()
    context = {
        "count": dispatches.count(),
        "dispatches": dispatches[:SHOWN_ATTENTION],
    }
    return render(request, "orders/needs_action.html", context)


MAX_UPLOAD_BYTES = 10 * 1024 * 1024
SHOWN_ERRORS = 200


@require_POST
def bulk_dispatch(request: HttpRequest) -> HttpResponse:
    """Dispatch the orders ticked on the list, each on its own (no tracking
    numbers: those come one by one, or from a CSV)."""
    form = BulkDispatchForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Tick the orders to dispatch."))
        return redirect("orders")
    data = form.cleaned_data
    done = linked = unlinked = 0
    for order in Order.objects.filter(pk__in=data["order"]).order_by("id"):
        try:
            made = dispatch_order(order, _request_from(request, data))
        except NotDispatchable as exc:
            messages.error(
                request,
                _("Order %(id)s: %(why)s") % {"id": order.external_id, "why": exc},
            )
        else:
            done += 1
            counts = stock_counts(made)
            linked, unlinked = linked + counts[0], unlinked + counts[1]
    if done:
        text = ngettext("%(n)d order dispatched.", "%(n)d orders dispatched.", done) % {
            "n": done
        }
        messages.success(request, text + " " + stock_taken(linked, unlinked))
    return redirect("orders")


def dispatch_csv_upload(request: HttpRequest) -> HttpResponse:
    form = DispatchCsvForm(
        request.POST if request.method == "POST" else None, request.FILES or None
    )
    errors = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            form.add_error("file", _("The file is larger than 10 MB."))
        else:
            flags = Options(
                other_carrier=form.cleaned_data["other_carrier"],
                without_stock=form.cleaned_data["without_stock"],
                confirm_unpaid=form.cleaned_data["confirm_unpaid"],
                actor=actor.of_request(request),
            )
            try:
                done = dispatch_csv(upload.read(), flags)
            except RowsInvalid as exc:
                errors = exc.errors
            else:
                messages.success(request, summary(done))
                return redirect("orders")
    context = {
        "form": form,
        "errors": errors[:SHOWN_ERRORS] if errors else None,
        "error_count": len(errors or []),
    }
    return render(request, "orders/dispatch_csv.html", context)
