"""OAuth 2.0: token endpoint, device flow, token checks (api-notes §2)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import string
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import httpx

from allegro_emulator.state import AccessToken, DeviceCode, RefreshToken
from allegro_emulator.web import ApiError, AuthFailure, ControlError, Ctx, json_response

if TYPE_CHECKING:
    from allegro_emulator.core import Handler
    from allegro_emulator.emulator import Emulator

# api-notes §2.5: without an explicit scope the token gets all scopes of the app.
ALL_SCOPES = " ".join(
    [
        "allegro:api:profile:read",
        "allegro:api:profile:write",
        "allegro:api:sale:offers:read",
        "allegro:api:sale:offers:write",
        "allegro:api:orders:read",
        "allegro:api:orders:write",
        "allegro:api:shipments:read",
        "allegro:api:shipments:write",
        "allegro:api:sale:settings:read",
        "allegro:api:sale:settings:write",
    ]
)
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


# ---------------------------------------------------------------- tokens


def issue_tokens(
    emu: Emulator, client_id: str, seller_id: str | None, scope: str | None = None
) -> dict[str, Any]:
    """Create an access (+refresh, for a seller) token pair; the §2.1 response."""
    now = emu.clock.now()
    scope = scope or ALL_SCOPES
    jti = emu.new_uuid()
    expires_at = now + timedelta(seconds=emu.config.access_token_ttl)
    claims = {
        "user_name": seller_id,
        "scope": scope.split(),
        "allegro_api": True,
        "iss": "https://allegro.pl",
        "exp": int(expires_at.timestamp()),
        "jti": jti,
        "client_id": client_id,
        "nonce": emu.new_secret(8),
    }
    access = emu.make_jwt(claims)
    emu.access_tokens[access] = AccessToken(
        token=access,
        client_id=client_id,
        seller_id=seller_id,
        scope=scope,
        expires_at=expires_at,
        jti=jti,
    )
    body: dict[str, Any] = {
        "access_token": access,
        "token_type": "bearer",
        "expires_in": emu.config.access_token_ttl,
        "scope": scope,
        "allegro_api": True,
        "jti": jti,
    }
    if seller_id is not None:
        refresh = emu.new_secret(32)
        emu.refresh_tokens[refresh] = RefreshToken(
            token=refresh,
            client_id=client_id,
            seller_id=seller_id,
            scope=scope,
            expires_at=now + timedelta(seconds=emu.config.refresh_token_ttl),
        )
        body["refresh_token"] = refresh
    return body


def revoke_tokens(emu: Emulator, seller_id: str) -> int:
    """Invalidate every token of a seller (password change, unlinking; §2.4)."""
    n = 0
    for tok in list(emu.access_tokens.values()) + list(emu.refresh_tokens.values()):
        if tok.seller_id == seller_id and not tok.revoked:
            tok.revoked = True
            n += 1
    return n


def _bearer(ctx: Ctx) -> str | None:
    header = ctx.header("authorization") or ""
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    return None


def _basic(ctx: Ctx) -> tuple[str, str] | None:
    header = ctx.header("authorization") or ""
    if header[:6].lower() != "basic ":
        return None
    try:
        raw = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return ("", "")
    client_id, _, secret = raw.partition(":")
    return client_id, secret


def client_id_of(emu: Emulator, ctx: Ctx) -> str | None:
    """The client a request counts against for the per-client rate limit."""
    token = _bearer(ctx)
    if token is not None:
        found = emu.access_tokens.get(token)
        return found.client_id if found else None
    basic = _basic(ctx)
    if basic and basic[0] in emu.clients:
        return basic[0]
    form_id = ctx.q("client_id")
    if form_id in emu.clients:
        return form_id
    return None


# Scope each operation requires (SPEC ``security``; PATCH product-offers has none
# there and is given the write scope of its siblings).
REQUIRED_SCOPES = {
    ("GET", "/me"): "allegro:api:profile:read",
    ("GET", "/sale/offers"): "allegro:api:sale:offers:read",
    ("POST", "/sale/product-offers"): "allegro:api:sale:offers:write",
    ("GET", "/sale/product-offers/{offerId}"): "allegro:api:sale:offers:read",
    ("PATCH", "/sale/product-offers/{offerId}"): "allegro:api:sale:offers:write",
    ("GET", "/sale/product-offers/{offerId}/parts"): "allegro:api:sale:offers:read",
    ("GET", "/sale/offer-events"): "allegro:api:sale:offers:read",
    ("GET", "/order/checkout-forms"): "allegro:api:orders:read",
    ("GET", "/order/checkout-forms/{id}"): "allegro:api:orders:read",
    ("GET", "/order/events"): "allegro:api:orders:read",
    ("GET", "/order/event-stats"): "allegro:api:orders:read",
    ("PUT", "/order/checkout-forms/{id}/fulfillment"): "allegro:api:orders:write",
    ("GET", "/order/checkout-forms/{id}/shipments"): "allegro:api:orders:read",
    ("POST", "/order/checkout-forms/{id}/shipments"): "allegro:api:orders:write",
}
# Commands (PUT and both GETs) all need sale:offers:write per the SPEC.
COMMAND_SCOPE = "allegro:api:sale:offers:write"
# SPEC: these also accept bearer-token-for-application (client_credentials).
APP_TOKEN_OK = {("GET", "/marketplaces"), ("GET", "/order/carriers")}


def required_scope(method: str, template: str) -> str | None:
    if template.startswith("/sale/offer-") and "-commands/" in template:
        return COMMAND_SCOPE
    return REQUIRED_SCOPES.get((method, template))


def authenticate(emu: Emulator, ctx: Ctx) -> None:
    """Bearer check for API paths; 401 bodies use AuthError (api-notes §2.4, §10)."""
    token = _bearer(ctx)
    if token is None:
        raise AuthFailure(
            401,
            "unauthorized",
            "Full authentication is required to access this resource",
        )
    found = emu.access_tokens.get(token)
    if found is None:
        raise AuthFailure(401, "invalid_token", "Invalid access token")
    if found.revoked:
        raise AuthFailure(401, "invalid_token", "Access token has been revoked")
    if emu.clock.now() >= found.expires_at:
        raise AuthFailure(401, "invalid_token", "Access token expired")
    ctx.client_id = found.client_id
    if found.seller_id is None:
        if (ctx.method, ctx.template) in APP_TOKEN_OK:
            return
        # api-notes §2.3: seller resources need bearer-token-for-user.
        raise ApiError(403, "AccessDenied", "This resource requires a user token")
    scope = required_scope(ctx.method, ctx.template)
    if scope is not None and scope not in found.scope.split():
        # §2.5: per-operation scopes. The exact 403 body is unconfirmed.
        raise ApiError(403, "AccessDenied", f"Access is denied: scope {scope} required")
    ctx.seller = emu.sellers[found.seller_id]


# ------------------------------------------------------------ token endpoint


def _oauth_error(status: int, error: str, description: str) -> AuthFailure:
    return AuthFailure(status, error, description)


def _check_client(emu: Emulator, ctx: Ctx, required: bool) -> str | None:
    basic = _basic(ctx)
    if basic is None:
        if required:
            raise _oauth_error(401, "unauthorized", "Full authentication is required")
        return None
    client = emu.clients.get(basic[0])
    if client is None or client.client_secret != basic[1]:
        raise _oauth_error(401, "invalid_client", "Bad client credentials")
    return client.client_id


def token_endpoint(emu: Emulator, ctx: Ctx) -> httpx.Response:
    # api-notes §2.1: parameters go in the form body, not the query string.
    if "grant_type" in ctx.query:
        raise _oauth_error(
            400,
            "invalid_request",
            "OAuth parameters must be sent in the form-encoded request body",
        )
    form = ctx.form()
    grant = form.get("grant_type", "")
    if grant == "authorization_code":
        body = _grant_code(emu, ctx, form)
    elif grant == "refresh_token":
        body = _grant_refresh(emu, ctx, form)
    elif grant == DEVICE_GRANT:
        body = _grant_device(emu, ctx, form)
    elif grant == "client_credentials":
        client_id = _check_client(emu, ctx, required=True)
        assert client_id is not None
        body = issue_tokens(emu, client_id, None, form.get("scope"))
    else:
        raise _oauth_error(
            400, "unsupported_grant_type", f"Unsupported grant type: {grant}"
        )
    return json_response(200, body, media_type="application/json")


def _grant_code(emu: Emulator, ctx: Ctx, form: dict[str, str]) -> dict[str, Any]:
    client_id = _check_client(emu, ctx, required=False)
    verifier = form.get("code_verifier")
    if client_id is None:
        # PKCE: client_id + code_verifier replace the Basic header (§2.1).
        client_id = form.get("client_id")
        if not client_id or client_id not in emu.clients or not verifier:
            raise _oauth_error(401, "unauthorized", "Full authentication is required")
    code = emu.auth_codes.get(form.get("code", ""))
    now = emu.clock.now()
    if code is None or code.used or code.client_id != client_id:
        raise _oauth_error(400, "invalid_grant", "Invalid authorization code")
    code.used = True  # single-use even if the rest of the exchange fails
    if now >= code.expires_at:
        raise _oauth_error(400, "invalid_grant", "Authorization code expired")
    if form.get("redirect_uri") != code.redirect_uri:
        raise _oauth_error(400, "invalid_grant", "Redirect URI mismatch")
    if code.code_challenge is not None:
        if not verifier or not 43 <= len(verifier) <= 128:
            raise _oauth_error(400, "invalid_grant", "Invalid code_verifier")
        digest = hashlib.sha256(verifier.encode()).digest()
        expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        if expected != code.code_challenge:
            raise _oauth_error(400, "invalid_grant", "Invalid code_verifier")
    elif _basic(ctx) is None:
        raise _oauth_error(401, "unauthorized", "Full authentication is required")
    return issue_tokens(emu, client_id, code.seller_id, code.scope)


def _grant_refresh(emu: Emulator, ctx: Ctx, form: dict[str, str]) -> dict[str, Any]:
    client_id = _check_client(emu, ctx, required=True)
    now = emu.clock.now()
    tok = emu.refresh_tokens.get(form.get("refresh_token", ""))
    invalid = _oauth_error(400, "invalid_grant", "Invalid refresh token")
    if (
        tok is None
        or tok.revoked
        or tok.client_id != client_id
        or now >= tok.expires_at
    ):
        raise invalid
    # §2.4: rotation; the old token stays usable for 60 s after its first use.
    if tok.used_at is not None and now > tok.used_at + timedelta(
        seconds=emu.config.refresh_grace_seconds
    ):
        raise invalid
    if tok.used_at is None:
        tok.used_at = now
    return issue_tokens(emu, tok.client_id, tok.seller_id, tok.scope)


def _grant_device(emu: Emulator, ctx: Ctx, form: dict[str, str]) -> dict[str, Any]:
    client_id = _check_client(emu, ctx, required=True)
    now = emu.clock.now()
    dev = emu.device_codes.get(form.get("device_code", ""))
    if dev is None or dev.client_id != client_id or dev.status == "consumed":
        raise _oauth_error(400, "Invalid device code", "Invalid device code")
    if now >= dev.expires_at:
        raise _oauth_error(400, "expired_token", "Device code expired")
    if dev.status == "denied":
        raise _oauth_error(400, "access_denied", "User denied access")
    if dev.status == "pending":
        too_fast = dev.last_poll is not None and now - dev.last_poll < timedelta(
            seconds=dev.interval
        )
        dev.last_poll = now
        if too_fast:
            raise _oauth_error(400, "slow_down", "Polling too frequently")
        raise _oauth_error(400, "authorization_pending", "Authorization pending")
    dev.status = "consumed"  # §2.2: a device_code returns a token only once
    assert dev.seller_id is not None
    return issue_tokens(emu, client_id, dev.seller_id, dev.scope)


# ----------------------------------------------------------------- device


def device_endpoint(emu: Emulator, ctx: Ctx) -> httpx.Response:
    client_id = _check_client(emu, ctx, required=True)
    assert client_id is not None
    form = ctx.form()
    claimed = form.get("client_id") or ctx.q("client_id")
    if claimed and claimed != client_id:
        raise _oauth_error(
            400, "invalid_request", "client_id does not match credentials"
        )
    dev = create_device_code(emu, client_id, form.get("scope") or ctx.q("scope"))
    uri = f"{ctx.base_url}/skojarz-aplikacje"
    # §2.2: expires_in and interval are strings in Allegro's documented example.
    body = {
        "user_code": dev.user_code,
        "device_code": dev.device_code,
        "expires_in": str(emu.config.device_code_ttl),
        "interval": str(dev.interval),
        "verification_uri": uri,
        "verification_uri_complete": f"{uri}?code={dev.user_code}",
    }
    return json_response(200, body, media_type="application/json")


def create_device_code(emu: Emulator, client_id: str, scope: str | None) -> DeviceCode:
    alphabet = string.ascii_lowercase + string.digits
    user_code = "".join(emu.rng.choice(alphabet) for _ in range(9))
    dev = DeviceCode(
        device_code=emu.new_secret(16),
        user_code=user_code,
        client_id=client_id,
        scope=scope or ALL_SCOPES,
        expires_at=emu.clock.now() + timedelta(seconds=emu.config.device_code_ttl),
        interval=emu.config.device_interval,
    )
    emu.device_codes[dev.device_code] = dev
    return dev


def find_device(emu: Emulator, user_code: str) -> DeviceCode:
    wanted = user_code.replace(" ", "").replace("-", "").lower()
    for dev in emu.device_codes.values():
        if dev.user_code == wanted and dev.status == "pending":
            if emu.clock.now() >= dev.expires_at:
                break
            return dev
    raise ControlError(f"no pending device authorisation for user code {user_code!r}")


ROUTES: list[tuple[str, str, Handler, str]] = [
    ("POST", "/auth/oauth/token", token_endpoint, "auth"),
    ("POST", "/auth/oauth/device", device_endpoint, "auth"),
]
