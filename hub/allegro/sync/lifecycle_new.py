"""An ended auction listed again as a new offer (auctions cannot be reactivated,
api-notes §7), with lineage: the new listing inherits the old one's stock link,
so orders on either offer id resolve to the same item.

Creating an offer has no idempotency key. So the attempt is recorded (step
CREATE) before the POST, and an interrupted attempt first looks on Allegro for
the offer it may have created before creating one again.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from hub.allegro import texts
from hub.allegro.client import AllegroClient
from hub.allegro.errors import PermanentError
from hub.allegro.models import Listing, ListingEvent, PendingAction
from hub.allegro.sync import lifecycle_send
from hub.text.message import Message

if TYPE_CHECKING:
    from hub.allegro.sync.lifecycle import LifecycleResult

State = PendingAction.State


def relist_as_new(
    client: AllegroClient, action: PendingAction, result: LifecycleResult
) -> None:
    old = action.listing
    retry = action.state == State.RUNNING
    if not retry:
        claimed = PendingAction.objects.filter(
            pk=action.pk, state=State.APPROVED
        ).update(
            state=State.RUNNING,
            step=PendingAction.Step.CREATE,
            attempted_at=timezone.now(),
        )
        if not claimed:
            return
        action.refresh_from_db()
    try:
        found = _created_before(client, action) if retry else None
        if found is None:
            new_id, status = _create(client, action)
        else:
            new_id, status = found
    except PermanentError as exc:
        lifecycle_send.fail_action(action, exc.user_message(), None, result)
        return
    # Transient errors propagate: the action stays at CREATE and the next pass
    # looks for the offer before trying again.
    if new_id is None:
        return  # accepted (202) without the offer yet: found on the next pass
    _link(action, old, new_id, status)
    result.relisted += 1


def _create(client: AllegroClient, action: PendingAction) -> tuple[str | None, str]:
    source = client.get_offer_copy(action.listing.offer_id)
    delay = timedelta(minutes=action.channel.relist_delay_minutes)
    starting_at = timezone.now() + delay if delay else None
    change = client.create_offer_from(
        source,
        quantity=action.quantity or 1,
        # Empty Relist Auction Duration = the ended auction's own duration.
        duration=action.duration or source.duration,
        starting_at=starting_at,
    )
    if change.offer is None:
        return None, ""
    return change.offer.id, change.offer.status or ""


def _created_before(
    client: AllegroClient, action: PendingAction
) -> tuple[str, str] | None:
    """The offer an interrupted attempt created, if Allegro has it: an auction
    with the old one's external id (or name) that is not one of our listings
    from before the attempt."""
    old = action.listing
    if old.external_id:
        page = client.list_offers(external_ids=[old.external_id], formats=["AUCTION"])
    else:
        page = client.list_offers(name=old.title, formats=["AUCTION"])
    candidates = [
        offer
        for offer in page.offers
        if offer.id != old.offer_id
        and offer.status in ("ACTIVE", "ACTIVATING", "INACTIVE")
        and (old.external_id or offer.name == old.title)
    ]
    earlier = set(
        Listing.objects.filter(
            channel_id=action.channel_id,
            offer_id__in=[offer.id for offer in candidates],
        )
        .filter(Q(created_at__lt=action.attempted_at) | Q(relisted_from__isnull=False))
        .values_list("offer_id", flat=True)
    )
    fresh = [offer for offer in candidates if offer.id not in earlier]
    return (fresh[0].id, fresh[0].status or "") if fresh else None


def _link(action: PendingAction, old: Listing, new_id: str, status: str) -> None:
    now = timezone.now()
    with transaction.atomic():
        new, _created = Listing.objects.update_or_create(
            channel_id=old.channel_id,
            offer_id=new_id,
            defaults={
                "title": old.title,
                "external_id": old.external_id,
                "format": old.format,
                "status": status or "ACTIVATING",
                "stock_item_id": old.stock_item_id,
                "link_method": old.link_method,
                "known_quantity": action.quantity,
                "relisted_from": old,
            },
        )
        Listing.objects.filter(pk=old.pk).update(
            relist_pending_since=None, relist_struck_off=False
        )
        PendingAction.objects.filter(pk=action.pk).update(
            state=State.DONE, finished_at=now, new_offer_id=new_id, message=""
        )
        ListingEvent.objects.bulk_create(
            [
                ListingEvent(
                    listing=old,
                    kind=ListingEvent.Kind.RELISTED,
                    message=Message(texts.RELISTED_AS, id=new_id),
                ),
                ListingEvent(
                    listing=new,
                    kind=ListingEvent.Kind.RELISTED,
                    message=Message(texts.LISTED_FROM, id=old.offer_id),
                ),
            ]
        )
