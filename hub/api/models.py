"""API tokens: one per script or system that calls the REST API on a user's behalf."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import models
from django.utils.translation import gettext_lazy as _

TOKEN_PREFIX = "ahub_"


def hash_token(token: str) -> str:
    # The token is 32 random bytes, so a plain SHA-256 is enough (no salt/stretching:
    # there is nothing to guess), and it lets us look the token up by its hash.
    return hashlib.sha256(token.encode()).hexdigest()


class ApiToken(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=100)
    # Only the hash is stored; the token itself is shown once, at creation.
    token_hash = models.CharField(max_length=64, unique=True)
    # The first characters, so the owner can tell tokens apart.
    hint = models.CharField(max_length=12)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.hint}…)"

    @classmethod
    def issue(cls, user: AbstractBaseUser, name: str) -> tuple[ApiToken, str]:
        """Create a token for a user; returns the row and the token (shown only now)."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        row = cls.objects.create(
            user=user,
            name=name,
            token_hash=hash_token(token),
            hint=token[: len(TOKEN_PREFIX) + 4],
        )
        return row, token
