"""`allegro-hub demo` as a real process on a fresh installation: its story comes
through the hub's embedded runner (the one `allegro-hub run` starts), not a loop
of the demo's own — orders, stock pushed and confirmed, an end waiting for
confirmation, a relist after the delivery, all said on the dashboard; SIGTERM
stops the runner, saves the emulator and exits 0."""

from __future__ import annotations

import json
import re
import signal
from pathlib import Path
from typing import Any

import httpx

from hub.allegro.tests.installation import hub
from hub.demo.tests.process import (  # noqa: F401 (demo_fixture: the fixture "demo")
    DemoProcess,
    control,
    demo_fixture,
    orders,
    read_until,
    wait_for,
)

STORY = """
import json
from hub.allegro.models import PendingAction
from hub.jobs.models import FlowRun
from hub.orders.models import Dispatch
print(json.dumps({
    "dispatches": sorted(
        (d.carrier_code, d.tracking_number, d.state, str(d.channel_message))
        for d in Dispatch.objects.all()
    ),
    "plans": sorted(
        (a.kind, a.state, a.listing.external_id)
        for a in PendingAction.objects.select_related("listing").filter(
            state__in=PendingAction.OPEN_STATES
        )
    ),
    "confirmed": sum(
        r.counts.get("confirmed", 0) for r in FlowRun.objects.filter(flow="inventory")
    ),
}))
"""

RUNS = """
import json
from hub.jobs.models import FlowRun
runs = {(r.flow, r.trigger, r.outcome) for r in FlowRun.objects.all()}
print(json.dumps(sorted(runs)))
"""


def story(env: dict[str, str]) -> dict[str, Any]:
    done = hub(env, "shell", "-c", STORY)
    assert done.returncode == 0, done.stderr
    found: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def dashboard(web: str) -> str:
    with httpx.Client(base_url=web, timeout=10) as browser:
        login = browser.get("/login/").text
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login)
        assert token is not None
        browser.post(
            "/login/",
            data={
                "csrfmiddlewaretoken": token.group(1),
                "username": "demo",
                "password": "demo",
            },
            headers={"Referer": f"{web}/login/"},
        )
        return browser.get("/").text


def test_the_demo_syncs_through_the_embedded_runner_and_stops_cleanly(
    demo: DemoProcess,
) -> None:
    process, env = demo
    emulator = read_until(process, r"emulator on (http://\S+)").group(1)
    web = read_until(process, r"running on (http://\S+)").group(1).rstrip("/")
    assert httpx.get(f"{web}/login/", timeout=10).status_code == 200

    # The day of history the demo played before the hub first looked.
    history = {cf["id"] for cf in control(emulator, "dump")["checkout_forms"]}
    assert history
    wait_for(lambda: history <= orders(env), 60, "the history imported")
    offer = next(
        o["id"]
        for o in control(emulator, "dump")["offers"]
        if o["external_id"] == "DEMO-002"
    )
    form = control(emulator, "purchase", offer_id=offer, quantity=1)
    wait_for(lambda: form in orders(env), 30, "a new order imported")

    # The story: the powerbank sold out in the hub is planned to end; the
    # thermos's last two sell, Allegro ends it, the delivery comes, a relist is
    # planned. Both wait for the seller; stock went to Allegro and was confirmed.
    # (An end the lifecycle planned for the thermos before Allegro's end reached
    # the hub is withdrawn once the delivery comes: only open plans count.)
    expected = [
        ["END", "WAITING", "DEMO-011"],
        ["RELIST", "WAITING", "DEMO-008"],
    ]
    wait_for(lambda: story(env)["plans"] == expected, 60, "the end and the relist")
    assert story(env)["confirmed"] > 50
    # The warehouse's two parcels: one accepted, one refused in Allegro's words
    wait_for(
        lambda: all(d[2] != "PENDING" for d in story(env)["dispatches"]),
        30,
        "Allegro's answers to the tracking numbers",
    )
    [dpd, inpost] = story(env)["dispatches"]
    assert inpost[:3] == ["INPOST", "620000000000000000000001", "ACCEPTED"]
    assert dpd[:3] == ["DPD", "1234567", "REFUSED"]
    assert "Provided waybill is not valid for this carrier" in dpd[3]
    page = dashboard(web)
    assert (
        "next: end of Powerbank 10000 mAh (DEMO-011) — waiting for your confirmation"
        in page
    )
    assert (
        "next: relist of Termos stalowy 0,5 l (DEMO-008) — waiting for your "
        "confirmation" in page
    )
    sold_out = control(emulator, "dump")["offers"]
    termos = next(o for o in sold_out if o["external_id"] == "DEMO-008")
    assert (termos["status"], termos["ended_by"]) == ("ENDED", "EMPTY_STOCK")

    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert "Demo stopped." in out
    assert "Runner started" in err
    assert "Runner stopped" in err
    assert "Traceback" not in err
    saved = json.loads((Path(env["HUB_DATA_DIR"]) / "demo-emulator.json").read_text())
    assert form in {cf["id"] for cf in saved["checkout_forms"]}
    # Every flow ran on the runner's schedule.
    done = hub(env, "shell", "-c", RUNS)
    assert done.returncode == 0, done.stderr
    runs = {tuple(run) for run in json.loads(done.stdout.strip().splitlines()[-1])}
    assert {flow for flow, _trigger, _outcome in runs} >= {
        "orders",
        "listings",
        "inventory",
        "lifecycle",
    }
    # none failed (a run cut short by the SIGTERM is "interrupted")
    assert {outcome for _flow, _trigger, outcome in runs} <= {"ok", "interrupted"}
    assert ("orders", "schedule", "ok") in runs
    # each exactly once, nothing lost (and the story's sell-out)
    assert len(orders(env)) == len(history) + 3  # + the sell-out, the mug
    assert history | {form} < orders(env)
