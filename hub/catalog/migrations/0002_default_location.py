from __future__ import annotations

from django.db import migrations


def create_default_location(apps, schema_editor):  # type: ignore[no-untyped-def]
    Location = apps.get_model("catalog", "Location")
    if not Location.objects.filter(is_default=True).exists():
        Location.objects.create(name="Default", is_default=True)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]
    operations = [migrations.RunPython(create_default_location, migrations.RunPython.noop)]
