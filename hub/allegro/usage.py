"""Channels' uses of a location (hub.catalog.usage): a channel sends one
location's stock to Allegro, or takes its orders' stock from one."""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext as _

from hub.allegro.models import Channel
from hub.catalog import usage
from hub.catalog.models import Location


def channel_uses(location: Location) -> list[str]:
    uses = []
    channels = Channel.objects.filter(
        Q(inventory_location=location) | Q(fulfilment_location=location)
    ).order_by("name")
    for channel in channels:
        if channel.inventory_location_id == location.pk:
            text = _("Channel %(name)s sends this location's stock to Allegro.")
        else:
            text = _("Channel %(name)s takes its orders' stock from here.")
        uses.append(text % {"name": channel.name})
    return uses


usage.register(channel_uses)
