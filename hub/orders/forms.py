from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from hub.orders.models import Order


class OrderFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=200,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "placeholder": _("Buyer, order id, offer id or SKU"),
            }
        ),
    )
    channel = forms.ChoiceField(label=_("Channel"), required=False)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any status")), *Order.Status.choices],
    )
    paid = forms.ChoiceField(
        label=_("Payment"),
        required=False,
        choices=[("", _("Paid or not")), ("yes", _("Paid")), ("no", _("Unpaid"))],
    )
    unlinked = forms.BooleanField(label=_("Only with unlinked lines"), required=False)
    needs_action = forms.BooleanField(
        label=_("Needs action"),
        required=False,
        help_text=_("Open orders with lines to link, or paid and not yet sent."),
    )
    sort = forms.ChoiceField(
        label=_("Sort"),
        required=False,
        choices=[
            ("newest", _("Newest first")),
            ("oldest", _("Oldest first")),
            ("total_desc", _("Highest total")),
            ("total_asc", _("Lowest total")),
        ],
    )
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
