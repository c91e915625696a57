"""What a pass in steady state costs the database: its number of queries.

On PostgreSQL each small query is a round trip and a plan (~0.3-0.5 ms, a
few times SQLite's), so the queries a pass makes besides the saving itself
are most of what makes steady state slower there (bench/bench_orders.py,
"steady"). The numbers are exact, so that one more query per pass fails here
rather than going unnoticed in a benchmark; the same on both databases.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from hub.allegro.client import AllegroClient
from hub.allegro.models import Channel
from hub.allegro.sync.orders import sync_orders
from hub.allegro.tests.fixtures import HubEmulator
from hub.catalog import stock
from hub.catalog.models import StockItem

pytestmark = pytest.mark.django_db

PER_PASS = 20


def allegro_between_passes(emu: HubEmulator, offer: str, forms: list[str]) -> None:
    """As bench/bench_orders.py's steady flow: new orders, 60 % of those two
    passes back paid, one of the new ones cancelled."""
    first = len(forms)
    for i in range(PER_PASS):
        emu.clock.advance(seconds=30)
        forms.append(emu.purchase(offer))
        if first >= 2 * PER_PASS and i % 10 < 6:
            emu.pay(forms[first - 2 * PER_PASS + i])
        if i == 7:
            emu.cancel(forms[-1])


def queries_of_a_pass(channel: Channel, client: AllegroClient) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        sync_orders(channel.pk, client)
    return [query["sql"] for query in captured.captured_queries]


def test_a_steady_pass_makes_a_fixed_number_of_queries(
    emulator: HubEmulator, channel: Channel, allegro_client: AllegroClient
) -> None:
    item = StockItem.objects.create(sku="MUG-1", title="Kubek")
    stock.set_on_hand(item, stock.default_location(), 10**5)
    offer = emulator.add_offer(
        emulator.seller_id, "Kubek", external_id="MUG-1", quantity=10**5
    )
    sync_orders(channel.pk, allegro_client)  # the first pass starts the journal
    forms: list[str] = []
    for _ in range(3):
        allegro_between_passes(emulator, offer, forms)
        sync_orders(channel.pk, allegro_client)
    allegro_between_passes(emulator, offer, forms)

    queries = queries_of_a_pass(channel, allegro_client)

    # Channel, cursors, read failures, problems set aside (none), stored
    # revisions; one transaction (savepoints here, in the test's own
    # transaction) that saves the page, moves the cursor and marks the pass's
    # success, with the new orders' insert in a savepoint of its own.
    assert len(queries) == 23, "\n".join(sql[:120] for sql in queries)

    # Nothing new: channel, cursors, read failures, problems, success.
    assert len(queries_of_a_pass(channel, allegro_client)) == 5
