"""`allegro-hub demo`: the whole hub to try in the browser, in one process.

First the setup (safe to run again): each step is a small function in STEPS;
later features add theirs to the list. Then, unless --setup-only: the built-in
Allegro emulator, simulated buyers and the channel "Allegro Demo" connected to it
(hub/demo/runtime.py), and the hub itself exactly as `allegro-hub run` serves it:
the web server and the embedded runner (hub/jobs/runner.py) running every flow.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from hub.allegro.errors import AllegroError
from hub.catalog import csvio
from hub.catalog.models import StockItem
from hub.demo import runtime as demo_runtime
from hub.demo import seed
from hub.jobs.registry import flow_names
from hub.jobs.runner import Runner
from hub.text import actor
from hub.web.management.commands.run import run

DEMO_USERNAME = demo_runtime.DEMO_USERNAME
DEMO_PASSWORD = "demo"  # a local demo on 127.0.0.1; printed on purpose


def migrate(command: BaseCommand) -> None:
    call_command("migrate", interactive=False, verbosity=0)
    command.stdout.write(_("Database ready."))


def demo_user(command: BaseCommand) -> None:
    user, _created = get_user_model().objects.get_or_create(
        username=DEMO_USERNAME, defaults={"is_staff": True, "is_superuser": True}
    )
    user.set_password(DEMO_PASSWORD)
    user.save()
    command.stdout.write(
        _("Log in as %(user)s with password %(password)s")
        % {"user": DEMO_USERNAME, "password": DEMO_PASSWORD}
    )


def demo_stock(command: BaseCommand) -> None:
    # Loaded once: stock changed while trying the demo survives a restart.
    if StockItem.objects.filter(sku="DEMO-001").exists():
        command.stdout.write(_("Sample stock is already loaded."))
        return
    for rows in (seed.DEMO_STOCK.read_bytes(), seed.generated_stock()):
        result = csvio.import_csv(rows, actor=actor.CLI)
        command.stdout.write(_("Sample stock loaded: %(s)s") % {"s": result.summary()})


STEPS: list[Callable[[BaseCommand], None]] = [migrate, demo_user, demo_stock]


HOST = "127.0.0.1"  # the demo user's password is printed: never listen wider
# The flows a newcomer watches run this often (seconds) unless HUB_SYNC_INTERVALS
# says otherwise; the full stock check keeps its own interval.
QUICK_FLOWS = ("orders", "listings", "inventory", "lifecycle", "tracking")


def demo_intervals(every: float, configured: dict[str, int]) -> dict[str, int]:
    """HUB_SYNC_INTERVALS for the demo: the quick flows every ``every`` seconds,
    the operator's own settings kept."""
    quick = {name: max(1, round(every)) for name in flow_names() if name in QUICK_FLOWS}
    return quick | configured


class Command(BaseCommand):
    help = (
        "Set up a demo (database, demo user, sample stock; safe to repeat), then "
        "run the hub with the built-in Allegro emulator and simulated buyers."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--setup-only", action="store_true", help="only the setup steps"
        )
        parser.add_argument("--port", type=int, default=8000, help="the hub's port")
        parser.add_argument("--emulator-port", type=int, default=8900)
        parser.add_argument(
            "--buyers-interval",
            type=float,
            default=demo_runtime.BUYERS_INTERVAL,
            help="seconds between simulated buyer actions (0 = no buyers)",
        )
        parser.add_argument(
            "--delivery",
            type=float,
            default=demo_runtime.DELIVERY,
            help="seconds from the story's sell-out to its delivery",
        )
        parser.add_argument(
            "--sync-interval",
            type=float,
            default=10.0,
            help="seconds between runs of the orders, listings, stock and "
            "ends-and-relists flows (0 = no runner: nothing syncs)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        for step in STEPS:
            step(self)
        if options["setup_only"]:
            return
        demo = self.start(options)
        runner = Runner() if options["sync_interval"] > 0 else None
        # This process is the demo: its runner reads the demo's intervals.
        configured = settings.HUB_SYNC_INTERVALS
        settings.HUB_SYNC_INTERVALS = demo_intervals(
            options["sync_interval"], configured
        )
        previous = signal.signal(signal.SIGTERM, stop_on_sigterm)
        try:
            self.print_banner(demo, options)
            run(self, HOST, options["port"], threads=8, runner=runner)
        except OSError as exc:  # the hub's port is taken
            raise CommandError(
                _("Cannot serve the hub on port %(port)s (%(why)s). Use --port.")
                % {"port": options["port"], "why": exc.strerror or exc}
            ) from None
        finally:
            signal.signal(signal.SIGTERM, previous)
            settings.HUB_SYNC_INTERVALS = configured
            demo.stop()
            self.stdout.write(
                _("Demo stopped. The emulator's Allegro account is saved in %(path)s.")
                % {"path": demo.dump_path}
            )

    def start(self, options: dict[str, Any]) -> demo_runtime.RunningDemo:
        try:
            return demo_runtime.start_demo(
                emulator_port=options["emulator_port"],
                buyers_interval=options["buyers_interval"],
                hub_host=f"{HOST}:{options['port']}",
                delivery=options["delivery"],
                dump_path=Path(settings.DATA_DIR) / demo_runtime.DUMP_FILE,
            )
        except OSError as exc:
            raise CommandError(
                _(
                    "Cannot start the Allegro emulator on port %(port)s (%(why)s). "
                    "Is another demo running? Choose another with --emulator-port."
                )
                % {"port": options["emulator_port"], "why": exc.strerror or exc}
            ) from None
        except AllegroError as exc:
            raise CommandError(
                _("Cannot connect the demo channel: %(why)s") % {"why": exc.user_text()}
            ) from None

    def print_banner(
        self, demo: demo_runtime.RunningDemo, options: dict[str, Any]
    ) -> None:
        hub_url = f"http://{HOST}:{options['port']}/"
        if demo.fresh:
            account = _("a new Allegro account (%(n)d offers)") % {
                "n": len(demo.emu.offers)
            }
        else:
            account = _("the Allegro account saved in %(path)s") % {
                "path": demo.dump_path
            }
        lines = [
            "",
            _("allegro-hub demo"),
            _("  Hub:       %(url)s  — log in as %(user)s, password %(password)s")
            % {"url": hub_url, "user": DEMO_USERNAME, "password": DEMO_PASSWORD},
            _("  Allegro:   emulator on %(url)s with %(account)s")
            % {"url": demo.emulator_url, "account": account},
            _("  Consent page (what “Connect with Allegro” opens): %(url)s")
            % {"url": demo_runtime.consent_page_url(demo.emulator_url, hub_url)},
            _("  Channel:   %(name)s — %(status)s")
            % {"name": demo.channel.name, "status": demo.connected.text},
        ]
        if demo.cursors_reset:
            lines.append(
                _(
                    "             (the emulator's account is new, so the channel "
                    "reads its orders from the start again)"
                )
            )
        auction = demo_runtime.active_auction(demo.emu)
        if auction is not None and auction.ending_at is not None:
            lines.append(
                _(
                    "  Auction:   %(name)s (%(sku)s) ends at %(time)s; "
                    "the top bidder then buys it"
                )
                % {
                    "name": auction.name,
                    "sku": auction.external_id,
                    "time": timezone.localtime(auction.ending_at).strftime("%H:%M"),
                }
            )
        if options["buyers_interval"] > 0:
            lines.append(
                _(
                    "  Buyers:    every %(s)s s a simulated buyer buys, fills in, "
                    "pays, cancels or bids on the seller's offers (logged below)"
                )
                % {"s": f"{options['buyers_interval']:g}"}
            )
        if options["sync_interval"] > 0:
            lines.append(
                _(
                    "  Sync:      the hub's runner, as in `allegro-hub run`: orders, "
                    "tracking, listings, stock, ends and relists every %(s)s s "
                    "(logged below)"
                )
                % {"s": f"{options['sync_interval']:g}"}
            )
        if demo.story is not None:
            lines.append(
                _(
                    "  Story:     %(end)s is sold out in the hub: its end waits on the "
                    "confirmation screen; the last %(restocked)s sell, Allegro ends "
                    "it, a delivery comes %(s)s s later and a relist waits there too"
                )
                % {
                    "end": seed.STORY["END_AT_ZERO"],
                    "restocked": seed.STORY["RESTOCKED"],
                    "s": f"{demo.story.delivery:g}",
                }
            )
            lines.append(
                _(
                    "  Parcels:   the warehouse dispatches the %(restocked)s order "
                    "with an InPost number Allegro accepts, and a %(mug)s order with a "
                    "mistyped DPD number Allegro refuses (see the orders' pages)"
                )
                % {"restocked": seed.STORY["RESTOCKED"], "mug": seed.STORY["MUG"]}
            )
        lines.append(_("  Ctrl+C stops everything."))
        lines.append("")
        self.stdout.write("\n".join(lines))


def stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    """`kill` stops the demo like Ctrl+C: the emulator's state gets saved."""
    raise KeyboardInterrupt
