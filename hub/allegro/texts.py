"""Message codes of the Allegro channel: errors and health shown on screens,
stored as codes and translated when shown (hub.text.message)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from hub.text.message import define

WITH_TRACE = define("allegro.with_trace", _("%(text)s (Allegro Trace-Id: %(trace)s)"))
ERROR = define("allegro.error", _("Allegro returned an error: %(text)s"))
TRANSIENT = define(
    "allegro.transient",
    _(
        "Allegro could not be reached or had a temporary problem (%(what)s). "
        "This is usually temporary: try again in a few minutes."
    ),
)
RATE_LIMITED = define(
    "allegro.rate_limited",
    _(
        "Allegro asked us to slow down (too many requests). Wait "
        "%(seconds)d seconds, then try again."
    ),
)
TOKEN_RATE_LIMITED = define(
    "allegro.token_rate_limited",
    _(
        "Allegro refused a new access token for this account for now (too "
        "many tokens generated). The hub tries again at the next sync."
    ),
)
AUTH_REVOKED = define(
    "allegro.auth_revoked",
    _(
        "Allegro no longer accepts this channel's authorisation (the seller "
        "may have unlinked the application, changed the password, or the "
        "tokens expired). Open Settings → Channel Integration and connect "
        "the account again."
    ),
)
REFUSED = define("allegro.refused", _("Allegro refused the request: %(text)s"))
NOT_FOUND = define(
    "allegro.not_found",
    _(
        "Allegro says this does not exist (any more): %(text)s. Ended offers "
        "are archived by Allegro 60 days after they end."
    ),
)
MALFORMED = define(
    "allegro.malformed",
    _(
        "Allegro sent a response the hub cannot read (%(what)s). Nothing was "
        "changed; if this keeps happening, report it with the Trace-Id."
    ),
)
NOT_SENT = define("allegro.not_sent", _("Not sent to Allegro: %(text)s"))

REFRESH_REJECTED = define(
    "allegro.refresh_rejected",
    _("Allegro rejected the refresh token; reconnect the channel"),
)
ACCESS_REFUSED = define(
    "allegro.access_refused",
    _(
        "Allegro refused the channel's access even after a token refresh; "
        "reconnect the channel"
    ),
)
RECONNECT = define(
    "allegro.reconnect",
    _(
        "Allegro no longer accepts this connection (access was withdrawn, the "
        "password changed, or the tokens expired): click “Connect with Allegro” "
        "again."
    ),
)
INVALID_CLIENT = define(
    "allegro.invalid_client",
    _(
        "Allegro does not accept this Client ID and Secret: check them in the "
        "application settings at apps.developer.allegro.pl"
    ),
)
CANNOT_REACH = define(
    "allegro.cannot_reach",
    _("Cannot reach %(host)s: check the API URL and the network connection."),
)
OTHER_ACCOUNT = define(
    "allegro.other_account",
    _(
        "These tokens are for the Allegro account %(login)s, but this channel "
        "belongs to %(old)s. Sign in as %(old)s, or add a new channel for "
        "%(login)s. The new tokens were not kept."
    ),
)
ACCOUNT_CONNECTED = define(
    "allegro.account_connected",
    _(
        "The Allegro account %(login)s is already connected as channel "
        "%(other)s. One account can be connected only once. The new tokens "
        "were not kept."
    ),
)
ACCOUNT_TAKEN_MEANWHILE = define(
    "allegro.account_taken_meanwhile",
    _(
        "Another channel took this Allegro account meanwhile; the new tokens "
        "were not kept."
    ),
)
SETTINGS_CHANGED = define(
    "allegro.settings_changed",
    _("The environment or Client ID changed: connect the account again."),
)

KEEPS_FAILING = define(
    "allegro.keeps_failing",
    _(
        "Allegro kept failing to answer for this order, so it was set aside "
        "and is retried with growing pauses. Last answer: %(text)s"
    ),
)
DATABASE_TROUBLE = define(
    "allegro.database_trouble",
    _(
        "The hub's database could not save this pass (%(what)s). Nothing "
        "half-done was kept; the next sync tries again."
    ),
)

# Checkout forms set aside (orders' import problems).
FORM_NO_LINES = define(
    "allegro.form_no_lines", _("Checkout form %(id)s has no line items.")
)
LINE_QUANTITY = define(
    "allegro.line_quantity", _("Line item %(id)s has quantity %(qty)s.")
)
