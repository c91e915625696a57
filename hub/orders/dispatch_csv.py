"""Dispatch many orders from a CSV: order id, carrier, tracking number[, lines].

The same rules as every other entry point (dispatching.dispatch_order). The
whole file is tried in one transaction: if any row is refused, every problem is
reported (line, column, reason) and nothing is dispatched.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from hub.catalog.csvio import BOM, decode, guess_delimiter
from hub.catalog.rows import RowError, RowsInvalid
from hub.orders.dispatching import (
    DispatchRequest,
    NotDispatchable,
    dispatch_or_add_tracking,
    find_lines,
    find_order,
)
from hub.orders.models import Dispatch

MAX_ROWS = 10_000
# Header names people use → our column.
COLUMN_NAMES = {
    "order_id": "order_id",
    "order": "order_id",
    "orderid": "order_id",
    "checkout_form_id": "order_id",
    "carrier": "carrier",
    "tracking_number": "tracking_number",
    "tracking": "tracking_number",
    "waybill": "tracking_number",
    "lines": "lines",
}
REQUIRED = ("order_id", "carrier", "tracking_number")
# A refusal's input → the file's column it is about (the ticks of the upload
# are about the order's lines and the order).
ERROR_COLUMNS = {"without_stock": "lines", "confirm_unpaid": "order_id", "": "order_id"}
# Lines within the lines cell: not , or ; (the file's delimiters).
LINE_SEPARATORS = re.compile(r"[\s|+]+")


@dataclass(frozen=True)
class Outcome:
    dispatch: Dispatch
    added: bool  # the number went onto an earlier dispatch without one


@dataclass(frozen=True)
class Options:
    """What the seller ticked on the upload, for every row."""

    other_carrier: bool = False
    without_stock: bool = False
    confirm_unpaid: bool = False
    actor: str = ""  # who uploads it (hub.text.actor)


def _column(name: str) -> str:
    key = re.sub(r"[\s\-]+", "_", name.strip().lstrip(BOM).strip().lower())
    return COLUMN_NAMES.get(key, "")


def read_rows(data: bytes) -> list[tuple[int, dict[str, str]]]:
    text = decode(data)
    if not text.strip():
        raise RowsInvalid([RowError(1, "file", _("is empty"))])
    delimiter = guess_delimiter(text.lstrip("\r\n").splitlines()[0])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    names: list[str] | None = None
    rows: list[tuple[int, dict[str, str]]] = []
    try:
        for record in reader:
            if not any(cell.strip() for cell in record):
                continue
            if names is None:
                names = _header(record)
                continue
            rows.append((reader.line_num, dict(zip(names, record, strict=False))))
    except csv.Error as exc:
        raise RowsInvalid([RowError(reader.line_num, "row", str(exc))]) from None
    if not rows:
        raise RowsInvalid([RowError(1, "file", _("has a header but no rows"))])
    if len(rows) > MAX_ROWS:
        raise RowsInvalid(
            [RowError(1, "file", _("has more than %(n)d rows") % {"n": MAX_ROWS})]
        )
    return rows


def _header(record: list[str]) -> list[str]:
    names = [_column(cell) for cell in record]
    errors = [
        RowError(
            1,
            "header",
            _("unknown column %(name)s; the columns are: %(columns)s")
            % {
                "name": repr(cell.strip()),
                "columns": "order_id, carrier, tracking_number, lines",
            },
        )  # fmt: skip
        for cell, name in zip(record, names, strict=True)
        if not name and cell.strip()
    ]
    for column in REQUIRED:
        if column not in names:
            errors.append(
                RowError(
                    1, "header", _("a %(name)s column is required") % {"name": column}
                )
            )
    if errors:
        raise RowsInvalid(errors)
    return names


def dispatch_csv(data: bytes, options: Options) -> list[Outcome]:
    """Dispatch every row, or nothing (RowsInvalid with every problem). A row
    for lines that left without a tracking number adds the number to that
    dispatch."""
    rows = read_rows(data)
    errors: list[RowError] = []
    done: list[Outcome] = []
    with transaction.atomic():
        for line, row in rows:
            try:
                done.append(_dispatch_row(row, options))
            except NotDispatchable as exc:
                errors.extend(
                    RowError(line, ERROR_COLUMNS.get(field, field), message)
                    for field, message in exc.errors.items()
                )
        if errors:
            transaction.set_rollback(True)
    if errors:
        raise RowsInvalid(errors)
    return done


def _dispatch_row(row: dict[str, str], options: Options) -> Outcome:
    reference = (row.get("order_id") or "").strip()
    if not reference:
        raise NotDispatchable({"order_id": _("is empty")})
    try:
        order = find_order(reference)
    except NotDispatchable as exc:
        raise NotDispatchable({"order_id": exc.errors["order"]}) from None
    if not (row.get("tracking_number") or "").strip():
        raise NotDispatchable({"tracking_number": _("is empty")})
    refs = [ref for ref in LINE_SEPARATORS.split(row.get("lines") or "") if ref]
    line_ids = find_lines(order, refs) if refs else None
    with transaction.atomic():  # a savepoint: a refused row leaves no trace
        request = DispatchRequest(
            carrier=row.get("carrier") or "",
            tracking_number=row.get("tracking_number") or "",
            line_ids=line_ids,
            other_carrier=options.other_carrier,
            without_stock=options.without_stock,
            confirm_unpaid=options.confirm_unpaid,
            actor=options.actor,
        )
        return Outcome(*dispatch_or_add_tracking(order, request))


def summary(done: list[Outcome]) -> str:
    """What a file did, in words: dispatches made, numbers added."""
    made = sum(1 for outcome in done if not outcome.added)
    added = len(done) - made
    parts = []
    if made or not added:
        parts.append(
            ngettext("%(n)d dispatch made.", "%(n)d dispatches made.", made)
            % {"n": made}
        )
    if added:
        parts.append(
            ngettext(
                "%(n)d tracking number added to an earlier dispatch.",
                "%(n)d tracking numbers added to earlier dispatches.",
                added,
            )
            % {"n": added}
        )
    return " ".join(parts)
