"""What a QA walk through dispatch found: a tracking number added after a bulk
dispatch, messages that say what happened to the stock, ALLEGRO refused as a
carrier, no resend for a cancelled order, and the page's words and ids."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from hub.catalog import stock
from hub.catalog.models import Allocation, Location, StockItem
from hub.orders import texts
from hub.orders.dispatching import (
    DispatchRequest,
    NotDispatchable,
    dispatch_order,
    resend_dispatch,
)
from hub.orders.importing import save_orders
from hub.orders.linking import link_line_by_hand, link_lines_of_offer
from hub.orders.models import Carrier, Dispatch, Order, OrderEvent, OrderLine
from hub.text.message import Message

from .conftest import make_account, make_line, make_order

PAID: dict[str, Any] = {"paid": True, "channel_status": "READY_FOR_PROCESSING"}


def imported(warehouse: Location, **fields: Any) -> Order:
    save_orders(make_account(warehouse), [make_order(**fields)])
    return Order.objects.get()


@pytest.fixture
def dpd(db: None) -> None:
    Carrier.objects.bulk_create(
        Carrier(source="test", account="1", code=code, name=name)
        for code, name in [("DPD", "DPD"), ("OTHER", "Inny przewoźnik")]
    )


def detail(client: Client, order: Order) -> str:
    return client.get(reverse("order_detail", args=[order.pk])).content.decode()


def flashed(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# --------------------------------------- 1. a number for a number-less dispatch


def test_order_page_adds_a_number_to_a_dispatch_made_without_one(
    logged_in_client: Client, warehouse: Location, mug: StockItem, dpd: None
):
    order = imported(warehouse, **PAID)
    done = dispatch_order(order, DispatchRequest(carrier="DPD"))
    assert done.state == Dispatch.State.NOT_SENT

    page = detail(logged_in_client, order)
    assert "Add tracking number" in page
    assert f'action="{reverse("dispatch_correct", args=[order.pk, done.pk])}"' in page
    response = logged_in_client.post(
        reverse("dispatch_correct", args=[order.pk, done.pk]),
        {f"d{done.pk}-carrier": "DPD", f"d{done.pk}-tracking_number": "1234567890123"},
        follow=True,
    )

    done.refresh_from_db()
    assert (done.carrier_code, done.tracking_number, done.state) == (
        "DPD",
        "1234567890123",
        Dispatch.State.PENDING,
    )
    assert flashed(response) == [
        "Tracking number added; it waits in the outbox for the channel."
    ]
    assert Dispatch.objects.count() == 1
    assert stock.on_hand(mug, warehouse) == 8  # taken once, at the dispatch
    added = OrderEvent.objects.get(kind=OrderEvent.Kind.TRACKING)
    assert added.message == Message(
        texts.TRACKING_ADDED, carrier="DPD", number="1234567890123"
    )


def test_several_number_less_parcels_need_the_lines_named(
    warehouse: Location, mug: StockItem, dpd: None
):
    lines = [make_line("L-1", quantity=1), make_line("L-2", offer_id="OF-2")]
    order = imported(warehouse, lines=lines, **PAID)
    first, second = order.lines.order_by("id")
    dispatch_order(order, DispatchRequest(carrier="DPD", line_ids=[first.pk]))
    dispatch_order(order, DispatchRequest(carrier="DPD", line_ids=[second.pk]))

    with pytest.raises(NotDispatchable, match="several parcels"):
        dispatch_order(order, DispatchRequest("DPD", "1234567890123"))
    named = dispatch_order(
        order, DispatchRequest("DPD", "1234567890123", line_ids=[second.pk])
    )

    assert named.lines.get() == second
    numbers = [
        (line.dispatch.tracking_number if line.dispatch else None)
        for line in OrderLine.objects.select_related("dispatch").order_by("id")
    ]
    assert numbers == ["", "1234567890123"]


# ----------------------------------------------- 2. what happened to the stock


def test_dispatch_message_says_no_stock_was_taken_for_an_unlinked_line(
    logged_in_client: Client, warehouse: Location, mug: StockItem
):
    order = imported(warehouse, lines=[make_line(sku="NOPE", title="?")], **PAID)

    response = logged_in_client.post(
        reverse("order_dispatch", args=[order.pk]), {"without_stock": "on"}, follow=True
    )

    assert flashed(response) == [
        "Dispatched. No stock taken for 1 unlinked line (dispatched without stock)."
    ]
    assert stock.on_hand(mug, warehouse) == 10


def test_dispatch_message_counts_both_kinds_of_lines(
    logged_in_client: Client, warehouse: Location, mug: StockItem, dpd: None
):
    lines = [
        make_line("L-1", quantity=1),
        make_line("L-2", offer_id="OF-2", quantity=1),
        make_line("L-3", sku="NOPE", title="?"),
    ]
    order = imported(warehouse, lines=lines, **PAID)

    response = logged_in_client.post(
        reverse("order_dispatch", args=[order.pk]),
        {"carrier": "DPD", "tracking_number": "1234567890123", "without_stock": "on"},
        follow=True,
    )

    assert flashed(response) == [
        "Dispatched. Stock taken off for 2 lines. No stock taken for 1 unlinked "
        "line (dispatched without stock). The tracking number waits in the outbox "
        "for the channel."
    ]
    assert stock.on_hand(mug, warehouse) == 8


def test_bulk_message_in_polish_counts_orders_and_lines(
    logged_in_client: Client, warehouse: Location, mug: StockItem
):
    save_orders(
        make_account(warehouse),
        [make_order("A", **PAID), make_order("B", **PAID)],
    )
    ids = list(Order.objects.values_list("pk", flat=True))

    response = logged_in_client.post(
        reverse("orders_bulk_dispatch"),
        {"order": ids, "carrier": "DPD"},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="pl",
    )

    assert flashed(response) == [
        "Wysłano 2 zamówienia. Zdjęto ze stanu sztuki 2 pozycji."
    ]


# -------------------------------------------------- 3. ALLEGRO is no carrier


@pytest.mark.parametrize(
    "typed", ["ALLEGRO", "allegro ", " Allegro", "Wysyłam z Allegro"]
)
def test_allegro_is_refused_as_a_carrier_even_as_another_carrier(
    warehouse: Location, mug: StockItem, dpd: None, typed: str
):
    order = imported(warehouse, **PAID)

    with translation.override("en"), pytest.raises(NotDispatchable) as refused:
        dispatch_order(order, DispatchRequest(typed, "AD1234", other_carrier=True))

    assert list(refused.value.errors) == ["carrier"]
    assert "Wysyłam z Allegro" in refused.value.errors["carrier"]
    assert "fills in its tracking number" in refused.value.errors["carrier"]
    assert not Dispatch.objects.exists()
    assert stock.on_hand(mug, warehouse) == 10


# --------------------------------------- 8. no resend for a cancelled order


def test_resend_is_refused_once_the_buyer_cancelled(
    logged_in_client: Client, warehouse: Location, mug: StockItem, dpd: None
):
    order = imported(warehouse, **PAID)
    done = dispatch_order(order, DispatchRequest("DPD", "1234567890123"))
    save_orders(make_account(warehouse), [make_order(cancelled=True, paid=True)])
    done.refresh_from_db()
    assert done.state == Dispatch.State.NEEDS_ACTION

    page = detail(logged_in_client, order)
    response = logged_in_client.post(
        reverse("dispatch_resend", args=[order.pk, done.pk]), follow=True
    )

    assert "Send again as it is" not in page
    assert "Correct and send again" not in page
    [said] = flashed(response)
    assert said.startswith("The buyer cancelled order F-1, so its tracking number")
    assert "will be sent again" not in said
    done.refresh_from_db()
    assert done.state == Dispatch.State.NEEDS_ACTION  # not queued, not ACCEPTED
    assert not OrderEvent.objects.filter(kind=OrderEvent.Kind.TRACKING).exists()
    with pytest.raises(NotDispatchable, match="cancelled"):
        resend_dispatch(done)


# --------------------------------------------------------- 4. words, ids


def test_polish_order_page_shows_lines_sent_and_the_option_in_words(
    logged_in_client: Client, warehouse: Location, mug: StockItem
):
    order = imported(warehouse, **PAID)
    Order.objects.filter(pk=order.pk).update(lines_sent="NONE")

    page = logged_in_client.get(
        reverse("order_detail", args=[order.pk]), HTTP_ACCEPT_LANGUAGE="pl"
    ).content.decode()

    assert '<span id="lines-sent"><span title="NONE">żadne</span></span>' in page
    assert "Przesyłaj numery przesyłek" in page
    assert "Submit Tracking Info" not in page


def test_page_with_both_forms_has_unique_ids(
    logged_in_client: Client, warehouse: Location, mug: StockItem, dpd: None
):
    lines = [make_line("L-1", quantity=1), make_line("L-2", offer_id="OF-2")]
    order = imported(warehouse, lines=lines, **PAID)
    first = order.lines.order_by("id").first()
    assert first is not None
    dispatch_order(order, DispatchRequest(carrier="DPD", line_ids=[first.pk]))

    page = detail(logged_in_client, order)

    ids = re.findall(r'\bid="([^"]+)"', page)
    assert 'id="dispatch-form"' in page
    assert "correct-dispatch" in page
    assert sorted(i for i in set(ids) if ids.count(i) > 1) == []


def test_csv_error_names_the_column_not_an_internal_field(
    logged_in_client: Client, warehouse: Location, mug: StockItem, dpd: None
):
    save_orders(
        make_account(warehouse),
        [make_order("A", lines=[make_line(sku="NOPE", title="?")], **PAID)],
    )
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = SimpleUploadedFile(
        "d.csv", b"order_id,carrier,tracking_number\nA,DPD,1234567890123\n"
    )
    response = logged_in_client.post(reverse("orders_dispatch_csv"), {"file": data})

    errors = response.context["errors"]
    assert [(e.line, e.field) for e in errors] == [(2, "lines")]
    table = response.content.decode().split("<table", 1)[1].split("</table>")[0]
    assert "without_stock" not in table
    assert not Dispatch.objects.exists()


def test_favicon_is_linked_and_served(logged_in_client: Client, db: None):
    page = logged_in_client.get(reverse("dashboard")).content.decode()
    icon = logged_in_client.get("/favicon.ico")

    assert '<link rel="icon" href="/static/hub/favicon.svg"' in page
    assert (icon.status_code, icon["Location"]) == (302, "/static/hub/favicon.svg")


# ---------------------------------------------- 9, 10. linking after dispatch


def test_linking_a_listing_updates_a_dispatched_lines_stale_reason(
    warehouse: Location, mug: StockItem
):
    order = imported(warehouse, lines=[make_line(sku="NOPE", title="?")], **PAID)
    dispatch_order(order, DispatchRequest(without_stock=True))
    assert OrderLine.objects.get().unlinked_reason.code == texts.NO_SKU_MATCH

    linked = link_lines_of_offer("test", "1", "OF-1", mug.pk)

    line = OrderLine.objects.get()
    assert linked == 0
    assert line.unlinked_reason == Message(
        texts.LISTING_LINKED_AFTER_DISPATCH, sku="MUG-1"
    )
    with translation.override("pl"):
        assert "MUG-1" in str(line.unlinked_reason)
    assert line.stock_item_id is None  # the line stays as it is
    assert stock.on_hand(mug, warehouse) == 10  # and no stock moves
    assert not Allocation.objects.exists()
    assert not OrderEvent.objects.filter(kind=OrderEvent.Kind.LINKED).exists()


def test_linking_a_line_by_hand_ignores_the_case_of_the_sku(
    warehouse: Location, mug: StockItem
):
    order = imported(warehouse, lines=[make_line(sku="NOPE", title="?")], **PAID)

    line = link_line_by_hand(OrderLine.objects.get(order=order), " mug-1 ")

    assert line.stock_item == mug
    assert stock.on_hand(mug, warehouse) == 10
    assert Allocation.objects.get().quantity == 2


# ------------------------------------------------------- words in Polish, plurals


def test_carrier_list_stream_has_a_label_in_both_languages(db: None):
    from hub.allegro.models import SyncCursor

    cursor = SyncCursor(stream="carriers")

    with translation.override("en"):
        assert cursor.label == "Carrier list"
    with translation.override("pl"):
        assert cursor.label == "Lista przewoźników"


def test_import_history_counts_lines_without_bracketed_plurals():
    status = {"$": "status", "raw": "BOUGHT"}
    one = Message(texts.IMPORTED_UNLINKED, status=status, lines=1, total="9 zł",
                  unlinked=1)  # fmt: skip
    three = Message(texts.IMPORTED_UNLINKED, status=status, lines=3, total="9 zł",
                    unlinked=2)  # fmt: skip

    with translation.override("en"):
        assert str(one) == (
            "Imported: Bought, not filled in, 1 line, 9 zł; lines not linked to "
            "stock: 1."
        )
        assert "(s)" not in str(three)
    with translation.override("pl"):
        assert "3 pozycje" in str(three)
