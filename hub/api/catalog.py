"""Stock items, levels and available quantities over REST (token auth, see auth.py)."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError

from hub.catalog import stock, texts
from hub.catalog.models import Location, StockItem
from hub.catalog.rows import RowsInvalid, apply_rows, parse_ean, parse_sku
from hub.text import actor
from hub.text import message as text

router = Router(tags=["stock"])

MAX_LEVELS_PER_CALL = 10_000
MAX_PAGE = 1000


class LevelOut(Schema):
    location: str
    on_hand: int


class ItemOut(Schema):
    sku: str
    title: str
    ean: str
    on_hand: int = Field(description="Sum over all locations.")
    allocated: int = Field(description="Promised to open orders.")
    available: int = Field(description="on_hand − allocated; negative = oversold.")
    levels: list[LevelOut]


class ItemPage(Schema):
    count: int
    items: list[ItemOut]


class ItemIn(Schema):
    sku: str = Field(max_length=100)
    title: str = Field(min_length=1, max_length=255)
    ean: str = ""


class ItemPatch(Schema):
    title: str | None = Field(None, min_length=1, max_length=255)
    ean: str | None = None


class LevelIn(Schema):
    sku: str
    location: str | None = Field(None, description="Empty = the default location.")
    # Strict: true, "7" and 2.0 are mistakes in the caller, not quantities.
    on_hand: int = Field(strict=True, description="A whole number, 0 or more.")


class LevelsIn(Schema):
    levels: list[LevelIn] = Field(max_length=MAX_LEVELS_PER_CALL)


class RowProblem(Schema):
    index: int = Field(description="Position in the levels list, from 0.")
    field: str
    message: str


class LevelsRejected(Schema):
    detail: str
    errors: list[RowProblem]


class LevelsResult(Schema):
    levels_changed: int
    levels_unchanged: int


class LocationOut(Schema):
    name: str
    is_default: bool


class Message(Schema):
    detail: str


def levels_rejected(errors: list[dict[str, Any]]) -> dict[str, Any] | None:
    """PUT /levels' own 422 for rows that fail the schema (a quantity of "7",
    true or 2.0), so every bad row comes back as index, field and message."""
    problems = []
    for error in errors:
        loc = list(error.get("loc", ()))
        if loc[:3] != ["body", "payload", "levels"] or len(loc) < 5:
            return None
        if not isinstance(loc[3], int):
            return None
        if error.get("type") == "missing":
            message = _("is required")
        elif loc[4] == "on_hand":
            # Not repeated back: the value can be anything, of any length.
            message = _("must be a whole number, written without quotes")
        else:
            message = str(error.get("msg", ""))
        problems.append(RowProblem(index=loc[3], field=str(loc[4]), message=message))
    detail = _("%(count)s problem(s); nothing was changed") % {"count": len(problems)}
    return LevelsRejected(detail=detail, errors=problems).dict()


def items_out(items: list[StockItem]) -> list[ItemOut]:
    """Quantities for many items in a fixed number of queries."""
    ids = [item.pk for item in items]
    names = dict(Location.objects.values_list("pk", "name"))
    on_hand = stock.on_hand_by_item_location(ids)
    allocated = stock.allocated_by_item(ids)
    available = stock.available_by_item(ids)
    levels_by_item: dict[int, list[LevelOut]] = {}
    for (item_id, location_id), quantity in sorted(on_hand.items()):
        level = LevelOut(location=names[location_id], on_hand=quantity)
        levels_by_item.setdefault(item_id, []).append(level)
    result = []
    for item in items:
        levels = levels_by_item.get(item.pk, [])
        result.append(
            ItemOut(
                sku=item.sku,
                title=item.title,
                ean=item.ean,
                on_hand=sum(level.on_hand for level in levels),
                allocated=allocated[item.pk],
                available=available[item.pk],
                levels=levels,
            )
        )
    return result


def checked_ean(value: str) -> str:
    ean, errors = parse_ean(0, value)
    if errors:
        raise HttpError(422, _("ean: %(reason)s") % {"reason": errors[0].message})
    return ean or ""


def checked_title(value: str) -> str:
    # Pydantic's min_length counts spaces; a title of spaces is no title.
    title = value.strip()
    if not title:
        raise HttpError(422, _("title: is required"))
    return title


def get_item(sku: str) -> StockItem:
    item = StockItem.objects.filter(sku=sku).first()
    if item is None:
        raise HttpError(404, _("no stock item with SKU %(sku)r") % {"sku": sku})
    return item


@router.get("/locations", response=list[LocationOut])
def list_locations(request: HttpRequest) -> list[Location]:
    stock.default_location()
    return list(Location.objects.all())


@router.get("/items", response=ItemPage)
def list_items(
    request: HttpRequest,
    search: str = "",
    sku: list[str] = Query(default_factory=list),  # noqa: B008
    limit: int = Query(100, ge=1, le=MAX_PAGE),  # noqa: B008
    offset: int = Query(0, ge=0),  # noqa: B008
) -> ItemPage:
    """Items with on hand, allocated and available; filter by search text or SKUs."""
    items = StockItem.objects.order_by("sku")
    if search:
        items = items.filter(
            Q(sku__icontains=search) | Q(title__icontains=search) | Q(ean=search)
        )
    if sku:
        items = items.filter(sku__in=sku[:MAX_PAGE])
    page = list(items[offset : offset + limit])
    return ItemPage(count=items.count(), items=items_out(page))


@router.get("/items/{path:sku}", response={200: ItemOut, 404: Message})
def read_item(request: HttpRequest, sku: str) -> ItemOut:
    return items_out([get_item(sku)])[0]


@router.post("/items", response={201: ItemOut, 409: Message, 422: Message})
def create_item(request: HttpRequest, payload: ItemIn) -> Status[ItemOut]:
    sku, errors = parse_sku(0, payload.sku)
    if errors or sku is None:
        raise HttpError(422, _("sku: %(reason)s") % {"reason": errors[0].message})
    title = checked_title(payload.title)
    ean = checked_ean(payload.ean)
    try:
        with transaction.atomic():
            item = StockItem.objects.create(sku=sku, title=title, ean=ean)
    except IntegrityError:
        message = _("a stock item with SKU %(sku)r exists already") % {"sku": sku}
        raise HttpError(409, message) from None
    return Status(201, items_out([item])[0])


@router.patch("/items/{path:sku}", response={200: ItemOut, 404: Message, 422: Message})
def update_item(request: HttpRequest, sku: str, payload: ItemPatch) -> ItemOut:
    item = get_item(sku)
    if payload.title is not None:
        item.title = checked_title(payload.title)
    if payload.ean is not None:
        item.ean = checked_ean(payload.ean)
    item.save(update_fields=["title", "ean", "updated_at"])
    return items_out([item])[0]


@router.put("/levels", response={200: LevelsResult, 422: LevelsRejected})
def set_levels(
    request: HttpRequest, payload: LevelsIn
) -> LevelsResult | Status[LevelsRejected]:
    """Set on-hand quantities in bulk: all rows in one transaction, or none.

    Any bad row (unknown SKU or location, negative quantity, the same SKU and
    location twice) rejects the whole call with every problem listed.
    """
    raw = [(index, level.dict()) for index, level in enumerate(payload.levels)]
    try:
        result = apply_rows(
            raw,
            create_items=False,
            reason=text.Message(texts.API),
            actor=actor.of_request(request),
        )
    except RowsInvalid as exc:
        problems = [
            RowProblem(index=e.line, field=e.field, message=e.message)
            for e in exc.errors
        ]
        detail = _("%(count)s problem(s); nothing was changed") % {
            "count": len(problems)
        }
        return Status(422, LevelsRejected(detail=detail, errors=problems))
    return LevelsResult(
        levels_changed=result.levels_changed,
        levels_unchanged=result.levels_unchanged,
    )
