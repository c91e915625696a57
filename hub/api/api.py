"""REST API for other systems (ERP, shop, scripts). OpenAPI docs at /api/docs.

Every endpoint needs an API token (`Authorization: Bearer …`, see auth.py), unless
its router says otherwise. The docs need a logged-in user: they describe the
installation, and there is no reason to show them to the world.

To add endpoints, write a module with `router = Router()` and add one line below.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from ninja import NinjaAPI

from hub.api.auth import token_auth

api = NinjaAPI(
    title="allegro-hub",
    version="1",
    urls_namespace="api",
    auth=token_auth,
    docs_decorator=login_required,
)

api.add_router("/", "hub.api.catalog.router")
api.add_router("/", "hub.api.orders.router")
