from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from hub.api.models import ApiToken

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("token", *args, stdout=out)
    return out.getvalue()


def test_create_prints_a_working_token_only(user) -> None:  # type: ignore[no-untyped-def]
    token = run("create", "alice", "--name", "erp").strip()
    assert (
        Client().get("/api/items", HTTP_AUTHORIZATION=f"Bearer {token}").status_code
        == 200
    )
    row = ApiToken.objects.get()
    assert (row.name, row.user_id) == ("erp", user.pk)


def test_list_never_shows_tokens_and_revoke(user) -> None:  # type: ignore[no-untyped-def]
    token = run("create", "alice").strip()
    row = ApiToken.objects.get()
    listing = run("list")
    assert token not in listing
    assert listing.startswith(f"{row.pk}\talice\tcli\t{row.hint}…\tactive\t")
    assert run("revoke", str(row.pk)) == f"Revoked token {row.pk}.\n"
    assert "\trevoked\t" in run("list", "alice")
    with pytest.raises(CommandError, match="no active token"):
        run("revoke", str(row.pk))


def test_create_for_unknown_user() -> None:
    with pytest.raises(CommandError, match="no user 'bob'"):
        run("create", "bob")
    assert ApiToken.objects.count() == 0
