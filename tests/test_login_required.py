"""Every URL in the URL conf needs a login (pages) or a token (API).

Walks the whole URL conf, so URLs added later are covered without touching this
file. The API docs (/api/docs, /api/openapi.json) need a login like any page: they
describe this installation and nobody outside it needs them.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404
from django.utils.regex_helper import normalize

pytestmark = pytest.mark.django_db

# Only these may be reached without a login: the login pages themselves.
# And /healthz, for load balancers (it says "ok" or "unavailable", nothing more).
PUBLIC = {"/login/", "/admin/login/", "/healthz"}
# The language switch: the login page offers it (it only sets a cookie).
PUBLIC |= {"/i18n/setlang/"}
# The icon (a redirect to a static file) browsers ask for before any login.
PUBLIC |= {"/favicon.ico"}
API_DOCS = {"/api/docs", "/api/openapi.json"}
# django-ninja's root view: a 404 with no content unless DEBUG is on.
API_ROOT = "/api/"
# Dummy values per path converter; regex groups try each until one resolves.
CONVERTER_VALUES = {
    "int": "1",
    "str": "x",
    "slug": "x",
    "path": "x/y",
    "uuid": str(uuid.UUID(int=1)),
    "uuidstr": str(uuid.UUID(int=1)),
}
REGEX_VALUES = ["1", "x", "auth", str(uuid.UUID(int=1))]


def route_to_url(route: str) -> str:
    """'items/<int:pk>/' → 'items/1/'."""
    return re.sub(
        r"<(?:(\w+):)?\w+>",
        lambda m: CONVERTER_VALUES.get(m.group(1) or "str", "x"),
        route,
    )


def candidate_urls(
    prefix: str, pattern: URLPattern | URLResolver
) -> Iterator[list[str]]:
    """For each pattern, the URLs (tried in order) that should reach it."""
    raw = pattern.pattern
    if hasattr(raw, "_route"):
        parts = [route_to_url(raw._route)]
    else:
        template, params = normalize(raw.regex.pattern)[0]
        parts = [template % dict.fromkeys(params, value) for value in REGEX_VALUES]
    if isinstance(pattern, URLResolver):
        for child in pattern.url_patterns:
            for child_urls in candidate_urls("", child):
                yield [prefix + part + c for part in parts for c in child_urls]
    else:
        yield [prefix + part for part in parts]


def all_urls() -> list[str]:
    urls = []
    for candidates in candidate_urls("", get_resolver()):
        for url in candidates:
            try:
                resolve(url)
            except Resolver404:
                continue
            urls.append(url)
            break
        else:
            raise AssertionError(f"cannot build a URL for any of {candidates}")
    return sorted(set(urls))


def is_static(url: str) -> bool:
    return url.startswith("/" + settings.STATIC_URL.lstrip("/"))


def test_the_walk_finds_the_urls_we_know() -> None:
    urls = all_urls()
    for known in [
        "/",
        "/inventory/",
        "/inventory/1/",
        "/api/items",
        "/api/items/x/y",
        "/api/levels",
        "/settings/api-tokens/",
        "/settings/api-tokens/1/revoke/",
        "/settings/channels/1/",
        "/settings/channels/1/device/poll/",
        "/settings/channels/oauth/callback/",
        "/orders/",
        "/admin/",
    ]:
        assert known in urls


def test_every_page_redirects_anonymous_users_to_login() -> None:
    client = Client()
    checked = 0
    for url in all_urls():
        if (
            url in PUBLIC
            or is_static(url)
            or (url.startswith("/api/") and url not in API_DOCS)
        ):
            continue
        # Admin pages may send to the admin's own login form.
        logins = ("/login/?next=", "/admin/login/?next=")
        # POST too: some views (revoke a token, poll the device flow) only act on it.
        for response in (client.get(url), client.post(url)):
            assert response.status_code == 302, (
                url,
                response.request["REQUEST_METHOD"],
            )
            assert response["Location"].startswith(logins), url
        checked += 1
    assert checked >= 10


def test_every_api_endpoint_needs_a_token() -> None:
    client = Client()
    checked = 0
    for url in all_urls():
        if url == API_ROOT:
            assert client.get(url).status_code == 404
            continue
        if not url.startswith("/api/") or url in API_DOCS:
            continue
        statuses = {
            method: client.generic(method, url, "{}", "application/json").status_code
            for method in ("GET", "POST", "PUT", "PATCH", "DELETE")
        }
        # Each method the endpoint has answers 401; the others 405.
        assert set(statuses.values()) <= {401, 405}, (url, statuses)
        assert 401 in statuses.values(), (url, statuses)
        checked += 1
    assert checked >= 4
