from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from hub.web.management.commands.run import allowed_hosts_hint

HUB = Path(sys.executable).parent / "allegro-hub"


def test_run_migrates_and_serves_pages_and_static_files(tmp_path: Path) -> None:
    # A real `allegro-hub run` on a fresh data directory (its own SQLite database).
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["HUB_DATA_DIR"] = str(tmp_path)
    server = subprocess.Popen(
        [str(HUB), "run", "--port", "0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        assert "allegro-hub is running on http://127.0.0.1:" in line, line
        base = line.split("running on ")[1].split(" ")[0].rstrip("/")
        with httpx.Client(base_url=base, timeout=10) as http:
            page = http.get("/inventory/")
            assert page.status_code == 302
            assert page.headers["location"] == "/login/?next=/inventory/"
            assert http.get("/login/").status_code == 200
            css = http.get("/static/hub/hub.css")
            assert css.status_code == 200
            assert css.headers["content-type"].startswith("text/css")
            assert http.get("/api/items").status_code == 401
        assert (tmp_path / "hub.sqlite3").exists()
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_run_warns_when_listening_beyond_this_machine() -> None:
    assert allowed_hosts_hint("127.0.0.1", ["localhost"]) == ""
    assert allowed_hosts_hint("0.0.0.0", ["*"]) == ""
    hint = allowed_hosts_hint("0.0.0.0", ["localhost", "127.0.0.1"])
    assert "HUB_ALLOWED_HOSTS (now: localhost, 127.0.0.1)" in hint
    assert "Bad Request (400)" in hint
