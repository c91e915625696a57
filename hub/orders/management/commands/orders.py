"""`allegro-hub orders list [--channel NAME] [--status S] [--unlinked] [--json]`,
`allegro-hub orders dispatch ORDER --carrier C --tracking T [--lines L …]`,
`allegro-hub orders dispatch-csv FILE`.

The list is newest first. ``--json`` prints one JSON document for scripts: the API's
order shape (hub/orders/serialize.py); otherwise a plain table.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone
from django.utils.translation import gettext as _

from hub.orders.management.dispatch import (
    add_dispatch_flags,
    dispatch_file,
    dispatch_one,
)
from hub.orders.models import Order
from hub.orders.serialize import order_data


class Command(BaseCommand):
    help = "List and dispatch orders."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        list_ = sub.add_parser("list", help="list orders, newest first")
        list_.add_argument("--channel", default="", help="the channel's name")
        list_.add_argument("--status", choices=[s.value for s in Order.Status])
        list_.add_argument(
            "--unlinked", action="store_true", help="only orders with unlinked lines"
        )
        list_.add_argument("--limit", type=int, default=100)
        list_.add_argument("--json", action="store_true", help="print JSON")
        one = sub.add_parser("dispatch", help="dispatch an order or some of its lines")
        one.add_argument("order", help="the order's channel id or hub number")
        one.add_argument("--carrier", default="", help="carrier name or id")
        one.add_argument("--tracking", default="", help="tracking number")
        one.add_argument(
            "--lines",
            nargs="+",
            default=None,
            help="only these lines: channel line id, offer id or SKU",
        )
        many = sub.add_parser(
            "dispatch-csv",
            help="dispatch from a CSV: order_id,carrier,tracking_number[,lines]",
        )
        many.add_argument("file", help="the CSV file")
        for parser_ in (one, many):
            add_dispatch_flags(parser_)

    def handle(self, *args: object, **options: object) -> None:
        if options["action"] == "dispatch":
            dispatch_one(self, options)
            return
        if options["action"] == "dispatch-csv":
            dispatch_file(self, options)
            return
        limit = options["limit"]
        if not isinstance(limit, int) or limit < 1:
            raise CommandError(_("--limit must be a positive number."))
        orders = Order.objects.select_related("location").prefetch_related(
            "lines__stock_item"
        )
        if options["channel"]:
            orders = orders.filter(sub_source=options["channel"])
        if options["status"]:
            orders = orders.filter(status=options["status"])
        if options["unlinked"]:
            orders = orders.filter(has_unlinked_lines=True)
        page = list(orders.order_by("-bought_at", "-id")[:limit])
        if options["json"]:
            rows = [order_data(order) for order in page]
            self.stdout.write(json.dumps(rows, indent=2, cls=DjangoJSONEncoder))
            return
        for order in page:
            lines = ", ".join(
                f"{li.quantity}× {li.title[:30]}" for li in order.lines.all()
            )
            flags = _("paid") if order.paid else _("unpaid")
            if order.has_unlinked_lines:
                flags += ", " + _("UNLINKED")
            bought = timezone.localtime(order.bought_at)
            self.stdout.write(
                f"{bought:%Y-%m-%d %H:%M}  {order.sub_source:<16} "
                f"{order.external_id:<36}  {order.status:<10} "
                f"{order.channel_status:<20} {order.total:>10} {order.currency:<3}  "
                f"({flags})  {lines}"
            )
        if not page:
            self.stdout.write(_("No orders."))
