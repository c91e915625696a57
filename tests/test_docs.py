"""README and docs/ stay true to the code: every setting is documented, every link
leads somewhere, every option of the seed is in the feature table."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
DOCS = sorted((ROOT / "docs").glob("*.md"))
# Linked before they exist: written by the issue that builds what they describe.
PENDING = {"docs/scaling.md"}
# The seed's config options and Quick Guide fields (Linnworks' Allegro channel).
SEED_OPTIONS = [
    "SubSource",
    "Username, Password",
    "API Key",
    "API Key Version",
    "Default Currency",
    "Test",
    "Enabled",
    "Inventory Sync",
    "Inventory Update From Location",
    "Submit Tracking Info",
    "Sync Orders From",
    "Relist Items",
    "End Listings",
    "No Manual Confirmation",
    "Relist Listing Duration",
    "Relist Listing Delay",
    "End Auctions",
    "End Auctions With Bids",
    "Link Order Item To Stock Item By Title",
]


def variables_read_by_settings() -> set[str]:
    source = (ROOT / "hub" / "settings.py").read_text(encoding="utf-8")
    # os.environ.get("X"), os.environ["X"], and the helpers envbool("X"), envint("X"), …
    names = set(re.findall(r"os\.environ(?:\.get\(|\[)\s*\"([A-Z0-9_]+)\"", source))
    names |= set(re.findall(r"\benv[a-z]*\(\s*\"([A-Z0-9_]+)\"", source))
    secrets = set(re.findall(r"envsecret\(\s*\"([A-Z0-9_]+)\"", source))
    return names | secrets | {f"{name}_FILE" for name in secrets}


def test_settings_are_found() -> None:
    # The patterns above must keep finding the settings, or the next test is empty.
    assert {"HUB_DATA_DIR", "DATABASE_URL", "HUB_ENCRYPTION_KEY_FILE"} <= (
        variables_read_by_settings()
    )


def test_readme_lists_every_environment_variable() -> None:
    configuration = README[README.index("## Configuration") :]
    configuration = configuration[: configuration.index("\n## ")]
    missing = sorted(
        name
        for name in variables_read_by_settings()
        if f"`{name}`" not in configuration
    )
    assert missing == [], (
        f"hub/settings.py reads {', '.join(missing)}: add each to the table under "
        "## Configuration in README.md (default and meaning)"
    )


def test_feature_table_has_every_seed_option() -> None:
    features = README[README.index("## Features") :]
    features = features[: features.index("\n## ")]
    rows = [line for line in features.splitlines() if line.startswith("| ")]
    firsts = {row.split("|")[1].strip() for row in rows}
    assert [option for option in SEED_OPTIONS if option not in firsts] == []
    for row in rows[2:]:
        status = row.rstrip(" |").rsplit("|", 1)[1].strip()
        assert status.startswith(("works", "not yet")), row


@pytest.mark.parametrize("path", [ROOT / "README.md", *DOCS], ids=lambda p: p.name)
def test_relative_links_lead_to_files_and_headings(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue  # https:, mailto:
        file_part, _hash, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        if linked.relative_to(ROOT).as_posix() in PENDING:
            continue
        if not linked.exists():
            broken.append(target)
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            broken.append(target)
    assert broken == []


def anchors(path: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces → '-'."""
    result = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            title = re.sub(r"[^\w\- ]", "", title)
            result.add(title.replace(" ", "-"))
    return result
