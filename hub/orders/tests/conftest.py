from __future__ import annotations

from decimal import Decimal

import pytest

from hub.catalog import stock
from hub.catalog.models import Location, StockItem
from hub.orders.importing import Account, IncomingLine, IncomingOrder


@pytest.fixture
def warehouse(db: None) -> Location:
    return stock.default_location()


@pytest.fixture
def mug(warehouse: Location) -> StockItem:
    item = StockItem.objects.create(sku="MUG-1", title="Blue  Mug 300ml")
    stock.set_on_hand(item, warehouse, 10)
    return item


def make_account(
    location: Location,
    links: dict[str, int] | None = None,
    by_title: bool = False,
) -> Account:
    return Account(
        source="test",
        account="1",
        location=location,
        listing_links=links or {},
        link_by_title=by_title,
    )


def make_order(
    external_id: str = "F-1",
    *,
    lines: list[IncomingLine] | None = None,
    cancelled: bool = False,
    **fields: object,
) -> IncomingOrder:
    base: dict[str, object] = {
        "sub_source": "Shop",
        "channel_status": "CANCELLED" if cancelled else "BOUGHT",
        "paid": False,
        "buyer_login": "anna",
        "total": Decimal("39.98"),
        "currency": "PLN",
    }
    base.update(fields)
    return IncomingOrder(
        external_id=external_id,
        cancelled=cancelled,
        fields=base,
        lines=lines or [make_line()],
    )


def make_line(
    external_id: str = "L-1",
    *,
    offer_id: str = "OF-1",
    sku: str = "MUG-1",
    title: str = "Blue Mug 300ml",
    quantity: int = 2,
) -> IncomingLine:
    return IncomingLine(
        external_id=external_id,
        offer_id=offer_id,
        title=title,
        sku=sku,
        quantity=quantity,
        unit_price=Decimal("19.99"),
        currency="PLN",
    )
