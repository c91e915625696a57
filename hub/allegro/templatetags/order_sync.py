"""``{% order_import_progress channel %}``: the running order import, on the
channel list (the text lives in allegro/_order_import_progress.html)."""

from __future__ import annotations

from typing import Any

from django import template

from hub.allegro.models import Channel
from hub.allegro.sync.progress import order_import_progress as progress_of

register = template.Library()


@register.inclusion_tag("allegro/_order_import_progress.html")
def order_import_progress(channel: Channel) -> dict[str, Any]:
    return {"progress": progress_of(channel)}
