"""REST API for other systems (ERP, shop, scripts). OpenAPI docs at /api/docs.

Every endpoint needs an API token (`Authorization: Bearer …`, see auth.py), unless
its router says otherwise. The docs need a logged-in user: they describe the
installation, and there is no reason to show them to the world.

To add endpoints, write a module with `router = Router()` and add one line below.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import ValidationError

from hub.api.auth import token_auth

log = logging.getLogger(__name__)

api = NinjaAPI(
    title="allegro-hub",
    version="1",
    urls_namespace="api",
    auth=token_auth,
    docs_decorator=login_required,
)

api.add_router("/", "hub.api.catalog.router")
api.add_router("/", "hub.api.orders.router")
api.add_router("/", "hub.api.dispatches.router")


# Every answer of the API is JSON, errors too: a script reading it should never
# have to parse one of Django's HTML pages.


@api.exception_handler(RequestDataTooBig)
def body_too_large(request: HttpRequest, exc: Exception) -> HttpResponse:
    limit_mb = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // (1024 * 1024)
    detail = _(
        "The request body is larger than %(mb)s MB; send fewer rows per call."
    ) % {"mb": limit_mb}
    return api.create_response(request, {"detail": detail}, status=413)


@api.exception_handler(ValidationError)
def invalid_input(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    from hub.api.catalog import levels_rejected

    rejected = levels_rejected(exc.errors)
    if rejected is not None:
        return api.create_response(request, rejected, status=422)
    return api.create_response(request, {"detail": exc.errors}, status=422)


@api.exception_handler(Exception)
def server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    log.error("API error on %s %s", request.method, request.path, exc_info=exc)
    detail = _("The hub had an internal error; its log has the details.")
    return api.create_response(request, {"detail": detail}, status=500)
