"""Celery tasks: the same schedule and flows as the embedded runner, spread over
any number of `allegro-hub worker` processes, with `allegro-hub beat` ticking.

- ``dispatch`` (beat, every ``HUB_DISPATCH_SECONDS``): schedule rows, change
  triggers, then one ``run_flow`` message per due (channel, flow). The row is
  marked queued (not due again for a lease) in the transaction whose commit
  sends the message, so the next tick does not send it twice, and a message
  lost with a broker or a worker is sent again once that time has passed.
- ``run_flow(channel_id, flow)``: takes the lease and runs the flow
  (hub/jobs/execute.py). A duplicate finds the lease taken, or runs the flow
  once more, which the flows make harmless.
- ``prune`` (beat, hourly): forgets old runs.

Tasks take ids only; the database is the source of truth. When the worker is
asked to stop (SIGTERM), running flows stop at their next page.
"""

from __future__ import annotations

import logging
import threading
from functools import partial
from typing import Any

from celery import shared_task
from celery.signals import worker_ready, worker_shutting_down
from django.db import connection, transaction
from django.utils import timezone

from hub.allegro.auth import resume_interrupted_refreshes
from hub.jobs import schedule
from hub.jobs.execute import execute
from hub.jobs.models import FlowState
from hub.jobs.registry import FLOWS, get_flow

log = logging.getLogger("hub.jobs")

DISPATCH_BATCH = 500
STOPPING = threading.Event()


@shared_task(name="hub.jobs.dispatch", ignore_result=True)
def dispatch() -> int:
    """Send every due flow to the workers once; returns how many were sent."""
    now = timezone.now()
    schedule.ensure_states(FLOWS, now)
    schedule.poll_pending(FLOWS, now)
    sent = 0
    for row in schedule.due_states(FLOWS, now, DISPATCH_BATCH):
        with transaction.atomic():
            if schedule.mark_queued(row, now):
                transaction.on_commit(partial(send_run, row.channel_id, row.flow))
                sent += 1
    return sent


def send_run(channel_id: int, flow: str) -> None:
    # Unrun after a lease, the row is due again and dispatched anew.
    expires = schedule.lease().total_seconds()
    run_flow.apply_async((channel_id, flow), expires=expires)


@shared_task(name="hub.jobs.run_flow", ignore_result=True)
def run_flow(channel_id: int, flow_name: str) -> str:
    """Run one flow of one channel unless another worker is running it."""
    try:
        flow = get_flow(flow_name)
    except KeyError:  # sent by a version that had this flow
        log.warning("Unknown flow %s; message dropped", flow_name)
        return "unknown"
    row = FlowState.objects.filter(channel_id=channel_id, flow=flow_name).first()
    if row is None:
        return "gone"
    claim = schedule.claim(row, flow, timezone.now(), due_only=False)
    if claim is None:
        return "busy"
    run = execute(claim, flow, stop=STOPPING)
    return run.outcome if run is not None else "gone"


@shared_task(name="hub.jobs.prune", ignore_result=True)
def prune() -> int:
    return schedule.prune_runs(timezone.now())


@worker_ready.connect
def resume_refreshes(**_kwargs: Any) -> None:
    """At start, finish token refreshes a crash interrupted (hub.allegro.auth)."""

    def resume() -> None:
        try:
            resume_interrupted_refreshes()
        except Exception:
            log.exception("Resuming interrupted token refreshes failed")
        finally:
            connection.close()

    threading.Thread(target=resume, name="hub-token-resume", daemon=True).start()


@worker_shutting_down.connect
def stop_flows(**_kwargs: Any) -> None:
    STOPPING.set()
