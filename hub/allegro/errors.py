"""Every failure talking to Allegro, classified once (ARCHITECTURE.md §7).

Callers decide what to do by the class alone:

    AllegroError
    ├── TransientError      timeouts, connection errors, 5xx: retry later
    │   └── RateLimited     429: wait ``retry_after`` seconds, then retry
    │       └── TokenRateLimited  429 on a token refresh: that channel only
    ├── AuthRevoked         refresh token rejected: the seller must reconnect
    └── PermanentError      validation and other 4xx: retrying will not help
        ├── NotFound        404: gone or archived (api-notes §7: 60 days after end)
        ├── MalformedResponse  Allegro answered something we cannot read
        └── InvalidRequest  refused by the hub before sending (e.g. quantity 0)

Messages never contain tokens or secrets: they are built from status codes,
Allegro's error objects and our own words only.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from hub.allegro import texts
from hub.text.message import Message

# api-notes §9: exceeding 9 000 requests/min blocks the Client ID for one minute.
ALLEGRO_BLOCK_SECONDS = 60.0
# A Retry-After beyond this is treated as this: a 429 pauses every request of the
# Client ID, and a bogus header must not stop the hub for days.
MAX_RETRY_AFTER_SECONDS = 3600.0


@dataclass(frozen=True)
class ApiErrorDetail:
    """One entry of Allegro's ``errors[]`` (api-notes §10, SPEC ``Error``)."""

    code: str = ""
    message: str = ""
    user_message: str = ""
    path: str | None = None

    def __str__(self) -> str:
        text = self.user_message or self.message or self.code
        return f"{self.path}: {text}" if self.path else text


class AllegroError(Exception):
    """Base class: what went wrong, with Allegro's status, Trace-Id and errors[]."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        trace_id: str | None = None,
        errors: Sequence[ApiErrorDetail] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.trace_id = trace_id
        self.errors: list[ApiErrorDetail] = list(errors)

    def __str__(self) -> str:
        parts = [self.message]
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        if self.trace_id:
            parts.append(f"Trace-Id {self.trace_id}")
        return " | ".join(parts)

    @property
    def codes(self) -> list[str]:
        return [e.code for e in self.errors if e.code]

    def has_code(self, code: str) -> bool:
        return code in self.codes

    def details_text(self) -> str:
        """Allegro's own words for the problem (userMessage, localised), joined."""
        return "; ".join(str(e) for e in self.errors)

    def user_text(self) -> str:
        """Plain words: what happened and what to do, for pages and the CLI."""
        return str(self.user_message())

    def user_message(self) -> Message:
        """The same as a stored message (hub.text), translated when shown."""
        return self._with_trace(
            Message(texts.ERROR, text=self.details_text() or self.message)
        )

    def _with_trace(self, message: Message) -> Message:
        if not self.trace_id:
            return message
        return Message(texts.WITH_TRACE, text=message, trace=self.trace_id)


class TransientError(AllegroError):
    """Timeout, connection failure or 5xx: it may work if we try again later."""

    def user_message(self) -> Message:
        return self._with_trace(Message(texts.TRANSIENT, what=self.message))


class RateLimited(TransientError):
    """429 Too Many Requests; ``retry_after`` is how long to wait, in seconds."""

    def __init__(
        self,
        message: str,
        *,
        retry_after: float = ALLEGRO_BLOCK_SECONDS,
        status: int | None = 429,
        trace_id: str | None = None,
        errors: Sequence[ApiErrorDetail] = (),
    ) -> None:
        super().__init__(message, status=status, trace_id=trace_id, errors=errors)
        self.retry_after = retry_after

    def user_message(self) -> Message:
        return self._with_trace(
            Message(texts.RATE_LIMITED, seconds=round(self.retry_after))
        )


class TokenRateLimited(RateLimited):
    """429 from the token endpoint: Allegro's per-user limit on generated tokens
    (api-notes §2.4, §9). It concerns one seller's refresh, not the Client ID's
    request budget: other sellers' calls go on, and this channel's refresh is not
    retried at once (every try generates a token) but by its next sync."""

    def user_message(self) -> Message:
        return self._with_trace(Message(texts.TOKEN_RATE_LIMITED))


class ResourceRateLimited(RateLimited):
    """429 from an endpoint with a per-second limit of its own (shipments and
    carriers: 50 requests/second, api-notes §4.1, §9). Allegro's answer concerns
    that resource, not the Client ID's budget: other calls go on, and this one
    is retried after a second (it was not processed, so a POST may be too)."""


class AuthRevoked(AllegroError):
    """Allegro rejected the refresh token (or never gave one): reconnect the account."""

    def user_message(self) -> Message:
        return self._with_trace(Message(texts.AUTH_REVOKED))


class PermanentError(AllegroError):
    """Allegro refused the request (validation or another 4xx); retrying won't help."""

    def user_message(self) -> Message:
        text = self.details_text() or self.message
        return self._with_trace(Message(texts.REFUSED, text=text))


class NotFound(PermanentError):
    """404: the order/offer/command does not exist (or was archived)."""

    def user_message(self) -> Message:
        text = self.details_text() or self.message
        return self._with_trace(Message(texts.NOT_FOUND, text=text))


class MalformedResponse(PermanentError):
    """Allegro answered, but not in the shape we expect; nothing was changed."""

    def user_message(self) -> Message:
        return self._with_trace(Message(texts.MALFORMED, what=self.message))


def parse_error_details(body: Any) -> list[ApiErrorDetail]:
    """Read Allegro's ``{"errors": [...]}`` or OAuth's ``{"error": ...}`` body."""
    if not isinstance(body, Mapping):
        return []
    items = body.get("errors")
    if isinstance(items, list):
        return [_detail(item) for item in items if isinstance(item, Mapping)]
    if isinstance(body.get("error"), str):
        # AuthError shape {error, error_description} (api-notes §2.4, §10).
        description = str(body.get("error_description") or "")
        return [ApiErrorDetail(code=body["error"], message=redact_tokens(description))]
    return []


# Allegro echoes the refresh token it refuses: "Invalid refresh token: <token>"
# (allegro-api #4323, #6733, #7999). Anything token-shaped in an OAuth error
# text is cut before it can reach a log line, a page or the database.
_TOKEN_LIKE = re.compile(r"[A-Za-z0-9._~+/=-]{20,}")


def redact_tokens(text: str) -> str:
    return _TOKEN_LIKE.sub("<redacted>", text)


def _detail(item: Mapping[str, Any]) -> ApiErrorDetail:
    return ApiErrorDetail(
        code=str(item.get("code") or ""),
        message=str(item.get("message") or ""),
        user_message=str(item.get("userMessage") or ""),
        path=item.get("path") if isinstance(item.get("path"), str) else None,
    )


class InvalidRequest(PermanentError):
    """The hub refused to send a request Allegro would reject (nothing was sent)."""

    def user_message(self) -> Message:
        return Message(texts.NOT_SENT, text=self.message)


# ------------------------------------------------------- classification

# Endpoints with a per-second limit of their own, besides the Client ID's
# 9 000/min: shipments and carriers allow 50 requests/second (api-notes §4.1, §9).
RESOURCE_LIMITS = {"shipments": 50}
_SHIPMENTS = re.compile(r"/order/(?:carriers|checkout-forms/[^/]+/shipments)(?:/|$)")


def resource_limit(path: str) -> tuple[str, int] | None:
    """(resource, requests per second) when ``path`` has a limit of its own."""
    if _SHIPMENTS.search(path):
        return "shipments", RESOURCE_LIMITS["shipments"]
    return None


def retry_after_seconds(value: str | None) -> float:
    """Retry-After as seconds (number or HTTP date); Allegro's block if absent
    or unreadable, at most MAX_RETRY_AFTER_SECONDS."""
    if not value:
        return ALLEGRO_BLOCK_SECONDS
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return ALLEGRO_BLOCK_SECONDS
        seconds = (when - datetime.now(UTC)).total_seconds()
    if not math.isfinite(seconds):
        return ALLEGRO_BLOCK_SECONDS
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)


def classify(response: httpx.Response) -> AllegroError:
    """Turn an error response into the one AllegroError class callers act on."""
    status = response.status_code
    trace_id = response.headers.get("Trace-Id")
    try:
        details = parse_error_details(response.json())
    except ValueError:
        details = []
    what = f"{response.request.method} {response.request.url.path}"
    kwargs: dict[str, Any] = {"status": status, "trace_id": trace_id, "errors": details}
    if status == 429 and resource_limit(response.request.url.path) is not None:
        given = response.headers.get("Retry-After")
        retry_after = retry_after_seconds(given) if given else 1.0
        return ResourceRateLimited(
            f"{what}: too many requests", retry_after=retry_after, **kwargs
        )
    if status == 429:
        retry_after = retry_after_seconds(response.headers.get("Retry-After"))
        return RateLimited(
            f"{what}: too many requests", retry_after=retry_after, **kwargs
        )
    if status >= 500:
        return TransientError(f"{what}: Allegro server error", **kwargs)
    if status == 401:
        # ChannelAuth already refreshed once and retried: the grant is gone.
        return AuthRevoked(f"{what}: access token rejected", **kwargs)
    if status == 404:
        return NotFound(f"{what}: not found", **kwargs)
    if status == 409 and any(d.code == "OfferConflictException" for d in details):
        # api-notes §5.2: "previous edition still being processed" — wait and retry.
        return TransientError(f"{what}: offer still being edited", **kwargs)
    return PermanentError(f"{what}: rejected", **kwargs)
