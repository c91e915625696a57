"""What the client sends matches Allegro's spec: query parameter names and
request bodies (``../shared/allegro/openapi.yaml``).

The emulator accepts what it models; a misspelt filter (``boughtAt.gte``) or an
extra body field would pass there and fail on Allegro (unknown parameters are
ignored — the filter silently does nothing; unknown body fields give 400
``UnknownJSONProperty``, api-notes §10). So every request of a run through all
the write methods and filtered reads is checked against the spec itself.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from allegro_emulator.tests.spec import (
    _deref,
    load_spec,
    spec_path,
    undeclared_keys,
    validate,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def spec() -> dict[str, Any]:
    if not spec_path().is_file():
        pytest.skip(f"Allegro OpenAPI spec not found at {spec_path()}")
    return load_spec()


def spec_problems(spec: dict[str, Any], request: dict[str, Any]) -> list[str]:
    method, template = request["endpoint"].split(" ", 1)
    operation = spec["paths"][template][method.lower()]
    params = [_deref(spec, p) for p in operation.get("parameters", [])]
    known = {p["name"] for p in params if p["in"] == "query"}
    problems = [
        f"{request['endpoint']}: query {name}"
        for name in request["query"]
        if name not in known
    ]
    if request["json"] is not None:
        body = _deref(spec, operation["requestBody"])
        schema = next(iter(body["content"].values()))["schema"]
        try:
            validate(request["json"], schema)
        except AssertionError as exc:
            problems.append(f"{request['endpoint']}: {exc}")
        problems += [
            f"{request['endpoint']}: body {k}"
            for k in undeclared_keys(request["json"], schema)
        ]
    return problems


def test_requests_the_client_sends_match_the_spec(spec, allegro_client, emulator):
    seller = emulator.seller_id
    offer_id = emulator.add_offer(seller, "Kubek", external_id="SKU-1", quantity=5)
    form_id = emulator.purchase(offer_id)
    emulator.pay(form_id)
    now = emulator.clock.now()
    [line] = allegro_client.get_checkout_form(form_id).line_items

    allegro_client.list_offers(
        offer_ids=[offer_id],
        external_ids=["SKU-1"],
        statuses=["ACTIVE"],
        formats=["BUY_NOW"],
    )
    allegro_client.get_offer_parts(offer_id)
    allegro_client.offer_events(from_event=None, types=["OFFER_STOCK_CHANGED"])
    allegro_client.put_quantity_command(str(uuid.uuid4()), [offer_id], value=3)
    allegro_client.put_quantity_command(
        str(uuid.uuid4()), [offer_id], value=-1, change_type="GAIN"
    )
    command_id = str(uuid.uuid4())
    allegro_client.put_publication_command(command_id, [offer_id], action="END")
    allegro_client.get_publication_command_tasks(command_id)
    allegro_client.put_publication_command(
        str(uuid.uuid4()),
        [offer_id],
        action="ACTIVATE",
        scheduled_for=now + timedelta(hours=1),
    )
    allegro_client.order_events(types=["READY_FOR_PROCESSING"])
    allegro_client.list_checkout_forms(
        bought_from=now - timedelta(days=1),
        bought_to=now,
        updated_from=now - timedelta(days=1),
        updated_to=now,
        status="READY_FOR_PROCESSING",
        sort="lineItems.boughtAt",
    )
    revision = allegro_client.get_checkout_form(form_id).revision
    allegro_client.set_fulfillment_status(form_id, "PROCESSING", revision=revision)
    allegro_client.create_shipment(
        form_id,
        carrier_id="OTHER",
        waybill="ABC-1",
        carrier_name="Kurier",
        line_item_ids=[line.id],
    )

    sent = [r for r in emulator.requests if not r["path"].startswith("/auth/")]
    assert all(r["status"] in (200, 201, 204) for r in sent), sent
    assert len(sent) == 14
    assert [p for r in sent for p in spec_problems(spec, r)] == []


def test_the_check_catches_a_misspelt_parameter_and_body_field(spec):
    request = {
        "endpoint": "POST /order/checkout-forms/{id}/shipments",
        "query": {"boughtAt.gte": ["x"]},
        "json": {"carrierId": "OTHER", "waybill": "A1", "carrier_name": "K"},
    }

    assert spec_problems(spec, request) == [
        "POST /order/checkout-forms/{id}/shipments: query boughtAt.gte",
        "POST /order/checkout-forms/{id}/shipments: body carrier_name",
    ]
