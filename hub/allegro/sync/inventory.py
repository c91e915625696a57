"""Keep the quantity of linked Allegro offers equal to the hub's stock
(ARCHITECTURE.md §4 "Inventory"), confirmed by Allegro's task reports.

Per pass (the whole channel, or only the listings of the items that changed):

1. Finish earlier commands: a command stored but not known to be accepted is
   sent again with the SAME command id (a reused id answers 409 and the client
   reads that command back, api-notes §6), one accepted is polled for its report.
2. Refresh what Allegro shows from the offer journal (a sale on Allegro already
   lowered the offer; re-reading it first means the sale is not pushed twice).
3. Target = available (on hand − allocations) of the linked item, over all
   locations or the channel's *Inventory Update From Location*; stored on the
   listing for the mapping screen even when *Inventory Sync* is off.
4. With *Inventory Sync* on: listings whose target differs from Allegro's
   quantity are grouped by target into quantity commands (≤ 1 000 offers each),
   stored in the outbox together with the listings' PENDING state in one
   transaction, then sent, then their reports read. A listing counts as pushed
   only when its task says SUCCESS; FAIL keeps Allegro's message on it.

Never sent: 0 or less (the command refuses it, api-notes §6.2; the listing is
flagged "out of stock but live" for the lifecycle to end), auctions (one unit,
bids), offers that are not live, a listing with a command still in flight, and
a raise right after Allegro lowered the offer itself until the orders flow has
imported what sold.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from hub.allegro import schemas, texts
from hub.allegro.client import MAX_OFFERS_PER_COMMAND, AllegroClient
from hub.allegro.errors import AllegroError, PermanentError
from hub.allegro.models import (
    Channel,
    Listing,
    ListingEvent,
    RemoteCommand,
    SyncCursor,
)
from hub.allegro.sync import listings as listings_sync
from hub.catalog import stock
from hub.catalog.models import StockChange
from hub.text.message import Message

log = logging.getLogger(__name__)

ORDER_JOURNAL = "order_events"  # sync/orders.py's cursor: when orders last caught up
CHANGES = "stock_changes"  # value: created_at of the newest StockChange handled
# Stock changes are re-read this far back, so one committed late (a long
# transaction) is still seen; re-reading only recomputes targets, never re-sends.
CHANGES_OVERLAP = timedelta(seconds=60)
RETRY_FAILED_AFTER = timedelta(minutes=30)
WAIT_FOR_REPORTS = 15.0  # seconds a pass polls for its commands' reports
POLL_EVERY = 0.5
PUSHABLE_STATUSES = ("ACTIVE", "ACTIVATING")

Progress = Callable[[str], None]
Sleep = Callable[[float], None]


@dataclass
class InventoryResult:
    skipped: str = ""
    listings: int = 0  # linked listings looked at
    pushed: int = 0  # offers put into new commands
    commands: int = 0  # new commands
    confirmed: int = 0
    failed: int = 0
    waiting: int = 0  # offers still waiting for a report after this pass
    out_of_stock: int = 0  # live offers with nothing to sell

    def summary(self) -> str:
        text = _(
            "inventory: %(listings)d linked listings, %(pushed)d offers pushed in "
            "%(commands)d commands, %(confirmed)d confirmed, %(failed)d failed, "
            "%(waiting)d waiting; %(oos)d out of stock but live"
        ) % {
            "listings": self.listings,
            "pushed": self.pushed,
            "commands": self.commands,
            "confirmed": self.confirmed,
            "failed": self.failed,
            "waiting": self.waiting,
            "oos": self.out_of_stock,
        }
        return f"{self.skipped} {text}" if self.skipped else text


def push_inventory(
    channel_id: int,
    client: AllegroClient,
    *,
    item_ids: Iterable[int] | None = None,
    wait: float = WAIT_FOR_REPORTS,
    sleep: Sleep = time.sleep,
    progress: Progress | None = None,
) -> InventoryResult:
    """One inventory pass; ``item_ids`` limits it to those items' listings."""
    channel = Channel.objects.get(pk=channel_id)
    result = InventoryResult()
    if not channel.enabled:
        result.skipped = _("Channel %(name)s is disabled; nothing was sent.") % {
            "name": channel.name
        }
        return result
    finish_commands(channel, client, result)
    if channel.inventory_sync:
        refresh_from_journal(channel, client)
    # An item created since the last listings pass links to its offers now.
    listings_sync.link_order_lines(channel, listings_sync.auto_link(channel))
    listings = Listing.objects.filter(channel=channel, stock_item__isnull=False)
    if item_ids is not None:
        listings = listings.filter(stock_item_id__in=list(item_ids))
    rows = compute_targets(channel, listings, result)
    if not channel.inventory_sync:
        result.skipped = _("Inventory Sync is off for %(name)s; nothing was sent.") % {
            "name": channel.name
        }
        return result
    plan = choose_pushes(channel, rows)
    store_commands(channel, plan, result)
    send_new(channel, client, result)
    wait_for_reports(channel, client, result, wait, sleep, progress)
    return result


# ------------------------------------------------------------------ targets


def refresh_from_journal(channel: Channel, client: AllegroClient) -> None:
    """Apply the offer journal so Allegro-side sales lower known quantities first."""
    imported = SyncCursor.objects.filter(
        channel=channel, stream=listings_sync.RECONCILE, last_success_at__isnull=False
    ).exists()
    journal = SyncCursor.objects.filter(
        channel=channel, stream=listings_sync.JOURNAL
    ).first()
    if journal is None or not imported:
        return  # listings not imported yet: the listings flow starts the journal
    listings_sync.follow_journal(
        channel, client, journal, listings_sync.ListingSyncResult()
    )


@dataclass
class Row:
    listing: Listing
    target: int


def compute_targets(
    channel: Channel, listings: QuerySet[Listing], result: InventoryResult
) -> list[Row]:
    """Target of every linked listing; stored where it moved, in bulk."""
    location = channel.inventory_location
    found = list(
        listings.only(
            "id",
            "offer_id",
            "stock_item_id",
            "status",
            "format",
            "known_quantity",
            "quantity_dropped_at",
            "target",
            "push_state",
            "push_value",
            "pushed_at",
        )
    )
    result.listings = len(found)
    if len(found) > 5000:
        available = stock.available_of_all_items(location)
    else:
        available = stock.available_by_item(
            {row.stock_item_id for row in found if row.stock_item_id}, location
        )
    where = location.name if location else Message(texts.ALL_LOCATIONS)
    moved: list[Listing] = []
    events: list[ListingEvent] = []
    rows: list[Row] = []
    for listing in found:
        assert listing.stock_item_id is not None
        target = available.get(listing.stock_item_id, 0)
        live = listing.status in PUSHABLE_STATUSES
        if live and target < 1:
            result.out_of_stock += 1
            if listing.target is None or listing.target >= 1:
                events.append(
                    ListingEvent(
                        listing=listing,
                        kind=ListingEvent.Kind.OUT_OF_STOCK,
                        message=Message(texts.OUT_OF_STOCK_LIVE, n=target, where=where),
                    )
                )
        if listing.target != target:
            listing.target = target
            moved.append(listing)
        rows.append(Row(listing, target))
    _set_targets(moved)
    ListingEvent.objects.bulk_create(events, batch_size=1000)
    return rows


def _set_targets(moved: list[Listing]) -> None:
    """One UPDATE per distinct target (and 1 000 listings), not one per listing."""
    by_target: dict[int | None, list[int]] = defaultdict(list)
    for listing in moved:
        by_target[listing.target].append(listing.pk)
    for target, ids in by_target.items():
        for start in range(0, len(ids), 1000):
            Listing.objects.filter(pk__in=ids[start : start + 1000]).update(
                target=target
            )


def choose_pushes(channel: Channel, rows: list[Row]) -> dict[int, list[Listing]]:
    """Target value → listings to set to it."""
    orders_caught_up = (
        SyncCursor.objects.filter(channel=channel, stream=ORDER_JOURNAL)
        .values_list("last_success_at", flat=True)
        .first()
    )
    now = timezone.now()
    plan: dict[int, list[Listing]] = defaultdict(list)
    for row in rows:
        listing, target = row.listing, row.target
        if (
            target < 1
            or listing.format != Listing.Format.BUY_NOW
            or listing.status not in PUSHABLE_STATUSES
            or listing.known_quantity == target
            or listing.push_state == Listing.PushState.PENDING
        ):
            continue
        if _failed_recently(listing, target, now):
            continue
        if _sale_not_imported(listing, target, orders_caught_up):
            continue
        plan[target].append(listing)
    return plan


def _failed_recently(listing: Listing, target: int, now: datetime) -> bool:
    """The same value was refused lately: wait before asking again."""
    return (
        listing.push_state == Listing.PushState.FAILED
        and listing.push_value == target
        and listing.pushed_at is not None
        and listing.pushed_at > now - RETRY_FAILED_AFTER
    )


def _sale_not_imported(
    listing: Listing, target: int, orders_caught_up: datetime | None
) -> bool:
    """Allegro lowered the offer (a sale) after the orders flow last caught up:
    raising it now would sell the unit twice until that order is imported."""
    known = listing.known_quantity
    return (
        known is not None
        and target > known
        and listing.quantity_dropped_at is not None
        and orders_caught_up is not None
        and listing.quantity_dropped_at > orders_caught_up
    )


# ------------------------------------------------------------------- outbox


def store_commands(
    channel: Channel, plan: dict[int, list[Listing]], result: InventoryResult
) -> None:
    """Write the commands and mark their listings PENDING, all in one transaction."""
    if not plan:
        return
    where = (
        channel.inventory_location.name
        if channel.inventory_location
        else Message(texts.ALL_LOCATIONS)
    )
    now = timezone.now()
    with transaction.atomic():
        for value in sorted(plan):
            listings = sorted(plan[value], key=lambda listing: listing.offer_id)
            for start in range(0, len(listings), MAX_OFFERS_PER_COMMAND):
                chunk = listings[start : start + MAX_OFFERS_PER_COMMAND]
                command = RemoteCommand.objects.create(
                    channel=channel,
                    kind=RemoteCommand.Kind.QUANTITY,
                    payload={"changeType": "FIXED", "value": value},
                    offer_ids=[listing.offer_id for listing in chunk],
                    created_at=now,
                )
                Listing.objects.filter(pk__in=[listing.pk for listing in chunk]).update(
                    push_state=Listing.PushState.PENDING,
                    push_command=command,
                    push_value=value,
                    push_message="",
                )
                ListingEvent.objects.bulk_create(
                    [
                        ListingEvent(
                            listing=listing,
                            kind=ListingEvent.Kind.DECIDED,
                            command=command,
                            created_at=now,
                            message=Message(
                                texts.PUSH_DECIDED,
                                n=value,
                                where=where,
                                known="—"
                                if listing.known_quantity is None
                                else listing.known_quantity,
                                id=str(command.command_id),
                            ),
                        )
                        for listing in chunk
                    ],
                    batch_size=1000,
                )
                result.commands += 1
                result.pushed += len(chunk)


def send_new(channel: Channel, client: AllegroClient, result: InventoryResult) -> None:
    """PUT every stored command not yet accepted, each with its own fixed id."""
    waiting = RemoteCommand.objects.filter(
        channel=channel,
        kind=RemoteCommand.Kind.QUANTITY,
        state=RemoteCommand.State.NEW,
    ).order_by("pk")
    for command in waiting:
        send(command, client, result)


def send(
    command: RemoteCommand, client: AllegroClient, result: InventoryResult
) -> None:
    RemoteCommand.objects.filter(pk=command.pk).update(attempts=command.attempts + 1)
    try:
        client.put_quantity_command(
            str(command.command_id),
            command.offer_ids,
            value=int(command.payload["value"]),
            change_type=str(command.payload.get("changeType", "FIXED")),
        )
    except PermanentError as exc:
        # Allegro refused the whole command: nothing of it was applied.
        refuse(command, exc.user_message(), result)
        return
    except AllegroError as exc:
        # Transient (5xx, timeout, 429) or authorisation: kept NEW, sent again
        # with the same id by the next pass.
        RemoteCommand.objects.filter(pk=command.pk).update(
            last_error=exc.user_message()
        )
        raise
    RemoteCommand.objects.filter(pk=command.pk, state=RemoteCommand.State.NEW).update(
        state=RemoteCommand.State.SENT, sent_at=timezone.now(), last_error=""
    )
    ListingEvent.objects.bulk_create(
        [
            ListingEvent(
                listing_id=pk,
                kind=ListingEvent.Kind.SENT,
                command=command,
                message=Message(texts.PUSH_SENT, id=str(command.command_id)),
            )
            for pk in _listing_ids(command)
        ],
        batch_size=1000,
    )


def _listing_ids(command: RemoteCommand) -> list[int]:
    return list(
        Listing.objects.filter(push_command=command).values_list("pk", flat=True)
    )


def refuse(command: RemoteCommand, message: Message, result: InventoryResult) -> None:
    now = timezone.now()
    with transaction.atomic():
        RemoteCommand.objects.filter(pk=command.pk).update(
            state=RemoteCommand.State.FAILED, last_error=message, completed_at=now
        )
        ids = _listing_ids(command)
        Listing.objects.filter(pk__in=ids).update(
            push_state=Listing.PushState.FAILED, push_message=message, pushed_at=now
        )
        _events(ids, ListingEvent.Kind.FAILED, command, message)
    result.failed += len(ids)


def _events(
    ids: Iterable[int], kind: str, command: RemoteCommand, message: Message
) -> None:
    ListingEvent.objects.bulk_create(
        [
            ListingEvent(listing_id=pk, kind=kind, command=command, message=message)
            for pk in ids
        ],
        batch_size=1000,
    )


# ------------------------------------------------------------------ reports


def finish_commands(
    channel: Channel, client: AllegroClient, result: InventoryResult
) -> None:
    """Commands left by an earlier pass (or a crash): send again or read."""
    send_new(channel, client, result)
    for command in _sent(channel):
        read_report(command, client, result)


def _sent(channel: Channel) -> QuerySet[RemoteCommand]:
    return RemoteCommand.objects.filter(
        channel=channel,
        kind=RemoteCommand.Kind.QUANTITY,
        state=RemoteCommand.State.SENT,
    ).order_by("pk")


def wait_for_reports(
    channel: Channel,
    client: AllegroClient,
    result: InventoryResult,
    wait: float,
    sleep: Sleep,
    progress: Progress | None = None,
) -> None:
    deadline = time.monotonic() + wait
    while True:
        pending = list(_sent(channel))
        for command in pending:
            read_report(command, client, result)
        pending = list(_sent(channel))
        if not pending or time.monotonic() + POLL_EVERY > deadline:
            result.waiting = sum(len(command.offer_ids) for command in pending)
            return
        if progress:  # outside any transaction: where a shutdown stops the pass
            progress(
                _("waiting for Allegro's report on %(n)d commands")
                % {"n": len(pending)}
            )
        sleep(POLL_EVERY)


def read_report(
    command: RemoteCommand, client: AllegroClient, result: InventoryResult
) -> bool:
    """Apply a finished command's task report; False while Allegro is still at it."""
    report = client.get_quantity_command(str(command.command_id))
    if not report.is_complete:
        return False
    counts = report.task_count
    if counts.failed == 0 and counts.success == counts.total == len(command.offer_ids):
        # Allegro counted a SUCCESS task for every offer of the command: nothing
        # left to learn from the task list, so it is not read (a third of the
        # calls of a push). Any FAIL, or counts that do not add up, and it is.
        tasks = {
            offer_id: schemas.CommandTask(offer_id=offer_id, status="SUCCESS")
            for offer_id in command.offer_ids
        }
    else:
        tasks = {
            task.offer_id: task
            for task in client.get_quantity_command_tasks(str(command.command_id))
        }
    apply_tasks(command, tasks, result)
    return True


def apply_tasks(
    command: RemoteCommand,
    tasks: dict[str, schemas.CommandTask],
    result: InventoryResult,
) -> None:
    value = int(command.payload["value"])
    now = timezone.now()
    outcomes: dict[str, dict[str, str]] = {}
    with transaction.atomic():
        moved = RemoteCommand.objects.filter(
            pk=command.pk, state=RemoteCommand.State.SENT
        ).update(state=RemoteCommand.State.DONE, completed_at=now)
        if not moved:
            return  # another pass read this report first
        listings = {
            listing.offer_id: listing
            for listing in Listing.objects.filter(push_command=command).only(
                "id", "offer_id"
            )
        }
        events: list[ListingEvent] = []
        confirmed: list[int] = []
        for offer_id in command.offer_ids:
            task = tasks.get(offer_id)
            ok = task is not None and task.status == "SUCCESS"
            message = Message() if ok else _task_message(task)
            outcomes[offer_id] = {
                "status": task.status if task else "MISSING",
                "message": str(message),
            }
            listing = listings.get(offer_id)
            if listing is None:
                continue
            if ok:
                confirmed.append(listing.pk)
                text = Message(texts.PUSH_CONFIRMED, n=value)
                kind = ListingEvent.Kind.CONFIRMED
            else:
                Listing.objects.filter(pk=listing.pk).update(
                    push_state=Listing.PushState.FAILED,
                    push_message=message,
                    pushed_at=now,
                )
                result.failed += 1
                text = Message(texts.PUSH_REFUSED, n=value, why=message)
                kind = ListingEvent.Kind.FAILED
            events.append(
                ListingEvent(listing=listing, kind=kind, command=command, message=text)
            )
        Listing.objects.filter(pk__in=confirmed).update(
            push_state=Listing.PushState.DONE,
            known_quantity=value,
            push_message="",
            pushed_at=now,
        )
        result.confirmed += len(confirmed)
        ListingEvent.objects.bulk_create(events, batch_size=1000)
        RemoteCommand.objects.filter(pk=command.pk).update(results=outcomes)


def _task_message(task: schemas.CommandTask | None) -> Message:
    if task is None:
        return Message(texts.NOT_IN_REPORT)
    for error in task.errors:
        text = error.user_message or error.message
        if text:  # Allegro's own words, in the language it chose
            return Message.literal(f"{text} ({error.code})" if error.code else text)
    return Message.literal(task.message or task.status)


# ------------------------------------------------------------ stock changes


def changed_items(channel: Channel) -> tuple[set[int], datetime | None]:
    """Items with a stock change since this channel last looked (with overlap)."""
    cursor = SyncCursor.objects.filter(channel=channel, stream=CHANGES).first()
    since = _since(cursor)
    changes = StockChange.objects.all()
    if since is not None:
        changes = changes.filter(created_at__gte=since - CHANGES_OVERLAP)
    newest = changes.order_by("-created_at").values_list("created_at", flat=True)[:1]
    latest = newest[0] if newest else None
    return set(changes.values_list("item_id", flat=True).distinct()), latest


def _since(cursor: SyncCursor | None) -> datetime | None:
    if cursor is None or not cursor.value:
        return None
    return datetime.fromisoformat(cursor.value)


def has_stock_changes(channel_id: int) -> bool:
    """Whether a stock change happened after this channel's last inventory pass."""
    cursor = SyncCursor.objects.filter(channel_id=channel_id, stream=CHANGES).first()
    since = _since(cursor)
    changes = StockChange.objects.all()
    if since is not None:
        changes = changes.filter(created_at__gt=since)
    return changes.exists()


def push_changed(
    channel_id: int,
    client: AllegroClient,
    *,
    full: bool = False,
    wait: float = WAIT_FOR_REPORTS,
    sleep: Sleep = time.sleep,
    progress: Progress | None = None,
) -> InventoryResult:
    """Push the listings of items whose stock changed since the last such pass
    (``full``: every linked listing, the periodic reconcile)."""
    channel = Channel.objects.get(pk=channel_id)
    items, latest = changed_items(channel)
    cursor = SyncCursor.objects.filter(channel=channel, stream=CHANGES).first()
    if full or cursor is None or not cursor.value:
        # First pass: every listing, then follow the changes.
        result = push_inventory(
            channel_id, client, wait=wait, sleep=sleep, progress=progress
        )
    else:
        result = push_inventory(
            channel_id,
            client,
            item_ids=items,
            wait=wait,
            sleep=sleep,
            progress=progress,
        )
    SyncCursor.objects.update_or_create(
        channel=channel,
        stream=CHANGES,
        defaults={
            "value": (latest or timezone.now()).isoformat(),
            "last_success_at": timezone.now(),
        },
    )
    return result
