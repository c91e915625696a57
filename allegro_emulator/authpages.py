"""HTML pages a seller clicks through: the authorize consent page and the device
verification page (``/skojarz-aplikacje``). Kept minimal so a Playwright test can
press the "Approve" button (id ``approve``)."""

from __future__ import annotations

import fnmatch
import html
from datetime import timedelta
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from allegro_emulator import oauth
from allegro_emulator.state import AuthCode
from allegro_emulator.web import ControlError, Ctx, html_response, redirect

if TYPE_CHECKING:
    from allegro_emulator.core import Handler
    from allegro_emulator.emulator import Emulator

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body><h1>{title}</h1>{body}</body></html>"""


def _page(status: int, title: str, body: str) -> httpx.Response:
    return html_response(status, PAGE.format(title=html.escape(title), body=body))


def redirect_uri_allowed(registered: list[str], uri: str) -> bool:
    """Exact match as on Allegro; a registered entry containing ``*`` is an
    emulator-only wildcard (handy for the demo where the hub's port varies)."""
    for entry in registered:
        if entry == uri or ("*" in entry and fnmatch.fnmatchcase(uri, entry)):
            return True
    return False


def with_params(uri: str, params: dict[str, str | None]) -> str:
    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += [(k, v) for k, v in params.items() if v is not None]
    return urlunsplit(parts._replace(query=urlencode(query)))


def create_auth_code(
    emu: Emulator,
    client_id: str,
    redirect_uri: str,
    seller_id: str,
    scope: str | None = None,
    code_challenge: str | None = None,
    code_challenge_method: str | None = None,
) -> str:
    code = AuthCode(
        code=emu.new_secret(24),
        client_id=client_id,
        seller_id=seller_id,
        redirect_uri=redirect_uri,
        scope=scope or oauth.ALL_SCOPES,
        # api-notes §2.1: the code is single-use and valid 10 seconds.
        expires_at=emu.clock.now() + timedelta(seconds=emu.config.auth_code_ttl),
        code_challenge=code_challenge,
        code_challenge_method=code_challenge_method,
    )
    emu.auth_codes[code.code] = code
    return code.code


def _seller_picker(emu: Emulator) -> str:
    logins = sorted(s.login for s in emu.sellers.values())
    if not logins:
        return (
            '<label>Allegro login <input name="login" id="login" '
            'value="demo-seller"></label>'
        )
    options = "".join(
        f'<option value="{html.escape(x)}">{html.escape(x)}</option>' for x in logins
    )
    return (
        f'<label>Log in as <select name="login" id="login">{options}</select></label>'
    )


def _buttons() -> str:
    return (
        '<p><button type="submit" name="decision" value="approve" id="approve">'
        "Approve</button> "
        '<button type="submit" name="decision" value="deny" id="deny">Deny</button></p>'
    )


def _validate_authorize(emu: Emulator, params: dict[str, str]) -> str | httpx.Response:
    """Return the redirect_uri to use, or an error page (no redirect on bad client)."""
    client = emu.clients.get(params.get("client_id", ""))
    if client is None:
        return _page(400, "Error", "<p>Unknown client_id.</p>")
    uri = params.get("redirect_uri")
    if not uri:
        if len(client.redirect_uris) == 1 and "*" not in client.redirect_uris[0]:
            uri = client.redirect_uris[0]
        else:
            return _page(400, "Error", "<p>redirect_uri is required.</p>")
    if not redirect_uri_allowed(client.redirect_uris, uri):
        return _page(
            400, "Error", "<p>redirect_uri does not match the application.</p>"
        )
    return uri


def authorize_page(emu: Emulator, ctx: Ctx) -> httpx.Response:
    params = {k: v[-1] for k, v in ctx.query.items()}
    uri = _validate_authorize(emu, params)
    if isinstance(uri, httpx.Response):
        return uri
    state = params.get("state")
    if params.get("response_type") != "code":
        return redirect(
            with_params(uri, {"error": "unsupported_response_type", "state": state})
        )
    method = params.get("code_challenge_method")
    if params.get("code_challenge") and method not in (None, "S256"):
        return redirect(with_params(uri, {"error": "invalid_request", "state": state}))
    client = emu.clients[params["client_id"]]
    params["redirect_uri"] = uri
    hidden = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in params.items()
    )
    body = (
        f"<p>The application <strong>{html.escape(client.name or client.client_id)}"
        "</strong> asks for access to your Allegro account.</p>"
        f'<form method="post" action="/auth/oauth/authorize">{hidden}'
        f"{_seller_picker(emu)}{_buttons()}</form>"
    )
    return _page(200, "Allegro (emulator) - authorize application", body)


def authorize_submit(emu: Emulator, ctx: Ctx) -> httpx.Response:
    form = ctx.form()
    uri = _validate_authorize(emu, form)
    if isinstance(uri, httpx.Response):
        return uri
    state = form.get("state")
    if form.get("decision") != "approve":
        return redirect(with_params(uri, {"error": "access_denied", "state": state}))
    seller_id = emu.seller_id_for_login(form.get("login") or "demo-seller", create=True)
    code = create_auth_code(
        emu,
        form["client_id"],
        uri,
        seller_id,
        scope=form.get("scope"),
        code_challenge=form.get("code_challenge") or None,
        code_challenge_method=form.get("code_challenge_method") or None,
    )
    return redirect(with_params(uri, {"code": code, "state": state}))


def device_page(emu: Emulator, ctx: Ctx) -> httpx.Response:
    code = html.escape(ctx.q("code") or "")
    body = (
        '<form method="post" action="/skojarz-aplikacje">'
        f'<label>Code <input name="user_code" id="user_code" value="{code}"></label> '
        f"{_seller_picker(emu)}{_buttons()}</form>"
    )
    return _page(200, "Allegro (emulator) - link an application", body)


def device_submit(emu: Emulator, ctx: Ctx) -> httpx.Response:
    form = ctx.form()
    try:
        dev = oauth.find_device(emu, form.get("user_code", ""))
    except ControlError:
        return _page(400, "Error", "<p>Unknown or expired code.</p>")
    if form.get("decision") != "approve":
        dev.status = "denied"
        return _page(200, "Access denied", "<p>The application was not linked.</p>")
    dev.seller_id = emu.seller_id_for_login(
        form.get("login") or "demo-seller", create=True
    )
    dev.status = "approved"
    return _page(200, "Application linked", "<p>You can return to the application.</p>")


ROUTES: list[tuple[str, str, Handler, str]] = [
    ("GET", "/auth/oauth/authorize", authorize_page, "page"),
    ("POST", "/auth/oauth/authorize", authorize_submit, "page"),
    ("GET", "/skojarz-aplikacje", device_page, "page"),
    ("POST", "/skojarz-aplikacje", device_submit, "page"),
]
