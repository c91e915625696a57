"""Listing timelines, plan outcomes, push results and command errors become a
code + parameters (hub.text.message), translated when shown. The English texts
written before map to their codes (with their numbers and ids as parameters);
anything else — Allegro's own words, texts of another language — is kept as a
literal text."""

import importlib

from django.db import migrations

import hub.text.fields
from hub.text.legacy import migrate_column, parse

BEFORE = importlib.import_module("hub.allegro.migrations.0008_stored_messages")
KINDS = {"End": "END", "Relist": "RELIST", "Relist as a new offer": "RELIST_NEW"}


def _same(groups):
    """The matched texts, whole numbers as numbers (%(n)d needs one)."""
    return {k: int(v) if v.lstrip("-").isdigit() else v for k, v in groups.items()}


def _where(groups):
    params = _same(groups)
    if params.get("where") == "all locations":
        params["where"] = {"code": "inventory.all_locations"}
    return params


def _kind(groups):
    kind = KINDS.get(groups["kind"])
    return {"kind": {"code": f"lifecycle.action.{kind}"}} if kind else None


def _refused(groups):
    return {"text": parse(groups["text"], BEFORE.PATTERNS)}


EVENTS = [
    (
        "inventory.out_of_stock_live",
        "Available %(n)d at %(where)s but the offer is live: not sent (Allegro "
        "refuses 0); ending it is the lifecycle's job.",
        _where,
    ),
    (
        "inventory.decided",
        "Available %(n)d at %(where)s, Allegro shows %(known)s: set it to %(n)d "
        "(command %(id)s).",
        _where,
    ),
    ("inventory.sent", "Sent to Allegro (command %(id)s).", _same),
    ("inventory.confirmed", "Allegro confirmed quantity %(n)d.", None),
    ("inventory.refused", "Allegro refused quantity %(n)d: %(why)s", _same),
    ("lifecycle.sold_out_pending", "Sold out on Allegro: pending relist.", None),
    ("lifecycle.withdrawn", "Plan withdrawn (%(kind)s): it no longer holds.", _kind),
    ("lifecycle.approved", "Approved.", None),
    ("lifecycle.rejected", "Rejected: nothing sent.", None),
    ("lifecycle.struck_off", "Struck off: it will not be relisted.", None),
    (
        "lifecycle.restored",
        "Restored: it will be relisted when stock returns.",
        None,
    ),
    ("lifecycle.relisted_as", "Relisted as a new offer %(id)s.", _same),
    ("lifecycle.listed_from", "Listed again from the ended auction %(id)s.", _same),
    ("lifecycle.sent_quantity", "Sent: set the quantity to %(n)s.", _same),
    ("lifecycle.sent_end", "Sent: end the listing.", None),
    ("lifecycle.sent_activate", "Sent: activate now.", None),
    ("lifecycle.quantity_set", "Quantity set.", None),
    ("lifecycle.duration_set", "Duration set.", None),
    ("lifecycle.ended_pending", "Ended by the hub: pending relist.", None),
    ("lifecycle.relisted", "Relisted.", None),
    ("lifecycle.refused", "Refused by Allegro: %(text)s", _refused),
    ("listing.archived", "No longer on Allegro (archived).", None),
    (
        "listing.linked_by_sku",
        "Linked to %(sku)s: its external id is that SKU.",
        _same,
    ),
    ("listing.unlinked_by_hand", "Unlinked by hand (%(who)s).", _same),
    ("listing.linked_by_hand", "Linked by hand to %(sku)s (%(who)s).", _same),
]
ACTIONS = [
    (
        "lifecycle.no_longer_needed",
        "No longer needed: the listing or its stock changed.",
        None,
    ),
    *BEFORE.PATTERNS,
]
ERRORS = [
    ("inventory.not_in_report", "Allegro's report does not mention this offer.", None),
    *BEFORE.PATTERNS,
]
FIELDS = [
    ("ListingEvent", "message", EVENTS),
    ("PendingAction", "message", ACTIONS),
    ("RemoteCommand", "last_error", ERRORS),
    ("Listing", "push_message", ERRORS),
]


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    for model, field, patterns in FIELDS:
        migrate_column(apps.get_model("allegro", model), field, "text_new", patterns)


class Migration(migrations.Migration):
    dependencies = [("allegro", "0009_channel_tracking_status")]

    operations = [
        *[
            migrations.AddField(
                model_name=model.lower(),
                name="text_new",
                field=hub.text.fields.MessageField(
                    blank=True, default=hub.text.fields.empty_message
                ),
            )
            for model, _field, _patterns in FIELDS
        ],
        migrations.RunPython(forwards, migrations.RunPython.noop, elidable=True),
        *[
            migrations.RemoveField(model_name=model.lower(), name=field)
            for model, field, _patterns in FIELDS
        ],
        *[
            migrations.RenameField(
                model_name=model.lower(), old_name="text_new", new_name=field
            )
            for model, field, _patterns in FIELDS
        ],
    ]
