"""`allegro-hub stock import FILE | export FILE | set SKU QTY [--location NAME]`."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils.translation import gettext as _

from hub.catalog import csvio, stock, texts
from hub.catalog.models import Location, StockItem
from hub.catalog.progress import PROGRESS_CHUNK, STEP_NAMES, percent
from hub.catalog.rows import RowsInvalid, parse_on_hand
from hub.text import actor
from hub.text.message import Message


class ProgressLines:
    """A long import's progress as a line per step and per tenth of the whole,
    on stderr (stdout keeps the summary for scripts). A file shorter than one
    chunk of rows takes a second or two: no lines."""

    def __init__(self, write: Callable[[str], object]) -> None:
        self.write = write
        self.step = ""
        self.shown = -10

    def __call__(self, step: str, done: int, total: int) -> None:
        if total < PROGRESS_CHUNK:
            return
        now = percent(step, done, total)
        if step == self.step and now < self.shown + 10 and done < total:
            return
        self.step, self.shown = step, now
        self.write(
            _("%(percent)3d%%  %(step)s: %(done)s of %(total)s")
            % {"percent": now, "step": STEP_NAMES[step], "done": done, "total": total}
        )


class Command(BaseCommand):
    help = "Import, export or set stock."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="Import items and levels from a CSV file.")
        imp.add_argument(
            "file", help="CSV file (sku,title,ean,location,on_hand); - = stdin"
        )
        exp = sub.add_parser("export", help="Export items and levels to a CSV file.")
        exp.add_argument("file", help="where to write; - = stdout")
        exp.add_argument(
            "--excel",
            action="store_true",
            help="semicolons and a UTF-8 BOM, for Polish Excel",
        )
        put = sub.add_parser("set", help="Set the on-hand quantity of one SKU.")
        put.add_argument("sku")
        put.add_argument("quantity")
        put.add_argument("--location", help="location name (default: the default one)")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "import":
            self.import_file(options["file"])
        elif action == "export":
            self.export_file(options["file"], options["excel"])
        else:
            self.set_quantity(options["sku"], options["quantity"], options["location"])

    def import_file(self, name: str) -> None:
        try:
            data = sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
        except OSError as exc:
            raise CommandError(
                _("cannot read %(name)s: %(reason)s")
                % {"name": name, "reason": exc.strerror}
            ) from None
        try:
            result = csvio.import_csv(
                data, actor=actor.CLI, report=ProgressLines(self.stderr.write)
            )
        except RowsInvalid as exc:
            for error in exc.errors:
                self.stderr.write(f"{name}: {error}")
            raise CommandError(
                _("%(count)s problem(s) in %(name)s; nothing was imported")
                % {"count": len(exc.errors), "name": name}
            ) from None
        self.stdout.write(result.summary())

    def export_file(self, name: str, excel: bool) -> None:
        pieces = csvio.export_csv(delimiter=";" if excel else ",", bom=excel)
        if name == "-":
            for piece in pieces:
                self.stdout.write(piece, ending="")
            return
        count = -1  # the header is not a row
        try:
            with open(name, "w", encoding="utf-8", newline="") as f:
                for piece in pieces:
                    f.write(piece)
                    count += 1
        except OSError as exc:
            raise CommandError(
                _("cannot write %(name)s: %(reason)s")
                % {"name": name, "reason": exc.strerror}
            ) from None
        self.stdout.write(
            _("Wrote %(count)s row(s) to %(name)s.") % {"count": count, "name": name}
        )

    def set_quantity(self, sku: str, text: str, location_name: str | None) -> None:
        quantity, errors = parse_on_hand(0, text)
        if errors or quantity is None:
            message = errors[0].message if errors else _("is required")
            raise CommandError(_("quantity %(message)s") % {"message": message})
        item = StockItem.objects.filter(sku=sku).first()
        if item is None:
            raise CommandError(_("no stock item with SKU %(sku)r") % {"sku": sku})
        if location_name is None:
            location = stock.default_location()
        else:
            found = Location.objects.filter(name=location_name).first()
            if found is None:
                names = ", ".join(Location.objects.values_list("name", flat=True))
                raise CommandError(
                    _("no location %(name)r (known: %(known)s)")
                    % {"name": location_name, "known": names}
                )
            location = found
        with transaction.atomic():
            stock.set_on_hand(item, location, quantity, Message(texts.SET), actor.CLI)
        available = stock.available(item, location)
        self.stdout.write(
            _("%(sku)s at %(location)s: on hand %(on_hand)s, available %(available)s.")
            % {
                "sku": sku,
                "location": location.name,
                "on_hand": quantity,
                "available": available,
            }
        )
