"""Streaming pagination over Allegro's lists, without holding them in memory.

Used by AllegroClient's ``iter_*`` methods; each function yields items as pages
arrive, so a caller can stop early and only what it consumed was fetched.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from hub.allegro import schemas

if TYPE_CHECKING:
    from hub.allegro.client import AllegroClient

log = logging.getLogger(__name__)

OFFERS_PAGE = 1000  # api-notes §5.1: limit ≤ 1000
EVENTS_PAGE = 1000  # api-notes §3.3: limit ≤ 1000
FORMS_PAGE = 100  # api-notes §3.1: limit ≤ 100


def iter_offers(
    client: AllegroClient, **filters: Any
) -> Iterator[schemas.OfferListItem]:
    """Every offer matching the filters, by offset pages of 1 000."""
    offset = 0
    while True:
        page = client.list_offers(offset=offset, limit=OFFERS_PAGE, **filters)
        yield from page.offers
        offset += len(page.offers)
        if len(page.offers) < OFFERS_PAGE or offset >= page.total_count:
            return


def iter_order_events(
    client: AllegroClient, from_event: str | None
) -> Iterator[schemas.OrderEvent]:
    """Every order event after ``from_event``, following the event-id cursor."""
    cursor = from_event
    while True:
        events = client.order_events(from_event=cursor, limit=EVENTS_PAGE)
        yield from events
        # A full page means there may be more; a page that does not move the
        # cursor would loop forever, so it ends the walk too.
        if len(events) < EVENTS_PAGE or events[-1].id == cursor:
            return
        cursor = events[-1].id


def iter_checkout_forms(
    client: AllegroClient,
    bought_from: datetime,
    bought_to: datetime,
    filters: dict[str, Any],
) -> Iterator[schemas.CheckoutForm | schemas.UnreadableForm]:
    """Every order bought in [from, to], oldest window first, under the cap
    (a form the hub cannot read comes as an UnreadableForm, to be set aside).

    Allegro refuses offset + limit > 10 000 (api-notes §3.1, #4027), so a
    window holding more is split in halves until each half fits.
    """
    cap = client.checkout_forms_cap
    windows = [(bought_from, bought_to)]
    while windows:
        start, end = windows.pop()
        page = _forms_page(client, start, end, 0, filters)
        halves = split_window(start, end) if page.total_count > cap else None
        if halves is not None:
            windows.extend(reversed(halves))
            continue
        yield from _page_forms(page)
        offset = _page_size(page)
        while _page_size(page) and offset < min(page.total_count, cap):
            page = _forms_page(client, start, end, offset, filters)
            yield from _page_forms(page)
            offset += _page_size(page)
        if page.total_count > cap:
            log.warning(
                "More than %d orders bought within one millisecond at %s; "
                "some were skipped",
                cap,
                start.isoformat(),
            )


def _page_forms(
    page: schemas.CheckoutFormList,
) -> list[schemas.CheckoutForm | schemas.UnreadableForm]:
    """The page's forms, then those of them the hub cannot read (by id)."""
    return [*page.checkout_forms, *page.unreadable]


def _page_size(page: schemas.CheckoutFormList) -> int:
    return len(page.checkout_forms) + len(page.unreadable)


def _forms_page(
    client: AllegroClient,
    start: datetime,
    end: datetime,
    offset: int,
    filters: dict[str, Any],
) -> schemas.CheckoutFormList:
    return client.list_checkout_forms(
        offset=offset,
        limit=min(FORMS_PAGE, client.checkout_forms_cap - offset),
        bought_from=start,
        bought_to=end,
        # Oldest first: orders arriving meanwhile land at the end, not mid-page.
        sort="lineItems.boughtAt",
        **filters,
    )


def split_window(
    start: datetime, end: datetime
) -> list[tuple[datetime, datetime]] | None:
    """Two halves of [start, end] that neither overlap nor leave a gap.

    Allegro compares date-times to the millisecond, so the halves meet at a
    millisecond boundary; None when the window cannot be split any further.
    """
    millisecond = timedelta(milliseconds=1)
    if end - start < 2 * millisecond:
        return None
    middle = start + (end - start) / 2
    middle -= timedelta(microseconds=middle.microsecond % 1000)
    return [(start, middle - millisecond), (middle, end)]
