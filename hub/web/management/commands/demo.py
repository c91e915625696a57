"""`allegro-hub demo`: prepare a demo installation (safe to run again).

Each step is a small function in STEPS; later features add theirs to the list.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from hub.catalog import csvio
from hub.catalog.models import StockItem

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo"  # a local demo on 127.0.0.1; printed on purpose
DEMO_STOCK = Path(__file__).resolve().parents[3] / "catalog/fixtures/demo_stock.csv"


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
    result = csvio.import_csv(DEMO_STOCK.read_bytes())
    command.stdout.write(_("Sample stock loaded: %(s)s") % {"s": result.summary()})


STEPS: list[Callable[[BaseCommand], None]] = [migrate, demo_user, demo_stock]


class Command(BaseCommand):
    help = "Set up a demo: database, a demo user, sample stock. Safe to repeat."

    def handle(self, *args: Any, **options: Any) -> None:
        for step in STEPS:
            step(self)
