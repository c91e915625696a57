"""Validate and apply stock rows (SKU, title, EAN, location, on_hand) in bulk.

The CSV import and the REST API both come through here, so they share one set of
rules: the whole batch is checked first, every bad row is reported with its line,
field and reason, and only a clean batch is written — in one transaction.

A blank title or EAN means "leave it as it is"; a blank on_hand leaves the level
alone; a blank location means the default location.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace

from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from hub.catalog import stock
from hub.catalog.models import Location, StockItem, StockLevel
from hub.catalog.progress import (
    PROGRESS_CHUNK,
    Report,
    Step,
    no_report,
    run_steps,
)

COLUMNS = ("sku", "title", "ean", "location", "on_hand")
SKU_MAX = StockItem._meta.get_field("sku").max_length or 100
TITLE_MAX = StockItem._meta.get_field("title").max_length or 255
# The database column is a 32-bit integer on every backend we support.
ON_HAND_MAX = 2_147_483_647
WHOLE_NUMBER = re.compile(r"\+?\d+")
# GTIN-8, UPC-A (12), EAN-13, GTIN-14.
EAN_LENGTHS = (8, 12, 13, 14)


@dataclass(frozen=True)
class RowError:
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return _("line %(line)s, %(field)s: %(message)s") % {
            "line": self.line,
            "field": self.field,
            "message": self.message,
        }


class RowsInvalid(Exception):
    """The batch has bad rows; nothing was written."""

    def __init__(self, errors: Sequence[RowError]) -> None:
        super().__init__(f"{len(errors)} bad row(s)")
        self.errors = list(errors)


@dataclass(frozen=True)
class StockRow:
    line: int
    sku: str
    title: str | None = None
    ean: str | None = None
    location: str | None = None
    on_hand: int | None = None
    # A bad title is reported once, not again as "a new item needs a title".
    title_invalid: bool = False


@dataclass
class ApplyResult:
    items_created: int = 0
    items_updated: int = 0
    levels_changed: int = 0
    levels_unchanged: int = 0
    skus: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return _(
            "%(created)s items created, %(updated)s updated; "
            "%(changed)s stock levels changed, %(unchanged)s unchanged."
        ) % {
            "created": self.items_created,
            "updated": self.items_updated,
            "changed": self.levels_changed,
            "unchanged": self.levels_unchanged,
        }


def gtin_check_digit_ok(code: str) -> bool:
    digits = [int(c) for c in code]
    body, check = digits[:-1], digits[-1]
    # Weights 3,1,3,1… from the digit next to the check digit.
    total = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


def clean_text(value: object) -> str:
    return "" if value is None else str(value).strip()


def parse_sku(line: int, value: object) -> tuple[str | None, list[RowError]]:
    sku = clean_text(value)
    if not sku:
        return None, [RowError(line, "sku", _("is required"))]
    if len(sku) > SKU_MAX:
        message = _("is %(length)s characters long; at most %(max)s allowed") % {
            "length": len(sku),
            "max": SKU_MAX,
        }
        return None, [RowError(line, "sku", message)]
    if any(ord(c) < 32 for c in sku):
        return None, [RowError(line, "sku", _("contains a tab or line break"))]
    return sku, []


def parse_title(line: int, value: object) -> tuple[str | None, list[RowError]]:
    title = clean_text(value)
    if len(title) > TITLE_MAX:
        message = _("is %(length)s characters long; at most %(max)s allowed") % {
            "length": len(title),
            "max": TITLE_MAX,
        }
        return None, [RowError(line, "title", message)]
    return title or None, []


def parse_ean(line: int, value: object) -> tuple[str | None, list[RowError]]:
    ean = clean_text(value)
    if not ean:
        return None, []
    if re.fullmatch(r"\d+([.,]\d+)?[eE]\+?\d+", ean):
        message = _(
            "%(value)s looks like a number Excel shortened; format the column as "
            "text and export again"
        ) % {"value": ean}
        return None, [RowError(line, "ean", message)]
    if not ean.isdigit() or len(ean) not in EAN_LENGTHS:
        message = _("%(value)s is not an EAN: expected 8, 12, 13 or 14 digits") % {
            "value": ean
        }
        return None, [RowError(line, "ean", message)]
    if not gtin_check_digit_ok(ean):
        message = _("%(value)s has a wrong check digit") % {"value": ean}
        return None, [RowError(line, "ean", message)]
    return ean, []


def parse_on_hand(line: int, value: object) -> tuple[int | None, list[RowError]]:
    if isinstance(value, bool):
        return None, [RowError(line, "on_hand", _("must be a whole number"))]
    if isinstance(value, int):
        text = str(value)
    else:
        text = clean_text(value)
        if not text:
            return None, []
    if text.startswith("-"):
        message = _("%(value)s is negative; stock on hand cannot be below 0") % {
            "value": text
        }
        return None, [RowError(line, "on_hand", message)]
    if not WHOLE_NUMBER.fullmatch(text):
        message = _("%(value)s is not a whole number") % {"value": text}
        return None, [RowError(line, "on_hand", message)]
    quantity = int(text)
    if quantity > ON_HAND_MAX:
        message = _("%(value)s is too large") % {"value": text}
        return None, [RowError(line, "on_hand", message)]
    return quantity, []


def parse_row(
    line: int, raw: Mapping[str, object]
) -> tuple[StockRow | None, list[RowError]]:
    """Check one row's fields on their own (no database, no other rows).

    A row with a good SKU comes back even with bad fields (those left None), so
    the checks across rows can still report everything in one go.
    """
    sku, errors = parse_sku(line, raw.get("sku"))
    title, title_errors = parse_title(line, raw.get("title"))
    ean, ean_errors = parse_ean(line, raw.get("ean"))
    on_hand, on_hand_errors = parse_on_hand(line, raw.get("on_hand"))
    location = clean_text(raw.get("location")) or None
    errors += title_errors + ean_errors + on_hand_errors
    if sku is None:
        return None, errors
    row = StockRow(line, sku, title, ean, location, on_hand, bool(title_errors))
    return row, errors


def resolve_locations(
    rows: Sequence[StockRow],
) -> tuple[dict[str | None, Location], list[RowError]]:
    """Map each row's location name to a Location; exact name, else unique casefold."""
    locations = list(Location.objects.all())
    by_name = {loc.name: loc for loc in locations}
    by_folded: dict[str, list[Location]] = {}
    for loc in locations:
        by_folded.setdefault(loc.name.casefold(), []).append(loc)
    resolved: dict[str | None, Location] = {}
    errors: list[RowError] = []
    for row in rows:
        if row.on_hand is None and row.location is None:
            continue
        if row.location is None:
            resolved[None] = resolved.get(None) or stock.default_location()
            continue
        if row.location in resolved:
            continue
        match = by_name.get(row.location)
        folded = by_folded.get(row.location.casefold(), [])
        if match is None and len(folded) == 1:
            match = folded[0]
        if match is None:
            known = ", ".join(sorted(by_name)) or "—"
            message = _(
                "unknown location %(name)s (known: %(known)s); add it under "
                "Inventory → Locations first"
            ) % {"name": row.location, "known": known}
            errors.append(RowError(row.line, "location", message))
        else:
            resolved[row.location] = match
    return resolved, errors


def position(line: int, numbered_by_line: bool) -> str:
    # CSV rows are numbered by file line; API rows (the caller that does not create
    # items) by their index in the list.
    if numbered_by_line:
        return _("line %(line)s") % {"line": line}
    return _("index %(index)s") % {"index": line}


def check_across_rows(
    rows: Sequence[StockRow],
    existing: Mapping[str, StockItem],
    locations: Mapping[str | None, Location],
    create_items: bool,
) -> list[RowError]:
    """Duplicates and contradictions within the batch; new SKUs need a title."""
    errors: list[RowError] = []
    first_level_line: dict[tuple[str, object], int] = {}
    first_value: dict[tuple[str, str], tuple[str, int]] = {}
    for row in rows:
        for name in ("title", "ean"):
            value = getattr(row, name)
            if value is None:
                continue
            seen = first_value.setdefault((row.sku, name), (value, row.line))
            if seen[0] != value:
                message = _("%(sku)s has a different %(field)s on %(where)s") % {
                    "sku": row.sku,
                    "field": name,
                    "where": position(seen[1], create_items),
                }
                errors.append(RowError(row.line, name, message))
        if row.on_hand is not None:
            location = locations.get(row.location)
            key = (row.sku, location.pk if location else row.location)
            first = first_level_line.setdefault(key, row.line)
            if first != row.line:
                message = _("%(sku)s at this location already appears on %(where)s")
                message %= {"sku": row.sku, "where": position(first, create_items)}
                errors.append(RowError(row.line, "sku", message))
    titled = {sku for (sku, name) in first_value if name == "title"}
    reported: set[str] = set()
    for row in rows:
        if row.sku in existing or row.sku in titled or row.sku in reported:
            continue
        if row.title_invalid:
            continue
        reported.add(row.sku)
        if create_items:
            message = _("%(sku)s is a new item, so it needs a title")
            errors.append(RowError(row.line, "title", message % {"sku": row.sku}))
        else:
            message = _("no stock item has the SKU %(sku)s")
            errors.append(RowError(row.line, "sku", message % {"sku": row.sku}))
    return errors


def existing_items(skus: Iterable[str]) -> dict[str, StockItem]:
    """The items with these SKUs in any case, keyed by the SKU as asked for."""
    wanted = sorted(set(skus))
    by_folded: dict[str, StockItem] = {}
    chunk = stock.read_chunk()
    for start in range(0, len(wanted), chunk):
        folded = sorted({sku.lower() for sku in wanted[start : start + chunk]})
        items = StockItem.objects.annotate(sku_folded=Lower("sku"))
        for item in items.filter(sku_folded__in=folded):
            by_folded[item.sku.lower()] = item
    return {sku: by_folded[sku.lower()] for sku in wanted if sku.lower() in by_folded}


def same_spelling(
    rows: Sequence[StockRow],
) -> tuple[list[StockRow], dict[str, StockItem]]:
    """Each row's SKU as the item already spells it (or as the batch first did),
    and the existing items by that SKU.

    SKUs are unique in any case: "demo-001" in a file updates DEMO-001.
    """
    existing = existing_items(row.sku for row in rows)
    spelling: dict[str, str] = {}
    for row in rows:
        item = existing.get(row.sku)
        spelling.setdefault(row.sku.lower(), item.sku if item else row.sku)
    same = [replace(row, sku=spelling[row.sku.lower()]) for row in rows]
    return same, {item.sku: item for item in existing.values()}


def upsert_items(
    rows: Sequence[StockRow], existing: Mapping[str, StockItem], result: ApplyResult
) -> Generator[Step, None, dict[str, int]]:
    """Create new items, update changed ones; return the item id of every SKU
    (a generator: yields its progress between statements)."""
    wanted: dict[str, StockItem] = {}
    for row in rows:
        current = wanted.get(row.sku) or existing.get(row.sku)
        item = StockItem(
            sku=row.sku,
            title=row.title or (current.title if current else ""),
            ean=row.ean or (current.ean if current else ""),
        )
        wanted[row.sku] = item
    to_write = []
    for sku, item in wanted.items():
        old = existing.get(sku)
        if old is None:
            result.items_created += 1
            to_write.append(item)
        elif (old.title, old.ean) != (item.title, item.ean):
            result.items_updated += 1
            to_write.append(item)
    # An upsert, not check-then-insert: a SKU created meanwhile is updated instead.
    now = timezone.now()
    for item in to_write:
        item.created_at = item.updated_at = now
    for start in range(0, len(to_write), PROGRESS_CHUNK):
        yield ("items", start, len(to_write))
        StockItem.objects.bulk_create(
            to_write[start : start + PROGRESS_CHUNK],
            batch_size=500,
            update_conflicts=True,
            unique_fields=["sku"],
            update_fields=["title", "ean", "updated_at"],
        )
    yield ("items", len(to_write), len(to_write))
    result.skus = list(wanted)
    return item_ids(list(wanted))


def item_ids(skus: Sequence[str]) -> dict[str, int]:
    """Item id per SKU, spelled exactly as stored (same_spelling made it so):
    the plain unique index, not the any-case one."""
    ids: dict[str, int] = {}
    chunk = stock.read_chunk()
    for start in range(0, len(skus), chunk):
        found = StockItem.objects.filter(sku__in=skus[start : start + chunk])
        ids.update(found.values_list("sku", "pk"))
    return ids


def write_levels(
    rows: Sequence[StockRow],
    item_ids: Mapping[str, int],
    locations: Mapping[str | None, Location],
    result: ApplyResult,
    reason: stock.Reason = "",
    actor: str = "",
) -> Iterator[Step]:
    wanted: dict[tuple[int, int], int] = {}
    for row in rows:
        if row.on_hand is not None:
            location = locations[row.location]
            wanted[(item_ids[row.sku], location.pk)] = row.on_hand
    current: dict[tuple[int, int], int] = {}
    ids = sorted({item_id for item_id, _loc in wanted})
    chunk = stock.read_chunk()
    for start in range(0, len(ids), chunk):
        levels = StockLevel.objects.filter(item_id__in=ids[start : start + chunk])
        for item_id, location_id, on_hand in levels.values_list(
            "item_id", "location_id", "on_hand"
        ):
            current[(item_id, location_id)] = on_hand
    changed = [
        (item_id, location_id, quantity)
        for (item_id, location_id), quantity in wanted.items()
        if current.get((item_id, location_id)) != quantity
    ]
    for start in range(0, len(changed), PROGRESS_CHUNK):
        yield ("levels", start, len(changed))
        stock.set_levels(changed[start : start + PROGRESS_CHUNK], reason, actor)
    yield ("levels", len(changed), len(changed))
    result.levels_changed = len(changed)
    result.levels_unchanged = len(wanted) - len(changed)


def parse_rows(
    raw_rows: Iterable[tuple[int, Mapping[str, object]]],
) -> tuple[list[StockRow], list[RowError]]:
    rows: list[StockRow] = []
    errors: list[RowError] = []
    for line, raw in raw_rows:
        row, row_errors = parse_row(line, raw)
        errors += row_errors
        if row is not None:
            rows.append(row)
    return rows, errors


def apply_rows(
    raw_rows: Iterable[tuple[int, Mapping[str, object]]],
    create_items: bool = True,
    reason: stock.Reason = "",
    actor: str = "",
    report: Report = no_report,
) -> ApplyResult:
    """Validate every row, then write all of them in one transaction — or nothing.

    Raises RowsInvalid with every error found (sorted by line) when any row is bad.
    With create_items=False an unknown SKU is an error instead of a new item.
    ``report`` hears where it got to (STEPS), between statements.
    """
    return run_steps(applying(raw_rows, create_items, reason, actor), report)


def applying(
    raw_rows: Iterable[tuple[int, Mapping[str, object]]],
    create_items: bool = True,
    reason: stock.Reason = "",
    actor: str = "",
) -> Generator[Step, None, ApplyResult]:
    """apply_rows as a generator: yields (step, done, total) between statements and
    returns the result, so a page can stream its progress. The transaction spans
    the yields: run it to the end in one thread; closing it early rolls back."""
    raw_rows = list(raw_rows)
    rows: list[StockRow] = []
    errors: list[RowError] = []
    for start in range(0, len(raw_rows), PROGRESS_CHUNK):
        yield ("check", start, len(raw_rows))
        chunk_rows, chunk_errors = parse_rows(raw_rows[start : start + PROGRESS_CHUNK])
        rows += chunk_rows
        errors += chunk_errors
    with transaction.atomic():
        rows, existing = same_spelling(rows)
        locations, location_errors = resolve_locations(rows)
        errors += location_errors + check_across_rows(
            rows, existing, locations, create_items
        )
        if errors:
            raise RowsInvalid(sorted(errors, key=lambda e: (e.line, e.field)))
        yield ("check", len(raw_rows), len(raw_rows))
        result = ApplyResult()
        item_ids = yield from upsert_items(rows, existing, result)
        yield from write_levels(rows, item_ids, locations, result, reason, actor)
    return result
