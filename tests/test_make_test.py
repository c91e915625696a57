"""`make test` sets itself up: Debian's chromium is installed when missing (never a
silent skip of the browser tests), and left alone when it is there."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MAKE = shutil.which("make")

pytestmark = pytest.mark.skipif(MAKE is None, reason="make is not installed")

FAKE_APT = """#!/bin/sh
echo "$*" >> "{log}"
if [ "$1" = install ]; then {touch} "{chromium}"; {chmod} +x "{chromium}"; fi
"""


def tools(tmp_path: Path, *, apt: bool) -> Path:
    """A PATH with only what the recipe needs (and a fake apt-get, if wanted)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("env", "id"):
        found = shutil.which(name)
        assert found is not None
        (bin_dir / name).symlink_to(found)
    if apt:
        fake = bin_dir / "apt-get"
        fake.write_text(
            FAKE_APT.format(
                log=tmp_path / "apt.log",
                chromium=tmp_path / "chromium",
                touch=shutil.which("touch"),
                chmod=shutil.which("chmod"),
            )
        )
        fake.chmod(0o755)
    return bin_dir


def make_chromium(
    tmp_path: Path, chromium: Path, bin_dir: Path
) -> subprocess.CompletedProcess[str]:
    assert MAKE is not None
    env = {**os.environ, "PATH": str(bin_dir)}
    return subprocess.run(
        [MAKE, "-s", "-C", str(REPO), "chromium", f"CHROMIUM={chromium}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.skipif(os.geteuid() != 0, reason="as another user it would use sudo")
def test_a_missing_chromium_is_installed_with_apt(tmp_path: Path) -> None:
    chromium = tmp_path / "chromium"

    result = make_chromium(tmp_path, chromium, tools(tmp_path, apt=True))

    assert result.returncode == 0, result.stderr
    assert (tmp_path / "apt.log").read_text().splitlines() == [
        "update -q",
        "install -y -q chromium",
    ]
    assert chromium.exists()
    assert "installing Debian's chromium" in result.stdout


def test_without_apt_it_says_what_to_install_in_one_line_and_fails(
    tmp_path: Path,
) -> None:
    chromium = tmp_path / "chromium"

    result = make_chromium(tmp_path, chromium, tools(tmp_path, apt=False))

    assert result.returncode != 0
    first = result.stderr.splitlines()[0]
    assert first == (
        f"make test: the browser tests need Chromium at {chromium}; install your "
        "system's chromium package (there is no apt-get here)"
    )


def test_chromium_already_there_runs_no_apt(tmp_path: Path) -> None:
    chromium = tmp_path / "chromium"
    chromium.touch(mode=0o755)

    result = make_chromium(tmp_path, chromium, tools(tmp_path, apt=True))

    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "apt.log").exists()
    assert result.stdout == ""


def test_make_test_sets_up_chromium_before_the_suite() -> None:
    assert MAKE is not None
    plan = subprocess.run(
        [MAKE, "-n", "-C", str(REPO), "test", "CHROMIUM=/nonexistent/chromium"],
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    assert plan.index("apt-get install -y -q chromium") < plan.index("-m pytest")
