"""Offer endpoints: ``GET /sale/offers``, product-offer GET/PATCH/POST/parts
and the offer event journal (api-notes §5, §7)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

import httpx

from allegro_emulator.offers import (
    activate_offer,
    current_price,
    decode_offer_event_id,
    duration_delta,
    emit_offer_event,
    encode_offer_event_id,
    end_offer,
    get_offer,
    listing_dto,
    product_offer,
    sold_last_30_days,
)
from allegro_emulator.state import Offer, OfferOperation
from allegro_emulator.web import (
    ApiError,
    Ctx,
    check_enum,
    int_param,
    iso,
    json_response,
    money,
    money_str,
    parse_dt,
)

if TYPE_CHECKING:
    from allegro_emulator.core import Handler
    from allegro_emulator.emulator import Emulator

# Top-level fields of SaleProductOfferPatchRequestV1 / SaleProductOfferRequestV1.
# Unknown properties are rejected (api-notes §10, UnknownJSONProperty).
KNOWN_FIELDS = {
    "productSet", "b2b", "attachments", "fundraisingCampaign", "additionalServices",
    "compatibilityList", "delivery", "stock", "publication", "additionalMarketplaces",
    "language", "aiCoCreatedContent", "category", "name", "parameters",
    "afterSalesServices", "sizeTable", "contact", "discounts", "payments",
    "sellingMode", "location", "images", "description", "external", "taxSettings",
    "messageToSellerSettings",
}  # fmt: skip

# SPEC searchOffersUsingGET ``publication.status`` and getOfferEvents ``type``.
OFFER_STATUSES = ("INACTIVE", "ACTIVE", "ACTIVATING", "ENDED")
OFFER_EVENT_TYPES = (
    "OFFER_ACTIVATED", "OFFER_CHANGED", "OFFER_ENDED", "OFFER_STOCK_CHANGED",
    "OFFER_PRICE_CHANGED", "OFFER_ARCHIVED", "OFFER_BID_PLACED", "OFFER_BID_CANCELED",
    "OFFER_TRANSLATION_UPDATED", "OFFER_VISIBILITY_CHANGED",
    "OFFER_DELIVERY_COUNTRIES_BLOCKED",
)  # fmt: skip
# SaleProductOfferRequestBase.name: "between 12 and 75 characters".
NAME_LENGTH = (12, 75)

# ----------------------------------------------------------------- handlers


def list_offers(emu: Emulator, ctx: Ctx) -> httpx.Response:
    limit = int_param(ctx, "limit", 20, 1, 1000, status=400)
    offset = int_param(ctx, "offset", 0, 0, 9_999_999, status=400)
    if offset + limit > 10_000_000:
        raise ApiError(
            400, "VALIDATION_ERROR", "Sum of offset and limit exceeds 10000000"
        )
    ext_ids = ctx.qlist("external.id")
    if len(ext_ids) > 100 or any(len(x) > 100 for x in ext_ids):
        raise ApiError(
            400,
            "VALIDATION_ERROR",
            "Up to 100 external.id values of ≤100 chars",
            path="external.id",
        )
    found = [
        o
        for o in emu.offers.values()
        if o.seller_id == ctx.seller_id and not o.archived
    ]
    ids = set(ctx.qlist("offer.id"))
    statuses = set(ctx.qlist("publication.status"))
    check_enum("publication.status", sorted(statuses), OFFER_STATUSES, 400)
    formats = set(ctx.qlist("sellingMode.format"))
    name = (ctx.q("name") or "").lower()
    if ids:
        found = [o for o in found if o.id in ids]
    if statuses:
        found = [o for o in found if o.status in statuses]
    if formats:
        found = [o for o in found if o.format in formats]
    if ext_ids:
        found = [o for o in found if o.external_id in set(ext_ids)]
    if name:
        found = [o for o in found if name in o.name.lower()]
    if ctx.q("publication.marketplace"):
        found = [o for o in found if o.marketplace == ctx.q("publication.marketplace")]
    for param, keep in (
        ("sellingMode.price.amount.gte", 1),
        ("sellingMode.price.amount.lte", -1),
    ):
        raw = ctx.q(param)
        if raw is not None:
            try:
                bound = Decimal(raw)
            except InvalidOperation as exc:
                raise ApiError(
                    400, "VALIDATION_ERROR", f"Invalid {param}", path=param
                ) from exc
            found = [
                o for o in found if (Decimal(current_price(o)) - bound) * keep >= 0
            ]
    found = _sort_offers(emu, found, ctx.q("sort"))
    page = found[offset : offset + limit]
    body = {
        "offers": [listing_dto(emu, o) for o in page],
        "count": len(page),
        "totalCount": len(found),
    }
    return json_response(200, body)


def _sort_offers(emu: Emulator, found: list[Offer], sort: str | None) -> list[Offer]:
    now = emu.clock.now()
    keys = {
        "sellingMode.price.amount": lambda o: Decimal(current_price(o)),
        "stock.sold": lambda o: sold_last_30_days(o, now),
        "stock.available": lambda o: o.stock,
    }
    if not sort:
        # Default: creation time, newest first (api-notes §5.1).
        return sorted(found, key=lambda o: (o.created_at, int(o.id)), reverse=True)
    field = sort.lstrip("-")
    if field not in keys:
        raise ApiError(400, "VALIDATION_ERROR", f"Invalid sort: {sort}", path="sort")
    return sorted(found, key=keys[field], reverse=sort.startswith("-"))


def get_product_offer(emu: Emulator, ctx: Ctx) -> httpx.Response:
    offer = get_offer(emu, ctx, ctx.params["offerId"])
    return json_response(200, product_offer(emu, offer))


def get_parts(emu: Emulator, ctx: Ctx) -> httpx.Response:
    include = ctx.qlist("include")
    if not include or any(x not in ("stock", "price") for x in include):
        raise ApiError(
            400,
            "VALIDATION_ERROR",
            "include must be stock and/or price",
            path="include",
        )
    offer = get_offer(emu, ctx, ctx.params["offerId"])
    body: dict[str, Any] = {"id": offer.id}
    if "stock" in include:
        body["stock"] = {"available": offer.stock}
    if "price" in include:
        body["sellingMode"] = {"price": money(current_price(offer), offer.currency)}
    return json_response(200, body)


def _check_fields(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ApiError(400, "VALIDATION_ERROR", "Request body must be a JSON object")
    unknown = sorted(set(data) - KNOWN_FIELDS)
    if unknown:
        raise ApiError(
            400,
            "UnknownJSONProperty",
            f"Unknown property: {unknown[0]}",
            path=unknown[0],
            metadata={"property": unknown[0]},
        )
    return data


def _parse_price(sm: dict[str, Any], key: str) -> tuple[str, str] | None:
    price = sm.get(key)
    if price is None:
        return None
    raw = price.get("amount") if isinstance(price, dict) else None
    if not isinstance(raw, str):
        # SPEC Price.amount is a string ("123.45"); a JSON number is refused.
        raise ApiError(
            400,
            "VALIDATION_ERROR",
            "Price amount must be a string",
            path=f"sellingMode.{key}.amount",
        )
    try:
        amount = money_str(raw)
        currency = str(price.get("currency", "PLN"))
    except (KeyError, TypeError, ValueError) as exc:
        raise ApiError(
            422, "VALIDATION_ERROR", "Invalid price", path=f"sellingMode.{key}"
        ) from exc
    if Decimal(amount) <= 0:
        raise ApiError(
            422, "VALIDATION_ERROR", "Price must be positive", path=f"sellingMode.{key}"
        )
    return amount, currency


def _parse_stock(data: dict[str, Any]) -> int | None:
    stock = data.get("stock")
    if stock is None or "available" not in stock:
        return None
    value = stock["available"]
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ApiError(
            422,
            "AvailableStockMustEqualToZeroOrBeGreaterThanZero",
            "Available stock must be greater than or equal to zero",
            path="stock.available",
        )
    return value


@dataclass
class PatchPlan:
    """A validated PATCH, applied without further checks."""

    name: str | None = None
    external: tuple[str | None] | None = None  # (new id,) when sent
    price: tuple[str, str] | None = None
    stock: int | None = None
    status: str | None = None


def plan_patch(offer: Offer, data: dict[str, Any]) -> PatchPlan:
    """Validate a PATCH body against the offer; raise ApiError, change nothing."""
    sm = data.get("sellingMode") or {}
    plan = PatchPlan(
        price=_parse_price(sm, "price") or _parse_price(sm, "startingPrice"),
        stock=_parse_stock(data),
        status=(data.get("publication") or {}).get("status"),
    )
    if plan.status not in (None, "ACTIVE", "ENDED", "INACTIVE"):
        raise ApiError(
            422, "VALIDATION_ERROR", "publication.status must be ACTIVE or ENDED",
            path="publication.status",
        )  # fmt: skip
    if offer.format == "AUCTION" and offer.status == "ENDED" and plan.status != "ENDED":
        code = "IllegalOfferUpdateException.IllegalEndedOfferUpdate"
        raise ApiError(422, code, _ACTIVATE_MESSAGES[code])
    if "name" in data and data["name"] != offer.name:
        name = data["name"]
        low, high = NAME_LENGTH
        if not isinstance(name, str) or not low <= len(name) <= high:
            raise ApiError(
                422,
                "VALIDATION_ERROR",
                f"Name must have {low}-{high} characters",
                path="name",
            )
        plan.name = name
    if offer.format == "AUCTION" and offer.bids:
        # api-notes §8: name and price are frozen once an auction has bids.
        if plan.name is not None:
            raise ApiError(
                422, "IllegalChangeOfferName", "Cannot change name after bids"
            )
        if plan.price is not None:
            raise ApiError(
                422, "IllegalChangeAuctionPrice", "Cannot change price after bids"
            )
    if "external" in data:
        plan.external = ((data["external"] or {}).get("id"),)
    if plan.status == "ACTIVE" and offer.status != "ACTIVE":
        stock = offer.stock if plan.stock is None else plan.stock
        if stock < 1:
            code = "AvailableStockMustEqualToOneOrBeGreaterThanOne"
            raise ApiError(422, code, _ACTIVATE_MESSAGES[code], path="stock.available")
    return plan


def apply_patch(emu: Emulator, offer: Offer, plan: PatchPlan) -> None:
    if plan.status == "ENDED":
        end_offer(emu, offer, "USER")
    live = offer.status in ("ACTIVE", "ACTIVATING")
    changed = False
    if plan.name is not None:
        offer.name = plan.name
        changed = True
    if plan.external is not None and plan.external[0] != offer.external_id:
        offer.external_id = plan.external[0]
        changed = True
    if plan.price is not None and plan.price[0] != money_str(offer.price):
        offer.price = plan.price[0]
        if offer.format == "AUCTION":
            offer.starting_price = plan.price[0]
        if live:
            emit_offer_event(emu, offer, "OFFER_PRICE_CHANGED")
    if plan.stock is not None and plan.stock != offer.stock:
        offer.stock = plan.stock
        if live:
            emit_offer_event(emu, offer, "OFFER_STOCK_CHANGED")
        if plan.stock == 0:
            # Stock SPEC: 0 on an ACTIVE/ACTIVATING offer ends it (§5.3).
            end_offer(emu, offer, "USER")
    if changed and live:
        emit_offer_event(emu, offer, "OFFER_CHANGED")
    if plan.status == "ACTIVE":
        activate_offer(emu, offer, None)  # refusals were checked by plan_patch
    offer.updated_at = emu.clock.now()


def patch_product_offer(emu: Emulator, ctx: Ctx) -> httpx.Response:
    data = _check_fields(ctx.json())
    offer = get_offer(emu, ctx, ctx.params["offerId"])
    if any(
        op.offer_id == offer.id and op.status == "IN_PROGRESS"
        for op in emu.offer_operations.values()
    ):
        raise ApiError(
            409,
            "OfferConflictException",
            "The previous edition of the offer is still being processed",
        )
    try:
        plan = plan_patch(offer, data)
    except ApiError:
        # TUT-OFFERS (§5.2): ENDED is applied even if other edits fail.
        if (data.get("publication") or {}).get("status") == "ENDED":
            end_offer(emu, offer, "USER")
        raise
    delay = emu.config.patch_async_seconds
    if delay is None:
        apply_patch(emu, offer, plan)
        return json_response(200, product_offer(emu, offer))
    # Optional 202 mode (SPEC): accepted now, applied once ``delay`` has passed.
    now = emu.clock.now()
    op = OfferOperation(
        id=emu.new_uuid(),
        offer_id=offer.id,
        seller_id=offer.seller_id,
        body=data,
        created_at=now,
        due_at=now + timedelta(seconds=delay),
    )
    emu.offer_operations[op.id] = op
    headers = {
        "Location": f"{ctx.base_url}/sale/product-offers/{offer.id}/operations/{op.id}",
        "Retry-After": str(max(0, math.ceil(delay))),
    }
    return json_response(202, product_offer(emu, offer), headers=headers)


def process_operations(emu: Emulator, now: datetime) -> None:
    for op in emu.offer_operations.values():
        if op.status != "IN_PROGRESS" or op.due_at > now:
            continue
        offer = emu.offers[op.offer_id]
        try:
            apply_patch(emu, offer, plan_patch(offer, op.body))
            op.status = "COMPLETED"
        except ApiError as exc:  # the offer changed meanwhile
            op.status = "FAILED"
            op.errors = [exc.error_dict()]


def get_operation(emu: Emulator, ctx: Ctx) -> httpx.Response:
    op = emu.offer_operations.get(ctx.params["operationId"])
    if (
        op is None
        or op.offer_id != ctx.params["offerId"]
        or op.seller_id != ctx.seller_id
    ):
        raise ApiError(404, "NOT_FOUND", "Operation not found")
    if op.status == "IN_PROGRESS":
        body = {
            "offer": {"id": op.offer_id},
            "operation": {
                "id": op.id,
                "status": "IN_PROGRESS",
                "startedAt": iso(op.created_at),
            },
        }
        return json_response(202, body, headers={"Retry-After": "1"})
    if op.status == "FAILED":
        return json_response(422, {"errors": op.errors})
    location = f"{ctx.base_url}/sale/product-offers/{op.offer_id}"
    return httpx.Response(303, headers={"Location": location})


_ACTIVATE_MESSAGES = {
    "IllegalOfferUpdateException.IllegalEndedOfferUpdate": (
        "You cannot edit an expired offer with AUCTION in its sales format"
    ),
    "AvailableStockMustEqualToOneOrBeGreaterThanOne": (
        "Available stock must be equal to one or greater than one"
    ),
}


def create_product_offer(emu: Emulator, ctx: Ctx) -> httpx.Response:
    """Enough of ``POST /sale/product-offers`` to relist an auction (§7)."""
    data = _check_fields(ctx.json())
    name = data.get("name")
    if not isinstance(name, str) or not 1 <= len(name) <= 75:
        raise ApiError(
            422, "VALIDATION_ERROR", "Name must have 1-75 characters", path="name"
        )
    sm = data.get("sellingMode") or {}
    fmt = sm.get("format", "BUY_NOW")
    if fmt not in ("BUY_NOW", "AUCTION", "ADVERTISEMENT"):
        raise ApiError(
            422, "VALIDATION_ERROR", "Invalid selling format", path="sellingMode.format"
        )
    price = _parse_price(sm, "startingPrice" if fmt == "AUCTION" else "price")
    price = price or _parse_price(sm, "price")
    if price is None:
        raise ApiError(
            422, "VALIDATION_ERROR", "Price is required", path="sellingMode.price"
        )
    stock = _parse_stock(data)
    pub = data.get("publication") or {}
    duration = pub.get("duration")
    duration_delta(duration)
    if pub.get("status") == "ACTIVE" and stock == 0:
        # Validated before anything is created: no draft is left behind.
        code = "AvailableStockMustEqualToOneOrBeGreaterThanOne"
        raise ApiError(422, code, _ACTIVATE_MESSAGES[code], path="stock.available")
    offer = emu.create_offer(
        seller_id=ctx.seller_id,
        name=name,
        external_id=(data.get("external") or {}).get("id"),
        quantity=1 if stock is None else stock,
        price=price[0],
        currency=price[1],
        format=fmt,
        status="INACTIVE",
        category_id=str((data.get("category") or {}).get("id", "257931")),
        duration=duration,
    )
    if pub.get("status") == "ACTIVE":
        starting = pub.get("startingAt")
        error = activate_offer(
            emu,
            offer,
            parse_dt(starting, "publication.startingAt") if starting else None,
        )
        if error is not None:
            raise ApiError(422, error, _ACTIVATE_MESSAGES[error])
    return json_response(201, product_offer(emu, offer))


def list_offer_events(emu: Emulator, ctx: Ctx) -> httpx.Response:
    try:
        return _offer_events(emu, ctx)
    except ApiError as exc:
        exc.media_type = "application/json"  # as SPEC getOfferEvents declares its 400
        raise


def _offer_events(emu: Emulator, ctx: Ctx) -> httpx.Response:
    limit = int_param(ctx, "limit", 100, 1, 1000, status=400)
    start = ctx.q("from")
    after = decode_offer_event_id(start) if start else 0
    types = set(ctx.qlist("type"))
    check_enum("type", sorted(types), OFFER_EVENT_TYPES, 400)
    events = [
        e
        for e in emu.offer_events
        if e.seller_id == ctx.seller_id
        and e.id > after
        and (not types or e.type in types)
    ][:limit]
    body = {
        "offerEvents": [
            {
                "id": encode_offer_event_id(e.id),
                "occurredAt": iso(e.occurred_at),
                "type": e.type,
                "offer": e.offer,
            }
            for e in events
        ]
    }
    return json_response(200, body)


ROUTES: list[tuple[str, str, Handler, str]] = [
    ("GET", "/sale/offers", list_offers, "api"),
    ("POST", "/sale/product-offers", create_product_offer, "api"),
    ("GET", "/sale/product-offers/{offerId}", get_product_offer, "api"),
    ("PATCH", "/sale/product-offers/{offerId}", patch_product_offer, "api"),
    ("GET", "/sale/product-offers/{offerId}/parts", get_parts, "api"),
    (
        "GET",
        "/sale/product-offers/{offerId}/operations/{operationId}",
        get_operation,
        "api",
    ),
    ("GET", "/sale/offer-events", list_offer_events, "api"),
]
