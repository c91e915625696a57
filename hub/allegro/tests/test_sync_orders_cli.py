"""`allegro-hub sync NAME --only orders` and `allegro-hub orders list` end to end,
against the emulator over real HTTP."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from hub.allegro.models import Channel
from hub.allegro.tests.fixtures import HubEmulator
from hub.orders.models import Order

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_sync_orders_then_list_them(emulator: HubEmulator, channel_http: Channel):
    offer = emulator.add_offer(
        emulator.seller_id, "Kubek", external_id="K-1", quantity=9
    )
    run("sync", channel_http.name, "--only", "orders")  # first pass: journal starts
    form = emulator.purchase(offer, quantity=2, message="Please wrap")

    out, _err = run("sync", channel_http.name, "--only", "orders")

    assert "orders: 1 new, 0 updated" in out
    assert Order.objects.get().external_id == form
    listed, _err = run("orders", "list", "--json", "--channel", channel_http.name)
    rows = json.loads(listed)
    assert [row["external_id"] for row in rows] == [form]
    assert rows[0]["message_to_seller"] == "Please wrap"
    assert rows[0]["lines"][0]["quantity"] == 2
    table, _err = run("orders", "list")
    assert form in table
    assert "UNLINKED" in table  # no stock item K-1 exists


def test_sync_failure_exits_non_zero_and_says_why(
    emulator: HubEmulator, channel_http: Channel
):
    emulator.revoke_tokens(emulator.seller_id)
    err = StringIO()

    with pytest.raises(CommandError, match="orders"):
        call_command("sync", channel_http.name, stdout=StringIO(), stderr=err)

    assert "connect the account again" in err.getvalue()


def test_sync_rejects_unknown_channel_and_flow(channel_http: Channel):
    with pytest.raises(CommandError, match="No channel"):
        run("sync", "nope")
    with pytest.raises(CommandError, match="Unknown flow"):
        run("sync", channel_http.name, "--only", "orders,teleport")


def test_sync_of_a_disabled_channel_says_so(
    emulator: HubEmulator, channel_http: Channel
):
    channel_http.enabled = False
    channel_http.save()

    out, _err = run("sync", channel_http.name)

    assert "disabled" in out
    assert emulator.requests == []


def test_a_form_the_hub_cannot_use_is_set_aside_and_listed_with_its_reason(
    emulator: HubEmulator, channel_http: Channel
):
    offer = emulator.add_offer(emulator.seller_id, "Kubek", quantity=9)
    run("sync", channel_http.name, "--only", "orders")
    form = emulator.purchase(offer)
    good = emulator.purchase(offer)
    line = emulator.checkout_forms[form].line_items[0]
    line.quantity = 0  # a broken answer

    out, err = run("sync", channel_http.name, "--only", "orders")

    assert err == ""
    assert "orders: 1 new" in out
    assert (
        f"1 checkout forms set aside, not imported (retried automatically): "
        f"{form}: Line item {line.id} has quantity 0."
    ) in out
    assert [o.external_id for o in Order.objects.all()] == [good]

    line.quantity = 1  # fixed on Allegro's side
    out, err = run("sync", channel_http.name, "--only", "orders")

    assert err == ""
    assert "orders: 1 new" in out
    assert "1 checkout forms set aside earlier now imported" in out
    assert "not imported" not in out
    assert sorted(o.external_id for o in Order.objects.all()) == sorted([form, good])
