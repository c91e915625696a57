"""The API's limits and errors: 10 000 pretty-printed rows fit in one call, every
error is JSON, and quantities are whole numbers, not true, "7" or 2.0."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from hub.api.models import ApiToken
from hub.catalog import stock
from hub.catalog.models import Location, StockItem, StockLevel

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client: Client, user: Any) -> Client:
    _row, token = ApiToken.issue(user, "tests")
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


def put(api: Client, body: str | bytes) -> Any:
    return api.put("/api/levels", body, content_type="application/json")


def test_ten_thousand_pretty_printed_rows_with_the_longest_names_fit(
    api: Client,
) -> None:
    # The worst case: 100-character SKU and location names, every character
    # escaped as \\uXXXX by a JSON encoder, four spaces of indentation.
    location = Location.objects.create(name="Półka " + "ł" * 94)
    skus = [f"{n:05}" + "ż" * 95 for n in range(10_000)]
    StockItem.objects.bulk_create(StockItem(sku=sku, title="x") for sku in skus)
    rows = [{"sku": sku, "location": location.name, "on_hand": 7} for sku in skus]
    body = json.dumps({"levels": rows}, indent=4)
    assert len(body) > 2_621_440  # more than Django's default limit

    response = put(api, body)

    assert response.status_code == 200, response.content[:300]
    assert response.json() == {"levels_changed": 10_000, "levels_unchanged": 0}
    assert StockLevel.objects.filter(location=location, on_hand=7).count() == 10_000


def test_a_body_over_the_limit_is_a_json_413(api: Client) -> None:
    body = b'{"levels": [' + b" " * settings.DATA_UPLOAD_MAX_MEMORY_SIZE + b"]}"

    response = put(api, body)

    assert response.status_code == 413
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert "larger than 16 MB" in response.json()["detail"]


@pytest.mark.parametrize(
    ("method", "url", "status"),
    [
        ("get", "/api/no-such-thing", 404),
        ("delete", "/api/levels", 405),
        ("post", "/api/locations", 405),
    ],
)
def test_other_errors_are_json_too(
    api: Client, method: str, url: str, status: int
) -> None:
    response = getattr(api, method)(url)

    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    assert isinstance(response.json()["detail"], str)


def test_malformed_json_is_a_json_error(api: Client) -> None:
    response = put(api, b'{"levels": [')
    assert 400 <= response.status_code < 500
    assert response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("quantity", [True, False, "7", 2.0, 2.5, None, [7]])
def test_a_quantity_must_be_a_whole_number(api: Client, quantity: object) -> None:
    StockItem.objects.create(sku="A-1", title="Mug")
    stock.set_on_hand(StockItem.objects.get(), stock.default_location(), 3)
    rows = [{"sku": "A-1", "on_hand": 1}, {"sku": "A-1", "on_hand": quantity}]

    response = put(api, json.dumps({"levels": rows}))

    assert response.status_code == 422
    body = response.json()
    assert body["detail"] == "1 problem(s); nothing was changed"
    assert len(body["errors"]) == 1
    error = body["errors"][0]
    assert (error["index"], error["field"]) == (1, "on_hand")
    assert error["message"] == "must be a whole number, written without quotes"
    assert StockLevel.objects.get().on_hand == 3  # nothing changed


def test_a_missing_quantity_names_row_and_field(api: Client) -> None:
    response = put(api, json.dumps({"levels": [{"sku": "A-1"}]}))
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"index": 0, "field": "on_hand", "message": "is required"}
    ]
