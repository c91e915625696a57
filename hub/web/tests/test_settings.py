"""Settings from the environment: a bad value stops the start with one clear line,
and the keys the hub generates on first start are kept and reused."""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

HUB = Path(sys.executable).parent / "allegro-hub"


def start(data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`allegro-hub check` in a fresh process with ENV on top of a clean one."""
    return run_hub(data_dir, "check", env)


def run_hub(
    data_dir: Path,
    command: str,
    env: dict[str, str],
    preexec_fn: Callable[[], None] | None = None,
) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("HUB_", "DATABASE_URL", "ALLEGRO_"))
    }
    clean["HUB_DATA_DIR"] = str(data_dir)
    clean.update(env)
    return subprocess.run(
        [str(HUB), command],
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=preexec_fn,
    )


PR_CAPBSET_DROP = 24  # <linux/prctl.h>
CAP_DAC_OVERRIDE = 1  # <linux/capability.h>: root's "write anywhere"


def without_write_anywhere() -> None:
    """In the child, before exec: drop CAP_DAC_OVERRIDE from the bounding set, so
    even root (as CI runs) is refused writing into a 0555 directory it owns."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"HUB_DEBUG": "maybe"}, "HUB_DEBUG must be true or false, not 'maybe'"),
        (
            {"DATABASE_URL": "mysql://hub@db/hub"},
            "DATABASE_URL must be a PostgreSQL URL",
        ),
        ({"DATABASE_URL": "no-scheme"}, "DATABASE_URL is not a valid URL"),
        ({"HUB_ENCRYPTION_KEY": "not-a-key"}, "must be a Fernet key"),
        ({"ALLEGRO_HTTP_TIMEOUT": "0"}, "ALLEGRO_HTTP_TIMEOUT must be at least 1"),
        ({"HUB_SECRET_KEY_FILE": "/nonexistent/key"}, "cannot read /nonexistent/key"),
    ],
)
def test_a_bad_value_stops_the_start_with_one_line(
    tmp_path: Path, env: dict[str, str], message: str
) -> None:
    result = start(tmp_path, **env)

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("allegro-hub: configuration error: ")
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1


def test_a_data_dir_that_is_a_file_is_refused(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "data"
    not_a_dir.write_text("")

    result = start(not_a_dir)

    assert result.returncode == 2
    assert f"HUB_DATA_DIR {not_a_dir} is a file, not a directory" in result.stderr


def test_a_read_only_data_dir_is_refused(tmp_path: Path) -> None:
    # Root may write anywhere, so as root (CI) the child runs without that power.
    drop = without_write_anywhere if os.geteuid() == 0 else None
    tmp_path.chmod(0o555)
    try:
        result = run_hub(tmp_path, "check", {}, preexec_fn=drop)
    finally:
        tmp_path.chmod(0o755)

    assert result.returncode == 2
    assert "is not writable by this user" in result.stderr


def test_keys_are_generated_on_first_start_and_reused(tmp_path: Path) -> None:
    data = tmp_path / "new" / "data"

    first = start(data)

    assert first.returncode == 0, first.stderr
    secret_key = (data / "secret_key").read_text()
    encryption_key = (data / "encryption_key").read_text()
    assert len(secret_key) >= 50
    Fernet(encryption_key.encode())  # a valid key
    for name in ("secret_key", "encryption_key"):
        assert (data / name).stat().st_mode & 0o777 == 0o600

    second = start(data)

    assert second.returncode == 0, second.stderr
    assert (data / "secret_key").read_text() == secret_key
    assert (data / "encryption_key").read_text() == encryption_key


def test_keys_from_the_environment_are_not_written(tmp_path: Path) -> None:
    result = start(
        tmp_path,
        HUB_SECRET_KEY="s" * 50,
        HUB_ENCRYPTION_KEY=Fernet.generate_key().decode(),
    )

    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "secret_key").exists()
    assert not (tmp_path / "encryption_key").exists()


def test_an_empty_key_file_is_refused_not_replaced(tmp_path: Path) -> None:
    (tmp_path / "encryption_key").write_text("")

    result = start(tmp_path)

    assert result.returncode == 2
    assert "encryption_key is empty; delete it to generate a new one" in result.stderr
    assert (tmp_path / "encryption_key").read_text() == ""


def test_the_data_dir_and_database_are_private(tmp_path: Path) -> None:
    data = tmp_path / "new" / "data"

    result = run_hub(data, "migrate", {})

    assert result.returncode == 0, result.stderr
    assert data.stat().st_mode & 0o777 == 0o700
    assert (data / "hub.sqlite3").stat().st_mode & 0o777 == 0o600
    assert (data / "hub.sqlite3").stat().st_size > 0  # a real database now
    for path in data.glob("hub.sqlite3*"):
        assert path.stat().st_mode & 0o077 == 0, path


def test_an_existing_open_data_dir_and_database_are_made_private(
    tmp_path: Path,
) -> None:
    tmp_path.chmod(0o755)
    (tmp_path / "hub.sqlite3").touch(mode=0o644)
    (tmp_path / "hub.sqlite3").chmod(0o644)

    result = start(tmp_path)

    assert result.returncode == 0, result.stderr
    assert tmp_path.stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "hub.sqlite3").stat().st_mode & 0o777 == 0o600
