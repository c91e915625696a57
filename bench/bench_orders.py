"""Benchmark: import N orders from the in-process Allegro emulator.

    python bench/bench_orders.py [--orders 10000] [--postgres URL | --no-postgres]

Three ways to the same orders, on SQLite and PostgreSQL:

- journal, naive: one GET /order/checkout-forms/{id} per event, one transaction per
  event (what many integrations do);
- journal, batched: hub.allegro.sync.orders — one read per checkout form per page of
  1000 events (none when the event's revision is already stored), one transaction
  per page;
- backfill: first run with Sync Orders From — /order/checkout-forms in boughtAt
  windows, 100 orders per request.

Every row starts from the same emulator state: N purchases, 60 % of them paid 500
purchases later (so their events land on another journal page), 5 % cancelled.
Each row runs in its own process (settings are read at start), on a fresh test
database. Peak memory is Python's (tracemalloc, started after the emulator state is
built), which also slows the run down: orders/s are lower bounds. Allegro itself
allows 9 000 requests/min per Client ID; "Allegro-bound" is the time those calls
would take at that limit.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ("journal-naive", "journal-batched", "backfill")
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/hub_bench_orders"


def build_emulator(count: int) -> tuple[Any, list[str]]:
    from allegro_emulator import Emulator, EmulatorConfig

    # Purchases every 30 s, the last one about now (the hub's clock must agree).
    start = datetime.now(UTC) - timedelta(seconds=30 * count + 60)
    emu = Emulator(EmulatorConfig(seed=7, rate_limit_per_minute=None, start_time=start))
    emu.register_client("bench", "bench-secret", redirect_uris=["http://localhost/"])
    seller = emu.add_seller("bench-seller")
    offer = emu.add_offer(seller, "Kubek", external_id="MUG-1", quantity=10**7)
    forms: list[str] = []
    for i in range(count):
        emu.clock.advance(seconds=30)
        forms.append(emu.purchase(offer))
        if i >= 500 and i % 10 < 6:
            emu.pay(forms[i - 500])
        if i % 20 == 7:  # never one of the paid ones
            emu.cancel(forms[i])
    return emu, forms


def setup_django(database_url: str | None) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "hub.settings"
    os.environ.setdefault("HUB_DATA_DIR", tempfile.mkdtemp(prefix="bench-orders-"))
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    else:
        os.environ.pop("DATABASE_URL", None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def make_channel(emu: Any, seller_login: str = "bench-seller") -> Any:
    from hub.allegro.auth import store_tokens
    from hub.allegro.models import Channel

    seller_id = emu.seller_id_for_login(seller_login)
    channel = Channel(
        name="Bench",
        environment=Channel.Environment.CUSTOM,
        api_url="http://allegro.emulator",
        auth_url="http://allegro.emulator",
        client_id="bench",
        account_id=seller_id,
        default_currency="PLN",
    )
    channel.client_secret = "bench-secret"
    channel.save()
    store_tokens(channel, emu.issue_tokens("bench", seller_id))
    return channel


def naive_journal(channel: Any, client: Any) -> None:
    """The baseline: every event → GET its form → save it in its own transaction."""
    from django.db import transaction

    from hub.allegro.sync.order_mapping import map_checkout_form
    from hub.catalog.stock import default_location
    from hub.orders.importing import Account, save_orders

    account = Account("allegro", str(channel.pk), default_location(), {}, False)
    cursor = None
    while True:
        events = client.order_events(from_event=cursor, limit=1000)
        if not events:
            return
        for event in events:
            form = client.get_checkout_form(event.checkout_form_id)
            with transaction.atomic():
                save_orders(account, [map_checkout_form(form, "Bench", "PLN")])
        cursor = events[-1].id


def run_child(scenario: str, count: int, database_url: str | None) -> dict[str, Any]:
    setup_django(database_url)
    from django.db import connection
    from django.test.utils import setup_databases, teardown_databases
    from django.utils import timezone

    from hub.allegro.client import client_for_channel
    from hub.allegro.sync.orders import sync_orders
    from hub.catalog import stock
    from hub.catalog.models import StockItem
    from hub.orders.models import Order

    emu, forms = build_emulator(count)
    old = setup_databases(verbosity=0, interactive=False)
    try:
        item = StockItem.objects.create(sku="MUG-1", title="Kubek")
        stock.set_on_hand(item, stock.default_location(), 10**6)
        channel = make_channel(emu)
        # The hub's clock and the emulator's agree: purchases happened "now".
        if scenario == "backfill":
            channel.sync_orders_from = emu.clock.now() - timedelta(days=30)
            channel.save()
        client = client_for_channel(channel, transport=emu.transport, limiter=None)
        emu.clear_requests()
        if scenario != "backfill":
            # Start the journal at its beginning, as if connected before the first sale.
            from hub.allegro.models import SyncCursor

            SyncCursor.objects.create(
                channel=channel, stream="order_events", value="",
                last_success_at=timezone.now(),
            )  # fmt: skip
        tracemalloc.start()
        started = time.perf_counter()
        if scenario == "journal-naive":
            naive_journal(channel, client)
        else:
            sync_orders(channel.pk, client)
        seconds = time.perf_counter() - started
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        imported = Order.objects.count()
        assert imported == len(forms), (imported, len(forms))
        calls = len(emu.requests)
        return {
            "backend": connection.vendor,
            "scenario": scenario,
            "orders": imported,
            "seconds": seconds,
            "calls": calls,
            "peak_mib": peak / 2**20,
        }
    finally:
        teardown_databases(old, verbosity=0)


def run_list_check(count: int, database_url: str | None) -> dict[str, Any]:
    """Time the orders list's queries over COUNT orders: first, deep and filtered."""
    setup_django(database_url)
    from django.db import connection
    from django.test.utils import setup_databases, teardown_databases

    from hub.orders.models import Order
    from hub.orders.paging import key_of, page_of
    from hub.orders.views import PAGE_SIZE, channel_names

    old = setup_databases(verbosity=0, interactive=False)
    try:
        start = datetime.now(UTC) - timedelta(minutes=count)
        Order.objects.bulk_create(
            (
                Order(
                    source="allegro", account="1", external_id=f"F-{i}",
                    sub_source=f"Shop {i % 3}", bought_at=start + timedelta(minutes=i),
                    status="CANCELLED" if i % 20 == 7 else "OPEN",
                    has_unlinked_lines=i % 100 == 0,
                )
                for i in range(count)
            ),
            batch_size=5000,
        )  # fmt: skip
        middle = Order.objects.get(external_id=f"F-{count // 2}")
        orders = Order.objects.prefetch_related("lines")
        cases = {
            "first page": lambda: page_of(orders, PAGE_SIZE),
            "middle page": lambda: page_of(orders, PAGE_SIZE, after=key_of(middle)),
            "unlinked": lambda: page_of(
                orders.filter(has_unlinked_lines=True), PAGE_SIZE
            ),
            "channel+status": lambda: page_of(
                orders.filter(sub_source="Shop 1", status="CANCELLED"), PAGE_SIZE
            ),
            "channel names": channel_names,
        }
        timings = {}
        for name, case in cases.items():
            case()  # warm up
            started = time.perf_counter()
            for _ in range(5):
                case()
            timings[name] = (time.perf_counter() - started) / 5 * 1000
        return {"backend": connection.vendor, "orders": count, "ms": timings}
    finally:
        teardown_databases(old, verbosity=0)


def postgres_reachable(url: str) -> bool:
    try:
        import psycopg

        base = url.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(base, connect_timeout=3):
            return True
    except Exception:  # noqa: BLE001 - any failure means "skip PostgreSQL"
        return False


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run, print the tables, and return the figures (for bench_rows)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument(
        "--postgres", default=os.environ.get("BENCH_POSTGRES", DEFAULT_PG)
    )
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument(
        "--list-orders", type=int, default=100_000, help="0 = skip the list check"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child == "list-check":
        result = run_list_check(args.orders, args.database_url or None)
        print(json.dumps(result))
        return {}
    if args.child:
        result = run_child(args.child, args.orders, args.database_url or None)
        print(json.dumps(result))
        return {}
    backends: list[tuple[str, str]] = [("sqlite", "")]
    if not args.no_postgres:
        if postgres_reachable(args.postgres):
            backends.append(("postgresql", args.postgres))
        else:
            print(f"PostgreSQL at {args.postgres} not reachable: SQLite only.")
    rows = []
    lists: dict[str, dict[str, float]] = {}
    for _name, url in backends:
        for scenario in args.scenarios.split(","):
            command = [
                sys.executable, __file__, "--child", scenario,
                "--orders", str(args.orders), "--database-url", url,
            ]  # fmt: skip
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                print(done.stdout, done.stderr, file=sys.stderr)
                raise SystemExit(f"{scenario} failed")
            rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
            print_row(rows[-1], header=len(rows) == 1)
    if args.list_orders:
        print()
        print(f"Orders list over {args.list_orders} orders, ms per page (keyset):")
        for name, url in backends:
            command = [
                sys.executable, __file__, "--child", "list-check",
                "--orders", str(args.list_orders), "--database-url", url,
            ]  # fmt: skip
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                print(done.stdout, done.stderr, file=sys.stderr)
                raise SystemExit("list check failed")
            result = json.loads(done.stdout.strip().splitlines()[-1])
            lists[name] = result["ms"]
            cells = ", ".join(f"{k} {v:.1f}" for k, v in result["ms"].items())
            print(f"  {name:<11} {cells}")
    return {"rows": rows, "lists": lists, "list_orders": args.list_orders}


def bench_rows(
    argv: list[str] | None = None,
) -> list[tuple[str, str, float | None, float | None, str, str]]:
    """For bench/run_all.py: (flow, metric, value, baseline, goal, unit) rows.

    argv: this script's options (default: none, the full run).

    The baseline of the journal import is the naive way (one GET and one
    transaction per event), run on the same emulator state in the same run.
    Goals are issue 14's.
    """
    result = main(argv or [])
    by_key = {(r["backend"], r["scenario"]): r for r in result["rows"]}
    rows: list[tuple[str, str, float | None, float | None, str, str]] = []
    for backend in dict.fromkeys(backend for backend, _scenario in by_key):
        naive = by_key.get((backend, "journal-naive"))
        batched = by_key.get((backend, "journal-batched"))
        backfill = by_key.get((backend, "backfill"))
        if batched:
            rows += [
                (
                    "orders", f"journal, orders/s ({backend})",
                    batched["orders"] / batched["seconds"],
                    naive["orders"] / naive["seconds"] if naive else None,
                    "≥ 2000", "orders/s",
                ),
                (
                    "orders", f"journal, Allegro calls per order ({backend})",
                    batched["calls"] / batched["orders"],
                    naive["calls"] / naive["orders"] if naive else None,
                    "≤ 0.05", "calls/order",
                ),
                (
                    "orders", f"journal, peak memory ({backend})",
                    batched["peak_mib"], naive["peak_mib"] if naive else None,
                    "", "MiB",
                ),
            ]  # fmt: skip
        if backfill:
            rows.append(
                (
                    "orders", f"backfill, orders/s ({backend})",
                    backfill["orders"] / backfill["seconds"], None, "", "orders/s",
                )
            )  # fmt: skip
    size = result["list_orders"]
    for backend, timings in result["lists"].items():
        rows.append(
            (
                "orders", f"orders list, slowest page of {size} ({backend})",
                max(timings.values()), None, "", "ms",
            )
        )  # fmt: skip
    return rows


def print_row(row: dict[str, Any], header: bool) -> None:
    if header:
        print(
            f"{'backend':<11} {'flow':<16} {'orders':>7} {'seconds':>8} "
            f"{'orders/s':>9} {'calls':>7} {'calls/order':>11} {'Allegro-bound':>13} "
            f"{'peak MiB':>9}"
        )
    allegro_bound = row["calls"] / 150  # 9 000 requests per minute
    print(
        f"{row['backend']:<11} {row['scenario']:<16} {row['orders']:>7} "
        f"{row['seconds']:>8.1f} {row['orders'] / row['seconds']:>9.0f} "
        f"{row['calls']:>7} {row['calls'] / row['orders']:>11.3f} "
        f"{allegro_bound:>12.0f}s {row['peak_mib']:>9.1f}",
        flush=True,
    )


if __name__ == "__main__":
    main()
