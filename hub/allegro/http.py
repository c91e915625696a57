"""The HTTP layer under AllegroClient: headers, retries, response parsing.

``HttpSession._send`` is one logical request: it takes a slot from the Client
ID's limiter, classifies failures once (errors.classify) and retries what is
safe. TransientError and RateLimited are retried with exponential backoff plus
jitter, bounded by ``max_attempts`` and ``max_retry_seconds``; PermanentError
never, nor a 429 from the token endpoint (TokenRateLimited: one seller's limit,
so it neither pauses the Client ID nor retries at once). Non-idempotent POSTs
(shipments, new offers) are retried only when Allegro provably did not process
them (429, connection refused).
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Self, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from hub.allegro import schemas
from hub.allegro.errors import (
    AllegroError,
    MalformedResponse,
    RateLimited,
    ResourceRateLimited,
    TokenRateLimited,
    TransientError,
    classify,
    resource_limit,
)
from hub.allegro.limiter import Limiter

log = logging.getLogger(__name__)

# api-notes §1: every operation speaks this media type (406 without it).
MEDIA_TYPE = "application/vnd.allegro.public.v1+json"
BACKOFF_BASE = 1.0
BACKOFF_CAP = 30.0
# Share of an endpoint's own per-second limit the hub uses (as 7 200 of 9 000/min).
RESOURCE_SHARE = 0.8

Model = TypeVar("Model", bound=BaseModel)


def _product_version() -> str:
    try:
        return version("allegro-hub")
    except PackageNotFoundError:
        return "0"


USER_AGENT = f"allegro-hub/{_product_version()} (+https://github.com/allegro-hub)"


def jitter() -> float:
    """Random extra delay so many workers don't retry in lockstep."""
    return random.uniform(0, 1.0)


def backoff_delay(
    error: AllegroError, attempt: int, jitter: Callable[[], float]
) -> float:
    """Seconds to wait before attempt ``attempt + 1``."""
    if isinstance(error, RateLimited):
        # api-notes §9: honour Retry-After; without it wait out the 1-minute block.
        return error.retry_after + jitter()
    return min(BACKOFF_BASE * 2 ** (attempt - 1), BACKOFF_CAP) + jitter()


def iso(moment: datetime, *, round_up: bool = False) -> str:
    """Allegro's date-time format, UTC with milliseconds.

    ``round_up`` for inclusive upper bounds (``.lte``): truncating would drop
    what happened later within the same millisecond.
    """
    if moment.tzinfo is None:
        raise ValueError("naive datetime: Allegro needs an aware one")
    if round_up and moment.microsecond % 1000:
        moment += timedelta(microseconds=1000 - moment.microsecond % 1000)
    text = moment.astimezone(UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


# A NUL character, as JSON writes it. PostgreSQL cannot store one in text or
# jsonb: a form carrying one (e.g. in a buyer's note) would fail the saving of
# every page it is on, and hold back the orders after it. It carries nothing.
NUL_ESCAPE = b"\\u0000"


def without_nul(data: Any) -> Any:
    """``data`` with every NUL character taken out of its strings and keys."""
    if isinstance(data, str):
        return data.replace("\x00", "")
    if isinstance(data, list):
        return [without_nul(item) for item in data]
    if isinstance(data, dict):
        return {without_nul(k): without_nul(v) for k, v in data.items()}
    return data


def parse(
    model: type[Model],
    response: httpx.Response,
    *,
    lenient: Callable[[Any], Model] | None = None,
) -> Model:
    """Validate a response body; anything unexpected becomes MalformedResponse.

    The raw body is validated first: pydantic parses the JSON in Rust, with no
    Python dicts in between (a page of 100 orders in ~35 % less time than
    json.loads plus model_validate, a page of 1 000 events in half). Only when
    that fails is it read again, json.loads then ``lenient`` (default
    ``model.model_validate``): that path tells a body that is not JSON from
    one that is not what we expect, and ``lenient`` may still read part of it
    (CheckoutFormList.set_apart). A body with a NUL character in it takes the
    slow path too, and the NULs are taken out (NUL_ESCAPE).
    """
    nul = NUL_ESCAPE in response.content
    if not nul:
        try:
            return model.model_validate_json(response.content)
        except ValidationError:
            pass  # not JSON, or not what we expect: the slow path says which
    trace_id = response.headers.get("Trace-Id")
    what = f"{response.request.method} {response.request.url.path}"
    try:
        data = response.json()
    except ValueError:
        raise MalformedResponse(
            f"{what}: response is not JSON",
            status=response.status_code,
            trace_id=trace_id,
        ) from None
    if nul:
        data = without_nul(data)
    try:
        return (lenient or model.model_validate)(data)
    except ValidationError as exc:
        problems = schemas.describe(exc)
        raise MalformedResponse(
            f"{what}: unexpected {model.__name__} ({problems})",
            status=response.status_code,
            trace_id=trace_id,
        ) from None


class HttpSession:
    """Requests to Allegro's REST API: headers, limiter, classified errors, retries."""

    def __init__(
        self,
        api_url: str,
        *,
        auth: httpx.Auth | None = None,
        transport: httpx.BaseTransport | None = None,
        limiter: Limiter | None = None,
        limiter_key: str = "",
        language: str = "en-US",
        timeout: float = 30,
        max_attempts: int = 4,
        max_retry_seconds: float = 120,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = jitter,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        # What this client sent, for the run record and /metrics.
        self.requests_sent = 0
        self.rate_limited = 0
        self.limiter = limiter
        self.limiter_key = limiter_key
        self.clock = clock
        # resource -> when its requests of the last second were sent (clock)
        self._recent: dict[str, deque[float]] = {}
        self.max_attempts = max(1, max_attempts)
        self.max_retry_seconds = max_retry_seconds
        self.sleep = sleep
        self.jitter = jitter
        self.http = httpx.Client(
            base_url=self.api_url,
            auth=auth,
            transport=transport,
            timeout=timeout,
            headers={
                "Accept": MEDIA_TYPE,
                "Accept-Language": language,
                "User-Agent": USER_AGENT,
            },
        )

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
        idempotent: bool = True,
    ) -> httpx.Response:
        """One logical request: rate-limited, classified, retried when safe."""
        content = None
        headers = dict(headers or {})
        if body is not None:
            content = json.dumps(body, default=str).encode()
            headers["Content-Type"] = MEDIA_TYPE
        started = time.monotonic()
        slept = 0.0
        for attempt in range(1, self.max_attempts + 1):
            if self.limiter is not None:
                self.limiter.acquire(self.limiter_key)
            self._pace(path)
            error = self._attempt(method, path, params, content, headers)
            if not isinstance(error, _NotSent):
                self.requests_sent += 1
            if isinstance(error, httpx.Response):
                return error
            if isinstance(error, RateLimited):
                self.rate_limited += 1
            if (
                isinstance(error, RateLimited)
                and not isinstance(error, TokenRateLimited | ResourceRateLimited)
                and self.limiter is not None
            ):
                # Hold every request on this Client ID, not just this one, and
                # also when this one gives up: the block is the Client ID's.
                self.limiter.pause(self.limiter_key, error.retry_after)
            if not self._should_retry(error, idempotent, attempt):
                raise error
            delay = backoff_delay(error, attempt, self.jitter)
            spent = max(time.monotonic() - started, slept)
            if spent + delay > self.max_retry_seconds:
                raise error
            log.warning(
                "Allegro request failed (%s; attempt %d/%d); retrying in %.1f s",
                error,
                attempt,
                self.max_attempts,
                delay,
            )
            self.sleep(delay)
            slept += delay
        raise AssertionError("unreachable")  # pragma: no cover

    def _pace(self, path: str) -> None:
        """Keep an endpoint with a per-second limit of its own under it.

        The limit is per seller (api-notes §4.1, §9) and a session is one
        channel's, whose flows hold a lease: a sliding one-second window here,
        at a safe share of the limit, lets a small burst through at once and
        spaces a big one (200 dispatches) instead of earning 429s.
        """
        limited = resource_limit(path)
        if limited is None:
            return
        resource, per_second = limited
        most = max(1, int(per_second * RESOURCE_SHARE))
        stamps = self._recent.setdefault(resource, deque())
        while True:
            now = self.clock()
            while stamps and stamps[0] <= now - 1.0:
                stamps.popleft()
            if len(stamps) < most:
                stamps.append(now)
                return
            self.sleep(stamps[0] + 1.0 - now)

    def _attempt(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None,
        content: bytes | None,
        headers: dict[str, str],
    ) -> httpx.Response | AllegroError:
        what = f"{method} {path}"
        try:
            response = self.http.request(
                method, path, params=params, content=content, headers=headers
            )
        except httpx.ConnectError as exc:
            return _NotSent(f"{what}: cannot connect ({type(exc).__name__})")
        except httpx.TimeoutException as exc:
            return TransientError(f"{what}: timed out ({type(exc).__name__})")
        except httpx.TransportError as exc:
            return TransientError(f"{what}: connection failed ({type(exc).__name__})")
        except TransientError as exc:  # raised by ChannelAuth's token refresh
            return exc
        if response.is_success or response.is_redirect:
            return response  # 303: an asynchronous offer operation finished
        return classify(response)

    def _should_retry(
        self, error: AllegroError, idempotent: bool, attempt: int
    ) -> bool:
        if attempt >= self.max_attempts or not isinstance(error, TransientError):
            return False
        if isinstance(error, TokenRateLimited):
            # Each try would generate a token and deepen the per-user limit
            # (api-notes §2.4): the channel's next sync refreshes again.
            return False
        # Non-idempotent POSTs: only when Allegro cannot have acted on them.
        return idempotent or isinstance(error, RateLimited | _NotSent)

    def _get(
        self,
        model: type[Model],
        path: str,
        params: dict[str, Any] | None = None,
        *,
        headers: dict[str, str] | None = None,
        lenient: Callable[[Any], Model] | None = None,
    ) -> Model:
        # Allegro's parameter names have dots ("offer.id"), hence a dict.
        clean = {k: v for k, v in (params or {}).items() if v is not None}
        response = self._send("GET", path, params=clean, headers=headers)
        return parse(model, response, lenient=lenient)


class _NotSent(TransientError):
    """The connection failed before the request was sent: safe to retry anything."""
