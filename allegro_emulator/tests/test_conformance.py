"""Every emulated API endpoint, success and error cases, validated against the
response schemas of Allegro's OpenAPI spec (``shared/allegro/openapi.yaml``)
with openapi-schema-validator (OAS 3.0 semantics: nullable, formats).

Where the spec documents a status without a body schema, the documented error
shapes are used (``AuthError`` for 401, ``ErrorsHolder`` otherwise, api-notes
§10). Statuses that Allegro returns on every path but the spec lists only on
some operations (406, 415, 429) are validated against ``ErrorsHolder``.
OAuth endpoints are not part of the REST spec and are covered in test_oauth.py.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from allegro_emulator import MEDIA_TYPE

from .conftest import World, make_world
from .spec import (
    component,
    load_spec,
    response_media_types,
    response_schema,
    spec_path,
    undeclared_keys,
    validate,
)

Case = tuple[str, str, Callable[[World, dict[str, str]], httpx.Response], int]
JSON = {"Content-Type": MEDIA_TYPE}
QTY = "/sale/offer-quantity-change-commands"
PUB = "/sale/offer-publication-commands"
MOD = "/sale/offer-modification-commands"
UNKNOWN_CF = "9a0b6a4e-1111-4c1c-8c8c-000000000000"


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    path = spec_path()
    if not path.is_file() and os.environ.get("ALLEGRO_OPENAPI_SPEC"):
        pytest.fail(f"ALLEGRO_OPENAPI_SPEC points at a missing file: {path}")
    if not path.is_file():
        pytest.skip(
            f"Allegro OpenAPI spec not found at {path} "
            "(expected ../shared/allegro/openapi.yaml beside the repo, "
            "or set ALLEGRO_OPENAPI_SPEC)"
        )
    return load_spec()


@pytest.fixture(scope="module")
def state() -> Iterator[tuple[World, dict[str, str]]]:
    w = make_world()
    emu, sid = w.emu, w.seller_id
    ids = {
        "offer": emu.add_offer(
            sid, "Kubek", external_id="SKU-1", quantity=20, price="19.99"
        ),
        "other_offer": emu.add_offer(emu.add_seller("shop-2"), "Obcy"),
        "auction": emu.add_offer(sid, "Zegarek", format="AUCTION", price="50"),
        "ended": emu.add_offer(sid, "Koniec", quantity=3, status="ENDED"),
    }
    emu.bid(ids["auction"], "55", "licytant")
    ids["cf"] = emu.purchase(ids["offer"], 2, message="Proszę o fakturę")
    emu.pay(ids["cf"])
    ids["cf_bought"] = emu.purchase(ids["offer"], 1)
    ids["cf_cancelled"] = emu.purchase(ids["offer"], 1)
    emu.cancel(ids["cf_cancelled"])
    ids["cmd_qty"] = str(uuid.uuid4())
    ids["cmd_pub"] = str(uuid.uuid4())
    ids["cmd_mod"] = str(uuid.uuid4())
    body = {
        "modification": {"changeType": "GAIN", "value": -100},
        "offerCriteria": [
            {"type": "CONTAINS_OFFERS", "offers": [{"id": ids["offer"]}]}
        ],
    }
    w.api.put(f"{QTY}/{ids['cmd_qty']}", json=body, headers=JSON)
    body = {
        "publication": {"action": "ACTIVATE"},
        "offerCriteria": [
            {"type": "CONTAINS_OFFERS", "offers": [{"id": ids["ended"]}]}
        ],
    }
    w.api.put(f"{PUB}/{ids['cmd_pub']}", json=body, headers=JSON)
    w.api.put(f"{MOD}/{ids['cmd_mod']}", json=mod_body(ids["ended"]), headers=JSON)
    patch = {"sellingMode": {"price": {"amount": "18.99", "currency": "PLN"}}}
    w.api.patch(f"/sale/product-offers/{ids['offer']}", json=patch, headers=JSON)
    w.api.post(
        f"/order/checkout-forms/{ids['cf']}/shipments",
        json={"carrierId": "DPD", "waybill": "1234567890123"},
        headers=JSON,
    )
    yield w, ids
    w.api.close()


def qty_body(offer: str, change: str = "FIXED", value: int = 5) -> dict[str, Any]:
    return {
        "modification": {"changeType": change, "value": value},
        "offerCriteria": [{"type": "CONTAINS_OFFERS", "offers": [{"id": offer}]}],
    }


def pub_body(offer: str, action: str = "END", **extra: str) -> dict[str, Any]:
    return {
        "publication": {"action": action, **extra},
        "offerCriteria": [{"type": "CONTAINS_OFFERS", "offers": [{"id": offer}]}],
    }


def mod_body(offer: str, **publication: Any) -> dict[str, Any]:
    return {
        "modification": {"publication": publication or {"duration": "P10D"}},
        "offerCriteria": [{"type": "CONTAINS_OFFERS", "offers": [{"id": offer}]}],
    }


def new_id() -> str:
    return str(uuid.uuid4())


def start_async_patch(w: World, offer_id: str, body: dict[str, Any]) -> str:
    """PATCH in 202 mode; return the operation path from ``Location``."""
    w.emu.config.patch_async_seconds = 5
    try:
        resp = w.api.patch(f"/sale/product-offers/{offer_id}", json=body, headers=JSON)
    finally:
        w.emu.config.patch_async_seconds = None
    assert resp.status_code == 202
    return httpx.URL(resp.headers["Location"]).path


def operation_done(w: World, offer_id: str) -> httpx.Response:
    path = start_async_patch(w, offer_id, {"stock": {"available": 12}})
    w.emu.clock.advance(seconds=5)
    return w.api.get(path)


def operation_failed(w: World, offer_id: str) -> httpx.Response:
    offer = w.emu.add_offer(w.seller_id, "Znika", quantity=1)
    path = start_async_patch(w, offer, {"publication": {"status": "ACTIVE"}})
    w.emu.end_offer(offer)
    w.emu.offers[offer].stock = 0
    w.emu.clock.advance(seconds=5)
    return w.api.get(path)


# (spec path, method, request, expected status)
CASES: list[Case] = [
    ("/me", "get", lambda w, i: w.api.get("/me"), 200),
    ("/me", "get", lambda w, i: w.client_for("bogus").get("/me"), 401),
    ("/marketplaces", "get", lambda w, i: w.api.get("/marketplaces"), 200),
    ("/order/carriers", "get", lambda w, i: w.api.get("/order/carriers"), 200),
    (
        "/order/carriers",
        "get",
        lambda w, i: w.client_for("x").get("/order/carriers"),
        401,
    ),
    ("/sale/offers", "get", lambda w, i: w.api.get("/sale/offers"), 200),
    (
        "/sale/offers",
        "get",
        lambda w, i: w.api.get(
            "/sale/offers",
            params={
                "external.id": "SKU-1",
                "publication.status": "ACTIVE",
                "limit": 1000,
            },
        ),
        200,
    ),
    (
        "/sale/offers",
        "get",
        lambda w, i: w.api.get("/sale/offers", params={"limit": 0}),
        400,
    ),
    (
        "/sale/offers",
        "get",
        lambda w, i: w.api.get("/sale/offers", params={"publication.status": "X"}),
        400,
    ),
    (
        "/sale/product-offers/{offerId}",
        "get",
        lambda w, i: w.api.get("/sale/product-offers/not-an-id"),
        400,
    ),
    (
        "/sale/product-offers/{offerId}",
        "get",
        lambda w, i: w.api.get(f"/sale/product-offers/{i['offer']}"),
        200,
    ),
    (
        "/sale/product-offers/{offerId}",
        "get",
        lambda w, i: w.api.get(f"/sale/product-offers/{i['auction']}"),
        200,
    ),
    (
        "/sale/product-offers/{offerId}",
        "get",
        lambda w, i: w.api.get(f"/sale/product-offers/{i['ended']}"),
        200,
    ),
    (
        "/sale/product-offers/{offerId}",
        "get",
        lambda w, i: w.api.get("/sale/product-offers/1"),
        404,
    ),
    (
        "/sale/product-offers/{offerId}",
        "get",
        lambda w, i: w.api.get(f"/sale/product-offers/{i['other_offer']}"),
        403,
    ),
    (
        "/sale/product-offers/{offerId}",
        "get",
        lambda w, i: w.client_for("x").get(f"/sale/product-offers/{i['offer']}"),
        401,
    ),
    (
        "/sale/product-offers/{offerId}",
        "patch",
        lambda w, i: w.api.patch(
            f"/sale/product-offers/{i['offer']}",
            json={"stock": {"available": 15}},
            headers=JSON,
        ),
        200,
    ),
    (
        "/sale/product-offers/{offerId}",
        "patch",
        lambda w, i: w.api.patch(
            f"/sale/product-offers/{i['offer']}", json={"bogus": 1}, headers=JSON
        ),
        400,
    ),
    (
        "/sale/product-offers/{offerId}",
        "patch",
        lambda w, i: w.api.patch("/sale/product-offers/1", json={}, headers=JSON),
        404,
    ),
    (
        "/sale/product-offers/{offerId}",
        "patch",
        lambda w, i: w.api.patch(
            f"/sale/product-offers/{i['other_offer']}", json={}, headers=JSON
        ),
        403,
    ),
    (
        "/sale/product-offers/{offerId}",
        "patch",
        lambda w, i: w.api.patch(
            f"/sale/product-offers/{i['auction']}",
            json={"name": "Inna nazwa aukcji"},
            headers=JSON,
        ),
        422,
    ),
    (
        "/sale/product-offers/{offerId}",
        "patch",
        lambda w, i: w.client_for("x").patch(
            f"/sale/product-offers/{i['offer']}", json={}, headers=JSON
        ),
        401,
    ),
    (
        "/sale/product-offers/{offerId}/operations/{operationId}",
        "get",
        lambda w, i: w.api.get(
            start_async_patch(w, i["auction"], {"external": {"id": "SKU-AUC"}})
        ),
        202,
    ),
    (
        "/sale/product-offers/{offerId}/operations/{operationId}",
        "get",
        lambda w, i: operation_done(w, i["offer"]),
        303,
    ),
    (
        "/sale/product-offers/{offerId}/operations/{operationId}",
        "get",
        lambda w, i: operation_failed(w, i["offer"]),
        422,
    ),
    (
        "/sale/product-offers/{offerId}/operations/{operationId}",
        "get",
        lambda w, i: w.api.get(f"/sale/product-offers/{i['offer']}/operations/nope"),
        404,
    ),
    (
        "/sale/product-offers/{offerId}",
        "patch",
        lambda w, i: w.api.patch(
            start_async_patch(w, i["ended"], {"name": "Koniec aukcji 2"}).rsplit(
                "/operations/", 1
            )[0],
            json={"name": "Koniec aukcji 3"},
            headers=JSON,
        ),
        409,
    ),
    (
        "/sale/product-offers/{offerId}/parts",
        "get",
        lambda w, i: w.api.get(
            f"/sale/product-offers/{i['offer']}/parts",
            params={"include": ["stock", "price"]},
        ),
        200,
    ),
    (
        "/sale/product-offers/{offerId}/parts",
        "get",
        lambda w, i: w.api.get(f"/sale/product-offers/{i['offer']}/parts"),
        400,
    ),
    (
        "/sale/product-offers/{offerId}/parts",
        "get",
        lambda w, i: w.api.get(
            "/sale/product-offers/1/parts", params={"include": "stock"}
        ),
        404,
    ),
    (
        "/sale/product-offers",
        "post",
        lambda w, i: w.api.post(
            "/sale/product-offers",
            json={
                "name": "Zegarek II",
                "sellingMode": {
                    "format": "AUCTION",
                    "startingPrice": {"amount": "40.00", "currency": "PLN"},
                },
                "stock": {"available": 1},
                "external": {"id": "SKU-W"},
                "publication": {"status": "ACTIVE", "duration": "P7D"},
            },
            headers=JSON,
        ),
        201,
    ),
    (
        "/sale/product-offers",
        "post",
        lambda w, i: w.api.post("/sale/product-offers", json={"nope": 1}, headers=JSON),
        400,
    ),
    (
        "/sale/product-offers",
        "post",
        lambda w, i: w.api.post(
            "/sale/product-offers", json={"name": "X"}, headers=JSON
        ),
        422,
    ),
    (
        "/sale/product-offers",
        "post",
        lambda w, i: w.client_for("x").post(
            "/sale/product-offers", json={}, headers=JSON
        ),
        401,
    ),
    ("/sale/offer-events", "get", lambda w, i: w.api.get("/sale/offer-events"), 200),
    (
        "/sale/offer-events",
        "get",
        lambda w, i: w.api.get("/sale/offer-events", params={"limit": 0}),
        400,
    ),
    (
        "/sale/offer-events",
        "get",
        lambda w, i: w.api.get("/sale/offer-events", params={"type": "X"}),
        400,
    ),
    (
        "/sale/offer-events",
        "get",
        lambda w, i: w.client_for("x").get("/sale/offer-events"),
        401,
    ),
    (
        "/sale/offer-quantity-change-commands/{commandId}",
        "put",
        lambda w, i: w.api.put(
            f"{QTY}/{new_id()}", json=qty_body(i["offer"]), headers=JSON
        ),
        201,
    ),
    (
        "/sale/offer-quantity-change-commands/{commandId}",
        "put",
        lambda w, i: w.api.put(
            f"{QTY}/{new_id()}", json=qty_body(i["offer"], value=0), headers=JSON
        ),
        400,
    ),
    (
        "/sale/offer-quantity-change-commands/{commandId}",
        "put",
        lambda w, i: w.api.put(
            f"{QTY}/{i['cmd_qty']}", json=qty_body(i["offer"]), headers=JSON
        ),
        409,
    ),
    (
        "/sale/offer-quantity-change-commands/{commandId}",
        "put",
        lambda w, i: w.api.put(
            f"{QTY}/{new_id()}", json={"modification": {}}, headers=JSON
        ),
        422,
    ),
    (
        "/sale/offer-quantity-change-commands/{commandId}",
        "put",
        lambda w, i: w.client_for("x").put(f"{QTY}/{new_id()}", json={}, headers=JSON),
        401,
    ),
    (
        "/sale/offer-quantity-change-commands/{commandId}",
        "get",
        lambda w, i: w.api.get(f"{QTY}/{i['cmd_qty']}"),
        200,
    ),
    (
        "/sale/offer-quantity-change-commands/{commandId}",
        "get",
        lambda w, i: w.api.get(f"{QTY}/{new_id()}"),
        404,
    ),
    (
        "/sale/offer-quantity-change-commands/{commandId}/tasks",
        "get",
        lambda w, i: w.api.get(f"{QTY}/{i['cmd_qty']}/tasks"),
        200,
    ),
    (
        "/sale/offer-quantity-change-commands/{commandId}/tasks",
        "get",
        lambda w, i: w.api.get(f"{QTY}/{i['cmd_qty']}/tasks", params={"limit": 0}),
        422,
    ),
    (
        "/sale/offer-quantity-change-commands/{commandId}/tasks",
        "get",
        lambda w, i: w.api.get(f"{QTY}/{new_id()}/tasks"),
        404,
    ),
    (
        "/sale/offer-publication-commands/{commandId}",
        "put",
        lambda w, i: w.api.put(
            f"{PUB}/{new_id()}", json=pub_body(i["offer"]), headers=JSON
        ),
        201,
    ),
    (
        "/sale/offer-publication-commands/{commandId}",
        "put",
        lambda w, i: w.api.put(
            f"{PUB}/{new_id()}",
            json=pub_body(i["ended"], "ACTIVATE", scheduledFor="2020-01-01T00:00:00Z"),
            headers=JSON,
        ),
        422,
    ),
    (
        "/sale/offer-publication-commands/{commandId}",
        "put",
        lambda w, i: w.api.put(
            f"{PUB}/{i['cmd_pub']}", json=pub_body(i["offer"]), headers=JSON
        ),
        409,
    ),
    (
        "/sale/offer-publication-commands/{commandId}",
        "get",
        lambda w, i: w.api.get(f"{PUB}/{i['cmd_pub']}"),
        200,
    ),
    (
        "/sale/offer-publication-commands/{commandId}",
        "get",
        lambda w, i: w.api.get(f"{PUB}/{new_id()}"),
        404,
    ),
    (
        "/sale/offer-publication-commands/{commandId}/tasks",
        "get",
        lambda w, i: w.api.get(f"{PUB}/{i['cmd_pub']}/tasks"),
        200,
    ),
    (
        "/sale/offer-publication-commands/{commandId}/tasks",
        "get",
        lambda w, i: w.api.get(f"{PUB}/{new_id()}/tasks"),
        404,
    ),
    (
        "/sale/offer-modification-commands/{commandId}",
        "put",
        lambda w, i: w.api.put(
            f"{MOD}/{new_id()}",
            json=mod_body(i["ended"], durationUnlimited=True),
            headers=JSON,
        ),
        201,
    ),
    (
        "/sale/offer-modification-commands/{commandId}",
        "put",
        lambda w, i: w.api.put(
            f"{MOD}/{new_id()}",
            json=mod_body(i["ended"], duration="P10D", durationUnlimited=True),
            headers=JSON,
        ),
        422,
    ),
    (
        "/sale/offer-modification-commands/{commandId}",
        "put",
        lambda w, i: w.api.put(
            f"{MOD}/{i['cmd_mod']}", json=mod_body(i["ended"]), headers=JSON
        ),
        409,
    ),
    (
        "/sale/offer-modification-commands/{commandId}",
        "get",
        lambda w, i: w.api.get(f"{MOD}/{i['cmd_mod']}"),
        200,
    ),
    (
        "/sale/offer-modification-commands/{commandId}",
        "get",
        lambda w, i: w.api.get(f"{MOD}/{new_id()}"),
        404,
    ),
    (
        "/sale/offer-modification-commands/{commandId}/tasks",
        "get",
        lambda w, i: w.api.get(f"{MOD}/{i['cmd_mod']}/tasks"),
        200,
    ),
    (
        "/sale/offer-modification-commands/{commandId}/tasks",
        "get",
        lambda w, i: w.api.get(f"{MOD}/{new_id()}/tasks"),
        404,
    ),
    (
        "/order/checkout-forms",
        "get",
        lambda w, i: w.api.get("/order/checkout-forms"),
        200,
    ),
    (
        "/order/checkout-forms",
        "get",
        lambda w, i: w.api.get(
            "/order/checkout-forms",
            params={"status": "READY_FOR_PROCESSING", "limit": 1},
        ),
        200,
    ),
    (
        "/order/checkout-forms",
        "get",
        lambda w, i: w.api.get("/order/checkout-forms", params={"offset": 10000}),
        422,
    ),
    (
        "/order/checkout-forms",
        "get",
        lambda w, i: w.api.get("/order/checkout-forms", params={"sort": "nope"}),
        400,
    ),
    (
        "/order/checkout-forms",
        "get",
        lambda w, i: w.client_for("x").get("/order/checkout-forms"),
        401,
    ),
    (
        "/order/checkout-forms/{id}",
        "get",
        lambda w, i: w.api.get(f"/order/checkout-forms/{i['cf']}"),
        200,
    ),
    (
        "/order/checkout-forms/{id}",
        "get",
        lambda w, i: w.api.get(f"/order/checkout-forms/{i['cf_bought']}"),
        200,
    ),
    (
        "/order/checkout-forms/{id}",
        "get",
        lambda w, i: w.api.get(f"/order/checkout-forms/{i['cf_cancelled']}"),
        200,
    ),
    (
        "/order/checkout-forms/{id}",
        "get",
        lambda w, i: w.api.get(f"/order/checkout-forms/{UNKNOWN_CF}"),
        404,
    ),
    (
        "/order/checkout-forms/{id}",
        "get",
        lambda w, i: w.api.get("/order/checkout-forms/abc"),
        422,
    ),
    ("/order/events", "get", lambda w, i: w.api.get("/order/events"), 200),
    (
        "/order/events",
        "get",
        lambda w, i: w.api.get("/order/events", params={"limit": 2000}),
        422,
    ),
    ("/order/events", "get", lambda w, i: w.client_for("x").get("/order/events"), 401),
    ("/order/event-stats", "get", lambda w, i: w.api.get("/order/event-stats"), 200),
    (
        "/order/event-stats",
        "get",
        lambda w, i: w.client_for("x").get("/order/event-stats"),
        401,
    ),
    (
        "/order/checkout-forms/{id}/fulfillment",
        "put",
        lambda w, i: w.api.put(
            f"/order/checkout-forms/{i['cf']}/fulfillment",
            json={"status": "PROCESSING"},
            headers=JSON,
        ),
        204,
    ),
    (
        "/order/checkout-forms/{id}/fulfillment",
        "put",
        lambda w, i: w.api.put(
            f"/order/checkout-forms/{i['cf']}/fulfillment",
            params={"checkoutForm.revision": "stale"},
            json={"status": "SENT"},
            headers=JSON,
        ),
        409,
    ),
    (
        "/order/checkout-forms/{id}/fulfillment",
        "put",
        lambda w, i: w.api.put(
            f"/order/checkout-forms/{i['cf']}/fulfillment",
            json={"status": "RETURNED"},
            headers=JSON,
        ),
        422,
    ),
    (
        "/order/checkout-forms/{id}/fulfillment",
        "put",
        lambda w, i: w.api.put(
            f"/order/checkout-forms/{UNKNOWN_CF}/fulfillment",
            json={"status": "SENT"},
            headers=JSON,
        ),
        404,
    ),
    (
        "/order/checkout-forms/{id}/shipments",
        "get",
        lambda w, i: w.api.get(f"/order/checkout-forms/{i['cf']}/shipments"),
        200,
    ),
    (
        "/order/checkout-forms/{id}/shipments",
        "get",
        lambda w, i: w.api.get(f"/order/checkout-forms/{UNKNOWN_CF}/shipments"),
        404,
    ),
    (
        "/order/checkout-forms/{id}/shipments",
        "get",
        lambda w, i: w.client_for("x").get(
            f"/order/checkout-forms/{i['cf']}/shipments"
        ),
        401,
    ),
    (
        "/order/checkout-forms/{id}/shipments",
        "post",
        lambda w, i: w.api.post(
            f"/order/checkout-forms/{i['cf']}/shipments",
            json={"carrierId": "OTHER", "waybill": "ABC-1", "carrierName": "Kurier"},
            headers=JSON,
        ),
        201,
    ),
    (
        "/order/checkout-forms/{id}/shipments",
        "post",
        lambda w, i: w.api.post(
            f"/order/checkout-forms/{i['cf']}/shipments",
            json={"carrierId": "DPD", "waybill": "AD12345678"},
            headers=JSON,
        ),
        400,
    ),
    (
        "/order/checkout-forms/{id}/shipments",
        "post",
        lambda w, i: w.api.post(
            f"/order/checkout-forms/{i['cf']}/shipments",
            json={"carrierId": "OTHER", "waybill": "X1", "lineItems": [{"id": "nope"}]},
            headers=JSON,
        ),
        422,
    ),
    (
        "/order/checkout-forms/{id}/shipments",
        "post",
        lambda w, i: w.api.post(
            f"/order/checkout-forms/{UNKNOWN_CF}/shipments",
            json={"carrierId": "OTHER", "waybill": "X1"},
            headers=JSON,
        ),
        404,
    ),
    (
        "/order/checkout-forms/{id}/shipments",
        "post",
        lambda w, i: w.client_for("x").post(
            f"/order/checkout-forms/{i['cf']}/shipments", json={}, headers=JSON
        ),
        401,
    ),
]


def _case_id(case: Case) -> str:
    return f"{case[1].upper()} {case[0]} -> {case[3]}"


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_response_matches_spec(
    spec: dict[str, Any], state: tuple[World, dict[str, str]], case: Case
) -> None:
    path, method, call, status = case
    world, ids = state
    resp = call(world, ids)
    assert resp.status_code == status, resp.text
    if status in (204, 303):
        assert resp.content == b""
        if status == 303:
            assert re.search(r"/sale/product-offers/\d+$", resp.headers["Location"])
        return
    declared = response_media_types(spec, path, method, status)
    media = resp.headers["content-type"]
    if declared:
        assert media in declared, (media, declared)
    elif status == 401:
        assert media == "application/json"
    body = resp.json()
    schema = response_schema(spec, path, method, status)
    validate(body, schema)
    assert undeclared_keys(body, schema) == []


def test_every_emulated_api_route_is_covered(spec: dict[str, Any]) -> None:
    world = make_world()
    routes = {
        (r.method.lower(), r.template) for r in world.emu.routes if r.kind == "api"
    }
    covered = {(c[1], c[0]) for c in CASES}
    assert routes - covered == set()
    for method, path in routes:
        assert method in spec["paths"][path], f"{method} {path} not in the spec"
    for method, path in covered:
        # a success case each, and an error case wherever the spec documents one
        statuses = {c[3] for c in CASES if (c[1], c[0]) == (method, path)}
        documented = spec["paths"][path][method]["responses"]
        assert any(s < 300 for s in statuses), (method, path)
        if any(code.startswith("4") for code in documented):
            assert any(s >= 400 for s in statuses), (method, path)


def test_offer_events_match_their_discriminated_schemas(spec: dict[str, Any]) -> None:
    world = make_world()
    emu, sid = world.emu, world.seller_id
    a = emu.add_offer(sid, "A", external_id="SKU-A", quantity=2, price="10")
    auction = emu.add_offer(sid, "Auk", format="AUCTION", price="5")
    emu.bid(auction, "6", "b1")
    patch = {
        "sellingMode": {"price": {"amount": "11.00", "currency": "PLN"}},
        "name": "Kubek ceramiczny A2",
    }
    world.api.patch(f"/sale/product-offers/{a}", json=patch, headers=JSON)
    emu.purchase(a, 2)  # stock change + OFFER_ENDED (EMPTY_STOCK)
    world.api.patch(
        f"/sale/product-offers/{a}",
        json={"stock": {"available": 1}, "publication": {"status": "ACTIVE"}},
        headers=JSON,
    )
    emu.end_offer(a)
    emu.advance(days=60)  # archived (OFFER_ARCHIVED); older events age out
    world.reauth()
    events = world.api.get("/sale/offer-events").json()["offerEvents"]
    mapping = spec["components"]["schemas"]["SellerOfferBaseEvent"]["discriminator"][
        "mapping"
    ]
    for event in events:
        validate(event, {"$ref": mapping[event["type"]]})
        assert undeclared_keys(event, {"$ref": mapping[event["type"]]}) == []
    # the auction expired (sold) and the ended offer was archived at day 60
    assert sorted(e["type"] for e in events) == ["OFFER_ARCHIVED", "OFFER_ENDED"]
    # and the full journal before retention dropped it
    fresh = make_world()
    b = fresh.emu.add_offer(fresh.seller_id, "B", external_id="SKU-B", quantity=1)
    auc = fresh.emu.add_offer(fresh.seller_id, "Auk", format="AUCTION", price="5")
    fresh.emu.bid(auc, "6", "b1")
    fresh.api.patch(f"/sale/product-offers/{b}", json=patch, headers=JSON)
    fresh.emu.purchase(b, 1)
    fresh.api.patch(
        f"/sale/product-offers/{b}",
        json={"stock": {"available": 1}, "publication": {"status": "ACTIVE"}},
        headers=JSON,
    )
    events = fresh.api.get("/sale/offer-events").json()["offerEvents"]
    seen = set()
    for event in events:
        validate(event, {"$ref": mapping[event["type"]]})
        assert undeclared_keys(event, {"$ref": mapping[event["type"]]}) == []
        seen.add(event["type"])
    assert seen == {
        "OFFER_BID_PLACED",
        "OFFER_PRICE_CHANGED",
        "OFFER_CHANGED",
        "OFFER_STOCK_CHANGED",
        "OFFER_ENDED",
        "OFFER_ACTIVATED",
    }


@pytest.mark.parametrize(
    ("name", "status", "call"),
    [
        ("wrong Accept", 406, lambda w: w.api.get("/me", headers={"Accept": "*/*"})),
        (
            "wrong Content-Type",
            415,
            lambda w: w.api.put(f"{QTY}/{new_id()}", json={}),
        ),
        ("unknown path", 404, lambda w: w.api.get("/sale/nothing-here")),
        ("method not allowed", 405, lambda w: w.api.delete("/me")),
    ],
)
def test_generic_errors_use_errors_holder(
    spec: dict[str, Any],
    name: str,
    status: int,
    call: Callable[[World], httpx.Response],
) -> None:
    world = make_world()
    resp = call(world)
    assert resp.status_code == status, name
    validate(resp.json(), component("ErrorsHolder"))
    assert undeclared_keys(resp.json(), component("ErrorsHolder")) == []


def test_rate_limit_and_injected_faults_use_errors_holder(spec: dict[str, Any]) -> None:
    from allegro_emulator import EmulatorConfig

    from .conftest import START

    world = make_world(EmulatorConfig(start_time=START, rate_limit_per_minute=1))
    world.api.get("/me")
    limited = world.api.get("/me")
    assert limited.status_code == 429
    validate(limited.json(), component("ErrorsHolder"))
    world.emu.clock.advance(seconds=60)
    world.emu.add_fault("/me", "503")
    fault = world.api.get("/me")
    assert fault.status_code == 503
    validate(fault.json(), component("ErrorsHolder"))


def test_spec_validator_rejects_a_wrong_shape(spec: dict[str, Any]) -> None:
    # Guard against a validator that silently accepts anything.
    schema = response_schema(spec, "/order/checkout-forms/{id}", "get", 200)
    with pytest.raises(AssertionError):
        validate({"id": "x", "status": "NOPE"}, schema)
    with pytest.raises(AssertionError):
        validate({"amount": 12.34, "currency": "PLN"}, component("Price"))


def test_undeclared_fields_are_caught(spec: dict[str, Any]) -> None:
    # The spec rarely marks fields required, so a misspelt field passes
    # validation; the undeclared-keys check is what catches it.
    me = response_schema(spec, "/me", "get", 200)
    validate({"userId": "1"}, me)
    assert undeclared_keys({"userId": "1", "login": "x"}, me) == ["userId"]
    world = make_world()
    offer = world.emu.add_offer(world.seller_id, "Kubek", external_id="S-1")
    cf = world.emu.checkout_form(world.emu.purchase(offer))
    form = response_schema(spec, "/order/checkout-forms/{id}", "get", 200)
    assert undeclared_keys(cf, form) == []
    cf["lineItems"][0]["offer"]["externalId"] = "S-1"
    assert undeclared_keys(cf, form) == ["lineItems[0].offer.externalId"]
    # discriminated offer events: a subtype's own fields count as declared
    event: dict[str, Any] = {
        "id": "1",
        "type": "OFFER_ENDED",
        "occurredAt": "2026-01-01T00:00:00Z",
        "offer": {"id": "1", "publication": {"endedBy": "USER"}},
    }
    base = component("SellerOfferBaseEvent")
    assert undeclared_keys(event, base) == []
    assert undeclared_keys({**event, "bogus": 1}, base) == ["bogus"]
