"""Keep a channel's offers as Listings (ARCHITECTURE.md §4 "Listings").

Per pass:

1. Full reconcile when due (first pass, every RECONCILE_EVERY, or when the offer
   journal cursor is older than Allegro keeps events — 24 h, api-notes §5.4):
   note where the journal ends, read every offer with ``GET /sale/offers`` (all
   statuses, 1 000 a page), upsert them page by page, mark offers Allegro no
   longer lists as ARCHIVED, then continue the journal from the noted end.
2. Otherwise follow ``/sale/offer-events`` from the cursor. An event only says
   "offer X changed" (``OFFER_STOCK_CHANGED`` carries no quantity, api-notes §5.4):
   re-read those offers with the list (100 ids a call) and upsert them together
   with the cursor move, in one transaction.
3. Link listings whose external id equals a SKU exactly (never a guess, never
   over a link or unlink made by hand), then link those offers' unlinked order
   lines (hub.orders.linking.link_lines_of_offer).

Network I/O happens before the transaction it feeds; a crash re-reads from the
last committed cursor and the upsert (unique per channel × offer) makes that
harmless.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from hub.allegro import schemas, texts
from hub.allegro.client import AllegroClient
from hub.allegro.models import Channel, Listing, ListingEvent, SyncCursor
from hub.catalog.models import StockItem
from hub.orders.linking import link_lines_of_offer
from hub.orders.models import Order, OrderLine
from hub.text.message import Message

log = logging.getLogger(__name__)

SOURCE = "allegro"  # hub.orders' source for this channel's orders (sync/orders.py)
JOURNAL = "offer_events"  # value: the last offer event id applied
RECONCILE = "offer_reconcile"  # value: when the last full reconcile finished
RECONCILE_EVERY = timedelta(hours=6)
# Allegro keeps offer events 24 h (api-notes §5.4); an hour of margin.
JOURNAL_KEEPS = timedelta(hours=23)
EVENT_PAGE = 1000
IDS_PER_READ = 100  # offer ids per GET /sale/offers?offer.id=… (URL length)
SAVE_BATCH = 1000
ARCHIVED = "ARCHIVED"
LIVE = ("ACTIVE", "ACTIVATING")

Progress = Callable[[str], None]


@dataclass
class ListingSyncResult:
    skipped: str = ""
    reconciled: bool = False
    events: int = 0
    offers_read: int = 0
    created: int = 0
    changed: int = 0
    archived: int = 0
    linked: int = 0
    lines_linked: int = 0

    def summary(self) -> str:
        if self.skipped:
            return self.skipped
        text = _(
            "listings: %(created)d new, %(changed)d changed, %(archived)d archived "
            "(%(read)d offers read, %(events)d events); %(linked)d linked by SKU"
        ) % {
            "created": self.created,
            "changed": self.changed,
            "archived": self.archived,
            "read": self.offers_read,
            "events": self.events,
            "linked": self.linked,
        }
        if self.reconciled:
            text += "; " + _("full reconcile")
        if self.lines_linked:
            text += "; " + _("%(n)d order lines linked") % {"n": self.lines_linked}
        return text


def sync_listings(
    channel_id: int,
    client: AllegroClient,
    *,
    full: bool = False,
    progress: Progress | None = None,
) -> ListingSyncResult:
    channel = Channel.objects.get(pk=channel_id)
    result = ListingSyncResult()
    if not channel.enabled:
        result.skipped = _(
            "Channel %(name)s is disabled; listings were not synced."
        ) % {"name": channel.name}
        return result
    journal = _cursor(channel, JOURNAL)
    reconcile = _cursor(channel, RECONCILE)
    now = timezone.now()
    if full or _reconcile_due(journal, reconcile, now):
        reconcile_all(channel, client, journal, result, progress)
        SyncCursor.objects.filter(pk=reconcile.pk).update(
            value=now.isoformat(), last_success_at=now, last_error=""
        )
    else:
        follow_journal(channel, client, journal, result)
    linked = auto_link(channel)
    result.linked = len(linked)
    result.lines_linked = link_order_lines(channel, linked)
    return result


def _cursor(channel: Channel, stream: str) -> SyncCursor:
    cursor, _created = SyncCursor.objects.get_or_create(channel=channel, stream=stream)
    return cursor


def _reconcile_due(journal: SyncCursor, reconcile: SyncCursor, now: datetime) -> bool:
    # An empty journal value is fine: no event yet, read from the start.
    if reconcile.last_success_at is None:
        return True
    if reconcile.last_success_at < now - RECONCILE_EVERY:
        return True
    caught_up = journal.last_success_at or reconcile.last_success_at
    return caught_up < now - JOURNAL_KEEPS


# ----------------------------------------------------------------- reconcile


def journal_end(client: AllegroClient, start: str) -> str:
    """The id of the newest offer event (or ``start`` if there is none newer)."""
    cursor = start
    while True:
        events = client.offer_events(from_event=cursor or None, limit=EVENT_PAGE)
        if not events or events[-1].id == cursor:
            return cursor
        cursor = events[-1].id
        if len(events) < EVENT_PAGE:
            return cursor


def reconcile_all(
    channel: Channel,
    client: AllegroClient,
    journal: SyncCursor,
    result: ListingSyncResult,
    progress: Progress | None = None,
) -> None:
    """Read every offer; what Allegro no longer lists is archived."""
    # The journal's end first: changes made while we read are re-read next pass.
    end = journal_end(client, journal.value)
    seen: set[str] = set()
    page: list[schemas.OfferListItem] = []
    for offer in client.iter_offers():
        page.append(offer)
        seen.add(offer.id)
        if len(page) == SAVE_BATCH:
            with transaction.atomic():
                upsert_offers(channel, page, result)
            page = []
            if progress:
                progress(_("%(n)d offers read") % {"n": result.offers_read})
    with transaction.atomic():
        upsert_offers(channel, page, result)
        known = Listing.objects.filter(channel=channel).exclude(status=ARCHIVED)
        gone = set(known.values_list("offer_id", flat=True)) - seen
        result.archived += _archive(Listing.objects.filter(channel=channel), gone)
        SyncCursor.objects.filter(pk=journal.pk).update(
            value=end, last_success_at=timezone.now(), last_error=""
        )
    result.reconciled = True


def _archive(listings: QuerySet[Listing], offer_ids: Iterable[str]) -> int:
    wanted = sorted(offer_ids)
    ids: list[int] = []
    for start in range(0, len(wanted), SAVE_BATCH):
        chunk = listings.filter(offer_id__in=wanted[start : start + SAVE_BATCH])
        ids += chunk.exclude(status=ARCHIVED).values_list("pk", flat=True)
    ListingEvent.objects.bulk_create(
        [
            ListingEvent(
                listing_id=pk,
                kind=ListingEvent.Kind.CHANGED,
                message=Message(texts.ARCHIVED),
            )
            for pk in ids
        ],
        batch_size=SAVE_BATCH,
    )
    archived = 0
    for start in range(0, len(ids), SAVE_BATCH):
        archived += Listing.objects.filter(
            pk__in=ids[start : start + SAVE_BATCH]
        ).update(status=ARCHIVED, updated_at=timezone.now())
    return archived


# ------------------------------------------------------------------ journal


def follow_journal(
    channel: Channel,
    client: AllegroClient,
    journal: SyncCursor,
    result: ListingSyncResult,
) -> None:
    """Apply offer events after the cursor, a page per transaction."""
    cursor = journal.value
    while True:
        page = client.offer_events(from_event=cursor or None, limit=EVENT_PAGE)
        events = [event for event in page if event.id != cursor]
        if events:
            offers, missing = read_offers(client, {e.offer_id for e in events})
            ended_by = {e.offer_id: e.ended_by for e in events if e.ended_by}
            with transaction.atomic():
                moved = SyncCursor.objects.filter(pk=journal.pk, value=cursor).update(
                    value=events[-1].id, last_success_at=timezone.now(), last_error=""
                )
                if not moved:  # another pass applied this page meanwhile
                    return
                upsert_offers(channel, offers, result, ended_by)
                result.archived += _archive(
                    Listing.objects.filter(channel=channel), missing
                )
            result.events += len(events)
            cursor = events[-1].id
        else:
            SyncCursor.objects.filter(pk=journal.pk, value=cursor).update(
                last_success_at=timezone.now(), last_error=""
            )
        if len(page) < EVENT_PAGE or not events:
            return


def read_offers(
    client: AllegroClient, offer_ids: Iterable[str]
) -> tuple[list[schemas.OfferListItem], set[str]]:
    """The offers by id, and the ids Allegro no longer lists (archived)."""
    wanted = sorted(set(offer_ids))
    found: list[schemas.OfferListItem] = []
    for start in range(0, len(wanted), IDS_PER_READ):
        chunk = wanted[start : start + IDS_PER_READ]
        found += client.list_offers(offer_ids=chunk, limit=len(chunk)).offers
    return found, set(wanted) - {offer.id for offer in found}


# ------------------------------------------------------------------- upsert

_FIELDS = [
    "title",
    "external_id",
    "format",
    "status",
    "marketplace_id",
    "known_quantity",
    "quantity_dropped_at",
    "ended_at",
    "ended_by",
    "bidders",
    "updated_at",
]


def upsert_offers(
    channel: Channel,
    offers: Sequence[schemas.OfferListItem],
    result: ListingSyncResult,
    ended_by: dict[str, str] | None = None,
) -> None:
    """Create or update the offers' listings in a few statements (set-based)."""
    result.offers_read += len(offers)
    ids = [offer.id for offer in offers]
    existing = {
        listing.offer_id: listing
        for listing in Listing.objects.filter(channel=channel, offer_id__in=ids)
    }
    now = timezone.now()
    new: list[Listing] = []
    changed: list[Listing] = []
    events: list[ListingEvent] = []
    for offer in offers:
        listing = existing.get(offer.id)
        if listing is None:
            listing = Listing(channel=channel, offer_id=offer.id)
            _apply(listing, offer, ended_by, now)
            new.append(listing)
            continue
        before = [getattr(listing, name) for name in _FIELDS[:-1]]
        notes = _apply(listing, offer, ended_by, now)
        if before != [getattr(listing, name) for name in _FIELDS[:-1]]:
            changed.append(listing)
        if notes:
            events.append(
                ListingEvent(
                    listing=listing,
                    kind=ListingEvent.Kind.CHANGED,
                    message=Message(texts.CHANGED, changes=notes),
                    created_at=now,
                )
            )
    Listing.objects.bulk_create(new, batch_size=SAVE_BATCH)
    Listing.objects.bulk_update(changed, _FIELDS, batch_size=SAVE_BATCH)
    ListingEvent.objects.bulk_create(events, batch_size=SAVE_BATCH)
    result.created += len(new)
    result.changed += len(events)


def _apply(
    listing: Listing,
    offer: schemas.OfferListItem,
    ended_by: dict[str, str] | None,
    now: datetime,
) -> list[Message]:
    """Copy the offer onto the listing; what changed, for its timeline."""
    notes = []
    status = offer.status or ""
    if listing.pk and status != listing.status:
        notes.append(Message(texts.STATUS_CHANGED, old=listing.status, new=status))
    quantity = offer.available
    old = listing.known_quantity
    if listing.pk and quantity != old:
        notes.append(
            Message(
                texts.QUANTITY_CHANGED, old="—" if old is None else old, new=quantity
            )
        )
        # Lowered on Allegro's side (a sale, a hand edit), not by our push.
        ours = (
            listing.push_state == Listing.PushState.PENDING
            and quantity == listing.push_value
        )
        if old is not None and quantity is not None and quantity < old and not ours:
            listing.quantity_dropped_at = now
    listing.title = offer.name[:255]
    listing.external_id = (offer.external_id or "")[:100]
    listing.format = offer.format or Listing.Format.BUY_NOW
    listing.status = status
    listing.marketplace_id = offer.marketplace_id or ""
    listing.known_quantity = quantity
    listing.ended_at = offer.ended_at
    if ended_by and offer.id in ended_by:
        listing.ended_by = ended_by[offer.id]
    elif status in LIVE:
        listing.ended_by = ""
    listing.bidders = offer.bidders_count or 0
    listing.updated_at = now
    return notes


# ------------------------------------------------------------------ linking


def auto_link(channel: Channel) -> list[tuple[str, int]]:
    """Link listings whose external id is exactly a SKU; (offer id, item id) each.

    Only listings never linked or unlinked by hand; one query finds them, so a
    pass over 100 000 unlinked listings with no match costs one statement.
    """
    candidates = Listing.objects.filter(
        channel=channel,
        stock_item__isnull=True,
        link_method=Listing.LinkMethod.NONE,
        external_id__in=Subquery(StockItem.objects.values("sku")),
    )
    rows = list(candidates.values_list("pk", flat=True))
    item_of_sku = Subquery(
        StockItem.objects.filter(sku=OuterRef("external_id")).values("pk")[:1]
    )
    linked: list[tuple[str, int]] = []
    with transaction.atomic():
        for start in range(0, len(rows), SAVE_BATCH):
            chunk = rows[start : start + SAVE_BATCH]
            # Conditional: a link made by hand meanwhile is left alone.
            Listing.objects.filter(
                pk__in=chunk,
                stock_item__isnull=True,
                link_method=Listing.LinkMethod.NONE,
            ).update(
                stock_item=item_of_sku,
                link_method=Listing.LinkMethod.AUTO,
                updated_at=timezone.now(),
            )
            done = Listing.objects.filter(
                pk__in=chunk, link_method=Listing.LinkMethod.AUTO
            ).values_list("pk", "offer_id", "stock_item_id", "stock_item__sku")
            events = []
            for pk, offer_id, item_id, sku in done:
                linked.append((offer_id, item_id))
                events.append(
                    ListingEvent(
                        listing_id=pk,
                        kind=ListingEvent.Kind.LINKED,
                        message=Message(texts.LINKED_BY_SKU, sku=sku),
                    )
                )
            ListingEvent.objects.bulk_create(events, batch_size=SAVE_BATCH)
    return linked


def link_order_lines(channel: Channel, linked: Iterable[tuple[str, int]]) -> int:
    """Link the open orders' unlinked lines of newly linked offers (and tell
    the lines that left without stock that their listing is linked now)."""
    by_offer = dict(linked)
    if not by_offer:
        return 0
    waiting = set(
        OrderLine.objects.filter(
            Q(order__status=Order.Status.OPEN) | Q(dispatch__isnull=False),
            order__source=SOURCE,
            order__account=str(channel.pk),
            stock_item__isnull=True,
            offer_id__in=list(by_offer),
        ).values_list("offer_id", flat=True)
    )
    return sum(
        link_lines_of_offer(SOURCE, str(channel.pk), offer_id, by_offer[offer_id])
        for offer_id in sorted(waiting)
    )


def set_link(listing: Listing, item: StockItem | None, who: str = "") -> None:
    """Link (or, with None, unlink) a listing by hand; the automatic link keeps off."""
    with transaction.atomic():
        listing.stock_item = item
        listing.link_method = Listing.LinkMethod.MANUAL
        listing.target = None
        listing.save(
            update_fields=["stock_item", "link_method", "target", "updated_at"]
        )
        if item is None:
            message = Message(texts.UNLINKED_BY_HAND, who=who or "-")
            kind = ListingEvent.Kind.UNLINKED
        else:
            message = Message(texts.LINKED_BY_HAND, sku=item.sku, who=who or "-")
            kind = ListingEvent.Kind.LINKED
        ListingEvent.objects.create(listing=listing, kind=kind, message=message)
    if item is not None:
        link_order_lines(listing.channel, [(listing.offer_id, item.pk)])


def clear_manual_link(listing: Listing) -> None:
    """Hand the listing back to the automatic link (external id = SKU)."""
    Listing.objects.filter(pk=listing.pk).update(
        stock_item=None, link_method=Listing.LinkMethod.NONE, target=None
    )
    auto_link(listing.channel)
