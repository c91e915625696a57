"""`allegro-hub sync NAME [--only orders,…]`: one pass of a channel's sync flows.

Prints what each flow did. Exits non-zero when a flow fails (the error, in plain
words, goes to stderr and to the channel's health on the channel list).
Each flow is a plain function in hub/allegro/sync/; add yours to FLOWS.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError
from django.utils.translation import gettext as _

from hub.allegro.client import AllegroClient, client_for_channel
from hub.allegro.errors import AllegroError
from hub.allegro.models import Channel
from hub.allegro.sync.inventory import push_changed
from hub.allegro.sync.listings import sync_listings
from hub.allegro.sync.orders import CursorMoved, DatabaseTrouble, sync_orders

Progress = Callable[[str], None]


def run_orders(channel_id: int, client: AllegroClient, progress: Progress) -> str:
    return sync_orders(channel_id, client, progress=progress).summary()


def run_listings(channel_id: int, client: AllegroClient, progress: Progress) -> str:
    return sync_listings(channel_id, client, progress=progress).summary()


def run_inventory(channel_id: int, client: AllegroClient, progress: Progress) -> str:
    return push_changed(channel_id, client, full=True).summary()


# Flow name → runner, in the order a full pass runs them: orders first, so a
# sale on Allegro is allocated before inventory computes its targets.
FLOWS: dict[str, Callable[[int, AllegroClient, Progress], str]] = {
    "orders": run_orders,
    "listings": run_listings,
    "inventory": run_inventory,
}


class Command(BaseCommand):
    help = "Run one pass of a channel's sync flows and print what they did."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="the channel's name (SubSource)")
        parser.add_argument(
            "--only",
            default="",
            help="comma-separated flows to run (default: all): " + ", ".join(FLOWS),
        )
        parser.add_argument("--quiet", action="store_true", help="no progress lines")

    def handle(self, *args: object, **options: object) -> None:
        name = str(options["name"])
        channel = Channel.objects.filter(name=name).first()
        if channel is None:
            raise CommandError(_("No channel named %(name)s.") % {"name": repr(name)})
        flows = self.chosen_flows(str(options["only"]))

        def progress(text: str) -> None:
            if not options["quiet"]:
                self.stdout.write(f"  {text}")

        failed = []
        with client_for_channel(channel) as client:
            for flow in flows:
                self.stdout.write(f"{channel.name} · {flow}:")
                try:
                    summary = FLOWS[flow](channel.pk, client, progress)
                except AllegroError as exc:
                    self.stderr.write(f"{channel.name} · {flow}: {exc.user_text()}")
                    failed.append(flow)
                    if isinstance(exc, DatabaseTrouble):
                        break  # the database fails: the next flows would too
                    continue
                except DatabaseError as exc:
                    what = (str(exc).strip().splitlines() or [""])[0][:200]
                    text = DatabaseTrouble(what).user_text()
                    self.stderr.write(f"{channel.name} · {flow}: {text}")
                    failed.append(flow)
                    break
                except CursorMoved as exc:
                    self.stderr.write(f"{channel.name} · {flow}: {exc}")
                    failed.append(flow)
                    continue
                self.stdout.write(f"{channel.name} · {flow}: {summary}")
        if failed:
            raise CommandError(_("Failed: %(flows)s.") % {"flows": ", ".join(failed)})

    def chosen_flows(self, only: str) -> list[str]:
        if not only:
            return list(FLOWS)
        chosen = [flow.strip() for flow in only.split(",") if flow.strip()]
        unknown = [flow for flow in chosen if flow not in FLOWS]
        if unknown or not chosen:
            raise CommandError(
                _("Unknown flow(s): %(unknown)s; choose from %(known)s.")
                % {"unknown": ", ".join(unknown) or "-", "known": ", ".join(FLOWS)}
            )
        return chosen
