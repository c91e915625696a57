"""What the backfill reads: orders bought before the journal started, back to the
channel's *Sync Orders From* — and, when the seller moves that date earlier
later on, the range it adds, read once.

Two cursors hold it (SyncCursor.value):

- BACKFILL: ``reached`` (read on up to now), ``reached/until`` (a range that ends
  at ``until``: what moving the date earlier adds), or "" once done.
- COVERED: the earliest purchase time the import covers once its backfill is
  done. Moving the date earlier than this starts a backfill of the missing range
  and moves COVERED in the same transaction, so the range is read exactly once
  (orders already imported are matched by their id, never doubled). Moving the
  date later changes nothing: what was imported stays.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Min
from django.utils import timezone

from hub.allegro.models import Channel, SyncCursor
from hub.orders.models import Order

BACKFILL = "order_backfill"
COVERED = "order_covered_from"
SOURCE = "allegro"


def backfill_value(reached: datetime, until: datetime | None = None) -> str:
    if until is None:
        return reached.isoformat()
    return f"{reached.isoformat()}/{until.isoformat()}"


def parse_backfill(value: str) -> tuple[datetime, datetime | None]:
    """(reached, until or None for "up to now") of a BACKFILL (or GAP) value."""
    reached, _slash, until = value.partition("/")
    return (
        datetime.fromisoformat(reached),
        datetime.fromisoformat(until) if until else None,
    )


def start_backfill(channel: Channel, now: datetime) -> None:
    """The first pass's backfill (call inside the transaction that creates the
    journal cursor): from Sync Orders From up to now, if that is in the past."""
    start = channel.sync_orders_from
    covered = now
    if start is not None and start < now:
        covered = start
        SyncCursor.objects.update_or_create(
            channel=channel, stream=BACKFILL, defaults={"value": backfill_value(start)}
        )
    SyncCursor.objects.update_or_create(
        channel=channel,
        stream=COVERED,
        defaults={"value": covered.isoformat(), "last_success_at": now},
    )


def extend_backfill(
    channel: Channel, now: datetime, cursors: Mapping[str, SyncCursor]
) -> bool:
    """Sync Orders From moved earlier than what is covered: back-fill the missing
    range (once a running backfill has finished). True when one was started.

    ``cursors``: the channel's cursors by stream, as the pass read them."""
    running = cursors.get(BACKFILL)
    if running is not None and running.value:
        return False  # one backfill at a time: this one next pass
    covered = cursors.get(COVERED)
    start = channel.sync_orders_from
    if covered is None:
        # First synced before this cursor existed: what it has is taken as
        # covered (no surprise re-read); moving the date earlier from now on
        # back-fills.
        try:
            with transaction.atomic():
                SyncCursor.objects.create(
                    channel=channel,
                    stream=COVERED,
                    value=(start or _covered_before(channel)).isoformat(),
                    last_success_at=now,
                )
        except IntegrityError:
            pass  # another pass did it
        return False
    covered_from = datetime.fromisoformat(covered.value)
    if start is None or start >= covered_from:
        return False  # nothing to add (most passes): no transaction opened
    with transaction.atomic():
        # Compare-and-swap: of two overlapping passes, one extends.
        if not SyncCursor.objects.filter(pk=covered.pk, value=covered.value).update(
            value=start.isoformat(), last_success_at=now, updated_at=timezone.now()
        ):
            return False
        SyncCursor.objects.update_or_create(
            channel=channel,
            stream=BACKFILL,
            defaults={"value": backfill_value(start, covered_from)},
        )
    return True


def _covered_before(channel: Channel) -> datetime:
    """For a channel first synced before COVERED existed, without Sync Orders
    From: its earliest order, else now."""
    earliest = Order.objects.filter(source=SOURCE, account=str(channel.pk)).aggregate(
        earliest=Min("bought_at")
    )["earliest"]
    return earliest or timezone.now()
