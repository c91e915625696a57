"""Buyer simulator for the demo: a seeded random stream of purchases, payments,
cancellations and bids on the emulator's offers."""

from __future__ import annotations

import logging
import random
import threading
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from allegro_emulator import offers as offers_mod
from allegro_emulator import orders as orders_mod
from allegro_emulator.emulator import Emulator
from allegro_emulator.state import CheckoutForm
from allegro_emulator.web import ControlError

log = logging.getLogger(__name__)


@dataclass
class BuyerConfig:
    seed: int = 1
    interval_seconds: float = 5.0  # background runner: wall-clock seconds per step
    # Relative weights of the actions tried by one step.
    purchase_weight: float = 5.0
    fill_in_weight: float = 2.0
    pay_weight: float = 4.0
    cancel_weight: float = 0.5
    bid_weight: float = 1.0
    max_quantity: int = 2
    seller: str | None = None  # restrict to one seller (id or login)
    # Offers (by external id) buyers neither buy nor bid on: the demo's history
    # leaves its story's listings for the hub to watch.
    spare: frozenset[str] = frozenset()


class BuyerSimulator:
    """``step()`` performs one action and returns a short description (or None
    when nothing applicable was found). Deterministic for a given seed and state.

    An action with nothing to act on (every offer sold out or ended, no unpaid
    order) gives way to the next one drawn, so buyers keep paying for earlier
    purchases after the last unit is sold.
    """

    def __init__(self, emu: Emulator, config: BuyerConfig | None = None):
        self.emu = emu
        self.config = config or BuyerConfig()
        self.rng = random.Random(self.config.seed)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._buyers: dict[str, dict[str, Any]] = {}

    def _buyer(self) -> dict[str, Any]:
        """One of 40 regular buyers; each keeps their name and address, also
        across restarts from a saved state (taken from their earlier orders)."""
        login = f"demo_buyer_{self.rng.randint(1, 40):02d}"
        if login not in self._buyers:
            earlier = (
                cf.buyer
                for cf in self.emu.checkout_forms.values()
                if cf.buyer.get("login") == login
            )
            found = next(earlier, None)
            self._buyers[login] = found or orders_mod.make_buyer(self.emu, login)
        return dict(self._buyers[login])

    def _seller_ok(self, seller_id: str) -> bool:
        wanted = self.config.seller
        if wanted is None:
            return True
        return seller_id == wanted or self.emu.sellers[seller_id].login == wanted

    def step(self) -> str | None:
        emu, cfg = self.emu, self.config
        weights = {
            "purchase": cfg.purchase_weight,
            "fill_in": cfg.fill_in_weight,
            "pay": cfg.pay_weight,
            "cancel": cfg.cancel_weight,
            "bid": cfg.bid_weight,
        }
        with emu.lock:
            emu.tick()
            while any(w > 0 for w in weights.values()):
                action = self.rng.choices(list(weights), list(weights.values()))[0]
                try:
                    done: str | None = getattr(self, f"_{action}")()
                except ControlError as exc:  # raced with the hub changing an offer
                    log.debug("buyer step skipped: %s", exc)
                    return None
                if done is not None:
                    return done
                weights[action] = 0
            return None

    def _pick_offer(self, fmt: str) -> str | None:
        """An offer a buyer can still act on: active, in stock (§5.3: a sold-out
        BUY_NOW offer ends with EMPTY_STOCK; an auction ends when it expires)."""
        candidates = sorted(
            (o for o in self.emu.offers.values()
             if o.format == fmt and o.status == "ACTIVE" and o.stock > 0
             and self._seller_ok(o.seller_id)
             and o.external_id not in self.config.spare),
            key=lambda o: o.id,
        )  # fmt: skip
        return self.rng.choice(candidates).id if candidates else None

    def _pick_form(self, statuses: tuple[str, ...]) -> CheckoutForm | None:
        candidates = sorted(
            cf.id
            for cf in self.emu.checkout_forms.values()
            if cf.status in statuses and self._seller_ok(cf.seller_id)
        )
        if not candidates:
            return None
        return self.emu.checkout_forms[self.rng.choice(candidates)]

    def _purchase(self) -> str | None:
        offer_id = self._pick_offer("BUY_NOW")
        if offer_id is None:
            return None
        offer = self.emu.offers[offer_id]
        qty = self.rng.randint(1, max(1, min(self.config.max_quantity, offer.stock)))
        buyer = self._buyer()
        self.emu.purchase(offer_id, qty, buyer)
        return (
            f"{_who(buyer)} bought {qty} × {offer.name} "
            f"({offer.price} {offer.currency} each)"
        )

    def _fill_in(self) -> str | None:
        cf = self._pick_form(("BOUGHT",))
        if cf is None:
            return None
        self.emu.fill_in(cf.id)
        method = cf.delivery.get("method_name", "")
        return (
            f"{_who(cf.buyer)} chose {method} ({cf.delivery_cost} {cf.currency}) "
            f"for {_items(cf)}"
        )

    def _pay(self) -> str | None:
        cf = self._pick_form(("BOUGHT", "FILLED_IN"))
        if cf is None:
            return None
        self.emu.pay(cf.id)
        total = self.emu.checkout_form(cf.id)["summary"]["totalToPay"]
        return (
            f"{_who(cf.buyer)} paid {total['amount']} {total['currency']} "
            f"for {_items(cf)}"
        )

    def _cancel(self) -> str | None:
        cf = self._pick_form(("BOUGHT", "FILLED_IN"))
        if cf is None:
            return None
        self.emu.cancel(cf.id)
        return f"{_who(cf.buyer)} cancelled the order for {_items(cf)}"

    def _bid(self) -> str | None:
        offer_id = self._pick_offer("AUCTION")
        if offer_id is None:
            return None
        offer = self.emu.offers[offer_id]
        current = Decimal(offers_mod.current_price(offer))
        step = Decimal(self.rng.choice(["1.00", "2.50", "5.00"]))
        amount = current + step if offer.bids else current
        buyer = self._buyer()
        self.emu.bid(offer_id, str(amount), buyer)
        return f"{_who(buyer)} bid {amount} {offer.currency} on {offer.name}"

    # ------------------------------------------------------------ background

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="buyer-sim", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.config.interval_seconds):
            done = self.step()
            if done:
                log.info("buyer simulator: %s", done)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None


def _who(buyer: dict[str, Any]) -> str:
    name = f"{buyer.get('firstName', '')} {buyer.get('lastName', '')}".strip()
    return f"{name} ({buyer['login']})" if name else str(buyer["login"])


def _items(cf: CheckoutForm) -> str:
    return ", ".join(f"{li.quantity} × {li.offer_name}" for li in cf.line_items)
