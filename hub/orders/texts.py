"""Message codes of orders: history lines, unlinked reasons, import problems.

Registered at start-up (hub.text); stored as codes, translated when shown. See
hub.text.message for how to write one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy, pgettext_lazy

from hub.text.message import define, register_param

# ---------------------------------------------------------------- history
IMPORTED = define(
    "order.imported",
    ngettext_lazy(
        "Imported: %(status)s, %(lines)d line, %(total)s.",
        "Imported: %(status)s, %(lines)d lines, %(total)s.",
        "lines",
    ),
)
IMPORTED_UNLINKED = define(
    "order.imported_unlinked",
    ngettext_lazy(
        "Imported: %(status)s, %(lines)d line, %(total)s; lines not linked to "
        "stock: %(unlinked)d.",
        "Imported: %(status)s, %(lines)d lines, %(total)s; lines not linked to "
        "stock: %(unlinked)d.",
        "lines",
    ),
)
CANCELLED = define("order.cancelled", _("Cancelled on the channel."))
CANCELLED_AFTER_DISPATCH = define(
    "order.cancelled_after_dispatch",
    _("Cancelled on the channel after it was dispatched; check it."),
)
LINES_CHANGED = define("order.lines_changed", _("Order lines changed."))
STATUS_CHANGED = define("order.status_changed", _("Status %(old)s → %(new)s."))
PAID = define("order.paid", _("Payment received."))
FIELDS_CHANGED = define("order.fields_changed", _("Changed: %(fields)s."))
DETAILS_CHANGED = define("order.details_changed", _("Order details changed."))
# Everything one read of a changed order found, in one line of its history
# (the parts are the messages above; "changes" is hub.text.message.sentences).
SEVERAL_CHANGES = define("order.several_changes", "%(changes)s")
LINKED_BY_HAND = define(
    "order.linked_by_hand", _("“%(title)s” linked by hand to %(sku)s.")
)
LINKED_AFTER_DISPATCH = define(
    "order.linked_after_dispatch",
    _(
        "“%(title)s” linked by hand to %(sku)s after dispatch; its units were "
        "taken off stock."
    ),
)
LINKED_BY_LISTING = define(
    "order.linked_by_listing", _("“%(title)s” linked through its listing.")
)
DISPATCHED = define("order.dispatched", _("Dispatched."))
DISPATCHED_TRACKED = define(
    "order.dispatched_tracked",
    _("Dispatched with %(carrier)s, tracking number %(number)s."),
)
# Some lines of the order (``lines``: "1× Mug, 2× Cup", the channel's titles).
DISPATCHED_LINES = define("order.dispatched_lines", _("Dispatched %(lines)s."))
DISPATCHED_LINES_TRACKED = define(
    "order.dispatched_lines_tracked",
    _("Dispatched %(lines)s with %(carrier)s, tracking number %(number)s."),
)
# A carrier without a tracking number (e.g. a bulk dispatch from the list).
DISPATCHED_WITH = define(
    "order.dispatched_with",
    _("Dispatched with %(carrier)s, no tracking number yet."),
)
DISPATCHED_LINES_WITH = define(
    "order.dispatched_lines_with",
    _("Dispatched %(lines)s with %(carrier)s, no tracking number yet."),
)
DISPATCHED_WITHOUT_STOCK = define(
    "order.dispatched_without_stock",
    ngettext_lazy(
        "%(count)d unlinked line dispatched without taking stock, by the seller's "
        "choice.",
        "%(count)d unlinked lines dispatched without taking stock, by the seller's "
        "choice.",
        "count",
    ),
)
DISPATCHED_UNPAID = define(
    "order.dispatched_unpaid", _("Dispatched unpaid, confirmed by the seller.")
)
TRACKING_CORRECTED = define(
    "order.tracking_corrected",
    _("Tracking number corrected to %(carrier)s %(number)s; it will be sent again."),
)
TRACKING_ADDED = define(
    "order.tracking_added",
    _("Tracking number %(carrier)s %(number)s added; it will be sent to the channel."),
)
TRACKING_RESENT = define(
    "order.tracking_resent", _("Tracking number %(number)s will be sent again.")
)
DISPATCH_HANDLED = define(
    "order.dispatch_handled",
    _("Dispatch with tracking number %(number)s marked handled."),
)

# ------------------------------------------------- a dispatch's channel answer
# Dispatch.channel_message: what the channel said, or why the seller must act.
CANCELLED_AFTER_DISPATCH_ACTION = define(
    "dispatch.cancelled_after_dispatch",
    _(
        "The buyer cancelled the order after it was dispatched: stop the parcel "
        "or arrange its return, then mark this handled."
    ),
)
MARKED_HANDLED = define("dispatch.marked_handled", _("Marked handled by the seller."))

# Fields whose change the history names (order.fields_changed lists these codes).
FIELD_LABELS = {
    "buyer_name": define("order.field.buyer_name", _("buyer")),
    "buyer_email": define("order.field.buyer_email", _("buyer e-mail")),
    "buyer_phone": define("order.field.buyer_phone", _("buyer phone")),
    "delivery_method": define("order.field.delivery_method", _("delivery method")),
    "delivery_address": define("order.field.delivery_address", _("delivery address")),
    "pickup_point": define("order.field.pickup_point", _("pickup point")),
    "invoice": define("order.field.invoice", _("invoice details")),
    "invoice_required": define("order.field.invoice_required", _("invoice request")),
    "message_to_seller": define(
        "order.field.message_to_seller", _("message to seller")
    ),
    "total": define("order.field.total", _("total")),
    "fulfillment_status": define(
        "order.field.fulfillment_status", _("fulfilment status")
    ),
}

# ------------------------------------------------------- why a line is unlinked
AMBIGUOUS_TITLE = define(
    "line.ambiguous_title",
    ngettext_lazy(
        "%(count)d stock item has this title; link it by hand.",
        "%(count)d stock items have this title; link it by hand.",
        "count",
    ),
)
NO_SKU_MATCH = define(
    "line.no_sku_match", _("No listing link and no stock item with SKU %(sku)s.")
)
LISTING_LINKED_AFTER_DISPATCH = define(
    "line.listing_linked_after_dispatch",
    _(
        "Its listing is now linked to %(sku)s, but this line left without stock: "
        "link it by hand to take its units off."
    ),
)
NO_EXTERNAL_ID = define(
    "line.no_external_id", _("No listing link and the offer has no external id (SKU).")
)

# ------------------------------------------------------- channel statuses
# The statuses channels give orders (Allegro's checkout-form status and the
# seller's fulfilment status, api-notes §3.2), in words; unknown ones stay raw.
CHANNEL_STATUSES = {
    "BOUGHT": pgettext_lazy("channel status", "Bought, not filled in"),
    "FILLED_IN": pgettext_lazy("channel status", "Filled in, awaiting payment"),
    "READY_FOR_PROCESSING": pgettext_lazy("channel status", "Ready for processing"),
    "CANCELLED": pgettext_lazy("channel status", "Cancelled"),
    "NEW": pgettext_lazy("channel status", "New"),
    "PROCESSING": pgettext_lazy("channel status", "Processing"),
    "READY_FOR_SHIPMENT": pgettext_lazy("channel status", "Ready for shipment"),
    "READY_FOR_PICKUP": pgettext_lazy("channel status", "Ready for pickup"),
    "SENT": pgettext_lazy("channel status", "Sent"),
    "PICKED_UP": pgettext_lazy("channel status", "Picked up"),
    "SUSPENDED": pgettext_lazy("channel status", "Suspended"),
    "RETURNED": pgettext_lazy("channel status", "Returned"),
}


# How many of an order's lines the channel sees in shipments (Allegro's
# fulfillment.shipmentSummary.lineItemsSent).
LINES_SENT = {
    "NONE": pgettext_lazy("lines sent", "none"),
    "SOME": pgettext_lazy("lines sent", "some"),
    "ALL": pgettext_lazy("lines sent", "all"),
}


def lines_sent_words(raw: str) -> str:
    words = LINES_SENT.get(raw)
    return str(words) if words is not None else raw


def status_words(raw: str) -> str:
    words = CHANNEL_STATUSES.get(raw)
    return str(words) if words is not None else raw


def _status_param(value: Mapping[str, Any]) -> str:
    return status_words(str(value.get("raw") or ""))


register_param("status", _status_param)
