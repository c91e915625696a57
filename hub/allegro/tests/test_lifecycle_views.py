"""The confirmation screen: approve/reject one by one and in bulk, strike off /
restore, the dry-run button; bad input changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from hub.allegro.models import Channel, Listing, ListingEvent, PendingAction
from hub.allegro.sync.lifecycle import sync_lifecycle
from hub.allegro.tests.lifecycle_helpers import PUB, item, listed, sent

pytestmark = pytest.mark.django_db
State = PendingAction.State


@pytest.fixture
def plans(channel, allegro_client, emulator):
    channel.end_listings = True
    channel.save()
    listings = [listed(emulator, channel, item(f"S{i}", 0)) for i in range(3)]
    sync_lifecycle(channel.pk, allegro_client)
    return listings


def page(client, channel, **params):
    return client.get(reverse("channel_lifecycle", args=[channel.pk]), params)


def decide(client, channel, data):
    url = reverse("channel_lifecycle_decide", args=[channel.pk])
    return client.post(url, data, follow=True)


def states():
    return list(PendingAction.objects.order_by("pk").values_list("state", flat=True))


def test_screen_lists_waiting_plans_with_their_reason(logged_in_client, channel, plans):
    html = page(logged_in_client, channel).content.decode()

    for listing in plans:
        assert listing.offer_id in html
    assert "Out of stock (available 0)." in html
    assert html.count('name="action"') == 3


def test_approve_one_reject_one(logged_in_client, user, channel, plans):
    first, second, _third = PendingAction.objects.order_by("pk")

    decide(logged_in_client, channel, {"decision": "approve", "action": [first.pk]})
    response = decide(
        logged_in_client, channel, {"decision": "reject", "action": [second.pk]}
    )

    assert states() == ["APPROVED", "REJECTED", "WAITING"]
    first.refresh_from_db()
    assert first.decided_by_id == user.pk
    assert "1 plan rejected" in response.content.decode()


def test_approve_all_then_the_pass_ends_them_in_one_command(
    logged_in_client, channel, plans, allegro_client, emulator
):
    decide(logged_in_client, channel, {"decision": "approve", "all": "1"})
    assert sent(emulator, PUB) == []  # the screen itself sends nothing

    sync_lifecycle(channel.pk, allegro_client)

    assert states() == ["DONE", "DONE", "DONE"]
    assert len(sent(emulator, PUB)) == 1


def test_reject_all(logged_in_client, channel, plans):
    decide(logged_in_client, channel, {"decision": "reject", "all": "1"})
    assert states() == ["REJECTED"] * 3


@pytest.mark.parametrize(
    "data",
    [
        {"decision": "maybe", "all": "1"},
        {"decision": "approve", "action": ["x1"]},
        {"decision": "approve"},  # nothing ticked
    ],
)
def test_bad_input_changes_nothing(logged_in_client, channel, plans, data):
    response = decide(logged_in_client, channel, data)
    assert "nothing was changed" in response.content.decode()
    assert states() == ["WAITING"] * 3


def test_other_channels_plans_are_untouched(logged_in_client, channel, plans):
    other = Channel.objects.create(name="Other")
    action = PendingAction.objects.order_by("pk")[0]
    decide(logged_in_client, other, {"decision": "approve", "action": [action.pk]})
    assert states() == ["WAITING"] * 3


def test_dry_run_button_lists_and_changes_nothing(
    logged_in_client, channel, allegro_client, emulator
):
    channel.end_listings = True
    channel.save()
    listing = listed(emulator, channel, item("A", 0))
    before = len(emulator.requests)

    html = page(logged_in_client, channel, dry_run="1").content.decode()

    assert 'id="dry-run-result"' in html
    assert listing.offer_id in html
    assert PendingAction.objects.count() == 0
    assert ListingEvent.objects.count() == 0
    assert len(emulator.requests) == before


def test_strike_off_and_restore_a_pending_relist(logged_in_client, channel, emulator):
    listing = listed(emulator, channel, item("A", 0), quantity=0, status="ENDED")
    ended = timezone.now() - timedelta(days=3)
    Listing.objects.filter(pk=listing.pk).update(
        ended_at=ended, relist_pending_since=ended
    )
    url = reverse("channel_lifecycle_strike", args=[channel.pk, listing.pk])

    html = page(logged_in_client, channel).content.decode()
    assert (ended + timedelta(days=60)).strftime("%Y") in html  # the deadline
    logged_in_client.post(url, {"struck": "1"})
    listing.refresh_from_db()
    assert listing.relist_struck_off
    logged_in_client.post(url, {"struck": "0"})
    listing.refresh_from_db()
    assert not listing.relist_struck_off


def test_strike_off_of_a_listing_not_pending_changes_nothing(
    logged_in_client, channel, emulator
):
    listing = listed(emulator, channel, item("A", 3))
    url = reverse("channel_lifecycle_strike", args=[channel.pk, listing.pk])

    response = logged_in_client.post(url, {"struck": "1"}, follow=True)

    assert "not pending relist" in response.content.decode()
    listing.refresh_from_db()
    assert not listing.relist_struck_off
    assert ListingEvent.objects.count() == 0


def test_users_who_may_not_manage_channels_get_403_and_change_nothing(
    plain_client, channel, plans, emulator
):
    listing = plans[0]
    before = len(emulator.requests)
    for method, url, data in (
        ("get", reverse("channel_lifecycle", args=[channel.pk]), {"dry_run": "1"}),
        (
            "post",
            reverse("channel_lifecycle_decide", args=[channel.pk]),
            {"decision": "approve", "all": "1"},
        ),
        (
            "post",
            reverse("channel_lifecycle_strike", args=[channel.pk, listing.pk]),
            {"struck": "1"},
        ),
    ):
        assert getattr(plain_client, method)(url, data).status_code == 403, url
    assert states() == ["WAITING"] * 3
    assert len(emulator.requests) == before
