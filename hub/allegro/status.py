"""A channel's state on the Allegro side, for other apps (the dashboard):
``channel_statuses()`` for the connection and imports, ``next_steps()`` for the
ends and relists coming up, so they never read allegro's cursors, token fields
or plans themselves."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from hub.allegro.links import site_of
from hub.allegro.models import Channel, Listing, PendingAction
from hub.allegro.sync.progress import ImportProgress, import_progress_by_channel
from hub.text.message import Message


@dataclass(frozen=True)
class ChannelStatus:
    channel: Channel
    connected: bool  # holds tokens
    needs_reconnect: bool  # Allegro refused them: the seller must connect again
    login: str
    enabled: bool
    error: Message  # the channel's own last problem (tokens, connection), if any
    error_at: datetime | None
    progress: ImportProgress | None  # a backfill or gap re-read while it runs
    next_steps: list[NextStep]  # the ends and relists coming up, first first


@dataclass(frozen=True)
class NextStep:
    """One end or relist coming up: what, of which listing, and what it waits for."""

    action: PendingAction
    waiting: bool  # for the seller's confirmation (the confirmation screen)

    @property
    def text(self) -> str:
        """E.g. "next: relist of Termos (DEMO-008) — waiting for your
        confirmation", in the active language."""
        action, listing = self.action, self.action.listing
        what = {
            PendingAction.Kind.END: _("next: end of %(title)s"),
            PendingAction.Kind.RELIST: _("next: relist of %(title)s"),
            PendingAction.Kind.RELIST_NEW: _(
                "next: %(title)s listed again as a new offer"
            ),
        }[PendingAction.Kind(action.kind)] % {
            "title": listing.title
            + (f" ({listing.external_id})" if listing.external_id else "")
        }
        if self.waiting:
            return _("%(what)s — waiting for your confirmation") % {"what": what}
        if action.state == PendingAction.State.RUNNING:
            return _("%(what)s — sent, waiting for Allegro to confirm") % {"what": what}
        return _("%(what)s — approved, sent on the next run") % {"what": what}


NEXT_STEPS_SHOWN = 3


def next_steps(channels: Iterable[Channel]) -> dict[int, list[NextStep]]:
    """Channel id → its open plans (sent first, then approved, then waiting),
    at most NEXT_STEPS_SHOWN each. One query."""
    order = {
        PendingAction.State.RUNNING: 0,
        PendingAction.State.APPROVED: 1,
        PendingAction.State.WAITING: 2,
    }
    found: dict[int, list[NextStep]] = defaultdict(list)
    actions = PendingAction.objects.filter(
        channel__in=list(channels), state__in=PendingAction.OPEN_STATES
    ).select_related("listing")
    for action in sorted(
        actions, key=lambda a: (order[PendingAction.State(a.state)], a.pk)
    ):
        steps = found[action.channel_id]
        if len(steps) < NEXT_STEPS_SHOWN:
            steps.append(NextStep(action, action.state == PendingAction.State.WAITING))
    return found


def channel_statuses() -> list[ChannelStatus]:
    """Every channel by name (three queries, and one more if an import runs)."""
    channels = list(Channel.objects.order_by("name").prefetch_related("cursors"))
    progress = import_progress_by_channel(channels)
    coming = next_steps(channels)
    return [
        ChannelStatus(
            channel=channel,
            connected=channel.is_connected,
            needs_reconnect=channel.needs_reconnect,
            login=channel.account_login,
            enabled=channel.enabled,
            error=channel.last_error,
            error_at=channel.last_error_at,
            progress=progress.get(channel.pk),
            next_steps=coming.get(channel.pk, []),
        )
        for channel in channels
    ]


@dataclass(frozen=True)
class ItemListing:
    listing: Listing
    channel: Channel
    offer_url: str  # the offer on Allegro; "" for custom URLs (the emulator)


def item_listings(item_id: int) -> list[ItemListing]:
    """The listings linked to a stock item, on every channel (one query)."""
    listings = (
        Listing.objects.filter(stock_item_id=item_id)
        .select_related("channel")
        .order_by("channel__name", "offer_id")
    )
    result = []
    for listing in listings:
        site = site_of(listing.channel)
        url = f"https://{site}/oferta/{listing.offer_id}" if site else ""
        result.append(ItemListing(listing, listing.channel, url))
    return result


# An offer's status on Allegro (api-notes §5), in words; ARCHIVED is the hub's
# own mark for an offer Allegro no longer lists.
LISTING_STATUSES = {
    "ACTIVE": pgettext_lazy("listing status", "Active"),
    "INACTIVE": pgettext_lazy("listing status", "Draft (inactive)"),
    "ACTIVATING": pgettext_lazy("listing status", "Activating"),
    "ENDED": pgettext_lazy("listing status", "Ended"),
    "ARCHIVED": pgettext_lazy("listing status", "Archived"),
}
