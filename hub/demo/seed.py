"""The demo's Allegro account and the hub's stock beside it.

The account: the ten offers of allegro_emulator/demo_seed.json (DEMO-001…010,
the story's anchors) and a few hundred more made here from a fixed random seed,
so every fresh demo holds the same shop: buy-now offers, auctions (bids come
from the buyers), offers ended in the last days, some sold out, some ended by
the seller.

The stock (loaded once by `allegro-hub demo`'s setup): demo_stock.csv for the
ten, and for the others rows that match some offers exactly, differ for others
(the inventory flow pushes the hub's number to Allegro), are at zero for the
ended ones (pending relist, waiting for a delivery) and are missing for the rest
(the listings stay unlinked, as in a real shop). STORY names the listings the demo's
story is about; the command's banner and the tests use them.
"""

from __future__ import annotations

import csv
import io
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from allegro_emulator.__main__ import DEMO_SEED

DEMO_STOCK = Path(__file__).resolve().parent / "fixtures" / "demo_stock.csv"
GENERATED = 290  # offers beyond demo_seed.json's ten
FIRST_SKU = 101  # DEMO-101 …

# The story (README "Try it"):
# - END_AT_ZERO: live on Allegro, none left in the hub: the lifecycle plans to
#   end it and waits on the confirmation screen;
# - RESTOCKED: its last two sell while the hub watches, so Allegro ends it as
#   sold out; the demo's delivery (story.py) brings stock back, so the
#   lifecycle plans a relist.
# - AUCTION: a one-day auction; the buyers bid, it ends in the demo's first hour
#   and the top bidder buys it.
# - MUG: bought during the story and dispatched with a mistyped tracking
#   number, which Allegro refuses.
STORY = {
    "END_AT_ZERO": "DEMO-011",
    "RESTOCKED": "DEMO-008",
    "AUCTION": "DEMO-010",
    "MUG": "DEMO-001",
}

PRODUCTS = [
    ("Kubek termiczny", "29.99"),
    ("Koszulka sportowa", "39.00"),
    ("Kabel HDMI", "19.90"),
    ("Mysz bezprzewodowa", "59.00"),
    ("Podkładka pod mysz", "15.00"),
    ("Słoik z pokrywką", "9.99"),
    ("Latarka LED", "34.50"),
    ("Ręcznik bawełniany", "45.00"),
    ("Świeca zapachowa", "24.99"),
    ("Zeszyt A4", "6.50"),
    ("Długopis żelowy", "4.99"),
    ("Doniczka ceramiczna", "27.00"),
    ("Etui na telefon", "22.00"),
    ("Skarpety frotte", "12.99"),
    ("Bidon sportowy", "31.00"),
]
VARIANTS = ["czarny", "biały", "czerwony", "niebieski", "zielony", "szary"]


def base_seed() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DEMO_SEED.read_text(encoding="utf-8"))
    return data


def demo_account(now: datetime) -> dict[str, Any]:
    """The seed for the emulator (its clock at ``now``): demo_seed.json, the
    story's powerbank, then the generated offers."""
    data = base_seed()
    offers: list[dict[str, Any]] = data["offers"]
    # The story's sell-out (story.py) needs it live, with its last two.
    restocked = next(o for o in offers if o["external_id"] == STORY["RESTOCKED"])
    restocked.update(quantity=2)
    restocked.pop("status", None)
    restocked.pop("ended_by", None)
    offers.append(
        {
            "seller": "demo-seller",
            "name": "Powerbank 10000 mAh",
            "external_id": STORY["END_AT_ZERO"],
            "quantity": 3,
            "price": "79.00",
        }
    )
    offers.extend(generated_offers(now))
    return data


def generated_offers(now: datetime) -> list[dict[str, Any]]:
    rng = random.Random(16)
    result = []
    for n in range(GENERATED):
        name, price = PRODUCTS[n % len(PRODUCTS)]
        offer: dict[str, Any] = {
            "seller": "demo-seller",
            "name": f"{name} {VARIANTS[n // len(PRODUCTS) % len(VARIANTS)]} {n + 1}",
            "external_id": f"DEMO-{FIRST_SKU + n}",
            "quantity": rng.randint(5, 60),
            "price": price,
        }
        kind = n % 10
        if kind == 0:  # an auction, for a week or three days
            offer |= {"format": "AUCTION", "quantity": 1, "duration": "P7D"}
            if n % 20 == 0:
                offer["duration"] = "P3D"
        elif kind == 1:  # ended in the last days: sold out, or by the seller
            offer |= {
                "status": "ENDED",
                "quantity": 0,
                "ended_at": (now - timedelta(days=1 + n % 5)).isoformat(),
                "ended_by": "USER" if n // 10 % 3 == 0 else "EMPTY_STOCK",
            }
        result.append(offer)
    return result


def generated_stock() -> bytes:
    """The hub's stock for the generated offers, as a CSV the inventory import
    reads: equal to Allegro's quantity, different, or none at all."""
    rng = random.Random(16)
    rows = [{"sku": STORY["END_AT_ZERO"], "title": "Powerbank 10000 mAh", "on_hand": 0}]
    for offer in generated_offers(datetime.now(UTC)):
        sku, quantity = offer["external_id"], offer["quantity"]
        pick = rng.random()
        if offer.get("status") == "ENDED":
            # Waits for a delivery: pending relist until stock comes back.
            rows.append({"sku": sku, "title": offer["name"], "on_hand": 0})
            continue
        if pick < 0.25:
            continue  # not in the hub: the listing stays unlinked
        if pick < 0.6:
            on_hand = quantity  # the same on both sides
        else:
            on_hand = quantity + rng.randint(1, 20)  # the hub knows better
        rows.append({"sku": sku, "title": offer["name"], "on_hand": on_hand})
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["sku", "title", "on_hand"])
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")
