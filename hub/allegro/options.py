"""Every option of an Allegro channel, described once.

The config screen (forms.py) and `allegro-hub channel set` both build on this list,
so the label, the help text and the rules cannot disagree between them. The options
are the seed's (../shared/seed/, "Config Options") mapped onto today's Allegro as
ARCHITECTURE.md §5 says.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any

from babel.numbers import get_currency_name
from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from hub.catalog.models import Location
from hub.text.formats import locale_name

# api-notes §5.3 (SPEC OfferDuration): BUY_NOW runs 3/5/7/10/20/30 days or, with no
# duration (null), until sold out; auctions run 1/3/5/7/10 days and never "until
# sold out". Anything else Allegro refuses, so we refuse it first.
BUY_NOW_DURATIONS: list[tuple[str, Promise]] = [
    ("", _("Until sold out")),
    ("P3D", _("3 days")),
    ("P5D", _("5 days")),
    ("P7D", _("7 days")),
    ("P10D", _("10 days")),
    ("P20D", _("20 days")),
    ("P30D", _("30 days")),
]
AUCTION_DURATIONS: list[tuple[str, Promise]] = [
    ("", _("Same as the ended auction")),
    ("P1D", _("1 day")),
    ("P3D", _("3 days")),
    ("P5D", _("5 days")),
    ("P7D", _("7 days")),
    ("P10D", _("10 days")),
]
# The seller statuses a tracking number may move an order to (api-notes §3.4).
TRACKING_STATUSES: list[tuple[str, Promise]] = [
    ("", _("Leave it alone")),
    ("PROCESSING", _("Processing")),
    ("READY_FOR_SHIPMENT", _("Ready for shipment")),
    ("SENT", _("Sent")),
]
# Allegro archives an ended offer 60 days after it ends (api-notes §7); a relist
# scheduled later than 30 days would race that, so we stop there.
MAX_RELIST_DELAY_MINUTES = 30 * 24 * 60
# The base and additional currencies of Allegro's marketplaces (allegro.pl PLN,
# .cz CZK, .sk EUR, .hu HUF; api-notes §1, GET /marketplaces). A channel's
# Default Currency is one of these; a code stored before this list (any three
# letters were allowed) keeps working and stays on offer for that channel.
CURRENCIES = ("PLN", "CZK", "EUR", "HUF")

TRUE_WORDS = {"1", "true", "yes", "on", "y", "tak"}
FALSE_WORDS = {"0", "false", "no", "off", "n", "nie"}


@dataclass(frozen=True)
class Option:
    """One channel option: the Channel field it is stored in and how it is edited."""

    name: str
    label: Promise
    help_text: Promise
    kind: str  # bool | location | datetime | choice | minutes | currency
    choices: list[tuple[str, Promise]] = field(default_factory=list)

    @property
    def cli_name(self) -> str:
        return self.name.replace("_", "-")


OPTIONS: list[Option] = [
    Option(
        "enabled",
        _("Enabled"),
        _("Check to enable the channel. When off, nothing of this channel syncs."),
        "bool",
    ),
    Option(
        "default_currency",
        _("Default Currency"),
        _(
            "The currency of this channel's orders. Leave on “The marketplace's "
            "currency” to use the currency of the account's Allegro marketplace."
        ),
        "currency",
    ),
    Option(
        "inventory_sync",
        _("Inventory Sync"),
        _("Check to keep the stock of linked Allegro offers equal to your stock."),
        "bool",
    ),
    Option(
        "inventory_location",
        _("Inventory Update From Location"),
        _(
            "Send the stock of one location to Allegro. Leave on “All locations” "
            "to send the sum of all locations."
        ),
        "location",
    ),
    Option(
        "submit_tracking",
        _("Submit Tracking Info"),
        _(
            "Send tracking numbers of dispatched orders to Allegro. Allegro checks "
            "tracking numbers, so only valid ones are accepted."
        ),
        "bool",
    ),
    Option(
        "tracking_status",
        _("Order Status After Tracking"),
        _(
            "When Allegro has accepted the tracking number of a fully dispatched "
            "order, set the order's status on Allegro to this. Leave empty if "
            "Allegro switches it to Sent by itself (a setting in your Allegro "
            "account)."
        ),
        "choice",
        TRACKING_STATUSES,
    ),
    Option(
        "sync_orders_from",
        _("Sync Orders From"),
        _(
            "Orders bought from this date and time on are downloaded. Set when the "
            "channel is added; move it back to download older orders."
        ),
        "datetime",
    ),
    Option(
        "relist_items",
        _("Relist Items"),
        _(
            "When a listing was ended because its stock reached zero, list it again "
            "when stock comes back within 60 days (Allegro archives ended offers "
            "after 60 days). A listing can be struck off on the mapping screen."
        ),
        "bool",
    ),
    Option(
        "end_listings",
        _("End Listings"),
        _(
            "End a listing when its item runs out of stock. The ended listing waits "
            "as “pending relist”."
        ),
        "bool",
    ),
    Option(
        "no_manual_confirmation",
        _("No Manual Confirmation"),
        _(
            "Without this, every planned end and relist waits for you on a "
            "confirmation screen. With it, the hub ends and relists on its own."
        ),
        "bool",
    ),
    Option(
        "relist_duration",
        _("Relist Listing Duration"),
        _(
            "How long a relisted Buy Now listing runs. Allegro allows 3, 5, 7, 10, "
            "20 or 30 days, or until sold out."
        ),
        "choice",
        BUY_NOW_DURATIONS,
    ),
    Option(
        "relist_auction_duration",
        _("Relist Auction Duration"),
        _(
            "How long a relisted auction runs. Allegro allows 1, 3, 5, 7 or 10 days "
            "for auctions; they cannot run until sold out."
        ),
        "choice",
        AUCTION_DURATIONS,
    ),
    Option(
        "relist_delay_minutes",
        _("Relist Listing Delay"),
        _(
            "Minutes to wait before a relisted listing starts (0 = at once, at most "
            "43200 = 30 days)."
        ),
        "minutes",
    ),
    Option(
        "end_auctions",
        _("End Auctions"),
        _("With End Listings, also end auctions whose item ran out of stock."),
        "bool",
    ),
    Option(
        "end_auctions_with_bids",
        _("End Auctions With Bids"),
        _(
            "Also end auctions that have a bid. Ending such an auction sells the "
            "item to the highest bidder, so Allegro creates an order for it."
        ),
        "bool",
    ),
    Option(
        "link_by_title",
        _("Link Order Item To Stock Item By Title"),
        _(
            "When an order line matches no listing link and no SKU, link it to the "
            "stock item with exactly the same title. Ambiguous titles stay unlinked."
        ),
        "bool",
    ),
]
OPTIONS_BY_NAME = {option.name: option for option in OPTIONS}
OPTION_NAMES = [option.name for option in OPTIONS]


def find_option(name: str) -> Option:
    """The option called NAME (hyphens or underscores); ValidationError if none."""
    option = OPTIONS_BY_NAME.get(name.strip().lower().replace("-", "_"))
    if option is None:
        names = ", ".join(o.cli_name for o in OPTIONS)
        raise ValidationError(
            gettext("Unknown option “%(name)s”. Options: %(names)s")
            % {"name": name, "names": names}
        )
    return option


def form_field(option: Option) -> forms.Field:
    """The form field that edits OPTION on the config screen."""
    common: dict[str, Any] = {"label": option.label, "help_text": option.help_text}
    if option.kind == "bool":
        return forms.BooleanField(required=False, **common)
    if option.kind == "location":
        return forms.ModelChoiceField(
            Location.objects.all(),
            required=False,
            empty_label=gettext("All locations"),
            **common,
        )
    if option.kind == "datetime":
        return forms.DateTimeField(
            widget=forms.DateTimeInput(
                format="%Y-%m-%dT%H:%M", attrs={"type": "datetime-local"}
            ),
            input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
            **common,
        )
    if option.kind == "choice":
        return forms.ChoiceField(choices=option.choices, required=False, **common)
    if option.kind == "minutes":
        # No min/max here: check_value() gives the one message for both screens.
        return forms.IntegerField(**common)
    return forms.ChoiceField(required=False, choices=currency_choices(), **common)


def currency_choices(current: str = "") -> list[tuple[str, str]]:
    """The currencies to choose from, named in the reader's language, plus the
    stored one if it is not among them."""
    codes = list(CURRENCIES)
    if current and current not in codes:
        codes.append(current)
    locale = locale_name()
    named = [
        (code, f"{code} — {get_currency_name(code, locale=locale)}") for code in codes
    ]
    return [("", gettext("The marketplace's currency")), *named]


def parse_value(option: Option, text: str) -> Any:
    """Turn the text of `channel set NAME OPTION TEXT` into the option's value."""
    raw = text.strip()
    if option.kind == "bool":
        if raw.lower() in TRUE_WORDS:
            return True
        if raw.lower() in FALSE_WORDS:
            return False
        raise ValidationError(gettext("Enter yes or no."))
    if option.kind == "location":
        if raw.lower() in ("", "all"):
            return None
        location = Location.objects.filter(name=raw).first()
        if location is None:
            names = ", ".join(Location.objects.values_list("name", flat=True))
            raise ValidationError(
                gettext("No location called “%(name)s”. Locations: %(names)s, or all.")
                % {"name": raw, "names": names}
            )
        return location
    if option.kind == "datetime":
        return parse_when(raw)
    if option.kind == "choice":
        return (
            "" if raw.lower() in ("until-sold-out", "same", "default") else raw.upper()
        )
    if option.kind == "minutes":
        try:
            return int(raw)
        except ValueError:
            raise ValidationError(gettext("Enter a whole number of minutes.")) from None
    return raw


def parse_when(raw: str) -> datetime:
    """Parse now, a date (midnight, local time) or a date and time (ISO 8601)."""
    if raw.lower() == "now":
        return timezone.now()
    try:
        moment = parse_datetime(raw)
        day = None if moment else parse_date(raw)
    except ValueError:
        moment = day = None
    if day is not None:
        moment = datetime.combine(day, time.min)
    if moment is None:
        raise ValidationError(
            gettext("Enter a date like 2026-11-29 or 2026-11-29T08:00, or now.")
        )
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def check_value(option: Option, value: Any, current: Any = None) -> Any:
    """The value to store for OPTION, or a ValidationError saying what is wrong.

    CURRENT is the stored value: one allowed before the rules were stricter is
    kept (saving a channel never fails on a field the seller did not touch)."""
    if option.kind == "choice" and value not in {code for code, _ in option.choices}:
        allowed = ", ".join(code or gettext("empty") for code, _ in option.choices)
        raise ValidationError(
            gettext("Allegro does not allow “%(value)s” here. Allowed: %(allowed)s.")
            % {"value": value, "allowed": allowed}
        )
    if option.kind == "minutes" and not 0 <= value <= MAX_RELIST_DELAY_MINUTES:
        raise ValidationError(
            gettext("Enter a delay between 0 and %(max)d minutes.")
            % {"max": MAX_RELIST_DELAY_MINUTES}
        )
    if option.kind == "currency":
        value = (value or "").strip().upper()
        if value and value not in CURRENCIES and value != current:
            raise ValidationError(
                gettext(
                    "Choose one of the marketplaces' currencies (%(codes)s), or "
                    "nothing for the marketplace's own."
                )
                % {"codes": ", ".join(CURRENCIES)}
            )
    if option.kind == "datetime" and value is not None:
        if value > timezone.now():
            raise ValidationError(gettext("Sync Orders From cannot be in the future."))
        # To the minute, as the screen shows it: saving the screen again must not
        # move it (a moved Sync Orders From means a new backfill).
        value = value.replace(second=0, microsecond=0)
    return value


def combination_errors(values: Mapping[str, Any]) -> dict[str, str]:
    """Options that make no sense together: {option name: message}."""
    errors: dict[str, str] = {}
    if values.get("end_auctions") and not values.get("end_listings"):
        errors["end_auctions"] = gettext(
            "End Auctions only works together with End Listings: turn End Listings "
            "on, or End Auctions off."
        )
    if values.get("end_auctions_with_bids") and not values.get("end_auctions"):
        errors["end_auctions_with_bids"] = gettext(
            "End Auctions With Bids needs End Auctions: turn End Auctions on, or "
            "this option off."
        )
    return errors


def option_values(channel: Any) -> dict[str, Any]:
    """The current value of every option of CHANNEL."""
    return {option.name: getattr(channel, option.name) for option in OPTIONS}


def display_value(option: Option, value: Any) -> str:
    """VALUE as `channel list`/`channel set` print it."""
    if option.kind == "bool":
        return gettext("yes") if value else gettext("no")
    if option.kind == "location":
        return str(value) if value is not None else gettext("all")
    if option.kind == "datetime":
        return timezone.localtime(value).isoformat(timespec="minutes") if value else ""
    if option.kind == "choice":
        return str(dict(option.choices).get(value, value))
    return str(value)
