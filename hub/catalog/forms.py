"""Forms of the inventory screens; field rules are the same as the CSV import's."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from hub.catalog.models import Location, StockItem
from hub.catalog.rows import ON_HAND_MAX, parse_ean, parse_sku

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
# Checked here for a field error; the database's constraints (any case) decide.
SKU_TAKEN = _("A stock item with this SKU exists already (in any case).")
LOCATION_TAKEN = _("A location with this name exists already.")


class InventoryFilterForm(forms.Form):
    """The inventory list's search box and stock filter (GET)."""

    OVERSOLD = "oversold"
    OUT_OF_STOCK = "out_of_stock"

    q = forms.CharField(required=False, max_length=255)
    stock = forms.ChoiceField(
        label=_("Show"),
        required=False,
        choices=[
            ("", _("All items")),
            (OVERSOLD, _("Oversold (available below 0)")),
            (OUT_OF_STOCK, _("Out of stock (available 0)")),
        ],
    )


class StockItemForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = StockItem
        fields = ["sku", "title", "ean"]
        help_texts = {
            "sku": _(
                "Your code for the item; Allegro offers link to it by their "
                "external id (signature)."
            ),
            "ean": _("8, 12, 13 or 14 digits; optional."),
        }

    def clean_sku(self) -> str:
        sku, errors = parse_sku(0, self.cleaned_data.get("sku"))
        if errors:
            raise ValidationError(errors[0].message)
        assert sku is not None
        others = StockItem.objects.filter(sku__iexact=sku).exclude(pk=self.instance.pk)
        if others.exists():
            raise ValidationError(SKU_TAKEN)
        return sku

    def clean_ean(self) -> str:
        ean, errors = parse_ean(0, self.cleaned_data.get("ean"))
        if errors:
            raise ValidationError(errors[0].message)
        return ean or ""


class LevelsForm(forms.Form):
    """One on-hand field per location; a blank field leaves that level as it is.

    Only the fields the seller changed are saved. The page shows the levels as they
    were when it was opened; if an order is dispatched meanwhile, saving the item's
    title must not write the old, higher count back (an oversell). Each field
    carries the value it was shown with (show_hidden_initial) to tell the two apart.
    """

    def __init__(self, *args: Any, locations: list[Location], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.locations = locations
        for location in locations:
            self.fields[self.field_name(location)] = forms.IntegerField(
                label=location.name,
                required=False,
                min_value=0,
                max_value=ON_HAND_MAX,
                show_hidden_initial=True,
            )

    @staticmethod
    def field_name(location: Location) -> str:
        return f"on_hand_{location.pk}"

    def moved_since_shown(
        self, current: Mapping[int, int]
    ) -> list[tuple[Location, int | None]]:
        """The edited levels that changed since the page showed them (an order
        dispatched meanwhile): (location, on hand now). Saving those would write
        over the change, so the save is refused instead."""
        moved = []
        for location in self.locations:
            name = self.field_name(location)
            if name not in self.changed_data:
                continue
            if self[name].html_initial_name not in self.data:
                continue  # not posted by this page: nothing to compare with
            field = self.fields[name]
            raw = field.hidden_widget().value_from_datadict(
                self.data, self.files, self[name].html_initial_name
            )
            try:
                shown = field.to_python(raw)
            except ValidationError:
                shown = None
            now = current.get(location.pk)
            if shown != now:
                moved.append((location, now))
        return moved

    def levels(self) -> list[tuple[Location, int]]:
        wanted = []
        for location in self.locations:
            name = self.field_name(location)
            value = self.cleaned_data.get(name)
            if value is not None and name in self.changed_data:
                wanted.append((location, value))
        return wanted


class LocationForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Location
        fields = ["name"]

    def clean_name(self) -> str:
        name = (self.cleaned_data.get("name") or "").strip()
        others = Location.objects.filter(name__iexact=name).exclude(pk=self.instance.pk)
        if others.exists():
            raise ValidationError(LOCATION_TAKEN)
        return name


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "Columns: sku, title, ean, location, on_hand (only sku is required). "
            "Comma, semicolon or tab separated; UTF-8 or Windows-1250."
        ),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise ValidationError(
                _("The file is larger than %(mb)s MB; split it into smaller files.")
                % {"mb": MAX_UPLOAD_BYTES // (1024 * 1024)}
            )
        return upload
