"""Who did something, stored as short text on history rows and shown in words.

"user:alice"   a person in the web UI      → alice
"token:ERP"    a REST API token, by name   → API token “ERP”
"cli"          the allegro-hub command     → command line
"allegro"      a channel's sync (source)   → Allegro
""             unknown (rows from before)  → (nothing shown)
"""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext as _

CLI = "cli"
ALLEGRO = "allegro"
SOURCE_NAMES = {ALLEGRO: "Allegro"}


def of_request(request: HttpRequest) -> str:
    """The actor behind a web page or API call (API auth sets api_token_name)."""
    token_name = getattr(request, "api_token_name", None)
    if token_name is not None:
        return f"token:{token_name}"[:100]
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.get_username()}"[:100]
    return ""


def describe(actor: str) -> str:
    kind, _sep, name = actor.partition(":")
    if kind == "user":
        return name
    if kind == "token":
        return _("API token “%(name)s”") % {"name": name}
    if actor == CLI:
        return _("command line")
    return SOURCE_NAMES.get(actor, actor)
