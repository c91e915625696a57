"""A channel's state on the Allegro side, for other apps (the dashboard): one
function, so they never read allegro's cursors or token fields themselves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hub.allegro.models import Channel
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
