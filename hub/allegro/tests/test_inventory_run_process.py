"""`allegro-hub run` alone pushes a stock change to Allegro (emulator over real
HTTP), with no sync command: the stock-change record triggers the push."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from allegro_emulator.server import start_background
from hub.allegro.tests.fixtures import HubEmulator
from hub.allegro.tests.installation import HUB, fresh_installation, hub

SETUP = """
import json, os
from hub.allegro.auth import store_tokens
from hub.allegro.models import Channel
from hub.catalog.models import StockItem
given = json.loads(os.environ["RUN_TEST"])
StockItem.objects.create(sku="MUG-1", title="Mug")
channel = Channel(
    name="Shop", environment="custom", api_url=given["url"], auth_url=given["url"],
    client_id=given["client_id"], account_id=given["seller_id"],
    marketplace_id="allegro-pl", default_currency="PLN", inventory_sync=True,
)
channel.client_secret = given["client_secret"]
channel.save()
store_tokens(channel, given["tokens"])
"""

# Each poll below starts a CLI process (about a second of Django start-up on a busy
# machine); the deadline is generous because the suite may share two cores with
# other test processes. It bounds a hang, it is not a speed goal (bench/ has that).
DEADLINE_SECONDS = 240


def listings(env: dict[str, str]) -> list[dict[str, object]]:
    listed = hub(env, "listings", "list", "Shop", "--json")
    return json.loads(listed.stdout) if listed.returncode == 0 else []


def wait_for(what: str, done: Callable[[], bool], deadline: float) -> None:
    while not done():
        assert time.monotonic() < deadline, what
        time.sleep(0.5)


def test_stock_change_reaches_allegro_through_run_alone(
    tmp_path: Path, emulator: HubEmulator
) -> None:
    offer = emulator.add_offer(emulator.seller_id, "Kubek", external_id="MUG-1")
    base_url, stop_emulator = start_background(emulator)
    server = None
    with fresh_installation("sqlite", tmp_path, "inventory_run") as env:
        # Only the change trigger can push within the test: the periodic passes
        # are an hour away once they have run at start.
        env["HUB_SYNC_INTERVALS"] = "inventory=3600,inventory_reconcile=3600"
        env["HUB_TRIGGER_DEBOUNCE"] = "1"
        try:
            assert hub(env, "migrate", "--noinput").returncode == 0
            given = {
                "url": base_url,
                "client_id": emulator.client_id,
                "client_secret": emulator.client_secret,
                "seller_id": emulator.seller_id,
                "tokens": emulator.issue_tokens(emulator.client_id, emulator.seller_id),
            }
            setup = hub(env, "shell", "-c", SETUP, RUN_TEST=json.dumps(given))
            assert setup.returncode == 0, setup.stderr
            server = subprocess.Popen(
                [HUB, "run", "--port", "0"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=(tmp_path / "run.log").open("w"),
            )
            deadline = time.monotonic() + DEADLINE_SECONDS
            # The listings flow imports and links the offer (external id = SKU).
            wait_for(
                "the listing never got linked",
                lambda: [r["sku"] for r in listings(env)] == ["MUG-1"],
                deadline,
            )
            assert not [r for r in emulator.request_log if r["method"] == "PUT"]

            assert hub(env, "stock", "set", "MUG-1", "7").returncode == 0

            wait_for(
                "the change never reached Allegro",
                lambda: emulator.offer(offer)["stock"]["available"] == 7,
                deadline,
            )
            wait_for(
                "the push was never confirmed",
                lambda: listings(env)[0]["push_state"] == "DONE",
                deadline,
            )
            server.send_signal(signal.SIGTERM)
            assert server.wait(timeout=60) == 0
        finally:
            if server is not None and server.poll() is None:
                server.kill()
            stop_emulator()

        puts = [
            r
            for r in emulator.request_log
            if r["method"] == "PUT" and "quantity-change" in r["path"]
        ]
        assert len(puts) == 1  # one command, sent once
        (row,) = listings(env)
        assert row["allegro_quantity"] == 7
        assert "Traceback" not in (tmp_path / "run.log").read_text()
