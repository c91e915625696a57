"""Saving downloaded orders: upsert, link, allocate, release, history."""

from __future__ import annotations

import pytest

from hub.catalog import stock
from hub.catalog.models import Allocation, Location, StockItem
from hub.orders import texts
from hub.orders.dispatching import DispatchRequest, NotDispatchable, dispatch_order
from hub.orders.import_plan import one_change
from hub.orders.importing import save_orders
from hub.orders.linking import LinkError, link_line_by_hand
from hub.orders.models import Dispatch, Order, OrderEvent, OrderLine
from hub.orders.tests.conftest import make_account, make_line, make_order
from hub.text.message import Message

pytestmark = pytest.mark.django_db

UNPAID_OK = DispatchRequest(confirm_unpaid=True)


def test_new_order_allocates_its_linked_lines(warehouse: Location, mug: StockItem):
    counts = save_orders(make_account(warehouse), [make_order()])

    order = Order.objects.get()
    assert (counts.created, counts.updated) == (1, 0)
    assert order.status == Order.Status.OPEN
    assert order.paid is False  # unpaid orders allocate too
    line = order.lines.get()
    assert (line.stock_item_id, line.link_method) == (mug.pk, "SKU")
    assert stock.available(mug, warehouse) == 8
    assert stock.on_hand(mug, warehouse) == 10
    assert [e.kind for e in order.events.all()] == ["IMPORTED"]


def test_saving_the_same_order_twice_changes_nothing(
    warehouse: Location, mug: StockItem
):
    save_orders(make_account(warehouse), [make_order()])

    counts = save_orders(make_account(warehouse), [make_order(), make_order()])

    assert (counts.created, counts.updated, counts.unchanged) == (0, 0, 2)
    assert Order.objects.count() == 1
    assert OrderLine.objects.count() == 1
    assert Allocation.objects.count() == 1
    assert OrderEvent.objects.count() == 1
    assert stock.available(mug, warehouse) == 8


def test_duplicate_in_one_batch_creates_one_order(warehouse: Location, mug: StockItem):
    counts = save_orders(make_account(warehouse), [make_order(), make_order()])

    assert (counts.created, counts.unchanged) == (1, 1)
    assert Order.objects.count() == 1
    assert stock.available(mug, warehouse) == 8


def test_cancellation_releases_the_allocation(warehouse: Location, mug: StockItem):
    save_orders(make_account(warehouse), [make_order()])

    counts = save_orders(make_account(warehouse), [make_order(cancelled=True)])

    order = Order.objects.get()
    assert counts.cancelled == 1
    assert order.status == Order.Status.CANCELLED
    assert Allocation.objects.count() == 0
    assert stock.available(mug, warehouse) == 10
    assert [e.kind for e in order.events.all()] == ["IMPORTED", "CANCELLED"]


def test_order_cancelled_before_we_saw_it_allocates_nothing(
    warehouse: Location, mug: StockItem
):
    save_orders(make_account(warehouse), [make_order(cancelled=True)])

    assert Order.objects.get().status == Order.Status.CANCELLED
    assert Allocation.objects.count() == 0
    assert stock.available(mug, warehouse) == 10


def test_payment_updates_the_order_and_keeps_one_allocation(
    warehouse: Location, mug: StockItem
):
    save_orders(make_account(warehouse), [make_order()])

    counts = save_orders(
        make_account(warehouse),
        [make_order(channel_status="READY_FOR_PROCESSING", paid=True)],
    )

    order = Order.objects.get()
    assert counts.updated == 1
    assert (order.paid, order.channel_status) == (True, "READY_FOR_PROCESSING")
    assert stock.available(mug, warehouse) == 8
    # One line of history for the one change: the payment moved the status too.
    assert [(e.kind, str(e.message)) for e in order.events.all()][1:] == [
        (
            "PAID",
            "Status Bought, not filled in → Ready for processing. Payment received.",
        ),
    ]


def test_an_older_read_never_overwrites_a_newer_one(
    warehouse: Location, mug: StockItem
):
    from datetime import UTC, datetime

    newer = datetime(2026, 5, 2, tzinfo=UTC)
    older = datetime(2026, 5, 1, tzinfo=UTC)
    save_orders(
        make_account(warehouse),
        [
            make_order(
                channel_status="CANCELLED", cancelled=True, channel_updated_at=newer
            )
        ],
    )

    save_orders(
        make_account(warehouse),
        [make_order(channel_status="BOUGHT", channel_updated_at=older)],
    )

    order = Order.objects.get()
    assert order.status == Order.Status.CANCELLED
    assert Allocation.objects.count() == 0


def test_quantity_change_moves_the_allocation(warehouse: Location, mug: StockItem):
    save_orders(make_account(warehouse), [make_order()])

    save_orders(make_account(warehouse), [make_order(lines=[make_line(quantity=5)])])

    assert stock.available(mug, warehouse) == 5
    assert Allocation.objects.get().quantity == 5


def test_listing_link_wins_over_sku(warehouse: Location, mug: StockItem):
    other = StockItem.objects.create(sku="OTHER", title="Other")

    save_orders(make_account(warehouse, links={"OF-1": other.pk}), [make_order()])

    line = OrderLine.objects.get()
    assert (line.stock_item_id, line.link_method) == (other.pk, "LISTING")
    assert stock.available(mug, warehouse) == 10


def test_title_link_only_when_the_channel_allows_it(
    warehouse: Location, mug: StockItem
):
    # The line's external id matches no SKU; its title matches the mug's, ignoring
    # case and repeated spaces.
    line = make_line(sku="UNKNOWN", title="blue mug   300ML")

    save_orders(
        make_account(warehouse, by_title=False), [make_order("A", lines=[line])]
    )
    save_orders(make_account(warehouse, by_title=True), [make_order("B", lines=[line])])

    a = OrderLine.objects.get(order__external_id="A")
    b = OrderLine.objects.get(order__external_id="B")
    assert (a.stock_item_id, a.link_method) == (None, "")
    assert str(a.unlinked_reason) == (
        "No listing link and no stock item with SKU UNKNOWN."
    )
    assert (b.stock_item_id, b.link_method) == (mug.pk, "TITLE")
    assert Order.objects.get(external_id="A").has_unlinked_lines is True
    assert Order.objects.get(external_id="B").has_unlinked_lines is False
    assert stock.available(mug, warehouse) == 8


def test_ambiguous_title_is_never_guessed(warehouse: Location, mug: StockItem):
    StockItem.objects.create(sku="MUG-2", title="BLUE MUG 300ml")
    line = make_line(sku="", title="Blue Mug 300ml")

    counts = save_orders(
        make_account(warehouse, by_title=True), [make_order(lines=[line])]
    )

    saved = OrderLine.objects.get()
    assert saved.stock_item_id is None
    assert str(saved.unlinked_reason) == (
        "2 stock items have this title; link it by hand."
    )
    assert counts.unlinked_lines == 1
    assert Allocation.objects.count() == 0


def test_linking_by_hand_allocates_and_clears_the_flag(
    warehouse: Location, mug: StockItem
):
    save_orders(make_account(warehouse), [make_order(lines=[make_line(sku="NOPE")])])
    line = OrderLine.objects.get()

    link_line_by_hand(line, "MUG-1")

    line.refresh_from_db()
    assert (line.stock_item_id, line.link_method) == (mug.pk, "MANUAL")
    assert Order.objects.get().has_unlinked_lines is False
    assert stock.available(mug, warehouse) == 8
    assert OrderEvent.objects.filter(kind="LINKED").count() == 1


def test_relinking_moves_the_allocation_to_the_new_item(
    warehouse: Location, mug: StockItem
):
    plate = StockItem.objects.create(sku="PLATE", title="Plate")
    stock.set_on_hand(plate, warehouse, 4)
    save_orders(make_account(warehouse), [make_order()])

    link_line_by_hand(OrderLine.objects.get(), "PLATE")

    assert stock.available(mug, warehouse) == 10
    assert stock.available(plate, warehouse) == 2


def test_link_to_unknown_sku_changes_nothing(warehouse: Location, mug: StockItem):
    save_orders(make_account(warehouse), [make_order(lines=[make_line(sku="NOPE")])])
    line = OrderLine.objects.get()

    with pytest.raises(LinkError):
        link_line_by_hand(line, "MISSING")

    line.refresh_from_db()
    assert line.stock_item_id is None
    assert Allocation.objects.count() == 0


def test_a_later_sync_keeps_a_link_made_by_hand(warehouse: Location, mug: StockItem):
    save_orders(make_account(warehouse), [make_order(lines=[make_line(sku="NOPE")])])
    link_line_by_hand(OrderLine.objects.get(), "MUG-1")

    save_orders(
        make_account(warehouse),
        [make_order(lines=[make_line(sku="NOPE")], paid=True)],
    )

    line = OrderLine.objects.get()
    assert (line.stock_item_id, line.link_method) == (mug.pk, "MANUAL")
    assert stock.available(mug, warehouse) == 8


def test_dispatch_consumes_stock_once(warehouse: Location, mug: StockItem):
    save_orders(make_account(warehouse), [make_order()])
    order = Order.objects.get()

    dispatch = dispatch_order(
        order, DispatchRequest("DPD", "0123456789012", confirm_unpaid=True)
    )
    with pytest.raises(NotDispatchable):
        dispatch_order(Order.objects.get(), UNPAID_OK)

    assert dispatch.tracking_number == "0123456789012"
    assert Order.objects.get().status == Order.Status.DISPATCHED
    assert stock.on_hand(mug, warehouse) == 8
    assert stock.available(mug, warehouse) == 8
    assert Allocation.objects.count() == 0


def test_dispatched_order_stays_dispatched_when_cancelled_later(
    warehouse: Location, mug: StockItem
):
    save_orders(make_account(warehouse), [make_order()])
    dispatch_order(Order.objects.get(), UNPAID_OK)

    save_orders(make_account(warehouse), [make_order(cancelled=True)])

    order = Order.objects.get()
    assert order.status == Order.Status.DISPATCHED
    assert order.channel_status == "CANCELLED"
    assert stock.on_hand(mug, warehouse) == 8


def test_a_partly_dispatched_order_changing_keeps_the_dispatched_line_taken(
    warehouse: Location, mug: StockItem
):
    two = [make_line("L-1"), make_line("L-2", quantity=3)]
    save_orders(make_account(warehouse), [make_order(lines=two)])
    order = Order.objects.get()
    first = order.lines.get(external_id="L-1")
    dispatch_order(order, DispatchRequest(line_ids=[first.pk], confirm_unpaid=True))
    assert (stock.on_hand(mug, warehouse), stock.available(mug, warehouse)) == (8, 5)

    # Paid, and the second line's quantity changed: planned and saved as a set.
    changed = [make_line("L-1"), make_line("L-2", quantity=1)]
    save_orders(make_account(warehouse), [make_order(lines=changed, paid=True)])

    assert Order.objects.get().status == Order.Status.OPEN
    assert list(Allocation.objects.values_list("reference", "quantity")) == [
        (order.lines.get(external_id="L-2").allocation_reference, 1)
    ]  # none again for the line that left
    assert (stock.on_hand(mug, warehouse), stock.available(mug, warehouse)) == (8, 7)


def test_a_partly_dispatched_order_cancelled_needs_action_and_frees_the_rest(
    warehouse: Location, mug: StockItem
):
    two = [make_line("L-1"), make_line("L-2", quantity=3)]
    save_orders(make_account(warehouse), [make_order("A", lines=two)])
    save_orders(make_account(warehouse), [make_order("B")])
    order = Order.objects.get(external_id="A")
    first = order.lines.get(external_id="L-1")
    sent = dispatch_order(
        order, DispatchRequest(line_ids=[first.pk], confirm_unpaid=True)
    )
    other = dispatch_order(Order.objects.get(external_id="B"), UNPAID_OK)

    save_orders(make_account(warehouse), [make_order("A", lines=two, cancelled=True)])

    sent.refresh_from_db()
    other.refresh_from_db()
    assert Order.objects.get(external_id="A").status == Order.Status.CANCELLED
    assert sent.state == Dispatch.State.NEEDS_ACTION
    assert sent.channel_message == Message(texts.CANCELLED_AFTER_DISPATCH_ACTION)
    assert other.state == Dispatch.State.NOT_SENT  # another order: untouched
    assert Allocation.objects.count() == 0  # the line still here is released
    assert stock.on_hand(mug, warehouse) == 6  # what left stays gone
    cancelled = OrderEvent.objects.filter(order=order, kind=OrderEvent.Kind.CANCELLED)
    assert [e.message for e in cancelled] == [
        Message(texts.CANCELLED_AFTER_DISPATCH)
    ]  # a parcel to stop, not just "cancelled"


def test_allocation_arithmetic_across_orders(warehouse: Location, mug: StockItem):
    orders = [
        make_order("A", lines=[make_line(quantity=3)]),
        make_order("B", lines=[make_line(quantity=4)]),
        make_order("C", lines=[make_line(quantity=5)]),
    ]
    save_orders(make_account(warehouse), orders)
    assert stock.available(mug, warehouse) == 10 - 12  # oversold by 2, shown

    save_orders(make_account(warehouse), [make_order("B", cancelled=True)])
    assert stock.available(mug, warehouse) == 10 - 8

    dispatch_order(Order.objects.get(external_id="A"), UNPAID_OK)
    assert stock.on_hand(mug, warehouse) == 7
    assert stock.available(mug, warehouse) == 7 - 5


def test_lines_removed_on_the_channel_release_their_stock(
    warehouse: Location, mug: StockItem
):
    two = [make_line("L-1"), make_line("L-2", quantity=1)]
    save_orders(make_account(warehouse), [make_order(lines=two)])
    assert stock.available(mug, warehouse) == 7

    save_orders(make_account(warehouse), [make_order(lines=[make_line("L-1")])])

    assert OrderLine.objects.count() == 1
    assert stock.available(mug, warehouse) == 8


def test_linking_a_listing_later_links_and_allocates_open_orders_only(
    warehouse: Location, mug: StockItem
):
    from hub.orders.linking import link_lines_of_offer

    lost = make_line(sku="", title="?", offer_id="OF-9")
    save_orders(
        make_account(warehouse),
        [
            make_order("OPEN-1", lines=[lost]),
            make_order("GONE", lines=[lost], cancelled=True),
        ],
    )

    linked = link_lines_of_offer("test", "1", "OF-9", mug.pk)

    assert linked == 1
    line = OrderLine.objects.get(order__external_id="OPEN-1")
    assert (line.stock_item_id, line.link_method) == (mug.pk, "LISTING")
    assert OrderLine.objects.get(order__external_id="GONE").stock_item_id is None
    assert Order.objects.get(external_id="OPEN-1").has_unlinked_lines is False
    assert stock.available(mug, warehouse) == 8
    assert link_lines_of_offer("test", "1", "OF-9", mug.pk) == 0


def test_buyer_edits_update_the_order_and_say_what_changed(
    warehouse: Location, mug: StockItem
):
    save_orders(make_account(warehouse), [make_order()])

    save_orders(
        make_account(warehouse),
        [make_order(delivery_address={"city": "Kraków"}, buyer_phone="+48 1")],
    )

    order = Order.objects.get()
    assert order.delivery_address == {"city": "Kraków"}
    event = order.events.get(kind="CHANGED")
    assert "buyer phone" in str(event.message)
    assert "delivery address" in str(event.message)
    assert stock.available(mug, warehouse) == 8


def test_linking_a_line_after_dispatch_takes_its_units_off_stock_once(
    warehouse: Location, mug: StockItem
):
    save_orders(make_account(warehouse), [make_order(lines=[make_line(sku="NOPE")])])
    dispatch_order(
        Order.objects.get(), DispatchRequest(without_stock=True, confirm_unpaid=True)
    )
    assert stock.on_hand(mug, warehouse) == 10  # nothing was linked, nothing left

    link_line_by_hand(OrderLine.objects.get(), "MUG-1")

    assert stock.on_hand(mug, warehouse) == 8
    assert stock.available(mug, warehouse) == 8
    assert Allocation.objects.count() == 0
    with pytest.raises(LinkError, match="already been taken off"):
        link_line_by_hand(OrderLine.objects.get(), "MUG-1")
    assert stock.on_hand(mug, warehouse) == 8


def test_one_change_is_one_line_named_by_its_weightiest_finding():
    cancelled = (OrderEvent.Kind.CANCELLED, Message(texts.CANCELLED))
    lines = (OrderEvent.Kind.CHANGED, Message(texts.LINES_CHANGED))
    paid = (OrderEvent.Kind.PAID, Message(texts.PAID))

    assert one_change([lines]) == lines
    kind, message = one_change([cancelled, paid, lines])
    assert kind == OrderEvent.Kind.CANCELLED
    assert str(message) == (
        "Cancelled on the channel. Payment received. Order lines changed."
    )
    assert one_change([lines, paid])[0] == OrderEvent.Kind.PAID


def test_a_quiet_change_is_kept_without_a_line_in_the_history(
    warehouse: Location, mug: StockItem
):
    save_orders(
        make_account(warehouse),
        [make_order(lines_sent="NONE", marketplace="allegro-pl", revision="r1")],
    )

    counts = save_orders(
        make_account(warehouse),
        [make_order(lines_sent="ALL", marketplace="allegro-cz", revision="r2")],
    )

    order = Order.objects.get()
    assert (order.lines_sent, order.marketplace, order.revision) == (
        "ALL", "allegro-cz", "r2",
    )  # fmt: skip
    assert (counts.updated, counts.unchanged) == (0, 1)
    assert [e.kind for e in order.events.all()] == ["IMPORTED"]
    assert stock.available(mug, warehouse) == 8  # still one promise of 2


def test_a_new_order_from_a_channel_without_status_or_total_is_saved(
    warehouse: Location, mug: StockItem
):
    bare = make_order()
    bare.fields.clear()  # a channel that knows nothing but the lines

    save_orders(make_account(warehouse), [bare])

    order = Order.objects.get()
    assert (order.channel_status, order.total, order.currency) == ("", 0, "")
    assert str(order.events.get().message) == "Imported: , 1 line, 0.00."
