"""Stock rules: available = on_hand − allocations, and the only ways to change them.

Every function here is safe to call twice: allocations are keyed by reference,
levels are changed with UPDATE … SET on_hand = on_hand ± n, never read-modify-write.

Every change writes a StockChange row in the same transaction (the item's stock
history, and how other apps learn that an item changed). ``reason`` says why, as a
hub.text Message (hub.catalog.texts: CSV import, Order 1234…), translated when
shown; ``actor`` says who ("user:alice", "token:ERP", "cli": hub.text.actor).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypedDict

from django.db import IntegrityError, connection, transaction
from django.db.models import (
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from hub.batch_sql import insert_values
from hub.catalog.models import (
    Allocation,
    Location,
    StockChange,
    StockItem,
    StockLevel,
)
from hub.text.message import Message

if TYPE_CHECKING:  # django-stubs is a development dependency only
    from django_stubs_ext import WithAnnotations

DEFAULT_LOCATION_NAME = "Default"


def read_chunk() -> int:
    """Ids or SKUs per `IN (…)` when reading many rows: PostgreSQL takes a long
    list in one round trip (a tenth of the time of 500 at a time); Django keeps
    SQLite under its 999 parameters."""
    return 5000 if connection.vendor == "postgresql" else 900


def default_location() -> Location:
    location = Location.objects.filter(is_default=True).first()
    if location is not None:
        return location
    try:
        with transaction.atomic():
            return Location.objects.create(name=DEFAULT_LOCATION_NAME, is_default=True)
    except IntegrityError:
        return Location.objects.get(is_default=True)


def available_by_item(
    item_ids: Iterable[int], location: Location | None = None
) -> dict[int, int]:
    """Available quantity per item id, at one location or summed over all.

    Can be negative when more is promised than is on hand (an oversell to resolve).
    """
    ids = list(item_ids)
    levels = StockLevel.objects.filter(item_id__in=ids)
    allocations = Allocation.objects.filter(item_id__in=ids)
    if location is not None:
        levels = levels.filter(location=location)
        allocations = allocations.filter(location=location)
    result = dict.fromkeys(ids, 0)
    for row in levels.values("item_id").annotate(total=Sum("on_hand")):
        result[row["item_id"]] += row["total"]
    for row in allocations.values("item_id").annotate(total=Sum("quantity")):
        result[row["item_id"]] -= row["total"]
    return result


def available_of_all_items(location: Location | None = None) -> dict[int, int]:
    """available_by_item for every item with a level or an allocation: two queries."""
    levels = StockLevel.objects.all()
    allocations = Allocation.objects.all()
    if location is not None:
        levels = levels.filter(location=location)
        allocations = allocations.filter(location=location)
    result: dict[int, int] = {}
    for row in levels.values("item_id").annotate(total=Sum("on_hand")):
        result[row["item_id"]] = row["total"]
    for row in allocations.values("item_id").annotate(total=Sum("quantity")):
        result[row["item_id"]] = result.get(row["item_id"], 0) - row["total"]
    return result


class AvailableFields(TypedDict):
    on_hand_total: int
    allocated_total: int
    available: int


if TYPE_CHECKING:
    ItemWithAvailable = WithAnnotations[StockItem, AvailableFields]


def annotate_available(
    items: QuerySet[StockItem], location: Location | None = None
) -> QuerySet[ItemWithAvailable]:
    """The same rule as available_by_item, computed by the database for filtering.

    Adds ``on_hand_total``, ``allocated_total`` and ``available`` (their
    difference, negative when oversold) to each item, at one location or summed
    over all; items with no level or allocation count 0. Two correlated
    subqueries over indexed item ids, so ``filter(available__lt=0)`` over the
    whole catalogue stays one query.
    """
    levels = StockLevel.objects.filter(item=OuterRef("pk"))
    allocations = Allocation.objects.filter(item=OuterRef("pk"))
    if location is not None:
        levels = levels.filter(location=location)
        allocations = allocations.filter(location=location)
    number = IntegerField()
    on_hand_sum = levels.values("item").annotate(total=Sum("on_hand")).values("total")
    allocated_sum = (
        allocations.values("item").annotate(total=Sum("quantity")).values("total")
    )
    return items.annotate(
        on_hand_total=Coalesce(Subquery(on_hand_sum), 0, output_field=number),
        allocated_total=Coalesce(Subquery(allocated_sum), 0, output_field=number),
    ).annotate(
        available=ExpressionWrapper(
            F("on_hand_total") - F("allocated_total"), output_field=number
        )
    )


def on_hand_by_item_location(item_ids: Iterable[int]) -> dict[tuple[int, int], int]:
    """On hand per (item id, location id), for showing many items in one query."""
    levels = StockLevel.objects.filter(item_id__in=list(item_ids))
    return {
        (item_id, location_id): quantity
        for item_id, location_id, quantity in levels.values_list(
            "item_id", "location_id", "on_hand"
        )
    }


@dataclass(frozen=True)
class LocationStock:
    location: Location
    on_hand: int | None  # None: no level at this location
    allocated: int

    @property
    def available(self) -> int:
        return (self.on_hand or 0) - self.allocated


def stock_by_location(item: StockItem) -> list[LocationStock]:
    """The item's on hand, allocated and available at every location (two queries
    plus the locations)."""
    levels = dict(
        StockLevel.objects.filter(item=item).values_list("location_id", "on_hand")
    )
    allocated = dict(
        Allocation.objects.filter(item=item)
        .values("location_id")
        .annotate(total=Sum("quantity"))
        .values_list("location_id", "total")
    )
    return [
        LocationStock(location, levels.get(location.pk), allocated.get(location.pk, 0))
        for location in Location.objects.all()
    ]


def allocated_by_item(item_ids: Iterable[int]) -> dict[int, int]:
    """Units promised per item id (all locations); 0 for items with none."""
    ids = list(item_ids)
    result = dict.fromkeys(ids, 0)
    rows = Allocation.objects.filter(item_id__in=ids).values("item_id")
    for row in rows.annotate(total=Sum("quantity")):
        result[row["item_id"]] = row["total"]
    return result


def available(item: StockItem, location: Location | None = None) -> int:
    return available_by_item([item.pk], location)[item.pk]


def on_hand(item: StockItem, location: Location | None = None) -> int:
    levels = StockLevel.objects.filter(item=item)
    if location is not None:
        levels = levels.filter(location=location)
    return levels.aggregate(total=Sum("on_hand"))["total"] or 0


def allocated(item: StockItem, location: Location | None = None) -> int:
    allocations = Allocation.objects.filter(item=item)
    if location is not None:
        allocations = allocations.filter(location=location)
    return allocations.aggregate(total=Sum("quantity"))["total"] or 0


Reason = Message | str
ACTOR_MAX = StockChange._meta.get_field("actor").max_length or 100


def set_on_hand(
    item: StockItem,
    location: Location,
    quantity: int,
    reason: Reason = "",
    actor: str = "",
) -> StockLevel:
    if quantity < 0:
        raise ValueError("on_hand cannot be negative")
    with transaction.atomic():
        before = (
            StockLevel.objects.select_for_update()
            .filter(item=item, location=location)
            .values_list("on_hand", flat=True)
            .first()
        )
        level, _created = StockLevel.objects.update_or_create(
            item=item, location=location, defaults={"on_hand": quantity}
        )
        if before != quantity:
            StockChange.objects.create(
                item=item,
                location=location,
                on_hand_before=before,
                on_hand_after=quantity,
                reason=reason,
                actor=actor[:ACTOR_MAX],
            )
    return level


def set_levels(
    levels: Iterable[tuple[int, int, int]], reason: Reason = "", actor: str = ""
) -> int:
    """Set many levels at once: (item id, location id, on_hand) each. Returns the count.

    One upsert per batch (INSERT … ON CONFLICT DO UPDATE), so thousands of rows take
    a few statements and a concurrent writer of the same level cannot cause a
    duplicate. Levels that really change get a StockChange each, written in bulk.
    Call it inside the caller's transaction for all-or-nothing.
    """
    rows = [
        StockLevel(item_id=item_id, location_id=location_id, on_hand=quantity)
        for item_id, location_id, quantity in levels
    ]
    if any(row.on_hand < 0 for row in rows):
        raise ValueError("on_hand cannot be negative")
    with transaction.atomic():
        before = _levels_before(rows)
        StockLevel.objects.bulk_create(
            rows,
            batch_size=500,
            update_conflicts=True,
            unique_fields=["item", "location"],
            update_fields=["on_hand", "updated_at"],
        )
        _record_levels(
            [
                (row.item_id, row.location_id, before.get(key), row.on_hand)
                for row in rows
                if before.get(key := (row.item_id, row.location_id)) != row.on_hand
            ],
            Message.coerce(reason),
            actor[:ACTOR_MAX],
        )
    return len(rows)


def _record_levels(
    changes: list[tuple[int, int, int | None, int]], reason: Message, actor: str
) -> None:
    """StockChange rows for (item id, location id, before, after), in bulk.

    Plain executemany: a CSV or API call may change thousands of levels, and
    building a model instance per row would cost more than the upsert itself.
    """
    table = connection.ops.quote_name(StockChange._meta.db_table)
    sql = (
        f"INSERT INTO {table} (item_id, location_id, on_hand_before, "
        "on_hand_after, allocated_delta, reason, actor, created_at) "
        "VALUES (%s, %s, %s, %s, 0, %s, %s, %s)"
    )
    stamp = connection.ops.adapt_datetimefield_value(timezone.now())
    field = StockChange._meta.get_field("reason")
    stored = field.get_db_prep_value(reason, connection)
    with connection.cursor() as cursor:
        for start in range(0, len(changes), 1000):
            cursor.executemany(
                sql,
                [
                    (item, location, before, after, stored, actor, stamp)
                    for item, location, before, after in changes[start : start + 1000]
                ],
            )


def _levels_before(rows: list[StockLevel]) -> dict[tuple[int, int], int]:
    """Current on_hand of the rows' (item, location) pairs, locked until commit."""
    item_ids = sorted({row.item_id for row in rows})
    current: dict[tuple[int, int], int] = {}
    chunk = read_chunk()
    for start in range(0, len(item_ids), chunk):
        levels = StockLevel.objects.select_for_update().filter(
            item_id__in=item_ids[start : start + chunk]
        )
        for item_id, location_id, quantity in levels.values_list(
            "item_id", "location_id", "on_hand"
        ):
            current[(item_id, location_id)] = quantity
    return current


def allocate(
    item: StockItem,
    location: Location,
    quantity: int,
    reference: str,
    reason: Reason = "",
    actor: str = "",
) -> bool:
    """Promise quantity under reference; False if the reference already holds one."""
    if quantity <= 0:
        raise ValueError("an allocation must be for at least one unit")
    try:
        with transaction.atomic():
            Allocation.objects.create(
                item=item, location=location, quantity=quantity, reference=reference
            )
            StockChange.objects.create(
                item=item,
                location=location,
                allocated_delta=quantity,
                reason=reason or reference,
                actor=actor[:ACTOR_MAX],
            )
    except IntegrityError:
        return False
    return True


Promise = tuple[int, int, int, str, Reason, str]


def allocate_many(promises: Iterable[Promise]) -> None:
    """Promise many new references at once: (item id, location id, quantity,
    reference, reason, actor). For references that hold nothing yet (e.g. new
    order lines); a reference already held fails the whole batch (IntegrityError)."""
    promises = list(promises)
    if any(promise[2] <= 0 for promise in promises):
        raise ValueError("an allocation must be for at least one unit")
    insert_values(
        Allocation,
        ("item_id", "location_id", "quantity", "reference"),
        [promise[:4] for promise in promises],
    )
    insert_values(
        StockChange,
        ("item_id", "location_id", "allocated_delta", "reason", "actor"),
        [
            (item, location, quantity, why or reference, actor[:ACTOR_MAX])
            for item, location, quantity, reference, why, actor in promises
        ],
    )


def release_many(allocations: Iterable[tuple[Allocation, Reason, str]]) -> None:
    """Drop these promises (allocations read in this transaction, with the
    reason and actor for each); only the ones this call deletes are recorded."""
    by_pk = {
        allocation.pk: (allocation, why, actor)
        for allocation, why, actor in allocations
    }
    if not by_pk:
        return
    gone = set(
        Allocation.objects.filter(pk__in=list(by_pk)).values_list("pk", flat=True)
    )
    Allocation.objects.filter(pk__in=list(gone)).delete()
    insert_values(
        StockChange,
        ("item_id", "location_id", "allocated_delta", "reason", "actor"),
        [
            (
                allocation.item_id, allocation.location_id, -allocation.quantity,
                why or allocation.reference, actor[:ACTOR_MAX],
            )
            for pk, (allocation, why, actor) in by_pk.items()
            if pk in gone
        ],
    )  # fmt: skip


def release(reference: str, reason: Reason = "", actor: str = "") -> bool:
    """Drop the promise under reference; False if there was none."""
    with transaction.atomic():
        allocation = Allocation.objects.filter(reference=reference).first()
        if allocation is None:
            return False
        # Only the transaction that deletes the row records the change.
        deleted, _ = Allocation.objects.filter(pk=allocation.pk).delete()
        if not deleted:
            return False
        StockChange.objects.create(
            item_id=allocation.item_id,
            location_id=allocation.location_id,
            allocated_delta=-allocation.quantity,
            reason=reason or reference,
            actor=actor[:ACTOR_MAX],
        )
    return True


def consume(reference: str, reason: Reason = "", actor: str = "") -> bool:
    """The promised units left the building: lower on_hand and end the allocation.

    One transaction, so a crash leaves either both changes or neither. Returns False
    when there is no allocation under reference (already consumed or released).
    """
    with transaction.atomic():
        allocation = Allocation.objects.filter(reference=reference).first()
        if allocation is None:
            return False
        # Delete first: only the transaction that deletes the row lowers on_hand.
        deleted, _ = Allocation.objects.filter(pk=allocation.pk).delete()
        if not deleted:
            return False
        levels = StockLevel.objects.filter(
            item=allocation.item_id, location=allocation.location_id
        )
        before = levels.select_for_update().values_list("on_hand", flat=True).first()
        # on_hand never goes below 0 (it may already be lower than promised).
        levels.update(on_hand=Greatest(F("on_hand") - allocation.quantity, 0))
        StockChange.objects.create(
            item_id=allocation.item_id,
            location_id=allocation.location_id,
            on_hand_before=before,
            on_hand_after=None
            if before is None
            else max(before - allocation.quantity, 0),
            allocated_delta=-allocation.quantity,
            reason=reason or reference,
            actor=actor[:ACTOR_MAX],
        )
    return True
