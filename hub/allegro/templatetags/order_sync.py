"""``{% order_import_progress channel %}``: the running order import, and the
orders set aside because the hub could not use them, on the channel list (the
text lives in allegro/_order_import_progress.html)."""

from __future__ import annotations

from typing import Any

from django import template

from hub.allegro.models import Channel
from hub.allegro.sync.orders import SOURCE
from hub.allegro.sync.progress import order_import_progress as progress_of
from hub.orders.models import ImportProblem

register = template.Library()


@register.inclusion_tag("allegro/_order_import_progress.html")
def order_import_progress(channel: Channel) -> dict[str, Any]:
    return {
        "progress": progress_of(channel),
        "set_aside": ImportProblem.objects.filter(
            source=SOURCE, account=str(channel.pk)
        ).count(),
    }
