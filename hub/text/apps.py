from __future__ import annotations

from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class TextConfig(AppConfig):
    name = "hub.text"

    def ready(self) -> None:
        # Every app's texts.py registers its message codes (hub.text.message.define).
        autodiscover_modules("texts")
