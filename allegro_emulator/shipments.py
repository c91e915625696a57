"""Carriers and shipments / tracking numbers (api-notes §4).

Allegro does not publish its waybill rules; the emulator uses simple
per-carrier patterns (see README) so both outcomes can be exercised.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import httpx

from allegro_emulator import orders
from allegro_emulator.state import CheckoutForm, Shipment
from allegro_emulator.web import ApiError, Ctx, iso, json_response

if TYPE_CHECKING:
    from allegro_emulator.core import Handler
    from allegro_emulator.emulator import Emulator

# id -> (name, waybill pattern or None for "anything printable").
# No "ALLEGRO": since 2026-06-09 Allegro neither lists nor accepts it (api-notes
# §4.1, allegro-api #13267); parcels sent with "Wysyłam z Allegro" get their
# waybill put on the order by Allegro itself (``ship_with_allegro``).
CARRIERS: dict[str, tuple[str, str | None]] = {
    "INPOST": ("InPost", r"\d{24}"),
    "DPD": ("DPD", r"\d{13}[A-Z]?"),
    "DHL": ("DHL", r"\d{10,11}|JJD\d{18,20}"),
    "POCZTA_POLSKA": ("Poczta Polska", r"00\d{18}|[A-Z]{2}\d{9}PL"),
    "GLS": ("GLS", r"\d{11,12}"),
    "UPS": ("UPS", r"1Z[A-Z0-9]{16}"),
    "FEDEX": ("FedEx", r"\d{12}|\d{15}"),
    "ORLEN": ("ORLEN Paczka", r"\d{10,24}"),
    "YUN_EXPRESS": ("YunExpress", r"YT\d{16}"),
    "OTHER": ("Inny przewoźnik", None),
}
PRINTABLE = re.compile(r"^[A-Za-z0-9\-_/.]+$")


def carriers(emu: Emulator, ctx: Ctx) -> httpx.Response:
    body = {
        "carriers": [{"id": cid, "name": name} for cid, (name, _) in CARRIERS.items()]
    }
    return json_response(200, body)


def shipment_json(s: Shipment) -> dict[str, Any]:
    return {
        "id": s.id,
        "waybill": s.waybill,
        "carrierId": s.carrier_id,
        "carrierName": s.carrier_name,
        "lineItems": [{"id": i} for i in s.line_item_ids],
        "createdAt": iso(s.created_at),
    }


def list_shipments(emu: Emulator, ctx: Ctx) -> httpx.Response:
    cf = _cf(emu, ctx)
    return json_response(200, {"shipments": [shipment_json(s) for s in cf.shipments]})


def _cf(emu: Emulator, ctx: Ctx) -> CheckoutForm:
    cf = emu.checkout_forms.get(ctx.params["id"])
    if cf is None or cf.seller_id != ctx.seller_id:
        raise ApiError(404, "NOT_FOUND", f"Checkout form {ctx.params['id']} not found")
    return cf


def validate_waybill(carrier_id: str, waybill: str) -> None:
    if not PRINTABLE.match(waybill):
        raise ApiError(
            400,
            "WaybillValidationException",
            "Tracking number is invalid",
            path="waybill",
        )
    pattern = CARRIERS[carrier_id][1]
    if pattern is not None and not re.fullmatch(pattern, waybill):
        # Exact shape seen in #7673/#8422: path is null.
        raise ApiError(
            400,
            "CarrierWaybillValidationException",
            "Provided waybill is not valid for this carrier",
            path=None,
        )


def add_shipment(
    emu: Emulator,
    cf: CheckoutForm,
    carrier_id: str,
    waybill: str,
    carrier_name: str,
    line_item_ids: list[str],
) -> Shipment:
    shipment = Shipment(
        id=emu.new_uuid(),
        waybill=waybill,
        carrier_id=carrier_id,
        carrier_name=carrier_name,
        line_item_ids=line_item_ids,
        created_at=emu.clock.now(),
    )
    cf.shipments.append(shipment)
    orders.touch(emu, cf)
    seller = emu.sellers[cf.seller_id]
    if seller.auto_sent_on_waybill and cf.fulfillment_status != "SENT":
        orders.set_fulfillment(emu, cf, "SENT")
    return shipment


def ship_with_allegro(emu: Emulator, cf: CheckoutForm, waybill: str) -> Shipment:
    """A parcel sent with "Wysyłam z Allegro": Allegro puts the waybill on the
    order itself, under the carrier id it keeps for its own service."""
    all_ids = [li.id for li in cf.line_items]
    return add_shipment(emu, cf, "ALLEGRO", waybill, "Allegro Delivery", all_ids)


def create_shipment(emu: Emulator, ctx: Ctx) -> httpx.Response:
    cf = _cf(emu, ctx)
    data = ctx.json()
    if not isinstance(data, dict):
        raise ApiError(400, "VALIDATION_ERROR", "Body must be an object")
    carrier_id = data.get("carrierId")
    waybill = data.get("waybill")
    carrier_name = data.get("carrierName")
    if not carrier_id or carrier_id not in CARRIERS:
        raise ApiError(400, "VALIDATION_ERROR", "Unknown carrier id", path="carrierId")
    if not isinstance(waybill, str) or not waybill or len(waybill) > 64:
        raise ApiError(
            400, "VALIDATION_ERROR", "Waybill must have 1-64 characters", path="waybill"
        )
    if carrier_name is not None and (
        not isinstance(carrier_name, str) or len(carrier_name) > 30
    ):
        raise ApiError(
            400, "VALIDATION_ERROR", "Carrier name is too long", path="carrierName"
        )
    validate_waybill(carrier_id, waybill)
    all_ids = [li.id for li in cf.line_items]
    wanted = [str(x.get("id")) for x in data.get("lineItems") or []]
    if any(i not in all_ids for i in wanted):
        raise ApiError(
            422,
            "VALIDATION_ERROR",
            "Line item does not belong to the order",
            path="lineItems",
        )
    # SPEC 409: "Maximum waybill usage exceeded (e.g. used in too many orders)".
    orders_using = {
        other.id
        for other in emu.checkout_forms.values()
        if other.id != cf.id
        and any(
            s.waybill == waybill and s.carrier_id == carrier_id for s in other.shipments
        )
    }
    if len(orders_using) >= emu.config.waybill_max_orders:
        raise ApiError(
            409, "CONFLICT", "Maximum waybill usage exceeded", path="waybill"
        )
    name = (
        carrier_name
        if carrier_id == "OTHER" and carrier_name
        else CARRIERS[carrier_id][0]
    )
    shipment = add_shipment(emu, cf, carrier_id, waybill, name, wanted or all_ids)
    return json_response(201, shipment_json(shipment))


ROUTES: list[tuple[str, str, Handler, str]] = [
    ("GET", "/order/carriers", carriers, "api"),
    ("GET", "/order/checkout-forms/{id}/shipments", list_shipments, "api"),
    ("POST", "/order/checkout-forms/{id}/shipments", create_shipment, "api"),
]
