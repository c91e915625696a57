"""The migration that stores runs' errors as codes: the runner's own English
texts and Allegro's become codes, anything else stays as it was."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone, translation

from hub.allegro.models import Channel
from hub.jobs.models import FlowRun, FlowState
from hub.text.message import Message

BEFORE = [("jobs", "0002_flowrun_rate_limited_flowrun_requests_and_more")]
AFTER = [("jobs", "0003_stored_messages")]


@pytest.mark.django_db(transaction=True)
def test_old_errors_become_codes() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    try:
        old = MigrationExecutor(connection).loader.project_state(BEFORE).apps
        # allegro stays migrated: its current model, the old runner tables.
        channel = Channel.objects.create(name="Shop")
        runs = old.get_model("jobs", "FlowRun")
        now = timezone.now()
        for error in (
            "Unexpected error (KeyError): 'id'",
            "The worker running this stopped; another one took over.",
            "Allegro could not be reached or had a temporary problem (HTTP 503). "
            "The hub will try again automatically.",
            "Something else entirely.",
            "",
        ):
            runs.objects.create(
                channel_id=channel.pk, flow="orders", trigger="schedule", worker="w",
                started_at=now, error=error,
            )  # fmt: skip
        old.get_model("jobs", "FlowState").objects.create(
            channel_id=channel.pk, flow="orders", due_at=now,
            last_error="Allegro rejected the refresh token; reconnect the channel",
        )  # fmt: skip

        MigrationExecutor(connection).migrate(AFTER)

        assert [run.error for run in FlowRun.objects.order_by("pk")] == [
            Message("jobs.unexpected", kind="KeyError", text="'id'"),
            Message("jobs.worker_lost"),
            Message("allegro.transient", what="HTTP 503"),
            Message.literal("Something else entirely."),
            Message(),
        ]
        state = FlowState.objects.get()
        assert state.last_error == Message("allegro.refresh_rejected")
        with translation.override("pl"):
            lost = str(FlowRun.objects.order_by("pk")[1].error)
        assert lost.startswith("Proces")
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
