"""A pass that lost the race for its cursor fails like any other Allegro-side
problem: loops that catch AllegroError per channel go on with the next channel."""

from __future__ import annotations

import pytest

from hub.allegro.errors import AllegroError
from hub.allegro.models import Channel, SyncCursor
from hub.allegro.sync.orders import JOURNAL, _move_cursor

pytestmark = pytest.mark.django_db


def test_a_lost_race_is_an_allegro_error_in_the_hubs_own_words(
    channel: Channel,
) -> None:
    cursor = SyncCursor.objects.create(channel=channel, stream=JOURNAL, value="100")
    SyncCursor.objects.filter(pk=cursor.pk).update(value="200")  # the other pass

    with pytest.raises(AllegroError) as caught:
        _move_cursor(cursor, "150")

    assert caught.value.user_text() == (
        "Another sync pass of this channel ran at the same time (order_events); "
        "this one stopped and the other did the work."
    )
    assert SyncCursor.objects.get(pk=cursor.pk).value == "200"
