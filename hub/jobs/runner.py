"""The embedded runner: the worker inside `allegro-hub run` (and the demo).

A loop thread wakes every ``tick`` seconds and:

1. makes sure every runnable channel has a schedule row per flow;
2. asks each flow with a ``pending`` check whether there is work, and if so
   moves its next run to ``HUB_TRIGGER_DEBOUNCE`` seconds from now;
3. claims due flows (conditional UPDATE, hub/jobs/schedule.py) while a worker
   thread is free, and runs them on a pool of ``HUB_WORKER_THREADS`` threads;
4. once an hour, forgets runs older than ``HUB_RUN_HISTORY_DAYS``.

``stop()`` stops claiming, tells the running flows to stop at their next page
(a page either committed or rolled back, nothing half-done), and waits.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone

from hub.allegro.client import client_for_channel
from hub.jobs import schedule
from hub.jobs.execute import ClientFactory, execute
from hub.jobs.models import FlowState
from hub.jobs.registry import FLOWS, Flow

log = logging.getLogger("hub.jobs")

PRUNE_EVERY = 3600.0


class Runner:
    def __init__(
        self,
        *,
        flows: Sequence[Flow] = FLOWS,
        threads: int | None = None,
        tick: float = 1.0,
        client_factory: ClientFactory = client_for_channel,
    ) -> None:
        self.flows = list(flows)
        self.threads = threads or settings.HUB_WORKER_THREADS
        self.tick_seconds = tick
        self.client_factory = client_factory
        self._by_name = {flow.name: flow for flow in self.flows}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._running: set[Future[None]] = set()
        self._pruned_at = 0.0

    def start(self) -> None:
        self._stop.clear()
        self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="hub-flow")
        self._thread = threading.Thread(target=self._loop, name="hub-runner")
        self._thread.start()
        log.info("Runner started: %d worker threads", self.threads)

    def stop(self, timeout: float = 60) -> None:
        """Stop claiming; running flows stop at their next page; wait for them."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        log.info("Runner stopped")

    @property
    def busy(self) -> int:
        self._running = {f for f in self._running if not f.done()}
        return len(self._running)

    def _loop(self) -> None:
        try:
            while not self._stop.is_set():
                close_old_connections()
                try:
                    self.tick()
                except Exception:  # a bad tick must not end the loop
                    log.exception("Runner tick failed")
                self._stop.wait(self.tick_seconds)
        finally:
            connection.close()

    def tick(self) -> int:
        """One round: schedule rows, change triggers, claims. Returns runs started."""
        now = timezone.now()
        schedule.ensure_states(self.flows, now)
        self._poll_pending(now)
        if time.monotonic() - self._pruned_at > PRUNE_EVERY:
            schedule.prune_runs(now)
            self._pruned_at = time.monotonic()
        started = 0
        free = self.threads - self.busy
        if free <= 0:
            return 0
        for row in schedule.due_states(self.flows, now, free):
            flow = self._by_name[row.flow]
            claim = schedule.claim(row, flow, now)
            if claim is None or self._stop.is_set():
                if claim is not None:
                    schedule.finish_interrupted(claim, now)
                continue
            assert self._pool is not None
            self._running.add(self._pool.submit(self._run, claim, flow))
            started += 1
        return started

    def _poll_pending(self, now: datetime) -> None:
        checks = [flow for flow in self.flows if flow.pending is not None]
        if not checks:
            return
        delay = settings.HUB_TRIGGER_DEBOUNCE
        soon = now + timedelta(seconds=delay)
        # Only rows not already due within the debounce and not running.
        rows = FlowState.objects.filter(
            flow__in=[flow.name for flow in checks],
            due_at__gt=soon,
            lease_owner="",
            channel__in=schedule.runnable_channels(),
        ).values_list("channel_id", "flow")
        for channel_id, name in rows:
            pending = self._by_name[name].pending
            if pending is not None and pending(channel_id):
                schedule.request_run(
                    channel_id, name, delay=delay, trigger=schedule.CHANGE
                )

    def _run(self, claim: schedule.Claim, flow: Flow) -> None:
        close_old_connections()
        try:
            execute(claim, flow, client_factory=self.client_factory, stop=self._stop)
        except Exception:
            log.exception("Flow %s of channel %s crashed", flow.name, claim.channel_id)
        finally:
            connection.close()
