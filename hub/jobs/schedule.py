"""Schedule and leases: which (channel, flow) is due, and who runs it.

One ``FlowState`` row per (channel, flow). Every transition is one conditional
UPDATE, so it works the same on SQLite and PostgreSQL, between threads and
between processes on any number of machines:

- claim: ``due_at <= now`` and the lease free or expired → ours for
  ``HUB_LEASE_SECONDS``, renewed by a heartbeat while the run lasts. A worker
  killed mid-run stops renewing, and the next worker takes the flow over when
  the lease runs out (at once when the holder was a process of this machine
  that no longer exists). The run it left is marked "worker lost".
- finish: only the claim holding the lease can finish it; the next run is due
  after the flow's interval, or after a back-off when it failed.
- ``request_run``: moves the next run earlier ("Sync now", a change). Safe
  inside a transaction and while a run is going on (it then runs once more).
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Case, F, Q, QuerySet, Value, When
from django.utils import timezone

from hub.allegro.models import Channel
from hub.jobs import texts
from hub.jobs.models import FlowRun, FlowState
from hub.jobs.registry import Flow
from hub.text.message import Message

RETRY_FIRST = timedelta(seconds=15)
RETRY_MAX = timedelta(minutes=30)

SCHEDULE = "schedule"
REQUEST = "request"
CHANGE = "change"
COMMAND = "command"


@dataclass(frozen=True)
class Claim:
    state_id: int
    channel_id: int
    flow: str
    owner: str
    trigger: str


def lease() -> timedelta:
    return timedelta(seconds=settings.HUB_LEASE_SECONDS)


def new_owner() -> str:
    """A claim id: this machine, this process, and a unique part."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def owner_gone(owner: str) -> bool:
    """True when ``owner`` was a process of this machine that no longer runs."""
    host, _sep, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # it exists, owned by someone else
        return False
    return False


def runnable_channels() -> QuerySet[Channel]:
    """Channels whose flows run: enabled, connected, tokens not refused."""
    return Channel.objects.filter(enabled=True, needs_reconnect=False).exclude(
        refresh_token_encrypted=""
    )


def ensure_states(flows: Sequence[Flow], now: datetime) -> int:
    """A schedule row for every (runnable channel, flow applying to it); due now."""
    existing = set(FlowState.objects.values_list("channel_id", "flow"))
    missing = [
        FlowState(channel=channel, flow=flow.name, due_at=now)
        for channel in runnable_channels()
        for flow in flows
        if (channel.pk, flow.name) not in existing and flow.applies(channel)
    ]
    FlowState.objects.bulk_create(missing, ignore_conflicts=True)
    return len(missing)


def due_states(flows: Sequence[Flow], now: datetime, limit: int) -> list[FlowState]:
    """Up to ``limit`` due rows that some worker may claim, the most overdue first."""
    by_name = {flow.name: flow for flow in flows}
    rows = (
        FlowState.objects.filter(
            due_at__lte=now,
            flow__in=list(by_name),
            channel__in=runnable_channels(),
        )
        .select_related("channel")
        .order_by("due_at")[: limit * 4]
    )
    due = [
        row
        for row in rows
        if by_name[row.flow].applies(row.channel)
        and (not _held(row, now) or owner_gone(row.lease_owner))
    ]
    return due[:limit]


def _free(now: datetime) -> Q:
    return Q(lease_until__isnull=True) | Q(lease_until__lt=now)


def _held(row: FlowState, now: datetime) -> bool:
    return (
        bool(row.lease_owner) and row.lease_until is not None and row.lease_until >= now
    )


def poll_pending(flows: Sequence[Flow], now: datetime) -> int:
    """Ask each flow with a ``pending`` check whether a channel has work; if so,
    run it ``HUB_TRIGGER_DEBOUNCE`` seconds from now. Returns how many asked."""
    checks = {flow.name: flow.pending for flow in flows if flow.pending is not None}
    if not checks:
        return 0
    delay = settings.HUB_TRIGGER_DEBOUNCE
    # Only rows not already due within the debounce, and not running: a change
    # during a run is seen again once the run ends.
    rows = FlowState.objects.filter(
        flow__in=list(checks),
        due_at__gt=now + timedelta(seconds=delay),
        lease_owner="",
        channel__in=runnable_channels(),
    ).values_list("channel_id", "flow")
    asked = 0
    for channel_id, name in rows:
        pending = checks[name]
        if pending is not None and pending(channel_id):
            request_run(channel_id, name, delay=delay, trigger=CHANGE)
            asked += 1
    return asked


def mark_queued(row: FlowState, now: datetime) -> bool:
    """Beat enqueued this row: not due again for a lease, unless run meanwhile.

    A compare-and-swap on the due time it saw, so two beats enqueue it once.
    """
    queued = FlowState.objects.filter(pk=row.pk, due_at=row.due_at).update(
        due_at=now + lease()
    )
    return queued == 1


def claim(
    row: FlowState, flow: Flow, now: datetime, *, due_only: bool = True
) -> Claim | None:
    """Take the flow of this row for a new claim, or None if another has it.

    The lease is taken only if it is free or expired, or if its holder was a
    process of this machine that is gone (compare-and-swap on that holder).
    ``due_only=False`` (the sync command) runs it even if not due yet.
    """
    if _held(row, now):
        if not owner_gone(row.lease_owner):
            return None
        condition = Q(lease_owner=row.lease_owner)
    else:
        condition = _free(now)
    query = FlowState.objects.filter(condition, pk=row.pk)
    if due_only:
        query = query.filter(due_at__lte=now)
    owner = new_owner()
    taken = query.update(
        lease_owner=owner,
        lease_until=now + lease(),
        # The next run, unless a request during this one moves it earlier.
        due_at=now + flow.every,
        trigger="",
        last_started_at=now,
    )
    if not taken:
        return None
    if row.lease_owner:
        FlowRun.objects.filter(
            worker=row.lease_owner, outcome=FlowRun.Outcome.RUNNING
        ).update(
            outcome=FlowRun.Outcome.LOST,
            finished_at=now,
            error=Message(texts.WORKER_LOST),
        )
    return Claim(
        state_id=row.pk,
        channel_id=row.channel_id,
        flow=row.flow,
        owner=owner,
        trigger=row.trigger or SCHEDULE,
    )


def claim_now(channel: Channel, flow: Flow) -> Claim | None:
    """Claim a flow of a channel whether due or not (the sync command)."""
    now = timezone.now()
    row, _created = FlowState.objects.get_or_create(
        channel=channel, flow=flow.name, defaults={"due_at": now}
    )
    found = claim(row, flow, now, due_only=False)
    if found is None:
        return None
    return Claim(found.state_id, found.channel_id, found.flow, found.owner, COMMAND)


def renew(owners: Iterable[str]) -> int:
    """Heartbeat: extend the leases still held by these claims."""
    owners = list(owners)
    if not owners:
        return 0
    return FlowState.objects.filter(lease_owner__in=owners).update(
        lease_until=timezone.now() + lease()
    )


def finish_ok(claim: Claim, now: datetime, flow: Flow, started: datetime) -> bool:
    """Release the lease after a good run; False if the claim had lost it.

    The data is as fresh as the run's start, so that is its last success.
    """
    return _release(
        claim,
        due_at=_unless_requested(now + flow.every),
        failures=0,
        last_success_at=started,
        last_error="",
        last_error_at=None,
    )


def finish_failed(
    claim: Claim, now: datetime, error: Message, retry_after: float | None = None
) -> bool:
    """Release the lease after a failure; back off before the next attempt."""
    row = FlowState.objects.filter(pk=claim.state_id).values("failures").first()
    failures = (row["failures"] if row else 0) + 1
    delay = backoff(failures)
    if retry_after is not None:
        delay = max(delay, timedelta(seconds=retry_after))
    return _release(
        claim,
        due_at=_unless_requested(now + delay),
        failures=failures,
        last_error=error,
        last_error_at=now,
    )


def finish_interrupted(claim: Claim, now: datetime) -> bool:
    """Stopped by a shutdown: due again at once, on the next start."""
    return _release(claim, due_at=now)


def count_run(claim: Claim, requests: int, rate_limited: int, failed: bool) -> None:
    """Add a run to the (channel, flow) totals that /metrics reports."""
    FlowState.objects.filter(pk=claim.state_id).update(
        runs_total=F("runs_total") + 1,
        failures_total=F("failures_total") + int(failed),
        requests_total=F("requests_total") + requests,
        rate_limited_total=F("rate_limited_total") + rate_limited,
    )


def backoff(failures: int) -> timedelta:
    """15 s, 30 s, 1 min, 2 min … at most 30 min between attempts."""
    return min(RETRY_FIRST * 2 ** max(failures - 1, 0), RETRY_MAX)


def _unless_requested(due_at: datetime) -> Case:
    # A request during the run (trigger set after the claim cleared it) keeps
    # the earlier time it asked for.
    return Case(When(trigger="", then=Value(due_at)), default=F("due_at"))


def _release(claim: Claim, **fields: object) -> bool:
    released = FlowState.objects.filter(
        pk=claim.state_id, lease_owner=claim.owner
    ).update(lease_owner="", lease_until=None, **fields)
    return released == 1


def request_run(
    channel_id: int, flow: str, *, delay: float = 0, trigger: str = REQUEST
) -> None:
    """Run this flow of this channel within ``delay`` seconds (never later than
    it would have run anyway). Does nothing for a channel that cannot run."""
    now = timezone.now()
    target = now + timedelta(seconds=delay)
    moved = FlowState.objects.filter(
        channel_id=channel_id, flow=flow, due_at__gt=target
    ).update(due_at=target, trigger=trigger)
    if (
        not moved
        and not FlowState.objects.filter(channel_id=channel_id, flow=flow).exists()
    ):
        FlowState.objects.bulk_create(
            [
                FlowState(
                    channel_id=channel_id, flow=flow, due_at=target, trigger=trigger
                )
            ],
            ignore_conflicts=True,
        )


def prune_runs(now: datetime) -> int:
    """Forget runs older than HUB_RUN_HISTORY_DAYS."""
    cutoff = now - timedelta(days=settings.HUB_RUN_HISTORY_DAYS)
    deleted, _per_model = FlowRun.objects.filter(started_at__lt=cutoff).delete()
    return deleted
