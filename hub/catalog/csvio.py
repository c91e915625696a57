"""CSV import and export of stock items and levels: sku,title,ean,location,on_hand.

Files come from Excel as often as from scripts, so the reader accepts UTF-8 (with or
without the BOM Excel writes), falls back to Windows-1250 (what Polish Excel saves as
"CSV"), and takes `,`, `;` (Polish Excel's list separator) or tab as the delimiter.
The whole file is checked before anything is written (see rows.py).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Generator, Iterator, Mapping

from django.utils.translation import gettext as _

from hub.catalog import texts
from hub.catalog.models import StockItem, StockLevel
from hub.catalog.progress import Report, Step, no_report, run_steps
from hub.catalog.rows import COLUMNS, ApplyResult, RowError, RowsInvalid, applying
from hub.text.message import Message

DELIMITERS = (",", ";", "\t")
BOM = "\ufeff"
# Text cells that Excel would run as a formula (=, +, -, @ first) are written with
# a leading apostrophe, Excel's own "this is text" mark (OWASP: CSV injection).
# Cells that already start with apostrophes before one of those get one more, so
# the import takes exactly one off and an export → import round trip is exact.
# on_hand is a number: "-5" there is a (refused) negative quantity, not text.
TEXT_COLUMNS = ("sku", "title", "ean", "location")
FORMULA = re.compile(r"'*[=+\-@]")
ESCAPED_FORMULA = re.compile(r"'+[=+\-@]")


def escape_cell(value: str) -> str:
    return "'" + value if FORMULA.match(value) else value


def unescape_cell(value: str) -> str:
    text = value.strip()
    return text[1:] if ESCAPED_FORMULA.match(text) else value


def decode(data: bytes) -> str:
    if b"\x00" in data[:4096]:
        # Text never holds NUL bytes; an .xlsx (a zip) or an image does. The usual
        # mistake is uploading the spreadsheet itself.
        raise RowsInvalid(
            [
                RowError(
                    1,
                    "file",
                    _(
                        "is not a CSV file (it looks like a spreadsheet or other "
                        "binary file); in Excel use File → Save As → CSV"
                    ),
                )
            ]
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1250")
    except UnicodeDecodeError:
        raise RowsInvalid(
            [RowError(1, "file", _("is neither UTF-8 nor Windows-1250 text"))]
        ) from None


def guess_delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def read_header(header: list[str]) -> list[str]:
    names = [name.strip().lstrip(BOM).strip().lower() for name in header]
    errors = []
    for name in names:
        if name not in COLUMNS:
            message = _("unknown column %(name)s; the columns are: %(columns)s") % {
                "name": repr(name),
                "columns": ", ".join(COLUMNS),
            }
            errors.append(RowError(1, "header", message))
    for name in sorted({n for n in names if names.count(n) > 1}):
        message = _("column %(name)s appears twice") % {"name": name}
        errors.append(RowError(1, "header", message))
    if "sku" not in names:
        errors.append(RowError(1, "header", _("a sku column is required")))
    if errors:
        raise RowsInvalid(errors)
    return names


def read_csv(data: bytes) -> list[tuple[int, dict[str, str]]]:
    """Rows as (line number, {column: text}); RowsInvalid for a broken file."""
    text = decode(data)
    if not text.strip():
        raise RowsInvalid([RowError(1, "file", _("is empty"))])
    first_line = text.lstrip("\r\n").splitlines()[0]
    delimiter = guess_delimiter(first_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[tuple[int, dict[str, str]]] = []
    errors: list[RowError] = []
    names: list[str] | None = None
    try:
        for record in reader:
            if not any(cell.strip() for cell in record):
                continue
            if names is None:
                names = read_header(record)
                continue
            # Excel pads short rows with empty cells; only real extra values count.
            extra = record[len(names) :]
            if any(cell.strip() for cell in extra):
                message = _("has %(found)s fields; the header has %(expected)s") % {
                    "found": len(record),
                    "expected": len(names),
                }
                errors.append(RowError(reader.line_num, "row", message))
                continue
            row = dict(zip(names, record, strict=False))
            for name in TEXT_COLUMNS:
                if name in row:
                    row[name] = unescape_cell(row[name])
            rows.append((reader.line_num, row))
    except csv.Error as exc:
        errors.append(RowError(reader.line_num, "row", str(exc)))
    if errors:
        raise RowsInvalid(errors)
    if not rows:
        raise RowsInvalid([RowError(1, "file", _("has a header but no rows"))])
    return rows


def import_csv(data: bytes, actor: str = "", report: Report = no_report) -> ApplyResult:
    """Read, check and apply a whole file; RowsInvalid (nothing written) if bad."""
    return run_steps(importing(data, actor), report)


def importing(data: bytes, actor: str = "") -> Generator[Step, None, ApplyResult]:
    """import_csv step by step (hub.catalog.rows.applying)."""
    rows = read_csv(data)
    return (yield from applying(rows, reason=Message(texts.CSV_IMPORT), actor=actor))


def export_rows() -> Iterator[Mapping[str, object]]:
    """One row per stock level; an item without levels gets one row without.

    Text cells come escaped against formulas (escape_cell); import_csv undoes it.
    """
    levels = StockLevel.objects.select_related("location").order_by(
        "item_id", "location__name"
    )
    by_item: dict[int, list[StockLevel]] = {}
    items = StockItem.objects.order_by("sku")
    for start in range(0, items.count(), 1000):
        chunk = list(items[start : start + 1000])
        by_item.clear()
        for level in levels.filter(item_id__in=[i.pk for i in chunk]):
            by_item.setdefault(level.item_id, []).append(level)
        for item in chunk:
            base = {
                "sku": escape_cell(item.sku),
                "title": escape_cell(item.title),
                "ean": escape_cell(item.ean),
            }
            item_levels = by_item.get(item.pk, [])
            if not item_levels:
                yield {**base, "location": "", "on_hand": ""}
            for level in item_levels:
                yield {
                    **base,
                    "location": escape_cell(level.location.name),
                    "on_hand": level.on_hand,
                }


def export_csv(delimiter: str = ",", bom: bool = False) -> Iterator[str]:
    """The CSV text in pieces (for streaming): header first, then every row."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, COLUMNS, delimiter=delimiter, lineterminator="\r\n")
    writer.writeheader()
    yield (BOM if bom else "") + buffer.getvalue()
    for row in export_rows():
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(row)
        yield buffer.getvalue()
