"""``GET /me`` and ``GET /marketplaces``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

from allegro_emulator.web import Ctx, json_response

if TYPE_CHECKING:
    from allegro_emulator.core import Handler
    from allegro_emulator.emulator import Emulator

# api-notes §1: sk/hu currency mapping is unconfirmed; EUR/HUF are used here.
MARKETPLACES: list[tuple[str, str, list[str], str]] = [
    ("allegro-pl", "PLN", ["EUR", "CZK"], "PL"),
    ("allegro-cz", "CZK", [], "CZ"),
    ("allegro-sk", "EUR", [], "SK"),
    ("allegro-hu", "HUF", [], "HU"),
]
LANGUAGES = {"PL": "pl-PL", "CZ": "cs-CZ", "SK": "sk-SK", "HU": "hu-HU"}


def me(emu: Emulator, ctx: Ctx) -> httpx.Response:
    seller = ctx.seller
    assert seller is not None
    body: dict[str, Any] = {
        "id": seller.id,
        "login": seller.login,
        "firstName": seller.first_name,
        "lastName": seller.last_name,
        "email": seller.email or f"{seller.login}@example.com",
        "baseMarketplace": {"id": seller.marketplace},
        "features": [],
    }
    if seller.company_name:
        body["company"] = {"name": seller.company_name, "taxId": "5250001009"}
    return json_response(200, body)


def marketplaces(emu: Emulator, ctx: Ctx) -> httpx.Response:
    items = []
    for mid, base, additional, country in MARKETPLACES:
        lang = LANGUAGES[country]
        items.append(
            {
                "id": mid,
                "languages": {
                    "offerCreation": [{"code": lang}],
                    "offerDisplay": [{"code": lang}, {"code": "en-US"}],
                },
                "currencies": {
                    "base": {"code": base},
                    "additional": [{"code": c} for c in additional],
                },
                "shippingCountries": [{"code": country}],
            }
        )
    return json_response(200, {"marketplaces": items})


ROUTES: list[tuple[str, str, Handler, str]] = [
    ("GET", "/me", me, "api"),
    ("GET", "/marketplaces", marketplaces, "api"),
]
