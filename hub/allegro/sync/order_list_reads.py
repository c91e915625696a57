"""The journal's forms read through the list (steady state), not one by one.

The events journal stays the trigger: a page of events names the checkout forms
that changed. Instead of ``GET /order/checkout-forms/{id}`` for each, the forms
changed since the page's first event are read with ``GET /order/checkout-forms``
filtered by ``updatedAt.gte`` (a lower bound only: Allegro prints milliseconds
but keeps more, so an upper bound would drop forms), sorted by updatedAt, 100 a
request, starting a few minutes before the page's first event (OVERLAP).

A form named by the page is *covered* by what the list shows when the list has
the revision of the form's last event in the page, or an updatedAt at or after
that event: the list then shows that change or a later one. Anything not
covered — the list lags behind the events at times, a form changed while the
list was being paged moves past the page being read, a form the hub cannot
read — is read by id afterwards (order_reads.read_forms), so the list only ever
saves requests, never loses a change.

Paging stops when every named form is covered, when the list ends, or once it
has passed the page's last event and a request covers fewer than LATER_YIELD
named forms (forms that changed again later are cheaper by id then). The list
answers at most offset + limit = 10 000 (api-notes §3.1): past that it starts
again at the last updatedAt it reached (forms sharing that millisecond come
again, harmlessly); if 10 000 forms share one millisecond, the rest is read by id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from hub.allegro import schemas
from hub.allegro.client import AllegroClient
from hub.allegro.pagination import FORMS_PAGE

LIST_FROM = 3  # named forms before a list request is worth it
OVERLAP = timedelta(minutes=5)
LATER_YIELD = 10  # past the page's last event, keep paging while this many covered


@dataclass(frozen=True)
class Named:
    """A form a page of events names: its last event there."""

    index: int  # of the event in the page
    revision: str | None
    occurred_at: datetime


def covers(form: schemas.CheckoutForm, named: Named) -> bool:
    if named.revision and form.revision == named.revision:
        return True
    return form.updated_at is not None and form.updated_at >= named.occurred_at


def read_from_list(
    client: AllegroClient, named: dict[str, Named]
) -> dict[str, schemas.CheckoutForm]:
    """The named forms the list covers (form id → form); the rest are left to
    be read by id."""
    found: dict[str, schemas.CheckoutForm] = {}
    if len(named) < LIST_FROM:
        return found
    since = _millisecond(min(n.occurred_at for n in named.values()) - OVERLAP)
    last_event = max(n.occurred_at for n in named.values())
    cap = client.checkout_forms_cap
    offset = 0
    window_start: datetime | None = None  # the first updatedAt since ``since``
    while True:
        limit = min(FORMS_PAGE, cap - offset)
        page = client.list_checkout_forms(
            offset=offset, limit=limit, updated_from=since, sort="updatedAt"
        )
        if offset == 0 and page.checkout_forms:
            window_start = page.checkout_forms[0].updated_at
        newly = 0
        for form in page.checkout_forms:
            wanted = named.get(form.id)
            if wanted is not None and covers(form, wanted):
                newly += form.id not in found
                found[form.id] = form  # a later sighting is a newer read
        size = len(page.checkout_forms) + len(page.unreadable)
        if len(found) == len(named) or size < limit or not page.checkout_forms:
            return found
        reached = page.checkout_forms[-1].updated_at
        if reached is None or (reached > last_event and newly < LATER_YIELD):
            return found
        offset += size
        if offset >= cap:
            # The cap: start again where the list got to.
            if window_start is None or _millisecond(reached) <= window_start:
                return found  # a whole window in one millisecond: by id
            since, offset = _millisecond(reached), 0


def _millisecond(moment: datetime) -> datetime:
    """Down to the millisecond, as Allegro compares (and the client sends)."""
    return moment - timedelta(microseconds=moment.microsecond % 1000)
