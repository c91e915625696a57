"""The flow registry: every sync flow the runners run, in one list (``FLOWS``).

How to register a flow
----------------------
1. Write the flow in ``hub/allegro/sync/`` as a plain function taking the
   channel id and a client, e.g. ``sync_inventory(channel_id, client, progress=…)``.
   It must be safe to run again after a crash at any point (cursors and upserts),
   do network I/O outside transactions, and raise ``AllegroError`` (or let the
   client's raise) when it fails: the runner records the error and retries with
   back-off. It never loops or sleeps on its own: the runner calls it again.
2. Add an adapter below taking ``(channel_id, client, progress)`` and returning a
   ``FlowResult(summary, counts)``: ``summary`` is the one line the CLI prints
   and the run history shows; ``counts`` are whole numbers kept with the run
   (e.g. ``{"pushed": 3}``). Call ``progress(text)`` between pages: it reports
   progress and is also where a shutdown stops the flow (it raises
   ``Interrupted``), so never call it inside ``transaction.atomic()``.
3. Add a ``Flow`` to ``FLOWS``:
   - ``name``: short, stable (stored in the database, used by
     ``allegro-hub sync NAME --only name`` and ``HUB_SYNC_INTERVALS``);
   - ``interval``: the default seconds between runs of one channel (the operator
     overrides it with ``HUB_SYNC_INTERVALS=name=120,…``);
   - ``applies(channel)``: whether the flow runs for this channel at all, e.g.
     ``lambda channel: channel.inventory_sync``. Disabled, disconnected and
     "reconnect needed" channels never run any flow; no need to check that;
   - ``pending(channel_id)`` (optional): a cheap query saying "there is work
     now" (e.g. a stock change not pushed yet). The embedded loop polls it
     every second or so and runs the flow ``HUB_TRIGGER_DEBOUNCE`` seconds
     after it first says yes, instead of waiting for the interval;
   - ``label``: what the seller sees (translated).
4. To run a flow right after something happened elsewhere (a button, a saved
   dispatch) call ``hub.jobs.schedule.request_run(channel_id, "name")``: it
   moves the next run earlier and never runs anything itself, so it is safe in
   a request or inside a transaction.

Runs of one (channel, flow) never overlap: each run holds a lease (see
hub/jobs/schedule.py). Different flows and channels run in parallel.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from hub.allegro.client import AllegroClient
from hub.allegro.models import Channel
from hub.allegro.sync import lifecycle
from hub.allegro.sync.inventory import has_stock_changes, push_changed
from hub.allegro.sync.listings import sync_listings
from hub.allegro.sync.orders import sync_orders
from hub.allegro.sync.tracking import pending as tracking_pending
from hub.allegro.sync.tracking import sync_tracking

Progress = Callable[[str], None]


@dataclass(frozen=True)
class FlowResult:
    summary: str
    counts: Mapping[str, int] = field(default_factory=dict)


RunFunction = Callable[[int, AllegroClient, Progress], FlowResult]


def always(channel: Channel) -> bool:
    return True


@dataclass(frozen=True)
class Flow:
    name: str
    run: RunFunction
    interval: int  # seconds, unless HUB_SYNC_INTERVALS says otherwise
    label: str | Promise
    applies: Callable[[Channel], bool] = always
    pending: Callable[[int], bool] | None = None

    @property
    def every(self) -> timedelta:
        return timedelta(
            seconds=settings.HUB_SYNC_INTERVALS.get(self.name, self.interval)
        )

    @property
    def stale_after(self) -> timedelta:
        """No success for this long means something is wrong: the dashboard warns."""
        return max(self.every * 3, self.every + timedelta(minutes=10))


# ----------------------------------------------------------------- adapters


def run_orders(
    channel_id: int, client: AllegroClient, progress: Progress
) -> FlowResult:
    result = sync_orders(channel_id, client, progress=progress)
    counts = {
        "created": result.created,
        "updated": result.updated,
        "cancelled": result.cancelled,
        "events": result.events,
        "forms_read": result.forms_read,
        "backfilled": result.backfilled,
        "set_aside": len(result.set_aside),
    }
    return FlowResult(result.summary(), counts)


def run_tracking(
    channel_id: int, client: AllegroClient, progress: Progress
) -> FlowResult:
    result = sync_tracking(channel_id, client, progress=progress)
    counts = {
        "accepted": result.accepted,
        "already_there": result.already_there,
        "refused": result.refused,
        "needs_action": result.needs_action,
        "statuses": result.statuses,
        "waiting": result.waiting,
    }
    return FlowResult(result.summary(), counts)


def run_lifecycle(
    channel_id: int, client: AllegroClient, progress: Progress
) -> FlowResult:
    result = lifecycle.sync_lifecycle(channel_id, client, progress=progress)
    counts = {
        "ended": result.ended,
        "relisted": result.relisted,
        "failed": result.failed,
        "planned": result.planned,
        "waiting": result.waiting,
        "withdrawn": result.withdrawn,
        "entered": result.entered,
        "expired": result.expired,
        "sent": result.sent,
    }
    return FlowResult(result.summary(), counts)


def run_listings(
    channel_id: int, client: AllegroClient, progress: Progress
) -> FlowResult:
    result = sync_listings(channel_id, client, progress=progress)
    counts = {
        "created": result.created,
        "changed": result.changed,
        "archived": result.archived,
        "linked": result.linked,
        "events": result.events,
        "offers_read": result.offers_read,
    }
    return FlowResult(result.summary(), counts)


def _inventory(
    channel_id: int, client: AllegroClient, progress: Progress, full: bool
) -> FlowResult:
    result = push_changed(channel_id, client, full=full, progress=progress)
    counts = {
        "listings": result.listings,
        "pushed": result.pushed,
        "commands": result.commands,
        "confirmed": result.confirmed,
        "failed": result.failed,
        "waiting": result.waiting,
        "out_of_stock": result.out_of_stock,
    }
    return FlowResult(result.summary(), counts)


def run_inventory(
    channel_id: int, client: AllegroClient, progress: Progress
) -> FlowResult:
    """The listings of items whose stock changed (and commands left waiting)."""
    return _inventory(channel_id, client, progress, full=False)


def run_inventory_reconcile(
    channel_id: int, client: AllegroClient, progress: Progress
) -> FlowResult:
    """Every linked listing: catches whatever a change-triggered pass missed."""
    return _inventory(channel_id, client, progress, full=True)


# ----------------------------------------------------------------- registry

# In the order a full pass (`allegro-hub sync NAME`) runs them.
# Orders first: a sale on Allegro is allocated before inventory computes targets.
# Inventory runs for every channel: with Inventory Sync off it only computes the
# targets the mapping screen shows, and sends nothing.
FLOWS: tuple[Flow, ...] = (
    Flow(name="orders", run=run_orders, interval=60, label=_("Orders")),
    # Pushed within seconds of a dispatch (pending), and every 5 minutes for
    # retries that came due and the daily carrier list. A dispatch backs off by
    # itself (Dispatch.next_attempt_at), so pending() stays quiet meanwhile.
    Flow(
        name="tracking",
        run=run_tracking,
        interval=300,
        label=_("Tracking numbers"),
        pending=tracking_pending,
    ),
    Flow(name="listings", run=run_listings, interval=60, label=_("Listings")),
    Flow(
        name="inventory",
        run=run_inventory,
        interval=60,
        label=_("Stock to Allegro"),
        pending=has_stock_changes,
    ),
    Flow(
        name="inventory_reconcile",
        run=run_inventory_reconcile,
        interval=900,
        label=_("Stock to Allegro (full check)"),
    ),
    # Ends and relists; runs soon after a plan is approved (has_work).
    Flow(
        name="lifecycle",
        run=run_lifecycle,
        interval=300,
        label=_("Ends and relists"),
        pending=lifecycle.has_work,
    ),
)


def flow_names() -> list[str]:
    return [flow.name for flow in FLOWS]


def get_flow(name: str) -> Flow:
    for flow in FLOWS:
        if flow.name == name:
            return flow
    raise KeyError(name)
