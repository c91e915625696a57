"""`allegro-hub worker`: a Celery worker running the flows `allegro-hub beat`
hands out (docs/scaling.md). Needs a broker: REDIS_URL or CELERY_BROKER_URL."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _


def require_broker() -> None:
    if settings.CELERY_BROKER_URL.startswith("memory://"):
        raise CommandError(
            _(
                "No message broker: set REDIS_URL (or CELERY_BROKER_URL). Without "
                "one, `allegro-hub run` runs the flows itself."
            )
        )


class Command(BaseCommand):
    help = "Run a Celery worker for the sync flows (needs REDIS_URL)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--concurrency",
            type=int,
            default=settings.HUB_WORKER_THREADS,
            help="flows run at once by this worker (threads)",
        )
        parser.add_argument("--loglevel", default=settings.LOG_LEVEL)

    def handle(self, *args: Any, **options: Any) -> None:
        require_broker()
        from hub.jobs.celery import app

        # Threads: the flows wait on Allegro and the database, not on the CPU.
        app.worker_main(
            [
                "worker",
                "--pool=threads",
                f"--concurrency={options['concurrency']}",
                f"--loglevel={options['loglevel']}",
                "--without-gossip",
                "--without-mingle",
            ]
        )
