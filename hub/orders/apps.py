from __future__ import annotations

from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "hub.orders"

    def ready(self) -> None:
        from hub.orders import usage  # noqa: F401  registers its uses of locations
