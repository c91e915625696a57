"""The demo's background sync: one order-sync pass per channel every N seconds.

A stand-in for `allegro-hub demo` only. The real embedded worker
(hub/jobs/runner.py, a later issue) schedules every sync flow with retries and
progress; it replaces this module, and `allegro-hub demo` should then start that
worker instead.
"""

from __future__ import annotations

import logging
import threading

from django.db import close_old_connections, connection
from django.utils.translation import gettext as _

from hub.allegro.client import client_for_channel
from hub.allegro.errors import AllegroError
from hub.allegro.models import Channel
from hub.allegro.sync.orders import OrderSyncResult, sync_orders

log = logging.getLogger("hub.demo")


def channels_to_sync() -> list[Channel]:
    """Enabled channels that hold tokens Allegro has not refused."""
    return list(
        Channel.objects.filter(enabled=True, needs_reconnect=False).exclude(
            refresh_token_encrypted=""
        )
    )


def sync_pass() -> list[str]:
    """One order-sync pass for every channel to sync.

    Returns a short line for each channel where something happened or failed.
    """
    lines = []
    for channel in channels_to_sync():
        try:
            with client_for_channel(channel) as client:
                result = sync_orders(channel.pk, client)
        except AllegroError as exc:
            line = _("%(name)s · orders failed: %(why)s") % {
                "name": channel.name,
                "why": exc.user_text(),
            }
        else:
            summary = short_summary(result)
            if not summary:
                continue
            line = f"{channel.name} · {summary}"
        lines.append(line)
    return lines


def short_summary(result: OrderSyncResult) -> str:
    """What a pass did in one line; "" when it found nothing new."""
    if result.skipped:
        return result.skipped
    if not (result.events or result.backfilled or result.missing_forms):
        return ""
    return _(
        "orders: %(created)d new, %(updated)d updated, %(cancelled)d cancelled "
        "(%(events)d events, %(backfilled)d from backfill, %(unlinked)d lines "
        "not linked)"
    ) % {
        "created": result.created,
        "updated": result.updated,
        "cancelled": result.cancelled,
        "events": result.events,
        "backfilled": result.backfilled,
        "unlinked": result.unlinked_lines,
    }


class SyncLoop:
    """Runs sync_pass() in a thread: now, then every ``interval`` seconds."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="demo-sync", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 15) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                self._one_pass()
                self._stop.wait(self.interval)
        finally:
            connection.close()  # this thread's own database connection

    def _one_pass(self) -> None:
        close_old_connections()
        try:
            lines = sync_pass()
        except Exception:  # keep the demo running; the traceback says why
            log.exception("sync pass failed")
            return
        for line in lines:
            log.info("%s", line)
