"""`allegro-hub listings list NAME [--show FILTER] [--search TEXT] [--json]`.

The inventory mapping screen on the command line: each listing, its stock item,
Allegro's quantity against the hub's target, and how the last push went.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from hub.allegro.models import Channel, Listing
from hub.allegro.views_mapping import MappingFilterForm, filtered


def listing_data(listing: Listing) -> dict[str, Any]:
    return {
        "offer_id": listing.offer_id,
        "title": listing.title,
        "external_id": listing.external_id,
        "format": listing.format,
        "status": listing.status,
        "ended_by": listing.ended_by,
        "sku": listing.stock_item.sku if listing.stock_item else None,
        "link": listing.link_method,
        "allegro_quantity": listing.known_quantity,
        "target": listing.target,
        "out_of_stock_live": listing.out_of_stock_live,
        "push_state": listing.push_state,
        "push_value": listing.push_value,
        "push_message": str(listing.push_message),
        "pushed_at": listing.pushed_at.isoformat() if listing.pushed_at else None,
    }


class Command(BaseCommand):
    help = "List a channel's Allegro listings and their stock links."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        list_ = sub.add_parser("list", help="list a channel's listings")
        list_.add_argument("name", help="the channel's name (SubSource)")
        list_.add_argument(
            "--show",
            default="",
            choices=[value for value, _label in MappingFilterForm.SHOW if value],
            help="only these listings",
        )
        list_.add_argument("--search", default="", help="offer id, external id, title")
        list_.add_argument("--limit", type=int, default=1000)
        list_.add_argument("--json", action="store_true", help="print JSON")

    def handle(self, *args: object, **options: Any) -> None:
        name = str(options["name"])
        channel = Channel.objects.filter(name=name).first()
        if channel is None:
            raise CommandError(_("No channel named %(name)s.") % {"name": repr(name)})
        limit = options["limit"]
        if limit < 1:
            raise CommandError(_("--limit must be a positive number."))
        form = MappingFilterForm({"q": options["search"], "show": options["show"]})
        rows = list(
            filtered(channel, form).select_related("stock_item").order_by("id")[:limit]
        )
        if options["json"]:
            data = [listing_data(listing) for listing in rows]
            self.stdout.write(json.dumps(data, indent=2, ensure_ascii=False))
            return
        for listing in rows:
            row = listing_data(listing)
            self.stdout.write(
                f"{listing.offer_id:<14} {listing.status:<10} "
                f"{row['sku'] or '-':<16} "
                f"{_dash(listing.known_quantity):>6} → {_dash(listing.target):<6} "
                f"{listing.push_state or '-':<8} {listing.title[:40]}"
                + (f"  ({listing.push_message})" if listing.push_message else "")
            )
        if not rows:
            self.stdout.write(_("No listings."))


def _dash(value: int | None) -> str:
    return "-" if value is None else str(value)
