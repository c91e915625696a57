from __future__ import annotations

import time

from allegro_emulator import Emulator, EmulatorConfig
from allegro_emulator.buyers import BuyerConfig, BuyerSimulator

from .conftest import START


def seeded() -> Emulator:
    emu = Emulator(EmulatorConfig(start_time=START))
    sid = emu.add_seller("s")
    for i in range(3):
        emu.add_offer(sid, f"O{i}", external_id=f"DEMO-00{i}", quantity=20)
    emu.add_offer(sid, "Auk", format="AUCTION", price="10")
    return emu


def test_steps_are_deterministic_for_a_seed() -> None:
    runs = []
    for _ in range(2):
        sim = BuyerSimulator(seeded(), BuyerConfig(seed=7))
        runs.append([sim.step() for _ in range(40)])
    assert runs[0] == runs[1]
    assert any(s and s.startswith("purchase") for s in runs[0])
    assert any(s and s.startswith("pay") for s in runs[0])
    assert any(s and s.startswith("bid") for s in runs[0])


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
