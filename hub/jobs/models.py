"""What runs when, per channel and flow, and what each run did.

- ``FlowState``: the schedule and the lease of one flow of one channel. A worker
  owns the flow while ``lease_owner`` is its claim and ``lease_until`` is in the
  future; the claim is a conditional UPDATE (hub/jobs/schedule.py).
- ``FlowRun``: one run, kept for ``HUB_RUN_HISTORY_DAYS``.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hub.allegro.models import Channel
from hub.text.fields import MessageField


class FlowState(models.Model):
    channel = models.ForeignKey(
        Channel, on_delete=models.CASCADE, related_name="flow_states"
    )
    flow = models.CharField(max_length=32)
    # The next run; "Sync now" and change triggers only ever move it earlier.
    due_at = models.DateTimeField()
    # Why it was moved earlier ("request", "change"); empty = on schedule.
    trigger = models.CharField(max_length=16, blank=True)
    # "host:pid:uuid" of the claim holding the flow; empty = free.
    lease_owner = models.CharField(max_length=120, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    failures = models.PositiveIntegerField(default=0)  # in a row, for back-off
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    # hub.text.message: shown in the reader's language
    last_error = MessageField()
    last_error_at = models.DateTimeField(null=True, blank=True)
    # Ever-growing totals, for /metrics (Prometheus counters).
    runs_total = models.PositiveBigIntegerField(default=0)
    failures_total = models.PositiveBigIntegerField(default=0)
    requests_total = models.PositiveBigIntegerField(default=0)
    rate_limited_total = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "flow"], name="one_state_per_channel_flow"
            )
        ]
        indexes = [models.Index(fields=["due_at"], name="flowstate_due")]

    def __str__(self) -> str:
        return f"{self.channel_id}:{self.flow}"


class FlowRun(models.Model):
    class Outcome(models.TextChoices):
        RUNNING = "running", _("running")
        OK = "ok", _("done")
        FAILED = "failed", _("failed")
        # Stopped by a shutdown between two pages: nothing half-done, runs again.
        INTERRUPTED = "interrupted", _("interrupted")
        # Its worker died; another one took the flow over.
        LOST = "lost", _("worker lost")

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="runs")
    flow = models.CharField(max_length=32)
    trigger = models.CharField(max_length=16)  # schedule, request, change, command
    worker = models.CharField(max_length=120)  # the claim (lease_owner) it ran under
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(
        max_length=16, choices=Outcome.choices, default=Outcome.RUNNING
    )
    summary = models.TextField(blank=True)
    counts = models.JSONField(default=dict, blank=True)
    error = MessageField()  # hub.text.message: shown in the reader's language
    requests = models.PositiveIntegerField(default=0)  # sent to Allegro
    rate_limited = models.PositiveIntegerField(default=0)  # 429s among them

    class Meta:
        indexes = [
            models.Index(
                fields=["channel", "flow", "-started_at"], name="flowrun_last"
            ),
            models.Index(fields=["started_at"], name="flowrun_started"),
        ]

    def __str__(self) -> str:
        return f"{self.flow} of {self.channel_id} at {self.started_at}"
