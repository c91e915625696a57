"""What the web app may depend on: not the emulator, not the demo, not allegro's
insides (ARCHITECTURE.md; issue 10). The demo lives in hub/demo; a channel's
state on the Allegro side comes from hub/allegro/status.py."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

WEB = Path(__file__).resolve().parents[1]

# Every hub.web module, then the URLconf and the front page's view, in a fresh
# interpreter: what they pull in, they pull in through an import somewhere.
LOAD_WEB = """
import json, pkgutil, importlib, sys
import django
django.setup()
import hub.web
for module in pkgutil.walk_packages(hub.web.__path__, "hub.web."):
    if ".tests" not in module.name:
        importlib.import_module(module.name)
from django.urls import resolve
import hub.urls
resolve("/")
print(json.dumps(sorted(sys.modules)))
"""


def web_sources() -> list[Path]:
    return [p for p in WEB.rglob("*.py") if "tests" not in p.relative_to(WEB).parts]


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_loading_the_web_app_does_not_load_the_emulator_or_the_demo(
    tmp_path: Path,
) -> None:
    env = {"DJANGO_SETTINGS_MODULE": "hub.settings", "HUB_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", LOAD_WEB],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    loaded = set(json.loads(done.stdout.strip().splitlines()[-1]))
    assert "hub.web.dashboard" in loaded  # the check did load the web app
    assert "hub.web.management.commands.run" in loaded
    assert not {m for m in loaded if m.split(".")[0] == "allegro_emulator"}
    # The demo app's config and its message codes, as for every installed app
    demo = {m for m in loaded if m.startswith("hub.demo.")}
    assert demo <= {"hub.demo.apps", "hub.demo.texts"}


def test_web_sources_import_neither_the_emulator_nor_the_demo() -> None:
    sources = web_sources()
    assert WEB / "dashboard.py" in sources
    for path in sources:
        for module in imported_modules(path):
            assert not module.startswith("allegro_emulator"), (path, module)
            assert not module.startswith("hub.demo"), (path, module)
    assert not (WEB / "demo_runtime.py").exists()
    assert not (WEB / "demo_sync.py").exists()


def test_the_dashboard_asks_allegro_for_a_channel_status_through_one_function() -> None:
    """From hub.allegro the dashboard takes the status function (and the model's
    name for its types), never the sync modules or their cursor names."""
    dashboard = WEB / "dashboard.py"
    from_allegro = {
        m for m in imported_modules(dashboard) if m.startswith("hub.allegro")
    }
    assert from_allegro == {"hub.allegro.models", "hub.allegro.status"}
    text = dashboard.read_text(encoding="utf-8")
    assert "channel_statuses()" in text
    for path in web_sources():
        source = path.read_text(encoding="utf-8")
        assert "SyncCursor" not in source, path
        assert "hub.allegro.sync" not in source, path
