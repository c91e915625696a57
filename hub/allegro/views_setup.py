"""Settings → Channel Integration: list, Add New Channel, the config screen, Test.

The seed's Quick Guide (../shared/seed/), step by step: the list, "Add New Channel",
"Integrate" on Allegro, the config screen with Save at the top right, and Test.
"""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from hub.allegro import connection, views_oauth
from hub.allegro.forms import ChannelForm
from hub.allegro.links import SOURCE
from hub.allegro.models import Channel
from hub.allegro.permissions import channel_manager_required
from hub.orders.models import ImportProblem, Order
from hub.web import audit

CHANNEL_FIELDS = [
    "name",
    "environment",
    "api_url",
    "auth_url",
    "client_id",
    "client_secret",
    "default_currency",
]
# The audit record's words for the buttons that act on Allegro.
ACTION_RECORDS = {
    "connect": "Started “Connect with Allegro”.",
    "device": "Started connecting with a code (device flow).",
    "test": "Ran Test.",
}


@channel_manager_required
def channel_list(request: HttpRequest) -> HttpResponse:
    channels = Channel.objects.prefetch_related("cursors")
    return render(request, "allegro/channel_list.html", {"channels": channels})


@channel_manager_required
def channel_add(request: HttpRequest) -> HttpResponse:
    """Add New Channel: the integrations this hub has (Allegro)."""
    return render(request, "allegro/channel_add.html")


@channel_manager_required
def channel_new(request: HttpRequest) -> HttpResponse:
    """Integrate, on Allegro: the config screen for a channel not saved yet."""
    return _config(request, Channel())


@channel_manager_required
def channel_config(request: HttpRequest, pk: int) -> HttpResponse:
    return _config(request, get_object_or_404(Channel, pk=pk))


def _config(request: HttpRequest, channel: Channel) -> HttpResponse:
    is_new = channel.pk is None
    form = ChannelForm(request.POST or None, instance=channel)
    if request.method == "POST" and form.is_valid():
        was_connected = channel.is_connected
        changed = is_new or form.has_changed()
        changed_fields = form.changed_data
        channel = form.save()
        action = request.POST.get("action", "save")
        if is_new:
            audit.record(request, channel, audit.ADDITION, "Added the channel.")
        elif changed_fields:
            audit.record(
                request, channel, audit.CHANGE, f"Changed {', '.join(changed_fields)}."
            )
        if changed and action == "test":
            # Connect and Test use what is on the screen, so they save it first
            # (docs/connecting-allegro.md §3 says why). Connecting plainly keeps
            # the channel; after Test, say so, or a seller who then clicks Cancel
            # believes nothing changed.
            messages.info(
                request,
                _(
                    "Saved your changes to %(name)s first: Connect and Test use "
                    "what is on this page."
                )
                % {"name": channel},
            )
        if was_connected and not channel.is_connected:
            messages.warning(
                request,
                _("The environment or Client ID changed: connect the account again."),
            )
        return _after_save(request, channel, action)
    context = {
        "form": form,
        "channel": None if is_new else channel,
        "channel_fields": [form[name] for name in CHANNEL_FIELDS],
        "redirect_uri": views_oauth.redirect_uri(request),
        "option_fields": [
            form[name] for name in form.fields if name not in CHANNEL_FIELDS
        ],
    }
    return render(request, "allegro/channel_config.html", context)


@channel_manager_required
def channel_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Asks first, saying what goes and what stays: orders are the hub's, kept
    with the channel's name; its listings, sync state and tokens go."""
    channel = get_object_or_404(Channel, pk=pk)
    orders = Order.objects.filter(source=SOURCE, account=str(channel.pk)).count()
    if request.method == "POST":
        name = channel.name
        with transaction.atomic():
            # Recorded first: the log entry names the object while it exists.
            audit.record(request, channel, audit.DELETION, "Deleted the channel.")
            # Forms set aside would wait for a sync that never comes again.
            ImportProblem.objects.filter(source=SOURCE, account=str(pk)).delete()
            channel.delete()
        messages.success(
            request,
            ngettext(
                "Deleted channel %(name)s. Its %(count)d order is kept.",
                "Deleted channel %(name)s. Its %(count)d orders are kept.",
                orders,
            )
            % {"name": name, "count": orders},
        )
        return redirect("channels")
    context = {
        "channel": channel,
        "orders": orders,
        "listings": channel.listings.count(),
    }
    return render(request, "allegro/channel_delete.html", context)


def _after_save(request: HttpRequest, channel: Channel, action: str) -> HttpResponse:
    if action in ("connect", "device", "test"):
        audit.record(request, channel, audit.CHANGE, ACTION_RECORDS[action])
    if action == "connect":
        return views_oauth.start_authorization(request, channel)
    if action == "device":
        return views_oauth.start_device(request, channel)
    if action == "test":
        views_oauth.show_outcome(request, connection.check_connection(channel))
        return redirect("channel_config", pk=channel.pk)
    if channel.is_connected and not channel.default_currency:
        connection.fill_default_currency(channel)
    messages.success(
        request,
        _("Saved %(name)s. Changes apply from the next sync.") % {"name": channel},
    )
    if not channel.is_connected:
        messages.warning(
            request,
            _(
                "%(name)s is not connected to Allegro yet: nothing syncs until you "
                "click “Connect with Allegro”."
            )
            % {"name": channel},
        )
    return redirect("channels")
