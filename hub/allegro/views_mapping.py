"""The inventory mapping screen of a channel: its listings, their stock links, and
how the last quantity push went.

Search and filters run in the database; pages are keyset pages by id (never
OFFSET), so page 1 000 of 100 000 listings costs what page 1 does.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.db.models import F, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_POST

from hub.allegro.models import Channel, Listing
from hub.allegro.sync import listings as listings_sync
from hub.allegro.sync.inventory import PUSHABLE_STATUSES
from hub.orders.linking import find_item

PAGE_SIZE = 100
# The session key of a refused SKU: {"listing": id, "sku": what was typed}.
TYPED_SKU = "mapping_typed_sku"


class MappingFilterForm(forms.Form):
    SHOW = [
        ("", gettext_lazy("All listings")),
        ("unlinked", gettext_lazy("Not linked")),
        ("out_of_sync", gettext_lazy("Out of sync")),
        ("out_of_stock", gettext_lazy("Out of stock but live")),
        ("failed", gettext_lazy("Push failed")),
        ("ended", pgettext_lazy("listings filter", "Ended")),
    ]
    q = forms.CharField(
        label=gettext_lazy("Search"),
        required=False,
        max_length=100,
        help_text=gettext_lazy("Offer id, external id or words of the title"),
    )
    show = forms.ChoiceField(label=gettext_lazy("Show"), choices=SHOW, required=False)


def live_linked() -> Q:
    return Q(stock_item__isnull=False, status__in=PUSHABLE_STATUSES)


def filtered(channel: Channel, form: MappingFilterForm) -> QuerySet[Listing]:
    rows = Listing.objects.filter(channel=channel)
    if not form.is_valid():
        return rows
    query = form.cleaned_data["q"].strip()
    if query:
        rows = rows.filter(
            Q(offer_id=query) | Q(external_id=query) | Q(title__icontains=query)
        )
    show = form.cleaned_data["show"]
    if show == "unlinked":
        rows = rows.filter(stock_item__isnull=True)
    elif show == "out_of_sync":
        rows = rows.filter(
            live_linked(), format=Listing.Format.BUY_NOW, target__gte=1
        ).filter(Q(known_quantity__isnull=True) | ~Q(known_quantity=F("target")))
    elif show == "out_of_stock":
        rows = rows.filter(live_linked(), target__lt=1)
    elif show == "failed":
        rows = rows.filter(push_state=Listing.PushState.FAILED)
    elif show == "ended":
        rows = rows.filter(status__in=["ENDED", listings_sync.ARCHIVED])
    return rows


def _int(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def listing_page(
    rows: QuerySet[Listing], after: int | None, before: int | None
) -> tuple[list[Listing], int | None, int | None]:
    """(page, id to continue after, id to go back before), by id."""
    rows = rows.select_related("stock_item", "push_command")
    if before is not None:
        found = list(rows.filter(id__lt=before).order_by("-id")[: PAGE_SIZE + 1])
        more_before = len(found) > PAGE_SIZE
        page = found[:PAGE_SIZE][::-1]
        return page, page[-1].pk if page else None, page[0].pk if more_before else None
    if after is not None:
        rows = rows.filter(id__gt=after)
    found = list(rows.order_by("id")[: PAGE_SIZE + 1])
    page = found[:PAGE_SIZE]
    next_after = page[-1].pk if len(found) > PAGE_SIZE else None
    previous = page[0].pk if page and after is not None else None
    return page, next_after, previous


def mapping(request: HttpRequest, pk: int) -> HttpResponse:
    channel = get_object_or_404(Channel, pk=pk)
    form = MappingFilterForm(request.GET or None)
    rows = filtered(channel, form)
    page, next_after, previous = listing_page(
        rows,
        _int(request.GET.get("after", "")),
        _int(request.GET.get("before", "")),
    )
    kept = {k: v for k, v in request.GET.items() if k in ("q", "show") and v}
    context = {
        "channel": channel,
        "form": form,
        "listings": page,
        "next_url": "?" + urlencode({**kept, "after": next_after})
        if next_after
        else "",
        "previous_url": "?" + urlencode({**kept, "before": previous})
        if previous
        else "",
        "first_url": "?" + urlencode(kept),
        "here": request.get_full_path(),
        "total": Listing.objects.filter(channel=channel).count(),
        # How many the search or filter found (one count; None without one).
        "matching": rows.count() if kept else None,
        "typed": request.session.pop(TYPED_SKU, None) or {},
    }
    return render(request, "allegro/mapping.html", context)


def _back(request: HttpRequest, channel: Channel) -> HttpResponse:
    target = request.POST.get("next", "")
    mapping_url = f"/settings/channels/{channel.pk}/listings/"
    if target.startswith(mapping_url):  # only back to this screen, never elsewhere
        return redirect(target)
    return redirect("channel_mapping", pk=channel.pk)


@require_POST
def link(request: HttpRequest, pk: int, listing_id: int) -> HttpResponse:
    listing = get_object_or_404(Listing, pk=listing_id, channel_id=pk)
    who = request.user.get_username()
    action = request.POST.get("action", "link")
    if action == "unlink":
        listings_sync.set_link(listing, None, who=who)
        messages.success(
            request, _("Unlinked offer %(id)s.") % {"id": listing.offer_id}
        )
    elif action == "auto":
        listings_sync.clear_manual_link(listing)
        messages.success(
            request,
            _("Offer %(id)s is linked automatically again (external id = SKU).")
            % {"id": listing.offer_id},
        )
    else:
        sku = request.POST.get("sku", "").strip()
        item = find_item(sku)
        if item is None:
            # Shown again in the listing's SKU box, to correct it.
            request.session[TYPED_SKU] = {"listing": listing.pk, "sku": sku[:100]}
            messages.error(
                request,
                _("No stock item with SKU “%(sku)s”; nothing was changed.")
                % {"sku": sku},
            )
        else:
            listings_sync.set_link(listing, item, who=who)
            messages.success(
                request,
                _("Linked offer %(id)s to %(sku)s.")
                % {"id": listing.offer_id, "sku": item.sku},
            )
    return _back(request, listing.channel)


@require_POST
def auto_link(request: HttpRequest, pk: int) -> HttpResponse:
    channel = get_object_or_404(Channel, pk=pk)
    linked = listings_sync.auto_link(channel)
    listings_sync.link_order_lines(channel, linked)
    messages.success(
        request,
        _("Linked %(n)d listings whose external id is a SKU.") % {"n": len(linked)},
    )
    return _back(request, channel)


def listing_detail(request: HttpRequest, pk: int, listing_id: int) -> HttpResponse:
    listing = get_object_or_404(
        Listing.objects.select_related("channel", "stock_item"),
        pk=listing_id,
        channel_id=pk,
    )
    events = listing.events.select_related("command").order_by("-created_at", "-id")
    context = {"listing": listing, "channel": listing.channel, "events": events[:200]}
    return render(request, "allegro/listing_detail.html", context)
