"""The migration that stores listing timelines, plan outcomes, push results and
command errors as codes: known English texts become codes with their numbers;
Allegro's own words and anything unknown stay readable as they were."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import translation

from hub.allegro.models import (
    Channel,
    Listing,
    ListingEvent,
    PendingAction,
    RemoteCommand,
)
from hub.text.message import Message

BEFORE = [("allegro", "0009_channel_tracking_status")]
AFTER = [("allegro", "0010_stored_messages_listings")]
OLD_EVENTS = [
    "Available 5 at all locations, Allegro shows 2: set it to 5 (command c-1).",
    "Available 0 at Shelf B but the offer is live: not sent (Allegro refuses 0); "
    "ending it is the lifecycle's job.",
    "Allegro confirmed quantity 5.",
    "Plan withdrawn (Relist): it no longer holds.",
    "Refused by Allegro: Allegro says this does not exist (any more): gone. Ended "
    "offers are archived by Allegro 60 days after they end.",
    "Refused by Allegro: Oferta nie istnieje",
    "Linked by hand to CUP (user alice).",
    "quantity on Allegro 5 → 3",
]


@pytest.mark.django_db(transaction=True)
def test_old_texts_become_codes_and_the_rest_stays_readable() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    try:
        old = MigrationExecutor(connection).loader.project_state(BEFORE).apps
        channel = old.get_model("allegro", "Channel").objects.create(name="Shop")
        listing = old.get_model("allegro", "Listing").objects.create(
            channel=channel, offer_id="1", push_message="Allegro's report does "
            "not mention this offer.",
        )  # fmt: skip
        for text in OLD_EVENTS:
            old.get_model("allegro", "ListingEvent").objects.create(
                listing=listing, kind="CHANGED", message=text
            )
        old.get_model("allegro", "PendingAction").objects.create(
            channel=channel, listing=listing, kind="END", reason="out_of_stock",
            message="No longer needed: the listing or its stock changed.",
        )  # fmt: skip
        old.get_model("allegro", "RemoteCommand").objects.create(
            channel=channel, kind="quantity", last_error="Allegro returned an "
            "error: boom",
        )  # fmt: skip

        MigrationExecutor(connection).migrate(AFTER)

        events = [e.message for e in ListingEvent.objects.order_by("pk")]
        assert events == [
            Message(
                "inventory.decided",
                n=5,
                where={"code": "inventory.all_locations"},
                known=2,
                id="c-1",
            ),
            Message("inventory.out_of_stock_live", n=0, where="Shelf B"),
            Message("inventory.confirmed", n=5),
            Message("lifecycle.withdrawn", kind={"code": "lifecycle.action.RELIST"}),
            Message(
                "lifecycle.refused",
                text={"code": "allegro.not_found", "params": {"text": "gone"}},
            ),
            Message("lifecycle.refused", text={"text": "Oferta nie istnieje"}),
            Message("listing.linked_by_hand", sku="CUP", who="user alice"),
            Message.literal("quantity on Allegro 5 → 3"),
        ]
        with translation.override("pl"):
            shown = [str(message) for message in events]
        assert shown[0] == (
            "Dostępne 5 (wszystkie lokalizacje), Allegro pokazuje 2: ustawiamy 5 "
            "(komenda c-1)."
        )
        assert shown[3] == "Plan wycofany (Wznów): przestał być aktualny."
        assert shown[5].endswith("Oferta nie istnieje")
        assert shown[7] == "quantity on Allegro 5 → 3"  # unknown: kept as it was
        assert Listing.objects.get().push_message == Message("inventory.not_in_report")
        assert PendingAction.objects.get().message == Message(
            "lifecycle.no_longer_needed"
        )
        assert RemoteCommand.objects.get().last_error == Message(
            "allegro.error", text="boom"
        )
        assert Channel.objects.count() == 1
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
