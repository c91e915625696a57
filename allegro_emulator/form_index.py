"""Each seller's checkout forms kept in the list's sort orders.

``GET /order/checkout-forms`` sorts by ``lineItems.boughtAt`` (``created_at``)
or ``updatedAt`` (``updated_at``), ties by id. The hub reads it a page at a time
over a range of one of them (``updatedAt.gte`` in steady state, ``boughtAt``
windows in a backfill); scanning every form of the seller for each page made a
long journal quadratic. Here each seller has, per sort attribute, a list of
``(value, form id)`` sorted as the list sorts, so a range is two bisections.

Kept up to date by the only places that change it: ``orders.purchase`` adds a
form (``created_at`` never changes afterwards), ``orders.touch`` moves it
(``updated_at`` is set nowhere else), ``Emulator.lag_list`` notes a form hidden
from the list. A state restored, or forms added or removed behind its back (a
test deleting one), is noticed by ``current`` and the index is rebuilt.
"""

from __future__ import annotations

import bisect
import operator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from allegro_emulator.state import CheckoutForm

if TYPE_CHECKING:
    from allegro_emulator.emulator import Emulator

ATTRS = ("created_at", "updated_at")
Key = tuple[datetime, str]  # (value of the attribute, form id): the list's order
_value = operator.itemgetter(0)


@dataclass
class FormIndex:
    forms: dict[str, CheckoutForm]  # the emulator's dict this was built from
    size: int  # forms added to it; -1 when it no longer matches the forms
    keys: dict[tuple[str, str], list[Key]] = field(default_factory=dict)
    # Forms lag_list ever hid (few): the list must leave them out while hidden.
    lagging: set[str] = field(default_factory=set)

    def span(
        self, seller_id: str, attr: str, low: datetime, high: datetime
    ) -> tuple[list[Key], int, int]:
        """The seller's keys by attr and the slice [lo:hi] with low <= value <= high."""
        keys = self.keys.get((seller_id, attr), [])
        lo = bisect.bisect_left(keys, low, key=_value)
        hi = bisect.bisect_right(keys, high, key=_value)
        return keys, lo, max(lo, hi)  # low > high: an empty range


def build(forms: dict[str, CheckoutForm]) -> FormIndex:
    index = FormIndex(forms=forms, size=len(forms))
    for cf in forms.values():
        for attr in ATTRS:
            index.keys.setdefault((cf.seller_id, attr), []).append(
                (getattr(cf, attr), cf.id)
            )
        if cf.hidden_from_list_until is not None:
            index.lagging.add(cf.id)
    for keys in index.keys.values():
        keys.sort()
    return index


def current(emu: Emulator) -> FormIndex:
    """The index, rebuilt first if the forms are not the ones it was kept for."""
    index = emu.form_index
    if index.forms is not emu.checkout_forms or index.size != len(emu.checkout_forms):
        index = emu.form_index = build(emu.checkout_forms)
    return index


def add(emu: Emulator, cf: CheckoutForm) -> None:
    """A new form (already in ``emu.checkout_forms``)."""
    index = emu.form_index
    for attr in ATTRS:
        bisect.insort(
            index.keys.setdefault((cf.seller_id, attr), []), (getattr(cf, attr), cf.id)
        )
    index.size += 1


def move(emu: Emulator, cf: CheckoutForm, old_updated_at: datetime) -> None:
    """The form's updated_at changed from old_updated_at."""
    index = emu.form_index
    keys = index.keys.get((cf.seller_id, "updated_at"), [])
    old = (old_updated_at, cf.id)
    at = bisect.bisect_left(keys, old)
    if at == len(keys) or keys[at] != old:
        index.size = -1  # not what was indexed: rebuild it when next needed
        return
    del keys[at]
    bisect.insort(keys, (cf.updated_at, cf.id))


def lag(emu: Emulator, cf: CheckoutForm) -> None:
    """lag_list hid the form from the list for a while."""
    emu.form_index.lagging.add(cf.id)


def hidden(emu: Emulator, index: FormIndex, seller_id: str, now: datetime) -> bool:
    """Whether lag_list hides one of the seller's forms from the list now."""
    for cf_id in index.lagging:
        cf = emu.checkout_forms.get(cf_id)
        if cf is None or cf.seller_id != seller_id:
            continue
        if cf.hidden_from_list_until is not None and cf.hidden_from_list_until > now:
            return True
    return False
