"""What still uses a location: asked before it is deleted.

catalog never imports the apps that point at locations (orders take their stock
from one, a channel sends one's stock to Allegro): each registers, at start-up, a
function that names its uses of a location in the reader's language. Stock on
hand and allocations are catalog's own.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import Sum
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from hub.catalog.models import Allocation, Location, StockLevel

Check = Callable[[Location], list[str]]
CHECKS: list[Check] = []


def register(check: Check) -> None:
    if check not in CHECKS:
        CHECKS.append(check)


def location_uses(location: Location) -> list[str]:
    """Why LOCATION cannot be deleted, one sentence each; empty = it can be."""
    if location.is_default:
        return [_("It is the default location: orders without one take stock here.")]
    uses = []
    on_hand = StockLevel.objects.filter(location=location).aggregate(
        total=Sum("on_hand")
    )["total"]
    if on_hand:
        uses.append(
            ngettext(
                "%(count)d unit is on hand here: move it or set it to 0 first.",
                "%(count)d units are on hand here: move them or set them to 0 first.",
                on_hand,
            )
            % {"count": on_hand}
        )
    allocated = Allocation.objects.filter(location=location).count()
    if allocated:
        uses.append(
            ngettext(
                "%(count)d allocation (stock promised to an order) is here.",
                "%(count)d allocations (stock promised to orders) are here.",
                allocated,
            )
            % {"count": allocated}
        )
    for check in CHECKS:
        uses += check(location)
    return uses
