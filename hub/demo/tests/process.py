"""`allegro-hub demo` as a real process on a fresh installation (SQLite in a
temporary data directory), for the tests that watch it from outside: the
process test here and the browser test of the story (tests/e2e).

- ``demo``: the running process and its environment (buyers off, every flow
  each second, the story's delivery 2 s after the sell-out);
- ``read_until``: the first line of its output matching a pattern;
- ``control``: the emulator's control API over HTTP;
- ``orders``: the hub's orders, read by another process.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.allegro.tests.installation import HUB, fresh_installation, hub

DemoProcess = tuple[subprocess.Popen[str], dict[str, str]]


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out: {what}"
        time.sleep(0.3)


def orders(env: dict[str, str]) -> set[str]:
    listed = hub(env, "orders", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    return {row["external_id"] for row in json.loads(listed.stdout)}


@pytest.fixture(name="demo")
def demo_fixture(tmp_path: Path) -> Iterator[DemoProcess]:
    with fresh_installation("sqlite", tmp_path, "hub_demo") as env:
        process = subprocess.Popen(
            [HUB, "demo", "--port", "0", "--emulator-port", "0"]
            + ["--buyers-interval", "0", "--sync-interval", "1", "--delivery", "2"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            yield process, env
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()


def read_until(process: subprocess.Popen[str], pattern: str) -> re.Match[str]:
    assert process.stdout is not None
    seen = []
    for line in process.stdout:
        seen.append(line)
        found = re.search(pattern, line)
        if found:
            return found
    raise AssertionError(f"{pattern} never printed:\n{''.join(seen)}")


def control(emulator: str, action: str, **kwargs: Any) -> Any:
    """POST /__control/<action> with keyword arguments (GET without any)."""
    if kwargs:
        answer = httpx.post(f"{emulator}/__control/{action}", json=kwargs, timeout=10)
    else:
        answer = httpx.get(f"{emulator}/__control/{action}", timeout=10)
    answer.raise_for_status()
    return answer.json()["result"]
