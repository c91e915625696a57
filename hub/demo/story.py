"""The demo's story on a fresh account, told by Allegro's buyers and the
warehouse, never by the hub: the hub's runner sees it as it would see a shop.

1. Once the hub has read the listings (the listings flow succeeded once, so its
   offer journal is running), a buyer buys the last units of the story's offer
   (seed.STORY["RESTOCKED"]) and pays: Allegro ends the offer as sold out
   (endedBy EMPTY_STOCK) and the hub puts it in pending relist. Another buyer
   buys and pays for a mug (seed.STORY["MUG"]).
2. Once both orders are in the hub, the warehouse dispatches them the way the
   order page does (hub.orders.dispatching): the thermos with a good InPost
   number, which Allegro accepts, the mug with a mistyped DPD number, which
   Allegro refuses with its message (the order page shows it).
3. ``delivery`` seconds after the sell-out the warehouse receives DELIVERED
   units of the thermos: the lifecycle plans a relist, which waits on the
   confirmation screen.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from functools import partial

from django.db import connection

from allegro_emulator import Emulator
from hub.catalog import stock
from hub.catalog.models import StockItem
from hub.demo import seed, texts
from hub.jobs.models import FlowState
from hub.orders.carriers import carriers_of
from hub.orders.dispatching import DispatchRequest, NotDispatchable, dispatch_order
from hub.orders.models import Order
from hub.text import actor
from hub.text.message import Message

log = logging.getLogger("hub.demo")

DELIVERY = 20.0  # seconds after the sell-out
DELIVERED = 25
POLL = 0.5
# The warehouse's parcels: (carrier, tracking number) for the thermos and the
# mug; the DPD number is too short for DPD (emulator README, shipments).
PARCELS = [("InPost", "620000000000000000000001"), ("DPD", "1234567")]


class Story(threading.Thread):
    def __init__(self, emu: Emulator, channel_id: int, delivery: float) -> None:
        super().__init__(name="demo-story", daemon=True)
        self.emu = emu
        self.channel_id = channel_id
        self.delivery = delivery
        self._stopping = threading.Event()

    def stop(self, timeout: float = 10) -> None:
        self._stopping.set()
        if self.is_alive():
            self.join(timeout)

    def run(self) -> None:
        try:
            while not self._stopping.is_set() and not listings_read(self.channel_id):
                self._stopping.wait(POLL)
            if self._stopping.is_set():
                return
            started = time.monotonic()
            forms = [sell_out(self.emu), buy(self.emu, seed.STORY["MUG"])]
            for form_id, (carrier, number) in zip(forms, PARCELS, strict=True):
                if form_id is not None and self._wait(partial(ready, form_id)):
                    dispatch(form_id, carrier, number)
            left = self.delivery - (time.monotonic() - started)
            if not self._stopping.wait(max(0.0, left)):
                deliver()
        except Exception:  # the demo goes on without its story; the log says why
            log.exception("The demo's story stopped")
        finally:
            connection.close()  # this thread's own connection

    def _wait(self, check: Callable[[], bool]) -> bool:
        """Poll until ``check`` or the demo stops; whether it came true."""
        while not self._stopping.is_set():
            if check():
                return True
            self._stopping.wait(POLL)
        return False


def listings_read(channel_id: int) -> bool:
    return FlowState.objects.filter(
        channel_id=channel_id, flow="listings", last_success_at__isnull=False
    ).exists()


def sell_out(emu: Emulator, sku: str = seed.STORY["RESTOCKED"]) -> str | None:
    """A buyer buys and pays for every unit left of the offer; the form's id."""
    with emu.lock:
        offer = next((o for o in emu.offers.values() if o.external_id == sku), None)
        if offer is None or offer.status != "ACTIVE" or offer.stock < 1:
            return None
        offer_id, left, name = offer.id, offer.stock, offer.name
    form_id = emu.purchase(offer_id, left, buyer="demo_buyer_07")
    emu.pay(form_id)
    log.info(
        "Story: a buyer bought the last %d × %s (%s); Allegro ends it", left, name, sku
    )
    return form_id


def buy(emu: Emulator, sku: str) -> str | None:
    """A buyer buys and pays for one of the offer; the form's id."""
    with emu.lock:
        offer = next((o for o in emu.offers.values() if o.external_id == sku), None)
        if offer is None or offer.status != "ACTIVE":
            return None
        offer_id = offer.id
    form_id = emu.purchase(offer_id, 1, buyer="demo_buyer_12")
    emu.pay(form_id)
    return form_id


def ready(form_id: str) -> bool:
    """The order is in the hub, paid, and its channel's carriers are known."""
    order = Order.objects.filter(external_id=form_id, paid=True).first()
    return order is not None and carriers_of(order.source, order.account) != []


def dispatch(form_id: str, carrier: str, number: str) -> None:
    order = Order.objects.get(external_id=form_id)
    request = DispatchRequest(carrier=carrier, tracking_number=number, actor=actor.CLI)
    try:
        dispatch_order(order, request)
    except NotDispatchable as exc:  # e.g. the seller dispatched it already
        log.info("Story: order %s not dispatched: %s", form_id, exc)
        return
    log.info("Story: order %s dispatched with %s %s", form_id, carrier, number)


def deliver(sku: str = seed.STORY["RESTOCKED"], quantity: int = DELIVERED) -> bool:
    """A delivery for the story's item; its on-hand stock becomes ``quantity``."""
    item = StockItem.objects.filter(sku=sku).first()
    if item is None:
        return False
    on_hand = stock.on_hand(item)
    stock.set_on_hand(
        item,
        stock.default_location(),
        on_hand + quantity,
        Message(texts.DELIVERY),
        actor.CLI,
    )
    log.info(
        "Story: %d × %s (%s) delivered to the warehouse", quantity, sku, item.title
    )
    return True
