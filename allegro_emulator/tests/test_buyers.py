from __future__ import annotations

import re
import time

from allegro_emulator import Emulator, EmulatorConfig
from allegro_emulator.buyers import BuyerConfig, BuyerSimulator
from allegro_emulator.orders import make_buyer

from .conftest import START


def seeded() -> Emulator:
    emu = Emulator(EmulatorConfig(start_time=START))
    sid = emu.add_seller("s")
    for i in range(3):
        emu.add_offer(sid, f"O{i}", external_id=f"DEMO-00{i}", quantity=20)
    emu.add_offer(sid, "Auk", external_id="AUK", format="AUCTION", price="10")
    return emu


def test_steps_are_deterministic_for_a_seed() -> None:
    runs = []
    for _ in range(2):
        sim = BuyerSimulator(seeded(), BuyerConfig(seed=7))
        runs.append([sim.step() for _ in range(40)])
    assert runs[0] == runs[1]
    assert any(s and " bought " in s for s in runs[0])
    assert any(s and " paid " in s for s in runs[0])
    assert any(s and " bid " in s for s in runs[0])


def test_simulated_orders_are_consistent() -> None:
    emu = seeded()
    sim = BuyerSimulator(emu, BuyerConfig(seed=3, cancel_weight=2))
    for _ in range(200):
        sim.step()
    forms = list(emu.checkout_forms.values())
    assert forms, "expected purchases"
    statuses = {cf.status for cf in forms}
    assert "READY_FOR_PROCESSING" in statuses
    assert "CANCELLED" in statuses
    sold = sum(li.quantity for cf in forms for li in cf.line_items)
    stock_left = sum(o.stock for o in emu.offers.values() if o.format == "BUY_NOW")
    assert sold + stock_left == 60
    assert all(o.stock >= 0 for o in emu.offers.values())


def test_only_purchases_when_weights_say_so() -> None:
    emu = seeded()
    cfg = BuyerConfig(
        seed=1, fill_in_weight=0, pay_weight=0, cancel_weight=0, bid_weight=0
    )
    sim = BuyerSimulator(emu, cfg)
    for _ in range(10):
        sim.step()
    assert {cf.status for cf in emu.checkout_forms.values()} == {"BOUGHT"}


def test_spared_offers_are_neither_bought_nor_bid_on() -> None:
    sold_to_buyers = {}
    for spare in (frozenset(), frozenset({"DEMO-001", "AUK"})):
        emu = seeded()
        sim = BuyerSimulator(emu, BuyerConfig(seed=5, spare=spare))
        for _ in range(100):
            sim.step()
        offers = {o.external_id: o for o in emu.offers.values()}
        sold_to_buyers[spare] = {
            emu.offers[li.offer_id].external_id
            for cf in emu.checkout_forms.values()
            for li in cf.line_items
        }
        if spare:
            assert offers["DEMO-001"].stock == 20
            assert offers["AUK"].bids == []
        else:
            assert offers["AUK"].bids
    # the same seed without sparing buys from every listing and bids
    assert sold_to_buyers[frozenset()] == {"DEMO-000", "DEMO-001", "DEMO-002"}
    assert sold_to_buyers[frozenset({"DEMO-001", "AUK"})] == {"DEMO-000", "DEMO-002"}


def test_background_runner_starts_and_stops() -> None:
    emu = seeded()
    sim = BuyerSimulator(emu, BuyerConfig(seed=2, interval_seconds=0.01))
    sim.start()
    deadline = time.monotonic() + 5
    while not emu.checkout_forms and time.monotonic() < deadline:
        time.sleep(0.01)
    sim.stop()
    n = len(emu.order_events)
    time.sleep(0.05)
    assert n > 0
    assert len(emu.order_events) == n


def test_log_lines_name_the_buyer_the_product_quantity_and_price() -> None:
    emu = Emulator(EmulatorConfig(start_time=START))
    emu.add_seller("s")
    emu.add_offer("s", "Kubek ceramiczny", quantity=50, price="29.99")
    emu.add_offer("s", "Zegarek", format="AUCTION", price="50")
    sim = BuyerSimulator(emu, BuyerConfig(seed=4, max_quantity=1))
    lines = [line for line in (sim.step() for _ in range(30)) if line]
    buyer = r"[A-Z][a-z]+ [A-ZŚŁŻŹĆŃÓ][\w]+ \(demo_buyer_\d\d\)"
    patterns = [
        rf"{buyer} bought 1 × Kubek ceramiczny \(29\.99 PLN each\)",
        rf"{buyer} chose Allegro (Paczkomaty InPost|Kurier DPD) \(1\d\.99 PLN\) "
        r"for 1 × Kubek ceramiczny",
        rf"{buyer} paid 4\d\.\d\d PLN for 1 × Kubek ceramiczny",
        rf"{buyer} cancelled the order for 1 × Kubek ceramiczny",
        rf"{buyer} bid \d+\.\d\d PLN on Zegarek",
    ]
    assert len(lines) == 30
    for line in lines:
        assert any(re.fullmatch(p, line) for p in patterns), line
        assert not re.search(r"\d{11}|[0-9a-f]{8}-", line)  # no offer/form ids
    for verb in (" bought ", " chose ", " paid ", " bid "):
        assert any(verb in line for line in lines), verb


def test_a_regular_buyer_keeps_one_name() -> None:
    emu = seeded()
    sim = BuyerSimulator(emu, BuyerConfig(seed=6))
    for _ in range(300):
        sim.step()
    names: dict[str, set[tuple[str, str]]] = {}
    for cf in emu.checkout_forms.values():
        b = cf.buyer
        names.setdefault(b["login"], set()).add((b["firstName"], b["lastName"]))
    assert len(names) > 10
    assert all(len(n) == 1 for n in names.values())
    # A new simulator (the demo restarted) knows them by their earlier orders.
    again = BuyerSimulator(emu, BuyerConfig(seed=9))
    before = set(emu.checkout_forms)
    for _ in range(100):
        again.step()
    for cf_id in set(emu.checkout_forms) - before:
        b = emu.checkout_forms[cf_id].buyer
        assert names.get(b["login"], {(b["firstName"], b["lastName"])}) == {
            (b["firstName"], b["lastName"])
        }


def test_buyer_names_agree_in_gender() -> None:
    emu = Emulator(EmulatorConfig(start_time=START))
    buyers = [make_buyer(emu) for _ in range(300)]
    pairs = {(b["firstName"], b["lastName"]) for b in buyers}
    for first, last in pairs:
        # Polish: female first names end in -a, and so do -ski/-cki surnames.
        if last.endswith(("ski", "cki")):
            assert not first.endswith("a"), (first, last)
        if last.endswith(("ska", "cka")):
            assert first.endswith("a"), (first, last)
    assert any(last.endswith("ska") for _, last in pairs)
    assert any(last.endswith("ski") for _, last in pairs)
    assert all(b["login"].isascii() for b in buyers)


def test_sold_out_and_ended_offers_are_skipped_and_orders_still_get_paid() -> None:
    emu = Emulator(EmulatorConfig(start_time=START))
    emu.add_seller("s")
    sold_out = emu.add_offer("s", "Wyprzedany", quantity=3)
    ended = emu.add_offer("s", "Zakonczony", quantity=5, status="ENDED")
    auction = emu.add_offer("s", "Aukcja", format="AUCTION", duration="PT1H")
    unpaid = [emu.purchase(sold_out) for _ in range(3)]
    emu.advance(hours=2)  # the auction expires without bids
    sim = BuyerSimulator(emu, BuyerConfig(seed=1, fill_in_weight=0, cancel_weight=0))

    lines = [sim.step() for _ in range(4)]

    # Nothing left to buy or bid on: each step pays one order instead.
    paid = r".+ paid 2[57]\.99 PLN for 1 × Wyprzedany"  # 10.00 + delivery
    assert all(re.fullmatch(paid, str(line)) for line in lines[:3]), lines
    assert lines[3] is None
    assert {emu.checkout_forms[cf].status for cf in unpaid} == {"READY_FOR_PROCESSING"}
    assert len(emu.checkout_forms) == 3  # nothing bought from ended offers
    offers = emu.offers
    assert (offers[sold_out].status, offers[sold_out].ended_by) == (
        "ENDED",
        "EMPTY_STOCK",
    )
    assert (offers[ended].status, offers[ended].stock) == ("ENDED", 5)
    assert (offers[auction].status, offers[auction].bids) == ("ENDED", [])
