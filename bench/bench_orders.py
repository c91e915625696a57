"""Benchmark: import N orders from the in-process Allegro emulator.

    python bench/bench_orders.py [--orders 10000] [--postgres URL | --no-postgres]
        [--baseline COMMIT | --no-baseline] [--per-pass 100] [--memory-orders N]

Three flows, on SQLite and PostgreSQL, each run by this code ("new") and by the
hub as it was before issue 14 ("old": the tree of --baseline, unpacked with
``git archive`` into a temporary directory, the same child code importing it),
side by side in one run:

- journal: a channel that was connected before the first sale reads the whole
  journal in one pass (N purchases, 60 % of them paid 500 purchases later, 5 %
  cancelled);
- steady: passes of --per-pass new orders each (and the payments and
  cancellations of earlier ones), a sync after each, as ``allegro-hub run`` does;
- backfill: first run with Sync Orders From — /order/checkout-forms in boughtAt
  windows, 100 orders per request.

Each row runs in its own process (settings are read at start), on a fresh test
database; this code's rows are the run of median hub-side time of --repeat
runs (3: a shared machine's speed wanders by a third between runs), SQLite and
PostgreSQL taking turns; the old code's are run once. The time spent inside
the emulator is counted apart ("emulator s"), so orders/s is the hub's own
side (wall time minus the emulator's), with the hub's database queries and
Allegro requests per order. The emulator's objects are frozen for the
collector (``gc.freeze``) before each timed pass, so its garbage collection is
not counted as the hub's. SQLite's database is a file on disk, as an
installation's is, so its commits flush like PostgreSQL's; on PostgreSQL the
statistics are kept as autovacuum would (keep_statistics, untimed). Peak
memory is Python's (tracemalloc, started after the emulator state is built) in
a separate run of the journal with --memory-orders orders: tracemalloc slows a
run down several times, so it never runs while timing. Allegro allows 9 000
requests/min per Client ID; "Allegro-bound" is the time the requests would
take at that limit.
"""

from __future__ import annotations

import argparse
import gc
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
SCENARIOS = ("journal", "steady", "backfill")
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/hub_bench_orders"
# main before issue 14's set-based saving and list reading (row by row, by id).
BASELINE = "582b6aea92e63bc6c1605f57f6d522be2c907e2e"
PER_PASS = 100


def build_emulator(count: int) -> tuple[Any, str, list[str]]:
    """The emulator with the offer and, unless count is 0, the journal's orders."""
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
    return emu, offer, forms


def steady_pass(emu: Any, offer: str, forms: list[str], per_pass: int) -> None:
    """What happens on Allegro between two passes: per_pass new orders, 60 % of
    those two passes back paid, 5 % of the new ones cancelled."""
    first = len(forms)
    for i in range(per_pass):
        emu.clock.advance(seconds=30)
        forms.append(emu.purchase(offer))
        if first >= 2 * per_pass and i % 10 < 6:
            emu.pay(forms[first - 2 * per_pass + i])
        if i % 20 == 7:
            emu.cancel(forms[-1])


def setup_django(database_url: str | None, hub_root: Path = ROOT) -> None:
    """Django on this database, with ``hub`` (and the emulator) from hub_root."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "hub.settings"
    os.environ.setdefault("HUB_DATA_DIR", tempfile.mkdtemp(prefix="bench-orders-"))
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    else:
        os.environ.pop("DATABASE_URL", None)
    sys.path.insert(0, str(hub_root))
    import django

    django.setup()
    if not database_url:
        # On disk, as an installation's hub.sqlite3 is (the tests' default is
        # memory-backed, where a commit's flush costs nothing: PostgreSQL's
        # flushes to disk, so the two would not compare).
        from django.conf import settings
        from django.db import connections

        on_disk = str(Path(os.environ["HUB_DATA_DIR"]) / "bench.sqlite3")
        for config in (
            settings.DATABASES["default"],
            connections["default"].settings_dict,
        ):
            test: dict[str, Any] = config.setdefault("TEST", {})  # type: ignore[assignment]
            test["NAME"] = on_disk


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


class Timed:
    """The emulator as a transport, with the time spent inside it added up."""

    def __init__(self, emu: Any) -> None:
        import httpx

        self.emu = emu
        self.seconds = 0.0
        self.cpu_seconds = 0.0
        self.transport = httpx.MockTransport(self.handle)

    def handle(self, request: Any) -> Any:
        started, cpu = time.perf_counter(), time.process_time()
        try:
            return self.emu.handle(request)
        finally:
            self.seconds += time.perf_counter() - started
            self.cpu_seconds += time.process_time() - cpu


def run_child(
    scenario: str,
    count: int,
    database_url: str | None,
    memory: bool = False,
    hub_root: Path = ROOT,
    per_pass: int = PER_PASS,
) -> dict[str, Any]:
    setup_django(database_url, hub_root)
    from django.db import connection
    from django.test.utils import setup_databases, teardown_databases
    from django.utils import timezone

    from hub.allegro.client import client_for_channel
    from hub.allegro.sync.orders import sync_orders
    from hub.catalog import stock
    from hub.catalog.models import StockItem
    from hub.orders.models import Order

    steady = scenario == "steady"
    emu, offer, forms = build_emulator(0 if steady else count)
    old = setup_databases(verbosity=0, interactive=False)
    try:
        item = StockItem.objects.create(sku="MUG-1", title="Kubek")
        stock.set_on_hand(item, stock.default_location(), 10**6)
        channel = make_channel(emu)
        # The hub's clock and the emulator's agree: purchases happened "now".
        if scenario == "backfill":
            channel.sync_orders_from = emu.clock.now() - timedelta(days=30)
            channel.save()
        timed = Timed(emu)
        client = client_for_channel(channel, transport=timed.transport, limiter=None)
        emu.clear_requests()
        if scenario != "backfill":
            # Start the journal at its beginning, as if connected before the first sale.
            from hub.allegro.models import SyncCursor

            SyncCursor.objects.create(
                channel=channel, stream="order_events", value="",
                last_success_at=timezone.now(),
            )  # fmt: skip
        queries = [0]

        def counted(execute: Any, sql: str, params: Any, many: bool, ctx: Any) -> Any:
            queries[0] += 1
            return execute(sql, params, many, ctx)

        if memory:
            tracemalloc.start()
        seconds = cpu_seconds = 0.0
        passes = max(1, count // per_pass) if steady else 1
        analyzed = 0
        for _ in range(passes):
            if steady:  # Allegro's side, untimed
                steady_pass(emu, offer, forms, per_pass)
            analyzed = keep_statistics(analyzed)
            # The emulator's state lives in this process, not in the hub's: left
            # to the collector, each full collection during the import walks its
            # objects (~40 % of the "hub-side" time at 5 000 orders). Frozen, the
            # collector skips them, as it never meets them in a real install.
            gc.freeze()
            started, cpu = time.perf_counter(), time.process_time()
            with connection.execute_wrapper(counted):
                sync_orders(channel.pk, client)
            seconds += time.perf_counter() - started
            cpu_seconds += time.process_time() - cpu
        peak = 0
        if memory:
            _current, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
        imported = Order.objects.count()
        assert imported == len(forms), (imported, len(forms))
        return {
            "backend": connection.vendor,
            "scenario": scenario,
            "code": "new" if hub_root == ROOT else "old",
            "orders": imported,
            "passes": passes,
            "seconds": seconds,
            "emulator_seconds": timed.seconds,
            "hub_seconds": seconds - timed.seconds,
            # This process's CPU only (steadier on a busy machine; a PostgreSQL
            # server's work is not in it).
            "hub_cpu_seconds": cpu_seconds - timed.cpu_seconds,
            "queries": queries[0],
            "calls": len(emu.requests),
            "peak_mib": peak / 2**20,
        }
    finally:
        teardown_databases(old, verbosity=0)


def keep_statistics(analyzed: int) -> int:
    """PostgreSQL: ANALYZE (untimed) once the orders grew by a tenth and 50
    since the last time, as autovacuum's default threshold would in an
    installation. A new database has no statistics and autovacuum looks about
    once a minute, longer than a run: without this, the planner takes an
    account for one order and reads all of them to find a page's ids.
    Returns the order count the statistics were taken at."""
    from django.db import connection

    from hub.orders.models import Order

    if connection.vendor != "postgresql":
        return analyzed
    count = Order.objects.count()
    if count < analyzed * 1.1 + 50:
        return analyzed
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return count


def run_list_check(count: int, database_url: str | None) -> dict[str, Any]:
    """Time the orders list's queries over COUNT orders: first, deep and filtered."""
    setup_django(database_url)
    from django.core.paginator import Paginator
    from django.db import connection, reset_queries
    from django.test.utils import (
        CaptureQueriesContext,
        setup_databases,
        teardown_databases,
    )

    from hub.orders.finding import SORTS, search
    from hub.orders.models import Order
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
        orders = Order.objects.prefetch_related("lines").order_by(*SORTS["newest"])

        def page(queryset: Any, number: int = 1) -> list[Any]:
            # What the orders screen does: count, the page, its lines.
            return list(Paginator(queryset, PAGE_SIZE).get_page(number))

        middle = count // PAGE_SIZE // 2
        cases = {
            "first page": lambda: page(orders),
            "middle page": lambda: page(orders, middle),
            "last page": lambda: page(orders, 10**9),
            "by total": lambda: page(orders.order_by(*SORTS["total_desc"]), middle),
            "unlinked": lambda: page(orders.filter(has_unlinked_lines=True)),
            "channel+status": lambda: page(
                orders.filter(sub_source="Shop 1", status="CANCELLED")
            ),
            "search buyer": lambda: page(search(orders, "nobody")),
            "channel names": channel_names,
        }
        timings = {}
        queries = {}
        for name, case in cases.items():
            case()  # warm up
            reset_queries()
            with CaptureQueriesContext(connection) as captured:
                case()
            queries[name] = len(captured)
            started = time.perf_counter()
            for _ in range(5):
                case()
            timings[name] = (time.perf_counter() - started) / 5 * 1000
        return {
            "backend": connection.vendor,
            "orders": count,
            "ms": timings,
            "queries": queries,
        }
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
    parser.add_argument("--per-pass", type=int, default=PER_PASS)
    parser.add_argument("--baseline", default=BASELINE, help="commit of the old code")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of this code per row (median)"
    )
    parser.add_argument(
        "--memory-orders", type=int, default=100_000, help="0 = no memory run"
    )
    parser.add_argument(
        "--list-orders", type=int, default=100_000, help="0 = skip the list check"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", default="", help=argparse.SUPPRESS)
    parser.add_argument("--hub-root", default=str(ROOT), help=argparse.SUPPRESS)
    parser.add_argument("--memory", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child == "list-check":
        result = run_list_check(args.orders, args.database_url or None)
        print(json.dumps(result))
        return {}
    if args.child:
        result = run_child(
            args.child, args.orders, args.database_url or None, args.memory,
            Path(args.hub_root), args.per_pass,
        )  # fmt: skip
        print(json.dumps(result))
        return {}
    backends: list[tuple[str, str]] = [("sqlite", "")]
    if not args.no_postgres:
        if postgres_reachable(args.postgres):
            backends.append(("postgresql", args.postgres))
        else:
            print(f"PostgreSQL at {args.postgres} not reachable: SQLite only.")
    with tempfile.TemporaryDirectory(prefix="bench-orders-old-") as tmp:
        roots = [ROOT]
        if not args.no_baseline:
            old = unpack(args.baseline, Path(tmp))
            if old is None:
                print(f"Baseline {args.baseline} not available: new code only.")
            else:
                roots.append(old)
        rows = []
        for scenario in args.scenarios.split(","):
            for root in roots:
                # This code's rows: the run of median hub-side time of --repeat,
                # as a shared machine's speed wanders by a third between runs,
                # the backends taking turns so a slow spell is not all one's
                # (their ratio is a goal); the old code's, once (a reference).
                runs = args.repeat if root == ROOT else 1
                timed: dict[str, list[dict[str, Any]]] = {u: [] for _n, u in backends}
                for _ in range(runs):
                    for _name, url in backends:
                        command = [
                            sys.executable, __file__, "--child", scenario,
                            "--orders", str(args.orders), "--database-url", url,
                            "--hub-root", str(root),
                            "--per-pass", str(args.per_pass),
                        ]  # fmt: skip
                        timed[url].append(run_command(command, scenario))
                for _name, url in backends:
                    rows.append(median_run(timed[url]))
                    print_row(rows[-1], header=len(rows) == 1)
    memory = {}
    if args.memory_orders:
        # Peak memory in a run of its own: tracemalloc must not slow the timing.
        command = [
            sys.executable, __file__, "--child", "journal", "--memory",
            "--orders", str(args.memory_orders),
        ]  # fmt: skip
        memory = run_command(command, "memory")
        print(
            f"Peak memory, journal of {memory['orders']} orders (sqlite, new): "
            f"{memory['peak_mib']:.1f} MiB"
        )
    lists = list_check(args.list_orders, backends) if args.list_orders else {}
    print(f"Load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return {
        "rows": rows, "memory": memory, "lists": lists,
        "list_orders": args.list_orders, "per_pass": args.per_pass,
    }  # fmt: skip


def unpack(commit: str, into: Path) -> Path | None:
    """The tree of ``commit`` of this repository, unpacked (None if git can't)."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", commit],
        capture_output=True, check=False,
    )  # fmt: skip
    if archive.returncode != 0:
        return None
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


def list_check(size: int, backends: list[tuple[str, str]]) -> dict[str, Any]:
    print()
    print(
        f"Orders list over {size} orders, ms per page (queries per page in brackets):"
    )
    lists = {}
    for name, url in backends:
        command = [
            sys.executable, __file__, "--child", "list-check",
            "--orders", str(size), "--database-url", url,
        ]  # fmt: skip
        result = run_command(command, "list check")
        lists[name] = result["ms"]
        cells = ", ".join(
            f"{k} {v:.1f} [{result['queries'][k]}]" for k, v in result["ms"].items()
        )
        print(f"  {name:<11} {cells}")
    return lists


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run of median hub-side time (the lower middle of an even count)."""
    ordered = sorted(runs, key=lambda run: run["hub_seconds"])
    return {**ordered[(len(ordered) - 1) // 2], "runs": len(runs)}


def run_command(command: list[str], scenario: str) -> dict[str, Any]:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        print(done.stdout, done.stderr, file=sys.stderr)
        raise SystemExit(f"{scenario} failed")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def bench_rows(
    argv: list[str] | None = None,
) -> list[tuple[str, str, float | None, float | None, str, str]]:
    """For bench/run_all.py: (flow, metric, value, baseline, goal, unit) rows.

    argv: this script's options (default: none, the full run).

    The baseline is the same flow run by the hub before issue 14 (--baseline),
    on the same emulator state in the same run. Goals are issue 14's.
    """
    result = main(argv or [])
    by_key = {(r["backend"], r["scenario"], r["code"]): r for r in result["rows"]}
    rows: list[tuple[str, str, float | None, float | None, str, str]] = []

    def per_order(row: dict[str, Any] | None, what: str) -> float | None:
        return None if row is None else row[what] / row["orders"]

    def speed(row: dict[str, Any] | None) -> float | None:
        return None if row is None else row["orders"] / row["hub_seconds"]

    backends = list(dict.fromkeys(backend for backend, _s, _c in by_key))
    for backend in backends:
        for flow in SCENARIOS:
            new = by_key.get((backend, flow, "new"))
            old = by_key.get((backend, flow, "old"))
            if new is None:
                continue
            name = flow if flow != "steady" else f"steady, {result['per_pass']}/pass"
            fast = "≥ 2000" if backend == "sqlite" and flow != "backfill" else ""
            calls = "≤ 0.05" if flow == "steady" and result["per_pass"] >= 50 else ""
            rows += [
                ("orders", f"{name}, hub-side orders/s ({backend})",
                 speed(new), speed(old), fast, "orders/s"),
                ("orders", f"{name}, queries per order ({backend})",
                 per_order(new, "queries"), per_order(old, "queries"), "",
                 "queries/order"),
                ("orders", f"{name}, Allegro calls per order ({backend})",
                 per_order(new, "calls"), per_order(old, "calls"), calls,
                 "calls/order"),
            ]  # fmt: skip
    for flow in ("journal", "steady"):
        lite = by_key.get(("sqlite", flow, "new"))
        pg = by_key.get(("postgresql", flow, "new"))
        if lite and pg:
            rows.append(
                ("orders", f"{flow}, PostgreSQL hub-side time ÷ SQLite's",
                 (pg["hub_seconds"] / pg["orders"])
                 / (lite["hub_seconds"] / lite["orders"]),
                 None, "≤ 1.5", "×")
            )  # fmt: skip
    memory = result["memory"]
    if memory:
        goal = "≤ 250" if memory["orders"] >= 100_000 else ""
        rows.append(
            ("orders", f"journal, peak memory, {memory['orders']} orders (sqlite)",
             memory["peak_mib"], None, goal, "MiB")
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
            f"{'backend':<11} {'flow':<9} {'code':<4} {'runs':>4} {'orders':>7} "
            f"{'passes':>6} "
            f"{'seconds':>8} {'emulator s':>10} {'hub orders/s':>12} "
            f"{'hub CPU o/s':>11} {'queries/order':>13} {'calls/order':>11} "
            f"{'Allegro-bound':>13}"
        )
    allegro_bound = row["calls"] / 150  # 9 000 requests per minute
    print(
        f"{row['backend']:<11} {row['scenario']:<9} {row['code']:<4} "
        f"{row['runs']:>4} {row['orders']:>7} {row['passes']:>6} "
        f"{row['seconds']:>8.1f} {row['emulator_seconds']:>10.1f} "
        f"{row['orders'] / row['hub_seconds']:>12.0f} "
        f"{row['orders'] / row['hub_cpu_seconds']:>11.0f} "
        f"{row['queries'] / row['orders']:>13.2f} "
        f"{row['calls'] / row['orders']:>11.3f} "
        f"{allegro_bound:>12.0f}s",
        flush=True,
    )


if __name__ == "__main__":
    main()
