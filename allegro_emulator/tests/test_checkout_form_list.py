"""GET /order/checkout-forms read through form_index answers exactly what a scan
of every form answers: the same forms, order (ties by id), totalCount."""

from __future__ import annotations

import itertools
import random
from datetime import datetime, timedelta
from typing import Any

import pytest

from allegro_emulator import form_index

from .conftest import World, put_json

SORTS = {
    "lineItems.boughtAt": "created_at",
    "updatedAt": "updated_at",
}
FULFILLMENT = ["PROCESSING", "READY_FOR_SHIPMENT", "SENT", "CANCELLED"]


def scan(world: World, params: dict[str, Any]) -> dict[str, Any]:
    """What the list answered before form_index: every form looked at."""
    now = world.emu.clock.now()
    found = [
        cf
        for cf in world.emu.checkout_forms.values()
        if cf.seller_id == world.seller_id
        and (cf.hidden_from_list_until is None or cf.hidden_from_list_until <= now)
    ]
    for name, attr in SORTS.items():
        if f"{name}.gte" in params:
            low = datetime.fromisoformat(params[f"{name}.gte"])
            found = [cf for cf in found if getattr(cf, attr) >= low]
        if f"{name}.lte" in params:
            high = datetime.fromisoformat(params[f"{name}.lte"])
            found = [cf for cf in found if getattr(cf, attr) <= high]
    if "status" in params:
        found = [cf for cf in found if cf.status == params["status"]]
    sort = params.get("sort", "-lineItems.boughtAt")
    attr = SORTS[sort.lstrip("-")]
    found.sort(key=lambda cf: (getattr(cf, attr), cf.id), reverse=sort[0] == "-")
    offset, limit = params.get("offset", 0), params.get("limit", 100)
    page = found[offset : offset + limit]
    return {"ids": [cf.id for cf in page], "count": len(page), "total": len(found)}


def listed(world: World, params: dict[str, Any]) -> dict[str, Any]:
    response = world.api.get("/order/checkout-forms", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    return {
        "ids": [cf["id"] for cf in body["checkoutForms"]],
        "count": body["count"],
        "total": body["totalCount"],
    }


def queries(world: World, rng: random.Random) -> list[dict[str, Any]]:
    """Every sort with every range the index serves (and some it does not:
    both attributes bounded, a status filter), bounds on forms' own values
    (ties at the edges) and a microsecond off them, several pages."""
    forms = list(world.emu.checkout_forms.values())
    moments: dict[str, list[datetime]] = {}
    for attr in SORTS.values():
        values = sorted(getattr(cf, attr) for cf in forms)
        moments[attr] = [
            rng.choice(values) + timedelta(microseconds=rng.choice([-1, 0, 0, 1]))
            for _ in range(3)
        ]
    ranges: list[dict[str, str]] = [{}]
    for name, attr in SORTS.items():
        low, high = sorted(moments[attr][:2])
        ranges += [
            {f"{name}.gte": low.isoformat()},
            {f"{name}.lte": high.isoformat()},
            {f"{name}.gte": low.isoformat(), f"{name}.lte": high.isoformat()},
            {f"{name}.gte": high.isoformat(), f"{name}.lte": low.isoformat()},
        ]
    ranges.append(
        {
            "lineItems.boughtAt.lte": moments["created_at"][2].isoformat(),
            "updatedAt.gte": moments["updated_at"][2].isoformat(),
        }
    )
    sorts = [None, *SORTS, *(f"-{s}" for s in SORTS)]
    pages = [(0, 100), (0, 7), (7, 7), (3, 5), (95, 5)]
    found = []
    for bounds, sort, (offset, limit), status in itertools.product(
        ranges, sorts, pages, [None, "READY_FOR_PROCESSING"]
    ):
        params: dict[str, Any] = {**bounds, "offset": offset, "limit": limit}
        if sort:
            params["sort"] = sort
        if status:
            params["status"] = status
        found.append(params)
    return found


def shuffle_forms(world: World, rng: random.Random, steps: int) -> None:
    """Purchases and changes at random, many in the same microsecond (ties),
    some of another seller's, a clock moved back now and then."""
    emu = world.emu
    mine = emu.add_offer(world.seller_id, "Kubek", quantity=10**6)
    other_seller = emu.add_seller(f"shop-{rng.randrange(10**6)}")
    theirs = emu.add_offer(other_seller, "Obcy", quantity=10**6)
    forms: list[str] = []
    for _ in range(steps):
        emu.clock.advance(seconds=rng.choice([0, 0, 0, 0.000001, 0.5, 30]))
        if rng.random() < 0.05:
            emu.clock.set(emu.clock.now() - timedelta(seconds=45))
        action = rng.random()
        if action < 0.4 or not forms:
            forms.append(emu.purchase(mine if rng.random() < 0.8 else theirs))
            continue
        cf = emu.checkout_forms[rng.choice(forms)]
        if action < 0.55 and cf.status in ("BOUGHT", "FILLED_IN"):
            emu.pay(cf.id)
        elif action < 0.65 and cf.status != "CANCELLED":
            emu.cancel(cf.id)
        elif action < 0.75 and cf.status in ("BOUGHT", "FILLED_IN"):
            line = cf.line_items[0].id
            emu.modify(cf.id, {line: cf.line_items[0].quantity + 1})
        elif action < 0.85 and cf.seller_id == world.seller_id:
            status = rng.choice(FULFILLMENT)
            url = f"/order/checkout-forms/{cf.id}/fulfillment"
            assert put_json(world.api, url, {"status": status}).status_code == 204
        elif action < 0.9:
            emu.ship_with_allegro(cf.id, f"WB{rng.randrange(10**9)}")
        elif action < 0.95:
            emu.lag_list(cf.id, rng.choice([1, 60, 3600]))


def assert_index_kept(world: World) -> None:
    """The index kept up by purchase, touch and lag_list (or rebuilt by the
    last list request) is the one a build from the forms makes."""
    kept = world.emu.form_index
    built = form_index.build(world.emu.checkout_forms)
    assert (kept.keys, kept.size, kept.lagging) == (
        built.keys,
        built.size,
        built.lagging,
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_list_answers_what_a_scan_of_every_form_answers(
    world: World, seed: int
) -> None:
    rng = random.Random(seed)
    shuffle_forms(world, rng, 400)
    mine = [
        cf
        for cf in world.emu.checkout_forms.values()
        if cf.seller_id == world.seller_id
    ]
    # Ties on both sort attributes, ordered by id.
    assert len({cf.created_at for cf in mine}) < len(mine)
    assert len({cf.updated_at for cf in mine}) < len(mine)
    world.emu.lag_list(mine[len(mine) // 2].id, 3600)  # one hidden at least
    assert_index_kept(world)
    world.reauth()
    for params in queries(world, rng):
        assert listed(world, params) == scan(world, params), params
    # None hidden any more: the pages the hub asks for are slices of the index.
    world.emu.clock.advance(hours=2)
    for params in queries(world, rng):
        assert listed(world, params) == scan(world, params), params


def test_a_restored_state_and_a_form_removed_behind_its_back_are_listed(
    world: World,
) -> None:
    rng = random.Random(4)
    shuffle_forms(world, rng, 120)
    since = world.emu.clock.now() - timedelta(minutes=10)
    params = {"sort": "updatedAt", "updatedAt.gte": since.isoformat()}
    everything = {"sort": "-updatedAt"}
    world.emu.seed(world.emu.dump())
    world.reauth()
    assert_index_kept(world)
    assert listed(world, everything) == scan(world, everything)
    gone = listed(world, everything)["ids"][3]
    del world.emu.checkout_forms[gone]  # as a test does to make a form vanish
    assert listed(world, everything) == scan(world, everything)
    assert gone not in listed(world, everything)["ids"]
    assert listed(world, params) == scan(world, params)
    assert_index_kept(world)


def test_an_updated_at_changed_outside_touch_rebuilds_the_index(
    world: World,
) -> None:
    forms = []
    for _ in range(3):
        world.emu.clock.advance(seconds=1)
        forms.append(world.emu.purchase(world.emu.add_offer(world.seller_id, "Kubek")))
    first = world.emu.checkout_forms[forms[0]]
    first.updated_at += timedelta(hours=1)  # not through orders.touch
    world.emu.clock.advance(seconds=1)
    world.emu.pay(forms[0])  # the index cannot find where it was
    assert listed(world, {"sort": "updatedAt"})["ids"] == [forms[1], forms[2], forms[0]]
    assert_index_kept(world)
