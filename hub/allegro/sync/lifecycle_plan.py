"""What the lifecycle would do with one listing: pure rules, no database, no Allegro.

Given a listing's facts, the channel's options and the time, ``plan`` says END,
RELIST, RELIST_NEW (an auction listed again as a new offer), EXPIRE (leave
pending relist: Allegro has archived it), FLAG (out of stock but left live, and
why) or nothing, with the reason shown on the confirmation screen.
ARCHITECTURE.md §4 "Lifecycle"; Allegro's rules: api-notes §5.3, §7, §8.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

from hub.allegro import texts
from hub.text.message import Message, when

# Allegro archives an ended offer 60 days after it ends; after that it cannot be
# activated again (api-notes §7, TUT-OFFERS; staff in allegro-api#2005).
RELIST_WINDOW = timedelta(days=60)
LIVE = ("ACTIVE", "ACTIVATING")

END = "END"
RELIST = "RELIST"
RELIST_NEW = "RELIST_NEW"
EXPIRE = "EXPIRE"
FLAG = "FLAG"
ACTION_LABELS: dict[str, Promise] = {
    END: gettext_lazy("End"),
    RELIST: gettext_lazy("Relist"),
    RELIST_NEW: gettext_lazy("Relist as a new offer"),
    EXPIRE: gettext_lazy("Leave pending relist"),
    FLAG: gettext_lazy("Out of stock but still live"),
}


@dataclass(frozen=True)
class Facts:
    """One listing as the hub knows it."""

    format: str  # BUY_NOW | AUCTION | ADVERTISEMENT
    status: str  # INACTIVE | ACTIVATING | ACTIVE | ENDED
    available: int | None  # the stock target; None = not linked to a stock item
    bidders: int = 0
    ended_at: datetime | None = None
    ended_by: str = ""
    pending_since: datetime | None = None  # in pending relist since
    struck_off: bool = False


@dataclass(frozen=True)
class Rules:
    """The channel options the lifecycle reads (ARCHITECTURE.md §5)."""

    end_listings: bool = False
    end_auctions: bool = False
    end_auctions_with_bids: bool = False
    relist_items: bool = False
    relist_duration: str = ""  # "" = until sold out
    relist_auction_duration: str = ""  # "" = the ended auction's own duration
    relist_delay_minutes: int = 0

    @classmethod
    def of(cls, channel: Any) -> Rules:
        return cls(
            **{name: getattr(channel, name) for name in cls.__dataclass_fields__}
        )


@dataclass(frozen=True)
class Plan:
    """What to do and why. ``reason`` is a code; ``details`` (JSON-ready) fill
    its text."""

    action: str
    reason: str
    details: dict[str, Any] = field(default_factory=dict)
    quantity: int | None = None  # RELIST/RELIST_NEW: the stock to set first
    duration: str | None = None  # RELIST/RELIST_NEW: ISO 8601; None = unlimited
    scheduled_for: datetime | None = None  # RELIST/RELIST_NEW: when it starts

    @property
    def sends(self) -> bool:
        """Whether carrying the plan out writes to Allegro."""
        return self.action in (END, RELIST, RELIST_NEW)

    def text(self) -> str:
        return describe(self)

    def message(self) -> Message:
        return plan_message(self)

    def label(self) -> str:
        return str(ACTION_LABELS[self.action])


def deadline(facts: Facts) -> datetime | None:
    """The last moment an ended listing can still be activated again."""
    start = facts.ended_at or facts.pending_since
    return start + RELIST_WINDOW if start else None


def enters_pending(facts: Facts, now: datetime) -> bool:
    """Allegro ended it because the last unit sold (endedBy EMPTY_STOCK) and it is
    still within the 60 days. Ended by the seller or Allegro's admins: no.
    (Ends the hub itself makes put the listing in pending relist on success.)"""
    end = deadline(facts)
    return (
        facts.status == "ENDED"
        and facts.ended_by == "EMPTY_STOCK"
        and facts.pending_since is None
        and end is not None
        and now < end
    )


def plan(facts: Facts, rules: Rules, now: datetime) -> Plan | None:
    """The one thing to do with this listing now, or None."""
    if facts.format == "ADVERTISEMENT" or facts.available is None:
        return None  # no stock to follow: an advertisement, or not linked
    if facts.status in LIVE:
        return _plan_end(facts, rules)
    if facts.pending_since is not None and facts.status == "ENDED":
        return _plan_relist(facts, rules, now)
    return None


def _plan_end(facts: Facts, rules: Rules) -> Plan | None:
    if facts.available is None or facts.available > 0:
        return None
    details = {"available": facts.available, "bidders": facts.bidders}
    if not rules.end_listings:
        return Plan(FLAG, "end_listings_off", details)
    if facts.format == "AUCTION":
        if not rules.end_auctions:
            return Plan(FLAG, "end_auctions_off", details)
        if facts.bidders and not rules.end_auctions_with_bids:
            return Plan(FLAG, "auction_has_bids", details)
        if facts.bidders:
            # api-notes §8: ending an auction with bids sells it to the top bidder.
            return Plan(END, "out_of_stock_bids", details)
    return Plan(END, "out_of_stock", details)


def _plan_relist(facts: Facts, rules: Rules, now: datetime) -> Plan | None:
    end = deadline(facts)
    assert end is not None  # pending_since is set
    details = {"available": facts.available, "deadline": end.isoformat()}
    if now >= end:
        return Plan(EXPIRE, "archived", details)
    if facts.struck_off or not rules.relist_items:
        return None
    if facts.available is None or facts.available < 1:
        return None
    scheduled = now + timedelta(minutes=rules.relist_delay_minutes)
    if facts.format == "AUCTION":
        # An ended auction cannot be activated again (api-notes §7): a new offer.
        # One item per auction (an auction is bought by its one top bidder, §8).
        return Plan(
            RELIST_NEW,
            "stock_returned_auction",
            details,
            quantity=1,
            duration=rules.relist_auction_duration or None,
            scheduled_for=scheduled,
        )
    return Plan(
        RELIST,
        "stock_returned",
        details,
        quantity=facts.available,
        duration=rules.relist_duration or None,
        scheduled_for=scheduled,
    )


def describe(plan: Plan) -> str:
    """The plan's reason in the operator's language."""
    return str(plan.message())


def plan_message(plan: Plan) -> Message:
    """The plan's reason as a stored message (hub.allegro.texts.PLAN_REASONS):
    the numbers and the deadline as parameters, shown in the reader's language."""
    code = texts.PLAN_REASONS.get(plan.reason)
    if code is None:
        return Message.literal(plan.reason)
    d = plan.details
    return Message(
        code,
        a=d.get("available", ""),
        bidders=Message(texts.BIDDERS, n=d.get("bidders", 0)),
        deadline=when(d["deadline"]) if d.get("deadline") else "",
    )
