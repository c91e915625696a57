"""Inventory push under a real kill: `allegro-hub sync --only inventory` SIGKILLed
between storing a command, sending it and reading its report, then resumed.

Each pass is its own process against the emulator over HTTP, on a file database.
Stock changes between passes (the CLI's `stock set`). At the end every offer
shows its item's available stock, every command the hub stored reached Allegro
exactly once under its own id, and Allegro saw no command the hub does not know.
"""

from __future__ import annotations

import json
import random
import subprocess
from pathlib import Path

from allegro_emulator import EmulatorConfig
from allegro_emulator.server import start_background
from hub.allegro.tests.fixtures import make_emulator
from hub.allegro.tests.test_sync_orders_kill import HUB, hub, hub_env, kill_after

__all__ = ["hub_env"]  # the fixture, shared with the orders kill test

CHANNEL = "Killed stock"
SKUS = [f"SKU-{n}" for n in range(6)]
ROUNDS = 5

SETUP = """
import json, os
from hub.allegro.auth import store_tokens
from hub.allegro.models import Channel
from hub.catalog import stock
from hub.catalog.models import StockItem
given = json.loads(os.environ["KILL_TEST"])
for sku in given["skus"]:
    stock.set_on_hand(StockItem.objects.create(sku=sku, title=sku),
                      stock.default_location(), 10)
channel = Channel(
    name=given["name"], environment="custom", api_url=given["url"],
    auth_url=given["url"], client_id=given["client_id"],
    account_id=given["seller_id"], marketplace_id="allegro-pl",
    default_currency="PLN", inventory_sync=True,
)
channel.client_secret = given["client_secret"]
channel.save()
store_tokens(channel, given["tokens"])
"""

DUMP = """
import json
from hub.allegro.models import Listing, RemoteCommand
from hub.catalog import stock
from hub.catalog.models import StockItem
print(json.dumps({
    "available": {i.sku: stock.available(i) for i in StockItem.objects.all()},
    "commands": {str(c.command_id): c.state for c in RemoteCommand.objects.all()},
    "pending": Listing.objects.exclude(push_state="DONE").count(),
}))
"""


def inventory_pass(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [HUB, "sync", CHANNEL, "--only", "inventory", "--quiet"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_killed_inventory_passes_push_each_command_exactly_once(
    hub_env: dict[str, str], tmp_path: Path
) -> None:
    rng = random.Random(11)
    emu = make_emulator(EmulatorConfig(seed=11, rate_limit_per_minute=None))
    offers = {
        sku: [
            emu.add_offer(emu.seller_id, f"{sku} {n}", external_id=sku, quantity=1)
            for n in range(3)
        ]
        for sku in SKUS
    }
    # Every command call takes a little while: kills land between the hub's
    # steps (stored / sent / report read) rather than only between passes.
    emu.add_fault(r"^/sale/offer-quantity", "slow", count=None, delay_seconds=0.02)
    base_url, stop = start_background(emu)
    try:
        assert hub(hub_env, "migrate", "--noinput").returncode == 0
        given = {
            "skus": SKUS,
            "name": CHANNEL,
            "url": base_url,
            "client_id": emu.client_id,
            "client_secret": emu.client_secret,
            "seller_id": emu.seller_id,
            "tokens": emu.issue_tokens(emu.client_id, emu.seller_id),
        }
        setup = hub({**hub_env, "KILL_TEST": json.dumps(given)}, "shell", "-c", SETUP)
        assert setup.returncode == 0, setup.stderr
        listed = hub(hub_env, "sync", CHANNEL, "--only", "listings", "--quiet")
        assert listed.returncode == 0, listed.stderr

        killed = 0
        for _round in range(ROUNDS):
            process = inventory_pass(hub_env)
            killed += kill_after(emu, process, rng.randint(1, 5), rng.random() / 50)
            for sku in rng.sample(SKUS, 2):  # stock moves meanwhile
                moved = hub(hub_env, "stock", "set", sku, str(rng.randint(1, 40)))
                assert moved.returncode == 0, moved.stderr
        assert killed >= ROUNDS - 2, f"only {killed} passes were killed mid-pass"

        for _ in range(2):  # the resume, then a pass with nothing to do
            done = hub(hub_env, "sync", CHANNEL, "--only", "inventory", "--quiet")
            assert done.returncode == 0, done.stderr
        dump = hub(hub_env, "shell", "-c", DUMP)
        assert dump.returncode == 0, dump.stderr
    finally:
        stop()

    state = json.loads(dump.stdout.strip().splitlines()[-1])
    for sku, ids in offers.items():
        shown = [emu.offer(offer)["stock"]["available"] for offer in ids]
        assert shown == [state["available"][sku]] * 3, sku
    # Allegro saw every stored command once, and nothing the hub did not store.
    on_allegro = {command_id for kind, command_id in emu.commands if kind == "quantity"}
    assert on_allegro == set(state["commands"])
    assert set(state["commands"].values()) == {"DONE"}
    assert state["pending"] == 0
    # Every PUT used the id of a stored command (a resend after a kill: 409).
    put_ids = {
        r["path"].rsplit("/", 1)[-1] for r in emu.requests if r["method"] == "PUT"
    }
    assert put_ids == on_allegro
