"""Refresh under concurrency: threads and processes racing on one expired token.

Each worker is a real OS process running Django against the same database
(SQLite: a file copied from the test database; PostgreSQL: the test database
itself) and the emulator served over HTTP. They start at the same instant with
an expired access token. Single-flight refresh means exactly one call to the
token endpoint and every request succeeding — without the DB guard each thread
would refresh and, once past Allegro's 60 s grace, earn ``invalid_grant``.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from hub.allegro.models import Channel

pytestmark = pytest.mark.django_db(transaction=True)

REPO = Path(__file__).resolve().parents[3]

WORKER = r"""
import json, os, sys, threading, time
import django
django.setup()
from django.db import connection
from hub.allegro.client import client_for_channel
from hub.allegro.models import Channel

channel_id, threads, go_file = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
start = threading.Barrier(threads + 1)
results = []

def call():
    try:
        client = client_for_channel(Channel.objects.get(pk=channel_id))
        start.wait(timeout=60)
        results.append(client.me().login)
        client.close()
    except Exception as exc:
        start.abort()  # never leave the others waiting for this thread
        results.append(f"{type(exc).__name__}: {exc}")
    finally:
        connection.close()

workers = [threading.Thread(target=call) for _ in range(threads)]
for w in workers:
    w.start()
print("ready", flush=True)
while not os.path.exists(go_file):
    time.sleep(0.001)
try:
    start.wait(timeout=60)
except threading.BrokenBarrierError:
    pass
for w in workers:
    w.join()
print(json.dumps(results), flush=True)
"""


def worker_database(tmp_path: Path) -> tuple[dict[str, str], Path | None]:
    """Env that points a worker process at this test's database."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "HUB_DATA_DIR")
    }
    env["DJANGO_SETTINGS_MODULE"] = "hub.settings"
    env["HUB_ENCRYPTION_KEY"] = settings.ENCRYPTION_KEY
    env["HUB_SECRET_KEY"] = settings.SECRET_KEY
    if connection.vendor == "postgresql":
        db = connection.settings_dict
        user = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
        port = db["PORT"] or "5432"
        env["DATABASE_URL"] = f"postgresql://{user}@{db['HOST']}:{port}/{db['NAME']}"
        env["HUB_DATA_DIR"] = str(tmp_path)
        return env, None
    # SQLite's test database lives in memory: give the workers a file copy.
    connection.ensure_connection()
    path = tmp_path / "hub.sqlite3"
    target = sqlite3.connect(path)
    connection.connection.backup(target)
    # WAL now, once: every worker connection runs "PRAGMA journal_mode = WAL"
    # (settings), and switching modes while others hold the file open fails with
    # "database is locked" without waiting for busy_timeout.
    target.execute("PRAGMA journal_mode = WAL")
    target.close()
    env["HUB_DATA_DIR"] = str(tmp_path)
    return env, path


def run_workers(
    tmp_path: Path, channel: Channel, processes: int, threads: int
) -> tuple[list[str], Path | None]:
    env, db_file = worker_database(tmp_path)
    go_file = tmp_path / "go"
    # stderr to files: a full pipe would block a chatty worker mid-run.
    logs = [tmp_path / f"worker-{n}.log" for n in range(processes)]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(channel.pk), str(threads), str(go_file)],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=log.open("w"),
            text=True,
        )
        for log in logs
    ]
    for proc, log in zip(procs, logs, strict=True):
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line == "ready", log.read_text()
    go_file.touch()
    results: list[str] = []
    for proc, log in zip(procs, logs, strict=True):
        out, _ = proc.communicate(timeout=90)
        assert proc.returncode == 0, log.read_text()
        results.extend(json.loads(out.strip().splitlines()[-1]))
    return results, db_file


def stored_token_version(channel: Channel, db_file: Path | None) -> tuple[int, bool]:
    if db_file is None:
        channel.refresh_from_db()
        return channel.token_version, channel.needs_reconnect
    with sqlite3.connect(db_file) as db:
        row = db.execute(
            "SELECT token_version, needs_reconnect FROM allegro_channel WHERE id = ?",
            (channel.pk,),
        ).fetchone()
    return row[0], bool(row[1])


@pytest.mark.parametrize(("processes", "threads"), [(1, 8), (2, 4)])
def test_concurrent_refresh_calls_allegro_once(
    tmp_path, emulator, channel_http, processes, threads
):
    # Given: an expired access token, seen by every worker at once.
    Channel.objects.filter(pk=channel_http.pk).update(
        access_token_expires_at=timezone.now() - timedelta(seconds=1)
    )
    version_before = channel_http.token_version

    # When: all of them call the API at the same moment.
    started = time.monotonic()
    results, db_file = run_workers(tmp_path, channel_http, processes, threads)

    # Then: one refresh, no invalid_grant, every call answered.
    assert results == [emulator.seller_login] * (processes * threads)
    token_calls = [r for r in emulator.requests if r["path"] == "/auth/oauth/token"]
    assert [r["status"] for r in token_calls] == [200]
    me_calls = [r["status"] for r in emulator.requests if r["path"] == "/me"]
    assert me_calls == [200] * (processes * threads)
    assert stored_token_version(channel_http, db_file) == (version_before + 1, False)
    assert time.monotonic() - started < 60


def test_concurrent_401s_refresh_once(tmp_path, emulator, channel_http):
    """The hub thinks its token is fine; Allegro says it expired (401) to every
    worker at once. Each 401 must end in the one shared refresh, not one each."""
    emulator.clock.advance(hours=13)  # past the 12 h access token, on Allegro only
    processes, threads = 2, 3
    version_before = channel_http.token_version

    results, db_file = run_workers(tmp_path, channel_http, processes, threads)

    assert results == [emulator.seller_login] * (processes * threads)
    token_calls = [r for r in emulator.requests if r["path"] == "/auth/oauth/token"]
    assert [r["status"] for r in token_calls] == [200]
    me_calls = [r["status"] for r in emulator.requests if r["path"] == "/me"]
    assert me_calls.count(200) == processes * threads
    # A worker that reads the row after the refresh never sees the old token.
    assert 1 <= me_calls.count(401) <= processes * threads
    assert set(me_calls) == {200, 401}
    assert stored_token_version(channel_http, db_file) == (version_before + 1, False)
