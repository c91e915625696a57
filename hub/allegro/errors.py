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
from django.utils.translation import gettext as _

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
        text = self.details_text() or self.message
        return self._with_trace(
            _("Allegro returned an error: %(text)s") % {"text": text}
        )

    def _with_trace(self, text: str) -> str:
        if not self.trace_id:
            return text
        return _("%(text)s (Allegro Trace-Id: %(trace)s)") % {
            "text": text,
            "trace": self.trace_id,
        }


class TransientError(AllegroError):
    """Timeout, connection failure or 5xx: it may work if we try again later."""

    def user_text(self) -> str:
        return self._with_trace(
            _(
                "Allegro could not be reached or had a temporary problem (%(what)s). "
                "This is usually temporary: try again in a few minutes."
            )
            % {"what": self.message}
        )


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

    def user_text(self) -> str:
        return self._with_trace(
            _(
                "Allegro asked us to slow down (too many requests). Wait "
                "%(seconds)d seconds, then try again."
            )
            % {"seconds": round(self.retry_after)}
        )


class TokenRateLimited(RateLimited):
    """429 from the token endpoint: Allegro's per-user limit on generated tokens
    (api-notes §2.4, §9). It concerns one seller's refresh, not the Client ID's
    request budget: other sellers' calls go on, and this channel's refresh is not
    retried at once (every try generates a token) but by its next sync."""

    def user_text(self) -> str:
        return self._with_trace(
            _(
                "Allegro refused a new access token for this account for now (too "
                "many tokens generated). The hub tries again at the next sync."
            )
        )


class AuthRevoked(AllegroError):
    """Allegro rejected the refresh token (or never gave one): reconnect the account."""

    def user_text(self) -> str:
        return self._with_trace(
            _(
                "Allegro no longer accepts this channel's authorisation (the seller "
                "may have unlinked the application, changed the password, or the "
                "tokens expired). Open Settings → Channel Integration and connect "
                "the account again."
            )
        )


class PermanentError(AllegroError):
    """Allegro refused the request (validation or another 4xx); retrying won't help."""

    def user_text(self) -> str:
        text = self.details_text() or self.message
        return self._with_trace(
            _("Allegro refused the request: %(text)s") % {"text": text}
        )


class NotFound(PermanentError):
    """404: the order/offer/command does not exist (or was archived)."""

    def user_text(self) -> str:
        return self._with_trace(
            _(
                "Allegro says this does not exist (any more): %(text)s. Ended offers "
                "are archived by Allegro 60 days after they end."
            )
            % {"text": self.details_text() or self.message}
        )


class MalformedResponse(PermanentError):
    """Allegro answered, but not in the shape we expect; nothing was changed."""

    def user_text(self) -> str:
        return self._with_trace(
            _(
                "Allegro sent a response the hub cannot read (%(what)s). Nothing was "
                "changed; if this keeps happening, report it with the Trace-Id."
            )
            % {"what": self.message}
        )


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

    def user_text(self) -> str:
        return _("Not sent to Allegro: %(text)s") % {"text": self.message}


# ------------------------------------------------------- classification


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
