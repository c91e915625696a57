"""Message codes of the Allegro channel: errors and health shown on screens,
stored as codes and translated when shown (hub.text.message)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from hub.allegro.models import PendingAction
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

# Listing timelines (ListingEvent.message), push and plan outcomes.
ALL_LOCATIONS = define("inventory.all_locations", _("all locations"))
OUT_OF_STOCK_LIVE = define(
    "inventory.out_of_stock_live",
    _(
        "Available %(n)d at %(where)s but the offer is live: not sent (Allegro "
        "refuses 0); ending it is the lifecycle's job."
    ),
)
PUSH_DECIDED = define(
    "inventory.decided",
    _(
        "Available %(n)d at %(where)s, Allegro shows %(known)s: set it to %(n)d "
        "(command %(id)s)."
    ),
)
PUSH_SENT = define("inventory.sent", _("Sent to Allegro (command %(id)s)."))
PUSH_CONFIRMED = define("inventory.confirmed", _("Allegro confirmed quantity %(n)d."))
PUSH_REFUSED = define("inventory.refused", _("Allegro refused quantity %(n)d: %(why)s"))
NOT_IN_REPORT = define(
    "inventory.not_in_report", _("Allegro's report does not mention this offer.")
)

SOLD_OUT_PENDING = define(
    "lifecycle.sold_out_pending", _("Sold out on Allegro: pending relist.")
)
NO_LONGER_NEEDED = define(
    "lifecycle.no_longer_needed",
    _("No longer needed: the listing or its stock changed."),
)
PLAN_WITHDRAWN = define(
    "lifecycle.withdrawn", _("Plan withdrawn (%(kind)s): it no longer holds.")
)
APPROVED = define("lifecycle.approved", _("Approved."))
REJECTED = define("lifecycle.rejected", _("Rejected: nothing sent."))
STRUCK_OFF = define("lifecycle.struck_off", _("Struck off: it will not be relisted."))
RESTORED = define(
    "lifecycle.restored", _("Restored: it will be relisted when stock returns.")
)
RELISTED_AS = define("lifecycle.relisted_as", _("Relisted as a new offer %(id)s."))
LISTED_FROM = define(
    "lifecycle.listed_from", _("Listed again from the ended auction %(id)s.")
)
SENT_QUANTITY = define("lifecycle.sent_quantity", _("Sent: set the quantity to %(n)s."))
SENT_DURATION = define("lifecycle.sent_duration", _("Sent: set the duration to %(d)s."))
UNTIL_SOLD_OUT = define("lifecycle.until_sold_out", _("until sold out"))
SENT_END = define("lifecycle.sent_end", _("Sent: end the listing."))
SENT_ACTIVATE_AT = define(
    "lifecycle.sent_activate_at", _("Sent: activate at %(when)s.")
)
SENT_ACTIVATE = define("lifecycle.sent_activate", _("Sent: activate now."))
QUANTITY_SET = define("lifecycle.quantity_set", _("Quantity set."))
DURATION_SET = define("lifecycle.duration_set", _("Duration set."))
ENDED_PENDING = define(
    "lifecycle.ended_pending", _("Ended by the hub: pending relist.")
)
RELISTED = define("lifecycle.relisted", _("Relisted."))
REFUSED_BY_ALLEGRO = define("lifecycle.refused", _("Refused by Allegro: %(text)s"))

# Why a plan was made (PendingAction.reason): lifecycle_plan.plan_message.
BIDDERS = define(
    "lifecycle.bidders", ngettext_lazy("%(n)d bidder", "%(n)d bidders", "n")
)
PLAN_REASONS = {
    reason: define(f"lifecycle.reason.{reason}", template)
    for reason, template in {
        "end_listings_off": _(
            "Out of stock but still live: End Listings is off (available %(a)s)."
        ),
        "end_auctions_off": _(
            "Out of stock but still live: End Auctions is off (available %(a)s)."
        ),
        "auction_has_bids": _(
            "Out of stock but still live: the auction has %(bidders)s and End "
            "Auctions With Bids is off."
        ),
        "out_of_stock": _("Out of stock (available %(a)s)."),
        "out_of_stock_bids": _(
            "Out of stock (available %(a)s); the auction has %(bidders)s: ending it "
            "sells the item to the highest bidder."
        ),
        "stock_returned": _(
            "Stock is back (available %(a)s); it can be relisted until %(deadline)s."
        ),
        "stock_returned_auction": _(
            "Stock is back (available %(a)s); the ended auction is listed again as "
            "a new offer (possible until %(deadline)s)."
        ),
        "archived": _(
            "More than 60 days since it ended (deadline %(deadline)s): Allegro has "
            "archived it, so it cannot be relisted."
        ),
    }.items()
}
# A plan's kind, named in a message (PendingAction.Kind's labels).
ACTION_KINDS = {
    kind.value: define(f"lifecycle.action.{kind.value}", kind.label)
    for kind in PendingAction.Kind
}

# Listings imported and linked (ListingEvent.message).
ARCHIVED = define("listing.archived", _("No longer on Allegro (archived)."))
CHANGED = define("listing.changed", _("%(changes)s"))
STATUS_CHANGED = define("listing.status_changed", _("status %(old)s → %(new)s"))
QUANTITY_CHANGED = define(
    "listing.quantity_changed", _("quantity on Allegro %(old)s → %(new)s")
)
LINKED_BY_SKU = define(
    "listing.linked_by_sku", _("Linked to %(sku)s: its external id is that SKU.")
)
UNLINKED_BY_HAND = define("listing.unlinked_by_hand", _("Unlinked by hand (%(who)s)."))
LINKED_BY_HAND = define(
    "listing.linked_by_hand", _("Linked by hand to %(sku)s (%(who)s).")
)
