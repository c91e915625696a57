"""The confirmation screen of a channel: planned ends and relists waiting for the
seller (approve or reject, one by one or all), what was done, pending relists
with their deadlines (strike off / restore), and a dry run. Like the channel
screens, for users who may manage channels: approving ends real offers."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from hub.allegro.models import Channel, Listing, PendingAction
from hub.allegro.permissions import channel_manager_required
from hub.allegro.sync import lifecycle
from hub.catalog.stock import available_by_item

RECENT = 50  # finished plans shown


@channel_manager_required
def lifecycle_page(request: HttpRequest, pk: int) -> HttpResponse:
    channel = get_object_or_404(Channel, pk=pk)
    actions = PendingAction.objects.filter(channel=channel).select_related("listing")
    pending = list(
        Listing.objects.filter(
            channel=channel, relist_pending_since__isnull=False
        ).order_by("ended_at", "pk")
    )
    available = available_by_item(
        {x.stock_item_id for x in pending if x.stock_item_id},
        channel.inventory_location,
    )
    for listing in pending:
        listing.deadline = lifecycle.relist_deadline(listing)  # type: ignore[attr-defined]
        listing.available = available.get(listing.stock_item_id or 0)  # type: ignore[attr-defined]
    context = {
        "channel": channel,
        "waiting": actions.filter(state=PendingAction.State.WAITING).order_by("pk"),
        "running": actions.filter(
            state__in=(PendingAction.State.APPROVED, PendingAction.State.RUNNING)
        ).order_by("pk"),
        "finished": actions.exclude(state__in=PendingAction.OPEN_STATES).order_by(
            "-finished_at", "-pk"
        )[:RECENT],
        "pending": pending,
        # GET only reads: the dry run changes nothing.
        "dry_run": lifecycle.preview(channel.pk) if "dry_run" in request.GET else None,
    }
    return render(request, "allegro/lifecycle.html", context)


@channel_manager_required
@require_POST
def lifecycle_decide(request: HttpRequest, pk: int) -> HttpResponse:
    channel = get_object_or_404(Channel, pk=pk)
    choice = request.POST.get("decision")
    raw_ids = request.POST.getlist("action") if "all" not in request.POST else []
    if choice not in ("approve", "reject") or not all(x.isdigit() for x in raw_ids):
        messages.error(request, _("Choose Approve or Reject; nothing was changed."))
        return redirect("channel_lifecycle", pk=channel.pk)
    if "all" not in request.POST and not raw_ids:
        messages.error(request, _("Tick at least one plan; nothing was changed."))
        return redirect("channel_lifecycle", pk=channel.pk)
    actions = PendingAction.objects.filter(channel=channel)
    if raw_ids:
        actions = actions.filter(pk__in=[int(x) for x in raw_ids])
    user_id = request.user.pk if request.user.is_authenticated else None
    count = lifecycle.decide(actions, approve=choice == "approve", user_id=user_id)
    if choice == "approve":
        text = ngettext(
            "%(n)d plan approved; it is sent on the next sync pass.",
            "%(n)d plans approved; they are sent on the next sync pass.",
            count,
        )
    else:
        text = ngettext(
            "%(n)d plan rejected; nothing is sent.",
            "%(n)d plans rejected; nothing is sent.",
            count,
        )
    messages.success(request, text % {"n": count})
    return redirect("channel_lifecycle", pk=channel.pk)


@channel_manager_required
@require_POST
def lifecycle_strike(request: HttpRequest, pk: int, listing_pk: int) -> HttpResponse:
    listing = get_object_or_404(Listing, pk=listing_pk, channel_id=pk)
    struck = request.POST.get("struck") == "1"
    if lifecycle.strike_off(listing, struck):
        text = (
            _("%(offer)s struck off: it will not be relisted.")
            if struck
            else _("%(offer)s restored: it is relisted when stock returns.")
        )
        messages.success(request, text % {"offer": listing.offer_id})
    else:
        messages.error(
            request,
            _("%(offer)s is not pending relist; nothing was changed.")
            % {"offer": listing.offer_id},
        )
    back = request.POST.get("next", "")
    if back.startswith("/") and not back.startswith("//"):
        return redirect(back)
    return redirect(reverse("channel_lifecycle", args=[pk]))
