"""Checkout form → order fields (pure; SPEC CheckoutForm shapes, api-notes §3.2)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from hub.allegro import schemas
from hub.allegro.sync.order_mapping import UnusableForm, map_checkout_form


def form(**overrides: Any) -> schemas.CheckoutForm:
    body: dict[str, Any] = {
        "id": "29738e61-7f6a-11e8-ac45-09db60ede9d6",
        "status": "READY_FOR_PROCESSING",
        "messageToSeller": "Proszę o fakturę",
        "buyer": {
            "id": "23123123",
            "email": "x+anna@allegromail.pl",
            "login": "anna",
            "firstName": "Anna",
            "lastName": "Nowak",
            "companyName": "Nowak Sp. z o.o.",
            "phoneNumber": "+48 600 100 200",
        },
        "payment": {
            "id": "0f8f1d13-7e9e-11e8-9b00-c5b0dfb78ea6",
            "type": "CASH_ON_DELIVERY",
            "provider": "OFFLINE",
        },
        "fulfillment": {"status": "NEW", "shipmentSummary": {"lineItemsSent": "NONE"}},
        "delivery": {
            "method": {"id": "m1", "name": "Allegro Paczkomaty InPost"},
            "pickupPoint": {
                "id": "POZ08A",
                "name": "Paczkomat POZ08A",
                "address": {
                    "street": "Garbary 1",
                    "zipCode": "61-001",
                    "city": "Poznań",
                },
            },
            "cost": {"amount": "10.99", "currency": "PLN"},
        },
        "invoice": {
            "required": True,
            "address": {
                "street": "Długa 1",
                "city": "Gdańsk",
                "zipCode": "80-001",
                "countryCode": "PL",
                "company": {"name": "Nowak Sp. z o.o.", "taxId": "5260250274"},
            },
        },
        "lineItems": [
            {
                "id": "62ae358b-8f65-4fc4-9c77-bedf604a2e2b",
                "offer": {
                    "id": "17000000001",
                    "name": "Kubek",
                    "external": {"id": "MUG-1"},
                },
                "quantity": 2,
                "price": {"amount": "19.99", "currency": "PLN"},
                "boughtAt": "2026-03-01T10:00:00.000Z",
            }
        ],
        "surcharges": [],
        "summary": {"totalToPay": {"amount": "50.97", "currency": "PLN"}},
        "updatedAt": "2026-03-01T10:05:00.000Z",
        "revision": "abc123",
    }
    body.update(overrides)
    return schemas.CheckoutForm.model_validate(body)


def test_maps_every_field_the_seller_needs():
    order = map_checkout_form(form(), "Sklep PL", "PLN")

    fields = order.fields
    assert order.external_id == "29738e61-7f6a-11e8-ac45-09db60ede9d6"
    assert order.cancelled is False
    assert fields["sub_source"] == "Sklep PL"
    assert fields["buyer_name"] == "Nowak Sp. z o.o. (Anna Nowak)"
    assert fields["buyer_login"] == "anna"
    assert fields["delivery_method"] == "Allegro Paczkomaty InPost"
    assert fields["pickup_point"]["id"] == "POZ08A"
    assert fields["pickup_point"]["address"]["city"] == "Poznań"
    assert fields["invoice_required"] is True
    assert fields["invoice"]["company"]["tax_id"] == "5260250274"
    assert fields["message_to_seller"] == "Proszę o fakturę"
    assert fields["total"] == Decimal("50.97")
    assert fields["delivery_cost"] == Decimal("10.99")
    assert fields["currency"] == "PLN"
    assert fields["revision"] == "abc123"
    assert fields["bought_at"].isoformat() == "2026-03-01T10:00:00+00:00"
    # Cash on delivery: ready to ship, but not paid.
    assert (fields["channel_status"], fields["paid"]) == ("READY_FOR_PROCESSING", False)
    assert fields["payment"]["type"] == "CASH_ON_DELIVERY"
    (line,) = order.lines
    assert (line.offer_id, line.title, line.sku, line.quantity) == (
        "17000000001",
        "Kubek",
        "MUG-1",
        2,
    )
    assert line.unit_price == Decimal("19.99")


def test_missing_currency_falls_back_to_the_channel_default():
    bare = form(summary={}, lineItems=[])
    body = bare.model_dump(by_alias=True)
    body["lineItems"] = [
        {
            "id": "l1",
            "offer": {"id": "1", "name": "X"},
            "quantity": 1,
            "price": {"amount": "5.00", "currency": ""},
        }
    ]
    body["delivery"] = None
    order = map_checkout_form(schemas.CheckoutForm.model_validate(body), "S", "CZK")

    assert order.fields["currency"] == "CZK"
    assert order.lines[0].currency == "CZK"
    assert order.fields["total"] == Decimal("5.00")  # summed when Allegro gives none


def test_paid_online_and_cancelled():
    paid = form(
        payment={"id": "p", "type": "ONLINE", "finishedAt": "2026-03-01T10:01:00Z"}
    )
    assert map_checkout_form(paid, "S", "PLN").fields["paid"] is True
    assert map_checkout_form(form(status="CANCELLED"), "S", "PLN").cancelled is True


def test_a_form_without_lines_or_with_a_zero_quantity_is_refused():
    with pytest.raises(UnusableForm):
        map_checkout_form(form(lineItems=[]), "S", "PLN")
    zero = form().model_dump(by_alias=True)
    zero["lineItems"][0]["quantity"] = 0
    with pytest.raises(UnusableForm):
        map_checkout_form(schemas.CheckoutForm.model_validate(zero), "S", "PLN")
