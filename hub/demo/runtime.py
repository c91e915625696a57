"""What `allegro-hub demo` runs next to the web server, in the same process.

- The built-in Allegro emulator over real HTTP, seeded with the demo's account
  (hub/demo/seed.py) and a day of simulated orders on first start.
  Its state is in memory, so it is saved to the data directory on exit and loaded
  on the next start: the demo's Allegro account survives a restart like the hub's
  database does.
- The buyer simulator: a purchase, payment, cancellation or bid every few seconds.
- The channel "Allegro Demo", pointed at the emulator, with inventory sync, ends
  and relists on, connected as demo-seller through the real consent page
  (hub/demo/connect.py).
- The story (hub/demo/story.py): on a fresh account, the last units of one
  offer sell and Allegro ends it; a delivery then brings stock back.

The hub's side is not the demo's: the command serves it with the same server
and embedded runner as `allegro-hub run` (hub/web/management/commands/run.py).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from allegro_emulator import Emulator, EmulatorConfig
from allegro_emulator.buyers import BuyerConfig, BuyerSimulator
from allegro_emulator.server import start_background
from allegro_emulator.state import Offer
from hub import crypto
from hub.allegro import connection
from hub.allegro.models import Channel, SyncCursor
from hub.allegro.sync.orders import JOURNAL
from hub.demo import seed
from hub.demo.connect import connect_through_consent
from hub.demo.story import DELIVERY, Story

log = logging.getLogger("hub.demo")

CHANNEL_NAME = "Allegro Demo"
CLIENT_ID = "demo-client"  # both from demo_seed.json
SELLER_LOGIN = "demo-seller"
DEMO_USERNAME = "demo"  # the hub's demo user (the command's setup makes it)
DUMP_FILE = "demo-emulator.json"
# A fresh emulator gets this much order history before the hub first looks, and
# the channel reads orders back this far (its Sync Orders From). The seed's
# one-day auction (DEMO-010) starts with the history, so it gets its last bids
# and ends, sold to the top bidder, in the demo's first hour.
HISTORY = timedelta(hours=23)
HISTORY_STEPS = 15
SYNC_ORDERS_BACK = timedelta(days=1)
# Seconds between simulated buyer actions: about 7 units sold a minute, so the
# seed's stock (and the hub's, loaded from demo_stock.csv) lasts several hours.
BUYERS_INTERVAL = 5.0


# ----------------------------------------------------------------- emulator


def demo_client_secret() -> str:
    for client in seed.base_seed()["clients"]:
        if client["client_id"] == CLIENT_ID:
            return str(client["client_secret"])
    raise LookupError(f"{CLIENT_ID} is not in the demo's seed")


def new_emulator() -> Emulator:
    """An emulator on the wall clock, like `allegro-hub emulator --demo`.

    Its ids come from a random seed. A saved state carries the id generator on
    (Emulator.dump), but a fresh account, after the saved one was lost, must
    not hand out the ids of checkout forms the hub already imported.
    """
    config = EmulatorConfig(
        realtime_clock=True, command_delay_seconds=2.0, seed=secrets.randbits(63)
    )
    return Emulator(config)


def load_emulator(
    emu: Emulator, dump_path: Path, *, history_steps: int = HISTORY_STEPS
) -> bool:
    """Restore the saved state, or seed a fresh account; True when fresh."""
    if dump_path.is_file():
        try:
            emu.seed(json.loads(dump_path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning(
                "Cannot load %s (%s); starting a fresh account.", dump_path, exc
            )
            emu.reset()
        else:
            # Allegro's time went on while the demo was stopped.
            now = datetime.now(UTC)
            if emu.clock.now() < now:
                emu.clock.set(now)
            return False
    now = datetime.now(UTC)
    emu.clock.set(now - HISTORY)
    emu.seed(seed.demo_account(now))
    place_bids(emu)
    play_history(emu, history_steps)
    emu.clock.set(now)
    return True


def active_auction(emu: Emulator) -> Offer | None:
    """The seed's one-day auction (DEMO-010) while it still takes bids, for the
    banner (the generated auctions run for days)."""
    with emu.lock:
        auctions = [
            o
            for o in emu.offers.values()
            if o.external_id == seed.STORY["AUCTION"] and o.status == "ACTIVE"
        ]
    return auctions[0] if auctions else None


def place_bids(emu: Emulator) -> None:
    """Bids on every other generated auction, one to three each."""
    auctions = sorted(
        (
            o
            for o in emu.offers.values()
            if o.format == "AUCTION"
            and o.status == "ACTIVE"
            and o.external_id != seed.STORY["AUCTION"]
        ),
        key=lambda o: int(o.id),
    )
    for n, offer in enumerate(auctions[::2]):
        price = Decimal(offer.price)
        for bidder in range(1 + n % 3):
            price += Decimal("5.00")
            emu.bid(offer.id, str(price), f"demo_buyer_{(n + bidder) % 40 + 1:02d}")


def play_history(emu: Emulator, steps: int) -> None:
    """Buyers at work over the last HISTORY, so the first sync has orders to read.

    They do not buy the story's listings: those sell while the hub watches (a
    history that sold DEMO-008's last two ended it before the demo began). They
    may bid on its auction, which sells only when it ends, in the demo's first hour.
    """
    spare = frozenset(seed.STORY[name] for name in ("END_AT_ZERO", "RESTOCKED", "MUG"))
    buyers = BuyerSimulator(emu, BuyerConfig(seed=secrets.randbits(32), spare=spare))
    for _ in range(steps):
        emu.advance(HISTORY.total_seconds() / (steps + 1))
        buyers.step()


def save_emulator(emu: Emulator, dump_path: Path) -> None:
    """Write the state atomically: a crash mid-write keeps the previous file."""
    tmp = dump_path.with_name(dump_path.name + ".tmp")
    tmp.write_text(json.dumps(emu.dump()), encoding="utf-8")
    os.replace(tmp, dump_path)


# ------------------------------------------------------------------ channel


def ensure_channel(api_url: str) -> Channel:
    """The demo channel, created once; pointed at this emulator's URL."""
    channel, created = Channel.objects.get_or_create(
        name=CHANNEL_NAME,
        defaults={
            "environment": Channel.Environment.CUSTOM,
            "api_url": api_url,
            "auth_url": api_url,
            "client_id": CLIENT_ID,
            "client_secret_encrypted": crypto.encrypt(demo_client_secret()),
            "sync_orders_from": timezone.now() - SYNC_ORDERS_BACK,
            # The story: stock pushed to Allegro, ends at zero (confirmed on
            # the confirmation screen), relists when stock returns.
            "inventory_sync": True,
            "end_listings": True,
            "relist_items": True,
            "submit_tracking": True,
        },
    )
    if not created and (channel.api_url, channel.auth_url) != (api_url, api_url):
        # Another --emulator-port, same saved account: connect_channel checks
        # whether the tokens still work there.
        Channel.objects.filter(pk=channel.pk).update(
            environment=Channel.Environment.CUSTOM, api_url=api_url, auth_url=api_url
        )
        channel.refresh_from_db()
    return channel


def reset_stale_cursors(channel: Channel, emu: Emulator, fresh: bool) -> bool:
    """Forget the channel's order cursors when they point at another emulator.

    The journal cursor is an event id of the emulator that was running before. A
    fresh emulator numbers its events from 1 again, so reading "after event 57"
    would skip its first 57 events; a saved state older than the hub's database
    (the demo was killed, not stopped) has the same problem. Without cursors the
    next pass starts over: the journal at the latest event, the backfill from
    Sync Orders From, and orders already in the hub are matched, not duplicated.
    """
    journal = SyncCursor.objects.filter(channel=channel, stream=JOURNAL).first()
    if journal is None:
        return False
    if not fresh and _event_number(journal.value) <= emu.last_order_event_id:
        return False
    with transaction.atomic():
        SyncCursor.objects.filter(channel=channel).delete()
        Channel.objects.filter(pk=channel.pk).update(
            sync_orders_from=timezone.now() - SYNC_ORDERS_BACK
        )
    channel.refresh_from_db()
    return True


def _event_number(value: str) -> int:
    try:
        return int(value or 0)
    except ValueError:  # not an emulator event id
        return 1 << 62


def connect_channel(channel: Channel, fresh: bool, hub_host: str) -> connection.Outcome:
    """Keep working tokens; otherwise connect as a seller does: "Connect with
    Allegro", approve on the emulator's consent page, back to the hub's callback
    (hub/demo/connect.py). A fresh emulator knows no earlier tokens, so they are
    not even tried."""
    if channel.is_connected and not channel.needs_reconnect and not fresh:
        outcome = connection.check_connection(channel)
        if outcome.ok:
            return outcome
    connect_through_consent(channel, DEMO_USERNAME, hub_host)
    channel.refresh_from_db()
    return connection.after_connect(channel)  # the account, as the banner says it


def consent_page_url(emulator_url: str, hub_url: str) -> str:
    """The emulator's authorize page, as "Connect with Allegro" opens it."""
    query = urlencode(
        {
            "response_type": "code",
            "client_id": CLIENT_ID,
            "redirect_uri": hub_url.rstrip("/") + reverse("channel_oauth_callback"),
        }
    )
    return f"{emulator_url}/auth/oauth/authorize?{query}"


# ------------------------------------------------------------------ running


@dataclass
class RunningDemo:
    emu: Emulator
    emulator_url: str
    channel: Channel
    connected: connection.Outcome
    fresh: bool
    cursors_reset: bool
    dump_path: Path
    buyers: BuyerSimulator
    story: Story | None
    _stop_server: Callable[[], None]

    def stop(self) -> None:
        """Stop the buyers, save the emulator's state, then close its server."""
        if self.story is not None:
            self.story.stop()
        self.buyers.stop()
        try:
            save_emulator(self.emu, self.dump_path)
        finally:
            self._stop_server()


def start_demo(
    *,
    emulator_port: int,
    buyers_interval: float,
    dump_path: Path,
    hub_host: str = "127.0.0.1:8000",
    history_steps: int = HISTORY_STEPS,
    delivery: float | None = DELIVERY,
) -> RunningDemo:
    """Start the emulator, connect the channel, start the buyers.

    A buyers interval of 0 leaves them off; ``delivery`` None leaves the story
    out (the emulator and channel still start). ``hub_host`` is where the hub listens:
    the consent page sends the seller back there.
    """
    emu = new_emulator()
    fresh = load_emulator(emu, dump_path, history_steps=history_steps)
    emulator_url, stop_server = start_background(emu, "127.0.0.1", emulator_port)
    try:
        channel = ensure_channel(emulator_url)
        cursors_reset = reset_stale_cursors(channel, emu, fresh)
        outcome = connect_channel(channel, fresh, hub_host)
    except BaseException:
        stop_server()
        raise
    buyers = BuyerSimulator(
        emu,
        BuyerConfig(seed=secrets.randbits(32), interval_seconds=buyers_interval or 1.0),
    )
    if buyers_interval > 0:
        buyers.start()
    story = None
    if fresh and delivery is not None:
        story = Story(emu, channel.pk, delivery)
        story.start()
    return RunningDemo(
        emu=emu,
        emulator_url=emulator_url,
        channel=channel,
        connected=outcome,
        fresh=fresh,
        cursors_reset=cursors_reset,
        dump_path=dump_path,
        buyers=buyers,
        story=story,
        _stop_server=stop_server,
    )
