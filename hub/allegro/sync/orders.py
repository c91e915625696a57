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
   form, then in ONE transaction upsert the page's orders and move the cursor with a
   compare-and-swap on its old value.
4. If the journal cursor was last caught up more than 59 days ago, Allegro may have
   dropped events we never read (it keeps 60 days, api-notes §3.3; it answers an
   expired ``from`` with the oldest events it still has, silently). Restart the
   journal at its latest event and re-read every form *updated* since then
   (a "gap" cursor over ``updatedAt`` windows).

A checkout form the hub cannot use (no lines, a quantity of 0, a response it
cannot read) is set aside, not imported and not allowed to stop the channel: it is
recorded as an import problem (hub.orders.problems) in the same transaction as the
page that met it, the cursor moves on, and every pass first re-reads the forms set
aside; one that has been fixed is imported then and its problem row removed.

Network I/O always happens before the transaction it feeds. A crash anywhere leaves
the cursors at the last committed page; the next pass re-reads from there and the
upserts (unique per channel × checkout form) make re-reading harmless.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hub.allegro import schemas
from hub.allegro.client import AllegroClient
from hub.allegro.errors import AllegroError, MalformedResponse, NotFound
from hub.allegro.models import Channel, Listing, SyncCursor
from hub.allegro.sync.order_mapping import UnusableForm, map_checkout_form
from hub.catalog.stock import default_location
from hub.orders.importing import Account, IncomingOrder, SaveCounts, save_orders
from hub.orders.models import Order
from hub.orders.problems import open_problems, record_problems, resolve_problems

log = logging.getLogger(__name__)

SOURCE = "allegro"
JOURNAL = "order_events"  # value: the last event id whose orders are saved
BACKFILL = "order_backfill"  # value: lineItems.boughtAt reached; "" = done
GAP = "order_gap"  # value: updatedAt reached; "" = done

EVENT_PAGE = 1000  # /order/events limit maximum (api-notes §3.3)
# Allegro keeps order events 60 days (api-notes §3.3); a day of margin for clocks.
JOURNAL_KEEPS = timedelta(days=59)
# Re-read a day before the last catch-up, so no change falls between two clocks.
GAP_OVERLAP = timedelta(days=1)
WINDOW = timedelta(days=7)  # backfill window; the client splits a full window
SAVE_BATCH = 100  # forms per transaction while backfilling
ORDER_LIFETIME = timedelta(days=365)
CLOCK_SKEW = timedelta(hours=1)
SHOWN_PROBLEMS = 5  # set-aside forms listed in the summary line

Progress = Callable[[str], None]


@dataclass
class OrderSyncResult:
    skipped: str = ""  # why nothing was done (e.g. channel disabled)
    events: int = 0
    forms_read: int = 0
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
    set_aside: dict[str, str] = field(default_factory=dict)

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
                "%(n)d checkout forms set aside, not imported (retried on every "
                "pass): %(list)s"
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
    progress: Progress | None = None,
) -> OrderSyncResult:
    """One pass: bootstrap if new, finish any backfill, read the journal to its end.

    Raises the client's AllegroError after recording it on the channel's journal
    cursor (or the channel, before the first cursor exists); nothing half-done stays.
    """
    channel = Channel.objects.get(pk=channel_id)
    result = OrderSyncResult()
    if not channel.enabled:
        result.skipped = _("Channel %(name)s is disabled; orders were not synced.") % {
            "name": channel.name
        }
        return result
    say = progress or (lambda _text: None)
    started = timezone.now()
    try:
        _start_journal(channel, client, started, say)
        _restart_after_gap(channel, client, started, result, say)
        _retry_set_aside(channel, client, result, say)
        for stream, by in ((BACKFILL, "boughtAt"), (GAP, "updatedAt")):
            _read_windows(channel, client, stream, by, result, say)
        _follow_journal(channel, client, event_page, result, say)
    except AllegroError as exc:
        _record_failure(channel, exc.user_text())
        raise
    result.set_aside = {
        p.external_id: p.reason for p in open_problems(SOURCE, str(channel.pk))
    }
    SyncCursor.objects.filter(channel=channel, stream=JOURNAL).update(
        last_success_at=started, last_error="", last_error_at=None
    )
    return result


# ----------------------------------------------------------------- bootstrap


def _start_journal(
    channel: Channel, client: AllegroClient, now: datetime, say: Progress
) -> None:
    if SyncCursor.objects.filter(channel=channel, stream=JOURNAL).exists():
        return
    # The journal's current end comes first: everything after it is in the
    # journal, everything before it is in the backfill (api-notes §3.3).
    latest = _latest_event_id(client)
    start = channel.sync_orders_from
    say(_("First sync: journal starts at event %(id)s.") % {"id": latest or "-"})
    with transaction.atomic():
        _cursor, created = SyncCursor.objects.get_or_create(
            channel=channel,
            stream=JOURNAL,
            defaults={"value": latest, "last_success_at": now},
        )
        if created and start is not None and start < now:
            SyncCursor.objects.update_or_create(
                channel=channel, stream=BACKFILL, defaults={"value": start.isoformat()}
            )


def _latest_event_id(client: AllegroClient) -> str:
    stats = client.order_event_stats()
    return stats.latest_event_id or ""


def _restart_after_gap(
    channel: Channel,
    client: AllegroClient,
    now: datetime,
    result: OrderSyncResult,
    say: Progress,
) -> None:
    cursor = SyncCursor.objects.get(channel=channel, stream=JOURNAL)
    caught_up = cursor.last_success_at
    if caught_up is None or now - caught_up <= JOURNAL_KEEPS:
        return
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


# ---------------------------------------------------------- windowed reads


def _read_windows(
    channel: Channel,
    client: AllegroClient,
    stream: str,
    by: str,
    result: OrderSyncResult,
    say: Progress,
) -> None:
    """Read checkout forms by boughtAt/updatedAt windows from the stream's value to now.

    The cursor moves to a window's end only with that window's last orders, so a
    crash re-reads at most one window (harmless: upserts).
    """
    cursor = SyncCursor.objects.filter(channel=channel, stream=stream).first()
    if cursor is None or not cursor.value:
        return
    reached = datetime.fromisoformat(cursor.value)
    # Past our "now": an order Allegro's clock put a little ahead of ours must not
    # fall between the backfill and the journal. Empty windows cost one request.
    until = timezone.now() + CLOCK_SKEW
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
        for form in _forms_in_window(client, channel, by, reached, end):
            batch.append(form)
            if len(batch) >= SAVE_BATCH:
                _save_forms(channel, batch, stream, result)
                result.backfilled += len(batch)
                batch = []
        value = "" if end >= until else end.isoformat()
        with transaction.atomic():
            _save_forms(channel, batch, stream, result)
            _move_cursor(cursor, value)
            if not value:  # done: the channel list shows when it finished
                SyncCursor.objects.filter(pk=cursor.pk).update(
                    last_success_at=timezone.now()
                )
        result.backfilled += len(batch)
        reached = end


def _forms_in_window(
    client: AllegroClient,
    channel: Channel,
    by: str,
    start: datetime,
    end: datetime,
) -> Iterable[schemas.CheckoutForm]:
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
    event_page: int,
    result: OrderSyncResult,
    say: Progress,
) -> None:
    while True:
        cursor = SyncCursor.objects.get(channel=channel, stream=JOURNAL)
        events = client.order_events(from_event=cursor.value or None, limit=event_page)
        if not events or events[-1].id == cursor.value:
            return  # nothing after the cursor (never loop on an echoed `from`)
        result.events += len(events)
        forms, unreadable = _read_changed_forms(channel, client, events, result)
        with transaction.atomic():
            _save_forms(channel, forms, _describe(events), result, unreadable)
            _move_cursor(cursor, events[-1].id)
        say(
            _("Read %(events)d events up to %(id)s.")
            % {"events": result.events, "id": events[-1].id}
        )
        if len(events) < event_page:
            return


def _read_changed_forms(
    channel: Channel,
    client: AllegroClient,
    events: list[schemas.OrderEvent],
    result: OrderSyncResult,
) -> tuple[list[schemas.CheckoutForm], dict[str, str]]:
    """Each checkout form the page names once — unless we already hold that revision.

    An event's revision equal to the stored one means we have read the form at least
    as new as that event, so a duplicate or replayed event costs no request.
    Returns the forms read and the ids of those Allegro answered unreadably
    (→ reason), to be set aside with the page.
    """
    revisions: dict[str, set[str]] = {}
    for event in events:
        if event.checkout_form_id:
            revisions.setdefault(event.checkout_form_id, set()).add(
                event.revision or ""
            )
    stored = dict(
        Order.objects.filter(
            source=SOURCE, account=str(channel.pk), external_id__in=list(revisions)
        ).values_list("external_id", "revision")
    )
    wanted = [
        form_id
        for form_id, seen in revisions.items()
        # (revision is optional in both: none known = read it)
        if not (stored.get(form_id) and seen == {stored[form_id]})
    ]
    return _read_forms(client, wanted, result)


def _read_forms(
    client: AllegroClient, form_ids: list[str], result: OrderSyncResult
) -> tuple[list[schemas.CheckoutForm], dict[str, str]]:
    forms: list[schemas.CheckoutForm] = []
    unreadable: dict[str, str] = {}
    for form_id in form_ids:
        try:
            forms.append(client.get_checkout_form(form_id))
        except NotFound:
            # Not (any more) this seller's order: nothing to import. Logged and
            # counted, so the journal does not stall on it forever.
            log.warning("checkout form %s not found; skipped", form_id)
            result.missing_forms.append(form_id)
        except MalformedResponse as exc:
            # One order Allegro describes in a way we cannot read must not hold
            # up every later one: it is set aside and read again on every pass.
            log.warning("checkout form %s unreadable; set aside: %s", form_id, exc)
            unreadable[form_id] = exc.user_text()
    result.forms_read += len(forms)
    return forms, unreadable


def _retry_set_aside(
    channel: Channel, client: AllegroClient, result: OrderSyncResult, say: Progress
) -> None:
    """Read every form set aside earlier again: a fixed one is imported now."""
    problems = open_problems(SOURCE, str(channel.pk))
    if not problems:
        return
    say(
        _("Reading %(n)d checkout forms set aside earlier again.")
        % {"n": len(problems)}
    )
    form_ids = [problem.external_id for problem in problems]
    result.retried += len(form_ids)
    forms, unreadable = _read_forms(client, form_ids, result)
    read = {form.id for form in forms} | set(unreadable)
    # Not found any more (not this seller's, or archived): nothing is left to
    # import; counted in missing_forms, like the journal's.
    gone = [form_id for form_id in form_ids if form_id not in read]
    with transaction.atomic():
        resolve_problems(SOURCE, str(channel.pk), gone)
        _save_forms(channel, forms, "retry of a set-aside form", result, unreadable)


def _describe(events: list[schemas.OrderEvent]) -> str:
    """The journal events behind a page, for the orders' history (capped)."""
    return ", ".join(f"{e.type} {e.id}" for e in events[-3:])


# ------------------------------------------------------------------- saving


def _save_forms(
    channel: Channel,
    forms: list[schemas.CheckoutForm],
    source: str,
    result: OrderSyncResult,
    unreadable: dict[str, str] | None = None,
) -> None:
    """Upsert these forms' orders and set aside the unusable ones, atomically
    (inside the caller's transaction, if any): a form that imports ends its
    problem, one that does not is recorded (again) with the reason."""
    incoming, unusable = _incoming_orders(channel, forms, source)
    unusable = {**(unreadable or {}), **unusable}
    if not incoming and not unusable:
        return
    with transaction.atomic():
        account = str(channel.pk)
        record_problems(SOURCE, account, channel.name, unusable)
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
) -> tuple[list[IncomingOrder], dict[str, str]]:
    """The forms' orders, and the forms the hub cannot use (id → reason)."""
    by_id: dict[str, IncomingOrder] = {}
    unusable: dict[str, str] = {}
    for form in forms:
        # A form read twice in one batch: the later read wins.
        try:
            order = map_checkout_form(form, channel.name, channel.default_currency)
        except UnusableForm as exc:
            # Never import garbage, never lose it: set aside, retried each pass.
            unusable[form.id] = str(exc)
            by_id.pop(form.id, None)
            continue
        unusable.pop(form.id, None)
        by_id[order.external_id] = replace(order, source_event=f"allegro: {source}")
    return list(by_id.values()), unusable


def _move_cursor(cursor: SyncCursor, value: str) -> None:
    """Compare-and-swap: only from the value this pass started from."""
    moved = SyncCursor.objects.filter(pk=cursor.pk, value=cursor.value).update(
        value=value, updated_at=timezone.now()
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


def _record_failure(channel: Channel, text: str) -> None:
    now = timezone.now()
    updated = SyncCursor.objects.filter(channel=channel, stream=JOURNAL).update(
        last_error=text, last_error_at=now
    )
    if not updated:
        Channel.objects.filter(pk=channel.pk).update(last_error=text, last_error_at=now)
