"""Carriers: map what the seller types ("InPost", "paczkomat", "DPD Polska") to a
channel's carrier id, and check a tracking number before it is stored.

The channel app keeps each account's carrier list in ``Carrier`` (Allegro's
``/order/carriers``, refreshed daily); this module only reads it, so orders
never imports a channel.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from django.utils.translation import gettext as _

from hub.orders.models import Carrier

# The carrier id meaning "another carrier, named by carrierName" (Allegro's OTHER).
OTHER = "OTHER"
# Allegro's limits on a shipment (api-notes §4.1): waybill 1–64 characters,
# carrierName at most 30. Allegro's per-carrier rules are unpublished; these are
# the ones that hold for every carrier.
TRACKING_MAX = 64
OTHER_NAME_MAX = 30
TRACKING_RE = re.compile(r"^[A-Za-z0-9\-_/.]+$")
# Names that are not a carrier (normalised): Allegro withdrew the carrier id
# ALLEGRO on 2026-06-09 and fills in the waybill of a "Wysyłam z Allegro" parcel
# itself (api-notes §4.1); sent as OTHER it would only duplicate that waybill.
NOT_CARRIERS = {"allegro", "wysylamzallegro"}


class CarrierError(ValueError):
    """The carrier or tracking number cannot be used; ``field`` names the input."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class CarrierChoice:
    code: str  # the channel's carrier id; "" = map it when the list is known
    name: str  # what to call it (the seller's name for OTHER)


def normalise(text: str) -> str:
    """Case, accents, spaces and punctuation do not matter: "Poczta-Polska" =
    "poczta polska" = "POCZTA_POLSKA"; "Łódź" = "lodz"."""
    text = text.replace("ł", "l").replace("Ł", "L")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed.lower() if ch.isalnum())


def carriers_of(source: str, account: str) -> list[Carrier]:
    return list(Carrier.objects.filter(source=source, account=account))


def find_carrier(known: list[Carrier], text: str) -> Carrier | None:
    key = normalise(text)
    if not key:
        return None
    for carrier in known:
        names = {normalise(carrier.code), normalise(carrier.name)}
        names.update(alias for alias in carrier.aliases.split("|") if alias)
        if key in names:
            return carrier
    return None


def check_tracking_number(number: str) -> str:
    number = number.strip()
    if len(number) > TRACKING_MAX:
        raise CarrierError(
            "tracking_number",
            _("A tracking number has at most %(max)d characters (this one has %(n)d).")
            % {"max": TRACKING_MAX, "n": len(number)},
        )
    if number and not TRACKING_RE.match(number):
        raise CarrierError(
            "tracking_number",
            _(
                "A tracking number may contain only letters, digits and - _ / . "
                "(no spaces)."
            ),
        )
    return number


def choose_carrier(
    source: str, account: str, text: str, *, other_allowed: bool
) -> CarrierChoice:
    """The channel's carrier for what the seller typed, or CarrierError.

    An unknown name goes as OTHER with that name only when the seller allows it.
    While the channel's list is not known yet, the name is kept as typed and the
    channel's tracking flow maps it (or reports it) before sending.
    """
    text = " ".join(text.split())
    if not text:
        raise CarrierError("carrier", _("Choose the carrier of the tracking number."))
    if normalise(text) in NOT_CARRIERS:
        raise CarrierError(
            "carrier",
            _(
                "“%(name)s” is not a carrier any more: for a parcel sent with "
                "Wysyłam z Allegro, Allegro fills in its tracking number on the "
                "order itself. Choose the parcel's real carrier, or send nothing."
            )
            % {"name": text},
        )
    known = carriers_of(source, account)
    found = find_carrier(known, text)
    if found is not None and found.code != OTHER:
        return CarrierChoice(found.code, found.name)
    if not other_allowed:
        if not known:
            return CarrierChoice("", text)
        raise CarrierError(
            "carrier",
            _(
                "The channel does not know the carrier “%(name)s”. Choose one from "
                "the list, or allow sending it as another carrier."
            )
            % {"name": text},
        )
    if len(text) > OTHER_NAME_MAX:
        raise CarrierError(
            "carrier",
            _(
                "Another carrier's name has at most %(max)d characters (this one "
                "has %(n)d)."
            )
            % {"max": OTHER_NAME_MAX, "n": len(text)},
        )
    return CarrierChoice(OTHER, text)
