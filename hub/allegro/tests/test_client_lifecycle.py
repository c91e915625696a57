"""Client methods the lifecycle uses: duration command, listing an old auction anew."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from hub.allegro.errors import InvalidRequest

pytestmark = pytest.mark.django_db


def sent_bodies(emulator, path_part, method="PUT"):
    return [
        r["json"]
        for r in emulator.requests
        if path_part in r["path"] and r["method"] == method
    ]


def test_duration_command_sends_duration_or_unlimited(allegro_client, emulator):
    offer_id = emulator.add_offer(emulator.seller_id, "Kubek", status="ENDED")
    limited, unlimited = str(uuid.uuid4()), str(uuid.uuid4())

    allegro_client.put_duration_command(limited, [offer_id], duration="P10D")
    [task] = allegro_client.get_modification_command_tasks(limited)
    assert task.status == "SUCCESS"
    assert emulator.offer(offer_id)["publication"]["duration"] == "P10D"
    allegro_client.put_duration_command(unlimited, [offer_id], duration=None)
    assert allegro_client.get_modification_command(unlimited).is_complete

    first, second = sent_bodies(emulator, "offer-modification-commands/")[:2]
    assert first["modification"] == {"publication": {"duration": "P10D"}}
    # api-notes §5.3: "until sold out" is durationUnlimited, never both fields.
    assert second["modification"] == {"publication": {"durationUnlimited": True}}
    assert "duration" not in emulator.offer(offer_id)["publication"]


def test_duration_command_retry_reads_back_the_accepted_command(
    allegro_client, emulator
):
    offer_id = emulator.add_offer(emulator.seller_id, "Kubek", status="ENDED")
    command_id = str(uuid.uuid4())
    allegro_client.put_duration_command(command_id, [offer_id], duration="P5D")

    # The same id again (a retry after a lost answer) is not an error.
    report = allegro_client.put_duration_command(command_id, [offer_id], duration="P5D")

    assert report.id == command_id
    assert len(sent_bodies(emulator, "offer-modification-commands/")) == 2
    assert len([c for c in emulator.commands.values() if c.kind == "modification"]) == 1


def test_ended_auction_listed_anew_from_its_own_fields(allegro_client, emulator):
    old = emulator.add_offer(
        emulator.seller_id,
        "Zegarek",
        format="AUCTION",
        price="50.00",
        external_id="SKU-7",
        duration="P7D",
        quantity=1,
    )
    emulator.end_offer(old)
    source = allegro_client.get_offer_copy(old)
    start = emulator.clock.now() + timedelta(minutes=15)

    change = allegro_client.create_offer_from(
        source, quantity=1, duration="P3D", starting_at=start
    )

    assert source.format == "AUCTION"
    assert source.duration == "P7D"
    assert change.offer is not None
    assert change.offer.id != old
    new = emulator.offer(change.offer.id)
    assert new["name"] == "Zegarek"
    assert new["external"] == {"id": "SKU-7"}
    assert new["sellingMode"]["startingPrice"]["amount"] == "50.00"
    assert new["publication"]["status"] == "ACTIVATING"
    assert new["publication"]["duration"] == "P3D"
    [body] = sent_bodies(emulator, "/sale/product-offers", "POST")
    assert body["publication"]["startingAt"].endswith("Z")
    assert not {"id", "validation", "createdAt", "updatedAt"} & set(body)
    assert emulator.offer(old)["publication"]["status"] == "ENDED"


def test_listing_anew_refuses_quantity_zero_without_sending(allegro_client, emulator):
    old = emulator.add_offer(emulator.seller_id, "Zegarek", format="AUCTION")
    source = allegro_client.get_offer_copy(old)
    before = len(emulator.requests)

    with pytest.raises(InvalidRequest):
        allegro_client.create_offer_from(source, quantity=0, duration="P3D")

    assert len(emulator.requests) == before
    assert len(emulator.offers) == 1
