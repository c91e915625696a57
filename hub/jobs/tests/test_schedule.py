"""Schedule rows and leases: claims, takeovers, back-off, requests, pruning."""

from __future__ import annotations

import socket
import subprocess
import sys
from datetime import timedelta

import pytest
from django.utils import timezone

from hub.allegro.models import Channel
from hub.allegro.tests.fixtures import HubEmulator, make_channel
from hub.jobs import schedule
from hub.jobs.models import FlowRun, FlowState
from hub.jobs.registry import Flow, FlowResult, get_flow
from hub.text.message import Message

pytestmark = pytest.mark.django_db


def idle(channel_id: int, client: object, progress: object) -> FlowResult:
    return FlowResult("nothing")


PUSH = Flow(
    name="push",
    run=idle,
    interval=300,
    label="Push",
    applies=lambda channel: channel.inventory_sync,
)
ORDERS = get_flow("orders")


def state(channel: Channel, flow: str = "orders") -> FlowState:
    return FlowState.objects.get(channel=channel, flow=flow)


def dead_owner() -> str:
    """The claim id of a process of this machine that has ended."""
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return f"{socket.gethostname()}:{int(child.stdout)}:0123456789ab"


def seller_channel(emulator: HubEmulator, name: str, **fields: object) -> Channel:
    """A connected channel of a seller of its own, with these fields set."""
    seller = emulator.add_seller(name.lower().replace(" ", "-"))
    channel = make_channel(emulator, name=name, seller_id=seller)
    Channel.objects.filter(pk=channel.pk).update(**fields)
    return channel


def test_rows_for_runnable_channels_and_the_flows_that_apply(emulator: HubEmulator):
    seller_channel(emulator, "Shop")
    seller_channel(emulator, "Stock shop", inventory_sync=True)
    seller_channel(emulator, "Off", enabled=False, inventory_sync=True)
    seller_channel(emulator, "Revoked", needs_reconnect=True)
    Channel.objects.create(name="Never connected")
    now = timezone.now()

    assert schedule.ensure_states([ORDERS, PUSH], now) == 3
    assert schedule.ensure_states([ORDERS, PUSH], now) == 0  # no duplicates

    rows = set(FlowState.objects.values_list("channel__name", "flow"))
    assert rows == {
        ("Shop", "orders"),
        ("Stock shop", "orders"),
        ("Stock shop", "push"),
    }
    assert all(r.due_at == now and r.lease_owner == "" for r in FlowState.objects.all())


def test_a_claim_is_exclusive_and_sets_the_next_run(channel: Channel):
    now = timezone.now()
    schedule.ensure_states([ORDERS], now)
    row = state(channel)
    first = schedule.claim(row, ORDERS, now)
    second = schedule.claim(row, ORDERS, now)  # the same row, seen before the claim

    assert first is not None
    assert second is None
    claimed = state(channel)
    assert claimed.lease_owner == first.owner
    assert claimed.lease_until == now + timedelta(seconds=60)
    assert claimed.due_at == now + timedelta(seconds=60)  # orders: every minute
    assert first.trigger == schedule.SCHEDULE
    # Not due, not free: nobody else sees it as work.
    assert schedule.due_states([ORDERS], now + timedelta(seconds=30), 10) == []


def test_not_due_is_not_claimed_except_by_the_sync_command(channel: Channel):
    now = timezone.now()
    FlowState.objects.create(channel=channel, flow="orders", due_at=now + timedelta(1))

    assert schedule.due_states([ORDERS], now, 10) == []
    assert schedule.claim(state(channel), ORDERS, now) is None
    found = schedule.claim_now(channel, ORDERS)
    assert found is not None
    assert found.trigger == schedule.COMMAND


def test_an_expired_lease_is_taken_over_and_its_run_marked_lost(channel: Channel):
    now = timezone.now()
    schedule.ensure_states([ORDERS], now)
    old = schedule.claim(state(channel), ORDERS, now)
    assert old is not None
    FlowRun.objects.create(
        channel=channel,
        flow="orders",
        trigger="schedule",
        worker=old.owner,
        started_at=now,
    )
    FlowState.objects.filter(pk=old.state_id).update(due_at=now)
    later = now + timedelta(seconds=59)
    assert schedule.claim(state(channel), ORDERS, later) is None  # still live

    expired = now + timedelta(seconds=61)
    [row] = schedule.due_states([ORDERS], expired, 10)
    new = schedule.claim(row, ORDERS, expired)

    assert new is not None
    assert new.owner != old.owner
    run = FlowRun.objects.get()
    assert run.outcome == FlowRun.Outcome.LOST
    assert run.finished_at == expired
    # The old worker, back from the dead, cannot finish what is no longer its.
    assert schedule.finish_ok(old, expired, ORDERS, now) is False
    assert state(channel).lease_owner == new.owner


def test_a_lease_of_a_process_of_this_machine_that_is_gone_is_taken_at_once(
    channel: Channel,
):
    now = timezone.now()
    gone = dead_owner()
    FlowState.objects.create(
        channel=channel,
        flow="orders",
        due_at=now,
        lease_owner=gone,
        lease_until=now + timedelta(minutes=1),
    )
    live = schedule.new_owner()  # this very process: never "gone"
    assert schedule.owner_gone(gone)
    assert not schedule.owner_gone(live)
    assert not schedule.owner_gone("other-host:1:abc")

    [row] = schedule.due_states([ORDERS], now, 10)
    assert schedule.claim(row, ORDERS, now) is not None


def test_success_runs_again_after_the_interval_and_clears_failures(
    channel: Channel, settings
):
    settings.HUB_SYNC_INTERVALS = {"orders": 120}
    now = timezone.now()
    FlowState.objects.create(
        channel=channel, flow="orders", due_at=now, failures=3, last_error="boom"
    )
    claim = schedule.claim(state(channel), ORDERS, now)
    assert claim is not None
    done = now + timedelta(seconds=5)

    assert schedule.finish_ok(claim, done, ORDERS, now)

    row = state(channel)
    assert row.due_at == done + timedelta(seconds=120)
    assert (row.failures, row.last_error, row.last_error_at) == (0, Message(), None)
    assert row.last_success_at == now
    assert (row.lease_owner, row.lease_until) == ("", None)


DOWN = Message("allegro.transient", what="503")


def test_failures_back_off_doubling_up_to_half_an_hour(channel: Channel):
    now = timezone.now()
    FlowState.objects.create(channel=channel, flow="orders", due_at=now)
    delays = []
    for _attempt in range(9):
        row = state(channel)
        claim = schedule.claim(row, ORDERS, row.due_at)
        assert claim is not None
        assert schedule.finish_failed(claim, row.due_at, DOWN)
        delays.append((state(channel).due_at - row.due_at).total_seconds())

    assert delays == [15, 30, 60, 120, 240, 480, 960, 1800, 1800]
    row = state(channel)
    assert (row.failures, row.last_error) == (9, DOWN)
    assert row.last_success_at is None


def test_a_429_waits_at_least_what_allegro_asked(channel: Channel):
    now = timezone.now()
    FlowState.objects.create(channel=channel, flow="orders", due_at=now)
    claim = schedule.claim(state(channel), ORDERS, now)
    assert claim is not None

    schedule.finish_failed(claim, now, Message.literal("429"), retry_after=90)

    assert state(channel).due_at == now + timedelta(seconds=90)


def test_request_run_moves_the_next_run_earlier_never_later(channel: Channel):
    now = timezone.now()
    schedule.request_run(channel.pk, "orders")  # no row yet: one is made, due now
    row = state(channel)
    assert row.due_at <= timezone.now()
    assert row.trigger == schedule.REQUEST

    FlowState.objects.filter(pk=row.pk).update(due_at=now, trigger="")
    schedule.request_run(channel.pk, "orders", delay=30, trigger=schedule.CHANGE)
    assert (state(channel).due_at, state(channel).trigger) == (now, "")


def test_a_request_during_a_run_makes_it_run_once_more(channel: Channel):
    now = timezone.now()
    FlowState.objects.create(channel=channel, flow="orders", due_at=now)
    claim = schedule.claim(state(channel), ORDERS, now)
    assert claim is not None

    schedule.request_run(channel.pk, "orders", delay=2, trigger=schedule.CHANGE)
    asked = state(channel).due_at
    schedule.finish_ok(claim, timezone.now(), ORDERS, now)

    row = state(channel)
    assert row.due_at == asked  # not pushed back to a minute later
    assert row.trigger == schedule.CHANGE
    again = schedule.claim(row, ORDERS, asked)
    assert again is not None
    assert again.trigger == schedule.CHANGE


def test_interrupted_runs_are_due_again_at_once(channel: Channel):
    now = timezone.now()
    FlowState.objects.create(channel=channel, flow="orders", due_at=now, failures=2)
    claim = schedule.claim(state(channel), ORDERS, now)
    assert claim is not None

    schedule.finish_interrupted(claim, now)

    row = state(channel)
    assert (row.due_at, row.failures, row.lease_owner) == (now, 2, "")


def test_old_runs_are_pruned(channel: Channel, settings):
    settings.HUB_RUN_HISTORY_DAYS = 7
    now = timezone.now()
    for days in (10, 8, 6, 0):
        FlowRun.objects.create(
            channel=channel,
            flow="orders",
            trigger="schedule",
            worker="w",
            started_at=now - timedelta(days=days),
        )

    assert schedule.prune_runs(now) == 2

    ages = sorted((now - r.started_at).days for r in FlowRun.objects.all())
    assert ages == [0, 6]
