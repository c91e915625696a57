"""A run's error and a flow's last error become a code + parameters
(hub.text.message), translated when shown. Known English texts (the runner's
own, and Allegro's errors as hub.allegro wrote them) map to their codes; anything
else is kept as a literal text."""

import importlib

from django.db import migrations

import hub.text.fields
from hub.text.legacy import migrate_column

ALLEGRO = importlib.import_module("hub.allegro.migrations.0008_stored_messages")


def _unexpected(groups):
    return dict(groups)


PATTERNS = [
    ("jobs.unexpected", "Unexpected error (%(kind)s): %(text)s", _unexpected),
    (
        "jobs.worker_lost",
        "The worker running this stopped; another one took over.",
        None,
    ),
    *ALLEGRO.PATTERNS,
]


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    migrate_column(apps.get_model("jobs", "FlowRun"), "error", "error_new", PATTERNS)
    migrate_column(
        apps.get_model("jobs", "FlowState"), "last_error", "error_new", PATTERNS
    )


class Migration(migrations.Migration):
    dependencies = [
        ("jobs", "0002_flowrun_rate_limited_flowrun_requests_and_more"),
        ("allegro", "0008_stored_messages"),
    ]

    operations = [
        migrations.AddField(
            model_name=model,
            name="error_new",
            field=hub.text.fields.MessageField(
                blank=True, default=hub.text.fields.empty_message
            ),
        )
        for model in ("flowrun", "flowstate")
    ] + [
        migrations.RunPython(forwards, migrations.RunPython.noop, elidable=True),
        migrations.RemoveField(model_name="flowrun", name="error"),
        migrations.RemoveField(model_name="flowstate", name="last_error"),
        migrations.RenameField(
            model_name="flowrun", old_name="error_new", new_name="error"
        ),
        migrations.RenameField(
            model_name="flowstate", old_name="error_new", new_name="last_error"
        ),
    ]
