"""Dispatch guards, partial dispatch, carriers and what the order page shows."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from hub.catalog import stock
from hub.catalog.models import Allocation, Location, StockItem
from hub.orders import texts
from hub.orders.dispatching import (
    DispatchRequest,
    NotDispatchable,
    dispatch_order,
    mark_handled,
    needing_attention,
)
from hub.orders.importing import save_orders
from hub.orders.linking import link_line_by_hand
from hub.orders.models import Carrier, Dispatch, Order, OrderEvent, OrderLine
from hub.text.message import Message

from .conftest import make_account, make_line, make_order

PAID: dict[str, Any] = {"paid": True, "channel_status": "READY_FOR_PROCESSING"}


def imported(warehouse: Location, **fields: Any) -> Order:
    save_orders(make_account(warehouse), [make_order(**fields)])
    return Order.objects.get()


def carriers(*rows: tuple[str, str, str]) -> None:
    Carrier.objects.bulk_create(
        Carrier(source="test", account="1", code=code, name=name, aliases=aliases)
        for code, name, aliases in rows
    )


# -------------------------------------------------------------------- guards


def test_unlinked_lines_block_dispatch_and_nothing_changes(
    warehouse: Location, mug: StockItem
):
    lines = [make_line("L-1"), make_line("L-2", sku="NOPE", title="?")]
    order = imported(warehouse, lines=lines, **PAID)

    with pytest.raises(NotDispatchable) as refused:
        dispatch_order(order)

    assert refused.value.confirm == ["without_stock"]
    assert Order.objects.get().status == Order.Status.OPEN
    assert not Dispatch.objects.exists()
    assert stock.on_hand(mug, warehouse) == 10
    assert Allocation.objects.count() == 1  # the linked line still holds its units


def test_dispatch_without_stock_is_recorded_and_linking_later_takes_the_units(
    warehouse: Location, mug: StockItem
):
    order = imported(warehouse, lines=[make_line(sku="NOPE", title="?")], **PAID)

    done = dispatch_order(order, DispatchRequest(without_stock=True))

    assert done.without_stock
    assert Order.objects.get().status == Order.Status.DISPATCHED
    assert stock.on_hand(mug, warehouse) == 10
    history = [e.message for e in order.events.filter(kind=OrderEvent.Kind.DISPATCHED)]
    assert history == [
        Message(texts.DISPATCHED),
        Message(texts.DISPATCHED_WITHOUT_STOCK, count=1),
    ]
    link_line_by_hand(OrderLine.objects.get(), "MUG-1")
    assert stock.on_hand(mug, warehouse) == 8
    assert Allocation.objects.count() == 0


def test_unpaid_order_asks_for_confirmation(warehouse: Location, mug: StockItem):
    order = imported(warehouse)

    with pytest.raises(NotDispatchable) as refused:
        dispatch_order(order)
    assert refused.value.confirm == ["unpaid"]
    assert not Dispatch.objects.exists()

    done = dispatch_order(order, DispatchRequest(confirm_unpaid=True))
    assert done.confirmed_unpaid
    history = [e.message for e in order.events.filter(kind=OrderEvent.Kind.DISPATCHED)]
    assert history == [Message(texts.DISPATCHED), Message(texts.DISPATCHED_UNPAID)]


def test_unpaid_cash_on_delivery_needs_no_confirmation(
    warehouse: Location, mug: StockItem
):
    order = imported(warehouse, payment={"type": "CASH_ON_DELIVERY"})

    done = dispatch_order(order)

    assert not done.confirmed_unpaid
    assert stock.on_hand(mug, warehouse) == 8


def test_cancelled_order_cannot_be_dispatched(warehouse: Location, mug: StockItem):
    save_orders(make_account(warehouse), [make_order(cancelled=True)])

    with pytest.raises(NotDispatchable, match="cancelled"):
        dispatch_order(Order.objects.get(), DispatchRequest(confirm_unpaid=True))

    assert not Dispatch.objects.exists()
    assert stock.on_hand(mug, warehouse) == 10


def test_cancelled_after_dispatch_needs_action_until_handled(
    warehouse: Location, mug: StockItem
):
    order = imported(warehouse, **PAID)
    done = dispatch_order(order)

    save_orders(make_account(warehouse), [make_order(cancelled=True, paid=True)])

    done.refresh_from_db()
    assert done.state == Dispatch.State.NEEDS_ACTION
    assert list(needing_attention()) == [done]
    assert stock.on_hand(mug, warehouse) == 8  # the parcel left; nothing returns
    mark_handled(done)
    assert Dispatch.objects.get().state == Dispatch.State.NOT_SENT
    assert list(needing_attention()) == []


# ------------------------------------------------------------------- partial


def test_partial_dispatch_takes_only_the_chosen_lines(
    warehouse: Location, mug: StockItem
):
    lines = [make_line("L-1", quantity=2), make_line("L-2", quantity=3)]
    order = imported(warehouse, lines=lines, **PAID)
    first, second = order.lines.order_by("id")

    dispatch_order(order, DispatchRequest(line_ids=[first.pk]))

    assert Order.objects.get().status == Order.Status.OPEN
    assert stock.on_hand(mug, warehouse) == 8
    assert stock.available(mug, warehouse) == 5
    with pytest.raises(NotDispatchable, match="dispatched already"):
        dispatch_order(order, DispatchRequest(line_ids=[first.pk]))
    # A later re-import of the order does not promise the dispatched line again.
    save_orders(
        make_account(warehouse),
        [make_order(lines=lines, buyer_phone="+48 1", **PAID)],
    )
    assert stock.available(mug, warehouse) == 5

    dispatch_order(order, DispatchRequest(line_ids=[second.pk]))
    assert Order.objects.get().status == Order.Status.DISPATCHED
    assert stock.on_hand(mug, warehouse) == 5
    assert Allocation.objects.count() == 0


def test_lines_of_another_order_are_refused(warehouse: Location, mug: StockItem):
    save_orders(
        make_account(warehouse),
        [make_order("A", **PAID), make_order("B", **PAID)],
    )
    a, b = Order.objects.get(external_id="A"), Order.objects.get(external_id="B")

    with pytest.raises(NotDispatchable) as refused:
        dispatch_order(a, DispatchRequest(line_ids=[b.lines.get().pk]))

    assert "lines" in refused.value.errors
    assert not Dispatch.objects.exists()


# ------------------------------------------------------------------ carriers


def test_hub_names_map_to_the_channels_carrier_ids(warehouse: Location, mug: StockItem):
    carriers(("INPOST", "InPost", "paczkomat"), ("OTHER", "Inny przewoźnik", ""))
    order = imported(warehouse, **PAID)

    done = dispatch_order(order, DispatchRequest(" Paczkomat ", "6" * 24))

    assert (done.carrier, done.carrier_code, done.state) == (
        "InPost",
        "INPOST",
        Dispatch.State.PENDING,
    )


@pytest.mark.parametrize(
    ("carrier", "number", "other", "field", "said"),
    [
        ("Kurier X", "X1", False, "carrier", "does not know"),
        ("K" * 31, "X1", True, "carrier", "at most 30"),
        ("InPost", "1" * 65, False, "tracking_number", "at most 64"),
        ("InPost", "12 34", False, "tracking_number", "no spaces"),
        ("", "123", False, "carrier", "Choose the carrier"),
    ],
)
def test_bad_carrier_or_number_is_a_field_error_and_changes_nothing(
    warehouse: Location,
    mug: StockItem,
    carrier: str,
    number: str,
    other: bool,
    field: str,
    said: str,
):
    carriers(("INPOST", "InPost", ""), ("OTHER", "Inny przewoźnik", ""))
    order = imported(warehouse, **PAID)

    with pytest.raises(NotDispatchable) as refused:
        dispatch_order(order, DispatchRequest(carrier, number, other_carrier=other))

    assert said in refused.value.errors[field]
    assert not Dispatch.objects.exists()
    assert stock.on_hand(mug, warehouse) == 10


def test_dispatch_without_a_number_sends_nothing(warehouse: Location, mug: StockItem):
    done = dispatch_order(imported(warehouse, **PAID))
    assert done.state == Dispatch.State.NOT_SENT


# ---------------------------------------------------------------- order page


def test_page_error_keeps_what_was_typed(
    logged_in_client: Client, warehouse: Location, mug: StockItem
):
    carriers(
        ("INPOST", "InPost", ""),
    )
    order = imported(warehouse, **PAID)

    response = logged_in_client.post(
        reverse("order_dispatch", args=[order.pk]),
        {"carrier": "Kurier Zenek", "tracking_number": "ZEN 1"},
    )

    page = response.content.decode()
    assert response.status_code == 400
    assert 'value="Kurier Zenek"' in page
    assert 'value="ZEN 1"' in page
    assert "does not know the carrier" in page
    assert "no spaces" in page
    assert not Dispatch.objects.exists()


def test_page_asks_to_confirm_unpaid_then_dispatches(
    logged_in_client: Client, warehouse: Location, mug: StockItem
):
    order = imported(warehouse)
    url = reverse("order_dispatch", args=[order.pk])

    asked = logged_in_client.post(url, {"carrier": "", "tracking_number": ""})
    assert asked.status_code == 400
    assert "Confirm to dispatch it anyway" in asked.content.decode()
    assert Order.objects.get().status == Order.Status.OPEN

    logged_in_client.post(url, {"confirm_unpaid": "on"})
    assert Order.objects.get().status == Order.Status.DISPATCHED


def test_needs_action_page_lists_and_handles(
    logged_in_client: Client, warehouse: Location, mug: StockItem
):
    order = imported(warehouse, **PAID)
    done = dispatch_order(order, DispatchRequest("DPD", "AD1"))
    Dispatch.objects.filter(pk=done.pk).update(
        state=Dispatch.State.REFUSED, channel_message="Provided waybill is not valid"
    )

    listing = logged_in_client.get(reverse("orders"))
    page = logged_in_client.get(reverse("orders_needs_action")).content.decode()
    logged_in_client.post(
        reverse("dispatch_handled", args=[order.pk, done.pk]), {"back": "needs_action"}
    )

    assert "1 dispatch needs action" in listing.content.decode()
    assert "Provided waybill is not valid" in page
    assert Dispatch.objects.get().state == Dispatch.State.NOT_SENT


def test_orders_needs_action_filter_includes_dispatches_needing_action(
    logged_in_client: Client, warehouse: Location, mug: StockItem
):
    save_orders(
        make_account(warehouse),
        [make_order("REFUSED", **PAID), make_order("FINE", **PAID)],
    )
    refused = dispatch_order(Order.objects.get(external_id="REFUSED"))
    dispatch_order(Order.objects.get(external_id="FINE"))
    Dispatch.objects.filter(pk=refused.pk).update(state=Dispatch.State.REFUSED)

    page = logged_in_client.get(reverse("orders") + "?needs_action=on")

    shown = [order.external_id for order in page.context["page"].object_list]
    assert shown == ["REFUSED"]  # dispatched both; only one needs the seller


def test_correct_from_the_page_requeues(
    logged_in_client: Client, warehouse: Location, mug: StockItem
):
    order = imported(warehouse, **PAID)
    done = dispatch_order(order, DispatchRequest("DPD", "AD1"))
    Dispatch.objects.filter(pk=done.pk).update(
        state=Dispatch.State.REFUSED, attempts=1, channel_message="refused"
    )
    url = reverse("dispatch_correct", args=[order.pk, done.pk])

    bad = logged_in_client.post(
        url, {f"d{done.pk}-carrier": "DPD", f"d{done.pk}-tracking_number": "A B"}
    )
    assert bad.status_code == 400
    assert 'value="A B"' in bad.content.decode()
    logged_in_client.post(
        url, {f"d{done.pk}-carrier": "DPD", f"d{done.pk}-tracking_number": "123"}
    )

    done.refresh_from_db()
    assert (done.tracking_number, done.state, done.attempts) == (
        "123",
        Dispatch.State.PENDING,
        0,
    )


def test_a_line_dispatched_without_stock_keeps_its_link_box(
    logged_in_client: Client, warehouse: Location, mug: StockItem
):
    order = imported(warehouse, lines=[make_line(sku="NOPE", title="?")], **PAID)
    dispatch_order(order, DispatchRequest(without_stock=True))

    page = logged_in_client.get(reverse("order_detail", args=[order.pk]))

    assert "link it to take its units off" in page.content.decode()
    assert 'class="inline link-line"' in page.content.decode()
