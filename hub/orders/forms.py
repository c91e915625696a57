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
        help_text=_(
            "Open orders with lines to link, or paid and not yet sent; and "
            "dispatches the channel refused or the buyer cancelled."
        ),
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
    """Carrier and tracking number of a dispatch; the rules live in
    hub/orders/dispatching.py (check_input), so every entry point agrees."""

    carrier = forms.CharField(
        label=_("Carrier"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"list": "carriers", "autocomplete": "off"}),
    )
    tracking_number = forms.CharField(
        label=_("Tracking number"), max_length=200, required=False
    )
    other_carrier = forms.BooleanField(
        label=_("Not in the channel's list: send it as another carrier, by name"),
        required=False,
    )


class DispatchOrderForm(DispatchForm):
    lines = forms.TypedMultipleChoiceField(
        label=_("Lines"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked = every line not dispatched yet."),
    )
    without_stock = forms.BooleanField(
        label=_("Dispatch unlinked lines without taking stock for them"),
        required=False,
    )
    confirm_unpaid = forms.BooleanField(
        label=_("Dispatch although the order is not paid"), required=False
    )

    def __init__(
        self, *args: object, lines: list[tuple[int, str]], **kwargs: object
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["lines"]
        assert isinstance(field, forms.TypedMultipleChoiceField)
        field.choices = lines


class DispatchFlagsForm(forms.Form):
    """What the seller allows for every order of a bulk or CSV dispatch."""

    other_carrier = forms.BooleanField(
        label=_("Send carriers the channel does not list as another carrier, by name"),
        required=False,
    )
    without_stock = forms.BooleanField(
        label=_("Dispatch unlinked lines without taking stock for them"),
        required=False,
    )
    confirm_unpaid = forms.BooleanField(
        label=_("Dispatch orders that are not paid"), required=False
    )


class BulkDispatchForm(DispatchFlagsForm):
    order = forms.TypedMultipleChoiceField(coerce=int, choices=[])
    carrier = forms.CharField(label=_("Carrier"), max_length=100, required=False)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["order"]
        assert isinstance(field, forms.TypedMultipleChoiceField)
        # Any number: each is looked up and checked by dispatch_order.
        field.valid_value = lambda value: str(value).isdigit()  # type: ignore[method-assign]


class DispatchCsvForm(DispatchFlagsForm):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "Columns: order_id, carrier, tracking_number and optionally lines "
            "(line ids, offer ids or SKUs separated by spaces). Comma, semicolon or "
            "tab separated; UTF-8 or Windows-1250."
        ),
    )
