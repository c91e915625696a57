"""Buyer simulator for the demo: a seeded random stream of purchases, payments,
cancellations and bids on the emulator's offers."""

from __future__ import annotations

import logging
import random
import threading
from dataclasses import dataclass
from decimal import Decimal

from allegro_emulator import offers as offers_mod
from allegro_emulator.emulator import Emulator
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


class BuyerSimulator:
    """``step()`` performs one action and returns a short description (or None
    when nothing applicable was found). Deterministic for a given seed and state."""

    def __init__(self, emu: Emulator, config: BuyerConfig | None = None):
        self.emu = emu
        self.config = config or BuyerConfig()
        self.rng = random.Random(self.config.seed)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._buyer_no = 0

    def _buyer(self) -> dict[str, str]:
        self._buyer_no += 1
        return {"login": f"demo_buyer_{self.rng.randint(1, 40):02d}"}

    def _seller_ok(self, seller_id: str) -> bool:
        wanted = self.config.seller
        if wanted is None:
            return True
        return seller_id == wanted or self.emu.sellers[seller_id].login == wanted

    def step(self) -> str | None:
        emu, cfg = self.emu, self.config
        actions = ["purchase", "fill_in", "pay", "cancel", "bid"]
        weights = [
            cfg.purchase_weight,
            cfg.fill_in_weight,
            cfg.pay_weight,
            cfg.cancel_weight,
            cfg.bid_weight,
        ]
        action = self.rng.choices(actions, weights)[0]
        with emu.lock:
            emu.tick()
            try:
                return getattr(self, f"_{action}")()
            except ControlError as exc:  # raced with the hub changing an offer
                log.debug("buyer step skipped: %s", exc)
                return None

    def _pick_offer(self, fmt: str) -> str | None:
        candidates = sorted(
            (o for o in self.emu.offers.values()
             if o.format == fmt and o.status == "ACTIVE" and o.stock > 0
             and self._seller_ok(o.seller_id)),
            key=lambda o: o.id,
        )  # fmt: skip
        return self.rng.choice(candidates).id if candidates else None

    def _pick_form(self, statuses: tuple[str, ...]) -> str | None:
        candidates = sorted(
            cf.id
            for cf in self.emu.checkout_forms.values()
            if cf.status in statuses and self._seller_ok(cf.seller_id)
        )
        return self.rng.choice(candidates) if candidates else None

    def _purchase(self) -> str | None:
        offer_id = self._pick_offer("BUY_NOW")
        if offer_id is None:
            return None
        stock = self.emu.offers[offer_id].stock
        qty = self.rng.randint(1, max(1, min(self.config.max_quantity, stock)))
        cf_id = self.emu.purchase(offer_id, qty, self._buyer())
        return f"purchase {offer_id} x{qty} -> {cf_id}"

    def _fill_in(self) -> str | None:
        cf_id = self._pick_form(("BOUGHT",))
        if cf_id is None:
            return None
        self.emu.fill_in(cf_id)
        return f"fill_in {cf_id}"

    def _pay(self) -> str | None:
        cf_id = self._pick_form(("BOUGHT", "FILLED_IN"))
        if cf_id is None:
            return None
        self.emu.pay(cf_id)
        return f"pay {cf_id}"

    def _cancel(self) -> str | None:
        cf_id = self._pick_form(("BOUGHT", "FILLED_IN"))
        if cf_id is None:
            return None
        self.emu.cancel(cf_id)
        return f"cancel {cf_id}"

    def _bid(self) -> str | None:
        offer_id = self._pick_offer("AUCTION")
        if offer_id is None:
            return None
        current = Decimal(offers_mod.current_price(self.emu.offers[offer_id]))
        step = Decimal(self.rng.choice(["1.00", "2.50", "5.00"]))
        amount = current + step if self.emu.offers[offer_id].bids else current
        self.emu.bid(offer_id, str(amount), self._buyer())
        return f"bid {offer_id} {amount}"

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
