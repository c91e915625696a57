"""Set-up shared by the lifecycle tests: stock items, listings mirroring
emulator offers, and what the emulator was sent."""

from __future__ import annotations

from typing import Any

from hub.allegro.models import Channel, Listing
from hub.allegro.tests.fixtures import HubEmulator
from hub.catalog.models import StockItem
from hub.catalog.stock import default_location, set_on_hand

PUB = "/sale/offer-publication-commands/"
QTY = "/sale/offer-quantity-change-commands/"
MOD = "/sale/offer-modification-commands/"


def item(sku: str, on_hand: int) -> StockItem:
    stock_item = StockItem.objects.create(sku=sku, title=f"Item {sku}")
    set_stock(stock_item, on_hand)
    return stock_item


def set_stock(stock_item: StockItem, on_hand: int) -> None:
    set_on_hand(stock_item, default_location(), on_hand)


def listed(
    emulator: HubEmulator,
    channel: Channel,
    stock_item: StockItem | None,
    *,
    quantity: int = 3,
    format: str = "BUY_NOW",
    status: str = "ACTIVE",
    **offer: Any,
) -> Listing:
    """An offer on the emulator and its linked listing, as the import would save it."""
    sku = stock_item.sku if stock_item else None
    title = stock_item.title if stock_item else "Unlinked"
    offer_id = emulator.add_offer(
        emulator.seller_id,
        title,
        external_id=sku,
        quantity=quantity,
        format=format,
        status=status,
        **offer,
    )
    return Listing.objects.create(
        channel=channel,
        offer_id=offer_id,
        title=title,
        external_id=sku or "",
        format=format,
        status=status,
        stock_item=stock_item,
        known_quantity=quantity,
    )


def sent(emulator: HubEmulator, path: str, method: str = "PUT") -> list[dict[str, Any]]:
    """Bodies of the requests to PATH (a prefix), in order."""
    return [
        r["json"]
        for r in emulator.requests
        if r["path"].startswith(path) and r["method"] == method
    ]


def offer_ids(body: dict[str, Any]) -> list[str]:
    return [o["id"] for c in body["offerCriteria"] for o in c["offers"]]


def status_on_allegro(emulator: HubEmulator, offer_id: str) -> str:
    return str(emulator.offer(offer_id)["publication"]["status"])
