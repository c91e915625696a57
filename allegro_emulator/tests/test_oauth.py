from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from allegro_emulator import MEDIA_TYPE, ControlError

from .conftest import BASE, CLIENT_ID, REDIRECT, World, basic

TOKEN = "/auth/oauth/token"


def form_post(w: World, url: str, data: dict[str, str], auth: str | None = None):
    headers = {"Authorization": auth} if auth else {}
    return w.raw.post(url, data=data, headers=headers)


def consent(
    w: World, params: dict[str, str], decision: str = "approve", login="shop-1"
):
    page = w.raw.get("/auth/oauth/authorize", params=params)
    assert page.status_code == 200
    assert 'id="approve"' in page.text
    assert ">Approve<" in page.text
    form = dict(params, decision=decision, login=login)
    return w.raw.post("/auth/oauth/authorize", data=form)


def code_from(resp: httpx.Response) -> dict[str, list[str]]:
    assert resp.status_code == 302
    loc = resp.headers["location"]
    assert loc.startswith(REDIRECT + "?")
    return parse_qs(urlsplit(loc).query)


AUTH_PARAMS = {
    "response_type": "code",
    "client_id": CLIENT_ID,
    "redirect_uri": REDIRECT,
    "state": "xyz-123",
}


def exchange(w: World, code: str, **extra: str) -> httpx.Response:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    data.update(extra)
    return form_post(w, TOKEN, data, basic() if "code_verifier" not in extra else None)


def test_authorization_code_flow_returns_tokens_usable_on_api(world: World) -> None:
    q = code_from(consent(world, AUTH_PARAMS))
    assert q["state"] == ["xyz-123"]
    resp = exchange(world, q["code"][0])
    assert resp.status_code == 200
    body = resp.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 43199
    assert body["allegro_api"] is True
    assert set(body) >= {"access_token", "refresh_token", "scope", "jti"}
    me = world.client_for(body["access_token"]).get("/me")
    assert me.status_code == 200
    assert me.json()["login"] == "shop-1"


def test_deny_redirects_with_access_denied_and_state(world: World) -> None:
    q = code_from(consent(world, AUTH_PARAMS, decision="deny"))
    assert q == {"error": ["access_denied"], "state": ["xyz-123"]}


def test_unregistered_redirect_uri_gets_error_page_not_redirect(world: World) -> None:
    params = dict(AUTH_PARAMS, redirect_uri="http://evil.test/cb")
    resp = world.raw.get("/auth/oauth/authorize", params=params)
    assert resp.status_code == 400
    assert "location" not in resp.headers


def test_code_is_single_use(world: World) -> None:
    code = code_from(consent(world, AUTH_PARAMS))["code"][0]
    assert exchange(world, code).status_code == 200
    again = exchange(world, code)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


def test_code_expires_after_10_seconds(world: World) -> None:
    code = code_from(consent(world, AUTH_PARAMS))["code"][0]
    world.emu.clock.advance(seconds=10)
    resp = exchange(world, code)
    assert resp.status_code == 400
    assert resp.json()["error"] == "invalid_grant"


def test_code_valid_just_before_expiry(world: World) -> None:
    code = code_from(consent(world, AUTH_PARAMS))["code"][0]
    world.emu.clock.advance(seconds=9.9)
    assert exchange(world, code).status_code == 200


def test_redirect_uri_must_match_on_exchange(world: World) -> None:
    code = code_from(consent(world, AUTH_PARAMS))["code"][0]
    resp = exchange(world, code, redirect_uri="http://hub.test/other")
    assert resp.status_code == 400


def _pkce() -> tuple[str, str]:
    verifier = "v" * 20 + "A1b2C3d4e5F6g7H8i9J0k1L2m3"
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def test_pkce_s256_verified(world: World) -> None:
    verifier, challenge = _pkce()
    params = dict(AUTH_PARAMS, code_challenge=challenge, code_challenge_method="S256")
    code = code_from(consent(world, params))["code"][0]
    ok = exchange(world, code, client_id=CLIENT_ID, code_verifier=verifier)
    assert ok.status_code == 200, ok.text


def test_pkce_wrong_verifier_rejected(world: World) -> None:
    _, challenge = _pkce()
    params = dict(AUTH_PARAMS, code_challenge=challenge, code_challenge_method="S256")
    code = code_from(consent(world, params))["code"][0]
    bad = exchange(world, code, client_id=CLIENT_ID, code_verifier="x" * 43)
    assert bad.status_code == 400
    assert bad.json()["error"] == "invalid_grant"


def test_pkce_challenge_requires_verifier_even_with_basic(world: World) -> None:
    _, challenge = _pkce()
    params = dict(AUTH_PARAMS, code_challenge=challenge, code_challenge_method="S256")
    code = code_from(consent(world, params))["code"][0]
    assert exchange(world, code).status_code == 400


def test_token_params_in_query_string_rejected(world: World) -> None:
    code = world.emu.authorize(CLIENT_ID, world.seller_id, REDIRECT)
    resp = world.raw.post(
        TOKEN,
        params={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
        },
        headers={"Authorization": basic()},
    )
    assert resp.status_code == 400
    assert resp.json()["error"] == "invalid_request"


def test_bad_client_secret_is_401(world: World) -> None:
    code = world.emu.authorize(CLIENT_ID, world.seller_id, REDIRECT)
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    resp = form_post(world, TOKEN, data, basic(secret="wrong"))
    assert resp.status_code == 401
    assert resp.json()["error"] == "invalid_client"


def _refresh(w: World, token: str) -> httpx.Response:
    data = {"grant_type": "refresh_token", "refresh_token": token}
    return form_post(w, TOKEN, data, basic())


def test_refresh_rotates_and_old_token_has_60s_grace(world: World) -> None:
    old = str(world.tokens["refresh_token"])
    first = _refresh(world, old)
    assert first.status_code == 200
    new_pair = first.json()
    assert new_pair["refresh_token"] != old
    world.emu.clock.advance(seconds=60)
    assert _refresh(world, old).status_code == 200  # still inside the grace window
    world.emu.clock.advance(seconds=1)
    late = _refresh(world, old)
    assert late.status_code == 400
    assert late.json()["error"] == "invalid_grant"
    assert _refresh(world, new_pair["refresh_token"]).status_code == 200


def test_access_token_expires_after_43199_seconds(world: World) -> None:
    world.emu.clock.advance(seconds=43198)
    assert world.api.get("/me").status_code == 200
    world.emu.clock.advance(seconds=1)
    resp = world.api.get("/me")
    assert resp.status_code == 401
    assert resp.json()["error"] == "invalid_token"


def test_missing_and_unknown_tokens_are_401(world: World) -> None:
    resp = world.raw.get("/me", headers={"Accept": MEDIA_TYPE})
    assert resp.status_code == 401
    assert resp.json()["error"] == "unauthorized"
    resp = world.client_for("not-a-token").get("/me")
    assert resp.status_code == 401
    assert resp.json() == {
        "error": "invalid_token",
        "error_description": "Invalid access token",
    }


def test_revoke_tokens_kills_access_and_refresh(world: World) -> None:
    assert world.emu.revoke_tokens(world.seller_id) == 2
    assert world.api.get("/me").json()["error"] == "invalid_token"
    assert (
        _refresh(world, str(world.tokens["refresh_token"])).json()["error"]
        == "invalid_grant"
    )


def test_client_credentials_token_cannot_read_seller_resources(world: World) -> None:
    resp = form_post(world, TOKEN, {"grant_type": "client_credentials"}, basic())
    body = resp.json()
    assert resp.status_code == 200
    assert "refresh_token" not in body
    app = world.client_for(body["access_token"])
    assert app.get("/me").status_code == 403
    assert app.get("/order/events").status_code == 403
    # SPEC: carriers and marketplaces also accept application tokens
    assert app.get("/order/carriers").status_code == 200
    assert app.get("/marketplaces").status_code == 200


def test_token_scopes_are_enforced(world: World) -> None:
    tokens = world.emu.issue_tokens(
        CLIENT_ID, world.seller_id, scope="allegro:api:orders:read"
    )
    limited = world.client_for(str(tokens["access_token"]))
    assert limited.get("/order/events").status_code == 200
    denied = limited.get("/sale/offers")
    assert denied.status_code == 403
    assert denied.json()["errors"][0]["code"] == "AccessDenied"
    assert limited.get("/sale/offer-quantity-change-commands/x").status_code == 403
    assert limited.get("/me").status_code == 403


def test_consent_with_scope_parameter_limits_token(world: World) -> None:
    params = dict(AUTH_PARAMS, scope="allegro:api:profile:read allegro:api:orders:read")
    body = exchange(world, code_from(consent(world, params))["code"][0]).json()
    assert body["scope"] == "allegro:api:profile:read allegro:api:orders:read"
    client = world.client_for(body["access_token"])
    assert client.get("/me").status_code == 200
    assert client.get("/sale/offers").status_code == 403


# ----------------------------------------------------------------- device


def _device_start(w: World) -> dict[str, str]:
    resp = form_post(w, "/auth/oauth/device", {"client_id": CLIENT_ID}, basic())
    assert resp.status_code == 200
    return resp.json()


def _poll(w: World, device_code: str) -> httpx.Response:
    data = {
        "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
        "device_code": device_code,
    }
    return form_post(w, TOKEN, data, basic())


def test_device_flow_pending_slow_down_then_tokens_once(world: World) -> None:
    dev = _device_start(world)
    assert dev["interval"] == "5"
    assert dev["expires_in"] == "3600"
    assert dev["verification_uri"] == f"{BASE}/skojarz-aplikacje"
    assert dev["verification_uri_complete"].endswith(f"?code={dev['user_code']}")
    assert _poll(world, dev["device_code"]).json()["error"] == "authorization_pending"
    world.emu.clock.advance(seconds=2)
    assert _poll(world, dev["device_code"]).json()["error"] == "slow_down"
    world.emu.clock.advance(seconds=5)
    assert _poll(world, dev["device_code"]).json()["error"] == "authorization_pending"
    world.emu.approve_device(dev["user_code"], "shop-1")
    world.emu.clock.advance(seconds=5)
    ok = _poll(world, dev["device_code"])
    assert ok.status_code == 200
    assert (
        world.client_for(ok.json()["access_token"]).get("/me").json()["login"]
        == "shop-1"
    )
    world.emu.clock.advance(seconds=5)
    again = _poll(world, dev["device_code"])
    assert again.status_code == 400
    assert again.json()["error"] == "Invalid device code"


def test_device_flow_denied(world: World) -> None:
    dev = _device_start(world)
    world.emu.deny_device(dev["user_code"])
    resp = _poll(world, dev["device_code"])
    assert resp.status_code == 400
    assert resp.json()["error"] == "access_denied"


def test_device_flow_via_verification_page(world: World) -> None:
    dev = _device_start(world)
    page = world.raw.get("/skojarz-aplikacje", params={"code": dev["user_code"]})
    assert page.status_code == 200
    assert 'id="approve"' in page.text
    done = world.raw.post(
        "/skojarz-aplikacje",
        data={"user_code": dev["user_code"], "login": "shop-1", "decision": "approve"},
    )
    assert done.status_code == 200
    assert _poll(world, dev["device_code"]).status_code == 200


def test_device_code_expires(world: World) -> None:
    dev = _device_start(world)
    world.emu.clock.advance(seconds=3600)
    assert _poll(world, dev["device_code"]).json()["error"] == "expired_token"
    with pytest.raises(ControlError):
        world.emu.approve_device(dev["user_code"], "shop-1")


def test_authorize_page_creates_unknown_login_as_new_seller(world: World) -> None:
    q = code_from(consent(world, AUTH_PARAMS, login="brand-new"))
    body = exchange(world, q["code"][0]).json()
    assert (
        world.client_for(body["access_token"]).get("/me").json()["login"] == "brand-new"
    )
