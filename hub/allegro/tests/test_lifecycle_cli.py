"""`allegro-hub sync NAME --only lifecycle [--dry-run]` over real HTTP."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from hub.allegro.models import ListingEvent, PendingAction
from hub.allegro.tests.lifecycle_helpers import PUB, item, listed, sent

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.fixture
def ending(emulator, channel_http):
    channel_http.end_listings = True
    channel_http.no_manual_confirmation = True
    channel_http.save()
    return listed(emulator, channel_http, item("A", 0))


def test_dry_run_lists_what_would_end_and_sends_nothing(emulator, channel_http, ending):
    before = len(emulator.requests)

    out = run("sync", channel_http.name, "--only", "lifecycle", "--dry-run")

    assert "dry run" in out
    assert f"End: {ending.offer_id}" in out
    assert "Out of stock (available 0)." in out
    assert len(emulator.requests) == before
    assert PendingAction.objects.count() == 0
    assert ListingEvent.objects.count() == 0


def test_lifecycle_pass_ends_and_says_so(emulator, channel_http, ending):
    out = run("sync", channel_http.name, "--only", "lifecycle")

    assert "lifecycle: 1 ended" in out
    assert len(sent(emulator, PUB)) == 1


def test_dry_run_needs_the_lifecycle_flow_only(channel_http):
    with pytest.raises(CommandError, match="--dry-run"):
        run("sync", channel_http.name, "--only", "orders", "--dry-run")


def test_dry_run_with_nothing_to_do(channel_http):
    out = run("sync", channel_http.name, "--only", "lifecycle", "--dry-run")
    assert "Nothing would be ended or relisted." in out
