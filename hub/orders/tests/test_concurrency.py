"""Two operators (or a double click, or two sync processes) at the same moment:
dispatch consumes stock once, a cancellation releases once and is recorded once.

Real threads with their own database connections, so this runs the database's
row locks, not a mock. PostgreSQL only: the suite's in-memory SQLite database
answers a second writer "table is locked" at once, where an installation's file
database waits its turn (busy_timeout, IMMEDIATE transactions) — the processes in
hub/allegro/tests/test_sync_orders_kill.py exercise that file database.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection

from hub.catalog import stock
from hub.catalog.models import Allocation, Location, StockItem
from hub.orders.dispatching import DispatchRequest, NotDispatchable, dispatch_order
from hub.orders.importing import IncomingOrder, save_orders
from hub.orders.models import Dispatch, Order, OrderEvent
from hub.orders.tests.conftest import make_account, make_order

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs a database whose writers wait for each other (PostgreSQL)",
    ),
]


def at_once(work: Callable[[], Any], times: int = 2) -> list[Any]:
    """Run work in `times` threads released together; results or exceptions."""
    start = threading.Barrier(times)
    results: list[Any] = []

    def run() -> None:
        start.wait()
        try:
            results.append(work())
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_dispatching_twice_at_once_consumes_stock_once(
    warehouse: Location, mug: StockItem
):
    save_orders(make_account(warehouse), [make_order()])
    pk = Order.objects.get().pk

    results = at_once(
        lambda: dispatch_order(
            Order.objects.get(pk=pk), DispatchRequest(confirm_unpaid=True)
        )
    )

    assert sorted(type(r).__name__ for r in results) == ["Dispatch", "NotDispatchable"]
    assert isinstance(
        next(r for r in results if not isinstance(r, Dispatch)), NotDispatchable
    )
    assert stock.on_hand(mug, warehouse) == 8
    assert stock.available(mug, warehouse) == 8
    assert Dispatch.objects.count() == 1
    assert Allocation.objects.count() == 0


def test_consuming_one_allocation_twice_at_once_lowers_on_hand_once(
    warehouse: Location, mug: StockItem
):
    stock.allocate(mug, warehouse, 3, "ref-1")

    results = at_once(lambda: stock.consume("ref-1"), times=3)

    assert sorted(results) == [False, False, True]
    assert stock.on_hand(mug, warehouse) == 7


def test_the_same_cancellation_saved_twice_at_once_releases_and_records_once(
    warehouse: Location, mug: StockItem
):
    save_orders(make_account(warehouse), [make_order()])
    assert stock.available(mug, warehouse) == 8

    results = at_once(
        lambda: save_orders(make_account(warehouse), [make_order(cancelled=True)])
    )

    assert sum(r.cancelled for r in results) == 1
    assert Order.objects.get().status == Order.Status.CANCELLED
    assert stock.available(mug, warehouse) == 10
    assert OrderEvent.objects.filter(kind=OrderEvent.Kind.CANCELLED).count() == 1


def test_a_new_order_saved_twice_at_once_is_created_and_allocated_once(
    warehouse: Location, mug: StockItem
):
    results = at_once(lambda: save_orders(make_account(warehouse), [make_order()]))

    assert sorted(r.created for r in results) == [0, 1]
    assert Order.objects.count() == 1
    assert Allocation.objects.get().quantity == 2
    assert OrderEvent.objects.filter(kind=OrderEvent.Kind.IMPORTED).count() == 1


def test_two_passes_saving_the_same_orders_in_opposite_orders_never_deadlock(
    warehouse: Location, mug: StockItem
):
    """Each pass locks and inserts in one fixed order (by external id): the
    second waits for the first instead of holding a row the first needs."""
    account = make_account(warehouse)
    ids = [f"F-{n:03d}" for n in range(40)]
    for total in ("10.00", "20.00"):  # new orders, then changed ones
        orders = [make_order(i, total=Decimal(total)) for i in ids]
        batches = iter([orders, orders[::-1]])
        lock = threading.Lock()

        def save(
            batches: Iterator[list[IncomingOrder]] = batches,
            lock: threading.Lock = lock,
        ) -> object:
            with lock:
                batch = next(batches)
            return save_orders(account, batch)

        results = at_once(save)

        assert [type(r).__name__ for r in results] == ["SaveCounts", "SaveCounts"]
    assert Order.objects.count() == 40
    assert set(Order.objects.values_list("total", flat=True)) == {Decimal("20.00")}
    assert OrderEvent.objects.filter(kind=OrderEvent.Kind.IMPORTED).count() == 40
    assert Allocation.objects.count() == 40
