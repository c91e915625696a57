"""The list as reader: a journal page's forms read through GET /order/checkout-forms
(updatedAt.gte, sorted by updatedAt, 100 a request), whatever the list does not
cover read by id — a list that lags, forms sharing one millisecond across a page
boundary, the offset cap — and every order still saved exactly once."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from allegro_emulator import EmulatorConfig
from hub.allegro.client import AllegroClient, client_for_channel
from hub.allegro.models import Channel, SyncCursor
from hub.allegro.sync.orders import JOURNAL, sync_orders
from hub.allegro.tests.fixtures import HubEmulator, make_channel, make_emulator
from hub.catalog import stock
from hub.catalog.models import Allocation, StockItem
from hub.orders.models import Order, OrderEvent

pytestmark = pytest.mark.django_db

BY_ID = r"^/order/checkout-forms/[0-9a-f-]{36}$"
LIST = "/order/checkout-forms"
EVENTS = "/order/events"


@pytest.fixture
def offer(emulator: HubEmulator) -> str:
    item = StockItem.objects.create(sku="MUG-1", title="Kubek")
    stock.set_on_hand(item, stock.default_location(), 10**5)
    return emulator.add_offer(
        emulator.seller_id, "Kubek", external_id="MUG-1", quantity=10**5
    )


def calls(emulator: HubEmulator) -> tuple[int, int, int]:
    """(events, list, by id) requests so far."""
    return (
        emulator.count("GET", EVENTS),
        emulator.count("GET", LIST),
        emulator.count("GET", BY_ID),
    )


def by_id_reads(emulator: HubEmulator) -> set[str]:
    return {
        r["path"].rsplit("/", 1)[1]
        for r in emulator.requests
        if r["endpoint"] == "GET /order/checkout-forms/{id}"
    }


def assert_saved_once(forms: list[str]) -> None:
    assert sorted(Order.objects.values_list("external_id", flat=True)) == sorted(forms)
    imported = OrderEvent.objects.filter(kind=OrderEvent.Kind.IMPORTED)
    assert imported.count() == len(forms)
    assert Allocation.objects.count() == len(forms)


def start_journal(channel: Channel, client: AllegroClient, emu: HubEmulator) -> None:
    sync_orders(channel.pk, client)
    emu.clear_requests()


def test_steady_state_reads_a_pass_through_the_list_in_a_few_requests(
    emulator: HubEmulator, channel: Channel, allegro_client: AllegroClient, offer: str
) -> None:
    start_journal(channel, allegro_client, emulator)
    forms = []
    for _ in range(100):
        emulator.clock.advance(seconds=7)
        forms.append(emulator.purchase(offer))

    result = sync_orders(channel.pk, allegro_client)

    # One page of events, the list from the first event (less the overlap):
    # one request of 100; nothing by id: 0.02 requests per order.
    assert calls(emulator) == (1, 1, 0)
    assert (result.created, result.listed, result.forms_read) == (100, 100, 100)
    assert_saved_once(forms)
    first = emulator.requests[1]["query"]
    assert first["sort"] == ["updatedAt"]
    assert "updatedAt.lte" not in first

    # The next pass: payments of half of them, new purchases; the overlap
    # lists some forms saved already, which changes nothing.
    emulator.clear_requests()
    for form in forms[::2]:
        emulator.clock.advance(seconds=3)
        emulator.pay(form)
    for _ in range(50):
        emulator.clock.advance(seconds=3)
        forms.append(emulator.purchase(offer))

    result = sync_orders(channel.pk, allegro_client)

    assert (result.created, result.updated, result.unchanged) == (50, 50, 0)
    assert calls(emulator)[2] == 0
    assert sum(calls(emulator)) <= 0.05 * 100
    assert_saved_once(forms)
    assert OrderEvent.objects.filter(kind=OrderEvent.Kind.PAID).count() == 50

    # Nothing new: one request for the events, nothing else.
    emulator.clear_requests()
    result = sync_orders(channel.pk, allegro_client)
    assert calls(emulator) == (1, 0, 0)
    assert (result.created, result.updated) == (0, 0)


def test_a_form_the_list_does_not_show_yet_is_read_by_id(
    emulator: HubEmulator, channel: Channel, allegro_client: AllegroClient, offer: str
) -> None:
    start_journal(channel, allegro_client, emulator)
    forms = [emulator.purchase(offer) for _ in range(10)]
    paid = forms[2]
    emulator.lag_list(forms[5], 600)  # new, not in the list yet
    sync_orders(channel.pk, allegro_client)
    assert by_id_reads(emulator) == {forms[5]}
    assert_saved_once(forms)

    # A change the list has not caught up with: the list still shows the form
    # (as before) — here it hides it — and it is read by id, not missed.
    emulator.clear_requests()
    for form in forms[:4]:
        emulator.clock.advance(seconds=1)
        emulator.pay(form)
    emulator.lag_list(paid, 600)

    result = sync_orders(channel.pk, allegro_client)

    assert by_id_reads(emulator) == {paid}
    assert result.updated == 4
    assert Order.objects.filter(paid=True).count() == 4
    assert_saved_once(forms)


def test_a_form_listed_older_than_its_event_is_read_by_id(
    emulator: HubEmulator,
    channel: Channel,
    offer: str,
    instant_retries: dict[str, Any],
) -> None:
    """The list may show a form as it was before its event: neither the event's
    revision nor an updatedAt at or after the event, so it is read by id."""
    stale: dict[str, Any] = {}

    def handle(request: Any) -> Any:
        response = emulator.handle(request)
        if request.url.path == LIST and stale:
            body = response.json()
            body["checkoutForms"] = [
                stale.get(form["id"], form) for form in body["checkoutForms"]
            ]
            import httpx

            return httpx.Response(200, json=body, headers=response.headers)
        return response

    import httpx

    client = client_for_channel(
        channel, transport=httpx.MockTransport(handle), **instant_retries
    )
    start_journal(channel, client, emulator)
    forms = [emulator.purchase(offer) for _ in range(5)]
    sync_orders(channel.pk, client)
    stale[forms[1]] = emulator.checkout_form(forms[1])  # as bought
    emulator.clear_requests()
    emulator.clock.advance(seconds=2)
    for form in forms:
        emulator.pay(form)

    sync_orders(channel.pk, client)

    assert by_id_reads(emulator) == {forms[1]}
    assert Order.objects.filter(paid=True).count() == 5


def test_forms_sharing_one_millisecond_across_a_list_page_are_all_covered(
    emulator: HubEmulator, channel: Channel, allegro_client: AllegroClient, offer: str
) -> None:
    start_journal(channel, allegro_client, emulator)
    emulator.clock.advance(seconds=1)
    # The clock stands still: 150 orders bought and changed in one millisecond.
    forms = [emulator.purchase(offer) for _ in range(150)]

    result = sync_orders(channel.pk, allegro_client)

    assert calls(emulator) == (1, 2, 0)
    assert result.listed == 150
    assert_saved_once(forms)


@pytest.mark.parametrize(
    ("count", "seconds_apart", "requests", "listed"),
    [
        # Offsets 0, 100, 200 (cap 250: the last of 50), then again from the
        # updatedAt reached: never past the cap, nothing by id.
        (320, 1, (1, 4, 0), 320),
        # 300 forms in one millisecond: the list cannot move past them, so the
        # 50 it cannot reach are read by id.
        (300, 0, (1, 3, 50), 250),
    ],
    ids=["distinct-times", "one-millisecond"],
)
def test_the_offset_cap_restarts_the_list_where_it_got_to(
    offer_cap: tuple[HubEmulator, Channel, AllegroClient, str],
    count: int,
    seconds_apart: int,
    requests: tuple[int, int, int],
    listed: int,
) -> None:
    emulator, channel, client, offer = offer_cap
    start_journal(channel, client, emulator)
    emulator.clock.advance(seconds=1)
    forms = []
    for _ in range(count):
        emulator.clock.advance(seconds=seconds_apart)
        forms.append(emulator.purchase(offer))

    result = sync_orders(channel.pk, client)

    assert calls(emulator) == requests
    list_requests = [r for r in emulator.requests if r["path"] == LIST]
    assert {r["status"] for r in list_requests} == {200}
    assert all(
        int(r["query"]["offset"][0]) + int(r["query"]["limit"][0]) <= 250
        for r in list_requests
    )
    assert (result.listed, result.forms_read) == (listed, count)
    assert_saved_once(forms)
    assert SyncCursor.objects.get(channel=channel, stream=JOURNAL).value == str(
        emulator.last_order_event_id
    )


@pytest.fixture
def offer_cap(
    db: None, instant_retries: dict[str, Any]
) -> tuple[HubEmulator, Channel, AllegroClient, str]:
    """An Allegro whose list stops at offset + limit = 250 (not 10 000)."""
    emulator = make_emulator(
        EmulatorConfig(checkout_forms_max_window=250, rate_limit_per_minute=None)
    )
    channel = make_channel(emulator)
    client = client_for_channel(
        channel, transport=emulator.transport, **instant_retries
    )
    client.checkout_forms_cap = 250
    item = StockItem.objects.create(sku="MUG-1", title="Kubek")
    stock.set_on_hand(item, stock.default_location(), 10**5)
    offer = emulator.add_offer(
        emulator.seller_id, "Kubek", external_id="MUG-1", quantity=10**5
    )
    return emulator, channel, client, offer


def test_orders_looked_up_by_id_are_never_sorted_by_the_accounts_history(
    emulator: HubEmulator, channel: Channel, allegro_client: AllegroClient, offer: str
) -> None:
    # Sorting by Order's default ordering (newest first) made the database walk
    # every order of the account instead of looking the ids up: a pass grew
    # slower with the account's age.
    start_journal(channel, allegro_client, emulator)
    forms = [emulator.purchase(offer) for _ in range(3)]
    sync_orders(channel.pk, allegro_client)
    for form in forms:
        emulator.pay(form)

    with CaptureQueriesContext(connection) as captured:
        sync_orders(channel.pk, allegro_client)

    by_id = [
        q["sql"] for q in captured.captured_queries
        if 'FROM "orders_order"' in q["sql"] and '"external_id" IN' in q["sql"]
    ]  # fmt: skip
    assert len(by_id) == 2  # the revisions the journal names; the lock
    assert not [sql for sql in by_id if "bought_at" in sql.split("ORDER BY")[-1]]
    assert Order.objects.filter(paid=True).count() == 3
