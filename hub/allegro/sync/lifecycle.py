"""The lifecycle flow: end listings at zero, relist them when stock returns.

One pass (``sync_lifecycle``):
1. follow the commands already sent (task reports, next steps) — lifecycle_send;
2. put listings Allegro ended as sold out (endedBy EMPTY_STOCK) in pending relist;
3. plan every candidate listing (lifecycle_plan.plan) against its open
   PendingAction: keep it, create one, or withdraw one that no longer holds;
   a pending relist past its 60 days leaves pending relist with a reason;
4. with No Manual Confirmation, approve the new plans at once;
5. carry out approved plans as grouped publication/quantity/duration commands
   through the outbox (RemoteCommand), confirmed by their task reports.

``preview`` is the dry run: the same plans, nothing written, nothing sent.
ARCHITECTURE.md §4 "Lifecycle".
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from hub.allegro import texts
from hub.allegro.client import AllegroClient
from hub.allegro.models import Channel, Listing, ListingEvent, PendingAction
from hub.allegro.sync import lifecycle_send
from hub.allegro.sync.lifecycle_plan import (
    EXPIRE,
    LIVE,
    RELIST_WINDOW,
    Facts,
    Plan,
    Rules,
    enters_pending,
    plan,
)
from hub.catalog.stock import available_by_item
from hub.text.message import Message

log = logging.getLogger(__name__)

Progress = Callable[[str], None]
OPEN = PendingAction.OPEN_STATES
SETTLED_NO = (PendingAction.State.REJECTED, PendingAction.State.FAILED)


@dataclass
class LifecycleResult:
    entered: int = 0  # listings that went into pending relist
    expired: int = 0  # left pending relist: past the 60 days
    planned: int = 0  # new plans
    waiting: int = 0  # plans waiting for confirmation (all of them)
    withdrawn: int = 0  # plans that no longer held
    sent: int = 0  # commands sent to Allegro
    ended: int = 0  # listings Allegro confirmed ended
    relisted: int = 0  # listings Allegro confirmed relisted
    failed: int = 0  # plans Allegro refused

    def summary(self) -> str:
        return _(
            "%(ended)d ended, %(relisted)d relisted, %(failed)d refused; "
            "%(planned)d new plans, %(waiting)d waiting for confirmation, "
            "%(withdrawn)d withdrawn; %(entered)d into pending relist, "
            "%(expired)d past 60 days; %(sent)d commands sent."
        ) % vars(self)


@dataclass(frozen=True)
class Preview:
    """One line of the dry run."""

    listing: Listing
    plan: Plan


def sync_lifecycle(
    channel_id: int,
    client: AllegroClient,
    *,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> LifecycleResult:
    """One lifecycle pass of a channel (see the module docstring)."""
    channel = Channel.objects.get(pk=channel_id)
    now = now or timezone.now()
    say = progress or (lambda text: None)
    result = LifecycleResult()
    lifecycle_send.follow_up(channel, client, result)
    if channel.enabled:
        _enter_pending(channel, now, result)
        _replan(channel, now, result)
        if channel.no_manual_confirmation:
            _approve_all(channel, None)
        lifecycle_send.start(channel, client, result)
        lifecycle_send.follow_up(channel, client, result)
    result.waiting = PendingAction.objects.filter(
        channel=channel, state=PendingAction.State.WAITING
    ).count()
    say(result.summary())
    return result


def has_work(channel_id: int) -> bool:
    """Approved plans to send, or commands waiting for Allegro's report: worth a
    pass soon (the runner's "pending" check; one indexed query)."""
    return PendingAction.objects.filter(
        channel_id=channel_id,
        state__in=(PendingAction.State.APPROVED, PendingAction.State.RUNNING),
    ).exists()


def preview(channel_id: int, now: datetime | None = None) -> list[Preview]:
    """What a pass would end, relist or drop now; writes and sends nothing."""
    channel = Channel.objects.get(pk=channel_id)
    now = now or timezone.now()
    rules = Rules.of(channel)
    lines = []
    for listing, facts in _candidates(channel, now):
        if enters_pending(facts, now):
            facts = Facts(**{**vars(facts), "pending_since": facts.ended_at})
        planned = plan(facts, rules, now)
        if planned is not None and (planned.sends or planned.action == EXPIRE):
            lines.append(Preview(listing, planned))
    return lines


# ------------------------------------------------------------------ steps


def _candidates(channel: Channel, now: datetime) -> list[tuple[Listing, Facts]]:
    """Listings the lifecycle may act on, with their facts (one stock query)."""
    listings = list(
        Listing.objects.filter(channel=channel)
        .filter(
            Q(stock_item__isnull=False, status__in=LIVE)
            | Q(relist_pending_since__isnull=False)
            | Q(
                status="ENDED",
                ended_by="EMPTY_STOCK",
                ended_at__gt=now - RELIST_WINDOW,
            )
            | Q(actions__state__in=OPEN)
        )
        # distinct() is needed because of the join on actions.
        .distinct()
        .order_by("pk")
    )
    item_ids = {listing.stock_item_id for listing in listings if listing.stock_item_id}
    available = available_by_item(item_ids, channel.inventory_location)
    return [(listing, facts_of(listing, available)) for listing in listings]


def facts_of(listing: Listing, available: dict[int, int]) -> Facts:
    item_id = listing.stock_item_id
    return Facts(
        format=listing.format,
        status=listing.status,
        available=available.get(item_id, 0) if item_id else None,
        bidders=listing.bidders,
        ended_at=listing.ended_at,
        ended_by=listing.ended_by,
        pending_since=listing.relist_pending_since,
        struck_off=listing.relist_struck_off,
    )


def _enter_pending(channel: Channel, now: datetime, result: LifecycleResult) -> None:
    """Allegro ended these because the last unit sold: pending relist."""
    for listing, facts in _candidates(channel, now):
        if not enters_pending(facts, now):
            continue
        with transaction.atomic():
            changed = Listing.objects.filter(
                pk=listing.pk, relist_pending_since__isnull=True
            ).update(relist_pending_since=listing.ended_at, relist_struck_off=False)
            if changed:
                ListingEvent.objects.create(
                    listing=listing,
                    kind=ListingEvent.Kind.PENDING_RELIST,
                    message=Message(texts.SOLD_OUT_PENDING),
                )
                result.entered += changed


def _replan(channel: Channel, now: datetime, result: LifecycleResult) -> None:
    rules = Rules.of(channel)
    opened = {
        action.listing_id: action
        for action in PendingAction.objects.filter(channel=channel, state__in=OPEN)
    }
    rejected = _rejected(channel)
    no_plan: list[int] = []
    for listing, facts in _candidates(channel, now):
        planned = plan(facts, rules, now)
        action = opened.get(listing.pk)
        if action is not None and action.state == PendingAction.State.RUNNING:
            continue  # already sent: its report decides
        if planned is None or not planned.sends:
            no_plan.append(listing.pk)
        if planned is not None and planned.action == EXPIRE:
            _expire(listing, planned, action, result)
        elif planned is None or not planned.sends:
            if action is not None:
                _withdraw(action, result)
        elif action is not None and action.kind == planned.action:
            _refresh(action, planned)
        elif (listing.pk, planned.action) not in rejected:
            if action is not None:
                _withdraw(action, result)
            _create(channel, listing, planned, result)
    # Rejections of plans that no longer hold lapse: if the need comes back
    # later, the plan is proposed again.
    PendingAction.objects.filter(
        listing_id__in=no_plan, state__in=SETTLED_NO, lapsed=False
    ).update(lapsed=True)


def _rejected(channel: Channel) -> set[tuple[int, str]]:
    """(listing, kind) of plans rejected by the seller or refused by Allegro that
    still hold: not proposed again (no retry loop against a refusal)."""
    return set(
        PendingAction.objects.filter(
            channel=channel, state__in=SETTLED_NO, lapsed=False
        ).values_list("listing_id", "kind")
    )


def _create(
    channel: Channel, listing: Listing, planned: Plan, result: LifecycleResult
) -> None:
    with transaction.atomic():
        PendingAction.objects.create(
            channel=channel,
            listing=listing,
            kind=planned.action,
            reason=planned.reason,
            details=planned.details,
            quantity=planned.quantity,
            duration=planned.duration or "",
        )
        ListingEvent.objects.create(
            listing=listing, kind=ListingEvent.Kind.PLANNED, message=planned.message()
        )
    result.planned += 1


def _refresh(action: PendingAction, planned: Plan) -> None:
    """The same plan still holds; keep its reason and numbers current."""
    if (action.reason, action.details, action.quantity) != (
        planned.reason,
        planned.details,
        planned.quantity,
    ):
        action.reason, action.details = planned.reason, planned.details
        action.quantity = planned.quantity
        action.save(update_fields=["reason", "details", "quantity"])


def _withdraw(action: PendingAction, result: LifecycleResult) -> None:
    with transaction.atomic():
        changed = PendingAction.objects.filter(
            pk=action.pk,
            state__in=(PendingAction.State.WAITING, PendingAction.State.APPROVED),
        ).update(
            state=PendingAction.State.WITHDRAWN,
            finished_at=timezone.now(),
            message=Message(texts.NO_LONGER_NEEDED),
        )
        if changed:
            ListingEvent.objects.create(
                listing_id=action.listing_id,
                kind=ListingEvent.Kind.WITHDRAWN,
                message=Message(
                    texts.PLAN_WITHDRAWN,
                    kind=Message(texts.ACTION_KINDS.get(action.kind, action.kind)),
                ),
            )
            result.withdrawn += changed


def _expire(
    listing: Listing,
    planned: Plan,
    action: PendingAction | None,
    result: LifecycleResult,
) -> None:
    if action is not None:
        _withdraw(action, result)
    with transaction.atomic():
        changed = Listing.objects.filter(
            pk=listing.pk, relist_pending_since__isnull=False
        ).update(relist_pending_since=None, relist_struck_off=False)
        if changed:
            ListingEvent.objects.create(
                listing=listing,
                kind=ListingEvent.Kind.LEFT_PENDING,
                message=planned.message(),
            )
            result.expired += changed


# --------------------------------------------------------- confirmation


def _open_waiting(channel: Channel | None) -> QuerySet[PendingAction]:
    actions = PendingAction.objects.filter(state=PendingAction.State.WAITING)
    return actions.filter(channel=channel) if channel is not None else actions


def _approve_all(channel: Channel, user_id: int | None) -> int:
    return decide(_open_waiting(channel), approve=True, user_id=user_id)


def decide(
    actions: QuerySet[PendingAction], *, approve: bool, user_id: int | None
) -> int:
    """Approve or reject waiting plans; returns how many changed. A plan that is
    no longer waiting (withdrawn, already decided) is left as it is."""
    state = PendingAction.State.APPROVED if approve else PendingAction.State.REJECTED
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            actions.filter(state=PendingAction.State.WAITING).values_list(
                "pk", "listing_id"
            )
        )
        changed = PendingAction.objects.filter(
            pk__in=[pk for pk, _listing in ids], state=PendingAction.State.WAITING
        ).update(
            state=state,
            decided_at=now,
            decided_by_id=user_id,
            finished_at=None if approve else now,
        )
        kind = ListingEvent.Kind.APPROVED if approve else ListingEvent.Kind.REJECTED
        text = Message(texts.APPROVED if approve else texts.REJECTED)
        ListingEvent.objects.bulk_create(
            ListingEvent(listing_id=listing_id, kind=kind, message=text)
            for _pk, listing_id in ids
        )
    return changed


def strike_off(listing: Listing, struck: bool) -> bool:
    """Strike a pending relist off (never relisted) or restore it."""
    with transaction.atomic():
        changed = Listing.objects.filter(
            pk=listing.pk, relist_pending_since__isnull=False
        ).update(relist_struck_off=struck)
        if changed:
            ListingEvent.objects.create(
                listing=listing,
                kind=ListingEvent.Kind.STRUCK_OFF
                if struck
                else ListingEvent.Kind.RESTORED,
                message=Message(texts.STRUCK_OFF if struck else texts.RESTORED),
            )
    return bool(changed)


def relist_deadline(listing: Listing) -> datetime | None:
    start = listing.ended_at or listing.relist_pending_since
    return start + RELIST_WINDOW if start else None


__all__ = [
    "LifecycleResult",
    "Preview",
    "decide",
    "has_work",
    "preview",
    "relist_deadline",
    "strike_off",
    "sync_lifecycle",
]
