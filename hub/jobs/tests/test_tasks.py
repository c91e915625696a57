"""Celery tasks called in-process: dispatch sends each due flow once, run_flow
runs it under the lease."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from hub.allegro.models import Channel
from hub.allegro.tests.fixtures import HubEmulator
from hub.jobs import schedule, tasks
from hub.jobs.models import FlowRun, FlowState
from hub.jobs.registry import FLOWS, get_flow
from hub.orders.models import Order

pytestmark = pytest.mark.django_db


def sent_messages(callbacks: list[Any]) -> list[tuple[int, str]]:
    return [(cb.args[0], cb.args[1]) for cb in callbacks]


def test_dispatch_sends_each_due_flow_once_on_commit(
    channel: Channel, django_capture_on_commit_callbacks: Any
):
    every = [(channel.pk, flow.name) for flow in FLOWS]
    with django_capture_on_commit_callbacks() as first:
        assert tasks.dispatch() == len(every)
    with django_capture_on_commit_callbacks() as second:
        assert tasks.dispatch() == 0  # queued: not due again for a lease

    assert sorted(sent_messages(first)) == sorted(every)
    assert second == []
    row = FlowState.objects.get(channel=channel, flow="orders")
    assert row.due_at > timezone.now() + timedelta(seconds=50)
    assert row.lease_owner == ""  # the worker takes the lease, not beat


def test_a_lost_message_is_sent_again_after_a_lease(
    channel: Channel, django_capture_on_commit_callbacks: Any
):
    with django_capture_on_commit_callbacks():
        tasks.dispatch()
    FlowState.objects.filter(flow="orders").update(
        due_at=timezone.now() - timedelta(seconds=1)
    )

    with django_capture_on_commit_callbacks() as again:
        assert tasks.dispatch() == 1

    assert sent_messages(again) == [(channel.pk, "orders")]


def test_run_flow_imports_orders_and_records_the_run(
    emulator: HubEmulator, channel_http: Channel
):
    offer = emulator.add_offer(emulator.seller_id, "Kubek", quantity=5)
    assert tasks.run_flow(channel_http.pk, "orders") == "gone"  # no schedule row
    schedule.ensure_states([get_flow("orders")], timezone.now())
    assert tasks.run_flow(channel_http.pk, "orders") == "ok"  # journal starts
    form = emulator.purchase(offer)

    assert tasks.run_flow(channel_http.pk, "orders") == "ok"

    assert list(Order.objects.values_list("external_id", flat=True)) == [form]
    last = FlowRun.objects.order_by("id").last()
    assert last is not None
    assert last.counts["created"] == 1
    assert last.requests >= 2  # the journal, the form
    assert last.rate_limited == 0
    row = FlowState.objects.get(channel=channel_http)
    assert (row.runs_total, row.failures_total) == (2, 0)
    assert row.requests_total >= 3


def test_run_flow_leaves_a_flow_another_worker_runs_alone(
    emulator: HubEmulator, channel_http: Channel
):
    now = timezone.now()
    schedule.ensure_states([get_flow("orders")], now)
    held = schedule.claim(FlowState.objects.get(), get_flow("orders"), now)
    assert held is not None

    assert tasks.run_flow(channel_http.pk, "orders") == "busy"
    assert tasks.run_flow(channel_http.pk, "teleport") == "unknown"

    assert FlowRun.objects.count() == 0
    assert emulator.requests == []
