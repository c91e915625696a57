from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from hub.api.models import ApiToken, hash_token

pytestmark = pytest.mark.django_db


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_token_is_stored_hashed_and_works(client: Client, user) -> None:  # type: ignore[no-untyped-def]
    row, token = ApiToken.issue(user, "erp")
    assert token.startswith("ahub_")
    assert len(token) > 40
    assert row.token_hash == hash_token(token)
    assert token not in (row.token_hash, row.hint)
    assert client.get("/api/items", headers=bearer(token)).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer ahub_wrong"},
        {"Authorization": "Bearer "},
        {"Authorization": "Basic YWxpY2U6czNjcmV0LXBhc3Mh"},
    ],
)
def test_missing_or_wrong_token_gets_401(
    client: Client, headers: dict[str, str]
) -> None:
    response = client.get("/api/items", headers=headers)
    assert response.status_code == 401
    assert response.json() == {"detail": "Unauthorized"}


def test_session_login_is_not_enough_for_the_api(logged_in_client: Client) -> None:
    assert logged_in_client.get("/api/items").status_code == 401


def test_revoked_token_gets_401(client: Client, user) -> None:  # type: ignore[no-untyped-def]
    row, token = ApiToken.issue(user, "erp")
    ApiToken.objects.filter(pk=row.pk).update(revoked_at=timezone.now())
    assert client.get("/api/items", headers=bearer(token)).status_code == 401


def test_inactive_user_token_gets_401(client: Client, user) -> None:  # type: ignore[no-untyped-def]
    _row, token = ApiToken.issue(user, "erp")
    user.is_active = False
    user.save()
    assert client.get("/api/items", headers=bearer(token)).status_code == 401


def test_last_used_is_recorded_at_most_once_a_minute(client: Client, user) -> None:  # type: ignore[no-untyped-def]
    row, token = ApiToken.issue(user, "erp")
    client.get("/api/items", headers=bearer(token))
    row.refresh_from_db()
    first = row.last_used_at
    assert first is not None
    client.get("/api/items", headers=bearer(token))
    row.refresh_from_db()
    assert row.last_used_at == first
    ApiToken.objects.filter(pk=row.pk).update(last_used_at=first - timedelta(minutes=2))
    client.get("/api/items", headers=bearer(token))
    row.refresh_from_db()
    assert row.last_used_at > first


def test_docs_need_a_login(logged_in_client: Client) -> None:
    for url in ("/api/docs", "/api/openapi.json"):
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")
        assert logged_in_client.get(url).status_code == 200
    # Swagger UI comes from our own static files, not a CDN (offline installs).
    page = logged_in_client.get("/api/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in page
    assert "cdn" not in page


def test_token_page_shows_new_token_once(logged_in_client: Client, user) -> None:  # type: ignore[no-untyped-def]
    response = logged_in_client.post("/settings/api-tokens/", {"name": "ERP feed"})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    token = response.context["new_token"]
    assert token in response.content.decode()
    assert ApiToken.objects.get().token_hash == hash_token(token)
    again = logged_in_client.get("/settings/api-tokens/").content.decode()
    assert "ERP feed" in again
    assert token not in again


def test_revoke_from_page(logged_in_client: Client, user) -> None:  # type: ignore[no-untyped-def]
    row, token = ApiToken.issue(user, "erp")
    response = logged_in_client.post(f"/settings/api-tokens/{row.pk}/revoke/")
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.revoked_at is not None
    assert Client().get("/api/items", headers=bearer(token)).status_code == 401


def test_cannot_revoke_someone_elses_token(plain_client: Client, user) -> None:  # type: ignore[no-untyped-def]
    # Only staff see and revoke other users' tokens (test_permissions.py).
    row, _token = ApiToken.issue(user, "alice feed")
    response = plain_client.post(f"/settings/api-tokens/{row.pk}/revoke/")
    assert response.status_code == 404
    row.refresh_from_db()
    assert row.revoked_at is None
    assert (
        "alice feed" not in plain_client.get("/settings/api-tokens/").content.decode()
    )
