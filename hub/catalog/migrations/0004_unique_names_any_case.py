"""Location names and SKUs are unique whatever their case.

Names that differ only in case already (possible before this rule) are kept on
the oldest row; each newer one gets " (2)", " (3)"… appended, so nothing is merged
or lost and the seller can rename or merge them by hand. Grouped by the database's
own LOWER(), the same function the constraint uses.
"""

from django.db import migrations, models
from django.db.models.functions import Lower


def rename_case_duplicates(apps, schema_editor):  # type: ignore[no-untyped-def]
    for model_name, field in (("Location", "name"), ("StockItem", "sku")):
        model = apps.get_model("catalog", model_name)
        max_length = model._meta.get_field(field).max_length
        rows = model.objects.annotate(folded=Lower(field)).order_by("pk")
        taken = set(rows.values_list("folded", flat=True))
        seen = set()
        for row in rows:
            if row.folded not in seen:
                seen.add(row.folded)
                continue
            value = getattr(row, field)
            number = 2
            while True:
                suffix = f" ({number})"
                candidate = value[: max_length - len(suffix)] + suffix
                if candidate.lower() not in taken:
                    break
                number += 1
            taken.add(candidate.lower())
            model.objects.filter(pk=row.pk).update(**{field: candidate})


class Migration(migrations.Migration):

    dependencies = [
        ("catalog", "0003_stock_change"),
    ]

    operations = [
        migrations.RunPython(rename_case_duplicates, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="location",
            constraint=models.UniqueConstraint(
                Lower("name"),
                name="location_name_unique_any_case",
                violation_error_message="A location with this name exists already.",
            ),
        ),
        migrations.AddConstraint(
            model_name="stockitem",
            constraint=models.UniqueConstraint(
                Lower("sku"),
                name="sku_unique_any_case",
                violation_error_message=(
                    "A stock item with this SKU exists already (in any case)."
                ),
            ),
        ),
    ]
