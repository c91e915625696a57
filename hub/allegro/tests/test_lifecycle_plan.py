"""The lifecycle's pure rules: every option combination that changes the outcome."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import translation

from hub.allegro.sync.lifecycle_plan import (
    END,
    EXPIRE,
    FLAG,
    RELIST,
    RELIST_NEW,
    Facts,
    Plan,
    Rules,
    deadline,
    enters_pending,
    plan,
)

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
LIVE = Facts(format="BUY_NOW", status="ACTIVE", available=0)
AUCTION = replace(LIVE, format="AUCTION")
ENDING = Rules(end_listings=True)
ALL_ENDS = Rules(end_listings=True, end_auctions=True, end_auctions_with_bids=True)


def pending(days_ago: float, **changes) -> Facts:
    ended = NOW - timedelta(days=days_ago)
    facts = Facts(
        format="BUY_NOW",
        status="ENDED",
        available=4,
        ended_at=ended,
        ended_by="USER",
        pending_since=ended,
    )
    return replace(facts, **changes)


RELISTING = Rules(relist_items=True, relist_duration="P10D", relist_delay_minutes=90)


# ---------------------------------------------------------------- ending


def test_end_listings_off_flags_instead_of_ending():
    result = plan(LIVE, Rules(), NOW)
    assert result is not None
    assert result.action == FLAG
    assert result.reason == "end_listings_off"
    assert not result.sends


def test_end_listings_on_ends_buy_now_at_zero():
    result = plan(LIVE, ENDING, NOW)
    assert result == Plan(END, "out_of_stock", {"available": 0, "bidders": 0})
    assert result.sends


@pytest.mark.parametrize("available", [1, 7])
def test_stock_left_means_no_end(available):
    assert plan(replace(LIVE, available=available), ALL_ENDS, NOW) is None


def test_oversold_negative_target_ends_too():
    result = plan(replace(LIVE, available=-2), ENDING, NOW)
    assert result is not None
    assert result.action == END


def test_activating_listing_at_zero_is_ended():
    result = plan(replace(LIVE, status="ACTIVATING"), ENDING, NOW)
    assert result is not None
    assert result.action == END


@pytest.mark.parametrize(
    ("rules", "bidders", "action", "reason"),
    [
        (ENDING, 0, FLAG, "end_auctions_off"),
        (ENDING, 2, FLAG, "end_auctions_off"),
        (Rules(end_listings=True, end_auctions=True), 0, END, "out_of_stock"),
        (Rules(end_listings=True, end_auctions=True), 2, FLAG, "auction_has_bids"),
        (ALL_ENDS, 0, END, "out_of_stock"),
        (ALL_ENDS, 2, END, "out_of_stock_bids"),
    ],
)
def test_auctions_end_only_with_their_options(rules, bidders, action, reason):
    result = plan(replace(AUCTION, bidders=bidders), rules, NOW)
    assert result is not None
    assert (result.action, result.reason) == (action, reason)


@pytest.mark.parametrize("status", ["ENDED", "INACTIVE"])
def test_listings_not_live_are_never_ended(status):
    assert plan(replace(LIVE, status=status), ALL_ENDS, NOW) is None


def test_unlinked_and_advertisements_are_left_alone():
    assert plan(replace(LIVE, available=None), ALL_ENDS, NOW) is None
    assert plan(replace(LIVE, format="ADVERTISEMENT"), ALL_ENDS, NOW) is None


# ------------------------------------------------------------- relisting


def test_relist_sets_quantity_duration_and_delay():
    result = plan(pending(10), RELISTING, NOW)
    assert result is not None
    assert result.action == RELIST
    assert result.quantity == 4
    assert result.duration == "P10D"
    assert result.scheduled_for == NOW + timedelta(minutes=90)


def test_until_sold_out_is_no_duration():
    result = plan(pending(10), replace(RELISTING, relist_duration=""), NOW)
    assert result is not None
    assert result.duration is None


def test_relist_items_off_keeps_it_pending_without_a_plan():
    assert plan(pending(10), Rules(), NOW) is None


def test_struck_off_is_not_relisted():
    assert plan(pending(10, struck_off=True), RELISTING, NOW) is None


def test_no_stock_no_relist():
    assert plan(pending(10, available=0), RELISTING, NOW) is None


def test_day_59_relists_day_61_expires():
    on_59 = plan(pending(59), RELISTING, NOW)
    on_61 = plan(pending(61), RELISTING, NOW)
    assert on_59 is not None
    assert on_59.action == RELIST
    assert on_61 is not None
    assert on_61.action == EXPIRE
    assert on_61.reason == "archived"
    # Past the deadline the listing leaves pending relist even when struck off
    # or with Relist Items off.
    for facts, rules in (
        (pending(61, struck_off=True), RELISTING),
        (pending(61), Rules()),
    ):
        result = plan(facts, rules, NOW)
        assert result is not None
        assert result.action == EXPIRE


def test_deadline_is_sixty_days_after_the_end():
    facts = pending(10)
    ended = NOW - timedelta(days=10)
    assert deadline(facts) == ended + timedelta(days=60)
    later = replace(facts, ended_at=None, pending_since=ended + timedelta(days=1))
    assert deadline(later) == ended + timedelta(days=61)


def test_auction_is_relisted_as_a_new_offer_with_its_own_duration():
    rules = replace(RELISTING, relist_auction_duration="P5D")
    result = plan(pending(3, format="AUCTION"), rules, NOW)
    assert result is not None
    assert result.action == RELIST_NEW
    assert result.quantity == 1
    assert result.duration == "P5D"
    assert result.scheduled_for == NOW + timedelta(minutes=90)
    # "" = the same duration as the ended auction (filled in from the old offer).
    same = plan(pending(3, format="AUCTION"), RELISTING, NOW)
    assert same is not None
    assert same.duration is None


def test_not_pending_is_not_relisted():
    assert plan(pending(3, pending_since=None), RELISTING, NOW) is None


# ------------------------------------------------------ entering pending


@pytest.mark.parametrize(
    ("ended_by", "enters"),
    [("EMPTY_STOCK", True), ("USER", False), ("ADMIN", False), ("EXPIRATION", False)],
)
def test_only_allegros_sold_out_end_enters_pending(ended_by, enters):
    facts = pending(5, ended_by=ended_by, pending_since=None)
    assert enters_pending(facts, NOW) is enters


def test_sold_out_more_than_60_days_ago_does_not_enter():
    assert not enters_pending(
        pending(61, ended_by="EMPTY_STOCK", pending_since=None), NOW
    )
    assert not enters_pending(pending(5, ended_by="EMPTY_STOCK"), NOW)  # already in


# ---------------------------------------------------------------- texts


def test_reasons_read_well_in_english_and_polish():
    bids = plan(replace(AUCTION, bidders=2), ALL_ENDS, NOW)
    relist = plan(pending(10), RELISTING, NOW)
    assert bids is not None
    assert relist is not None
    with translation.override("en"):
        assert "2 bidders" in bids.text()
        assert "highest bidder" in bids.text()
        assert "available 4" in relist.text()
        assert "until" in relist.text()
    with translation.override("pl"):
        assert bids.text() != ""
        assert "%(" not in relist.text()
