"""The embedded runner in threads, against the in-process emulator."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from hub.allegro.client import AllegroClient, client_for_channel
from hub.allegro.errors import TransientError
from hub.allegro.models import Channel
from hub.allegro.sync.orders import sync_orders
from hub.allegro.tests.fixtures import (
    HubEmulator,
    make_channel,
    make_emulator,
    token_grants,
)
from hub.jobs import schedule
from hub.jobs.models import FlowRun, FlowState
from hub.jobs.registry import FLOWS, Flow, FlowResult, Progress, get_flow
from hub.jobs.runner import Runner
from hub.orders.dispatching import DispatchRequest, dispatch_order
from hub.orders.models import Dispatch, Order

pytestmark = pytest.mark.django_db(transaction=True)


def wait_for(check: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.fixture
def clients(
    emulator: HubEmulator, instant_retries: dict[str, Any]
) -> Callable[[Channel], AllegroClient]:
    def factory(channel: Channel) -> AllegroClient:
        return client_for_channel(
            channel, transport=emulator.transport, **instant_retries
        )

    return factory


@pytest.fixture
def start(
    clients: Callable[[Channel], AllegroClient],
) -> Iterator[Callable[..., Runner]]:
    runners: list[Runner] = []

    def start_runner(**options: Any) -> Runner:
        options.setdefault("client_factory", clients)
        runner = Runner(tick=0.02, **options)
        runner.start()
        runners.append(runner)
        return runner

    yield start_runner
    for runner in runners:
        runner.stop()
    connection.close()


def runs(flow: str = "orders") -> list[FlowRun]:
    return list(FlowRun.objects.filter(flow=flow).order_by("id"))


def test_orders_placed_on_allegro_arrive_without_any_sync_command(
    emulator: HubEmulator, channel: Channel, start: Callable[..., Runner], settings
):
    settings.HUB_SYNC_INTERVALS = {"orders": 1}
    offer = emulator.add_offer(emulator.seller_id, "Kubek", quantity=5)
    start()
    wait_for(lambda: len(runs()) >= 1 and runs()[0].outcome == "ok")  # journal starts

    form = emulator.purchase(offer, quantity=2)
    wait_for(lambda: any(run.counts.get("created") for run in runs()), timeout=15)
    time.sleep(1.2)  # another pass or two: nothing more to import

    assert list(Order.objects.values_list("external_id", flat=True)) == [form]
    imported = [run for run in runs() if run.counts.get("created")]
    assert len(imported) == 1
    assert imported[0].counts["created"] == 1
    assert imported[0].trigger == schedule.SCHEDULE
    assert imported[0].finished_at is not None
    row = FlowState.objects.get(channel=channel, flow="orders")
    assert row.last_success_at is not None
    assert row.failures == 0


def test_a_failing_flow_is_recorded_and_backs_off(
    channel: Channel, start: Callable[..., Runner]
):
    calls: list[float] = []

    def broken(
        channel_id: int, client: AllegroClient, progress: Progress
    ) -> FlowResult:
        calls.append(time.monotonic())
        raise TransientError("Allegro answered 503")

    start(flows=[Flow(name="broken", run=broken, interval=1, label="Broken")])
    wait_for(
        lambda: len(runs("broken")) == 1 and runs("broken")[0].finished_at is not None
    )
    time.sleep(0.3)  # many ticks: the back-off (15 s) holds the next attempt

    [run] = runs("broken")
    assert run.outcome == FlowRun.Outcome.FAILED
    assert run.error.code == "allegro.transient"  # stored as a code…
    assert "503" in str(run.error)  # …shown in words
    assert str(run.error).startswith("Allegro could not be reached")
    assert len(calls) == 1
    row = FlowState.objects.get(flow="broken")
    assert row.failures == 1
    assert run.finished_at is not None
    assert (row.due_at - run.finished_at).total_seconds() == pytest.approx(15, abs=1)


def test_sync_now_runs_at_once_despite_the_back_off(
    channel: Channel, start: Callable[..., Runner]
):
    def fine(channel_id: int, client: AllegroClient, progress: Progress) -> FlowResult:
        return FlowResult("fine", {"done": 1})

    start(flows=[Flow(name="fine", run=fine, interval=3600, label="Fine")])
    wait_for(lambda: len(runs("fine")) == 1)
    time.sleep(0.2)
    assert len(runs("fine")) == 1  # next one in an hour

    schedule.request_run(channel.pk, "fine")
    wait_for(lambda: len(runs("fine")) == 2)

    assert [run.trigger for run in runs("fine")] == ["schedule", "request"]


def test_a_pending_change_triggers_its_flow_after_the_debounce(
    channel: Channel, start: Callable[..., Runner], settings
):
    settings.HUB_TRIGGER_DEBOUNCE = 0
    changes = threading.Event()

    def push(channel_id: int, client: AllegroClient, progress: Progress) -> FlowResult:
        changes.clear()
        return FlowResult("pushed")

    flow = Flow(
        name="push",
        run=push,
        interval=3600,
        label="Push",
        pending=lambda channel_id: changes.is_set(),
    )
    start(flows=[flow])
    wait_for(lambda: len(runs("push")) == 1)
    time.sleep(0.2)
    assert len(runs("push")) == 1

    changes.set()
    wait_for(lambda: len(runs("push")) == 2)
    time.sleep(0.2)

    assert [run.trigger for run in runs("push")] == ["schedule", "change"]
    assert not changes.is_set()


def test_a_dispatch_reaches_allegro_within_seconds_through_the_tracking_flow(
    emulator: HubEmulator,
    channel: Channel,
    clients: Callable[[Channel], AllegroClient],
    start: Callable[..., Runner],
    settings,
):
    # Periodic passes an hour apart: only the dispatch itself (the flow's
    # pending check) can send the tracking number within the test.
    settings.HUB_SYNC_INTERVALS = {"tracking": 3600}
    settings.HUB_TRIGGER_DEBOUNCE = 0
    channel.submit_tracking = True
    channel.save()
    offer = emulator.add_offer(emulator.seller_id, "Kubek", quantity=5)
    sync_orders(channel.pk, clients(channel))
    form = emulator.purchase(offer)
    emulator.pay(form)
    sync_orders(channel.pk, clients(channel))
    start(flows=[get_flow("tracking")])
    wait_for(lambda: len(runs("tracking")) == 1)  # at start: reads the carriers

    dispatched = time.monotonic()
    dispatch_order(
        Order.objects.get(external_id=form),
        DispatchRequest("DPD", "1234567890123", without_stock=True),
    )
    wait_for(lambda: emulator.checkout_forms[form].shipments != [], timeout=5)
    took = time.monotonic() - dispatched

    assert took < 5
    assert [s.waybill for s in emulator.checkout_forms[form].shipments] == [
        "1234567890123"
    ]
    wait_for(lambda: Dispatch.objects.get().state == Dispatch.State.ACCEPTED)
    assert [run.trigger for run in runs("tracking")] == ["schedule", "change"]


def test_stop_interrupts_a_flow_between_pages_and_it_resumes_next_start(
    channel: Channel, start: Callable[..., Runner]
):
    pages: list[int] = []

    def long(channel_id: int, client: AllegroClient, progress: Progress) -> FlowResult:
        for page in range(1000):
            progress(f"page {page}")
            pages.append(page)
            time.sleep(0.01)
        return FlowResult("all pages")

    runner = start(flows=[Flow(name="long", run=long, interval=3600, label="Long")])
    wait_for(lambda: len(pages) >= 3)
    runner.stop()
    stopped_at = len(pages)

    [run] = runs("long")
    assert run.outcome == FlowRun.Outcome.INTERRUPTED
    assert stopped_at < 1000
    row = FlowState.objects.get(flow="long")
    assert row.lease_owner == ""
    assert run.finished_at is not None
    assert row.due_at <= run.finished_at  # due again at once
    assert row.failures == 0

    start(flows=[Flow(name="long", run=long, interval=3600, label="Long")])
    wait_for(lambda: len(runs("long")) == 2)


def test_a_revoked_channel_stops_while_the_others_carry_on(
    emulator: HubEmulator, start: Callable[..., Runner], settings
):
    settings.HUB_SYNC_INTERVALS = {"orders": 1}
    good = make_channel(emulator, name="Good")
    other = emulator.add_seller("revoked-seller")
    bad = make_channel(emulator, name="Revoked", seller_id=other)
    offer = emulator.add_offer(emulator.seller_id, "Kubek", quantity=5)
    emulator.revoke_tokens(other)
    # Its access token is still "valid" on the hub's side: force a refresh.
    Channel.objects.filter(pk=bad.pk).update(access_token_expires_at=None)
    Channel.objects.filter(pk=bad.pk).update(access_token_encrypted="")
    start(flows=[get_flow("orders")])
    wait_for(lambda: Channel.objects.get(pk=bad.pk).needs_reconnect)
    form = emulator.purchase(offer)
    wait_for(lambda: Order.objects.filter(external_id=form).exists(), timeout=15)
    requests_after = len(emulator.request_log)
    # The good channel polls again (every second), the revoked one does not.
    wait_for(
        lambda: FlowRun.objects.filter(channel=good, outcome="ok").count() >= 3,
        timeout=30,
    )

    # The orders flow is the one that calls Allegro (lifecycle with nothing to
    # do makes no call): it failed once and was not run again.
    bad_runs = FlowRun.objects.filter(channel=bad, flow="orders")
    assert bad_runs.count() == 1
    assert bad_runs.get().outcome == FlowRun.Outcome.FAILED
    assert "connect" in str(bad_runs.get().error)
    assert FlowRun.objects.filter(channel=good, outcome="ok").count() >= 2
    # Nobody knocks on Allegro's door with the refused token again.
    assert not [
        r
        for r in emulator.request_log[requests_after:]
        if r.get("path") == "/auth/oauth/token"
    ]


def test_a_revoked_channel_shows_reconnect_and_leaves_allegro_alone_under_all_flows(
    emulator: HubEmulator,
    instant_retries: dict[str, Any],
    logged_in_client: Any,
    settings,
):
    """Every registered flow runs every second. The revoked channel's seller is
    on an Allegro of its own, so every request the hub sends for it is counted."""
    settings.HUB_SYNC_INTERVALS = {flow.name: 1 for flow in FLOWS}
    revoked_allegro = make_emulator()
    good = make_channel(emulator, name="Good")
    bad = make_channel(revoked_allegro, name="Revoked", url="http://other.emulator")
    revoked_allegro.revoke_tokens(revoked_allegro.seller_id)
    Channel.objects.filter(pk=bad.pk).update(
        access_token_expires_at=None, access_token_encrypted=""
    )
    offer = emulator.add_offer(emulator.seller_id, "Kubek", quantity=5)
    allegro = {good.pk: emulator, bad.pk: revoked_allegro}

    def clients(channel: Channel) -> AllegroClient:
        return client_for_channel(
            channel, transport=allegro[channel.pk].transport, **instant_retries
        )

    runner = Runner(tick=0.02, client_factory=clients)
    runner.start()
    try:
        wait_for(lambda: Channel.objects.get(pk=bad.pk).needs_reconnect)
        wait_for(
            lambda: (
                not FlowState.objects.filter(lease_owner__gt="")
                .exclude(channel=good)
                .exists()
            )
        )
        refused = len(revoked_allegro.request_log)
        form = emulator.purchase(offer)
        wait_for(lambda: Order.objects.filter(external_id=form).exists(), timeout=15)
        good_runs = FlowRun.objects.filter(channel=good, outcome="ok").count()
        wait_for(
            lambda: (
                FlowRun.objects.filter(channel=good, outcome="ok").count()
                >= good_runs + 2 * len(FLOWS)
            ),
            timeout=30,
        )
        page = logged_in_client.get("/").content.decode()
    finally:
        runner.stop()
        connection.close()

    # The revoked channel: a refused token or two (flows that started together),
    # then not one request more, whatever the flows' intervals.
    assert 1 <= refused <= len(FLOWS)
    assert len(revoked_allegro.request_log) == refused
    assert all(r["path"] == "/auth/oauth/token" for r in revoked_allegro.request_log)
    # Each flow ran at most once for it (those with nothing to ask Allegro
    # succeed), none again once it needed a reconnect. (A flow whose first
    # run starts a moment after the others is still its first: counting the
    # runs at one moment and comparing later was a race.)
    bad_flows = list(FlowRun.objects.filter(channel=bad).values_list("flow", flat=True))
    assert len(bad_flows) == len(set(bad_flows)) <= len(FLOWS)
    assert FlowRun.objects.filter(channel=bad, outcome="failed").exists()
    # The other channel carried on with every flow.
    assert Order.objects.get().external_id == form
    assert {r.flow for r in FlowRun.objects.filter(channel=good, outcome="ok")} == {
        flow.name for flow in FLOWS
    }
    # The seller sees which one to reconnect, and only that one.
    config = reverse("channel_config", args=[bad.pk])
    assert f'href="{config}" id="reconnect-{bad.pk}"' in page
    assert f'id="reconnect-{good.pk}"' not in page
    assert page.count("needs reconnect") == 1


def refresh(emulator: HubEmulator, token: str) -> httpx.Response:
    with httpx.Client(transport=emulator.transport) as http:
        return http.post(
            "http://allegro.emulator/auth/oauth/token",
            data={"grant_type": "refresh_token", "refresh_token": token},
            auth=(emulator.client_id, emulator.client_secret),
        )


def test_a_token_refresh_cut_short_by_a_crash_is_finished_at_start(
    emulator: HubEmulator, channel: Channel, start: Callable[..., Runner]
):
    # The crashed process claimed the refresh, and Allegro rotated the pair,
    # but the new one never reached the database.
    with httpx.Client(transport=emulator.transport) as http:
        lost = http.post(
            "http://allegro.emulator/auth/oauth/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": channel.refresh_token,
            },
            auth=(emulator.client_id, emulator.client_secret),
        )
    assert lost.status_code == 200
    claimed_until = timezone.now() + timedelta(seconds=0.3)
    Channel.objects.filter(pk=channel.pk).update(refresh_lease_until=claimed_until)
    version = channel.token_version

    start(flows=[], auth_transport=emulator.transport)
    wait_for(lambda: Channel.objects.get(pk=channel.pk).token_version == version + 1)

    fresh = Channel.objects.get(pk=channel.pk)
    assert not fresh.needs_reconnect
    assert fresh.refresh_lease_until is None
    assert token_grants(emulator) == ["refresh_token", "refresh_token"]
    # The saved pair is a working one: Allegro accepts its refresh token.
    emulator.clock.advance(minutes=5)
    assert refresh(emulator, fresh.refresh_token).status_code == 200
