"""Token authentication for the REST API: `Authorization: Bearer ahub_…`.

`api` uses TokenAuth for every router by default; a router that needs it explicitly
can `from hub.api.auth import token_auth`.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer

from hub.api.models import ApiToken, hash_token

# Writing last_used_at on every call would turn every read into a write (and on
# SQLite, a wait for the write lock); once a minute is precise enough to spot an
# unused token.
LAST_USED_PRECISION = timedelta(minutes=1)


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> AbstractBaseUser | None:
        row = (
            ApiToken.objects.select_related("user")
            .filter(token_hash=hash_token(token), revoked_at__isnull=True)
            .first()
        )
        if row is None or not row.user.is_active:
            return None
        now = timezone.now()
        ApiToken.objects.filter(pk=row.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_PRECISION)
        ).update(last_used_at=now)
        request.user = row.user
        # Who did it, for history lines (hub.text.actor).
        request.api_token_name = row.name  # type: ignore[attr-defined]
        return row.user


token_auth = TokenAuth()
