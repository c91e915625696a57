from __future__ import annotations

from decimal import Decimal

from .conftest import World, put_json


def offer(w: World, qty: int = 10, ext: str | None = "SKU-1") -> str:
    return w.emu.add_offer(
        w.seller_id, "Kubek", external_id=ext, quantity=qty, price="19.99"
    )


def test_checkout_form_lifecycle_and_shape(world: World) -> None:
    oid = offer(world)
    cf_id = world.emu.purchase(oid, 2, buyer="kupujacy1")
    cf = world.api.get(f"/order/checkout-forms/{cf_id}").json()
    assert cf["status"] == "BOUGHT"
    assert cf["buyer"]["login"] == "kupujacy1"
    assert "address" not in cf["delivery"]  # only shown from READY_FOR_PROCESSING
    li = cf["lineItems"][0]
    assert li["offer"] == {"id": oid, "name": "Kubek", "external": {"id": "SKU-1"}}
    assert li["quantity"] == 2
    assert li["price"] == {"amount": "19.99", "currency": "PLN"}
    assert cf["summary"]["totalToPay"] == {"amount": "39.98", "currency": "PLN"}
    rev1 = cf["revision"]
    world.emu.fill_in(cf_id)
    cf = world.api.get(f"/order/checkout-forms/{cf_id}").json()
    assert cf["status"] == "FILLED_IN"
    assert cf["revision"] != rev1
    world.emu.pay(cf_id)
    cf = world.api.get(f"/order/checkout-forms/{cf_id}").json()
    assert cf["status"] == "READY_FOR_PROCESSING"
    assert cf["delivery"]["address"]["city"]
    assert cf["payment"]["paidAmount"] == cf["summary"]["totalToPay"]
    types = [e["type"] for e in world.api.get("/order/events").json()["events"]]
    assert types == ["BOUGHT", "FILLED_IN", "READY_FOR_PROCESSING"]


def test_cancel_emits_buyer_cancelled(world: World) -> None:
    cf_id = world.emu.purchase(offer(world))
    world.emu.cancel(cf_id)
    cf = world.api.get(f"/order/checkout-forms/{cf_id}").json()
    assert cf["status"] == "CANCELLED"
    types = [e["type"] for e in world.api.get("/order/events").json()["events"]]
    assert types == ["BOUGHT", "BUYER_CANCELLED"]


def test_last_unit_ends_offer_with_empty_stock(world: World) -> None:
    oid = offer(world, qty=1)
    world.emu.purchase(oid)
    assert world.emu.offer(oid)["publication"] == {
        **world.emu.offer(oid)["publication"],
        "status": "ENDED",
        "endedBy": "EMPTY_STOCK",
    }
    offer_events = world.api.get("/sale/offer-events").json()["offerEvents"]
    assert [e["type"] for e in offer_events] == ["OFFER_STOCK_CHANGED", "OFFER_ENDED"]


def test_checkout_form_errors(world: World) -> None:
    assert world.api.get("/order/checkout-forms/not-a-uuid").status_code == 422
    missing = world.api.get(
        "/order/checkout-forms/9a0b6a4e-1111-4c1c-8c8c-000000000000"
    )
    assert missing.status_code == 404
    other = world.emu.add_seller("shop-2")
    foreign = world.emu.purchase(world.emu.add_offer(other, "Obcy"))
    assert world.api.get(f"/order/checkout-forms/{foreign}").status_code == 404


def test_events_oldest_first_after_from_with_limit(world: World) -> None:
    oid = offer(world)
    for _ in range(3):
        world.emu.purchase(oid)
    events = world.api.get("/order/events").json()["events"]
    ids = [e["id"] for e in events]
    assert all(isinstance(i, str) for i in ids)
    assert [int(i) for i in ids] == sorted(int(i) for i in ids)
    after = world.api.get("/order/events", params={"from": ids[0], "limit": 1}).json()
    assert [e["id"] for e in after["events"]] == [ids[1]]
    assert world.api.get("/order/events", params={"from": ids[-1]}).json() == {
        "events": []
    }
    stats = world.api.get("/order/event-stats").json()
    assert stats["latestEvent"]["id"] == ids[-1]
    assert world.api.get("/order/events", params={"limit": 1001}).status_code == 422
    assert world.api.get("/order/events", params={"from": "abc"}).status_code == 422


def test_event_type_filter_and_other_seller_isolated(world: World) -> None:
    cf_id = world.emu.purchase(offer(world))
    world.emu.pay(cf_id)
    other = world.emu.add_seller("shop-2")
    world.emu.purchase(world.emu.add_offer(other, "Obcy"))
    got = world.api.get("/order/events", params={"type": "READY_FOR_PROCESSING"}).json()
    assert [e["type"] for e in got["events"]] == ["READY_FOR_PROCESSING"]
    assert got["events"][0]["order"]["checkoutForm"]["id"] == cf_id
    assert len(world.api.get("/order/events").json()["events"]) == 3


def test_events_retention_60_days(world: World) -> None:
    oid = offer(world)
    world.emu.purchase(oid)
    first = world.api.get("/order/events").json()["events"][0]["id"]
    world.emu.clock.advance(days=30)
    world.emu.purchase(oid)
    world.emu.clock.advance(days=30)
    world.reauth()
    events = world.api.get("/order/events").json()["events"]
    assert len(events) == 1
    assert events[0]["id"] != first
    # a cursor older than retention yields the oldest events still kept
    assert (
        world.api.get("/order/events", params={"from": first}).json()["events"]
        == events
    )


def test_duplicate_and_out_of_order_injection(world: World) -> None:
    cf_id = world.emu.purchase(offer(world))
    world.emu.pay(cf_id)  # BOUGHT, FILLED_IN, READY_FOR_PROCESSING
    world.emu.inject_out_of_order(2)
    types = [e["type"] for e in world.api.get("/order/events").json()["events"]]
    assert types == ["BOUGHT", "READY_FOR_PROCESSING", "FILLED_IN"]
    new_ids = world.emu.inject_duplicate_events(1, checkout_form_id=cf_id)
    events = world.api.get("/order/events").json()["events"]
    assert [e["id"] for e in events][-1] == new_ids[0]
    assert events[-1]["type"] == "FILLED_IN"
    ids = [int(e["id"]) for e in events]
    assert ids == sorted(ids)
    assert len(set(ids)) == 4


def test_list_filters_sort_and_paging(world: World) -> None:
    oid = offer(world)
    a = world.emu.purchase(oid, buyer="ala")
    world.emu.clock.advance(seconds=60)
    b = world.emu.purchase(oid, buyer="ola")
    world.emu.pay(b)
    got = world.api.get("/order/checkout-forms").json()
    assert [cf["id"] for cf in got["checkoutForms"]] == [b, a]  # newest first
    assert got["count"] == 2
    assert got["totalCount"] == 2
    asc = world.api.get(
        "/order/checkout-forms", params={"sort": "lineItems.boughtAt"}
    ).json()
    assert [cf["id"] for cf in asc["checkoutForms"]] == [a, b]
    st = world.api.get(
        "/order/checkout-forms", params={"status": "READY_FOR_PROCESSING"}
    )
    assert [cf["id"] for cf in st.json()["checkoutForms"]] == [b]
    since = world.api.get(
        "/order/checkout-forms",
        params={"lineItems.boughtAt.gte": "2026-03-02T10:00:30Z"},
    ).json()
    assert [cf["id"] for cf in since["checkoutForms"]] == [b]
    upd = world.api.get(
        "/order/checkout-forms", params={"updatedAt.lte": "2026-03-02T10:00:30.000Z"}
    ).json()
    assert [cf["id"] for cf in upd["checkoutForms"]] == [a]
    login = world.api.get("/order/checkout-forms", params={"buyer.login": "ala"}).json()
    assert [cf["id"] for cf in login["checkoutForms"]] == [a]
    page = world.api.get(
        "/order/checkout-forms", params={"limit": 1, "offset": 1}
    ).json()
    assert [cf["id"] for cf in page["checkoutForms"]] == [a]
    assert page["count"] == 1
    assert page["totalCount"] == 2


def test_offset_limit_cap_is_422(world: World) -> None:
    ok = world.api.get("/order/checkout-forms", params={"offset": 9900, "limit": 100})
    assert ok.status_code == 200
    bad = world.api.get("/order/checkout-forms", params={"offset": 9901, "limit": 100})
    assert bad.status_code == 422
    err = bad.json()["errors"][0]
    assert err["code"] == "VALIDATION_ERROR"
    assert err["message"] == (
        "Offset and limit parameters exceed maximal result size of 10000 items"
    )
    assert (
        world.api.get("/order/checkout-forms", params={"limit": 101}).status_code == 422
    )


def test_fulfillment_update_with_revision(world: World) -> None:
    cf_id = world.emu.purchase(offer(world))
    world.emu.pay(cf_id)
    rev = world.api.get(f"/order/checkout-forms/{cf_id}").json()["revision"]
    url = f"/order/checkout-forms/{cf_id}/fulfillment"
    ok = put_json(
        world.api, f"{url}?checkoutForm.revision={rev}", {"status": "PROCESSING"}
    )
    assert ok.status_code == 204
    assert ok.content == b""
    cf = world.api.get(f"/order/checkout-forms/{cf_id}").json()
    assert cf["fulfillment"]["status"] == "PROCESSING"
    assert cf["revision"] != rev
    stale = put_json(
        world.api, f"{url}?checkoutForm.revision={rev}", {"status": "SENT"}
    )
    assert stale.status_code == 409
    assert (
        world.api.get(f"/order/checkout-forms/{cf_id}").json()["fulfillment"]["status"]
        == "PROCESSING"
    )
    assert put_json(world.api, url, {"status": "RETURNED"}).status_code == 422
    assert put_json(world.api, url, {"status": "NOPE"}).status_code == 422
    types = [e["type"] for e in world.api.get("/order/events").json()["events"]]
    assert types[-1] == "FULFILLMENT_STATUS_CHANGED"
    assert types.count("FULFILLMENT_STATUS_CHANGED") == 1


def test_event_stats_empty(world: World) -> None:
    assert world.api.get("/order/event-stats").json() == {}


def test_delivery_is_chosen_when_filled_in_and_always_in_the_total(
    world: World,
) -> None:
    oid = offer(world)
    cf_id = world.emu.purchase(oid, 2)  # 2 × 19.99

    bought = world.api.get(f"/order/checkout-forms/{cf_id}").json()
    # BOUGHT: the buyer has not filled in the form, no delivery chosen yet.
    assert bought["delivery"] == {"smart": False, "calculatedNumberOfPackages": 1}
    assert bought["summary"]["totalToPay"] == {"amount": "39.98", "currency": "PLN"}

    world.emu.fill_in(cf_id)
    filled = world.api.get(f"/order/checkout-forms/{cf_id}").json()
    method, cost = filled["delivery"]["method"], filled["delivery"]["cost"]
    assert (method["name"], cost) in [
        ("Allegro Paczkomaty InPost", {"amount": "15.99", "currency": "PLN"}),
        ("Allegro Kurier DPD", {"amount": "17.99", "currency": "PLN"}),
    ]
    total = f"{Decimal('39.98') + Decimal(cost['amount']):.2f}"
    assert filled["summary"]["totalToPay"] == {"amount": total, "currency": "PLN"}

    world.emu.pay(cf_id)
    paid = world.api.get(f"/order/checkout-forms/{cf_id}").json()
    assert (paid["delivery"]["method"], paid["delivery"]["cost"]) == (method, cost)
    assert paid["summary"]["totalToPay"] == {"amount": total, "currency": "PLN"}
    assert paid["payment"]["paidAmount"] == {"amount": total, "currency": "PLN"}


def test_cancelled_before_filling_in_has_no_delivery(world: World) -> None:
    cf_id = world.emu.purchase(offer(world))
    world.emu.cancel(cf_id)

    cf = world.api.get(f"/order/checkout-forms/{cf_id}").json()

    assert cf["status"] == "CANCELLED"
    assert cf["delivery"] == {"smart": False, "calculatedNumberOfPackages": 1}
    assert cf["summary"]["totalToPay"] == {"amount": "19.99", "currency": "PLN"}


def test_paying_a_bought_form_fills_it_in_with_a_delivery(world: World) -> None:
    cf_id = world.emu.purchase(offer(world))
    world.emu.pay(cf_id)  # straight from BOUGHT

    cf = world.api.get(f"/order/checkout-forms/{cf_id}").json()

    cost = Decimal(cf["delivery"]["cost"]["amount"])
    assert cost in (Decimal("15.99"), Decimal("17.99"))
    assert Decimal(cf["summary"]["totalToPay"]["amount"]) == Decimal("19.99") + cost
    assert cf["payment"]["paidAmount"] == cf["summary"]["totalToPay"]


def test_invalid_enum_filters_and_dates_without_offset_are_refused(
    world: World,
) -> None:
    world.emu.purchase(offer(world))
    cases = [
        ("/order/checkout-forms", {"status": "PAID"}, 400, "status"),
        ("/order/checkout-forms", {"fulfillment.status": "DONE"}, 400, None),
        ("/order/events", {"type": "PAID"}, 422, "type"),
        (
            "/order/checkout-forms",
            {"updatedAt.gte": "2026-03-02T10:00:00"},
            400,
            "updatedAt.gte",
        ),
        (
            "/order/checkout-forms",
            {"lineItems.boughtAt.lte": "2026-03-02T10:00:00.000"},
            400,
            "lineItems.boughtAt.lte",
        ),
    ]
    for path, params, status, field in cases:
        response = world.api.get(path, params=params)
        assert response.status_code == status, (path, params)
        error = response.json()["errors"][0]
        assert error["code"] == "VALIDATION_ERROR"
        assert error["path"] == (field or next(iter(params)))
    # Valid values still answer.
    ok = world.api.get(
        "/order/checkout-forms",
        params={"status": "BOUGHT", "updatedAt.gte": "2026-03-02T10:00:00+01:00"},
    )
    assert ok.status_code == 200
    assert ok.json()["count"] == 1
    events = world.api.get(
        "/order/events", params={"type": ["BOUGHT", "BUYER_MODIFIED"]}
    )
    assert [e["type"] for e in events.json()["events"]] == ["BOUGHT"]


def test_lag_list_hides_a_form_from_the_list_for_a_while(world: World) -> None:
    lagging = world.emu.purchase(offer(world))
    shown = world.emu.purchase(offer(world))
    world.emu.lag_list(lagging, 30)

    def listed() -> list[str]:
        body = world.api.get("/order/checkout-forms").json()
        return sorted(form["id"] for form in body["checkoutForms"])

    assert listed() == [shown]
    # By id and in the events it is there all the time.
    assert world.api.get(f"/order/checkout-forms/{lagging}").status_code == 200
    events = world.api.get("/order/events").json()["events"]
    assert lagging in {e["order"]["checkoutForm"]["id"] for e in events}
    world.emu.advance(29)
    assert listed() == [shown]
    world.emu.advance(1)
    assert listed() == sorted([lagging, shown])
