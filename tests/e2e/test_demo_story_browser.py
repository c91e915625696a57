"""The demo's story in the browser, against `allegro-hub demo` as a real process
(its emulator, its channel connected through the consent page, its embedded
runner): log in, see an imported order, approve an end on the confirmation
screen and see the listing ended on Allegro, restock it on the item's page and
see it relisted once the relist is approved, dispatch an order with a tracking
number and see Allegro accept it, and another with a mistyped one and see
Allegro's reason for refusing it."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest

from hub.demo.tests.process import (  # noqa: F401 (demo_fixture: the fixture "demo")
    DemoProcess,
    control,
    demo_fixture,
    read_until,
)

pytestmark = pytest.mark.browser

POWERBANK = "Powerbank 10000 mAh"  # seed.STORY["END_AT_ZERO"], none in the hub


def until(check: Callable[[], Any], what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, f"timed out: {what}"
        time.sleep(0.5)
    return found


def offer(emulator: str, sku: str) -> dict[str, Any]:
    offers = control(emulator, "dump")["offers"]
    found: dict[str, Any] = next(o for o in offers if o["external_id"] == sku)
    return found


def waybills(emulator: str, form_id: str) -> list[str]:
    """The tracking numbers on the order on Allegro's side."""
    forms = control(emulator, "dump")["checkout_forms"]
    form = next(cf for cf in forms if cf["id"] == form_id)
    return [shipment["waybill"] for shipment in form["shipments"]]


def approve(page: Any, web: str, title: str, kind: str) -> None:
    """On the confirmation screen: wait for the plan, tick it, approve it."""

    def row() -> Any:
        page.goto(f"{web}/settings/channels/1/lifecycle/")
        found = page.locator("#waiting tbody tr", has_text=title)
        return found if found.count() == 1 else None

    found = until(row, f"a plan for {title} waiting")
    assert kind in found.inner_text()
    found.locator("input[type=checkbox]").check()
    with page.expect_navigation():
        page.click("#approve-selected")
    assert "approved" in page.inner_text(".messages").lower()


def open_order(page: Any, web: str, form_id: str) -> None:
    def found() -> Any:
        page.goto(f"{web}/orders/?q={form_id}")
        link = page.locator("table a[href^='/orders/']")
        return link.first if link.count() == 1 else None

    until(found, f"order {form_id} imported").click()
    page.wait_for_url(re.compile(r"/orders/\d+/$"))


def dispatch(page: Any, carrier: str, number: str) -> Any:
    """Mark the open order dispatched; wait for the channel's answer."""
    page.fill("#id_carrier", carrier)
    page.fill("#id_tracking_number", number)
    # The form posts and comes back to the order page: reloading before that
    # navigation has finished detaches the page (seen as a flaky failure).
    with page.expect_navigation():
        page.click("#dispatch-form button[type=submit]")
    row = page.locator("table.dispatches tbody tr", has_text=number)

    def answered() -> bool:
        page.reload()
        # "Accepted by the channel" or "Refused by the channel"
        return row.count() == 1 and "by the channel" in row.inner_text()

    until(answered, f"the channel's answer for {number}")
    return row


def test_the_demo_story_in_the_browser(demo: DemoProcess, browser_page: Any) -> None:
    process, _env = demo
    emulator = read_until(process, r"emulator on (http://\S+)").group(1)
    web = read_until(process, r"running on (http://\S+)").group(1).rstrip("/")
    page = browser_page

    # Log in as the demo prints it
    page.goto(f"{web}/login/")
    page.fill("#id_username", "demo")
    page.fill("#id_password", "demo")
    page.click("button[type=submit]")
    page.wait_for_url(f"{web}/")

    # An order imported from the demo's Allegro by the runner
    def first_order() -> Any:
        page.reload()
        link = page.locator("table a[href^='/orders/']")  # the latest orders
        return link.first if link.count() else None

    until(first_order, "an imported order on the dashboard").click()
    page.wait_for_url(re.compile(r"/orders/\d+/$"))
    detail = page.inner_text("main")
    forms = {cf["id"] for cf in control(emulator, "dump")["checkout_forms"]}
    assert any(form in detail for form in forms)
    assert "Allegro Demo" in detail

    # The dashboard says what comes next, and where to confirm it
    page.goto(f"{web}/")
    end_line = page.locator(".next-step", has_text=POWERBANK)
    until(lambda: (page.reload() or True) and end_line.count() == 1, "next: end")
    assert end_line.inner_text().startswith(
        f"next: end of {POWERBANK} (DEMO-011) — waiting for your confirmation"
    )
    before = offer(emulator, "DEMO-011")
    assert (before["status"], before["stock"]) == ("ACTIVE", 3)

    # Approve the end: the runner sends it, Allegro ends the offer
    approve(page, web, POWERBANK, "End")
    ended = until(
        lambda: offer(emulator, "DEMO-011")["status"] == "ENDED", "ended on Allegro"
    )
    assert ended
    assert offer(emulator, "DEMO-011")["ended_by"] == "USER"

    # Restock on the item's page: a relist is planned; approved, it goes live
    page.goto(f"{web}/inventory/?q=DEMO-011")
    page.click("#inventory >> text=DEMO-011")
    page.click("text=Edit")
    page.get_by_label("Default").fill("5")
    with page.expect_navigation():
        page.click("button:has-text('Save')")
    assert "Saved DEMO-011." in page.inner_text(".messages")
    approve(page, web, POWERBANK, "Relist")
    until(
        lambda: offer(emulator, "DEMO-011")["status"] == "ACTIVE", "relisted on Allegro"
    )
    relisted = offer(emulator, "DEMO-011")
    assert relisted["stock"] == 5
    assert relisted["id"] == before["id"]  # the same offer, activated again

    # Dispatch two paid orders from the order page: a good InPost number is
    # accepted; a DPD number too short for DPD is refused with Allegro's words
    good = control(emulator, "purchase", offer_id=offer(emulator, "DEMO-002")["id"])
    bad = control(emulator, "purchase", offer_id=offer(emulator, "DEMO-003")["id"])
    for form_id in (good, bad):
        control(emulator, "pay", cf_id=form_id)
    open_order(page, web, good)
    until(lambda: page.reload() or page.locator(".badge-paid").count(), "paid")
    accepted = dispatch(page, "InPost", "620000000000000000000777")
    assert "Accepted by the channel" in accepted.inner_text()
    assert waybills(emulator, good) == ["620000000000000000000777"]

    open_order(page, web, bad)
    until(lambda: page.reload() or page.locator(".badge-paid").count(), "paid")
    refused = dispatch(page, "DPD", "1234567")
    assert "Refused by the channel" in refused.inner_text()
    reason = refused.locator(".channel-message").inner_text()
    assert "Provided waybill is not valid for this carrier" in reason
    assert waybills(emulator, bad) == []
