"""In-memory state: plain dataclasses, serialisable with ``to_dict``/``from_dict``."""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

# ---------------------------------------------------------------------------
# OAuth


@dataclass
class Client:
    client_id: str
    client_secret: str
    redirect_uris: list[str] = field(default_factory=list)
    name: str = ""


@dataclass
class Seller:
    id: str
    login: str
    marketplace: str = "allegro-pl"
    first_name: str = "Jan"
    last_name: str = "Sprzedawca"
    email: str = ""
    company_name: str = ""
    # SPEC §3.2 / api-notes §4.1: a seller setting switches fulfillment to SENT
    # when a tracking number is added.
    auto_sent_on_waybill: bool = False


@dataclass
class AccessToken:
    token: str
    client_id: str
    seller_id: str | None  # None for client_credentials tokens
    scope: str
    expires_at: datetime
    jti: str
    revoked: bool = False


@dataclass
class RefreshToken:
    token: str
    client_id: str
    seller_id: str
    scope: str
    expires_at: datetime
    used_at: datetime | None = None  # first refresh; old token valid 60 s after
    revoked: bool = False


@dataclass
class AuthCode:
    code: str
    client_id: str
    seller_id: str
    redirect_uri: str
    scope: str
    expires_at: datetime
    code_challenge: str | None = None
    code_challenge_method: str | None = None
    used: bool = False


@dataclass
class DeviceCode:
    device_code: str
    user_code: str
    client_id: str
    scope: str
    expires_at: datetime
    interval: int
    status: str = "pending"  # pending | approved | denied | consumed
    seller_id: str | None = None
    last_poll: datetime | None = None


# ---------------------------------------------------------------------------
# Offers


@dataclass
class Bid:
    buyer: dict[str, Any]
    amount: str
    placed_at: datetime


@dataclass
class Sale:
    at: datetime
    quantity: int


@dataclass
class Offer:
    id: str
    seller_id: str
    name: str
    format: str  # BUY_NOW | AUCTION | ADVERTISEMENT
    price: str  # buy-now price (BUY_NOW) or current/starting price (AUCTION)
    currency: str
    stock: int
    status: str  # INACTIVE | ACTIVATING | ACTIVE | ENDED
    created_at: datetime
    updated_at: datetime
    external_id: str | None = None
    category_id: str = "257931"
    marketplace: str = "allegro-pl"
    starting_price: str | None = None  # AUCTION
    duration: str | None = None  # ISO-8601, None = until sold out
    starting_at: datetime | None = None
    started_at: datetime | None = None
    ending_at: datetime | None = None
    ended_at: datetime | None = None
    ended_by: str | None = None
    archived: bool = False
    bids: list[Bid] = field(default_factory=list)
    sales: list[Sale] = field(default_factory=list)
    unit: str = "UNIT"


@dataclass
class OfferOperation:
    """A PATCH accepted with 202 (``config.patch_async_seconds``)."""

    id: str
    offer_id: str
    seller_id: str
    body: dict[str, Any]
    created_at: datetime
    due_at: datetime
    status: str = "IN_PROGRESS"  # IN_PROGRESS | COMPLETED | FAILED
    errors: list[dict[str, Any]] = field(default_factory=list)


# ---------------------------------------------------------------------------
# Orders


@dataclass
class LineItem:
    id: str
    offer_id: str
    offer_name: str
    external_id: str | None
    quantity: int
    price: str
    original_price: str
    currency: str
    bought_at: datetime


@dataclass
class Shipment:
    id: str
    waybill: str
    carrier_id: str
    carrier_name: str
    line_item_ids: list[str]
    created_at: datetime


@dataclass
class CheckoutForm:
    id: str
    seller_id: str
    buyer: dict[str, Any]
    status: str
    line_items: list[LineItem]
    marketplace: str
    currency: str
    created_at: datetime
    updated_at: datetime
    revision: str
    payment_id: str
    payment_type: str = "ONLINE"
    payment_provider: str = "P24"
    paid_at: datetime | None = None
    # method_id/method_name; empty until the buyer fills in the form (BOUGHT).
    delivery: dict[str, Any] = field(default_factory=dict)
    delivery_cost: str = "0.00"
    message_to_seller: str | None = None
    fulfillment_status: str = "NEW"
    shipments: list[Shipment] = field(default_factory=list)
    # List lag: GET /order/checkout-forms leaves the form out until then.
    hidden_from_list_until: datetime | None = None


@dataclass
class OrderEvent:
    id: int
    seller_id: str
    type: str
    occurred_at: datetime
    checkout_form_id: str
    order: dict[str, Any]  # snapshot of the order at event time


@dataclass
class OfferEvent:
    id: int
    seller_id: str
    type: str
    occurred_at: datetime
    offer: dict[str, Any]


# ---------------------------------------------------------------------------
# Commands


@dataclass
class Task:
    offer_id: str
    status: str = "NEW"  # NEW | SUCCESS | FAIL
    message: str = ""
    field: str = ""
    errors: list[dict[str, Any]] = dataclasses.field(default_factory=list)


@dataclass
class Command:
    id: str
    kind: str  # "quantity" | "publication" | "modification"
    seller_id: str
    body: dict[str, Any]
    created_at: datetime
    due_at: datetime
    tasks: list[Task]
    completed_at: datetime | None = None


# ---------------------------------------------------------------------------
# Serialisation (dump/seed round trip)


def to_dict(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, datetime):
        return obj.isoformat()
    if isinstance(obj, Decimal):
        return str(obj)
    if isinstance(obj, list):
        return [to_dict(x) for x in obj]
    if isinstance(obj, dict):
        return {k: to_dict(v) for k, v in obj.items()}
    return obj


def from_dict(cls: type, data: dict[str, Any]) -> Any:
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name in data:
            kwargs[f.name] = _convert(hints[f.name], data[f.name])
    return cls(**kwargs)


def _convert(tp: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return _convert(args[0], value)
    if origin is list:
        (item,) = typing.get_args(tp)
        return [_convert(item, v) for v in value]
    if tp is datetime:
        return datetime.fromisoformat(value)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return from_dict(tp, value)
    return value
