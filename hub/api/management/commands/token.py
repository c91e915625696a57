"""`allegro-hub token create USER [--name NAME] | list [USER] | revoke ID`."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from hub.api.models import ApiToken


class Command(BaseCommand):
    help = "Create, list or revoke REST API tokens."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Create a token and print it (once).")
        create.add_argument("user", help="username the token acts as")
        create.add_argument("--name", default="cli", help="what the token is for")
        listing = sub.add_parser("list", help="List tokens (never the tokens).")
        listing.add_argument("user", nargs="?", help="only this user's tokens")
        revoke = sub.add_parser("revoke", help="Revoke a token by its id.")
        revoke.add_argument("id", type=int)

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "create":
            self.create(options["user"], options["name"])
        elif action == "list":
            self.list(options["user"])
        else:
            self.revoke(options["id"])

    def create(self, username: str, name: str) -> None:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(_("no user %(name)r") % {"name": username})
        _row, token = ApiToken.issue(user, name)
        # Only the token on stdout, so scripts can capture it: TOKEN=$(… token create).
        self.stdout.write(token)

    def list(self, username: str | None) -> None:
        tokens = ApiToken.objects.select_related("user").order_by("pk")
        if username:
            tokens = tokens.filter(user__username=username)
        for token in tokens:
            state = _("revoked") if token.revoked_at else _("active")
            used = token.last_used_at.isoformat() if token.last_used_at else "-"
            self.stdout.write(
                f"{token.pk}\t{token.user.get_username()}\t{token.name}\t"
                f"{token.hint}…\t{state}\t{used}"
            )

    def revoke(self, pk: int) -> None:
        updated = ApiToken.objects.filter(pk=pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        if not updated:
            raise CommandError(_("no active token with id %(id)s") % {"id": pk})
        self.stdout.write(_("Revoked token %(id)s.") % {"id": pk})
