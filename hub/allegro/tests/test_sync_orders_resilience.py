"""One order Allegro keeps failing on never stops a channel; the channel's health
says when any flow fails; a database error is a recorded, retried failure, never
a traceback; a pass killed mid-page keeps the slices it saved."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import OperationalError, connection
from django.utils import timezone

from hub.allegro.client import AllegroClient
from hub.allegro.errors import AllegroError, TransientError
from hub.allegro.models import Channel, FormReadFailure, SyncCursor
from hub.allegro.sync.order_list_reads import Named
from hub.allegro.sync.order_reads import FAILURES_BEFORE_SET_ASIDE
from hub.allegro.sync.orders import JOURNAL, DatabaseTrouble, _slices, sync_orders
from hub.allegro.tests.fixtures import HubEmulator
from hub.allegro.tests.test_sync_orders_quarantine import (
    form_reads,
    imported,
    mug,
    offer,
)
from hub.catalog.models import Allocation, StockItem
from hub.orders.models import ImportProblem, OrderEvent

pytestmark = pytest.mark.django_db
__all__ = ["mug", "offer"]  # fixtures


def health(channel: Channel) -> str:
    out = StringIO()
    call_command("channel", "list", stdout=out, stderr=StringIO())
    (line,) = [
        row for row in out.getvalue().splitlines() if row.startswith(channel.name)
    ]
    return line.rsplit("health=", 1)[1]


def journal(channel: Channel) -> SyncCursor:
    return SyncCursor.objects.get(channel=channel, stream=JOURNAL)


# ------------------------------------------------- a form Allegro keeps failing


@pytest.mark.parametrize("fault", ["503", "timeout"])
def test_a_form_failing_five_passes_is_set_aside_then_retried_with_backoff(
    emulator: HubEmulator,
    channel: Channel,
    allegro_client: AllegroClient,
    offer: str,
    mug: StockItem,
    fault: str,
):
    sync_orders(channel.pk, allegro_client)
    before = emulator.purchase(offer)
    bad = emulator.purchase(offer, quantity=2)
    after = emulator.purchase(offer)
    # The list does not show it (it lags), and by id Allegro keeps failing.
    emulator.lag_list(bad, 10**6)
    emulator.add_fault(f"^/order/checkout-forms/{bad}$", fault, count=None)
    start = journal(channel).value

    # Passes 1–4: the pass stops (the page waits for it), and says so.
    for attempt in range(1, FAILURES_BEFORE_SET_ASIDE):
        with pytest.raises(TransientError):
            sync_orders(channel.pk, allegro_client)
        assert imported() == []
        assert journal(channel).value == start
        assert FormReadFailure.objects.get().failures == attempt
        assert health(channel) == "error"
        assert ImportProblem.objects.count() == 0

    # Pass 5: set aside; the rest of the page is imported.
    reads = form_reads(emulator, bad)
    result = sync_orders(channel.pk, allegro_client)

    assert imported() == sorted([before, after])
    assert journal(channel).value == str(emulator.last_order_event_id)
    problem = ImportProblem.objects.get()
    assert problem.external_id == bad
    assert "kept failing to answer" in str(problem.reason)
    assert set(result.set_aside) == {bad}
    assert problem.retry_at is not None
    assert problem.retry_at - timezone.now() == pytest.approx(
        timedelta(minutes=5), abs=timedelta(seconds=30)
    )
    assert health(channel) == "ok"
    assert sum(Allocation.objects.values_list("quantity", flat=True)) == 2
    reads = form_reads(emulator, bad)

    # Not retried before its pause is over; then retried, the pause doubles.
    sync_orders(channel.pk, allegro_client)
    assert form_reads(emulator, bad) == reads
    with time_machine.travel(timezone.now() + timedelta(minutes=6), tick=False):
        result = sync_orders(channel.pk, allegro_client)
        assert form_reads(emulator, bad) > reads
        problem.refresh_from_db()
        assert (problem.attempts, result.retried) == (2, 1)
        assert problem.retry_at - timezone.now() == pytest.approx(
            timedelta(minutes=10), abs=timedelta(seconds=30)
        )

    # Allegro answers again: imported once, the problem and the count are gone.
    emulator.clear_faults()
    with time_machine.travel(timezone.now() + timedelta(minutes=30), tick=False):
        result = sync_orders(channel.pk, allegro_client)

    assert (result.recovered, result.created) == (1, 1)
    assert imported() == sorted([before, bad, after])
    assert ImportProblem.objects.count() == 0
    assert FormReadFailure.objects.count() == 0
    assert OrderEvent.objects.filter(kind=OrderEvent.Kind.IMPORTED).count() == 3
    assert sum(Allocation.objects.values_list("quantity", flat=True)) == 4


def test_a_failure_that_stops_before_five_in_a_row_starts_counting_again(
    emulator: HubEmulator, channel: Channel, allegro_client: AllegroClient, offer: str
):
    sync_orders(channel.pk, allegro_client)
    form = emulator.purchase(offer)
    emulator.add_fault(f"^/order/checkout-forms/{form}$", "503", count=None)
    for _attempt in range(3):
        with pytest.raises(TransientError):
            sync_orders(channel.pk, allegro_client)
    emulator.clear_faults()

    sync_orders(channel.pk, allegro_client)

    assert imported() == [form]
    assert FormReadFailure.objects.count() == 0
    assert ImportProblem.objects.count() == 0


def test_a_rate_limit_is_not_counted_against_the_form(
    emulator: HubEmulator,
    channel: Channel,
    allegro_client: AllegroClient,
    offer: str,
):
    sync_orders(channel.pk, allegro_client)
    form = emulator.purchase(offer)
    emulator.add_fault(f"^/order/checkout-forms/{form}$", "429", count=None)

    with pytest.raises(TransientError):
        sync_orders(channel.pk, allegro_client)

    assert FormReadFailure.objects.count() == 0
    assert imported() == []


# ------------------------------------------------------------------- health


def test_channel_list_shows_an_error_kept_on_any_cursor(
    channel: Channel, logged_in_client: Any
):
    SyncCursor.objects.create(channel=channel, stream=JOURNAL, value="1")
    assert health(channel) == "ok"
    SyncCursor.objects.create(
        channel=channel, stream="offer_events", last_error="Allegro said no"
    )

    assert health(channel) == "error"
    page = logged_in_client.get("/settings/channels/").content.decode()
    assert "Allegro said no" in page
    assert '<span class="ok">OK</span>' not in page


# ------------------------------------------------------------ database errors


@contextmanager
def database_fails(
    matches: Callable[[str], bool], times: int | None
) -> Iterator[list[str]]:
    """The database answers matching statements with a deadlock error (``times``
    times, or always), the way PostgreSQL ends one of two deadlocked
    transactions; yields the statements it refused."""
    refused: list[str] = []

    def execute(run: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if matches(sql) and (times is None or len(refused) < times):
            refused.append(sql)
            raise OperationalError("deadlock detected")
        return run(sql, params, many, context)

    with connection.execute_wrapper(execute):
        yield refused


def inserts_orders(sql: str) -> bool:
    return sql.lstrip().upper().startswith('INSERT INTO "ORDERS_ORDER"')


def test_a_deadlock_in_a_pass_is_retried_and_the_orders_come_once(
    emulator: HubEmulator, channel: Channel, allegro_client: AllegroClient, offer: str
):
    sync_orders(channel.pk, allegro_client)
    forms = [emulator.purchase(offer), emulator.purchase(offer)]

    with database_fails(inserts_orders, times=1) as refused:
        result = sync_orders(channel.pk, allegro_client)

    assert len(refused) == 1
    assert result.created == 2
    assert imported() == sorted(forms)
    assert OrderEvent.objects.count() == 2
    assert not journal(channel).last_error


def test_a_database_that_keeps_failing_is_recorded_on_health_not_a_traceback(
    emulator: HubEmulator, channel: Channel, allegro_client: AllegroClient, offer: str
):
    sync_orders(channel.pk, allegro_client)
    start = journal(channel).value
    form = emulator.purchase(offer)

    with (
        database_fails(inserts_orders, times=None),
        pytest.raises(DatabaseTrouble) as raised,
    ):
        sync_orders(channel.pk, allegro_client)

    assert isinstance(raised.value, AllegroError)  # what every flow runner catches
    assert "deadlock detected" in str(journal(channel).last_error)
    assert "next sync tries again" in str(journal(channel).last_error)
    assert health(channel) == "error"
    assert journal(channel).value == start
    assert imported() == []

    sync_orders(channel.pk, allegro_client)

    assert imported() == [form]
    assert health(channel) == "ok"


def test_the_sync_command_reports_a_database_failure_in_one_line(
    emulator: HubEmulator, channel: Channel, offer: str
):
    """Over the real transport the command uses: no traceback, a non-zero exit."""
    SyncCursor.objects.create(channel=channel, stream=JOURNAL, value="")
    err = StringIO()

    def cursor_reads(sql: str) -> bool:
        return "allegro_synccursor" in sql.lower()

    with database_fails(cursor_reads, times=None), pytest.raises(CommandError):
        call_command(
            "sync",
            channel.name,
            "--only",
            "orders",
            "--quiet",
            stdout=StringIO(),
            stderr=err,
        )

    assert err.getvalue().count("\n") == 1
    assert "database could not save this pass" in err.getvalue()
    assert "Traceback" not in err.getvalue()


# ------------------------------------------------------------ slices of a page


def test_a_pass_stopped_mid_page_keeps_the_slices_it_saved(
    emulator: HubEmulator, channel: Channel, allegro_client: AllegroClient, offer: str
):
    sync_orders(channel.pk, allegro_client)
    forms = [emulator.purchase(offer) for _ in range(130)]
    for form in forms:  # the list lags: every form is read by id
        emulator.lag_list(form, 10**6)
    # The 111th form read fails (all of its retries): one page of events, the
    # first slice of 100 forms read by id (READ_BATCH) is saved before it.
    emulator.add_fault(r"^/order/checkout-forms/[0-9a-f-]{36}$", "503",
                       count=None, skip=110)  # fmt: skip

    with pytest.raises(TransientError):
        sync_orders(channel.pk, allegro_client)

    assert imported() == sorted(forms[:100])
    saved_up_to = int(journal(channel).value)
    assert saved_up_to < emulator.last_order_event_id

    emulator.clear_faults()
    result = sync_orders(channel.pk, allegro_client)

    assert result.created == 30
    assert imported() == sorted(forms)
    assert OrderEvent.objects.filter(kind=OrderEvent.Kind.IMPORTED).count() == 130
    assert Allocation.objects.count() == 130
    assert journal(channel).value == str(emulator.last_order_event_id)


def test_a_page_is_saved_in_slices_of_forms_and_of_reads_by_id():
    now = timezone.now()
    named = {f"F-{i}": Named(index=2 * i, revision="", occurred_at=now)
             for i in range(600)}  # fmt: skip

    listed = _slices(named, count=1300, size=500, unlisted=set())
    every_other = _slices(
        named, count=1300, size=500, unlisted={f"F-{i}" for i in range(0, 600, 2)}
    )

    # Everything listed: 500 forms a slice; the last slice ends the page.
    assert [(end, len(forms)) for end, forms in listed] == [(998, 500), (1299, 100)]
    # Every other form read by id: a slice as soon as it has 100 of them.
    assert [len(forms) for _end, forms in every_other] == [199, 200, 200, 1]
    assert [f for _end, forms in every_other for f in forms] == list(named)
    assert _slices({}, count=5, size=500, unlisted=set()) == [(4, [])]
