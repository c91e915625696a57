"""Request context, error types and response helpers shared by all handlers."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import httpx

if TYPE_CHECKING:
    from allegro_emulator.state import Seller

MEDIA_TYPE = "application/vnd.allegro.public.v1+json"
UUID_RE = re.compile(
    r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE
)


class ApiError(Exception):
    """An error answered with the standard ``ErrorsHolder`` body (api-notes §10)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        path: str | None = None,
        user_message: str | None = None,
        details: str | None = None,
        metadata: dict[str, str] | None = None,
        media_type: str = MEDIA_TYPE,
    ):
        super().__init__(message)
        self.media_type = media_type
        self.status = status
        self.code = code
        self.message = message
        self.path = path
        self.user_message = user_message or message
        self.details = details
        self.metadata = metadata or {}

    def body(self) -> dict[str, Any]:
        return {"errors": [self.error_dict()]}

    def error_dict(self) -> dict[str, Any]:
        return error_object(
            self.code,
            self.message,
            path=self.path,
            user_message=self.user_message,
            details=self.details,
            metadata=self.metadata,
        )


class AuthFailure(Exception):
    """401/400 answered with the ``AuthError`` body ``{error, error_description}``."""

    def __init__(self, status: int, error: str, description: str):
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description


class ControlError(ValueError):
    """Raised by the control API for bad arguments (HTTP: 400 ``{"error": ...}``)."""


def error_object(
    code: str,
    message: str,
    *,
    path: str | None = None,
    user_message: str | None = None,
    details: str | None = None,
    metadata: dict[str, str] | None = None,
) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "details": details,
        "path": path,
        "userMessage": user_message or message,
        "metadata": metadata or {},
    }


@dataclass
class Ctx:
    """One parsed request, as handlers see it."""

    request: httpx.Request
    method: str
    path: str
    query: dict[str, list[str]]
    body: bytes
    params: dict[str, str] = field(default_factory=dict)
    template: str = ""
    client_id: str | None = None
    seller: Seller | None = None

    @property
    def base_url(self) -> str:
        url = self.request.url
        port = f":{url.port}" if url.port else ""
        return f"{url.scheme}://{url.host}{port}"

    def header(self, name: str) -> str | None:
        return self.request.headers.get(name)

    def q(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None

    def qlist(self, name: str) -> list[str]:
        return self.query.get(name, [])

    def json(self) -> Any:
        if not self.body:
            raise ApiError(400, "VALIDATION_ERROR", "Request body is required")
        try:
            return json.loads(self.body)
        except ValueError as exc:
            raise ApiError(
                400, "JsonParseException", f"Malformed JSON body: {exc}"
            ) from exc

    def form(self) -> dict[str, str]:
        parsed = parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True)
        return {k: v[-1] for k, v in parsed.items()}

    @property
    def seller_id(self) -> str:
        assert self.seller is not None
        return self.seller.id


def json_response(
    status: int,
    body: Any,
    *,
    media_type: str = MEDIA_TYPE,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    content = json.dumps(body, ensure_ascii=False).encode("utf-8")
    h = {"Content-Type": media_type}
    h.update(headers or {})
    return httpx.Response(status, content=content, headers=h)


def empty_response(
    status: int, headers: dict[str, str] | None = None
) -> httpx.Response:
    return httpx.Response(status, headers=headers or {})


def html_response(status: int, html: str) -> httpx.Response:
    return httpx.Response(
        status,
        content=html.encode("utf-8"),
        headers={"Content-Type": "text/html; charset=utf-8"},
    )


def redirect(location: str) -> httpx.Response:
    return httpx.Response(302, headers={"Location": location})


def iso(dt: datetime | None) -> str | None:
    """Allegro's date-time format: UTC with milliseconds and a ``Z``."""
    if dt is None:
        return None
    dt = dt.astimezone(UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def parse_dt(
    value: str, name: str, status: int = 422, *, offset_required: bool = False
) -> datetime:
    """An RFC 3339 date-time; ``offset_required``: one without a UTC offset (which
    RFC 3339 requires) is refused rather than read as UTC."""
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ApiError(
            status, "VALIDATION_ERROR", f"Invalid date-time in '{name}'", path=name
        ) from exc
    if dt.tzinfo is None and offset_required:
        raise ApiError(
            status,
            "VALIDATION_ERROR",
            f"Date-time in '{name}' needs a UTC offset (e.g. Z)",
            path=name,
        )
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def check_enum(
    name: str,
    values: list[str],
    allowed: tuple[str, ...],
    status: int,
) -> None:
    """An enum filter with a value the SPEC does not list is refused, not
    answered with nothing."""
    bad = [value for value in values if value not in allowed]
    if bad:
        raise ApiError(
            status,
            "VALIDATION_ERROR",
            f"Invalid value of '{name}': {bad[0]}",
            path=name,
        )


def money_str(value: str | int | float | Decimal) -> str:
    try:
        amount = Decimal(str(value))
    except InvalidOperation as exc:
        raise ControlError(f"invalid amount: {value!r}") from exc
    return f"{amount.quantize(Decimal('0.01'))}"


def money(amount: str, currency: str) -> dict[str, str]:
    """Money is ``{"amount": "12.34", "currency": "PLN"}`` with a string amount."""
    return {"amount": money_str(amount), "currency": currency}


def int_param(
    ctx: Ctx,
    name: str,
    default: int,
    minimum: int,
    maximum: int,
    status: int = 422,
) -> int:
    raw = ctx.q(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ApiError(
            status,
            "VALIDATION_ERROR",
            f"Parameter '{name}' must be an integer",
            path=name,
        ) from exc
    if not minimum <= value <= maximum:
        raise ApiError(
            status,
            "VALIDATION_ERROR",
            f"Parameter '{name}' must be between {minimum} and {maximum}",
            path=name,
        )
    return value
