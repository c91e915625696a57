"""`allegro-hub web`: the web UI only (migrations, WSGI server); the flows run
in `allegro-hub worker` processes (docs/scaling.md)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from hub.web.management.commands.run import run


class Command(BaseCommand):
    help = "Apply migrations and serve the web UI only; workers run the flows."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000, help="0 = any free port")
        parser.add_argument("--threads", type=int, default=8)

    def handle(self, *args: Any, **options: Any) -> None:
        run(self, options["host"], options["port"], options["threads"], None)
