"""The dispatch actions of `allegro-hub orders` (kept apart from the listing)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from hub.catalog.rows import RowsInvalid
from hub.orders.dispatch_csv import Options, dispatch_csv, summary
from hub.orders.dispatching import (
    DispatchRequest,
    NotDispatchable,
    dispatch_or_add_tracking,
    find_lines,
    find_order,
)
from hub.text import actor

FLAG_HELP = {
    "other_carrier": "send a carrier the channel does not list as its 'other carrier'",
    "without_stock": "dispatch unlinked lines without taking stock for them",
    "confirm_unpaid": "dispatch even if the order is not paid",
}


def add_dispatch_flags(parser: CommandParser) -> None:
    for name, text in FLAG_HELP.items():
        parser.add_argument(
            f"--{name.replace('_', '-')}", action="store_true", help=text
        )


def _explain(error: NotDispatchable) -> str:
    text = " ".join(
        f"{field}: {message}" if field else message
        for field, message in error.errors.items()
    )
    flags = {"unpaid": "--confirm-unpaid", "without_stock": "--without-stock"}
    hints = [flags[name] for name in error.confirm]
    if hints:
        text += " " + _("To go ahead anyway: %(flags)s.") % {"flags": " ".join(hints)}
    return text


def dispatch_one(command: BaseCommand, options: dict[str, Any]) -> None:
    try:
        order = find_order(str(options["order"]))
        lines = find_lines(order, options["lines"]) if options["lines"] else None
        done, added = dispatch_or_add_tracking(
            order,
            DispatchRequest(
                carrier=str(options["carrier"]),
                tracking_number=str(options["tracking"]),
                line_ids=lines,
                other_carrier=bool(options["other_carrier"]),
                without_stock=bool(options["without_stock"]),
                confirm_unpaid=bool(options["confirm_unpaid"]),
                actor=actor.CLI,
            ),
        )
    except NotDispatchable as exc:
        raise CommandError(_explain(exc)) from None
    count = done.lines.count()
    if added:
        text = _(
            "Tracking number %(number)s added to the dispatch of order %(order)s."
        ) % {"number": done.tracking_number, "order": order.external_id}
    else:
        text = ngettext(
            "Order %(order)s dispatched (%(lines)d line).",
            "Order %(order)s dispatched (%(lines)d lines).",
            count,
        ) % {"order": order.external_id, "lines": count}
    if done.tracking_number:
        text += " " + _("The tracking number waits in the outbox for the channel.")
    else:
        text += " " + _(
            "No tracking number: add it later with the same command and --tracking."
        )
    command.stdout.write(text)


def dispatch_file(command: BaseCommand, options: dict[str, Any]) -> None:
    path = Path(str(options["file"]))
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CommandError(
            _("Cannot read %(path)s: %(why)s") % {"path": path, "why": exc.strerror}
        ) from None
    flags = Options(
        other_carrier=bool(options["other_carrier"]),
        without_stock=bool(options["without_stock"]),
        confirm_unpaid=bool(options["confirm_unpaid"]),
        actor=actor.CLI,
    )
    try:
        done = dispatch_csv(data, flags)
    except RowsInvalid as exc:
        for error in exc.errors:
            command.stderr.write(str(error))
        raise CommandError(
            ngettext(
                "Nothing was dispatched: %(n)d problem.",
                "Nothing was dispatched: %(n)d problems.",
                len(exc.errors),
            )
            % {"n": len(exc.errors)}
        ) from None
    command.stdout.write(summary(done))
