from __future__ import annotations

from django.apps import AppConfig


class AllegroConfig(AppConfig):
    name = "hub.allegro"
