from __future__ import annotations

from django.apps import AppConfig


class AllegroConfig(AppConfig):
    name = "hub.allegro"

    def ready(self) -> None:
        from hub.allegro import (
            links,  # noqa: F401  registers the order links
            usage,  # noqa: F401  and its uses of locations
        )
