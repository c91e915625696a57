"""`allegro-hub sync NAME` pushes a stock change to Allegro over real HTTP."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from hub.allegro.models import Channel, Listing
from hub.allegro.tests.fixtures import HubEmulator
from hub.catalog.models import StockItem

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_stock_set_then_sync_reaches_allegro(
    emulator: HubEmulator, channel_http: Channel
) -> None:
    Channel.objects.filter(pk=channel_http.pk).update(inventory_sync=True)
    StockItem.objects.create(sku="MUG-1", title="Mug")
    offer = emulator.add_offer(
        emulator.seller_id, "Kubek", external_id="MUG-1", quantity=9
    )
    run("stock", "set", "MUG-1", "4")

    out = run("sync", channel_http.name)

    assert "listings: 1 new" in out
    assert "1 offers pushed in 1 commands, 1 confirmed" in out
    assert emulator.offer(offer)["stock"]["available"] == 4
    assert Listing.objects.get().push_state == "DONE"
    # Nothing changed since: the next pass sends nothing.
    puts = emulator.count("PUT", "/sale/offer-quantity-change-commands/{commandId}")
    out = run("sync", channel_http.name, "--only", "inventory")
    assert "0 offers pushed" in out
    assert (
        emulator.count("PUT", "/sale/offer-quantity-change-commands/{commandId}")
        == puts
    )
