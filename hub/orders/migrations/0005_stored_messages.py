"""History, unlinked reasons and import problems become codes + parameters
(hub.text.message), translated when shown. Existing English texts are mapped to
their codes; anything else is kept as a literal text."""

from django.db import migrations, models

import hub.text.fields
from hub.text.legacy import migrate_column

FIELD_LABELS = {
    "buyer": "buyer_name",
    "buyer e-mail": "buyer_email",
    "buyer phone": "buyer_phone",
    "delivery method": "delivery_method",
    "delivery address": "delivery_address",
    "pickup point": "pickup_point",
    "invoice details": "invoice",
    "invoice request": "invoice_required",
    "message to seller": "message_to_seller",
    "total": "total",
    "fulfilment status": "fulfillment_status",
}


def _imported(groups):
    total, _sep, currency = groups["total"].rpartition(" ")
    params = {
        "status": {"$": "status", "raw": groups["status"]},
        "lines": int(groups["lines"]),
        "total": {"$": "money", "amount": total or groups["total"], "currency": currency},
    }
    if "unlinked" in groups:
        params["unlinked"] = int(groups["unlinked"])
    return params


def _status(groups):
    return {k: {"$": "status", "raw": v} for k, v in groups.items()}


def _fields(groups):
    names = groups["fields"].split(", ")
    if not all(name in FIELD_LABELS for name in names):
        return None
    return {"fields": [{"code": f"order.field.{FIELD_LABELS[n]}"} for n in names]}


HISTORY = [
    (
        "order.imported_unlinked",
        "Imported: %(status)s, %(lines)d line(s), %(total)s. "
        "%(unlinked)d line(s) not linked to stock.",
        _imported,
    ),
    ("order.imported", "Imported: %(status)s, %(lines)d line(s), %(total)s.", _imported),
    ("order.cancelled", "Cancelled on the channel.", None),
    (
        "order.cancelled_after_dispatch",
        "Cancelled on the channel after it was dispatched; check it.",
        None,
    ),
    ("order.lines_changed", "Order lines changed.", None),
    ("order.status_changed", "Status %(old)s → %(new)s.", _status),
    ("order.paid", "Payment received.", None),
    ("order.fields_changed", "Changed: %(fields)s.", _fields),
    ("order.details_changed", "Order details changed.", None),
    (
        "order.linked_after_dispatch",
        "“%(title)s” linked by hand to %(sku)s after dispatch; its units were "
        "taken off stock.",
        lambda g: dict(g),
    ),
    ("order.linked_by_hand", "“%(title)s” linked by hand to %(sku)s.", lambda g: dict(g)),
    ("order.linked_by_listing", "“%(title)s” linked through its listing.", lambda g: dict(g)),
    ("order.dispatched", "Dispatched.", None),
    (
        "order.dispatched_tracked",
        "Dispatched with %(carrier)s, tracking number %(number)s.",
        lambda g: dict(g),
    ),
]

UNLINKED = [
    ("line.ambiguous_title", "%(count)d stock items have this title; link it by hand.", None),
    ("line.no_sku_match", "No listing link and no stock item with SKU %(sku)s.", lambda g: dict(g)),
    ("line.no_external_id", "No listing link and the offer has no external id (SKU).", None),
]


def _with_trace(patterns):
    """Allegro error texts, alone or followed by "(Allegro Trace-Id: X)"."""
    from hub.text.legacy import parse

    def convert(groups):
        inner = parse(groups["text"], patterns)
        if "code" not in inner:
            return None
        return {"text": inner, "trace": groups["trace"]}

    return [("allegro.with_trace", "%(text)s (Allegro Trace-Id: %(trace)s)", convert)]


def _same(groups):
    return dict(groups)


ALLEGRO_ERRORS = [
    ("allegro.error", "Allegro returned an error: %(text)s", lambda g: dict(g)),
    (
        "allegro.transient",
        "Allegro could not be reached or had a temporary problem (%(what)s). "
        "The hub will try again automatically.",
        lambda g: dict(g),
    ),
    (
        "allegro.transient",
        "Allegro could not be reached or had a temporary problem (%(what)s). "
        "This is usually temporary: try again in a few minutes.",
        _same,
    ),
    (
        "allegro.rate_limited",
        "Allegro asked us to slow down (too many requests). Wait "
        "%(seconds)d seconds, then try again.",
        None,
    ),
    (
        "allegro.rate_limited",
        "Allegro asked us to slow down (too many requests). The hub waits "
        "%(seconds)d seconds and tries again automatically.",
        None,
    ),
    ("allegro.refused", "Allegro refused the request: %(text)s", lambda g: dict(g)),
    (
        "allegro.malformed",
        "Allegro sent a response the hub cannot read (%(what)s). Nothing was "
        "changed; if this keeps happening, report it with the Trace-Id.",
        lambda g: dict(g),
    ),
]

def _keeps_failing(groups):
    from hub.text.legacy import parse

    errors = [*_with_trace(ALLEGRO_ERRORS), *ALLEGRO_ERRORS]
    return {"text": parse(groups["text"], errors)}


PROBLEMS = [
    (
        "allegro.keeps_failing",
        "Allegro kept failing to answer for this order, so it was set aside "
        "and is retried with growing pauses. Last answer: %(text)s",
        _keeps_failing,
    ),
    ("allegro.form_no_lines", "Checkout form %(id)s has no line items.", lambda g: dict(g)),
    ("allegro.line_quantity", "Line item %(id)s has quantity %(qty)s.", lambda g: dict(g)),
    *_with_trace(ALLEGRO_ERRORS),
    *ALLEGRO_ERRORS,
]


def forwards(apps, schema_editor):
    migrate_column(apps.get_model("orders", "OrderEvent"), "message", "message_new", HISTORY)
    migrate_column(
        apps.get_model("orders", "OrderLine"), "unlinked_reason", "unlinked_new", UNLINKED
    )
    migrate_column(apps.get_model("orders", "ImportProblem"), "reason", "reason_new", PROBLEMS)


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0004_importproblem_retry_at"),
    ]

    operations = [
        migrations.AddField(
            model_name="orderevent",
            name="actor",
            field=models.CharField(blank=True, max_length=100),
        ),
        migrations.AddField(
            model_name="orderevent",
            name="message_new",
            field=hub.text.fields.MessageField(blank=True, default=hub.text.fields.empty_message),
        ),
        migrations.AddField(
            model_name="orderline",
            name="unlinked_new",
            field=hub.text.fields.MessageField(blank=True, default=hub.text.fields.empty_message),
        ),
        migrations.AddField(
            model_name="importproblem",
            name="reason_new",
            field=hub.text.fields.MessageField(
                blank=True, default=hub.text.fields.empty_message, verbose_name="reason"
            ),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop, elidable=True),
        migrations.RemoveField(model_name="orderevent", name="message"),
        migrations.RemoveField(model_name="orderline", name="unlinked_reason"),
        migrations.RemoveField(model_name="importproblem", name="reason"),
        migrations.RenameField(model_name="orderevent", old_name="message_new", new_name="message"),
        migrations.RenameField(
            model_name="orderline", old_name="unlinked_new", new_name="unlinked_reason"
        ),
        migrations.RenameField(model_name="importproblem", old_name="reason_new", new_name="reason"),
    ]
