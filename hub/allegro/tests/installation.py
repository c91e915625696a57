"""A fresh hub installation for tests that run the real `allegro-hub` command in
child processes (kill tests, runner and Celery tests)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

HUB = str(Path(sys.executable).parent / "allegro-hub")

# `allegro-hub shell -c ADD_CHANNELS` with HUB_TEST_GIVEN (JSON: url, client_id,
# client_secret, since, channels [{name, seller_id, tokens}]): connected channels
# pointing at an emulator, as the kill, runner and Celery tests and the runner's
# benchmark need them.
ADD_CHANNELS = """
import json, os
from datetime import datetime
from hub.allegro.auth import store_tokens
from hub.allegro.models import Channel
given = json.loads(os.environ["HUB_TEST_GIVEN"])
for each in given["channels"]:
    channel = Channel(
        name=each["name"], environment="custom", api_url=given["url"],
        auth_url=given["url"], client_id=given["client_id"],
        account_id=each["seller_id"], marketplace_id="allegro-pl",
        default_currency="PLN",
        sync_orders_from=(
            datetime.fromisoformat(given["since"]) if given["since"] else None
        ),
    )
    channel.client_secret = given["client_secret"]
    channel.save()
    store_tokens(channel, each["tokens"])
"""


def hub(
    env: dict[str, str], *args: str, **extra: Any
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [HUB, *args], env={**env, **extra}, capture_output=True, text=True, timeout=120
    )


@contextmanager
def fresh_installation(
    database: str, tmp_path: Path, prefix: str
) -> Iterator[dict[str, str]]:
    """The environment of a new installation with a data dir of its own, without
    Redis: on SQLite (a file in the data dir) or, when the suite runs on
    PostgreSQL, on a database created for it and dropped afterwards."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    for name in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"):
        env.pop(name, None)
    env["HUB_DATA_DIR"] = str(tmp_path / "data")
    env["DJANGO_SETTINGS_MODULE"] = "hub.settings"
    if database == "sqlite":
        yield env
        return
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        pytest.skip("runs when the suite runs on PostgreSQL (DATABASE_URL)")
    server, _sep, _db = url.rpartition("/")
    name = f"{prefix}_{os.getpid()}"
    admin = f"{server}/postgres"  # the suite's own database may not exist yet
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    env["DATABASE_URL"] = f"{server}/{name}"
    try:
        yield env
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(name)
                )
            )
