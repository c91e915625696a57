"""`allegro-hub emulator --port N [--seed FILE]`: serve the Allegro emulator."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = (
        "Run the built-in Allegro emulator (the same as `python -m allegro_emulator`)."
    )
    # The emulator needs no database and no settings checks.
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "args", nargs="*", help="passed to the emulator, e.g. --port 8900"
        )

    def run_from_argv(self, argv: list[str]) -> None:
        # Hand everything after `emulator` to the emulator's own argparse, so both
        # entry points accept exactly the same options.
        from allegro_emulator.__main__ import main

        main(argv[2:])

    def handle(self, *args: Any, **options: Any) -> None:
        from allegro_emulator.__main__ import main

        main(list(args))
