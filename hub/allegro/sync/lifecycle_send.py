"""Carrying out approved lifecycle plans through the outbox (RemoteCommand).

END: one publication command END per group of ≤1 000 offers.
RELIST (Buy Now, same offer id, api-notes §7): three steps, each a grouped
command confirmed by its task report before the next is sent — set the quantity
(FIXED, grouped by value; an ended offer at 0 cannot be activated), set the
duration (grouped; "until sold out" is durationUnlimited), then ACTIVATE with
scheduledFor = now + Relist Listing Delay.
RELIST_NEW (an ended auction, which cannot be reactivated): a new offer built
from the old one; the new listing inherits the stock link (lineage).

Every command is stored with its id before it is sent and resent with the same
id after a crash (Allegro answers 409, the client reads the command back), so
nothing is done twice; a plan is done only when the report says SUCCESS.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from hub.allegro import schemas, texts
from hub.allegro.client import MAX_OFFERS_PER_COMMAND, AllegroClient
from hub.allegro.errors import AllegroError, PermanentError
from hub.allegro.models import (
    Channel,
    Listing,
    ListingEvent,
    PendingAction,
    RemoteCommand,
)
from hub.allegro.sync import lifecycle_new
from hub.text.message import Message, when

if TYPE_CHECKING:
    from hub.allegro.sync.lifecycle import LifecycleResult

log = logging.getLogger(__name__)

Kind = PendingAction.Kind
Step = PendingAction.Step
State = PendingAction.State
FLOW = "lifecycle"  # payload marker: these commands belong to this flow
MAX_ROUNDS = 4  # report reads per pass (END: 1; RELIST: 3 steps)


# ------------------------------------------------------------------ start


def start(channel: Channel, client: AllegroClient, result: LifecycleResult) -> None:
    """Turn approved plans into their first commands, then send what is unsent."""
    approved = list(
        PendingAction.objects.filter(channel=channel, state=State.APPROVED)
        .select_related("listing", "channel")
        .order_by("pk")
    )
    _queue(channel, [a for a in approved if a.kind == Kind.END], Step.END)
    _queue(channel, [a for a in approved if a.kind == Kind.RELIST], Step.QUANTITY)
    _send_unsent(channel, client, result)
    # New offers for ended auctions, one by one (no batch command creates
    # offers); a creation a crash interrupted is looked for before it is retried.
    creating = PendingAction.objects.filter(
        channel=channel, kind=Kind.RELIST_NEW, state__in=(State.APPROVED, State.RUNNING)
    )
    for action in creating.select_related("listing", "channel").order_by("pk"):
        lifecycle_new.relist_as_new(client, action, result)


def _payload(action: PendingAction, step: str) -> dict[str, Any]:
    if step == Step.END:
        return {"action": "END"}
    if step == Step.QUANTITY:
        return {"changeType": "FIXED", "value": action.quantity}
    if step == Step.DURATION:
        return {"duration": action.duration}
    delay = timedelta(minutes=action.channel.relist_delay_minutes)
    payload: dict[str, Any] = {"action": "ACTIVATE"}
    if delay:
        # Now + delay, fixed when stored so a resend asks for the same moment. No
        # delay = no scheduledFor: "now" would be in the past on arrival, which
        # Allegro refuses (api-notes §6.3).
        payload["scheduledFor"] = (timezone.now() + delay).isoformat()
    return payload


KIND_OF_STEP: dict[str, str] = {
    Step.END: RemoteCommand.Kind.PUBLICATION,
    Step.QUANTITY: RemoteCommand.Kind.RELIST_QUANTITY,
    Step.DURATION: RemoteCommand.Kind.MODIFICATION,
    Step.ACTIVATE: RemoteCommand.Kind.PUBLICATION,
}


def _queue(channel: Channel, actions: Iterable[PendingAction], step: str) -> None:
    """Group ACTIONS by payload into commands of ≤1 000 offers and store them,
    with the actions moved to STEP, in one transaction — before any is sent."""
    groups: dict[str, list[tuple[PendingAction, dict[str, Any]]]] = defaultdict(list)
    for action in actions:
        payload = _payload(action, step)
        groups[repr(sorted(payload.items()))].append((action, payload))
    with transaction.atomic():
        for group in groups.values():
            for i in range(0, len(group), MAX_OFFERS_PER_COMMAND):
                chunk = group[i : i + MAX_OFFERS_PER_COMMAND]
                command = RemoteCommand.objects.create(
                    channel=channel,
                    kind=KIND_OF_STEP[step],
                    payload={**chunk[0][1], "flow": FLOW},
                    offer_ids=[action.listing.offer_id for action, _p in chunk],
                )
                PendingAction.objects.filter(
                    pk__in=[action.pk for action, _p in chunk],
                    state__in=(State.APPROVED, State.RUNNING),
                ).update(state=State.RUNNING, step=step, command=command)


# ------------------------------------------------------------------- send


def _send_unsent(
    channel: Channel, client: AllegroClient, result: LifecycleResult
) -> None:
    for command in _commands(channel, RemoteCommand.State.NEW):
        _send(client, command, result)


def _commands(channel: Channel, state: str) -> list[RemoteCommand]:
    running = PendingAction.objects.filter(
        channel=channel, state=State.RUNNING, command__isnull=False
    ).values("command")
    return list(
        RemoteCommand.objects.filter(pk__in=running, state=state).order_by("pk")
    )


def _send(
    client: AllegroClient, command: RemoteCommand, result: LifecycleResult
) -> None:
    payload, offer_ids = command.payload, list(command.offer_ids)
    command_id = str(command.command_id)
    command.attempts += 1
    try:
        if command.kind == RemoteCommand.Kind.RELIST_QUANTITY:
            client.put_quantity_command(command_id, offer_ids, value=payload["value"])
        elif command.kind == RemoteCommand.Kind.MODIFICATION:
            client.put_duration_command(
                command_id, offer_ids, duration=payload["duration"] or None
            )
        else:
            scheduled = payload.get("scheduledFor")
            client.put_publication_command(
                command_id,
                offer_ids,
                action=payload["action"],
                scheduled_for=parse_datetime(scheduled) if scheduled else None,
            )
    except PermanentError as exc:
        # Refused as a whole (e.g. a schedule already in the past): every plan
        # in it fails with Allegro's words; nothing was applied.
        _finish_command(command, RemoteCommand.State.FAILED, exc.user_message())
        _fail_actions(command, exc.user_message(), result)
        return
    except AllegroError as exc:
        # Transient: kept NEW, resent with the same id on the next pass.
        command.last_error = exc.user_message()
        command.save(update_fields=["attempts", "last_error"])
        raise
    command.state = RemoteCommand.State.SENT
    command.sent_at = timezone.now()
    command.last_error = Message()
    command.save(update_fields=["attempts", "state", "sent_at", "last_error"])
    _events(command, ListingEvent.Kind.SENT, _describe_command(command))
    result.sent += 1


def _describe_command(command: RemoteCommand) -> Message:
    p = command.payload
    if command.kind == RemoteCommand.Kind.RELIST_QUANTITY:
        return Message(texts.SENT_QUANTITY, n=p["value"])
    if command.kind == RemoteCommand.Kind.MODIFICATION:
        duration = p["duration"] or Message(texts.UNTIL_SOLD_OUT)
        return Message(texts.SENT_DURATION, d=duration)
    if p["action"] == "END":
        return Message(texts.SENT_END)
    if p.get("scheduledFor"):
        return Message(texts.SENT_ACTIVATE_AT, when=when(p["scheduledFor"]))
    return Message(texts.SENT_ACTIVATE)


# ------------------------------------------------------------- follow up


READERS: dict[str, Callable[[AllegroClient, str], schemas.CommandReport]] = {
    RemoteCommand.Kind.RELIST_QUANTITY: AllegroClient.get_quantity_command,
    RemoteCommand.Kind.PUBLICATION: AllegroClient.get_publication_command,
    RemoteCommand.Kind.MODIFICATION: AllegroClient.get_modification_command,
}
TASK_READERS: dict[str, Callable[[AllegroClient, str], list[schemas.CommandTask]]] = {
    RemoteCommand.Kind.RELIST_QUANTITY: AllegroClient.get_quantity_command_tasks,
    RemoteCommand.Kind.PUBLICATION: AllegroClient.get_publication_command_tasks,
    RemoteCommand.Kind.MODIFICATION: AllegroClient.get_modification_command_tasks,
}


def follow_up(channel: Channel, client: AllegroClient, result: LifecycleResult) -> None:
    """Resend what a crash left unsent, read the reports of what was sent, and
    send each relist's next step — a few rounds, so a quick Allegro finishes
    within one pass; whatever is still running is read on the next pass."""
    for _round in range(MAX_ROUNDS):
        _send_unsent(channel, client, result)
        progressed = False
        for command in _commands(channel, RemoteCommand.State.SENT):
            progressed |= _read(client, command, result)
        if not progressed:
            return


def _read(
    client: AllegroClient, command: RemoteCommand, result: LifecycleResult
) -> bool:
    command_id = str(command.command_id)
    if not READERS[command.kind](client, command_id).is_complete:
        return False
    tasks = TASK_READERS[command.kind](client, command_id)
    outcome = {task.offer_id: task for task in tasks}
    if any(task.status not in ("SUCCESS", "FAIL") for task in tasks) or set(
        outcome
    ) < set(command.offer_ids):
        return False  # not every offer accounted for yet
    command.results = {
        offer_id: {"status": task.status, "message": str(_task_message(task))}
        for offer_id, task in outcome.items()
    }
    next_step: list[PendingAction] = []
    # One transaction: the report, every plan's outcome and the next commands
    # (stored, not yet sent) — a crash leaves all of it or none of it.
    with transaction.atomic():
        _finish_command(command, RemoteCommand.State.DONE, Message())
        actions = PendingAction.objects.filter(
            command=command, state=State.RUNNING
        ).select_related("listing", "channel")
        for action in actions:
            task = outcome[action.listing.offer_id]
            if task.status == "FAIL":
                fail_action(action, _task_message(task), command, result)
            elif _step_done(action, command, result):
                next_step.append(action)
        for step in (Step.DURATION, Step.ACTIVATE):
            _queue(command.channel, [a for a in next_step if a.step == step], step)
    return True


def _task_message(task: schemas.CommandTask) -> Message:
    """Allegro's own words about one offer (in the language it chose)."""
    words = [e.user_message or e.message or e.code for e in task.errors]
    return Message.literal("; ".join(t for t in words if t) or (task.message or ""))


def _step_done(
    action: PendingAction, command: RemoteCommand, result: LifecycleResult
) -> bool:
    """Record one offer's success; True when the action has a next step
    (its ``step`` then names it)."""
    listing = action.listing
    now = timezone.now()
    if action.step == Step.QUANTITY:
        Listing.objects.filter(pk=listing.pk).update(known_quantity=action.quantity)
        record_event(
            listing, ListingEvent.Kind.CONFIRMED, Message(texts.QUANTITY_SET), command
        )
        action.step = Step.DURATION
        return True
    if action.step == Step.DURATION:
        record_event(
            listing, ListingEvent.Kind.CONFIRMED, Message(texts.DURATION_SET), command
        )
        action.step = Step.ACTIVATE
        return True
    if action.step == Step.END:
        Listing.objects.filter(pk=listing.pk).update(
            status="ENDED",
            ended_at=now,
            ended_by="USER",
            relist_pending_since=now,
            relist_struck_off=False,
        )
        record_event(
            listing,
            ListingEvent.Kind.CONFIRMED,
            Message(texts.ENDED_PENDING),
            command,
        )
        result.ended += 1
    else:  # ACTIVATE
        scheduled = command.payload.get("scheduledFor")
        Listing.objects.filter(pk=listing.pk).update(
            status="ACTIVATING" if scheduled else "ACTIVE",
            ended_at=None,
            ended_by="",
            relist_pending_since=None,
            relist_struck_off=False,
        )
        record_event(
            listing, ListingEvent.Kind.RELISTED, Message(texts.RELISTED), command
        )
        result.relisted += 1
    PendingAction.objects.filter(pk=action.pk).update(
        state=State.DONE, finished_at=now, message=Message()
    )
    return False


def fail_action(
    action: PendingAction,
    message: Message,
    command: RemoteCommand | None,
    result: LifecycleResult,
) -> None:
    PendingAction.objects.filter(pk=action.pk).update(
        state=State.FAILED, finished_at=timezone.now(), message=message
    )
    record_event(
        action.listing,
        ListingEvent.Kind.FAILED,
        Message(texts.REFUSED_BY_ALLEGRO, text=message),
        command,
    )
    result.failed += 1


def _fail_actions(
    command: RemoteCommand, message: Message, result: LifecycleResult
) -> None:
    actions = PendingAction.objects.filter(command=command, state=State.RUNNING)
    for action in actions.select_related("listing"):
        fail_action(action, message, command, result)


def _finish_command(command: RemoteCommand, state: str, error: Message) -> None:
    command.state = state
    command.completed_at = timezone.now()
    command.last_error = error
    command.save(
        update_fields=["state", "completed_at", "last_error", "results", "attempts"]
    )


def record_event(
    listing: Listing, kind: str, message: Message, command: RemoteCommand | None = None
) -> None:
    ListingEvent.objects.create(
        listing=listing, kind=kind, message=message, command=command
    )


def _events(command: RemoteCommand, kind: str, message: Message) -> None:
    listing_ids = PendingAction.objects.filter(command=command).values_list(
        "listing_id", flat=True
    )
    ListingEvent.objects.bulk_create(
        ListingEvent(listing_id=pk, kind=kind, message=message, command=command)
        for pk in listing_ids
    )


def scheduled_for(command: RemoteCommand) -> datetime | None:
    value = command.payload.get("scheduledFor")
    return parse_datetime(value) if value else None
