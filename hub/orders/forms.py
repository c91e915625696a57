from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from hub.orders.models import Order


class OrderFilterForm(forms.Form):
    channel = forms.ChoiceField(label=_("Channel"), required=False)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any status")), *Order.Status.choices],
    )
    unlinked = forms.BooleanField(label=_("Only with unlinked lines"), required=False)
    bought_from = forms.DateField(
        label=_("Bought from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    bought_to = forms.DateField(
        label=_("Bought to"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args: object, channels: list[str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["channel"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("All channels"))] + [(c, c) for c in channels]


class LinkLineForm(forms.Form):
    sku = forms.CharField(label=_("SKU"), max_length=100)


class DispatchForm(forms.Form):
    carrier = forms.CharField(label=_("Carrier"), max_length=100, required=False)
    tracking_number = forms.CharField(
        label=_("Tracking number"), max_length=100, required=False
    )
