"""`allegro-hub run` as a real process: web and runner in one command, SQLite,
nothing else; the emulator over real HTTP."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import httpx

from allegro_emulator.server import start_background
from hub.allegro.tests.fixtures import HubEmulator
from hub.allegro.tests.installation import HUB, hub

SETUP = """
import json, os
from hub.allegro.auth import store_tokens
from hub.allegro.models import Channel
given = json.loads(os.environ["RUN_TEST"])
channel = Channel(
    name="Shop", environment="custom", api_url=given["url"], auth_url=given["url"],
    client_id=given["client_id"], account_id=given["seller_id"],
    marketplace_id="allegro-pl", default_currency="PLN",
)
channel.client_secret = given["client_secret"]
channel.save()
store_tokens(channel, given["tokens"])
"""


def orders(env: dict[str, str]) -> list[str]:
    listed = hub(env, "orders", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    return [row["external_id"] for row in json.loads(listed.stdout)]


def test_run_alone_imports_an_order_placed_on_allegro_and_stops_cleanly(
    tmp_path: Path, emulator: HubEmulator
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    for name in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"):
        env.pop(name, None)
    env["HUB_DATA_DIR"] = str(tmp_path)
    env["HUB_SYNC_INTERVALS"] = "orders=1"
    offer = emulator.add_offer(emulator.seller_id, "Kubek", quantity=5)
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
        assert server.stdout is not None
        line = server.stdout.readline()
        assert "allegro-hub is running on http://127.0.0.1:" in line, line
        web = line.split("running on ")[1].split(" ")[0].rstrip("/")
        # The first pass starts the journal; an order placed after it arrives.
        deadline = time.monotonic() + 30
        while not any(r["path"] == "/order/event-stats" for r in emulator.request_log):
            assert time.monotonic() < deadline, "the runner never asked Allegro"
            time.sleep(0.05)
        form = emulator.purchase(offer, quantity=2)
        while orders(env) != [form]:
            assert time.monotonic() < deadline, "the order never arrived"
            time.sleep(0.2)
        assert httpx.get(f"{web}/login/", timeout=10).status_code == 200

        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
        log = server.stderr.read() if server.stderr else ""
        assert "Runner stopped" in log
        assert "Traceback" not in log
    finally:
        if server is not None and server.poll() is None:
            server.kill()
        stop_emulator()

    assert orders(env) == [form]  # exactly once
