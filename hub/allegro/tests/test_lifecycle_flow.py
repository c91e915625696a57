"""The lifecycle flow against the emulator: ending at zero, confirmation,
pending relist, relisting (same id and as a new offer), the 60-day deadline."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from hub.allegro.models import Listing, ListingEvent, PendingAction, RemoteCommand
from hub.allegro.sync.lifecycle import (
    decide,
    has_work,
    preview,
    strike_off,
    sync_lifecycle,
)
from hub.allegro.tests.lifecycle_helpers import (
    MOD,
    PUB,
    QTY,
    item,
    listed,
    offer_ids,
    sent,
    set_stock,
    status_on_allegro,
)

pytestmark = pytest.mark.django_db
State = PendingAction.State


def configure(channel, **options):
    for name, value in options.items():
        setattr(channel, name, value)
    channel.save()


def run(channel, client, **kwargs):
    return sync_lifecycle(channel.pk, client, **kwargs)


def events(listing):
    return list(
        ListingEvent.objects.filter(listing=listing).values_list("kind", flat=True)
    )


def pending_listing(emulator, channel, stock, days_ago=5, **kwargs):
    """A Buy Now listing ended (sold out) DAYS_AGO, in pending relist."""
    listing = listed(emulator, channel, stock, quantity=0, status="ENDED", **kwargs)
    ended = timezone.now() - timedelta(days=days_ago)
    Listing.objects.filter(pk=listing.pk).update(
        ended_at=ended, ended_by="EMPTY_STOCK", relist_pending_since=ended
    )
    listing.refresh_from_db()
    return listing


# ----------------------------------------------------------------- ending


def test_end_listings_off_ends_nothing(channel, allegro_client, emulator):
    listing = listed(emulator, channel, item("A", 0))

    result = run(channel, allegro_client)

    assert sent(emulator, PUB) == []
    assert PendingAction.objects.count() == 0
    assert result.planned == 0
    assert status_on_allegro(emulator, listing.offer_id) == "ACTIVE"
    assert preview(channel.pk) == []


def test_end_at_zero_waits_for_confirmation_then_ends(
    channel, allegro_client, emulator
):
    configure(channel, end_listings=True)
    listing = listed(emulator, channel, item("A", 0))
    live = listed(emulator, channel, item("B", 2))

    first = run(channel, allegro_client)

    [action] = PendingAction.objects.all()
    assert (action.kind, action.state, action.listing_id) == (
        "END",
        "WAITING",
        listing.pk,
    )
    assert "Out of stock" in action.reason_text()
    assert first.waiting == 1
    assert sent(emulator, PUB) == []  # nothing before approval

    assert not has_work(channel.pk)  # waiting on the seller, not on a pass
    assert decide(PendingAction.objects.all(), approve=True, user_id=None) == 1
    assert has_work(channel.pk)
    second = run(channel, allegro_client)

    [body] = sent(emulator, PUB)
    assert body["publication"] == {"action": "END"}
    assert offer_ids(body) == [listing.offer_id]
    assert status_on_allegro(emulator, listing.offer_id) == "ENDED"
    assert status_on_allegro(emulator, live.offer_id) == "ACTIVE"
    listing.refresh_from_db()
    assert listing.status == "ENDED"
    assert listing.relist_pending_since is not None
    action.refresh_from_db()
    assert action.state == State.DONE
    assert second.ended == 1
    assert events(listing) == ["PLANNED", "APPROVED", "SENT", "CONFIRMED"]
    command = RemoteCommand.objects.get()
    assert command.state == RemoteCommand.State.DONE
    assert command.results == {listing.offer_id: {"status": "SUCCESS", "message": ""}}
    assert not has_work(channel.pk)
    # Nothing more to do: a third pass sends nothing.
    run(channel, allegro_client)
    assert len(sent(emulator, PUB)) == 1


def test_ends_are_grouped_in_one_command(channel, allegro_client, emulator):
    configure(channel, end_listings=True, no_manual_confirmation=True)
    listings = [listed(emulator, channel, item(f"S{i}", 0)) for i in range(3)]

    run(channel, allegro_client)

    [body] = sent(emulator, PUB)
    assert sorted(offer_ids(body)) == sorted(x.offer_id for x in listings)


def test_rejected_plan_sends_nothing_and_is_not_asked_again(
    channel, allegro_client, emulator
):
    configure(channel, end_listings=True)
    stock = item("A", 0)
    listing = listed(emulator, channel, stock)
    run(channel, allegro_client)

    assert decide(PendingAction.objects.all(), approve=False, user_id=None) == 1
    run(channel, allegro_client)
    run(channel, allegro_client)

    assert sent(emulator, PUB) == []
    assert list(PendingAction.objects.values_list("state", flat=True)) == ["REJECTED"]
    assert status_on_allegro(emulator, listing.offer_id) == "ACTIVE"
    # Once stock came back and ran out again, the plan is proposed again.
    set_stock(stock, 3)
    run(channel, allegro_client)
    set_stock(stock, 0)
    run(channel, allegro_client)
    assert PendingAction.objects.filter(state=State.WAITING).count() == 1


def test_plan_withdrawn_when_stock_returns(channel, allegro_client, emulator):
    configure(channel, end_listings=True)
    stock = item("A", 0)
    listing = listed(emulator, channel, stock)
    run(channel, allegro_client)
    set_stock(stock, 5)

    result = run(channel, allegro_client)

    action = PendingAction.objects.get()
    assert action.state == State.WITHDRAWN
    assert result.withdrawn == 1
    # Approving it now changes nothing and sends nothing.
    assert decide(PendingAction.objects.all(), approve=True, user_id=None) == 0
    run(channel, allegro_client)
    assert sent(emulator, PUB) == []
    assert status_on_allegro(emulator, listing.offer_id) == "ACTIVE"
    assert "WITHDRAWN" in events(listing)


def test_approved_plan_that_no_longer_holds_is_withdrawn_not_sent(
    channel, allegro_client, emulator
):
    configure(channel, end_listings=True)
    stock = item("A", 0)
    listed(emulator, channel, stock)
    run(channel, allegro_client)
    decide(PendingAction.objects.all(), approve=True, user_id=None)
    set_stock(stock, 1)  # stock came back between approval and the pass

    run(channel, allegro_client)

    assert sent(emulator, PUB) == []
    assert PendingAction.objects.get().state == State.WITHDRAWN


@pytest.mark.parametrize(
    ("options", "bids", "ends"),
    [
        ({}, False, False),
        ({}, True, False),
        ({"end_auctions": True}, False, True),
        ({"end_auctions": True}, True, False),
        ({"end_auctions": True, "end_auctions_with_bids": True}, True, True),
    ],
)
def test_auctions_end_only_with_their_options(
    channel, allegro_client, emulator, options, bids, ends
):
    configure(channel, end_listings=True, no_manual_confirmation=True, **options)
    listing = listed(emulator, channel, item("A", 0), quantity=1, format="AUCTION")
    if bids:
        emulator.bid(listing.offer_id, "60", "licytant")
        Listing.objects.filter(pk=listing.pk).update(bidders=1)

    run(channel, allegro_client)

    assert bool(sent(emulator, PUB)) is ends
    assert status_on_allegro(emulator, listing.offer_id) == (
        "ENDED" if ends else "ACTIVE"
    )
    sold = [
        cf for cf in emulator.checkout_forms.values()
        if cf.line_items[0].offer_id == listing.offer_id
    ]  # fmt: skip
    # Ending an auction with bids sells it to the top bidder (api-notes §8).
    assert len(sold) == (1 if ends and bids else 0)


def test_dry_run_lists_plans_and_changes_nothing(channel, allegro_client, emulator):
    configure(
        channel, end_listings=True, relist_items=True, no_manual_confirmation=True
    )
    ending = listed(emulator, channel, item("A", 0))
    relisting = pending_listing(emulator, channel, item("B", 4))
    before = len(emulator.requests)

    lines = preview(channel.pk)

    assert [(x.plan.action, x.listing.pk) for x in lines] == [
        ("END", ending.pk),
        ("RELIST", relisting.pk),
    ]
    assert len(emulator.requests) == before
    assert PendingAction.objects.count() == 0
    assert ListingEvent.objects.count() == 0


# -------------------------------------------------------------- relisting


def test_sold_out_on_allegro_enters_pending_relist_other_ends_do_not(
    channel, allegro_client, emulator
):
    ended = {}
    for ended_by in ("EMPTY_STOCK", "USER", "ADMIN"):
        listing = listed(emulator, channel, item(ended_by, 0), status="ENDED")
        Listing.objects.filter(pk=listing.pk).update(
            ended_at=timezone.now() - timedelta(days=1), ended_by=ended_by
        )
        ended[ended_by] = listing

    result = run(channel, allegro_client)

    pending = set(
        Listing.objects.filter(relist_pending_since__isnull=False).values_list(
            "pk", flat=True
        )
    )
    assert pending == {ended["EMPTY_STOCK"].pk}
    assert result.entered == 1


@pytest.mark.parametrize(
    ("duration", "delay", "modification", "status"),
    [
        ("P10D", 90, {"duration": "P10D"}, "ACTIVATING"),
        ("", 0, {"durationUnlimited": True}, "ACTIVE"),
    ],
)
def test_relist_sets_quantity_then_duration_then_activates(
    channel, allegro_client, emulator, duration, delay, modification, status
):
    configure(
        channel,
        relist_items=True,
        no_manual_confirmation=True,
        relist_duration=duration,
        relist_delay_minutes=delay,
    )
    listing = pending_listing(emulator, channel, item("A", 4))
    before = timezone.now()

    result = run(channel, allegro_client)

    puts = [r["path"] for r in emulator.requests if r["method"] == "PUT"]
    assert [p.rsplit("/", 1)[0] + "/" for p in puts] == [QTY, MOD, PUB]
    [qty] = sent(emulator, QTY)
    assert qty["modification"] == {"changeType": "FIXED", "value": 4}
    [mod] = sent(emulator, MOD)
    assert mod["modification"] == {"publication": modification}
    [pub] = sent(emulator, PUB)
    assert offer_ids(pub) == [listing.offer_id]  # Buy Now keeps its offer id
    if delay:
        when = pub["publication"]["scheduledFor"]
        scheduled = datetime.fromisoformat(when.replace("Z", "+00:00"))
        assert before + timedelta(minutes=90) <= scheduled
        assert scheduled <= timezone.now() + timedelta(minutes=90)
    else:
        assert pub["publication"] == {"action": "ACTIVATE"}
    assert status_on_allegro(emulator, listing.offer_id) == status
    assert emulator.offer(listing.offer_id)["stock"]["available"] == 4
    listing.refresh_from_db()
    assert listing.status == status
    assert listing.relist_pending_since is None
    assert listing.known_quantity == 4
    assert result.relisted == 1
    assert PendingAction.objects.get().state == State.DONE
    # Its own kind: the inventory push never reads or resends these commands.
    kinds = sorted(RemoteCommand.objects.values_list("kind", flat=True))
    assert kinds == ["modification", "publication", "relist_quantity"]


def test_relist_items_off_or_struck_off_relists_nothing(
    channel, allegro_client, emulator
):
    configure(channel, no_manual_confirmation=True)
    listing = pending_listing(emulator, channel, item("A", 4))
    run(channel, allegro_client)
    assert PendingAction.objects.count() == 0

    configure(channel, relist_items=True)
    assert strike_off(listing, True)
    run(channel, allegro_client)
    assert PendingAction.objects.count() == 0
    assert sent(emulator, QTY) == []

    assert strike_off(listing, False)
    run(channel, allegro_client)
    assert status_on_allegro(emulator, listing.offer_id) == "ACTIVE"
    assert events(listing)[:2] == ["STRUCK_OFF", "RESTORED"]


def test_day_59_relists_day_61_leaves_pending(channel, allegro_client, emulator):
    configure(channel, relist_items=True, no_manual_confirmation=True)
    day59 = pending_listing(emulator, channel, item("A", 2), days_ago=59)
    day61 = pending_listing(emulator, channel, item("B", 2), days_ago=61)

    result = run(channel, allegro_client)

    [pub] = sent(emulator, PUB)
    assert offer_ids(pub) == [day59.offer_id]
    day61.refresh_from_db()
    assert day61.relist_pending_since is None
    assert events(day61) == ["LEFT_PENDING"]
    assert "60 days" in str(ListingEvent.objects.get(listing=day61).message)
    assert result.expired == 1


def test_refused_activation_fails_the_plan_and_keeps_it_pending(
    channel, allegro_client, emulator
):
    configure(channel, relist_items=True, no_manual_confirmation=True)
    listing = pending_listing(emulator, channel, item("A", 2))
    emulator.offers[listing.offer_id].archived = True  # gone on Allegro's side

    result = run(channel, allegro_client)

    action = PendingAction.objects.get()
    assert action.state == State.FAILED
    assert "not found" in str(action.message).lower()
    assert result.failed == 1
    assert sent(emulator, PUB) == []  # step 1 failed: nothing activated
    listing.refresh_from_db()
    assert listing.relist_pending_since is not None
    assert "FAILED" in events(listing)
    # Not retried in a loop: the refusal stands until the facts change.
    run(channel, allegro_client)
    assert len(sent(emulator, QTY)) == 1
    assert PendingAction.objects.count() == 1
