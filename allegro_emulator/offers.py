"""Offer state shared by all modules: lookup, JSON shapes, the offer event
journal and the transitions (end, activate, archive). Endpoints are in
``offer_handlers``."""

from __future__ import annotations

import base64
import binascii
import re
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from allegro_emulator.state import Offer, OfferEvent
from allegro_emulator.web import (
    ApiError,
    Ctx,
    iso,
    money,
)

if TYPE_CHECKING:
    from allegro_emulator.emulator import Emulator

DURATION_RE = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?)?$")


# ------------------------------------------------------------------ helpers


def get_offer(emu: Emulator, ctx: Ctx, offer_id: str) -> Offer:
    if not re.fullmatch(r"[0-9]+", offer_id):
        # SPEC getProductOffer 400 "Invalid offer ID format"; ids are numeric.
        raise ApiError(
            400, "VALIDATION_ERROR", f"Invalid offer id: {offer_id}", path="offerId"
        )
    offer = emu.offers.get(offer_id)
    if offer is None or offer.archived:
        # api-notes §7: archived offers answer 404 OfferNotFoundException.
        raise ApiError(
            404,
            "OfferNotFoundException",
            f"Offer {offer_id} not found",
            metadata={"offerId": offer_id},
        )
    if offer.seller_id != ctx.seller_id:
        raise ApiError(403, "AccessDenied", "You are not the owner of this offer")
    return offer


def sold_last_30_days(offer: Offer, now: datetime) -> int:
    return sum(s.quantity for s in offer.sales if s.at > now - timedelta(days=30))


def current_price(offer: Offer) -> str:
    if offer.format == "AUCTION" and offer.bids:
        return max(Decimal(b.amount) for b in offer.bids).__str__()
    return offer.price


def duration_delta(duration: str | None) -> timedelta | None:
    if not duration:
        return None
    m = DURATION_RE.match(duration)
    if not m or not (m.group(1) or m.group(2)):
        raise ApiError(
            422, "VALIDATION_ERROR", "Invalid duration", path="publication.duration"
        )
    return timedelta(days=int(m.group(1) or 0), hours=int(m.group(2) or 0))


def _publication_common(offer: Offer) -> dict[str, Any]:
    pub: dict[str, Any] = {"status": offer.status}
    for key, value in (
        ("startingAt", offer.starting_at),
        ("startedAt", offer.started_at),
        ("endingAt", offer.ending_at),
        ("endedAt", offer.ended_at),
    ):
        if value is not None:
            pub[key] = iso(value)
    return pub


def _selling_mode(offer: Offer) -> dict[str, Any]:
    selling: dict[str, Any] = {"format": offer.format}
    if offer.format == "AUCTION":
        selling["startingPrice"] = money(
            offer.starting_price or offer.price, offer.currency
        )
    else:
        selling["price"] = money(offer.price, offer.currency)
    return selling


def listing_dto(emu: Emulator, offer: Offer) -> dict[str, Any]:
    """``OfferListingDto`` as returned by ``GET /sale/offers``."""
    now = emu.clock.now()
    dto: dict[str, Any] = {
        "id": offer.id,
        "name": offer.name,
        "category": {"id": offer.category_id},
        "primaryImage": {"url": f"https://a.allegroimg.com/original/emu/{offer.id}"},
        "sellingMode": _selling_mode(offer),
        "saleInfo": {"biddersCount": len({b.buyer.get("id") for b in offer.bids})},
        "stock": {"available": offer.stock, "sold": sold_last_30_days(offer, now)},
        "stats": {"watchersCount": 0, "visitsCount": 0},
        "publication": {
            **_publication_common(offer),
            "marketplaces": {"base": {"id": offer.marketplace}, "additional": []},
        },
        "external": {"id": offer.external_id} if offer.external_id else None,
        "delivery": {"shippingRates": {"id": "8f0bc0f2-0a3a-4a1a-9a49-3d3e8e1c5f10"}},
        "b2b": {"buyableOnlyByBusiness": False},
        "isFulfillment": False,
    }
    if offer.format == "AUCTION" and offer.bids:
        dto["saleInfo"]["currentPrice"] = money(current_price(offer), offer.currency)
    if dto["external"] is None:
        del dto["external"]
    return dto


def product_offer(emu: Emulator, offer: Offer) -> dict[str, Any]:
    """``SaleProductOfferResponseV1`` (the fields the emulator models)."""
    pub = _publication_common(offer)
    pub.pop("startedAt", None)
    pub.pop("endedAt", None)
    # Null duration/endedBy are omitted rather than sent as null: the SPEC marks
    # them nullable, but on allOf/enum schemas that OAS 3.0 validators reject.
    if offer.duration:
        pub["duration"] = offer.duration
    if offer.ended_by:
        pub["endedBy"] = offer.ended_by
    pub["republish"] = False
    pub["marketplaces"] = {"base": {"id": offer.marketplace}, "additional": []}
    body: dict[str, Any] = {
        "id": offer.id,
        "name": offer.name,
        "productSet": [],
        "category": {"id": offer.category_id},
        "sellingMode": _selling_mode(offer),
        "stock": {"available": offer.stock, "unit": offer.unit},
        "publication": pub,
        "delivery": {"handlingTime": "PT24H"},
        "language": "pl-PL",
        "validation": {
            "errors": [],
            "warnings": [],
            "validatedAt": iso(offer.updated_at),
        },
        "b2b": {"buyableOnlyByBusiness": False},
        "images": [f"https://a.allegroimg.com/original/emu/{offer.id}"],
        "createdAt": iso(offer.created_at),
        "updatedAt": iso(offer.updated_at),
    }
    if offer.external_id:
        body["external"] = {"id": offer.external_id}
    return body


# ------------------------------------------------------------ offer events


def _event_offer(offer: Offer, with_external: bool = True) -> dict[str, Any]:
    data: dict[str, Any] = {"id": offer.id}
    if with_external and offer.external_id:
        data["external"] = {"id": offer.external_id}
    return data


def emit_offer_event(
    emu: Emulator, offer: Offer, type_: str, extra: dict[str, Any] | None = None
) -> None:
    """Append to the 24 h offer journal (api-notes §5.4). Bid events carry no
    ``external.id``."""
    emu.last_offer_event_id += 1
    data = _event_offer(offer, with_external=not type_.startswith("OFFER_BID"))
    data.update(extra or {})
    emu.offer_events.append(
        OfferEvent(
            id=emu.last_offer_event_id,
            seller_id=offer.seller_id,
            type=type_,
            occurred_at=emu.clock.now(),
            offer=data,
        )
    )


def encode_offer_event_id(n: int) -> str:
    return base64.urlsafe_b64encode(str(n).encode()).rstrip(b"=").decode()


def decode_offer_event_id(value: str) -> int:
    try:
        padded = value + "=" * (-len(value) % 4)
        return int(base64.urlsafe_b64decode(padded.encode()).decode())
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise ApiError(
            400, "VALIDATION_ERROR", "Invalid 'from' event id", path="from"
        ) from exc


# ------------------------------------------------------------ transitions


def end_offer(emu: Emulator, offer: Offer, ended_by: str) -> None:
    """ACTIVE/ACTIVATING → ENDED. Auctions with bids end with a sale (§8)."""
    if offer.status not in ("ACTIVE", "ACTIVATING"):
        return
    was_active = offer.status == "ACTIVE"
    now = emu.clock.now()
    offer.status = "ENDED"
    offer.ended_at = now
    offer.ended_by = ended_by
    offer.ending_at = None
    offer.updated_at = now
    if was_active:
        emit_offer_event(
            emu, offer, "OFFER_ENDED", {"publication": {"endedBy": ended_by}}
        )
    if offer.format == "AUCTION" and offer.bids:
        from allegro_emulator import orders

        orders.sell_auction(emu, offer)


def activate_offer(
    emu: Emulator, offer: Offer, scheduled_for: datetime | None
) -> str | None:
    """Activate (or schedule) an offer; return an error code when refused (§7)."""
    now = emu.clock.now()
    if offer.status == "ACTIVE":
        return None
    if offer.format == "AUCTION" and offer.status == "ENDED":
        return "IllegalOfferUpdateException.IllegalEndedOfferUpdate"
    if offer.stock < 1:
        return "AvailableStockMustEqualToOneOrBeGreaterThanOne"
    offer.ended_at = None
    offer.ended_by = None
    offer.updated_at = now
    if scheduled_for is not None and scheduled_for > now:
        offer.status = "ACTIVATING"
        offer.starting_at = scheduled_for
        return None
    _go_live(emu, offer, now)
    return None


def _go_live(emu: Emulator, offer: Offer, now: datetime) -> None:
    offer.status = "ACTIVE"
    offer.started_at = now
    offer.starting_at = None
    delta = duration_delta(offer.duration)
    offer.ending_at = now + delta if delta else None
    emit_offer_event(emu, offer, "OFFER_ACTIVATED")


def tick(emu: Emulator, now: datetime) -> None:
    archive_before = now - timedelta(days=emu.config.archive_after_days)
    for offer in emu.offers.values():
        if (
            offer.status == "ACTIVATING"
            and offer.starting_at
            and offer.starting_at <= now
        ):
            _go_live(emu, offer, now)
        elif offer.status == "ACTIVE" and offer.ending_at and offer.ending_at <= now:
            end_offer(emu, offer, "EXPIRATION")
        if (
            offer.status == "ENDED"
            and not offer.archived
            and offer.ended_at is not None
            and offer.ended_at <= archive_before
        ):
            # §7: ended offers are archived 60 days after ending.
            offer.archived = True
            emit_offer_event(emu, offer, "OFFER_ARCHIVED")
        elif (
            offer.status == "INACTIVE"
            and not offer.archived
            and offer.updated_at <= archive_before
        ):
            # §7: drafts not edited or activated within 60 days are deleted.
            offer.archived = True
    cutoff = now - timedelta(hours=emu.config.offer_event_retention_hours)
    if emu.offer_events and emu.offer_events[0].occurred_at <= cutoff:
        emu.offer_events = [e for e in emu.offer_events if e.occurred_at > cutoff]
