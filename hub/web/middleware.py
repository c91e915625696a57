from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.middleware import LoginRequiredMiddleware as BaseLoginRequired
from django.http import HttpRequest, HttpResponseBase, JsonResponse


class LoginRequiredMiddleware(BaseLoginRequired):
    """No page is readable without a login. The REST API answers 401 on its own
    (token auth), so it is left to django-ninja rather than redirected to a form.
    """

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponseBase | None:
        if request.path_info.startswith("/api/"):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


API_DOCS = ("/api/docs", "/api/openapi.json")


class ApiErrorsAsJson:
    """Every error of the REST API is JSON: an unknown URL, a wrong method, a
    refused CSRF check or any HTML error page Django would send is replaced by
    {"detail": reason}, with the same status (and Allow header)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        path = request.path_info
        if (
            not path.startswith("/api/")
            or path.startswith(API_DOCS)
            or response.status_code < 400
            or response.get("Content-Type", "").startswith("application/json")
        ):
            return response
        json_response = JsonResponse(
            {"detail": response.reason_phrase}, status=response.status_code
        )
        if response.has_header("Allow"):
            json_response["Allow"] = response["Allow"]
        return json_response
