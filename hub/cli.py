"""`allegro-hub`: the hub's command line.

Every subcommand is a Django management command, so Django's own (migrate,
createsuperuser, …) work too: `allegro-hub run`, `allegro-hub stock import FILE`,
`allegro-hub channel list`, `allegro-hub migrate`, …
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        # Settings read the environment; a bad value is the operator's to fix, so
        # say which one in one line rather than in a traceback.
        settings.INSTALLED_APPS  # noqa: B018 (loads the settings)
    except ImproperlyConfigured as exc:
        sys.stderr.write(f"allegro-hub: configuration error: {exc}\n")
        sys.exit(2)
    args = sys.argv[1:] if argv is None else argv
    execute_from_command_line(["allegro-hub", *args])


if __name__ == "__main__":
    main()
