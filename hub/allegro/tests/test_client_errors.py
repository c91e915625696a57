"""Error classification: one place decides what kind of failure it is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from hub.allegro.errors import (
    AllegroError,
    ApiErrorDetail,
    AuthRevoked,
    InvalidRequest,
    MalformedResponse,
    NotFound,
    PermanentError,
    RateLimited,
    TransientError,
    classify,
    parse_error_details,
    retry_after_seconds,
)


def response(status: int, body: object = None, **headers: str) -> httpx.Response:
    request = httpx.Request("GET", "http://allegro.test/sale/offers")
    return httpx.Response(
        status, json=body, headers={"Trace-Id": "t-1", **headers}, request=request
    )


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, PermanentError),
        (401, AuthRevoked),
        (403, PermanentError),
        (404, NotFound),
        (409, PermanentError),
        (422, PermanentError),
        (429, RateLimited),
        (500, TransientError),
        (502, TransientError),
        (503, TransientError),
        (504, TransientError),
    ],
)
def test_status_classes(status, kind):
    error = classify(response(status, {"errors": []}))

    assert type(error) is kind
    assert error.status == status
    assert error.trace_id == "t-1"


def test_offer_edit_in_progress_is_transient():
    body = {"errors": [{"code": "OfferConflictException", "message": "in progress"}]}

    assert type(classify(response(409, body))) is TransientError


def test_allegro_error_details_are_kept():
    body: dict[str, object] = {
        "errors": [
            {
                "code": "VALIDATION_ERROR",
                "message": "bad",
                "userMessage": "Zła wartość",
                "path": "stock.available",
                "details": None,
                "metadata": {},
            }
        ]
    }

    error = classify(response(422, body))

    assert error.errors == [
        ApiErrorDetail("VALIDATION_ERROR", "bad", "Zła wartość", "stock.available")
    ]
    assert "stock.available: Zła wartość" in error.user_text()
    assert "Trace-Id: t-1" in error.user_text()


def test_oauth_error_body_and_garbage_bodies():
    assert parse_error_details(
        {"error": "invalid_grant", "error_description": "x"}
    ) == [ApiErrorDetail("invalid_grant", "x")]
    assert parse_error_details("<html>") == []
    assert parse_error_details({"errors": "nope"}) == []
    html = httpx.Response(
        502, text="<html>bad gateway</html>", request=httpx.Request("GET", "http://a/")
    )
    assert type(classify(html)) is TransientError


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        (None, 60.0),
        ("", 60.0),
        ("12", 12.0),
        ("0.5", 0.5),
        ("-3", 0.0),
        ("soon", 60.0),
        # Garbage must never hold every request of the Client ID for ever.
        ("nan", 60.0),
        ("inf", 60.0),
        ("86400", 3600.0),
    ],
)
def test_retry_after_values(header, seconds):
    assert retry_after_seconds(header) == seconds


def test_retry_after_as_http_date():
    when = datetime.now(UTC) + timedelta(seconds=30)

    assert 25 < retry_after_seconds(format_datetime(when, usegmt=True)) <= 30


def test_429_carries_retry_after():
    error = classify(response(429, None, **{"Retry-After": "9"}))

    assert isinstance(error, RateLimited)
    assert error.retry_after == 9.0


@pytest.mark.parametrize(
    "error",
    [
        AllegroError("x", trace_id="t-9"),
        TransientError("x", trace_id="t-9"),
        RateLimited("x", trace_id="t-9"),
        AuthRevoked("x", trace_id="t-9"),
        PermanentError("x", trace_id="t-9"),
        NotFound("x", trace_id="t-9"),
        MalformedResponse("x", trace_id="t-9"),
    ],
)
def test_every_user_text_names_the_trace_id(error):
    assert "t-9" in error.user_text()
    assert "t-9" in str(error)


def test_invalid_request_is_permanent_and_says_nothing_was_sent():
    error = InvalidRequest("quantity 0")

    assert isinstance(error, PermanentError)
    assert "quantity 0" in error.user_text()
