"""The demo's story on a fresh account, told by Allegro's buyers and the
warehouse, never by the hub: the hub's runner sees it as it would see a shop.

1. Once the hub has read the listings (the listings flow succeeded once, so its
   offer journal is running), a buyer buys the last units of the story's offer
   (seed.STORY["RESTOCKED"]) and pays: Allegro ends the offer as sold out
   (endedBy EMPTY_STOCK) and the hub puts it in pending relist.
2. ``delivery`` seconds later the warehouse receives DELIVERED units of it: the
   lifecycle plans a relist, which waits on the confirmation screen.
"""

from __future__ import annotations

import logging
import threading

from django.db import connection

from allegro_emulator import Emulator
from hub.catalog import stock
from hub.catalog.models import StockItem
from hub.demo import seed, texts
from hub.jobs.models import FlowState
from hub.text import actor
from hub.text.message import Message

log = logging.getLogger("hub.demo")

DELIVERY = 20.0  # seconds after the sell-out
DELIVERED = 25
POLL = 0.5


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
            sell_out(self.emu)
            if not self._stopping.wait(self.delivery):
                deliver()
        except Exception:  # the demo goes on without its story; the log says why
            log.exception("The demo's story stopped")
        finally:
            connection.close()  # this thread's own connection


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
