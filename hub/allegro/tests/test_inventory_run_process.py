"""`allegro-hub run` alone pushes a stock change to Allegro (emulator over real
HTTP), with no sync command: the stock-change record triggers the push."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

from allegro_emulator.server import start_background
from hub.allegro.tests.fixtures import HubEmulator
from hub.jobs.tests.test_run_process import HUB, hub

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


def test_stock_change_reaches_allegro_through_run_alone(
    tmp_path: Path, emulator: HubEmulator
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    for name in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"):
        env.pop(name, None)
    env["HUB_DATA_DIR"] = str(tmp_path)
    # Only the change trigger can push within the test: the periodic passes
    # are an hour away once they have run at start.
    env["HUB_SYNC_INTERVALS"] = "inventory=3600,inventory_reconcile=3600"
    env["HUB_TRIGGER_DEBOUNCE"] = "1"
    offer = emulator.add_offer(emulator.seller_id, "Kubek", external_id="MUG-1")
    base_url, stop_emulator = start_background(emulator)
    server = None
    try:
        assert hub(env, "migrate", "--noinput").returncode == 0
        given = {
            "url": base_url,
            "client_id": emulator.client_id,
            "client_secret": emulator.client_secret,
            "seller_id": emulator.seller_id,
            "tokens": emulator.issue_tokens(emulator.client_id, emulator.seller_id),
        }
        setup = hub({**env, "RUN_TEST": json.dumps(given)}, "shell", "-c", SETUP)
        assert setup.returncode == 0, setup.stderr
        server = subprocess.Popen(
            [HUB, "run", "--port", "0"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 90
        # The listings flow imports and links the offer (external id = SKU).
        while True:
            listed = hub(env, "listings", "list", "Shop", "--json")
            rows = json.loads(listed.stdout) if listed.returncode == 0 else []
            if rows and rows[0]["sku"] == "MUG-1":
                break
            assert time.monotonic() < deadline, "the listing never got linked"
            time.sleep(0.3)

        assert hub(env, "stock", "set", "MUG-1", "7").returncode == 0

        while emulator.offer(offer)["stock"]["available"] != 7:
            assert time.monotonic() < deadline, "the change never reached Allegro"
            time.sleep(0.2)
        while True:  # and the hub saw Allegro's confirmation
            rows = json.loads(hub(env, "listings", "list", "Shop", "--json").stdout)
            if rows[0]["push_state"] == "DONE":
                break
            assert time.monotonic() < deadline, "the push was never confirmed"
            time.sleep(0.3)
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
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
    assert rows[0]["allegro_quantity"] == 7
