"""How far a channel's order import got, for the channel list and the dashboard
("Long work shows progress in the UI"): the backfill or the re-read after a
journal gap, while one is running — the CLI prints the same as it goes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count

from hub.allegro.models import Channel, SyncCursor
from hub.allegro.sync.order_backfill import BACKFILL, parse_backfill
from hub.allegro.sync.orders import GAP, SOURCE
from hub.orders.models import Order


@dataclass(frozen=True)
class ImportProgress:
    stream: str  # BACKFILL or GAP
    reached: datetime  # orders bought (BACKFILL) or changed (GAP) up to here
    orders: int  # the channel's orders in the hub so far


def order_import_progress(channel: Channel) -> ImportProgress | None:
    """The running backfill or gap re-read of this channel; None when none runs."""
    return import_progress_by_channel([channel]).get(channel.pk)


def import_progress_by_channel(
    channels: Iterable[Channel],
) -> dict[int, ImportProgress]:
    """Channel id → its running import, for the channels that have one.

    Reads each ``channel.cursors.all()`` (prefetch them for a list of channels)
    and, only if some import runs, counts their orders in one grouped query —
    the same number of queries for one channel or a hundred.
    """
    running: dict[int, SyncCursor] = {}
    for channel in channels:
        cursors = [
            cursor
            for cursor in channel.cursors.all()
            if cursor.stream in (BACKFILL, GAP) and cursor.value
        ]
        if cursors:  # backfill first
            running[channel.pk] = min(cursors, key=lambda c: c.stream != BACKFILL)
    if not running:
        return {}
    counts = dict(
        Order.objects.filter(source=SOURCE, account__in=[str(pk) for pk in running])
        .values_list("account")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("account", "n")
    )
    return {
        pk: ImportProgress(
            stream=cursor.stream,
            reached=parse_backfill(cursor.value)[0],
            orders=counts.get(str(pk), 0),
        )
        for pk, cursor in running.items()
    }
