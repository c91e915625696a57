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

# Submit Tracking Info (hub.allegro.sync.tracking): a dispatch's channel answer
# and the order's history.
TRACKING_ACCEPTED = define(
    "allegro.tracking_accepted", _("Allegro accepted the tracking number.")
)
TRACKING_ALREADY_THERE = define(
    "allegro.tracking_already_there",
    _("This tracking number is on the order already; not sent again."),
)
TRACKING_BY_ALLEGRO = define(
    "allegro.tracking_by_allegro",
    _(
        "Allegro put this tracking number on the order itself (Wysyłam z "
        "Allegro); not sent again."
    ),
)
TRACKING_UNKNOWN_CARRIER = define(
    "allegro.tracking_unknown_carrier",
    _(
        "Allegro does not know the carrier “%(name)s”. Correct the carrier, or "
        "allow sending it as another carrier."
    ),
)
TRACKING_STATUS_REFUSED = define(
    "allegro.tracking_status_refused",
    _("Allegro has the tracking number, but refused the order status: %(why)s"),
)
TRACKING_STATUS_LEFT_ALONE = define(
    "allegro.tracking_status_left_alone",
    _("%(text)s The order is cancelled on Allegro; its status was left alone."),
)
TRACKING_REFUSED = define(
    "allegro.tracking_refused",
    _("Allegro refused tracking number %(number)s: %(why)s"),
)
TRACKING_ON_ORDER = define(
    "allegro.tracking_on_order",
    _("Tracking number %(number)s is on the Allegro order."),
)
