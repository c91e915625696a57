"""Run one claimed flow of one channel and record it: the same code for the
embedded loop, the Celery task and `allegro-hub sync`."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from types import TracebackType

from django.db import DatabaseError, connection
from django.utils import timezone
from django.utils.translation import gettext as _

from hub.allegro.client import AllegroClient, client_for_channel
from hub.allegro.errors import AllegroError, RateLimited
from hub.allegro.models import Channel
from hub.jobs import schedule, texts
from hub.jobs.models import FlowRun
from hub.jobs.registry import Flow, Progress
from hub.text.message import Message

log = logging.getLogger("hub.jobs")

ClientFactory = Callable[[Channel], AllegroClient]


class Interrupted(Exception):
    """The process is stopping; raised from ``progress`` between two pages."""


def execute(
    claim: schedule.Claim,
    flow: Flow,
    *,
    client_factory: ClientFactory = client_for_channel,
    stop: threading.Event | None = None,
    progress: Progress | None = None,
) -> FlowRun | None:
    """Run the claimed flow, record the run, release the lease.

    Never raises for a failing flow: the failure is in the returned run (and on
    the schedule, which backs off). None if the channel was deleted meanwhile.
    """
    channel = Channel.objects.filter(pk=claim.channel_id).first()
    if channel is None:
        return None
    run = FlowRun.objects.create(
        channel=channel,
        flow=flow.name,
        trigger=claim.trigger,
        worker=claim.owner,
        started_at=timezone.now(),
    )

    def say(text: str) -> None:
        if stop is not None and stop.is_set():
            raise Interrupted
        log.debug("%s · %s: %s", channel.name, flow.name, text)
        if progress is not None:
            progress(text)

    retry_after = None
    client = None
    try:
        with Heartbeat(claim.owner), client_factory(channel) as client:
            say(_("started"))
            result = flow.run(channel.pk, client, say)
    except Interrupted:
        run.outcome = FlowRun.Outcome.INTERRUPTED
        run.summary = _("Stopped by a shutdown; runs again on the next start.")
    except AllegroError as exc:
        run.outcome = FlowRun.Outcome.FAILED
        run.error = exc.user_message()
        if isinstance(exc, RateLimited):
            retry_after = exc.retry_after
    except Exception as exc:
        log.exception("%s · %s failed", channel.name, flow.name)
        run.outcome = FlowRun.Outcome.FAILED
        run.error = Message(
            texts.UNEXPECTED, kind=type(exc).__name__, text=str(exc)[:500]
        )
    else:
        run.outcome = FlowRun.Outcome.OK
        run.summary = result.summary
        run.counts = dict(result.counts)
    run.finished_at = timezone.now()
    if client is not None:
        run.requests, run.rate_limited = client.requests_sent, client.rate_limited
    if run.outcome == FlowRun.Outcome.OK and any(run.counts.values()):
        log.info("%s · %s: %s", channel.name, flow.name, run.summary)
    elif run.outcome == FlowRun.Outcome.FAILED:
        log.warning("%s · %s: %s", channel.name, flow.name, run.error)
    try:
        record(run, claim, flow, retry_after)
    except DatabaseError as exc:
        # The database is failing too: the lease runs out by itself and the
        # flow runs again; the caller still gets what happened.
        log.error("%s · %s: could not record the run: %s", channel.name, flow.name, exc)
    return run


def record(
    run: FlowRun, claim: schedule.Claim, flow: Flow, retry_after: float | None
) -> None:
    """Save the finished run and release the lease with the next run's time."""
    fields = ["outcome", "summary", "counts", "error", "finished_at"]
    run.save(update_fields=[*fields, "requests", "rate_limited"])
    failed = run.outcome == FlowRun.Outcome.FAILED
    schedule.count_run(claim, run.requests, run.rate_limited, failed)
    assert run.finished_at is not None
    if run.outcome == FlowRun.Outcome.OK:
        schedule.finish_ok(claim, run.finished_at, flow, run.started_at)
    elif run.outcome == FlowRun.Outcome.INTERRUPTED:
        schedule.finish_interrupted(claim, run.finished_at)
    else:
        schedule.finish_failed(claim, run.finished_at, run.error, retry_after)


class Heartbeat:
    """Renews a claim's lease every third of the lease while the block runs."""

    def __init__(self, owner: str) -> None:
        self.owner = owner
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._beat, name="hub-jobs-heartbeat", daemon=True
        )

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()

    def _beat(self) -> None:
        every = schedule.lease().total_seconds() / 3
        used_db = False
        try:
            while not self._stop.wait(every):
                used_db = True
                try:
                    schedule.renew([self.owner])
                except Exception:  # the next beat tries again; the lease is long
                    log.warning("Could not renew the lease of %s", self.owner)
        finally:
            if used_db:
                connection.close()  # this thread's own connection


def run_flows_now(
    channel: Channel,
    flows: list[Flow],
    *,
    client_factory: ClientFactory = client_for_channel,
    progress: Progress | None = None,
) -> list[tuple[Flow, FlowRun | None]]:
    """Run these flows of one channel now, in order (the sync command).

    A flow another worker is running right now is not started twice: its entry
    has None for the run.
    """
    done: list[tuple[Flow, FlowRun | None]] = []
    for flow in flows:
        found = schedule.claim_now(channel, flow)
        if found is None:
            done.append((flow, None))
            continue
        done.append(
            (
                flow,
                execute(found, flow, client_factory=client_factory, progress=progress),
            )
        )
    return done
