"""The embedded runner in threads, against the in-process emulator."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import connection

from hub.allegro.client import AllegroClient, client_for_channel
from hub.allegro.errors import TransientError
from hub.allegro.models import Channel
from hub.allegro.tests.fixtures import HubEmulator, make_channel
from hub.jobs import schedule
from hub.jobs.models import FlowRun, FlowState
from hub.jobs.registry import Flow, FlowResult, Progress, get_flow
from hub.jobs.runner import Runner
from hub.orders.models import Order

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
    assert "503" in run.error
    assert run.error.startswith("Allegro could not be reached")
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
    start(flows=[get_flow("orders")])  # the flow that needs Allegro every pass
    wait_for(lambda: Channel.objects.get(pk=bad.pk).needs_reconnect)
    form = emulator.purchase(offer)
    wait_for(lambda: Order.objects.filter(external_id=form).exists(), timeout=15)
    requests_after = len(emulator.request_log)
    time.sleep(1.5)  # more than the interval: the good channel polls again

    bad_runs = FlowRun.objects.filter(channel=bad)
    assert bad_runs.count() == 1
    assert bad_runs.get().outcome == FlowRun.Outcome.FAILED
    assert "connect" in bad_runs.get().error
    assert FlowRun.objects.filter(channel=good, outcome="ok").count() >= 2
    # Nobody knocks on Allegro's door with the refused token again.
    assert not [
        r
        for r in emulator.request_log[requests_after:]
        if r.get("path") == "/auth/oauth/token"
    ]
