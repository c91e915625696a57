"""What `allegro-hub demo` runs next to the web server, in the same process.

- The built-in Allegro emulator over real HTTP, seeded with
  allegro_emulator/demo_seed.json and a day of simulated orders on first start.
  Its state is in memory, so it is saved to the data directory on exit and loaded
  on the next start: the demo's Allegro account survives a restart like the hub's
  database does.
- The buyer simulator: a purchase, payment, cancellation or bid every few seconds.
- The channel "Allegro Demo", pointed at the emulator and connected as demo-seller.

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
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from allegro_emulator import Emulator, EmulatorConfig
from allegro_emulator.__main__ import DEMO_SEED
from allegro_emulator.buyers import BuyerConfig, BuyerSimulator
from allegro_emulator.server import start_background
from allegro_emulator.state import Offer
from hub import crypto
from hub.allegro import auth, connection
from hub.allegro.models import Channel, SyncCursor
from hub.allegro.sync.orders import JOURNAL

log = logging.getLogger("hub.demo")

CHANNEL_NAME = "Allegro Demo"
CLIENT_ID = "demo-client"  # both from demo_seed.json
SELLER_LOGIN = "demo-seller"
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


def demo_seed() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DEMO_SEED.read_text(encoding="utf-8"))
    return data


def demo_client_secret() -> str:
    for client in demo_seed()["clients"]:
        if client["client_id"] == CLIENT_ID:
            return str(client["client_secret"])
    raise LookupError(f"{CLIENT_ID} is not in {DEMO_SEED.name}")


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
    emu.seed(demo_seed())
    play_history(emu, history_steps)
    emu.clock.set(now)
    return True


def active_auction(emu: Emulator) -> Offer | None:
    """The seed's auction while it still takes bids (DEMO-010), for the banner."""
    with emu.lock:
        auctions = [
            o
            for o in emu.offers.values()
            if o.format == "AUCTION" and o.status == "ACTIVE"
        ]
    return min(auctions, key=lambda o: o.id) if auctions else None


def play_history(emu: Emulator, steps: int) -> None:
    """Buyers at work over the last HISTORY, so the first sync has orders to read."""
    buyers = BuyerSimulator(emu, BuyerConfig(seed=secrets.randbits(32)))
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


def connect_channel(channel: Channel, emu: Emulator, fresh: bool) -> connection.Outcome:
    """Keep working tokens; otherwise get demo-seller's through the emulator.

    The emulator hands out a refresh token as if the seller had approved the hub;
    the hub then connects with it over HTTP exactly as with a pasted token. A
    fresh emulator knows no earlier tokens, so they are not even tried.
    """
    if channel.is_connected and not channel.needs_reconnect and not fresh:
        outcome = connection.check_connection(channel)
        if outcome.ok:
            return outcome
    tokens = emu.issue_tokens(CLIENT_ID, SELLER_LOGIN)
    auth.connect_with_refresh_token(channel, tokens["refresh_token"])
    return connection.after_connect(channel)


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
    _stop_server: Callable[[], None]

    def stop(self) -> None:
        """Stop the buyers, save the emulator's state, then close its server."""
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
    history_steps: int = HISTORY_STEPS,
) -> RunningDemo:
    """Start the emulator, connect the channel, start the buyers.

    A buyers interval of 0 leaves them off (the emulator and channel still start).
    """
    emu = new_emulator()
    fresh = load_emulator(emu, dump_path, history_steps=history_steps)
    emulator_url, stop_server = start_background(emu, "127.0.0.1", emulator_port)
    try:
        channel = ensure_channel(emulator_url)
        cursors_reset = reset_stale_cursors(channel, emu, fresh)
        outcome = connect_channel(channel, emu, fresh)
    except BaseException:
        stop_server()
        raise
    buyers = BuyerSimulator(
        emu,
        BuyerConfig(seed=secrets.randbits(32), interval_seconds=buyers_interval or 1.0),
    )
    if buyers_interval > 0:
        buyers.start()
    return RunningDemo(
        emu=emu,
        emulator_url=emulator_url,
        channel=channel,
        connected=outcome,
        fresh=fresh,
        cursors_reset=cursors_reset,
        dump_path=dump_path,
        buyers=buyers,
        _stop_server=stop_server,
    )
