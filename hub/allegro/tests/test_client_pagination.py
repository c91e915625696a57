"""Streaming pagination: offers and order events by 1 000, orders in date windows."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from allegro_emulator import EmulatorConfig
from hub.allegro.client import client_for_channel
from hub.allegro.tests.fixtures import make_channel, make_emulator

pytestmark = pytest.mark.django_db


def test_iter_offers_streams_pages_of_1000(allegro_client, emulator):
    for n in range(2500):
        emulator.add_offer(emulator.seller_id, f"Oferta {n}", external_id=f"SKU-{n}")

    first = next(allegro_client.iter_offers())
    requests_for_first = emulator.count("GET", "/sale/offers")
    emulator.clear_requests()
    offers = list(allegro_client.iter_offers(statuses=["ACTIVE"]))

    assert first.name.startswith("Oferta")
    assert requests_for_first == 1  # lazy: one page fetched for one item
    assert len({o.id for o in offers}) == 2500
    queries = [r["query"] for r in emulator.requests]
    assert [(q["offset"], q["limit"]) for q in queries] == [
        (["0"], ["1000"]),
        (["1000"], ["1000"]),
        (["2000"], ["1000"]),
    ]
    assert all(q["publication.status"] == ["ACTIVE"] for q in queries)


def test_iter_order_events_follows_the_cursor(allegro_client, emulator):
    offer_id = emulator.add_offer(emulator.seller_id, "Kubek", quantity=5000)
    for _ in range(1100):
        emulator.purchase(offer_id)

    events = list(allegro_client.iter_order_events())
    later = list(allegro_client.iter_order_events(from_event=events[-1].id))

    assert len(events) == 1100
    assert len({e.id for e in events}) == 1100
    froms = [
        r["query"].get("from")
        for r in emulator.requests
        if r["path"] == "/order/events"
    ]
    assert froms == [None, [events[999].id], [events[-1].id]]
    assert later == []


def small_cap_client(cap: int, instant_retries):
    emulator = make_emulator(EmulatorConfig(checkout_forms_max_window=cap))
    channel = make_channel(emulator)
    client = client_for_channel(
        channel, transport=emulator.transport, **instant_retries
    )
    client.checkout_forms_cap = cap
    return emulator, client


def test_iter_checkout_forms_splits_windows_over_the_cap(instant_retries):
    emulator, client = small_cap_client(50, instant_retries)
    offer_id = emulator.add_offer(emulator.seller_id, "Kubek", quantity=1000)
    start = emulator.clock.now()
    bought = []
    for _ in range(180):
        bought.append(emulator.purchase(offer_id))
        emulator.clock.advance(minutes=7)

    forms = list(
        client.iter_checkout_forms(
            start - timedelta(hours=1), start + timedelta(days=2)
        )
    )

    assert sorted(f.id for f in forms) == sorted(bought)
    assert len(forms) == 180  # each order exactly once
    listing = [r for r in emulator.requests if r["path"] == "/order/checkout-forms"]
    # 21 emulated hours passed: the access token expired once, mid-stream.
    assert [r["status"] for r in listing if r["status"] != 200] == [401]
    assert emulator.count("POST", "/auth/oauth/token") == 1
    for r in listing:
        assert int(r["query"]["offset"][0]) + int(r["query"]["limit"][0]) <= 50
        assert r["query"]["sort"] == ["lineItems.boughtAt"]
    bought_order = [f.line_items[0].bought_at for f in forms]
    assert bought_order == sorted(bought_order)  # oldest first, window by window


def test_iter_checkout_forms_pages_within_a_window(allegro_client, emulator):
    offer_id = emulator.add_offer(emulator.seller_id, "Kubek", quantity=1000)
    start = emulator.clock.now()
    for _ in range(250):
        emulator.purchase(offer_id)
        emulator.clock.advance(seconds=1)

    forms = list(allegro_client.iter_checkout_forms(start, emulator.clock.now()))

    assert len({f.id for f in forms}) == 250
    assert emulator.count("GET", "/order/checkout-forms") == 3  # 100 + 100 + 50


def test_unsplittable_window_stops_at_the_cap_and_warns(instant_retries, caplog):
    emulator, client = small_cap_client(50, instant_retries)
    offer_id = emulator.add_offer(emulator.seller_id, "Kubek", quantity=1000)
    moment = emulator.clock.now()
    for _ in range(60):  # the emulator's clock stands still: same millisecond
        emulator.purchase(offer_id)

    with caplog.at_level(logging.WARNING, logger="hub.allegro.client"):
        forms = list(client.iter_checkout_forms(moment, moment))

    assert len(forms) == 50
    assert "some were skipped" in caplog.text
    assert all(r["status"] == 200 for r in emulator.requests)


def test_iter_checkout_forms_of_an_empty_window(allegro_client, emulator):
    now = emulator.clock.now()

    assert list(allegro_client.iter_checkout_forms(now - timedelta(days=1), now)) == []
    assert emulator.count("GET", "/order/checkout-forms") == 1
