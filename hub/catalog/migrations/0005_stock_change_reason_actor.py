"""A stock change's reason becomes a code + parameters (hub.text.message), shown
in the reader's language, and who made it moves to its own ``actor`` column
(hub.text.actor). The English texts written before are mapped to their codes;
a text nothing matches is kept as it was (a literal)."""

import re

from django.db import migrations, models

import hub.text.fields

# (old text, code, params, actor) — as hub.catalog, orders, api, CLI wrote them.
KNOWN = [
    (re.compile(r"CSV import, user (?P<name>.+)"), "stock.csv_import", "user:{name}"),
    (re.compile(r"API, user (?P<name>.+)"), "stock.api", "user:{name}"),
    (re.compile(r"user (?P<name>.+)"), "stock.edited", "user:{name}"),
    (re.compile(r"CLI import"), "stock.csv_import", "cli"),
    (re.compile(r"CLI"), "stock.set", "cli"),
    (re.compile(r"demo set-up"), "stock.demo", "cli"),
    (re.compile(r"order (?P<order>.+)"), "stock.order", ""),
]


def convert(text):
    """(stored reason, actor) for an old reason text."""
    if not text:
        return {}, ""
    for pattern, code, actor in KNOWN:
        match = pattern.fullmatch(text)
        if match is None:
            continue
        groups = match.groupdict()
        params = {"order": groups["order"]} if "order" in groups else {}
        stored = {"code": code, "params": params} if params else {"code": code}
        return stored, actor.format(**groups)[:100]
    return {"text": text}, ""


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    model = apps.get_model("catalog", "StockChange")
    rows = model.objects.exclude(reason="").only("pk", "reason").order_by("pk")
    last = 0
    while True:
        chunk = list(rows.filter(pk__gt=last)[:2000])
        if not chunk:
            return
        for row in chunk:
            row.reason_message, row.actor = convert(row.reason)
        model.objects.bulk_update(chunk, ["reason_message", "actor"])
        last = chunk[-1].pk


class Migration(migrations.Migration):
    dependencies = [("catalog", "0004_unique_names_any_case")]

    operations = [
        migrations.AddField(
            model_name="stockchange",
            name="actor",
            field=models.CharField(blank=True, max_length=100),
        ),
        migrations.AddField(
            model_name="stockchange",
            name="reason_message",
            field=hub.text.fields.MessageField(
                blank=True, default=hub.text.fields.empty_message
            ),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop, elidable=True),
        migrations.RemoveField(model_name="stockchange", name="reason"),
        migrations.RenameField(
            model_name="stockchange", old_name="reason_message", new_name="reason"
        ),
    ]
