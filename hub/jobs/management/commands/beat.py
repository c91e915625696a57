"""`allegro-hub beat`: Celery beat, which every HUB_DISPATCH_SECONDS sends the
due flows to the workers. Run one (a second one is harmless, not useful)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from hub.jobs.management.commands.worker import require_broker


class Command(BaseCommand):
    help = "Run Celery beat: hands due sync flows to the workers (needs REDIS_URL)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--loglevel", default=settings.LOG_LEVEL)

    def handle(self, *args: Any, **options: Any) -> None:
        require_broker()
        from hub.jobs.celery import app

        schedule_file = Path(settings.DATA_DIR) / "celerybeat-schedule"
        app.start(
            [
                "beat",
                f"--loglevel={options['loglevel']}",
                f"--schedule={schedule_file}",
            ]
        )
