from __future__ import annotations

from django.apps import AppConfig


class DemoConfig(AppConfig):
    """`allegro-hub demo`: the emulator, its seeded account, the buyers and the
    demo channel, run beside the real hub. The only app that imports the emulator."""

    name = "hub.demo"

    def ready(self) -> None:
        from hub.demo import texts  # noqa: F401 (registers the stock reasons' codes)
