"""Download a channel's Allegro orders, exactly once (ARCHITECTURE.md §4 "Orders").

The flow, per pass:

1. First pass (no journal cursor): note the journal's latest event id
   (``/order/event-stats``), then create the journal cursor there and, if the channel
   has *Sync Orders From*, a backfill cursor — in one transaction.
2. Backfill (while a backfill cursor has a value): checkout forms in
   ``lineItems.boughtAt`` windows from that value up to now; each window commits its
   orders together with the cursor moving to the window's end.
3. Journal: ``/order/events`` from the cursor. An event only means "checkout form X
   changed" (events repeat and arrive out of order, api-notes §3.3): re-read each
   form — through the list, ``updatedAt.gte`` the page's first event, with the ones
   the list does not cover read by id (order_list_reads.py) — then in ONE
   transaction upsert the page's orders and move the cursor with a
   compare-and-swap on its old value.
4. If the journal cursor was last caught up more than 59 days ago, Allegro may have
   dropped events we never read (it keeps 60 days, api-notes §3.3; it answers an
   expired ``from`` with the oldest events it still has, silently). Restart the
   journal at its latest event and re-read every form *updated* since then
   (a "gap" cursor over ``updatedAt`` windows).

A journal page is saved in slices of up to SAVE_BATCH forms (``save_batch``),
each with the cursor moved to the slice's last event, so a pass killed mid-page
keeps what it saved.

A checkout form the hub cannot use (no lines, a quantity of 0, a response it
cannot read, or one Allegro keeps failing to answer for: order_reads.py) is set
aside, not imported and not allowed to stop the channel: it is recorded as an
import problem (hub.orders.problems) in the same transaction as the page that
met it, the cursor moves on, and every pass first re-reads the forms set aside
(those due); one that has been fixed is imported then and its problem row
removed.

Network I/O always happens before the transaction it feeds. A crash anywhere leaves
the cursors at the last committed page; the next pass re-reads from there and the
upserts (unique per channel × checkout form) make re-reading harmless. A database
error (e.g. a deadlock with an overlapping pass) rolls back the page it hit: the
pass is tried again a few times, then the error is recorded on the channel's
health and the next pass retries.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from django.db import DatabaseError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hub.allegro import schemas, texts
from hub.allegro.client import AllegroClient
from hub.allegro.errors import AllegroError, TransientError
from hub.allegro.models import Channel, Listing, SyncCursor
from hub.allegro.sync.order_backfill import (
    BACKFILL,
    COVERED,
    backfill_value,
    extend_backfill,
    parse_backfill,
    start_backfill,
)
from hub.allegro.sync.order_list_reads import Named, read_from_list
from hub.allegro.sync.order_mapping import UnusableForm, map_checkout_form
from hub.allegro.sync.order_reads import (
    FormReads,
    Strikes,
    due,
    read_forms,
    unreadable_in_list,
)
from hub.catalog.stock import default_location
from hub.orders.importing import Account, IncomingOrder, SaveCounts, save_orders
from hub.orders.models import ImportProblem, Order
from hub.orders.problems import open_problems, record_problems, resolve_problems
from hub.text.message import Message

log = logging.getLogger(__name__)

SOURCE = "allegro"
JOURNAL = "order_events"  # value: the last event id whose orders are saved
# BACKFILL (order_backfill.py): lineItems.boughtAt reached [/ until]; "" = done
GAP = "order_gap"  # value: updatedAt reached; "" = done

EVENT_PAGE = 1000  # /order/events limit maximum (api-notes §3.3)
# Allegro keeps order events 60 days (api-notes §3.3); a day of margin for clocks.
JOURNAL_KEEPS = timedelta(days=59)
# Re-read a day before the last catch-up, so no change falls between two clocks.
GAP_OVERLAP = timedelta(days=1)
WINDOW = timedelta(days=7)  # backfill window; the client splits a full window
# Forms per transaction (journal slices and backfill): each costs ~10 queries of
# its own (cursor, problems, listing links, locks), and a pass killed mid-page
# redoes at most this many saves (never their effects twice).
SAVE_BATCH = 500
# Forms a journal slice reads by id (those Allegro's list did not give), one
# request each, before it is saved: what a pass that fails mid-page reads again.
READ_BATCH = 100
DB_ATTEMPTS = 3  # a pass that meets a database error is tried this often
ORDER_LIFETIME = timedelta(days=365)
CLOCK_SKEW = timedelta(hours=1)
SHOWN_PROBLEMS = 5  # set-aside forms listed in the summary line

Progress = Callable[[str], None]


@dataclass
class OrderSyncResult:
    skipped: str = ""  # why nothing was done (e.g. channel disabled)
    events: int = 0
    forms_read: int = 0
    listed: int = 0  # of the forms read, those read through the list
    backfilled: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    cancelled: int = 0
    unlinked_lines: int = 0
    missing_forms: list[str] = field(default_factory=list)
    rebootstrapped: bool = False
    retried: int = 0  # forms set aside earlier, read again this pass
    recovered: int = 0  # of the forms set aside, imported now
    # Every form set aside after this pass (id → reason), new or older.
    set_aside: dict[str, Message] = field(default_factory=dict)

    def add(self, counts: SaveCounts) -> None:
        self.created += counts.created
        self.updated += counts.updated
        self.unchanged += counts.unchanged
        self.cancelled += counts.cancelled
        self.unlinked_lines += counts.unlinked_lines

    def summary(self) -> str:
        if self.skipped:
            return self.skipped
        text = _(
            "orders: %(created)d new, %(updated)d updated, %(unchanged)d unchanged "
            "(%(events)d events, %(forms)d checkout forms read, %(backfilled)d "
            "from backfill); %(cancelled)d cancelled; %(unlinked)d lines not linked"
        ) % {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "events": self.events,
            "forms": self.forms_read,
            "backfilled": self.backfilled,
            "cancelled": self.cancelled,
            "unlinked": self.unlinked_lines,
        }
        if self.rebootstrapped:
            text += "; " + _("journal restarted after a gap of more than 60 days")
        if self.missing_forms:
            text += "; " + _("%(n)d checkout forms not found on Allegro") % {
                "n": len(self.missing_forms)
            }
        if self.recovered:
            text += "; " + _("%(n)d checkout forms set aside earlier now imported") % {
                "n": self.recovered
            }
        if self.set_aside:
            shown = list(self.set_aside.items())[:SHOWN_PROBLEMS]
            text += "; " + _(
                "%(n)d checkout forms set aside, not imported (retried "
                "automatically): %(list)s"
            ) % {
                "n": len(self.set_aside),
                "list": "; ".join(f"{form_id}: {why}" for form_id, why in shown)
                + ("; …" if len(self.set_aside) > len(shown) else ""),
            }
        return text


def sync_orders(
    channel_id: int,
    client: AllegroClient,
    *,
    event_page: int = EVENT_PAGE,
    save_batch: int = SAVE_BATCH,
    progress: Progress | None = None,
) -> OrderSyncResult:
    """One pass: bootstrap if new, finish any backfill, read the journal to its end.

    Raises the client's AllegroError (or DatabaseTrouble, after DB_ATTEMPTS tries)
    after recording it on the channel's journal cursor (or the channel, before the
    first cursor exists); nothing half-done stays.
    """
    channel = Channel.objects.get(pk=channel_id)
    if not channel.enabled:
        result = OrderSyncResult()
        result.skipped = _("Channel %(name)s is disabled; orders were not synced.") % {
            "name": channel.name
        }
        return result
    for attempt in range(1, DB_ATTEMPTS + 1):
        try:
            return _sync_pass(channel, client, event_page, save_batch, progress)
        except AllegroError as exc:
            _record_failure(channel, exc.user_message())
            raise
        except DatabaseError as exc:
            # E.g. a deadlock with an overlapping pass: the page it hit was rolled
            # back whole; the pass starts again from the committed cursors.
            log.warning("order sync of %s: database error (try %d): %s",
                        channel.name, attempt, exc)  # fmt: skip
            if attempt == DB_ATTEMPTS:
                trouble = DatabaseTrouble(str(exc).strip().splitlines()[0][:200])
                _record_failure(channel, trouble.user_message())
                raise trouble from None
    raise AssertionError("unreachable")


def _sync_pass(
    channel: Channel,
    client: AllegroClient,
    event_page: int,
    save_batch: int,
    progress: Progress | None,
) -> OrderSyncResult:
    result = OrderSyncResult()
    say = progress or (lambda _text: None)
    started = timezone.now()
    # The order streams' cursors, read once and again only after a step that
    # wrote one or waited on Allegro (an overlapping pass may have moved one
    # meanwhile): each read is a query of its own, and a pass in steady state
    # does neither. Every move stays a compare-and-swap (_move_cursor).
    cursors = _cursors(channel)
    if JOURNAL not in cursors:
        _start_journal(channel, client, started, say)
        cursors = _cursors(channel)
    if extend_backfill(channel, started, cursors):
        say(_("Sync Orders From moved earlier: importing the older orders too."))
        cursors = _cursors(channel)
    if _restart_after_gap(channel, client, cursors[JOURNAL], started, result, say):
        cursors = _cursors(channel)
    strikes = Strikes(channel)
    problems = open_problems(SOURCE, str(channel.pk))
    if _retry_set_aside(channel, client, problems, strikes, result, say):
        cursors = _cursors(channel)
    for stream, by in ((BACKFILL, "boughtAt"), (GAP, "updatedAt")):
        cursor = cursors.get(stream)
        if _read_windows(channel, client, cursor, by, save_batch, result, say):
            cursors = _cursors(channel)
    marked = _follow_journal(
        channel, client, cursors[JOURNAL], strikes, started, event_page,
        save_batch, result, say,
    )  # fmt: skip
    if problems or result.set_aside:
        # Forms set aside before this pass or by it: all of them as they stand
        # now. With neither (most passes), none, without a query.
        result.set_aside = {
            p.external_id: p.reason for p in open_problems(SOURCE, str(channel.pk))
        }
    if not marked:  # no new events: no page carried the pass's success
        SyncCursor.objects.filter(channel=channel, stream=JOURNAL).update(
            **_success(started)
        )
    return result


def _success(started: datetime) -> dict[str, Any]:
    """The journal cursor's fields once a pass that started then read it to
    its end: the channel's health."""
    return {"last_success_at": started, "last_error": "", "last_error_at": None}


# ----------------------------------------------------------------- bootstrap


def _cursors(channel: Channel) -> dict[str, SyncCursor]:
    """The channel's order cursors by stream, as committed now."""
    return {
        cursor.stream: cursor
        for cursor in SyncCursor.objects.filter(
            channel=channel, stream__in=(JOURNAL, BACKFILL, COVERED, GAP)
        )
    }


def _start_journal(
    channel: Channel, client: AllegroClient, now: datetime, say: Progress
) -> None:
    """The first pass (the channel has no journal cursor yet)."""
    # The journal's current end comes first: everything after it is in the
    # journal, everything before it is in the backfill (api-notes §3.3).
    latest = _latest_event_id(client)
    say(_("First sync: journal starts at event %(id)s.") % {"id": latest or "-"})
    with transaction.atomic():
        _cursor, created = SyncCursor.objects.get_or_create(
            channel=channel,
            stream=JOURNAL,
            defaults={"value": latest, "last_success_at": now},
        )
        if created:
            start_backfill(channel, now)


def _latest_event_id(client: AllegroClient) -> str:
    stats = client.order_event_stats()
    return stats.latest_event_id or ""


def _restart_after_gap(
    channel: Channel,
    client: AllegroClient,
    cursor: SyncCursor,
    now: datetime,
    result: OrderSyncResult,
    say: Progress,
) -> bool:
    """The journal ``cursor`` was last caught up too long ago: restart it. True
    when it looked (it asked Allegro, and may have moved the cursors)."""
    caught_up = cursor.last_success_at
    if caught_up is None or now - caught_up <= JOURNAL_KEEPS:
        return False
    latest = _latest_event_id(client)
    gap_from = caught_up - GAP_OVERLAP
    say(
        _("The journal was last read on %(when)s; re-reading orders changed since.")
        % {"when": caught_up.date().isoformat()}
    )
    with transaction.atomic():
        moved = SyncCursor.objects.filter(pk=cursor.pk, value=cursor.value).update(
            value=latest, last_success_at=now
        )
        if moved:
            SyncCursor.objects.update_or_create(
                channel=channel, stream=GAP, defaults={"value": gap_from.isoformat()}
            )
    result.rebootstrapped = bool(moved)
    return True


# ---------------------------------------------------------- windowed reads


def _read_windows(
    channel: Channel,
    client: AllegroClient,
    cursor: SyncCursor | None,
    by: str,
    save_batch: int,
    result: OrderSyncResult,
    say: Progress,
) -> bool:
    """Read checkout forms by boughtAt/updatedAt windows from the cursor's value
    to now; True when there was something to read (the stream was running).

    The cursor moves to a window's end only with that window's last orders, so a
    crash re-reads at most one window (harmless: upserts).
    """
    if cursor is None or not cursor.value:
        return False
    reached, bounded = parse_backfill(cursor.value)
    # Past our "now": an order Allegro's clock put a little ahead of ours must not
    # fall between the backfill and the journal. Empty windows cost one request.
    until = bounded or timezone.now() + CLOCK_SKEW
    while reached < until:
        end = min(reached + WINDOW, until)
        say(
            _("Reading orders by %(by)s %(start)s … %(end)s (%(n)d read so far)")
            % {
                "by": by,
                "start": reached.isoformat(),
                "end": end.isoformat(),
                "n": result.backfilled,
            }
        )
        batch: list[schemas.CheckoutForm] = []
        unreadable: dict[str, Message] = {}
        for form in _forms_in_window(client, channel, by, reached, end):
            if isinstance(form, schemas.UnreadableForm):
                # Set aside like the journal's, read by id on every pass.
                unreadable[form.id] = unreadable_in_list(form)
                continue
            batch.append(form)
            if len(batch) >= save_batch:
                _save_forms(channel, batch, cursor.stream, result, unreadable)
                result.backfilled += len(batch)
                batch, unreadable = [], {}
        value = "" if end >= until else backfill_value(end, bounded)
        with transaction.atomic():
            _save_forms(channel, batch, cursor.stream, result, unreadable)
            _move_cursor(cursor, value)
            if not value:  # done: the channel list shows when it finished
                SyncCursor.objects.filter(pk=cursor.pk).update(
                    last_success_at=timezone.now()
                )
        result.backfilled += len(batch)
        reached = end
    return True


def _forms_in_window(
    client: AllegroClient,
    channel: Channel,
    by: str,
    start: datetime,
    end: datetime,
) -> Iterable[schemas.CheckoutForm | schemas.UnreadableForm]:
    if by == "boughtAt":
        return client.iter_checkout_forms(start, end)
    # Orders *changed* in the window, whenever bought (an order is bought before
    # it changes; a year back covers any order Allegro still lets change). The
    # boughtAt range lets the client split past the 10 000 cap (api-notes §3.1).
    bought_from = start - ORDER_LIFETIME
    if channel.sync_orders_from is not None:
        bought_from = max(bought_from, channel.sync_orders_from)
    return client.iter_checkout_forms(
        bought_from, end, updated_from=start, updated_to=end
    )


# ------------------------------------------------------------------ journal


def _follow_journal(
    channel: Channel,
    client: AllegroClient,
    cursor: SyncCursor,
    strikes: Strikes,
    started: datetime,
    event_page: int,
    save_batch: int,
    result: OrderSyncResult,
    say: Progress,
) -> bool:
    """Read the journal from ``cursor`` (as committed when the pass last read
    it, with nothing waited on since) to its end. True when the transaction
    of its last page also marked the pass's success on the cursor."""
    while True:
        events = client.order_events(from_event=cursor.value or None, limit=event_page)
        if not events or events[-1].id == cursor.value:
            return False  # nothing after the cursor (never loop on an echoed `from`)
        result.events += len(events)
        # A page shorter than asked for is the journal's end.
        last = len(events) - 1 if len(events) < event_page else None
        named = _named_forms(channel, events)
        listed = read_from_list(client, named)
        result.listed += len(listed)
        done = 0
        unlisted = {form_id for form_id in named if form_id not in listed}
        for upto, form_ids in _slices(named, len(events), save_batch, unlisted):
            by_id = [form_id for form_id in form_ids if form_id not in listed]
            reads = read_forms(client, by_id, strikes)
            reads.forms[:0] = [listed[f] for f in form_ids if f in listed]
            _count_reads(result, reads)
            with transaction.atomic():
                strikes.clear(reads)
                _save_forms(
                    channel, reads.forms, _describe(events[done : upto + 1]),
                    result, reads.unreadable, reads.failing,
                )  # fmt: skip
                # The end's success goes with its last page: one write
                # transaction less a pass (on PostgreSQL, a flush to disk).
                success = _success(started) if upto == last else {}
                _move_cursor(cursor, events[upto].id, **success)
            done = upto + 1
        say(
            _("Read %(events)d events up to %(id)s.")
            % {"events": result.events, "id": events[-1].id}
        )
        if last is not None:
            return True
        # Allegro was waited on: where an overlapping pass may have moved it.
        cursor = SyncCursor.objects.get(channel=channel, stream=JOURNAL)


def _named_forms(
    channel: Channel, events: list[schemas.OrderEvent]
) -> dict[str, Named]:
    """The forms a page of events names and the hub must read, each with its
    LAST event in the page (in the order of those events).

    A form whose events all carry the revision the hub already holds is not read
    (a duplicate or replayed event costs no request); a revision is optional in
    both, and none known means read it.
    """
    last: dict[str, Named] = {}
    revisions: dict[str, set[str]] = {}
    for index, event in enumerate(events):
        if event.checkout_form_id:
            last.pop(event.checkout_form_id, None)  # keep the dict in event order
            last[event.checkout_form_id] = Named(
                index, event.revision, event.occurred_at
            )
            revisions.setdefault(event.checkout_form_id, set()).add(
                event.revision or ""
            )
    # order_by(): Order's default ordering (newest first) made SQLite walk
    # every order of the account in that order instead of looking the ids up
    # (0.7 ms → 9.6 ms a page at 20 000 orders, growing with the account).
    stored = dict(
        Order.objects.filter(
            source=SOURCE, account=str(channel.pk), external_id__in=list(last)
        )
        .order_by()
        .values_list("external_id", "revision")
    )
    return {
        form_id: named
        for form_id, named in sorted(last.items(), key=lambda item: item[1].index)
        if not (stored.get(form_id) and revisions[form_id] == {stored[form_id]})
    }


def _slices(
    named: dict[str, Named], count: int, size: int, unlisted: set[str]
) -> list[tuple[int, list[str]]]:
    """The page of ``count`` events cut into slices of at most ``size`` forms,
    of which at most READ_BATCH are ``unlisted`` (read by id, one request
    each, before the slice is saved), each slice with the index of the event
    the cursor moves to once it is saved.

    A form is saved once per page, in the slice of its LAST event there, so its
    read is newer than every event of the page that names it, and every event
    up to a slice's end names only forms of that slice or earlier ones.
    """
    slices: list[tuple[int, list[str]]] = []
    forms: list[str] = []
    reads = 0
    for form_id, n in named.items():
        forms.append(form_id)
        reads += form_id in unlisted
        if len(forms) == size or reads == READ_BATCH:
            slices.append((n.index, forms))
            forms, reads = [], 0
    if forms:
        slices.append((0, forms))
    end = count - 1  # the last slice also covers the events after its forms
    if slices:
        slices[-1] = (end, slices[-1][1])
    return slices or [(end, [])]


def _count_reads(result: OrderSyncResult, reads: FormReads) -> None:
    result.forms_read += len(reads.forms)
    result.missing_forms.extend(reads.missing)


def _retry_set_aside(
    channel: Channel,
    client: AllegroClient,
    problems: list[ImportProblem],
    strikes: Strikes,
    result: OrderSyncResult,
    say: Progress,
) -> bool:
    """Read the forms set aside earlier (``problems``) again, those due (one
    Allegro kept failing to answer for waits a growing pause): a fixed one is
    imported now. True when some were due (it waited on Allegro)."""
    now = timezone.now()
    retried = [problem for problem in problems if due(problem.retry_at, now)]
    if not retried:
        return False
    say(
        _("Reading %(n)d checkout forms set aside earlier again.") % {"n": len(retried)}
    )
    form_ids = [problem.external_id for problem in retried]
    result.retried += len(form_ids)
    reads = read_forms(client, form_ids, strikes, set_aside_already=True)
    _count_reads(result, reads)
    with transaction.atomic():
        # Not found any more (not this seller's, or archived): nothing is left
        # to import; counted in missing_forms, like the journal's.
        resolve_problems(SOURCE, str(channel.pk), reads.missing)
        strikes.clear(reads)
        _save_forms(
            channel, reads.forms, "retry of a set-aside form", result,
            reads.unreadable, reads.failing,
        )  # fmt: skip
    return True


def _describe(events: list[schemas.OrderEvent]) -> str:
    """The journal events behind a page, for the orders' history (capped)."""
    return ", ".join(f"{e.type} {e.id}" for e in events[-3:])


# ------------------------------------------------------------------- saving


def _save_forms(
    channel: Channel,
    forms: list[schemas.CheckoutForm],
    source: str,
    result: OrderSyncResult,
    unreadable: dict[str, Message] | None = None,
    failing: dict[str, Message] | None = None,
) -> None:
    """Upsert these forms' orders and set aside the unusable ones, atomically
    (inside the caller's transaction, if any): a form that imports ends its
    problem, one that does not is recorded (again) with the reason; one Allegro
    keeps failing to answer for (``failing``) is retried after a growing pause."""
    incoming, unusable = _incoming_orders(channel, forms, source)
    unusable = {**(unreadable or {}), **(failing or {}), **unusable}
    if not incoming and not unusable:
        return
    # One transaction with the caller's (no savepoint: a failure voids it all).
    with transaction.atomic(savepoint=False):
        account = str(channel.pk)
        record_problems(
            SOURCE, account, channel.name, unusable, backoff=set(failing or ())
        )
        result.set_aside.update(unusable)  # all of them read at the pass's end
        if incoming:
            result.add(save_orders(_account(channel, incoming), incoming))
            result.recovered += resolve_problems(
                SOURCE, account, [order.external_id for order in incoming]
            )


def _account(channel: Channel, incoming: list[IncomingOrder]) -> Account:
    offer_ids = {line.offer_id for order in incoming for line in order.lines}
    links = dict(
        Listing.objects.filter(
            channel=channel, offer_id__in=offer_ids, stock_item__isnull=False
        ).values_list("offer_id", "stock_item_id")
    )
    return Account(
        source=SOURCE,
        account=str(channel.pk),
        location=channel.fulfilment_location or default_location(),
        listing_links={k: v for k, v in links.items() if v is not None},
        link_by_title=channel.link_by_title,
    )


def _incoming_orders(
    channel: Channel, forms: list[schemas.CheckoutForm], source: str
) -> tuple[list[IncomingOrder], dict[str, Message]]:
    """The forms' orders, and the forms the hub cannot use (id → reason)."""
    by_id: dict[str, IncomingOrder] = {}
    unusable: dict[str, Message] = {}
    for form in forms:
        # A form read twice in one batch: the later read wins.
        try:
            order = map_checkout_form(form, channel.name, channel.default_currency)
        except UnusableForm as exc:
            # Never import garbage, never lose it: set aside, retried each pass.
            unusable[form.id] = exc.reason
            by_id.pop(form.id, None)
            continue
        unusable.pop(form.id, None)
        by_id[order.external_id] = replace(order, source_event=f"allegro: {source}")
    return list(by_id.values()), unusable


def _move_cursor(cursor: SyncCursor, value: str, **also: Any) -> None:
    """Compare-and-swap: only from the value this pass started from (``also``:
    other fields written with it)."""
    moved = SyncCursor.objects.filter(pk=cursor.pk, value=cursor.value).update(
        value=value, updated_at=timezone.now(), **also
    )
    if not moved:
        # Another pass moved it meanwhile; roll this page back, it did the work.
        raise CursorMoved(
            _(
                "Another sync pass of this channel ran at the same time (%(stream)s);"
                " this one stopped and the other did the work."
            )
            % {"stream": cursor.stream}
        )
    cursor.value = value


class CursorMoved(AllegroError):
    """Another pass of the same stream committed first; this one's page is void."""

    def user_text(self) -> str:
        return self.message  # not Allegro's error: the hub's own words


class DatabaseTrouble(TransientError):
    """The hub's own database failed a pass (e.g. a deadlock) DB_ATTEMPTS times."""

    def user_message(self) -> Message:
        return Message(texts.DATABASE_TROUBLE, what=self.message)


def _record_failure(channel: Channel, text: Message) -> None:
    """On the channel's health (the journal cursor, or the channel before it has
    one); never raises, so the failure being reported is the one the caller sees."""
    now = timezone.now()
    try:
        updated = SyncCursor.objects.filter(channel=channel, stream=JOURNAL).update(
            last_error=text, last_error_at=now
        )
        if not updated:
            Channel.objects.filter(pk=channel.pk).update(
                last_error=text, last_error_at=now
            )
    except DatabaseError as exc:
        log.error("order sync of %s: could not record its failure: %s", channel, exc)
