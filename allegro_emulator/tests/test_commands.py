from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from .conftest import World, put_json

QTY = "/sale/offer-quantity-change-commands"
PUB = "/sale/offer-publication-commands"


def qty_body(offer_ids: list[str], change: str, value: int) -> dict[str, Any]:
    return {
        "modification": {"changeType": change, "value": value},
        "offerCriteria": [
            {"type": "CONTAINS_OFFERS", "offers": [{"id": i} for i in offer_ids]}
        ],
    }


def pub_body(
    offer_ids: list[str], action: str, scheduled: str | None = None
) -> dict[str, Any]:
    publication: dict[str, Any] = {"action": action}
    if scheduled:
        publication["scheduledFor"] = scheduled
    return {
        "publication": publication,
        "offerCriteria": [
            {"type": "CONTAINS_OFFERS", "offers": [{"id": i} for i in offer_ids]}
        ],
    }


def run(w: World, base: str, body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    cid = str(uuid.uuid4())
    resp = put_json(w.api, f"{base}/{cid}", body)
    assert resp.status_code == 201, resp.text
    return cid, resp.json()


def tasks(w: World, base: str, cid: str) -> list[dict[str, Any]]:
    return w.api.get(f"{base}/{cid}/tasks").json()["tasks"]


def test_quantity_command_is_async_with_zero_report(world: World) -> None:
    a = world.emu.add_offer(world.seller_id, "A", quantity=5)
    b = world.emu.add_offer(world.seller_id, "B", quantity=2)
    cid, report = run(world, QTY, qty_body([a, b], "FIXED", 7))
    assert report["id"] == cid
    assert report["completedAt"] is None
    assert report["taskCount"] == {"total": 0, "success": 0, "failed": 0}
    # PUT itself changed nothing yet
    assert world.emu.offer(a)["stock"]["available"] == 5
    summary = world.api.get(f"{QTY}/{cid}").json()  # next request processes it
    assert summary["taskCount"] == {"total": 2, "success": 2, "failed": 0}
    assert summary["completedAt"] is not None
    assert [t["status"] for t in tasks(world, QTY, cid)] == ["SUCCESS", "SUCCESS"]
    assert world.emu.offer(b)["stock"]["available"] == 7


def test_command_delay_keeps_tasks_new_until_clock_moves(world_factory) -> None:
    w = world_factory(command_delay_seconds=5)
    a = w.emu.add_offer(w.seller_id, "A", quantity=5)
    cid, _ = run(w, QTY, qty_body([a], "GAIN", 3))
    assert [t["status"] for t in tasks(w, QTY, cid)] == ["NEW"]
    assert w.api.get(f"{QTY}/{cid}").json()["completedAt"] is None
    w.emu.clock.advance(seconds=5)
    assert [t["status"] for t in tasks(w, QTY, cid)] == ["SUCCESS"]
    assert w.emu.offer(a)["stock"]["available"] == 8


def test_process_commands_forces_completion(world_factory) -> None:
    w = world_factory(command_delay_seconds=3600)
    a = w.emu.add_offer(w.seller_id, "A", quantity=5)
    run(w, QTY, qty_body([a], "FIXED", 1))
    assert w.emu.process_commands() == 1
    assert w.emu.offer(a)["stock"]["available"] == 1


def test_fixed_zero_rejected_synchronously(world: World) -> None:
    a = world.emu.add_offer(world.seller_id, "A", quantity=5)
    resp = put_json(world.api, f"{QTY}/{uuid.uuid4()}", qty_body([a], "FIXED", 0))
    assert resp.status_code == 400
    assert resp.json()["errors"][0]["code"] == "INCORRECT_QUANTITY_VALUE"
    assert world.emu.offer(a)["stock"]["available"] == 5


def test_gain_below_one_fails_task(world: World) -> None:
    a = world.emu.add_offer(world.seller_id, "A", quantity=2)
    cid, _ = run(world, QTY, qty_body([a, "404404"], "GAIN", -2))
    got = tasks(world, QTY, cid)
    assert [t["status"] for t in got] == ["FAIL", "FAIL"]
    assert got[0]["errors"][0]["code"] == "INVALID_OFFER_QUANTITY"
    assert got[0]["message"] == "The quantity can not be changed to less than 1."
    assert got[1]["errors"][0]["code"] == "OfferNotFoundException"
    assert world.emu.offer(a)["stock"]["available"] == 2
    summary = world.api.get(f"{QTY}/{cid}").json()
    assert summary["taskCount"] == {"total": 2, "success": 0, "failed": 2}


def test_reused_command_id_is_409(world: World) -> None:
    a = world.emu.add_offer(world.seller_id, "A", quantity=2)
    cid, _ = run(world, QTY, qty_body([a], "FIXED", 3))
    again = put_json(world.api, f"{QTY}/{cid}", qty_body([a], "FIXED", 9))
    assert again.status_code == 409
    world.api.get(f"{QTY}/{cid}")
    assert world.emu.offer(a)["stock"]["available"] == 3


def test_max_1000_offers_per_command(world: World) -> None:
    ids = [str(i) for i in range(1001)]
    resp = put_json(world.api, f"{QTY}/{uuid.uuid4()}", qty_body(ids, "FIXED", 1))
    assert resp.status_code == 422
    ok = put_json(world.api, f"{QTY}/{uuid.uuid4()}", qty_body(ids[:1000], "FIXED", 1))
    assert ok.status_code == 201


def test_unknown_command_is_404_and_task_paging(world: World) -> None:
    assert world.api.get(f"{QTY}/{uuid.uuid4()}").status_code == 404
    a = world.emu.add_offer(world.seller_id, "A", quantity=2)
    cid, _ = run(world, QTY, qty_body([a], "FIXED", 3))
    assert (
        world.api.get(f"{QTY}/{cid}/tasks", params={"limit": 1001}).status_code == 422
    )
    assert world.api.get(f"{QTY}/{cid}/tasks", params={"offset": 1}).json() == {
        "tasks": []
    }


def test_end_then_reactivate_buy_now_under_same_id(world: World) -> None:
    a = world.emu.add_offer(world.seller_id, "A", quantity=2)
    run(world, PUB, pub_body([a], "END"))
    world.api.get("/me")
    assert world.emu.offer(a)["publication"]["status"] == "ENDED"
    assert world.emu.offer(a)["publication"]["endedBy"] == "USER"
    cid, _ = run(world, PUB, pub_body([a], "ACTIVATE"))
    assert [t["status"] for t in tasks(world, PUB, cid)] == ["SUCCESS"]
    assert world.emu.offer(a)["publication"]["status"] == "ACTIVE"
    types = [
        e["type"] for e in world.api.get("/sale/offer-events").json()["offerEvents"]
    ]
    assert types == ["OFFER_ENDED", "OFFER_ACTIVATED"]


def test_activate_refusals(world: World) -> None:
    emu = world.emu
    old = emu.add_offer(world.seller_id, "Old", quantity=3, status="ENDED")
    emu.clock.advance(days=61)
    world.reauth()
    empty = emu.add_offer(world.seller_id, "Empty", quantity=0, status="ENDED")
    auction = emu.add_offer(world.seller_id, "Auc", format="AUCTION", status="ENDED")
    cid, _ = run(world, PUB, pub_body([empty, auction, old], "ACTIVATE"))
    got = tasks(world, PUB, cid)
    assert [t["status"] for t in got] == ["FAIL", "FAIL", "FAIL"]
    assert [t["errors"][0]["code"] for t in got] == [
        "AvailableStockMustEqualToOneOrBeGreaterThanOne",
        "IllegalOfferUpdateException.IllegalEndedOfferUpdate",
        "OfferNotFoundException",
    ]
    assert world.api.get(f"/sale/product-offers/{old}").status_code == 404
    assert emu.offer(empty)["publication"]["status"] == "ENDED"


def test_scheduled_activation(world: World) -> None:
    a = world.emu.add_offer(world.seller_id, "A", quantity=2, status="INACTIVE")
    run(world, PUB, pub_body([a], "ACTIVATE", "2026-03-02T12:00:00Z"))
    world.api.get("/me")
    assert world.emu.offer(a)["publication"]["status"] == "ACTIVATING"
    world.emu.clock.advance(hours=2)
    world.api.get("/me")
    assert world.emu.offer(a)["publication"]["status"] == "ACTIVE"


def test_schedule_in_the_past_rejected(world: World) -> None:
    a = world.emu.add_offer(world.seller_id, "A", quantity=2, status="INACTIVE")
    body = pub_body([a], "ACTIVATE", "2026-03-01T12:00:00Z")
    resp = put_json(world.api, f"{PUB}/{uuid.uuid4()}", body)
    assert resp.status_code == 422
    assert resp.json()["errors"][0]["message"] == (
        "You cannot schedule activating an offer in the past"
    )


def test_end_auction_with_bids_sells_to_top_bidder(world: World) -> None:
    emu = world.emu
    auc = emu.add_offer(world.seller_id, "Zegarek", format="AUCTION", price="50")
    emu.bid(auc, "50", "alice")
    emu.bid(auc, "61", "bob")
    run(world, PUB, pub_body([auc], "END"))
    events = world.api.get("/order/events").json()["events"]
    assert [e["type"] for e in events] == ["BOUGHT"]
    cf = world.api.get(
        f"/order/checkout-forms/{events[0]['order']['checkoutForm']['id']}"
    )
    body = cf.json()
    assert body["buyer"]["login"] == "bob"
    assert body["lineItems"][0]["price"] == {"amount": "61.00", "currency": "PLN"}
    assert body["lineItems"][0]["offer"]["id"] == auc
    assert emu.offer(auc)["publication"]["status"] == "ENDED"


def test_end_auction_without_bids_creates_no_order(world: World) -> None:
    auc = world.emu.add_offer(world.seller_id, "Zegarek", format="AUCTION", price="50")
    run(world, PUB, pub_body([auc], "END"))
    assert world.api.get("/order/events").json()["events"] == []
    assert world.emu.offer(auc)["publication"]["status"] == "ENDED"


def test_auction_expiry_with_bid_sells(world: World) -> None:
    auc = world.emu.add_offer(
        world.seller_id, "Z", format="AUCTION", price="5", duration="P1D"
    )
    world.emu.bid(auc, "7", "carol")
    world.emu.advance(days=1)
    world.reauth()
    events = world.api.get("/order/events").json()["events"]
    assert [e["type"] for e in events] == ["BOUGHT"]
    assert world.emu.offer(auc)["publication"]["endedBy"] == "EXPIRATION"


MOD = "/sale/offer-modification-commands"


def mod_body(offer_ids: list[str], **publication: Any) -> dict[str, Any]:
    return {
        "modification": {"publication": publication},
        "offerCriteria": [
            {"type": "CONTAINS_OFFERS", "offers": [{"id": i} for i in offer_ids]}
        ],
    }


def test_duration_command_follows_which_changes_allegro_allows(world: World) -> None:
    emu, sid = world.emu, world.seller_id
    ended = emu.add_offer(sid, "Ended", quantity=2, status="ENDED")
    live = emu.add_offer(sid, "Live", quantity=2, duration="P10D")
    auction = emu.add_offer(sid, "Auction", format="AUCTION", duration="P7D")
    emu.end_offer(auction)
    cid, _ = run(world, MOD, mod_body([ended, live, auction], duration="P10D"))
    world.api.get(f"{MOD}/{cid}")  # processes it
    outcome = {t["offer"]["id"]: t for t in tasks(world, MOD, cid)}
    assert outcome[ended]["status"] == "SUCCESS"
    assert outcome[ended]["field"] == "publication.duration"
    # TUT-OFFERS: an active Buy Now offer only to "until sold out"; auctions never.
    assert outcome[live]["status"] == "FAIL"
    assert outcome[auction]["status"] == "FAIL"
    assert outcome[auction]["errors"][0]["code"] == "IllegalDurationChange"
    assert emu.offer(ended)["publication"]["duration"] == "P10D"
    assert emu.offer(live)["publication"]["duration"] == "P10D"
    cid, _ = run(world, MOD, mod_body([live], durationUnlimited=True))
    world.api.get(f"{MOD}/{cid}")
    assert [t["status"] for t in tasks(world, MOD, cid)] == ["SUCCESS"]
    assert "duration" not in emu.offer(live)["publication"]


def test_duration_then_activate_runs_for_that_duration(world: World) -> None:
    emu = world.emu
    ended = emu.add_offer(world.seller_id, "Ended", quantity=2, status="ENDED")
    run(world, MOD, mod_body([ended], duration="P3D"))
    run(world, PUB, pub_body([ended], "ACTIVATE"))
    world.api.get("/me")
    started = emu.clock.now()
    emu.clock.advance(days=3, seconds=-1)
    assert emu.offer(ended)["publication"]["status"] == "ACTIVE"
    assert emu.offer(ended)["publication"]["endingAt"] is not None
    emu.clock.advance(seconds=2)
    world.api.get("/me")
    assert emu.offer(ended)["publication"]["status"] == "ENDED"
    assert emu.clock.now() - started > timedelta(days=3)


def test_duration_command_refuses_bad_bodies(world: World) -> None:
    offer = world.emu.add_offer(world.seller_id, "A")
    for publication in (
        {"duration": "P10D", "durationUnlimited": True},
        {},
        {"duration": "P1D"},  # not in the batch enum
        {"durationUnlimited": False},
    ):
        resp = put_json(
            world.api, f"{MOD}/{uuid.uuid4()}", mod_body([offer], **publication)
        )
        assert resp.status_code == 422, publication
    resp = put_json(
        world.api,
        f"{MOD}/{uuid.uuid4()}",
        {
            "modification": {"location": {}},
            "offerCriteria": mod_body([offer])["offerCriteria"],
        },
    )
    assert resp.status_code == 422
    assert world.emu.commands == {} or all(
        c.kind != "modification" for c in world.emu.commands.values()
    )
