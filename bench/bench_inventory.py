"""Benchmark: inventory push to Allegro at scale, against the in-process emulator.

    python bench/bench_inventory.py [--listings 100000] [--changed 10000]
                                    [--database-url URL] [--lag-changes 40]

One run, side by side:

- listings import: a full reconcile of N offers (wall time, peak memory);
- inventory reconcile: every linked listing's target computed, nothing to send
  (wall time, peak memory);
- a push of `--changed` changed targets with a realistic spread of values (most
  items hold a few units, a few hold hundreds): Allegro calls used against the
  minimum (one quantity command per distinct value and 1 000 offers, plus reading
  each command's summary once) and against one PATCH per offer;
- lag from a stock change to Allegro's confirmation, with the emulator finishing
  commands 2 s after their PUT (as its CLI does): p50 / p95. The loop here is the
  embedded runner's shape (look for changes every 0.2 s, push the changed items,
  poll reports every 0.5 s), run in this process.

Times are taken without tracemalloc; peak memory (Python's, tracemalloc) comes
from a second run of the same steps with `--memory`, whose times are not shown
(tracemalloc slows Python several times). `bench_rows` does both runs.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def setup_django(database_url: str | None) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "hub.settings"
    os.environ.setdefault("HUB_DATA_DIR", tempfile.mkdtemp(prefix="bench-inventory-"))
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    else:
        os.environ.pop("DATABASE_URL", None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def measured(work: Callable[[], Any], memory: bool) -> tuple[Any, float, float]:
    """(result, seconds, peak MiB) of one call: timed plainly, or with tracemalloc
    on for its peak (then the seconds are not worth reporting)."""
    if memory:
        tracemalloc.start()
    started = time.perf_counter()
    result = work()
    seconds = time.perf_counter() - started
    peak = 0.0
    if memory:
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    return result, seconds, peak


def spread(rng: random.Random) -> int:
    """A stock level: mostly a handful, sometimes dozens, rarely hundreds."""
    return max(1, min(999, int(rng.lognormvariate(2.0, 1.2))))


def run(args: argparse.Namespace) -> dict[str, Any]:
    setup_django(args.database_url or None)
    from django.db import connection
    from django.test.utils import setup_databases, teardown_databases

    from allegro_emulator import Emulator, EmulatorConfig
    from hub.allegro.auth import store_tokens
    from hub.allegro.client import client_for_channel
    from hub.allegro.models import Channel, Listing
    from hub.allegro.sync.inventory import push_inventory
    from hub.allegro.sync.listings import sync_listings
    from hub.catalog import stock
    from hub.catalog.models import StockItem

    rng = random.Random(5)
    emu = Emulator(EmulatorConfig(seed=5, rate_limit_per_minute=None))
    emu.register_client("bench", "bench-secret", redirect_uris=["http://localhost/"])
    seller = emu.add_seller("bench-seller")
    levels = [spread(rng) for _ in range(args.listings)]
    offers = [
        emu.add_offer(seller, f"Item {n}", external_id=f"SKU-{n:06}", quantity=q)
        for n, q in enumerate(levels)
    ]
    old = setup_databases(verbosity=0, interactive=False)
    try:
        StockItem.objects.bulk_create(
            (
                StockItem(sku=f"SKU-{n:06}", title=f"Item {n}")
                for n in range(len(offers))
            ),
            batch_size=2000,
        )
        ids = dict(StockItem.objects.values_list("sku", "pk"))
        where = stock.default_location()
        stock.set_levels(
            (ids[f"SKU-{n:06}"], where.pk, q) for n, q in enumerate(levels)
        )
        channel = Channel(
            name="Bench", environment=Channel.Environment.CUSTOM,
            api_url="http://allegro.emulator", auth_url="http://allegro.emulator",
            client_id="bench", account_id=seller, default_currency="PLN",
            inventory_sync=True,
        )  # fmt: skip
        channel.client_secret = "bench-secret"
        channel.save()
        store_tokens(channel, emu.issue_tokens("bench", seller))
        client = client_for_channel(channel, transport=emu.transport, limiter=None)

        imported, import_s, import_mib = measured(
            lambda: sync_listings(channel.pk, client), args.memory
        )
        assert Listing.objects.filter(stock_item__isnull=False).count() == len(offers)
        emu.clear_requests()
        idle, reconcile_s, reconcile_mib = measured(
            lambda: push_inventory(channel.pk, client, sleep=lambda _s: None),
            args.memory,
        )
        assert idle.pushed == 0, idle.summary()
        idle_calls = len(emu.requests)

        # Change targets of `changed` items, spread like real stock.
        chosen = rng.sample(range(len(offers)), args.changed)
        new = {}
        for n in chosen:
            value = spread(rng)
            while value == levels[n]:
                value = spread(rng)
            new[n] = value
        stock.set_levels((ids[f"SKU-{n:06}"], where.pk, v) for n, v in new.items())
        emu.clear_requests()
        pushed, push_s, push_mib = measured(
            lambda: push_inventory(channel.pk, client, sleep=lambda _s: None),
            args.memory,
        )
        calls = Counter(r["endpoint"] for r in emu.requests)
        used = sum(calls.values())
        per_value = Counter(new.values())
        commands_min = sum(math.ceil(n / 1000) for n in per_value.values())
        # Journal read; a PUT and one summary read per command (the task list is read
        # only when the summary counts a failure).
        minimum = 1 + 2 * commands_min
        assert all(
            emu.offer(offers[n])["stock"]["available"] == v for n, v in new.items()
        )
        lag = {} if args.memory else measure_lag(emu, channel, args, ids, rng, offers)
        return {
            "backend": connection.vendor,
            "listings": len(offers),
            "changed": len(new),
            "distinct_values": len(per_value),
            "import": {"seconds": import_s, "peak_mib": import_mib,
                       "summary": imported.summary()},
            "reconcile_idle": {"seconds": reconcile_s, "peak_mib": reconcile_mib,
                               "calls": idle_calls},
            "push": {"seconds": push_s, "peak_mib": push_mib, "calls": used,
                     "by_endpoint": dict(calls), "minimum": minimum,
                     "commands": pushed.commands, "confirmed": pushed.confirmed,
                     "per_offer_patch_calls": len(new)},
            "lag": lag,
        }  # fmt: skip
    finally:
        teardown_databases(old, verbosity=0)


def measure_lag(
    emu: Any,
    channel: Any,
    args: argparse.Namespace,
    ids: dict[str, int],
    rng: random.Random,
    offers: list[str],
) -> dict[str, float]:
    """Stock change → Allegro's SUCCESS, with commands finishing 2 s after the PUT."""
    from hub.allegro.client import client_for_channel
    from hub.allegro.models import Listing
    from hub.allegro.sync.inventory import has_stock_changes, push_changed
    from hub.catalog import stock
    from hub.catalog.models import StockItem

    emu.clock.set(emu.clock.now())  # from here on the clock follows real time
    emu.clock.realtime = True
    emu.config.command_delay_seconds = 2.0
    client = client_for_channel(channel, transport=emu.transport, limiter=None)
    push_changed(channel.pk, client, wait=0)  # the change cursor starts here
    where = stock.default_location()
    lags: list[float] = []
    for _ in range(args.lag_changes):
        n = rng.randrange(len(offers))
        item = StockItem.objects.get(pk=ids[f"SKU-{n:06}"])
        value = stock.on_hand(item) + rng.randint(1, 5)
        changed_at = time.monotonic()
        stock.set_on_hand(item, where, value, reason="bench")
        while True:
            time.sleep(0.2)  # the loop looks for changes this often
            if has_stock_changes(channel.pk):
                push_changed(channel.pk, client, wait=10)
            listing = Listing.objects.get(offer_id=offers[n])
            if listing.push_state == "DONE" and listing.known_quantity == value:
                lags.append(time.monotonic() - changed_at)
                break
    lags.sort()
    return {
        "changes": len(lags),
        "p50": statistics.median(lags),
        "p95": lags[max(0, math.ceil(0.95 * len(lags)) - 1)],
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--listings", type=int, default=100_000)
    parser.add_argument("--changed", type=int, default=10_000)
    parser.add_argument("--lag-changes", type=int, default=40)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--memory",
        action="store_true",
        help="measure peak memory (tracemalloc on: times not shown, no lag)",
    )
    args = parser.parse_args(argv)
    result = run(args)
    if args.memory:
        print(
            f"{result['backend']}: peak MiB (tracemalloc) for {result['listings']} "
            f"listings: import {result['import']['peak_mib']:.1f}, reconcile "
            f"{result['reconcile_idle']['peak_mib']:.1f}, push of "
            f"{result['changed']} changes {result['push']['peak_mib']:.1f} "
            "(goal ≤ 250)"
        )
        return result
    if args.json:
        print(json.dumps(result, indent=2))
        return result
    push = result["push"]
    print(
        f"{result['backend']}: {result['listings']} listings, {result['changed']} "
        f"changed targets, {result['distinct_values']} distinct values"
    )
    print(f"{'':<34}{'seconds':>9}{'calls':>8}")
    rows = [
        ("listings import (full)", result["import"], "-"),
        ("inventory reconcile, no change", result["reconcile_idle"],
         result["reconcile_idle"]["calls"]),
        ("push of the changed targets", push, push["calls"]),
    ]  # fmt: skip
    for name, row, calls in rows:
        print(f"{name:<34}{row['seconds']:>9.2f}{calls:>8}")
    print(
        f"Allegro calls: {push['calls']} used, minimum {push['minimum']} "
        f"({push['calls'] / push['minimum']:.3f}×, goal ≤ 1.05×); one PATCH per "
        f"offer: {push['per_offer_patch_calls']} "
        f"({push['per_offer_patch_calls'] / push['calls']:.0f}× more, goal ≥ 100×)"
    )
    print(f"  by endpoint: {push['by_endpoint']}")
    lag = result["lag"]
    print(
        f"stock change → Allegro confirmed ({lag['changes']} changes, command delay "
        f"2 s): p50 {lag['p50']:.2f} s, p95 {lag['p95']:.2f} s (goal p95 ≤ 5 s)"
    )
    return result


def bench_rows(
    argv: list[str] | None = None,
) -> list[tuple[str, str, float | None, float | None, str, str]]:
    """For bench/run_all.py: (flow, metric, value, baseline, goal, unit) rows.

    Baselines from the same run: the minimum number of Allegro calls, and one
    PATCH per changed offer. Goals are issue 11's.
    """
    result = main(argv or [])
    memory = main([*(argv or []), "--memory"])
    push, lag, backend = result["push"], result["lag"], result["backend"]
    return [
        ("inventory", f"push, Allegro calls ({backend})", push["calls"],
         push["minimum"], "", "calls"),
        ("inventory", "push, calls vs minimum", push["calls"] / push["minimum"],
         None, "≤ 1.05", "×"),
        ("inventory", "push, fewer calls than a PATCH per offer",
         push["per_offer_patch_calls"] / push["calls"], None, "≥ 100", "×"),
        ("inventory", f"full reconcile, seconds ({backend})",
         result["reconcile_idle"]["seconds"], None, "", "s"),
        ("inventory", f"full reconcile, peak memory ({backend})",
         max(memory["reconcile_idle"]["peak_mib"], memory["import"]["peak_mib"]),
         None, "≤ 250", "MiB"),
        ("inventory", "stock change → confirmed, p50", lag["p50"], None, "", "s"),
        ("inventory", "stock change → confirmed, p95", lag["p95"], None, "≤ 5", "s"),
    ]  # fmt: skip


if __name__ == "__main__":
    main()
