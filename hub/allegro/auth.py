"""OAuth with Allegro: connecting an account, and tokens that survive rotation.

Connecting (api-notes §2): authorization code with PKCE and ``state``, or the
device flow on headless installs, or an existing refresh token.

Refreshing (api-notes §2.4): a refresh token is single-use. Refreshing blocks
the old one (after a 60 s grace), so two refreshes racing with the same token,
or a new pair that was not saved, end in ``invalid_grant`` and a forced
reconnect — the most common Allegro integration failure (#995, #2939, #6733).
So a refresh is single-flight per channel across threads *and* processes:

1. Claim: a conditional UPDATE sets ``refresh_lease_until`` on the channel row
   only if ``token_version`` is still the one we saw and no live lease exists.
   Works the same on SQLite and PostgreSQL (no SELECT FOR UPDATE needed).
2. The winner calls Allegro, then saves the new pair in one UPDATE that also
   bumps ``token_version`` and clears the lease — before anyone uses the token.
3. Losers poll the row until ``token_version`` moves, then use the new token.
4. ``invalid_grant``: re-read the row first (someone may have rotated); only if
   the version did not move is the channel marked ``needs_reconnect`` and
   AuthRevoked raised.

The refresh writes happen on the caller's database connection, so never call
Allegro inside ``transaction.atomic()`` (ARCHITECTURE.md §7 already says network
I/O stays outside transactions): a rollback would forget a pair Allegro has
already rotated to.

Tokens and secrets are encrypted at rest (hub.crypto) and never logged.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
import threading
import time
from collections.abc import Generator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal
from urllib.parse import urlencode, urlsplit

import httpx
from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from pydantic import SecretStr

from hub import crypto
from hub.allegro import schemas
from hub.allegro.errors import (
    AllegroError,
    AuthRevoked,
    InvalidRequest,
    MalformedResponse,
    PermanentError,
    TokenRateLimited,
    TransientError,
    parse_error_details,
    retry_after_seconds,
)
from hub.allegro.http import USER_AGENT, parse
from hub.allegro.models import Channel

log = logging.getLogger(__name__)

# Refresh this long before Allegro's expiry (12 h tokens), so a request never
# starts with a token about to die mid-flight.
EXPIRY_MARGIN = timedelta(minutes=5)
# A refresh claim expires if its holder dies; longer than one token request.
LEASE = timedelta(seconds=45)
# ALLEGRO_HTTP_TIMEOUT, but at most this: a token request must end within LEASE.
TOKEN_TIMEOUT = 20.0
# How long a thread waits for another one's refresh before giving up (transient).
WAIT_FOR_REFRESH_SECONDS = 60.0
POLL_SECONDS = 0.05
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


# ------------------------------------------------------------- credentials


def effective_credentials(channel: Channel) -> tuple[str, str]:
    """(client id, client secret): the channel's own, or the install-wide pair."""
    if channel.client_id:
        return channel.client_id, channel.client_secret
    return settings.ALLEGRO_CLIENT_ID, settings.ALLEGRO_CLIENT_SECRET


def _credentials_or_fail(channel: Channel) -> tuple[str, str]:
    client_id, secret = effective_credentials(channel)
    if not client_id or not secret:
        raise InvalidRequest(
            _(
                "no Allegro Client ID/Secret: set them on the channel or "
                "ALLEGRO_CLIENT_ID/ALLEGRO_CLIENT_SECRET"
            )
        )
    return client_id, secret


def _basic(client_id: str, secret: str) -> str:
    raw = f"{client_id}:{secret}".encode()
    return "Basic " + base64.b64encode(raw).decode()


def _oauth_url(channel: Channel, endpoint: str) -> str:
    _, auth_base = channel.urls()
    return f"{auth_base}/auth/oauth/{endpoint}"


def token_timeout() -> float:
    return float(min(settings.ALLEGRO_HTTP_TIMEOUT, TOKEN_TIMEOUT))


def _post_form(
    channel: Channel,
    endpoint: str,
    data: dict[str, str],
    *,
    basic: bool = True,
    transport: httpx.BaseTransport | None = None,
) -> httpx.Response:
    """POST a form to Allegro's OAuth host; parameters in the body (api-notes §2.1).

    Returns 200 and 4xx responses for the caller to read; raises Transient /
    TokenRateLimited for what a later try may fix.
    """
    headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
    if basic:
        headers["Authorization"] = _basic(*_credentials_or_fail(channel))
    url = _oauth_url(channel, endpoint)
    try:
        with httpx.Client(transport=transport, timeout=token_timeout()) as http:
            response = http.post(url, data=data, headers=headers)
    except httpx.HTTPError as exc:
        raise TransientError(
            f"POST /auth/oauth/{endpoint}: {type(exc).__name__}"
        ) from None
    trace_id = response.headers.get("Trace-Id")
    if response.status_code == 429:
        # api-notes §2.4, §9: a per-user limit on generated tokens; it does not
        # block the Client ID, so it must not pause the shared request budget.
        raise TokenRateLimited(
            f"POST /auth/oauth/{endpoint}: too many token requests",
            retry_after=retry_after_seconds(response.headers.get("Retry-After")),
            trace_id=trace_id,
        )
    if response.status_code >= 500:
        raise TransientError(
            f"POST /auth/oauth/{endpoint}: Allegro server error",
            status=response.status_code,
            trace_id=trace_id,
        )
    return response


def _oauth_error(response: httpx.Response) -> tuple[str, AllegroError]:
    """(OAuth error code, a PermanentError describing it) of a non-200 answer."""
    try:
        details = parse_error_details(response.json())
    except ValueError:
        details = []
    code = details[0].code if details else ""
    error = PermanentError(
        f"{response.request.url.path}: {code or 'refused'}",
        status=response.status_code,
        trace_id=response.headers.get("Trace-Id"),
        errors=details,
    )
    return code, error


def _token_response(response: httpx.Response) -> schemas.TokenResponse:
    return parse(schemas.TokenResponse, response)


class InvalidClient(PermanentError):
    """Allegro does not accept the application's Client ID and Secret."""

    def user_text(self) -> str:
        return self._with_trace(invalid_client_text())


def invalid_client_text() -> str:
    return _(
        "Allegro does not accept this Client ID and Secret: check them in the "
        "application settings at apps.developer.allegro.pl"
    )


def check_client_credentials(
    channel: Channel, *, transport: httpx.BaseTransport | None = None
) -> None:
    """Ask for an application token, only to learn whether the secret is right.

    With PKCE the code exchange never sends the secret (api-notes §2.1) and
    `GET /me` uses the bearer token, so a wrong secret would pass Connect and
    Test and fail only at the first refresh, 12 h later, when syncing silently
    stops. A client_credentials request (api-notes §2.3: Basic auth, an access
    token and no refresh token) checks the pair now; its token is not kept.
    """
    data = {"grant_type": "client_credentials"}
    response = _post_form(channel, "token", data, transport=transport)
    if response.status_code == 200:
        return
    code, error = _oauth_error(response)
    if response.status_code == 401 or code in ("invalid_client", "unauthorized"):
        raise InvalidClient(
            "POST /auth/oauth/token: client credentials refused",
            status=error.status,
            trace_id=error.trace_id,
            errors=error.errors,
        )
    # Any other refusal (e.g. an application not allowed this grant) says nothing
    # about the secret; the check is advisory, so it must not block connecting.
    log.warning("Could not check the Client Secret of channel %s: %s", channel.pk, code)


# ------------------------------------------------------------------ storing


def store_tokens(
    channel: Channel, token_response: schemas.TokenResponse | dict[str, Any]
) -> None:
    """Save a freshly obtained pair (connect), bumping token_version; clears health."""
    tokens = schemas.TokenResponse.model_validate(token_response)
    if tokens.refresh_token is None:
        raise PermanentError(
            "Allegro returned no refresh token (a user token is needed)"
        )
    now = timezone.now()
    fields = _token_fields(tokens, now)
    fields.update(needs_reconnect=False, last_error="", last_error_at=None)
    Channel.objects.filter(pk=channel.pk).update(
        token_version=F("token_version") + 1, **fields
    )
    channel.refresh_from_db(fields=[*fields, "token_version"])
    log.info("Stored new Allegro tokens for channel %s", channel.pk)


def _token_fields(tokens: schemas.TokenResponse, now: datetime) -> dict[str, Any]:
    assert tokens.refresh_token is not None
    return {
        "access_token_encrypted": crypto.encrypt(
            tokens.access_token.get_secret_value()
        ),
        "refresh_token_encrypted": crypto.encrypt(
            tokens.refresh_token.get_secret_value()
        ),
        "access_token_expires_at": now + timedelta(seconds=tokens.expires_in),
        "refresh_token_obtained_at": now,
        "refresh_lease_until": None,
    }


# --------------------------------------------------------- code + PKCE flow


def new_state() -> str:
    """An unguessable OAuth ``state``; keep it in the session and compare on return."""
    return secrets.token_urlsafe(32)


def new_pkce_pair() -> tuple[str, str]:
    """(code_verifier, S256 code_challenge); the verifier is 43–128 characters."""
    verifier = secrets.token_urlsafe(64)  # 86 characters
    return verifier, _challenge(verifier)


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorization_url(
    channel: Channel, redirect_uri: str, state: str, code_verifier: str
) -> str:
    """Where to send the seller to sign in on Allegro and approve the hub."""
    client_id = effective_credentials(channel)[0]
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "state": state,
            "code_challenge_method": "S256",
            "code_challenge": _challenge(code_verifier),
            # api-notes §2.1: let the seller confirm which account they connect.
            "prompt": "confirm",
        }
    )
    return f"{_oauth_url(channel, 'authorize')}?{query}"


def exchange_code(
    channel: Channel,
    code: str,
    redirect_uri: str,
    code_verifier: str,
    *,
    transport: httpx.BaseTransport | None = None,
) -> None:
    """Trade the code from the redirect for tokens and store them.

    With PKCE, client_id + code_verifier replace the Basic header (api-notes
    §2.1). The code is single-use and valid for 10 seconds.
    """
    client_id = effective_credentials(channel)[0]
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "client_id": client_id,
        "code_verifier": code_verifier,
    }
    response = _post_form(channel, "token", data, basic=False, transport=transport)
    if response.status_code != 200:
        raise _oauth_error(response)[1]
    store_tokens(channel, _token_response(response))


def connect_with_refresh_token(
    channel: Channel,
    refresh_token: str,
    *,
    transport: httpx.BaseTransport | None = None,
) -> None:
    """Connect with a refresh token obtained elsewhere: refresh now, store the pair."""
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token.strip()}
    response = _post_form(channel, "token", data, transport=transport)
    if response.status_code != 200:
        code, error = _oauth_error(response)
        if code == "invalid_grant":
            raise AuthRevoked(
                "Allegro rejected this refresh token (used, expired or revoked)",
                status=error.status,
                trace_id=error.trace_id,
                errors=error.errors,
            )
        raise error
    store_tokens(channel, _token_response(response))


# -------------------------------------------------------------- device flow


@dataclass(frozen=True)
class DevicePollResult:
    """One poll of the device flow.

    status: "pending" (ask again after ``interval``), "slow_down" (polled too
    fast: add 5 s to the interval), "denied" (the seller refused),
    "expired" (start over), "connected" (tokens stored).
    """

    status: Literal["pending", "slow_down", "denied", "expired", "connected"]
    message: str = ""


DeviceCode = schemas.DeviceCode


def start_device_flow(
    channel: Channel, *, transport: httpx.BaseTransport | None = None
) -> schemas.DeviceCode:
    """Ask Allegro for a user code the seller enters at verification_uri."""
    client_id = _credentials_or_fail(channel)[0]
    response = _post_form(
        channel, "device", {"client_id": client_id}, transport=transport
    )
    if response.status_code != 200:
        raise _oauth_error(response)[1]
    device = parse(schemas.DeviceCode, response)
    for link in (device.verification_uri, device.verification_uri_complete):
        if link and not safe_link(channel, link):
            # The page renders this as a link: a javascript: URL would run in the
            # hub's origin. Allegro's is https (api-notes §2.2).
            raise MalformedResponse(
                "device: verification_uri is not an https:// address",
                status=response.status_code,
            )
    return device


def safe_link(channel: Channel, link: str) -> bool:
    """https only; plain http only for custom URLs (a local emulator)."""
    schemes: tuple[str, ...] = ("https",)
    if channel.environment == Channel.Environment.CUSTOM:
        schemes = ("https", "http")
    try:
        parts = urlsplit(link)
    except ValueError:
        return False
    return parts.scheme.lower() in schemes and bool(parts.hostname)


def poll_device_flow(
    channel: Channel,
    device_code: str,
    *,
    transport: httpx.BaseTransport | None = None,
) -> DevicePollResult:
    """Ask once whether the seller approved; store the tokens when they did."""
    data = {"grant_type": DEVICE_GRANT, "device_code": device_code}
    response = _post_form(channel, "token", data, transport=transport)
    if response.status_code == 200:
        store_tokens(channel, _token_response(response))
        return DevicePollResult("connected")
    code, error = _oauth_error(response)
    # api-notes §2.2: every non-200 answer is a 400 with an "error" code.
    if code == "authorization_pending":
        return DevicePollResult("pending")
    if code == "slow_down":
        return DevicePollResult("slow_down")
    if code == "access_denied":
        return DevicePollResult("denied", error.details_text())
    if response.status_code in (400, 401):
        return DevicePollResult("expired", error.details_text())
    raise error


# ---------------------------------------------------------------- refresh


@dataclass(frozen=True)
class TokenState:
    """What the channel row says about its tokens right now (decrypted)."""

    access_token: str
    refresh_token: str
    expires_at: datetime | None
    version: int
    needs_reconnect: bool

    def usable(self, now: datetime) -> bool:
        return bool(self.access_token) and (
            self.expires_at is None or self.expires_at - EXPIRY_MARGIN > now
        )


def read_tokens(channel_id: int) -> TokenState:
    row = (
        Channel.objects.filter(pk=channel_id)
        .values(
            "access_token_encrypted",
            "refresh_token_encrypted",
            "access_token_expires_at",
            "token_version",
            "needs_reconnect",
        )
        .first()
    )
    if row is None:
        raise AuthRevoked("the channel was deleted")
    return TokenState(
        access_token=crypto.decrypt(row["access_token_encrypted"]),
        refresh_token=crypto.decrypt(row["refresh_token_encrypted"]),
        expires_at=row["access_token_expires_at"],
        version=row["token_version"],
        needs_reconnect=row["needs_reconnect"],
    )


def fresh_tokens(
    channel: Channel,
    stale_version: int,
    *,
    transport: httpx.BaseTransport | None = None,
    sleep: Any = time.sleep,
) -> TokenState:
    """Tokens newer than ``stale_version``, refreshing only if nobody else is.

    ``stale_version`` is the version whose access token is expired or was
    rejected.
    """
    deadline = time.monotonic() + WAIT_FOR_REFRESH_SECONDS
    while True:
        state = read_tokens(channel.pk)
        now = timezone.now()
        if state.version != stale_version and state.usable(now):
            return state  # someone else already rotated
        if state.needs_reconnect:
            raise AuthRevoked("the channel must be reconnected to Allegro")
        if not state.refresh_token:
            raise AuthRevoked("the channel is not connected to Allegro")
        if _claim_refresh(channel.pk, state.version, now):
            return _refresh(channel, state, transport)
        if time.monotonic() > deadline:
            raise TransientError("timed out waiting for another token refresh")
        sleep(POLL_SECONDS)


def _claim_refresh(channel_id: int, version: int, now: datetime) -> bool:
    free = Q(refresh_lease_until__isnull=True) | Q(refresh_lease_until__lt=now)
    claimed = Channel.objects.filter(free, pk=channel_id, token_version=version).update(
        refresh_lease_until=now + LEASE
    )
    return claimed == 1


def _release_claim(channel_id: int, version: int) -> None:
    Channel.objects.filter(pk=channel_id, token_version=version).update(
        refresh_lease_until=None
    )


def _refresh(
    channel: Channel, state: TokenState, transport: httpx.BaseTransport | None
) -> TokenState:
    """We hold the claim: rotate the pair and save it before anyone uses it."""
    data = {"grant_type": "refresh_token", "refresh_token": state.refresh_token}
    try:
        response = _post_form(channel, "token", data, transport=transport)
    except AllegroError:
        # A lost answer (timeout, 5xx) may still have rotated the pair on
        # Allegro's side; the old refresh token keeps working for 60 s after
        # its first use (api-notes §2.4), and the client retries within seconds.
        _release_claim(channel.pk, state.version)
        raise
    if response.status_code != 200:
        _release_claim(channel.pk, state.version)
        return _refresh_refused(channel, state, response)
    try:
        tokens = _token_response(response)
    except AllegroError:
        _release_claim(channel.pk, state.version)
        raise
    if tokens.refresh_token is None:
        # Should not happen for user tokens; keep the old refresh token.
        kept = SecretStr(state.refresh_token)
        tokens = tokens.model_copy(update={"refresh_token": kept})
    fields = _token_fields(tokens, timezone.now())
    saved = Channel.objects.filter(pk=channel.pk, token_version=state.version).update(
        token_version=state.version + 1, **fields
    )
    if not saved:
        # Our lease ran out and another process rotated meanwhile; both pairs
        # are valid (60 s grace), theirs is the one on record.
        log.warning(
            "Channel %s: token refresh raced; using the stored pair", channel.pk
        )
        return read_tokens(channel.pk)
    log.info("Refreshed Allegro access token for channel %s", channel.pk)
    return read_tokens(channel.pk)


def _refresh_refused(
    channel: Channel, state: TokenState, response: httpx.Response
) -> TokenState:
    code, error = _oauth_error(response)
    if code != "invalid_grant":
        raise error
    current = read_tokens(channel.pk)
    if current.version != state.version and current.usable(timezone.now()):
        return current  # another process rotated under us: use its pair
    message = "Allegro rejected the refresh token; reconnect the channel"
    Channel.objects.filter(pk=channel.pk, token_version=state.version).update(
        needs_reconnect=True, last_error=message, last_error_at=timezone.now()
    )
    log.warning("Channel %s: refresh token rejected (invalid_grant)", channel.pk)
    raise AuthRevoked(
        message, status=error.status, trace_id=error.trace_id, errors=error.errors
    )


def mark_needs_reconnect(channel_id: int, version: int) -> None:
    """Allegro refused the channel's tokens for good: stop using them.

    Only if the pair is still ``version``: a reconnect meanwhile stored a new one.
    """
    marked = Channel.objects.filter(pk=channel_id, token_version=version).update(
        needs_reconnect=True,
        last_error=_(
            "Allegro refused the channel's access even after a token refresh; "
            "reconnect the channel"
        ),
        last_error_at=timezone.now(),
    )
    if marked:
        log.warning("Channel %s: a fresh access token was refused (401)", channel_id)


class ChannelAuth(httpx.Auth):
    """Bearer auth from the channel row; refreshes when expired, or once on 401."""

    def __init__(
        self, channel: Channel, *, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.channel = channel
        self.transport = transport
        self._lock = threading.Lock()
        self._state: TokenState | None = None

    def _current(self) -> TokenState:
        with self._lock:
            state = self._state
        if state is None or not state.usable(timezone.now()):
            state = read_tokens(self.channel.pk)
        if state.needs_reconnect:
            # Not even with a token that looks valid: Allegro refused it already.
            raise AuthRevoked("the channel must be reconnected to Allegro")
        if not state.usable(timezone.now()):
            state = fresh_tokens(self.channel, state.version, transport=self.transport)
        with self._lock:
            self._state = state
        return state

    def _after_rejection(self, rejected: TokenState) -> TokenState:
        state = fresh_tokens(self.channel, rejected.version, transport=self.transport)
        with self._lock:
            self._state = state
        return state

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        state = self._current()
        request.headers["Authorization"] = f"Bearer {state.access_token}"
        response = yield request
        if response.status_code != 401:
            return
        # Expired or rotated elsewhere: refresh (or pick up the new pair) once.
        state = self._after_rejection(state)
        request.headers["Authorization"] = f"Bearer {state.access_token}"
        response = yield request
        if response.status_code == 401:
            # A brand-new token refused too: the grant is gone (the seller
            # unlinked the app, changed the password…). Refreshing again on
            # every sync would only burn the per-user token limit (api-notes
            # §2.4), so stop until the seller reconnects.
            with self._lock:
                self._state = None
            mark_needs_reconnect(self.channel.pk, state.version)

    def auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        # This client is synchronous only (Django ORM calls inside).
        raise RuntimeError("ChannelAuth works with httpx.Client only")
