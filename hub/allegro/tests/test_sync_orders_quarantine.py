"""A checkout form the hub cannot use is set aside, not a stop for the channel.

The emulator stays honest; a transport in front of it spoils one form's answers
(quantity 0: the hub cannot use it; no buyer: the hub cannot read it) until the
test "fixes" it on Allegro's side by switching the spoiling off.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from django.utils import timezone

from hub.allegro.client import AllegroClient, client_for_channel
from hub.allegro.errors import TransientError
from hub.allegro.models import Channel, SyncCursor
from hub.allegro.sync.orders import BACKFILL, JOURNAL, sync_orders
from hub.allegro.tests.fixtures import HubEmulator
from hub.catalog import stock
from hub.catalog.models import Allocation, StockItem
from hub.orders.models import ImportProblem, Order
from hub.text.message import Message

pytestmark = pytest.mark.django_db

Spoil = Callable[[dict[str, Any]], None]


def zero_quantity(form: dict[str, Any]) -> None:
    form["lineItems"][0]["quantity"] = 0


def no_buyer(form: dict[str, Any]) -> None:
    del form["buyer"]


class Spoiler:
    """The emulator behind a transport that spoils one checkout form's answers."""

    def __init__(self, emulator: HubEmulator) -> None:
        self.emulator = emulator
        self.form_id = ""
        self.spoil: Spoil = zero_quantity

    def handle(self, request: httpx.Request) -> httpx.Response:
        response = self.emulator.handle(request)
        path = request.url.path
        if not self.form_id or request.method != "GET" or response.status_code != 200:
            return response
        if path == f"/order/checkout-forms/{self.form_id}":
            body = response.json()
            self.spoil(body)
        elif path == "/order/checkout-forms":
            body = response.json()
            for form in body["checkoutForms"]:
                if form["id"] == self.form_id:
                    self.spoil(form)
        else:
            return response
        return httpx.Response(200, json=body, headers={"Trace-Id": "spoiled-1"})


@pytest.fixture
def spoiler(emulator: HubEmulator) -> Spoiler:
    return Spoiler(emulator)


@pytest.fixture
def client(
    channel: Channel, spoiler: Spoiler, instant_retries: dict[str, Any]
) -> Iterator[AllegroClient]:
    transport = httpx.MockTransport(spoiler.handle)
    with client_for_channel(channel, transport=transport, **instant_retries) as c:
        yield c


@pytest.fixture
def mug(db: None) -> StockItem:
    item = StockItem.objects.create(sku="MUG-1", title="Kubek")
    stock.set_on_hand(item, stock.default_location(), 50)
    return item


@pytest.fixture
def offer(emulator: HubEmulator, mug: StockItem) -> str:
    return emulator.add_offer(
        emulator.seller_id, "Kubek", external_id="MUG-1", quantity=500
    )


def form_reads(emulator: HubEmulator, form_id: str) -> int:
    return emulator.count("GET", f"^/order/checkout-forms/{form_id}$")


def imported() -> list[str]:
    return sorted(Order.objects.values_list("external_id", flat=True))


def problem() -> tuple[str, str, int]:
    (row,) = ImportProblem.objects.all()
    return row.external_id, str(row.reason), row.attempts


def allocated(item: StockItem) -> int:
    return sum(Allocation.objects.filter(item=item).values_list("quantity", flat=True))


@pytest.mark.parametrize(
    ("spoil", "reason"),
    [
        (zero_quantity, "Line item {line} has quantity 0."),
        (
            no_buyer,
            "Allegro sent a response the hub cannot read (GET "
            "/order/checkout-forms/{form}: unexpected CheckoutForm (buyer: Field "
            "required)). Nothing was changed; if this keeps happening, report it "
            "with the Trace-Id. (Allegro Trace-Id: spoiled-1)",
        ),
    ],
    ids=["unusable", "unreadable"],
)
def test_a_bad_form_mid_journal_page_is_set_aside_and_imported_once_fixed(
    emulator: HubEmulator,
    channel: Channel,
    client: AllegroClient,
    spoiler: Spoiler,
    offer: str,
    mug: StockItem,
    spoil: Spoil,
    reason: str,
):
    sync_orders(channel.pk, client)  # the journal starts here
    before = emulator.purchase(offer)
    bad = emulator.purchase(offer, quantity=2)
    after = emulator.purchase(offer)
    spoiler.form_id, spoiler.spoil = bad, spoil
    line = emulator.checkout_forms[bad].line_items[0].id
    reason = reason.format(line=line, form=bad)

    # One page holds all three orders' events; the bad one is in the middle.
    result = sync_orders(channel.pk, client)

    assert imported() == sorted([before, after])
    assert SyncCursor.objects.get(channel=channel, stream=JOURNAL).value == str(
        emulator.last_order_event_id
    )
    assert problem() == (bad, reason, 1)
    assert texts_of(result.set_aside) == {bad: reason}
    assert (result.created, result.retried, result.recovered) == (2, 0, 0)
    # The list showed it: an unusable one is set aside from there; one the hub
    # cannot read there is read once more by id (and found unreadable again).
    by_id = form_reads(emulator, bad)
    assert by_id == (1 if spoil is no_buyer else 0)
    assert allocated(mug) == 2  # the other two orders, one each

    # Every later pass reads it again, and the one problem counts the attempts.
    for attempt in (2, 3):
        result = sync_orders(channel.pk, client)
        assert form_reads(emulator, bad) == by_id + attempt - 1
        assert problem() == (bad, reason, attempt)
        assert (result.retried, result.recovered, result.created) == (1, 0, 0)
        assert texts_of(result.set_aside) == {bad: reason}
    assert imported() == sorted([before, after])

    # Fixed on Allegro's side: imported, once; the problem is gone.
    spoiler.form_id = ""
    result = sync_orders(channel.pk, client)

    assert (result.retried, result.recovered, result.created) == (1, 1, 1)
    assert texts_of(result.set_aside) == {}
    assert ImportProblem.objects.count() == 0
    assert imported() == sorted([before, bad, after])
    assert Order.objects.get(external_id=bad).lines.get().quantity == 2
    assert allocated(mug) == 4

    result = sync_orders(channel.pk, client)

    assert form_reads(emulator, bad) == by_id + 3  # no more retries
    assert (result.retried, result.created) == (0, 0)
    assert Order.objects.count() == 3
    assert allocated(mug) == 4


def three_in_the_backfill(
    emulator: HubEmulator, channel: Channel, offer: str
) -> list[str]:
    """Three orders bought 9, 8 and 7.5 days ago; the channel back-fills 10 days."""
    now = emulator.clock.now()
    forms = []
    for days_ago in (9, 8, 7.5):
        emulator.clock.set(now - timedelta(days=days_ago))
        forms.append(emulator.purchase(offer))
    emulator.clock.set(now)
    channel.sync_orders_from = timezone.now() - timedelta(days=10)
    channel.save()
    return forms


def test_a_bad_form_in_the_backfill_is_set_aside_and_imported_once_fixed(
    emulator: HubEmulator,
    channel: Channel,
    client: AllegroClient,
    spoiler: Spoiler,
    offer: str,
):
    forms = three_in_the_backfill(emulator, channel, offer)
    first, bad, last = forms
    spoiler.form_id = bad
    line = emulator.checkout_forms[bad].line_items[0].id

    result = sync_orders(channel.pk, client)

    assert imported() == sorted([first, last])
    assert SyncCursor.objects.get(channel=channel, stream=BACKFILL).value == ""
    assert problem() == (bad, f"Line item {line} has quantity 0.", 1)
    assert texts_of(result.set_aside) == {bad: f"Line item {line} has quantity 0."}
    assert form_reads(emulator, bad) == 0  # it came in the list

    result = sync_orders(channel.pk, client)

    assert form_reads(emulator, bad) == 1
    assert problem()[2] == 2
    assert result.created == 0

    spoiler.form_id = ""
    result = sync_orders(channel.pk, client)
    sync_orders(channel.pk, client)

    assert (result.recovered, result.created) == (1, 1)
    assert form_reads(emulator, bad) == 2
    assert ImportProblem.objects.count() == 0
    assert imported() == sorted(forms)


def test_an_order_that_turns_bad_keeps_its_last_good_state_until_fixed(
    emulator: HubEmulator,
    channel: Channel,
    client: AllegroClient,
    spoiler: Spoiler,
    offer: str,
    mug: StockItem,
):
    sync_orders(channel.pk, client)
    form = emulator.purchase(offer, quantity=3)
    sync_orders(channel.pk, client)
    emulator.pay(form)
    spoiler.form_id = form

    result = sync_orders(channel.pk, client)

    order = Order.objects.get()
    assert (order.paid, order.lines.get().quantity) == (False, 3)
    assert allocated(mug) == 3
    assert texts_of(result.set_aside) == {form: problem()[1]}
    assert result.updated == 0

    spoiler.form_id = ""
    result = sync_orders(channel.pk, client)

    order.refresh_from_db()
    assert order.paid is True
    assert (result.recovered, result.updated, result.created) == (1, 1, 0)
    assert ImportProblem.objects.count() == 0
    assert allocated(mug) == 3


def test_a_set_aside_form_gone_from_allegro_ends_its_problem_and_says_so(
    emulator: HubEmulator,
    channel: Channel,
    client: AllegroClient,
    spoiler: Spoiler,
    offer: str,
):
    sync_orders(channel.pk, client)
    bad = emulator.purchase(offer)
    spoiler.form_id = bad
    sync_orders(channel.pk, client)
    del emulator.checkout_forms[bad]

    result = sync_orders(channel.pk, client)

    assert result.missing_forms == [bad]
    assert "1 checkout forms not found on Allegro" in result.summary()
    assert ImportProblem.objects.count() == 0
    assert Order.objects.count() == 0


def test_a_page_that_fails_after_a_bad_form_records_no_problem(
    emulator: HubEmulator,
    channel: Channel,
    client: AllegroClient,
    spoiler: Spoiler,
    offer: str,
):
    """The problem row is part of the page: no commit, no row; the retry of the
    page records it once."""
    sync_orders(channel.pk, client)
    cursor = SyncCursor.objects.get(channel=channel, stream=JOURNAL).value
    bad = emulator.purchase(offer)
    good = emulator.purchase(offer)
    spoiler.form_id = bad
    # The bad form's read answers (spoiled), the next one keeps failing.
    emulator.add_fault(
        r"^/order/checkout-forms/[0-9a-f-]{36}$", "503", count=None, skip=1
    )

    with pytest.raises(TransientError):
        sync_orders(channel.pk, client)

    assert ImportProblem.objects.count() == 0
    assert Order.objects.count() == 0
    assert SyncCursor.objects.get(channel=channel, stream=JOURNAL).value == cursor

    emulator.clear_faults()
    sync_orders(channel.pk, client)

    assert problem()[0::2] == (bad, 1)
    assert imported() == [good]


def test_an_unreadable_form_in_a_backfill_list_page_is_set_aside_not_the_page(
    emulator: HubEmulator,
    channel: Channel,
    client: AllegroClient,
    spoiler: Spoiler,
    offer: str,
):
    forms = three_in_the_backfill(emulator, channel, offer)
    first, bad, last = forms
    spoiler.form_id, spoiler.spoil = bad, no_buyer

    result = sync_orders(channel.pk, client)

    assert imported() == sorted([first, last])
    assert SyncCursor.objects.get(channel=channel, stream=BACKFILL).value == ""
    assert problem() == (
        bad,
        "Allegro sent a response the hub cannot read (GET /order/checkout-forms: "
        "unexpected CheckoutForm (buyer: Field required)). Nothing was changed; "
        "if this keeps happening, report it with the Trace-Id.",
        1,
    )
    assert set(result.set_aside) == {bad}
    assert form_reads(emulator, bad) == 0  # it came in the list

    spoiler.form_id = ""
    result = sync_orders(channel.pk, client)

    assert (result.recovered, result.created) == (1, 1)
    assert ImportProblem.objects.count() == 0
    assert imported() == sorted(forms)


def texts_of(reasons: dict[str, Message]) -> dict[str, str]:
    return {form_id: str(reason) for form_id, reason in reasons.items()}
