"""REST API for other systems (ERP, shop, scripts). OpenAPI docs at /api/docs."""

from __future__ import annotations

from ninja import NinjaAPI

api = NinjaAPI(title="allegro-hub", version="1", urls_namespace="api")
