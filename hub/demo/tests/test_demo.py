"""`allegro-hub demo`: setup, the emulator-backed channel, restarts.

The runtime runs for real: the emulator over HTTP on a free port, the hub talking
to it through the Allegro client. The buyers are left off (interval 0) and each
test runs the orders flow itself, through the runner's own code
(hub.jobs.execute.run_flows_now, what `allegro-hub sync` runs); the demo under
the embedded runner is in test_demo_runner.py.
"""

from __future__ import annotations

import csv
import io
import json
import socket
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal
from io import StringIO
from pathlib import Path

import httpx
import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from pytest_django.fixtures import Settings

from allegro_emulator import Emulator, EmulatorConfig
from allegro_emulator.buyers import BuyerConfig, BuyerSimulator
from hub.allegro.models import Channel, SyncCursor
from hub.allegro.sync.orders import JOURNAL
from hub.allegro.tests.fixtures import token_grants
from hub.catalog import stock
from hub.catalog.models import StockItem
from hub.demo import runtime as demo_runtime
from hub.demo import seed
from hub.demo.management.commands.demo import Command as DemoCommand
from hub.demo.runtime import RunningDemo, start_demo
from hub.demo.seed import DEMO_STOCK, generated_stock
from hub.jobs.execute import run_flows_now
from hub.jobs.models import FlowRun
from hub.jobs.registry import get_flow
from hub.orders.models import Order

pytestmark = pytest.mark.django_db

StartDemo = Callable[..., RunningDemo]
TOKEN = "/auth/oauth/token"


@pytest.fixture
def demo_setup() -> None:
    call_command("demo", "--setup-only", stdout=StringIO())


@pytest.fixture
def run_demo(demo_setup: None, tmp_path: Path) -> Iterator[StartDemo]:
    """start_demo on a free port with the loops off; stopped after the test."""
    running: list[RunningDemo] = []

    def start(**options: object) -> RunningDemo:
        kwargs: dict[str, object] = {
            "emulator_port": 0,
            "buyers_interval": 0,
            "delivery": None,
            "dump_path": tmp_path / "emulator.json",
        }
        demo = start_demo(**(kwargs | options))  # type: ignore[arg-type]
        running.append(demo)
        return demo

    yield start
    for demo in running:
        demo.stop()


def sync_orders() -> list[str]:
    """One run of the orders flow for every channel; the summaries of the runs
    that found something (as the runner records them)."""
    lines = []
    for channel in Channel.objects.order_by("pk"):
        [(_flow, run)] = run_flows_now(channel, [get_flow("orders")])
        assert run is not None
        assert run.outcome == FlowRun.Outcome.OK, run.error
        if run.counts["events"] or run.counts["backfilled"]:
            lines.append(f"{channel.name} · {run.summary}")
    return lines


def offer_id(demo: RunningDemo, sku: str) -> str:
    return next(o.id for o in demo.emu.offers.values() if o.external_id == sku)


def item(sku: str) -> StockItem:
    return StockItem.objects.get(sku=sku)


def assert_hub_matches_emulator(demo: RunningDemo) -> None:
    """Every checkout form is one order of the demo channel, in the same state,
    and open orders hold exactly their quantities of stock."""
    forms = {cf.id: cf for cf in demo.emu.checkout_forms.values()}
    orders = {o.external_id: o for o in Order.objects.prefetch_related("lines")}
    assert set(orders) == set(forms)
    wanted: Counter[str] = Counter()
    stocked = set(StockItem.objects.values_list("sku", flat=True))
    for form_id, order in orders.items():
        assert order.sub_source == "Allegro Demo"
        assert order.account == str(demo.channel.pk)
        assert order.channel_status == forms[form_id].status
        cancelled = forms[form_id].status == "CANCELLED"
        assert order.status == (Order.Status.CANCELLED if cancelled else "OPEN")
        for line in order.lines.all():
            if line.sku not in stocked:  # an offer the hub has no stock for
                assert line.stock_item is None
                continue
            assert line.stock_item is not None
            assert line.stock_item.sku == line.sku
            if not cancelled:
                wanted[line.sku] += line.quantity
    for stock_item in StockItem.objects.all():
        assert stock.allocated(stock_item) == wanted[stock_item.sku], stock_item.sku


# -------------------------------------------------------------------- setup


def test_setup_only_is_idempotent_and_starts_nothing() -> None:
    call_command("demo", "--setup-only", stdout=StringIO())
    item("DEMO-001")
    stock.set_on_hand(item("DEMO-001"), stock.default_location(), 7)

    out = StringIO()
    call_command("demo", "--setup-only", stdout=out)

    assert "Sample stock is already loaded." in out.getvalue()
    assert get_user_model().objects.filter(username="demo").count() == 1
    generated = len(generated_stock().decode().splitlines()) - 1  # the header
    assert StockItem.objects.count() == 10 + generated
    assert stock.on_hand(item("DEMO-001")) == 7
    assert not Channel.objects.exists()


def test_busy_emulator_port_is_a_clear_error(demo_setup: None) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(CommandError, match=f"port {port}.*--emulator-port"):
            call_command(
                "demo", "--emulator-port", str(port), "--port", "0", stdout=StringIO()
            )
    assert not Channel.objects.exists()


def test_busy_hub_port_is_a_clear_error_and_everything_stops(
    demo_setup: None, tmp_path: Path, settings: Settings
) -> None:
    settings.DATA_DIR = tmp_path
    out = StringIO()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(CommandError, match=f"port {port}.*--port"):
            call_command(
                "demo",
                *("--port", str(port), "--emulator-port", "0"),
                *("--buyers-interval", "0", "--sync-interval", "0"),
                stdout=out,
            )
    # The emulator started and stopped: its state was saved, the channel is there.
    assert "Demo stopped." in out.getvalue()
    saved = json.loads((tmp_path / demo_runtime.DUMP_FILE).read_text())
    assert [s["login"] for s in saved["sellers"]] == ["demo-seller"]
    assert Channel.objects.get().account_login == "demo-seller"


# ------------------------------------------------------------ first start


def test_first_start_connects_the_channel_and_imports_the_history(
    run_demo: StartDemo,
) -> None:
    demo = run_demo()

    channel = Channel.objects.get()
    assert demo.fresh
    assert not demo.cursors_reset
    assert demo.connected.ok
    assert (channel.name, channel.environment) == ("Allegro Demo", "custom")
    assert channel.api_url == channel.auth_url == demo.emulator_url
    assert (channel.client_id, channel.client_secret) == (
        "demo-client",
        "demo-secret-not-for-production",
    )
    assert (channel.account_login, channel.account_id) == ("demo-seller", "50000001")
    assert channel.default_currency == "PLN"
    assert channel.is_connected
    assert not channel.needs_reconnect
    assert channel.enabled
    day_ago = timezone.now() - timedelta(days=1)
    assert channel.sync_orders_from is not None
    # The channel's form keeps whole minutes: up to one early, plus the start.
    assert abs(channel.sync_orders_from - day_ago) < timedelta(minutes=2)
    # A day of history: the emulator's clock went back, then forward to now.
    assert demo.emu.checkout_forms
    assert abs(demo.emu.clock.now() - timezone.now()) < timedelta(minutes=1)

    lines = sync_orders()

    assert len(lines) == 1
    assert lines[0].startswith("Allegro Demo · orders: ")
    assert_hub_matches_emulator(demo)


def test_buyers_then_one_pass_creates_orders_that_reserve_stock(
    run_demo: StartDemo,
) -> None:
    demo = run_demo(history_steps=0)
    assert not demo.emu.checkout_forms
    assert sync_orders() == []  # first pass: the journal starts, nothing to read
    buyers = BuyerSimulator(demo.emu, BuyerConfig(seed=3))
    done = [buyers.step() for _ in range(12)]
    assert any(step and " bought " in step for step in done)

    sync_orders()

    assert_hub_matches_emulator(demo)
    assert Order.objects.count() == len(demo.emu.checkout_forms) > 0


def test_one_purchase_is_one_order_with_stock_allocated(run_demo: StartDemo) -> None:
    demo = run_demo(history_steps=0)
    sync_orders()
    form_id = demo.emu.purchase(offer_id(demo, "DEMO-003"), 2)
    demo.emu.pay(form_id)

    lines = sync_orders()

    assert lines == [
        "Allegro Demo · orders: 1 new, 0 updated, 0 unchanged (3 events, 1 "
        "checkout forms read, 0 from backfill); 0 cancelled; 0 lines not linked"
    ]
    order = Order.objects.get()
    assert (order.external_id, order.sub_source, order.paid) == (
        form_id,
        "Allegro Demo",
        True,
    )
    assert stock.allocated(item("DEMO-003")) == 2
    assert stock.available(item("DEMO-003")) == 300 - 2
    assert sync_orders() == []  # nothing new: no second order, no line
    assert Order.objects.count() == 1


def test_unpaid_order_total_has_the_delivery_once_the_buyer_chose_it(
    run_demo: StartDemo,
) -> None:
    demo = run_demo(history_steps=0)
    sync_orders()
    form_id = demo.emu.purchase(offer_id(demo, "DEMO-004"), 2)  # 2 × 24.50

    sync_orders()

    order = Order.objects.get()
    assert (order.channel_status, order.paid) == ("BOUGHT", False)
    assert (order.total, order.delivery_cost, order.delivery_method) == (
        Decimal("49.00"),
        Decimal("0.00"),
        "",
    )
    demo.emu.fill_in(form_id)
    delivery = demo.emu.checkout_form(form_id)["delivery"]
    cost = Decimal(delivery["cost"]["amount"])
    assert cost in (Decimal("15.99"), Decimal("17.99"))

    sync_orders()

    order.refresh_from_db()
    assert order.channel_status == "FILLED_IN"
    assert (order.total, order.delivery_cost, order.delivery_method) == (
        Decimal("49.00") + cost,
        cost,
        delivery["method"]["name"],
    )
    demo.emu.pay(form_id)
    sync_orders()
    order.refresh_from_db()
    assert (order.paid, order.total) == (True, Decimal("49.00") + cost)


def test_the_demo_account_and_the_stock_beside_it(tmp_path: Path) -> None:
    # Given the demo's Allegro account, as a fresh demo starts it (history too)
    emu = Emulator(EmulatorConfig())
    assert demo_runtime.load_emulator(emu, tmp_path / "none.json")
    start = emu.clock.now()
    offers = {o.external_id: o for o in emu.offers.values()}
    kinds = Counter((o.format, o.status) for o in offers.values())
    assert len(offers) == 10 + 1 + seed.GENERATED
    assert kinds[("BUY_NOW", "ACTIVE")] > 200
    assert kinds[("AUCTION", "ACTIVE")] == 30
    with_bids = [o for o in offers.values() if o.format == "AUCTION" and o.bids]
    assert 10 <= len(with_bids) < 30
    ended = [o for o in offers.values() if o.status == "ENDED"]
    assert all(offer.ended_at is not None for offer in ended)
    # The seed's ended 1–5 days ago; the buyers of the demo's history (its last
    # 23 hours, random each start) may sell out a few more since.
    seeded = [o for o in ended if start - o.ended_at >= timedelta(days=1)]  # type: ignore[operator]
    assert len(seeded) == seed.GENERATED // 10
    for offer in seeded:
        assert start - offer.ended_at < timedelta(days=6)  # type: ignore[operator]
    assert {o.ended_by for o in seeded} == {"EMPTY_STOCK", "USER"}
    for offer in ended:
        if offer not in seeded:
            assert offer.ended_by == "EMPTY_STOCK"
            assert start - offer.ended_at < demo_runtime.HISTORY  # type: ignore[operator]

    # The hub's stock: the ten of the fixture cover Allegro's; of the others
    # some match, some differ, some are missing (unlinked listings)
    rows = [
        *csv.DictReader(io.StringIO(DEMO_STOCK.read_text(encoding="utf-8"))),
        *csv.DictReader(io.StringIO(seed.generated_stock().decode())),
    ]
    on_hand = {row["sku"]: int(row["on_hand"]) for row in rows}
    for n in range(1, 11):
        sku = f"DEMO-{n:03}"
        assert on_hand[sku] >= offers[sku].stock, sku
    live = [
        o for o in offers.values()
        if o.status == "ACTIVE" and o.format == "BUY_NOW"
        and (o.external_id or "") > "DEMO-1"
    ]  # fmt: skip
    same = [o for o in live if on_hand.get(o.external_id) == o.stock]
    more = [o for o in live if on_hand.get(o.external_id, 0) > o.stock]
    missing = [o for o in live if o.external_id not in on_hand]
    assert min(len(same), len(more), len(missing)) > 20
    zero = [
        o
        for o in offers.values()
        if o.status == "ACTIVE" and on_hand.get(o.external_id) == 0
    ]
    # the one live offer sold out in the hub: the story's end
    assert [o.external_id for o in zero] == [seed.STORY["END_AT_ZERO"]]
    restocked = offers[seed.STORY["RESTOCKED"]]
    # (its last two sell while the hub watches: test_demo_story.py)
    assert (restocked.status, restocked.stock) == ("ACTIVE", 2)
    assert on_hand[seed.STORY["RESTOCKED"]] == 2

    # The one-day auction ends in the first hour, sold to its top bidder
    auction = offers[seed.STORY["AUCTION"]]
    assert auction.ending_at is not None
    assert timedelta(minutes=30) < auction.ending_at - start <= timedelta(hours=1)
    buyers = BuyerSimulator(emu, BuyerConfig(seed=11))
    for _ in range(
        int(timedelta(hours=1).total_seconds() / demo_runtime.BUYERS_INTERVAL)
    ):
        emu.advance(demo_runtime.BUYERS_INTERVAL)
        assert buyers.step() is not None
    assert auction.status == "ENDED"
    assert auction.bids
    [sale] = [
        cf for cf in emu.checkout_forms.values()
        if cf.line_items[0].offer_id == auction.id
    ]  # fmt: skip
    top = max(Decimal(b.amount) for b in auction.bids)
    assert Decimal(sale.line_items[0].price) == top


def test_the_demo_history_leaves_the_story_listings_to_sell_in_front_of_the_hub(
    tmp_path: Path,
) -> None:
    # Given a fresh demo account whose history is long: buyers buy hundreds of times
    emu = Emulator(EmulatorConfig())
    assert demo_runtime.load_emulator(emu, tmp_path / "none.json", history_steps=600)
    offers = {o.external_id: o for o in emu.offers.values()}
    bought = Counter(
        emu.offers[li.offer_id].external_id
        for cf in emu.checkout_forms.values()
        for li in cf.line_items
    )
    assert sum(bought.values()) > 150
    # Then none of them bought a listing the story sells while the hub watches
    for name, quantity in (("END_AT_ZERO", 3), ("RESTOCKED", 2)):
        external_id = seed.STORY[name]
        assert bought[external_id] == 0, name
        assert (offers[external_id].status, offers[external_id].stock) == (
            "ACTIVE",
            quantity,
        )
    assert bought[seed.STORY["MUG"]] == 0


# ---------------------------------------------------------------- restarts


def test_second_start_reuses_channel_tokens_and_allegro_state(
    run_demo: StartDemo, tmp_path: Path
) -> None:
    first = run_demo()
    sync_orders()
    first_forms = set(first.emu.checkout_forms)
    first.stop()
    saved = json.loads((tmp_path / "emulator.json").read_text())
    assert set(cf["id"] for cf in saved["checkout_forms"]) == first_forms

    second = run_demo()

    assert not second.fresh
    assert not second.cursors_reset
    assert second.connected.ok
    assert set(second.emu.checkout_forms) == first_forms
    assert Channel.objects.get().pk == first.channel.pk
    assert Channel.objects.get().api_url == second.emulator_url
    # The stored tokens still work: no new ones were asked for (Test may check
    # the application's secret with a client_credentials request).
    grants = {
        r["form"]["grant_type"] for r in second.emu.requests if r["path"] == TOKEN
    }
    assert grants <= {"client_credentials"}
    form_id = second.emu.purchase(offer_id(second, "DEMO-001"), 1)
    assert form_id not in first_forms

    sync_orders()

    assert_hub_matches_emulator(second)
    assert Order.objects.count() == len(first_forms) + 1


def test_fresh_emulator_after_a_lost_state_starts_the_cursors_over(
    run_demo: StartDemo, tmp_path: Path
) -> None:
    first = run_demo()
    sync_orders()
    old_orders = set(Order.objects.values_list("external_id", flat=True))
    first.stop()
    (tmp_path / "emulator.json").unlink()

    second = run_demo()

    assert second.fresh
    assert second.cursors_reset
    assert second.connected.ok
    assert not SyncCursor.objects.exists()
    # Reconnected through the consent page: the secret checked, a code exchanged.
    assert token_grants(second.emu) == ["client_credentials", "authorization_code"]
    assert not old_orders & set(second.emu.checkout_forms)  # no id reused
    sync_orders()
    new_orders = set(Order.objects.values_list("external_id", flat=True))
    assert new_orders == old_orders | set(second.emu.checkout_forms)


def test_saved_state_older_than_the_cursor_starts_the_cursors_over(
    run_demo: StartDemo,
) -> None:
    # The demo was killed: the saved state ends before events the hub has read.
    first = run_demo()
    sync_orders()
    first.stop()
    ahead = str(first.emu.last_order_event_id + 1)
    SyncCursor.objects.filter(stream=JOURNAL).update(value=ahead)

    second = run_demo()

    assert not second.fresh
    assert second.cursors_reset
    sync_orders()
    cursor = SyncCursor.objects.get(stream=JOURNAL)
    assert cursor.value == str(second.emu.last_order_event_id)
    assert_hub_matches_emulator(second)


def test_consent_page_url_opens_the_emulator_authorize_page(
    run_demo: StartDemo,
) -> None:
    demo = run_demo(history_steps=0)
    url = demo_runtime.consent_page_url(demo.emulator_url, "http://127.0.0.1:8000/")

    page = httpx.get(url)

    assert page.status_code == 200
    assert 'id="approve"' in page.text


def test_banner_says_when_the_auction_ends(run_demo: StartDemo) -> None:
    demo = run_demo(history_steps=0)
    auction = demo.emu.offers[offer_id(demo, "DEMO-010")]
    assert auction.ending_at is not None
    ends = timezone.localtime(auction.ending_at).strftime("%H:%M")
    out = StringIO()
    command = DemoCommand(stdout=out)
    options = {"port": 8000, "buyers_interval": 5.0, "sync_interval": 10.0}

    command.print_banner(demo, options)
    demo.emu.end_offer(auction.id)
    command.print_banner(demo, options)

    banner = out.getvalue()
    line = (
        f"  Auction:   Zegarek vintage - licytacja (DEMO-010) ends at {ends}; "
        "the top bidder then buys it"
    )
    assert banner.count(line) == 1  # the second banner, once it ended, has none
    assert banner.count("  Auction:") == 1
