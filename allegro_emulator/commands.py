"""Asynchronous batch commands: quantity change, publication and offer
modification (duration only) (api-notes §6).

``PUT`` answers 201 with an all-zero GeneralReport. The command is processed
when ``config.command_delay_seconds`` of emulated time has passed, at the start
of the next request (or on ``Emulator.process_commands()``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx

from allegro_emulator import offers as offers_mod
from allegro_emulator.state import Command, Offer, Task
from allegro_emulator.web import (
    ApiError,
    Ctx,
    error_object,
    int_param,
    iso,
    json_response,
    parse_dt,
)

if TYPE_CHECKING:
    from allegro_emulator.core import Handler
    from allegro_emulator.emulator import Emulator

KINDS = {
    "offer-quantity-change-commands": "quantity",
    "offer-publication-commands": "publication",
    "offer-modification-commands": "modification",
}
# SPEC ModificationPublication.duration enum (no 1-day value in a batch change).
BATCH_DURATIONS = {
    "PT72H", "PT120H", "PT168H", "PT240H", "PT480H", "PT720H",
    "P3D", "P5D", "P7D", "P10D", "P20D", "P30D",
}  # fmt: skip
AUCTION_DAYS = {1, 3, 5, 7, 10}  # api-notes §5.3
BUY_NOW_DAYS = {3, 5, 7, 10, 20, 30}
MESSAGES = {
    "OfferNotFoundException": "Offer not found",
    "INVALID_OFFER_QUANTITY": "The quantity can not be changed to less than 1.",
    "IllegalOfferUpdateException.IllegalEndedOfferUpdate": (
        "You cannot edit an expired offer with AUCTION in its sales format"
    ),
    "AvailableStockMustEqualToOneOrBeGreaterThanOne": (
        "Available stock must be equal to one or greater than one"
    ),
    "IllegalChangeAuctionQuantity": "Cannot change the quantity of an auction with bids",  # noqa: E501
    "OfferNotActiveException": "A draft offer cannot be ended",
    # TUT-OFFERS (api-notes §5.3): which duration changes are allowed. The code
    # name is the emulator's own (Allegro's is not documented).
    "IllegalDurationChange": "The duration of this offer cannot be changed",
}


def _kind(ctx: Ctx) -> str:
    return KINDS[ctx.path.split("/")[2]]


def _offer_ids(body: dict[str, Any], limit: int) -> list[str]:
    criteria = body.get("offerCriteria")
    if not isinstance(criteria, list) or not criteria:
        raise ApiError(
            422, "VALIDATION_ERROR", "offerCriteria is required", path="offerCriteria"
        )
    ids: list[str] = []
    for crit in criteria:
        if (
            not isinstance(crit, dict)
            or crit.get("type", "CONTAINS_OFFERS") != "CONTAINS_OFFERS"
        ):
            raise ApiError(
                422, "VALIDATION_ERROR", "Only CONTAINS_OFFERS is supported",
                path="offerCriteria.type",
            )  # fmt: skip
        for offer in crit.get("offers") or []:
            ids.append(str(offer.get("id")))
    if not ids:
        raise ApiError(422, "VALIDATION_ERROR", "No offers given", path="offerCriteria")
    if len(ids) > limit:
        raise ApiError(
            422,
            "VALIDATION_ERROR",
            f"Too many offers in one command (max {limit})",
            path="offerCriteria",
        )
    return ids


def _validate_quantity(body: dict[str, Any]) -> None:
    mod = body.get("modification")
    if not isinstance(mod, dict) or mod.get("changeType") not in ("FIXED", "GAIN"):
        raise ApiError(
            422, "VALIDATION_ERROR", "modification.changeType must be FIXED or GAIN",
            path="modification.changeType",
        )  # fmt: skip
    value = mod.get("value")
    if not isinstance(value, int) or isinstance(value, bool):
        raise ApiError(
            422, "VALIDATION_ERROR", "modification.value must be an integer",
            path="modification.value",
        )  # fmt: skip
    if mod["changeType"] == "FIXED" and value < 1:
        # api-notes §6.2: FIXED 0 is refused synchronously (#3910, #6166).
        raise ApiError(
            400,
            "INCORRECT_QUANTITY_VALUE",
            "Quantity value must be greater than 0",
            path="modification.value",
        )


def _validate_publication(emu: Emulator, body: dict[str, Any]) -> None:
    pub = body.get("publication")
    if not isinstance(pub, dict) or pub.get("action") not in ("ACTIVATE", "END"):
        raise ApiError(
            422, "VALIDATION_ERROR", "publication.action must be ACTIVATE or END",
            path="publication.action",
        )  # fmt: skip
    scheduled = pub.get("scheduledFor")
    if scheduled and pub["action"] == "ACTIVATE":
        when = parse_dt(scheduled, "publication.scheduledFor")
        if when < emu.clock.now():
            raise ApiError(
                422,
                "VALIDATION_ERROR",
                "You cannot schedule activating an offer in the past",
                path="publication.scheduledFor",
            )


def _validate_modification(body: dict[str, Any]) -> None:
    """Only ``modification.publication`` (duration) is emulated."""
    mod = body.get("modification")
    pub = mod.get("publication") if isinstance(mod, dict) else None
    if (
        not isinstance(mod, dict)
        or not isinstance(pub, dict)
        or set(mod) != {"publication"}
    ):
        raise ApiError(
            422, "VALIDATION_ERROR",
            "modification.publication is the only modification emulated",
            path="modification",
        )  # fmt: skip
    duration, unlimited = pub.get("duration"), pub.get("durationUnlimited")
    if (duration is None) == (unlimited is None) or unlimited not in (None, True):
        # api-notes §5.3: duration or durationUnlimited: true, not both.
        raise ApiError(
            422, "VALIDATION_ERROR",
            "Send either publication.duration or publication.durationUnlimited",
            path="modification.publication",
        )  # fmt: skip
    if duration is not None and duration not in BATCH_DURATIONS:
        raise ApiError(
            422, "VALIDATION_ERROR", f"Invalid duration: {duration}",
            path="modification.publication.duration",
        )  # fmt: skip


def put_command(emu: Emulator, ctx: Ctx) -> httpx.Response:
    kind = _kind(ctx)
    command_id = ctx.params["commandId"]
    if (kind, command_id) in emu.commands:
        # api-notes §6: a command id can be used once.
        raise ApiError(409, "CONFLICT", "Command id was already used")
    body = ctx.json()
    if not isinstance(body, dict):
        raise ApiError(422, "VALIDATION_ERROR", "Body must be an object")
    if kind == "quantity":
        _validate_quantity(body)
    elif kind == "modification":
        _validate_modification(body)
    else:
        _validate_publication(emu, body)
    ids = _offer_ids(body, emu.config.max_offers_per_command)
    now = emu.clock.now()
    cmd = Command(
        id=command_id,
        kind=kind,
        seller_id=ctx.seller_id,
        body=body,
        created_at=now,
        due_at=now + timedelta(seconds=emu.config.command_delay_seconds),
        tasks=[Task(offer_id=i) for i in ids],
    )
    emu.commands[(kind, command_id)] = cmd
    report = {
        "id": command_id,
        "createdAt": iso(now),
        "completedAt": None,
        "taskCount": {"total": 0, "success": 0, "failed": 0},
    }
    return json_response(201, report)


def _get_command(emu: Emulator, ctx: Ctx) -> Command:
    cmd = emu.commands.get((_kind(ctx), ctx.params["commandId"]))
    if cmd is None or cmd.seller_id != ctx.seller_id:
        raise ApiError(404, "NOT_FOUND", "Command not found")
    return cmd


def general_report(cmd: Command) -> dict[str, Any]:
    return {
        "id": cmd.id,
        "createdAt": iso(cmd.created_at),
        "completedAt": iso(cmd.completed_at),
        "taskCount": {
            "total": len(cmd.tasks),
            "success": sum(t.status == "SUCCESS" for t in cmd.tasks),
            "failed": sum(t.status == "FAIL" for t in cmd.tasks),
        },
    }


def get_command(emu: Emulator, ctx: Ctx) -> httpx.Response:
    return json_response(200, general_report(_get_command(emu, ctx)))


def get_tasks(emu: Emulator, ctx: Ctx) -> httpx.Response:
    cmd = _get_command(emu, ctx)
    limit = int_param(ctx, "limit", 100, 1, 1000)
    offset = int_param(ctx, "offset", 0, 0, 999)
    tasks = [
        {
            "offer": {"id": t.offer_id},
            "field": t.field,
            "status": t.status,
            "message": t.message,
            "errors": t.errors,
        }
        for t in cmd.tasks[offset : offset + limit]
    ]
    return json_response(200, {"tasks": tasks})


# --------------------------------------------------------------- processing


def process_due(emu: Emulator, now: datetime, force: bool = False) -> int:
    done = 0
    for cmd in emu.commands.values():
        if cmd.completed_at is None and (force or cmd.due_at <= now):
            _process(emu, cmd)
            cmd.completed_at = now
            done += 1
    return done


def _fail(task: Task, code: str) -> None:
    task.status = "FAIL"
    task.message = MESSAGES[code]
    task.errors = [
        error_object(code, MESSAGES[code], metadata={"offerId": task.offer_id})
    ]


def _process(emu: Emulator, cmd: Command) -> None:
    for task in cmd.tasks:
        offer = emu.offers.get(task.offer_id)
        if offer is None or offer.archived or offer.seller_id != cmd.seller_id:
            _fail(task, "OfferNotFoundException")
            continue
        if cmd.kind == "modification":
            _modify_duration(emu, task, offer, cmd.body["modification"]["publication"])
        elif cmd.kind == "quantity":
            task.field = "stock.available"
            mod = cmd.body["modification"]
            new = (
                mod["value"]
                if mod["changeType"] == "FIXED"
                else offer.stock + mod["value"]
            )
            if offer.format == "AUCTION" and offer.bids:
                _fail(task, "IllegalChangeAuctionQuantity")
            elif new < 1:
                # §6.2: the batch command never sets 0 (per-task error, #12233).
                _fail(task, "INVALID_OFFER_QUANTITY")
            else:
                if new != offer.stock:
                    offer.stock = new
                    offer.updated_at = emu.clock.now()
                    if offer.status in ("ACTIVE", "ACTIVATING"):
                        offers_mod.emit_offer_event(emu, offer, "OFFER_STOCK_CHANGED")
                task.status = "SUCCESS"
        else:
            task.field = "publication.status"
            pub = cmd.body["publication"]
            if pub["action"] == "END":
                if offer.status == "INACTIVE":
                    _fail(task, "OfferNotActiveException")
                    continue
                # Ending an already ENDED offer is a no-op success (unconfirmed).
                offers_mod.end_offer(emu, offer, "USER")
                task.status = "SUCCESS"
            else:
                scheduled = pub.get("scheduledFor")
                when = parse_dt(scheduled, "scheduledFor") if scheduled else None
                error = offers_mod.activate_offer(emu, offer, when)
                if error:
                    _fail(task, error)
                else:
                    task.status = "SUCCESS"


def _modify_duration(
    emu: Emulator, task: Task, offer: Offer, pub: dict[str, Any]
) -> None:
    """TUT-OFFERS (api-notes §5.3): INACTIVE any; ACTIVE auction none, BUY_NOW
    only to "until sold out"; ENDED auction none, BUY_NOW any."""
    task.field = "publication.duration"
    duration = pub.get("duration")
    delta = offers_mod.duration_delta(duration)
    days = delta.days if delta else None
    if offer.format == "AUCTION":
        allowed = offer.status == "INACTIVE" and days in AUCTION_DAYS
    elif offer.status in ("ACTIVE", "ACTIVATING"):
        allowed = duration is None
    else:
        allowed = days is None or days in BUY_NOW_DAYS
    if not allowed:
        _fail(task, "IllegalDurationChange")
        return
    offer.duration = duration
    offer.updated_at = emu.clock.now()
    task.status = "SUCCESS"


ROUTES: list[tuple[str, str, Handler, str]] = []
for _segment in KINDS:
    ROUTES += [
        ("PUT", f"/sale/{_segment}/{{commandId}}", put_command, "api"),
        ("GET", f"/sale/{_segment}/{{commandId}}", get_command, "api"),
        ("GET", f"/sale/{_segment}/{{commandId}}/tasks", get_tasks, "api"),
    ]
