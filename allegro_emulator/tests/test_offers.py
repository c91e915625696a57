from __future__ import annotations

from datetime import timedelta

from allegro_emulator import MEDIA_TYPE

from .conftest import World, make_world, patch_json, post_json


def seed_offers(w: World) -> dict[str, str]:
    e = w.emu
    return {
        "a": e.add_offer(
            w.seller_id, "Kubek", external_id="SKU-A", quantity=5, price="10"
        ),
        "b": e.add_offer(
            w.seller_id, "Talerz", external_id="SKU-B", quantity=2, price="30"
        ),
        "c": e.add_offer(w.seller_id, "Draft", external_id="SKU-C", status="INACTIVE"),
        "auc": e.add_offer(w.seller_id, "Zegarek", format="AUCTION", price="50"),
    }


def test_wrong_accept_is_406(world: World) -> None:
    resp = world.api.get("/me", headers={"Accept": "application/json"})
    assert resp.status_code == 406
    err = resp.json()["errors"][0]
    assert err["code"] == "NotAcceptableException"
    assert "Trace-Id" in resp.headers


def test_list_offers_filters(world: World) -> None:
    ids = seed_offers(world)
    other = world.emu.add_seller("shop-2")
    world.emu.add_offer(other, "Obcy", external_id="SKU-A")
    got = world.api.get(
        "/sale/offers", params={"external.id": ["SKU-A", "SKU-B"]}
    ).json()
    assert sorted(o["id"] for o in got["offers"]) == sorted([ids["a"], ids["b"]])
    assert got["totalCount"] == 2
    got = world.api.get(
        "/sale/offers", params={"publication.status": "INACTIVE"}
    ).json()
    assert [o["id"] for o in got["offers"]] == [ids["c"]]
    got = world.api.get("/sale/offers", params={"sellingMode.format": "AUCTION"}).json()
    assert [o["id"] for o in got["offers"]] == [ids["auc"]]
    assert got["offers"][0]["sellingMode"]["startingPrice"] == {
        "amount": "50.00",
        "currency": "PLN",
    }
    got = world.api.get("/sale/offers", params={"limit": 2, "offset": 1}).json()
    assert got["count"] == 2
    assert got["totalCount"] == 4
    # default order: newest first
    assert [o["id"] for o in got["offers"]] == [ids["c"], ids["b"]]


def test_list_offers_limit_bounds(world: World) -> None:
    assert world.api.get("/sale/offers", params={"limit": 1000}).status_code == 200
    bad = world.api.get("/sale/offers", params={"limit": 1001})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["path"] == "limit"
    too_many = {"external.id": [f"X{i}" for i in range(101)]}
    assert world.api.get("/sale/offers", params=too_many).status_code == 400


def test_product_offer_get_and_parts(world: World) -> None:
    ids = seed_offers(world)
    body = world.api.get(f"/sale/product-offers/{ids['a']}").json()
    assert body["stock"] == {"available": 5, "unit": "UNIT"}
    assert body["sellingMode"]["price"] == {"amount": "10.00", "currency": "PLN"}
    assert body["external"] == {"id": "SKU-A"}
    parts = world.api.get(
        f"/sale/product-offers/{ids['a']}/parts", params={"include": ["stock", "price"]}
    ).json()
    assert parts == {
        "id": ids["a"],
        "stock": {"available": 5},
        "sellingMode": {"price": {"amount": "10.00", "currency": "PLN"}},
    }
    assert world.api.get(f"/sale/product-offers/{ids['a']}/parts").status_code == 400


def test_foreign_and_unknown_offers(world: World) -> None:
    other = world.emu.add_seller("shop-2")
    foreign = world.emu.add_offer(other, "Obcy")
    assert world.api.get(f"/sale/product-offers/{foreign}").status_code == 403
    missing = world.api.get("/sale/product-offers/999")
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["code"] == "OfferNotFoundException"


def test_patch_stock_zero_ends_active_offer(world: World) -> None:
    ids = seed_offers(world)
    resp = patch_json(
        world.api, f"/sale/product-offers/{ids['a']}", {"stock": {"available": 0}}
    )
    assert resp.status_code == 200
    pub = resp.json()["publication"]
    assert pub["status"] == "ENDED"
    events = world.api.get("/sale/offer-events").json()["offerEvents"]
    assert [e["type"] for e in events] == ["OFFER_STOCK_CHANGED", "OFFER_ENDED"]
    assert events[1]["offer"]["publication"] == {"endedBy": "USER"}


def test_patch_price_and_stock_emit_events_and_persist(world: World) -> None:
    ids = seed_offers(world)
    body = {
        "stock": {"available": 9},
        "sellingMode": {"price": {"amount": "12.5", "currency": "PLN"}},
    }
    resp = patch_json(world.api, f"/sale/product-offers/{ids['a']}", body)
    assert resp.status_code == 200
    assert resp.json()["stock"]["available"] == 9
    assert resp.json()["sellingMode"]["price"]["amount"] == "12.50"
    types = [
        e["type"] for e in world.api.get("/sale/offer-events").json()["offerEvents"]
    ]
    assert types == ["OFFER_PRICE_CHANGED", "OFFER_STOCK_CHANGED"]


def test_patch_negative_stock_and_unknown_field(world: World) -> None:
    ids = seed_offers(world)
    url = f"/sale/product-offers/{ids['a']}"
    neg = patch_json(world.api, url, {"stock": {"available": -1}})
    assert neg.status_code == 422
    assert (
        neg.json()["errors"][0]["code"]
        == "AvailableStockMustEqualToZeroOrBeGreaterThanZero"
    )
    unknown = patch_json(world.api, url, {"stoc": {"available": 1}})
    assert unknown.status_code == 400
    assert unknown.json()["errors"][0]["code"] == "UnknownJSONProperty"
    assert world.emu.offer(ids["a"])["stock"]["available"] == 5


def test_patch_without_vendor_content_type_is_415(world: World) -> None:
    ids = seed_offers(world)
    resp = world.api.patch(
        f"/sale/product-offers/{ids['a']}", json={"stock": {"available": 1}}
    )
    assert resp.status_code == 415


def test_patch_reactivate_needs_stock(world: World) -> None:
    ids = seed_offers(world)
    url = f"/sale/product-offers/{ids['b']}"
    patch_json(world.api, url, {"stock": {"available": 0}})
    refused = patch_json(world.api, url, {"publication": {"status": "ACTIVE"}})
    assert refused.status_code == 422
    code = refused.json()["errors"][0]["code"]
    assert code == "AvailableStockMustEqualToOneOrBeGreaterThanOne"
    ok = patch_json(
        world.api, url, {"stock": {"available": 3}, "publication": {"status": "ACTIVE"}}
    )
    assert ok.status_code == 200
    assert ok.json()["publication"]["status"] == "ACTIVE"
    assert ok.json()["id"] == ids["b"]


def test_ended_auction_cannot_be_edited_or_reactivated(world: World) -> None:
    ids = seed_offers(world)
    url = f"/sale/product-offers/{ids['auc']}"
    patch_json(world.api, url, {"publication": {"status": "ENDED"}})
    resp = patch_json(world.api, url, {"publication": {"status": "ACTIVE"}})
    assert resp.status_code == 422
    assert resp.json()["errors"][0]["code"] == (
        "IllegalOfferUpdateException.IllegalEndedOfferUpdate"
    )


def test_auction_with_bids_freezes_name_and_price(world: World) -> None:
    ids = seed_offers(world)
    world.emu.bid(ids["auc"], "55", "bidder1")
    url = f"/sale/product-offers/{ids['auc']}"
    assert patch_json(world.api, url, {"name": "Nowa nazwa aukcji"}).json()["errors"][
        0
    ]["code"] == ("IllegalChangeOfferName")
    price = {"sellingMode": {"startingPrice": {"amount": "1", "currency": "PLN"}}}
    assert patch_json(world.api, url, price).status_code == 422
    listing = world.api.get("/sale/offers", params={"offer.id": ids["auc"]}).json()[
        "offers"
    ][0]
    assert listing["saleInfo"] == {
        "biddersCount": 1,
        "currentPrice": {"amount": "55.00", "currency": "PLN"},
    }


def test_archived_after_60_days_is_404_and_hidden(world: World) -> None:
    ids = seed_offers(world)
    patch_json(
        world.api,
        f"/sale/product-offers/{ids['b']}",
        {"publication": {"status": "ENDED"}},
    )
    world.emu.clock.advance(days=59, hours=23)
    world.reauth()
    assert world.api.get(f"/sale/product-offers/{ids['b']}").status_code == 200
    world.emu.clock.advance(hours=1)
    assert world.api.get(f"/sale/product-offers/{ids['b']}").status_code == 404
    listed = world.api.get("/sale/offers").json()["offers"]
    assert ids["b"] not in [o["id"] for o in listed]


def test_post_product_offer_relists_auction_as_new_offer(world: World) -> None:
    ids = seed_offers(world)
    patch_json(
        world.api,
        f"/sale/product-offers/{ids['auc']}",
        {"publication": {"status": "ENDED"}},
    )
    body = {
        "name": "Zegarek",
        "sellingMode": {
            "format": "AUCTION",
            "startingPrice": {"amount": "45.00", "currency": "PLN"},
        },
        "stock": {"available": 1},
        "external": {"id": "SKU-W"},
        "publication": {"status": "ACTIVE", "duration": "P3D"},
    }
    resp = post_json(world.api, "/sale/product-offers", body)
    assert resp.status_code == 201, resp.text
    new = resp.json()
    assert new["id"] != ids["auc"]
    assert new["publication"]["status"] == "ACTIVE"
    assert new["sellingMode"]["startingPrice"]["amount"] == "45.00"
    # the auction expires after its duration
    world.emu.clock.advance(days=3)
    world.reauth()
    assert (
        world.api.get(f"/sale/product-offers/{new['id']}").json()["publication"][
            "status"
        ]
        == "ENDED"
    )


def test_post_product_offer_validation(world: World) -> None:
    resp = post_json(world.api, "/sale/product-offers", {"name": "X"})
    assert resp.status_code == 422
    assert resp.json()["errors"][0]["path"] == "sellingMode.price"


def test_offer_events_from_cursor_and_24h_retention(world: World) -> None:
    ids = seed_offers(world)
    for qty in (4, 3, 2):
        patch_json(
            world.api, f"/sale/product-offers/{ids['a']}", {"stock": {"available": qty}}
        )
    events = world.api.get("/sale/offer-events").json()["offerEvents"]
    assert len(events) == 3
    after = world.api.get("/sale/offer-events", params={"from": events[0]["id"]}).json()
    assert [e["id"] for e in after["offerEvents"]] == [events[1]["id"], events[2]["id"]]
    limited = world.api.get("/sale/offer-events", params={"limit": 1}).json()[
        "offerEvents"
    ]
    assert len(limited) == 1
    world.emu.clock.advance(hours=24)
    world.reauth()
    assert world.api.get("/sale/offer-events").json()["offerEvents"] == []


def test_offer_events_filter_by_type_and_bad_cursor(world: World) -> None:
    ids = seed_offers(world)
    world.emu.bid(ids["auc"], "50", "bidder")
    patch_json(
        world.api, f"/sale/product-offers/{ids['a']}", {"stock": {"available": 1}}
    )
    got = world.api.get(
        "/sale/offer-events", params={"type": "OFFER_BID_PLACED"}
    ).json()
    assert [e["type"] for e in got["offerEvents"]] == ["OFFER_BID_PLACED"]
    assert "external" not in got["offerEvents"][0]["offer"]
    assert world.api.get("/sale/offer-events", params={"from": "!!"}).status_code == 400


def test_offer_sold_count_is_last_30_days(world: World) -> None:
    ids = seed_offers(world)
    world.emu.purchase(ids["a"], 2)
    listing = world.api.get("/sale/offers", params={"offer.id": ids["a"]}).json()[
        "offers"
    ][0]
    assert listing["stock"] == {"available": 3, "sold": 2}
    world.emu.clock.advance(days=31)
    world.reauth()
    listing = world.api.get("/sale/offers", params={"offer.id": ids["a"]}).json()[
        "offers"
    ][0]
    assert listing["stock"]["sold"] == 0


def test_scheduled_clock_start_is_respected() -> None:
    w = make_world()
    assert w.emu.clock.now().isoformat() == "2026-03-02T10:00:00+00:00"
    w.emu.clock.advance(timedelta(minutes=1).total_seconds())
    assert w.emu.clock.now().minute == 1
    assert MEDIA_TYPE == "application/vnd.allegro.public.v1+json"


def test_post_active_with_zero_stock_creates_nothing(world: World) -> None:
    body = {
        "name": "Pusty",
        "sellingMode": {"price": {"amount": "5.00", "currency": "PLN"}},
        "stock": {"available": 0},
        "publication": {"status": "ACTIVE"},
    }
    resp = post_json(world.api, "/sale/product-offers", body)
    assert resp.status_code == 422
    assert world.api.get("/sale/offers").json()["totalCount"] == 0


def test_purchase_requires_active_buy_now_with_stock(world: World) -> None:
    import pytest

    from allegro_emulator import ControlError

    draft = world.emu.add_offer(world.seller_id, "D", status="INACTIVE")
    auction = world.emu.add_offer(world.seller_id, "A", format="AUCTION")
    small = world.emu.add_offer(world.seller_id, "S", quantity=1)
    for offer_id, qty in ((draft, 1), (auction, 1), (small, 2)):
        with pytest.raises(ControlError):
            world.emu.purchase(offer_id, qty)
    assert world.emu.checkout_forms == {}
    assert world.api.get("/order/events").json() == {"events": []}


def test_untouched_draft_is_deleted_after_60_days(world: World) -> None:
    draft = world.emu.add_offer(world.seller_id, "Draft", status="INACTIVE")
    world.emu.advance(days=60)
    world.reauth()
    assert world.api.get(f"/sale/product-offers/{draft}").status_code == 404
    assert world.api.get("/sale/offer-events").json() == {"offerEvents": []}


def test_patch_async_mode_202_operation_and_409(world_factory) -> None:
    w = world_factory(patch_async_seconds=3)
    oid = w.emu.add_offer(w.seller_id, "A", quantity=5)
    url = f"/sale/product-offers/{oid}"
    resp = patch_json(w.api, url, {"stock": {"available": 9}})
    assert resp.status_code == 202
    assert resp.headers["Retry-After"] == "3"
    assert resp.json()["stock"]["available"] == 5  # not applied yet
    location = resp.headers["Location"]
    assert location.startswith(f"http://allegro.emulator{url}/operations/")
    conflict = patch_json(w.api, url, {"stock": {"available": 1}})
    assert conflict.status_code == 409
    assert conflict.json()["errors"][0]["code"] == "OfferConflictException"
    pending = w.api.get(location)
    assert pending.status_code == 202
    assert pending.json()["operation"]["status"] == "IN_PROGRESS"
    w.emu.clock.advance(seconds=3)
    done = w.api.get(location)
    assert done.status_code == 303
    assert done.headers["Location"] == f"http://allegro.emulator{url}"
    assert w.api.get(url).json()["stock"]["available"] == 9
    assert patch_json(w.api, url, {"stock": {"available": 4}}).status_code == 202


def test_patch_validation_happens_before_anything_changes(world: World) -> None:
    oid = world.emu.add_offer(world.seller_id, "A", quantity=5, status="ENDED")
    body = {
        "stock": {"available": 0},
        "publication": {"status": "ACTIVE"},
        "name": "Kubek ceramiczny B",
    }
    resp = patch_json(world.api, f"/sale/product-offers/{oid}", body)
    assert resp.status_code == 422
    offer = world.emu.offer(oid)
    assert (offer["stock"]["available"], offer["name"]) == (5, "A")


def test_invalid_offer_filters_ids_names_and_amounts_are_refused(
    world: World,
) -> None:
    ids = seed_offers(world)
    url = f"/sale/product-offers/{ids['a']}"
    listed = world.api.get("/sale/offers", params={"publication.status": "LIVE"})
    assert listed.status_code == 400
    assert listed.json()["errors"][0]["path"] == "publication.status"
    assert listed.headers["content-type"] == MEDIA_TYPE
    events = world.api.get("/sale/offer-events", params={"type": "OFFER_SOLD"})
    assert events.status_code == 400
    assert events.json()["errors"][0]["path"] == "type"
    # SPEC getOfferEvents declares its 400 as application/json.
    assert events.headers["content-type"] == "application/json"
    for path in ("/sale/product-offers/abc", "/sale/product-offers/12a/parts"):
        malformed = world.api.get(path, params={"include": "stock"})
        assert malformed.status_code == 400, path
        assert malformed.json()["errors"][0]["path"] == "offerId"
    assert world.api.get("/sale/product-offers/1").status_code == 404
    for name in ("Kubek duży", "K" * 76, "Kubek 300 ml"[:11]):
        refused = patch_json(world.api, url, {"name": name})
        assert refused.status_code == 422, name
        assert refused.json()["errors"][0]["path"] == "name"
    price = {"sellingMode": {"price": {"amount": 12.5, "currency": "PLN"}}}
    refused = patch_json(world.api, url, price)
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["path"] == "sellingMode.price.amount"
    offer = world.emu.offer(ids["a"])
    assert (offer["name"], offer["sellingMode"]["price"]["amount"]) == (
        "Kubek",
        "10.00",
    )
    # At the limits, and a string amount, are taken.
    for name in ("K" * 12, "K" * 75):
        assert patch_json(world.api, url, {"name": name}).status_code == 200
    price["sellingMode"]["price"]["amount"] = "12.50"  # type: ignore[index]
    assert patch_json(world.api, url, price).status_code == 200
    assert world.emu.offer(ids["a"])["sellingMode"]["price"]["amount"] == "12.50"


def test_401_carries_the_media_type_the_spec_declares(world: World) -> None:
    ids = seed_offers(world)
    stranger = world.client_for("nobody")
    vendor = stranger.get(f"/sale/product-offers/{ids['a']}")
    plain = stranger.get("/sale/offer-events")
    undeclared = stranger.get("/order/events")
    assert [r.status_code for r in (vendor, plain, undeclared)] == [401, 401, 401]
    assert vendor.headers["content-type"] == MEDIA_TYPE
    assert plain.headers["content-type"] == "application/json"
    assert undeclared.headers["content-type"] == "application/json"
    assert vendor.json()["error"] == "invalid_token"
