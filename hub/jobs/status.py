"""How each channel's flows are doing, for the dashboard and /metrics: last
success, whether it is older than it should be, the current failure and when
the next attempt is. One query for all channels."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.functional import Promise

from hub.allegro.models import Channel
from hub.jobs.models import FlowState
from hub.jobs.registry import FLOWS, Flow
from hub.text.message import Message


@dataclass(frozen=True)
class FlowHealth:
    name: str
    label: str | Promise
    last_success_at: datetime | None
    stale: bool  # no success for longer than the flow allows (Flow.stale_after)
    error: Message  # the failure since the last success, in the seller's words
    failures: int  # attempts failed in a row
    next_at: datetime | None  # the next run (or retry)
    running: bool


def flow_health(
    channels: Iterable[Channel], flows: Iterable[Flow] = FLOWS
) -> dict[int, list[FlowHealth]]:
    """Channel id → one line per flow that applies to it, in registry order."""
    channels = list(channels)
    now = timezone.now()
    states = {
        (row.channel_id, row.flow): row
        for row in FlowState.objects.filter(channel__in=channels)
    }
    health: dict[int, list[FlowHealth]] = {}
    for channel in channels:
        lines = []
        for flow in flows:
            if not flow.applies(channel):
                continue
            row = states.get((channel.pk, flow.name))
            last = row.last_success_at if row else None
            # A flow never run is stale once the channel has been around long
            # enough to have run it.
            since = last or channel.created_at
            lines.append(
                FlowHealth(
                    name=flow.name,
                    label=flow.label,
                    last_success_at=last,
                    stale=now - since > flow.stale_after,
                    error=row.last_error if row and row.failures else Message(),
                    failures=row.failures if row else 0,
                    next_at=row.due_at if row else None,
                    running=bool(
                        row and row.lease_until is not None and row.lease_until > now
                    ),
                )
            )
        health[channel.pk] = lines
    return health
