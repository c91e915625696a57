"""How far a channel's order import got, for the channel list ("Long work shows
progress in the UI"): the backfill or the re-read after a journal gap, while one
is running — the CLI prints the same as it goes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hub.allegro.models import Channel
from hub.allegro.sync.orders import BACKFILL, GAP, SOURCE
from hub.orders.models import Order


@dataclass(frozen=True)
class ImportProgress:
    stream: str  # BACKFILL or GAP
    reached: datetime  # orders bought (BACKFILL) or changed (GAP) up to here
    orders: int  # the channel's orders in the hub so far


def order_import_progress(channel: Channel) -> ImportProgress | None:
    """The running backfill or gap re-read of this channel; None when none runs.

    Reads ``channel.cursors.all()`` (prefetch it for a list of channels) and, only
    while an import runs, counts the channel's orders.
    """
    running = [
        cursor
        for cursor in channel.cursors.all()
        if cursor.stream in (BACKFILL, GAP) and cursor.value
    ]
    if not running:
        return None
    cursor = min(running, key=lambda c: c.stream != BACKFILL)  # backfill first
    return ImportProgress(
        stream=cursor.stream,
        reached=datetime.fromisoformat(cursor.value),
        orders=Order.objects.filter(source=SOURCE, account=str(channel.pk)).count(),
    )
