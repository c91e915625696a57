from __future__ import annotations

from typing import Any

import httpx
import pytest

from .conftest import World, post_json


def paid_order(w: World, qty: int = 1) -> str:
    oid = w.emu.add_offer(w.seller_id, "Kubek", external_id="SKU-1", quantity=50)
    cf_id = w.emu.purchase(oid, qty)
    w.emu.pay(cf_id)
    return cf_id


def ship(w: World, cf_id: str, body: Any) -> httpx.Response:
    return post_json(w.api, f"/order/checkout-forms/{cf_id}/shipments", body)


def test_carriers_list(world: World) -> None:
    ids = [c["id"] for c in world.api.get("/order/carriers").json()["carriers"]]
    assert {"DPD", "INPOST", "POCZTA_POLSKA", "OTHER"} <= set(ids)
    # api-notes §4.1: withdrawn on 2026-06-09.
    assert "ALLEGRO" not in ids


def test_allegro_carrier_id_is_refused(world: World) -> None:
    cf_id = paid_order(world)
    resp = ship(world, cf_id, {"carrierId": "ALLEGRO", "waybill": "AD1234567890"})
    assert resp.status_code == 400
    assert resp.json()["errors"][0]["path"] == "carrierId"
    assert world.emu.checkout_form(cf_id)["fulfillment"]["shipmentSummary"] == {
        "lineItemsSent": "NONE"
    }


def test_ship_with_allegro_puts_the_waybill_on_the_order(world: World) -> None:
    cf_id = paid_order(world)
    revision = world.emu.checkout_form(cf_id)["revision"]
    shipment_id = world.emu.ship_with_allegro(cf_id, "AD1234567890")
    listed = world.api.get(f"/order/checkout-forms/{cf_id}/shipments").json()
    assert [(s["id"], s["waybill"], s["carrierId"]) for s in listed["shipments"]] == [
        (shipment_id, "AD1234567890", "ALLEGRO")
    ]
    assert world.emu.checkout_form(cf_id)["revision"] != revision


def test_add_and_list_shipment(world: World) -> None:
    cf_id = paid_order(world)
    resp = ship(world, cf_id, {"carrierId": "INPOST", "waybill": "6" * 24})
    assert resp.status_code == 201
    created = resp.json()
    assert created["carrierId"] == "INPOST"
    assert created["waybill"] == "6" * 24
    li_id = world.emu.checkout_form(cf_id)["lineItems"][0]["id"]
    assert created["lineItems"] == [{"id": li_id}]
    listed = world.api.get(f"/order/checkout-forms/{cf_id}/shipments").json()
    assert listed == {"shipments": [created]}
    cf = world.api.get(f"/order/checkout-forms/{cf_id}").json()
    assert cf["fulfillment"]["shipmentSummary"]["lineItemsSent"] == "ALL"
    assert cf["fulfillment"]["status"] == "NEW"  # seller setting off by default


@pytest.mark.parametrize(
    ("carrier", "waybill"),
    [("DPD", "AD1234567890"), ("POCZTA_POLSKA", "1234567890123"), ("INPOST", "123")],
)
def test_carrier_waybill_validation(world: World, carrier: str, waybill: str) -> None:
    cf_id = paid_order(world)
    resp = ship(world, cf_id, {"carrierId": carrier, "waybill": waybill})
    assert resp.status_code == 400
    err = resp.json()["errors"][0]
    assert err["code"] == "CarrierWaybillValidationException"
    assert err["message"] == "Provided waybill is not valid for this carrier"
    assert err["path"] is None
    assert world.api.get(f"/order/checkout-forms/{cf_id}/shipments").json() == {
        "shipments": []
    }


def test_other_carrier_accepts_anything_and_uses_name(world: World) -> None:
    cf_id = paid_order(world)
    resp = ship(
        world,
        cf_id,
        {"carrierId": "OTHER", "waybill": "XYZ-1", "carrierName": "Kurier X"},
    )
    assert resp.status_code == 201
    assert resp.json()["carrierName"] == "Kurier X"


def test_waybill_field_errors(world: World) -> None:
    cf_id = paid_order(world)
    bad = ship(world, cf_id, {"carrierId": "OTHER", "waybill": "has space"})
    assert bad.json()["errors"][0]["code"] == "WaybillValidationException"
    assert bad.json()["errors"][0]["path"] == "waybill"
    assert ship(world, cf_id, {"carrierId": "NOPE", "waybill": "X1"}).status_code == 400
    assert (
        ship(world, cf_id, {"carrierId": "OTHER", "waybill": "X" * 65}).status_code
        == 400
    )
    long_name = {"carrierId": "OTHER", "waybill": "X1", "carrierName": "n" * 31}
    assert ship(world, cf_id, long_name).status_code == 400
    foreign_li = {"carrierId": "OTHER", "waybill": "X1", "lineItems": [{"id": "nope"}]}
    assert ship(world, cf_id, foreign_li).status_code == 422
    missing = "9a0b6a4e-1111-4c1c-8c8c-000000000000"
    assert (
        ship(world, missing, {"carrierId": "OTHER", "waybill": "X1"}).status_code == 404
    )


def test_waybill_reused_on_too_many_orders_is_409(world_factory) -> None:
    w = world_factory(waybill_max_orders=2)
    body = {"carrierId": "DPD", "waybill": "1234567890123"}
    assert ship(w, paid_order(w), body).status_code == 201
    assert ship(w, paid_order(w), body).status_code == 201
    resp = ship(w, paid_order(w), body)
    assert resp.status_code == 409
    assert resp.json()["errors"][0]["message"] == "Maximum waybill usage exceeded"


def test_auto_sent_seller_setting(world: World) -> None:
    world.emu.sellers[world.seller_id].auto_sent_on_waybill = True
    cf_id = paid_order(world)
    ship(world, cf_id, {"carrierId": "OTHER", "waybill": "X1"})
    assert world.emu.checkout_form(cf_id)["fulfillment"]["status"] == "SENT"


def test_shipments_50_per_second(world: World) -> None:
    for _ in range(50):
        assert world.api.get("/order/carriers").status_code == 200
    assert world.api.get("/order/carriers").status_code == 429
    assert world.api.get("/me").status_code == 200  # other resources unaffected
    world.emu.clock.advance(seconds=1)
    assert world.api.get("/order/carriers").status_code == 200
