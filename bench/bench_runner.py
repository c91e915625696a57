"""Benchmark: the runners, as real processes against the emulator over HTTP.

    python bench/bench_runner.py [--samples 20] [--interval 2] [--channels 20]
                                 [--orders 40] [--latency 0.05] [--no-celery]

- embedded lag: `allegro-hub run` alone (SQLite); an order is placed in the
  emulator, and the time until it is in the hub's database is measured, p50/p95.
  The orders flow runs every ``--interval`` seconds here (60 by default in a real
  install, HUB_SYNC_INTERVALS): the lag is about half of it plus one pass.
- Celery throughput: `allegro-hub beat` with 1, then 2 `allegro-hub worker`
  processes (2 threads each), on ``--channels`` channels whose backfill holds
  ``--orders`` orders each, the emulator adding ``--latency`` seconds to every
  request. Orders imported per second from the first request to Allegro to the
  last order in the hub, and the ratio 2 workers / 1 worker (issue 10's goal:
  ≥ 1.8). Needs Redis (HUB_TEST_REDIS_URL, default redis://127.0.0.1:6379/1; flushed).
  The workers share a PostgreSQL database, as in a distributed install
  (docs/scaling.md): one created for the run on ``--database-url``'s server
  (default BENCH_DATABASE_URL or postgresql://postgres@127.0.0.1:5432/postgres) and
  dropped after. ``--database-url sqlite`` measures SQLite instead, where writers
  from several processes take turns and the ratio cannot reach the goal.

Each scenario has its own temporary data directory.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# The runner tests' channels script; imported after sys.path (bench/ runs as a script).
from hub.allegro.tests.installation import ADD_CHANNELS, HUB  # noqa: E402

REDIS_URL = os.environ.get("HUB_TEST_REDIS_URL", "redis://127.0.0.1:6379/1")
DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def environment(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    for name in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"):
        env.pop(name, None)
    env.update(HUB_DATA_DIR=str(data_dir), HUB_LOG_LEVEL="WARNING", **extra)
    return env


def hub(env: dict[str, str], *args: str, **extra: str) -> None:
    done = subprocess.run(
        [HUB, *args], env={**env, **extra}, capture_output=True, text=True, timeout=300
    )
    if done.returncode != 0:
        raise RuntimeError(f"allegro-hub {' '.join(args)} failed: {done.stderr}")


def make_emulator(**config: Any) -> Any:
    from allegro_emulator import Emulator, EmulatorConfig

    emu = Emulator(EmulatorConfig(rate_limit_per_minute=None, **config))
    emu.register_client("bench", "bench-secret", redirect_uris=["http://localhost/"])
    return emu


def add_channels(
    env: dict[str, str], emu: Any, url: str, count: int, since: datetime | None
) -> list[str]:
    sellers = [emu.add_seller(f"seller-{n}") for n in range(count)]
    given = {
        "url": url,
        "since": since.isoformat() if since else "",
        "client_id": "bench",
        "client_secret": "bench-secret",
        "channels": [
            {
                "name": f"Shop {n}",
                "seller_id": seller,
                "tokens": emu.issue_tokens("bench", seller),
            }
            for n, seller in enumerate(sellers)
        ],
    }
    hub(env, "shell", "-c", ADD_CHANNELS, HUB_TEST_GIVEN=json.dumps(given))
    return sellers


def orders_in(data_dir: Path, database_url: str = "") -> set[str]:
    """The external ids of the orders in the hub's database."""
    query = "SELECT external_id FROM orders_order"
    if database_url:
        import psycopg

        with psycopg.connect(database_url) as pg:
            return {row[0] for row in pg.execute(query)}
    with sqlite3.connect(data_dir / "hub.sqlite3", timeout=30) as db:
        return {row[0] for row in db.execute(query)}


@contextmanager
def postgres_database(server_url: str) -> Iterator[str]:
    """A new database on the server of ``server_url``, dropped afterwards."""
    import psycopg
    from psycopg import sql

    server = server_url.rpartition("/")[0]
    name = f"bench_runner_{os.getpid()}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name))
        )
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield f"{server}/{name}"
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(name)
                )
            )


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out: {what}")
        time.sleep(0.05)


def stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# ----------------------------------------------------------------- embedded


def embedded_lag(samples: int, interval: int) -> dict[str, float]:
    from allegro_emulator.server import start_background

    emu = make_emulator(realtime_clock=True)
    base_url, stop_emulator = start_background(emu)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        env = environment(data, HUB_SYNC_INTERVALS=f"orders={interval}")
        server = None
        try:
            hub(env, "migrate", "--noinput")
            [seller] = add_channels(env, emu, base_url, 1, None)
            offer = emu.add_offer(seller, "Mug", quantity=10**6)
            server = subprocess.Popen(
                [HUB, "run", "--port", "0"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                text=True,
            )
            wait_for(
                lambda: any(r["path"] == "/order/event-stats" for r in emu.request_log),
                60,
                "the first pass",
            )
            lags = []
            for _ in range(samples):
                placed = time.monotonic()
                form = emu.purchase(offer)
                wait_for(
                    lambda form=form: form in orders_in(data),  # type: ignore[misc]
                    120,
                    "an order",
                )
                lags.append(time.monotonic() - placed)
                print(f"  lag {lags[-1]:.2f} s", flush=True)
        finally:
            if server is not None:
                stop(server)
            stop_emulator()
    lags.sort()
    return {
        "p50": statistics.median(lags),
        "p95": lags[min(len(lags) - 1, round(0.95 * (len(lags) - 1)))],
    }


# ------------------------------------------------------------------- celery


def celery_throughput(
    workers: int, channels: int, orders: int, latency: float, database_url: str
) -> float:
    if database_url == "sqlite":
        return _celery_throughput(workers, channels, orders, latency, "")
    with postgres_database(database_url) as url:
        return _celery_throughput(workers, channels, orders, latency, url)


def _celery_throughput(
    workers: int, channels: int, orders: int, latency: float, database_url: str
) -> float:
    import redis

    from allegro_emulator.server import start_background

    redis.Redis.from_url(REDIS_URL).flushdb()
    emu = make_emulator()
    base_url, stop_emulator = start_background(emu)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        env = environment(
            data,
            REDIS_URL=REDIS_URL,
            HUB_CELERY_QUEUE=f"bench-{os.getpid()}-{workers}",
            HUB_DISPATCH_SECONDS="1",
        )
        if database_url:
            env["DATABASE_URL"] = database_url
        processes: list[subprocess.Popen[str]] = []
        try:
            hub(env, "migrate", "--noinput")
            now = emu.clock.now()
            sellers = add_channels(
                env, emu, base_url, channels, now - timedelta(days=30)
            )
            expected = set()
            for seller in sellers:
                offer = emu.add_offer(seller, "Mug", quantity=10**6)
                for n in range(orders):
                    emu.clock.set(now - timedelta(days=28) + timedelta(hours=n * 3))
                    expected.add(emu.purchase(offer))
            emu.clock.set(now)
            emu.add_fault(r"^/", "slow", count=None, delay_seconds=latency)
            processes += [
                _start(env, "worker", "--concurrency", "2") for _ in range(workers)
            ]
            # Every worker ready before the beat hands out work: a worker still
            # starting would count against the run (and start-up is not syncing).
            wait_for(lambda: workers_ready() >= workers, 300, "the workers")
            processes.append(_start(env, "beat"))
            # From the first request on: the processes' start-up is not syncing.
            wait_for(lambda: len(emu.request_log) > 0, 300, "the first request")
            started = time.monotonic()
            wait_for(
                lambda: orders_in(data, database_url) >= expected, 600, "every order"
            )
            seconds = time.monotonic() - started
        finally:
            for process in processes:
                stop(process)
            stop_emulator()
    rate = len(expected) / seconds
    # Requests in flight on average: the concurrency the workers achieved.
    busy = len(emu.request_log) * latency / seconds
    print(
        f"  {workers} worker(s): {len(expected)} orders in {seconds:.1f} s, "
        f"{len(emu.request_log)} requests, {busy:.1f} in flight on average",
        flush=True,
    )
    return rate


def workers_ready() -> int:
    """How many Celery workers on the bench's broker answer a ping."""
    from celery import Celery

    with Celery(broker=REDIS_URL) as app:
        return len(app.control.ping(timeout=0.5))


def _start(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [HUB, *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )


# --------------------------------------------------------------------- main


def main(argv: list[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--interval", type=int, default=2)
    parser.add_argument("--channels", type=int, default=20)
    parser.add_argument("--orders", type=int, default=40)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--no-celery", action="store_true")
    parser.add_argument(
        "--database-url",
        default=DATABASE_URL,
        help="PostgreSQL server for the Celery workers, or 'sqlite'",
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")
    print(f"embedded: lag, orders every {args.interval} s", flush=True)
    result: dict[str, Any] = {
        "interval": args.interval,
        "lag": embedded_lag(args.samples, args.interval),
    }
    print(f"  p50 {result['lag']['p50']:.2f} s, p95 {result['lag']['p95']:.2f} s")
    if not args.no_celery:
        print(
            f"celery: {args.channels} channels × {args.orders} orders, "
            f"{args.latency * 1000:.0f} ms per request",
            flush=True,
        )
        database = "sqlite" if args.database_url == "sqlite" else "postgresql"
        print(f"  database: {database}", flush=True)
        one = celery_throughput(
            1, args.channels, args.orders, args.latency, args.database_url
        )
        two = celery_throughput(
            2, args.channels, args.orders, args.latency, args.database_url
        )
        result["celery"] = {"one": one, "two": two}
        print(f"  1 worker {one:.1f} orders/s, 2 workers {two:.1f} ({two / one:.2f}×)")
    return result


def bench_rows(
    argv: list[str] | None = None,
) -> list[tuple[str, str, float | None, float | None, str, str]]:
    """For bench/run_all.py."""
    result = main(argv or [])
    interval = result["interval"]
    rows: list[tuple[str, str, float | None, float | None, str, str]] = [
        ("runner", f"embedded lag p50 (orders every {interval} s)",
         result["lag"]["p50"], None, "", "s"),
        ("runner", f"embedded lag p95 (orders every {interval} s)",
         result["lag"]["p95"], None, "", "s"),
    ]  # fmt: skip
    if "celery" in result:
        one, two = result["celery"]["one"], result["celery"]["two"]
        rows += [
            ("runner", "celery, 1 worker, orders/s", one, None, "", "orders/s"),
            ("runner", "celery, 2 workers, orders/s", two, None, "", "orders/s"),
            ("runner", "celery, 2 workers / 1 worker", two / one, None, "≥ 1.8", "×"),
        ]
    return rows


if __name__ == "__main__":
    main(sys.argv[1:])
