"""A channel's state on the Allegro side, for other apps (the dashboard): one
function, so they never read allegro's cursors or token fields themselves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hub.allegro.links import site_of
from hub.allegro.models import Channel, Listing
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


def channel_statuses() -> list[ChannelStatus]:
    """Every channel by name (two queries, and one more if an import runs)."""
    channels = list(Channel.objects.order_by("name").prefetch_related("cursors"))
    progress = import_progress_by_channel(channels)
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
