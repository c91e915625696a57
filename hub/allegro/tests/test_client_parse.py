"""Reading the order responses: the raw body is validated first (http.parse), the
slow path (json.loads, then each form on its own) only when that fails."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx
import pytest

from hub.allegro import schemas
from hub.allegro.client import AllegroClient
from hub.allegro.errors import MalformedResponse
from hub.allegro.http import parse


def form_body(form_id: str, **overrides: Any) -> dict[str, Any]:
    """A checkout form as Allegro sends it, with every nested object we flatten."""
    body: dict[str, Any] = {
        "id": form_id,
        "status": "READY_FOR_PROCESSING",
        "buyer": {"id": "23123123", "email": "x@allegromail.pl", "login": "anna"},
        "fulfillment": {"status": "NEW", "provider": {"id": "SELLER"}},
        "lineItems": [
            {
                "id": f"{form_id}-line",
                "offer": {"id": "17000000001", "external": {"id": "MUG-1"}},
                "quantity": 2,
                "price": {"amount": "19.99", "currency": "PLN"},
            }
        ],
        "surcharges": None,
        "note": {"text": "Proszę szybko"},
        "marketplace": {"id": "allegro-pl"},
        "summary": {"totalToPay": {"amount": "39.98", "currency": "PLN"}},
        "updatedAt": "2026-03-01T10:05:00.000Z",
        "revision": "abc123",
    }
    body.update(overrides)
    return body


def answering(body: Any) -> AllegroClient:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=content, headers={"Trace-Id": "t-1"})

    return AllegroClient("http://allegro.test", transport=httpx.MockTransport(handler))


def response(path: str, body: Any) -> httpx.Response:
    request = httpx.Request("GET", f"http://allegro.test{path}")
    return httpx.Response(200, content=json.dumps(body).encode(), request=request)


def test_nested_fields_of_a_form_are_read():
    form = answering(form_body("a")).get_checkout_form("a")

    assert form.marketplace_id == "allegro-pl"
    assert form.total_to_pay == schemas.Money(amount=Decimal("39.98"), currency="PLN")
    assert form.note == "Proszę szybko"
    assert form.surcharges == []
    assert form.line_items[0].offer.external_id == "MUG-1"
    assert form.fulfillment == schemas.Fulfillment(status="NEW", provider_id="SELLER")


def test_missing_or_null_nested_objects_read_as_none():
    body = form_body(
        "a",
        fulfillment={"status": "NEW"},
        note="plain text",
        marketplace=None,
        summary={"totalToPay": None},
    )
    del body["lineItems"][0]["offer"]["external"]

    form = answering(body).get_checkout_form("a")

    assert (form.marketplace_id, form.total_to_pay, form.note) == (
        None,
        None,
        "plain text",
    )
    assert form.line_items[0].offer.external_id is None
    assert form.fulfillment == schemas.Fulfillment(status="NEW", provider_id=None)


def test_raw_json_and_python_objects_read_a_form_alike():
    body = form_body("a")
    raw = response("/order/checkout-forms/a", body)

    assert parse(schemas.CheckoutForm, raw) == schemas.CheckoutForm.model_validate(body)


def test_order_events_read_the_form_they_name():
    events = {
        "events": [
            {
                "id": "1",
                "type": "BOUGHT",
                "occurredAt": "2026-03-01T10:00:00.000Z",
                "order": {
                    "checkoutForm": {"id": "a", "revision": "r1"},
                    "marketplace": {"id": "allegro-pl"},
                    "lineItems": [{"id": "ignored"}],
                },
            },
            {"id": "2", "type": "BOUGHT", "occurredAt": "2026-03-01T10:00:01Z"},
        ]
    }

    first, second = answering(events).order_events()

    assert (first.checkout_form_id, first.revision, first.marketplace_id) == (
        "a",
        "r1",
        "allegro-pl",
    )
    assert (second.checkout_form_id, second.revision, second.marketplace_id) == (
        None,
        None,
        None,
    )


def test_a_nested_field_of_the_wrong_type_is_named_by_its_path_without_its_value():
    body = form_body("a", marketplace={"id": 987654})
    del body["summary"]["totalToPay"]["currency"]

    with pytest.raises(MalformedResponse) as caught:
        answering(body).get_checkout_form("a")

    assert str(caught.value) == (
        "GET /order/checkout-forms/a: unexpected CheckoutForm (marketplace.id: "
        "Input should be a valid string; summary.totalToPay.currency: Field "
        "required) | HTTP 200 | Trace-Id t-1"
    )


def test_a_whole_page_is_read_without_setting_anything_apart():
    page = {
        "checkoutForms": [form_body("a"), form_body("b")],
        "count": 2,
        "totalCount": 7,
        "unreadable": [{"id": "z", "problems": "not Allegro's to say"}],
    }

    forms = answering(page).list_checkout_forms()

    assert [f.id for f in forms.checkout_forms] == ["a", "b"]
    assert forms.unreadable == []
    assert (forms.count, forms.total_count) == (2, 7)


def test_a_bad_form_is_set_apart_and_the_rest_of_the_page_read():
    no_buyer = form_body("b")
    del no_buyer["buyer"]
    page = {
        "checkoutForms": [form_body("a"), no_buyer, form_body("c")],
        "count": 3,
        "totalCount": 7,
        "unreadable": [{"id": "z", "problems": "not Allegro's to say"}],
    }

    forms = answering(page).list_checkout_forms()

    assert [f.id for f in forms.checkout_forms] == ["a", "c"]
    assert forms.checkout_forms[0] == schemas.CheckoutForm.model_validate(
        form_body("a")
    )
    assert forms.unreadable == [
        schemas.UnreadableForm(id="b", problems="buyer: Field required")
    ]
    assert (forms.count, forms.total_count) == (3, 7)


def test_a_page_whose_bad_form_has_no_id_is_unreadable():
    no_id = form_body("b", buyer={"id": "secret-buyer"})
    del no_id["id"]
    page = {"checkoutForms": [form_body("a"), no_id], "count": 2}

    with pytest.raises(MalformedResponse) as caught:
        answering(page).list_checkout_forms()

    assert str(caught.value) == (
        "GET /order/checkout-forms: unexpected CheckoutFormList (id: Field "
        "required) | HTTP 200 | Trace-Id t-1"
    )


def test_a_list_page_that_is_not_json_is_malformed():
    with pytest.raises(MalformedResponse) as caught:
        answering(b'{"checkoutForms": [').list_checkout_forms()

    assert str(caught.value) == (
        "GET /order/checkout-forms: response is not JSON | HTTP 200 | Trace-Id t-1"
    )


def test_the_lenient_reading_runs_only_when_the_raw_body_does_not_validate():
    calls: list[Any] = []

    def lenient(data: Any) -> schemas.CheckoutFormList:
        calls.append(data)
        return schemas.CheckoutFormList.set_apart(data)

    good = {"checkoutForms": [form_body("a")]}
    bad = {"checkoutForms": [form_body("a", status=None)]}

    read = parse(schemas.CheckoutFormList, response("/l", good), lenient=lenient)
    assert ([f.id for f in read.checkout_forms], calls) == (["a"], [])

    read = parse(schemas.CheckoutFormList, response("/l", bad), lenient=lenient)
    assert (read.checkout_forms, calls) == ([], [bad])
    assert read.unreadable == [
        schemas.UnreadableForm(
            id="a", problems="status: Input should be a valid string"
        )
    ]


def test_nul_characters_are_taken_out_of_what_allegro_sent():
    # PostgreSQL cannot store a NUL: one in a note would fail every save of
    # the page it is on. A literal backslash-u text stays as it is.
    body = form_body("F-1", note={"text": "Prosz\u0000ę \\u0000 szybko"})
    body["buyer"]["login"] = "an\u0000na"

    form = parse(schemas.CheckoutForm, response("/order/checkout-forms/F-1", body))

    assert form.note == "Proszę \\u0000 szybko"
    assert form.buyer.login == "anna"
    assert form.line_items[0].offer.external_id == "MUG-1"
