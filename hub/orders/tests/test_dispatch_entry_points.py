"""The other ways in: bulk from the list, CSV, REST API and CLI. Same rules."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from hub.allegro import texts as allegro_texts
from hub.api.models import ApiToken
from hub.catalog import stock
from hub.catalog.models import Location, StockItem
from hub.orders import texts
from hub.orders.importing import save_orders
from hub.orders.models import Carrier, Dispatch, Order, OrderEvent
from hub.text.message import Message

from .conftest import make_account, make_line, make_order

PAID: dict[str, Any] = {"paid": True, "channel_status": "READY_FOR_PROCESSING"}


@pytest.fixture
def orders(warehouse: Location, mug: StockItem) -> dict[str, Order]:
    Carrier.objects.bulk_create(
        Carrier(source="test", account="1", code=code, name=name)
        for code, name in [("DPD", "DPD"), ("INPOST", "InPost"), ("OTHER", "Inny")]
    )
    two_lines = [make_line("L-1", quantity=1), make_line("L-2", offer_id="OF-2")]
    save_orders(
        make_account(warehouse),
        [
            make_order("A", **PAID),
            make_order("B", lines=two_lines, **PAID),
            make_order("UNPAID"),
        ],
    )
    return {o.external_id: o for o in Order.objects.all()}


@pytest.fixture
def api(client: Client, user: Any) -> Client:
    _row, token = ApiToken.issue(user, "erp")
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


# ------------------------------------------------------------------------ CSV


def upload(client: Client, text: str, **flags: str) -> Any:
    data = SimpleUploadedFile("d.csv", text.encode("cp1250"), "text/csv")
    return client.post(reverse("orders_dispatch_csv"), {"file": data, **flags})


def test_csv_dispatches_every_row(
    logged_in_client: Client, orders: dict[str, Order], mug: StockItem
):
    text = (
        "order_id;carrier;tracking_number;lines\n"
        "A;DPD;1234567890123;\n"
        "B;InPost;" + "6" * 24 + ";OF-2\n"
    )

    response = upload(logged_in_client, text)

    assert response.status_code == 302
    by_order = {
        d.order.external_id: d for d in Dispatch.objects.select_related("order")
    }
    assert by_order["A"].carrier_code == "DPD"
    assert [line.offer_id for line in by_order["B"].lines.all()] == ["OF-2"]
    assert Order.objects.get(external_id="B").status == Order.Status.OPEN
    assert stock.on_hand(mug) == 10 - 2 - 2


def test_csv_with_a_bad_row_dispatches_nothing_and_lists_every_problem(
    logged_in_client: Client, orders: dict[str, Order], mug: StockItem
):
    text = (
        "order,carrier,tracking\n"
        "A,DPD,1234567890123\n"
        "NOPE,DPD,1\n"
        "UNPAID,DPD,2\n"
        "B,Kurier Zenek,3\n"
        "A,DPD,4\n"
    )

    response = upload(logged_in_client, text)

    page = response.content.decode()
    assert response.status_code == 200
    assert "4 problems. Nothing was dispatched." in page
    assert "No order NOPE" in page
    assert "not paid" in page
    assert "Kurier Zenek" in page
    assert "dispatched already" in page  # A twice in one file
    assert not Dispatch.objects.exists()
    assert stock.on_hand(mug) == 10


def test_csv_confirmations_apply_to_every_row(
    logged_in_client: Client, orders: dict[str, Order]
):
    upload(
        logged_in_client,
        "order_id,carrier,tracking_number\nUNPAID,Kurier Zenek,Z-1\n",
        confirm_unpaid="on",
        other_carrier="on",
    )

    done = Dispatch.objects.get()
    assert (done.carrier_code, done.carrier, done.confirmed_unpaid) == (
        "OTHER",
        "Kurier Zenek",
        True,
    )


def test_csv_header_problems(logged_in_client: Client, orders: dict[str, Order]):
    page = upload(logged_in_client, "order_id,colour\nA,red\n").content.decode()
    assert "unknown column" in page
    assert "a carrier column is required" in page


# ----------------------------------------------------------------------- bulk


def test_bulk_dispatch_from_the_list_dispatches_each_order_on_its_own(
    logged_in_client: Client, orders: dict[str, Order], mug: StockItem
):
    ids = [orders["A"].pk, orders["UNPAID"].pk]

    response = logged_in_client.post(
        reverse("orders_bulk_dispatch"), {"order": ids, "carrier": "DPD"}, follow=True
    )

    page = response.content.decode()
    assert Order.objects.get(external_id="A").status == Order.Status.DISPATCHED
    assert Order.objects.get(external_id="UNPAID").status == Order.Status.OPEN
    assert "1 order dispatched. Stock taken off for 1 line." in page
    assert "(s)" not in page
    assert "UNPAID: " in page
    assert Dispatch.objects.get().state == Dispatch.State.NOT_SENT
    noted = OrderEvent.objects.get(kind=OrderEvent.Kind.DISPATCHED)
    assert noted.message == Message(texts.DISPATCHED_WITH, carrier="DPD")


def test_list_offers_the_bulk_form_for_open_orders(
    logged_in_client: Client, orders: dict[str, Order]
):
    page = logged_in_client.get(reverse("orders")).content.decode()
    assert page.count('name="order"') == 3
    assert reverse("orders_dispatch_csv") in page


# ------------------------------------------------------------------------ API


def test_api_dispatch_lines_and_read_them_back(
    api: Client, orders: dict[str, Order], mug: StockItem
):
    order = orders["B"]
    url = f"/api/orders/{order.pk}/dispatches"

    made = api.post(
        url,
        {"carrier": "dpd", "tracking_number": "1234567890123", "lines": ["OF-2"]},
        content_type="application/json",
    )
    listed = api.get(url)

    assert made.status_code == 201
    body = made.json()
    assert (body["carrier_code"], body["state"]) == ("DPD", "PENDING")
    assert body["line_ids"] == [order.lines.get(offer_id="OF-2").pk]
    assert [d["id"] for d in listed.json()] == [body["id"]]
    noted = order.events.get(kind=OrderEvent.Kind.DISPATCHED)
    assert noted.actor == "token:erp"


def test_api_refusal_names_the_fields_and_what_to_confirm(
    api: Client, orders: dict[str, Order]
):
    refused = api.post(
        f"/api/orders/{orders['UNPAID'].pk}/dispatches",
        {"carrier": "DPD", "tracking_number": "1 2"},
        content_type="application/json",
    )

    assert refused.status_code == 422
    assert set(refused.json()["errors"]) == {"tracking_number"}
    refused = api.post(
        f"/api/orders/{orders['UNPAID'].pk}/dispatches",
        {},
        content_type="application/json",
    )
    assert refused.json()["confirm"] == ["unpaid"]
    assert not Dispatch.objects.exists()


def test_api_corrects_a_refused_number(api: Client, orders: dict[str, Order]):
    made = api.post(
        f"/api/orders/{orders['A'].pk}/dispatches",
        {"carrier": "DPD", "tracking_number": "AD1"},
        content_type="application/json",
    ).json()
    Dispatch.objects.filter(pk=made["id"]).update(
        state=Dispatch.State.REFUSED, channel_message="not valid"
    )
    assert [d["id"] for d in api.get("/api/dispatches/needing-action").json()] == [
        made["id"]
    ]

    fixed = api.put(
        f"/api/dispatches/{made['id']}",
        {"carrier": "DPD", "tracking_number": "1234567890123"},
        content_type="application/json",
    )

    assert fixed.status_code == 200
    assert (fixed.json()["state"], fixed.json()["tracking_number"]) == (
        "PENDING",
        "1234567890123",
    )
    assert api.get("/api/dispatches/needing-action").json() == []


# ------------------------------------------------------------------------ CLI


def run(*args: str) -> str:
    out = StringIO()
    call_command("orders", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_cli_dispatch_with_lines(orders: dict[str, Order], mug: StockItem):
    out = run("dispatch", "B", "--carrier", "InPost", "--tracking", "6" * 24,
              "--lines", "OF-2")  # fmt: skip

    assert out == (
        "Order B dispatched (1 line). The tracking number waits in the outbox "
        "for the channel.\n"
    )
    done = Dispatch.objects.get()
    assert (done.carrier_code, done.state) == ("INPOST", Dispatch.State.PENDING)
    assert Order.objects.get(external_id="B").status == Order.Status.OPEN
    noted = OrderEvent.objects.get(kind=OrderEvent.Kind.DISPATCHED)
    assert noted.message == Message(
        texts.DISPATCHED_LINES_TRACKED,
        lines="2× Blue Mug 300ml",
        carrier="InPost",
        number="6" * 24,
    )
    assert noted.actor == "cli"


def test_cli_refusal_says_how_to_go_ahead(orders: dict[str, Order]):
    with pytest.raises(CommandError, match="--confirm-unpaid"):
        run("dispatch", "UNPAID", "--carrier", "DPD", "--tracking", "1234567890123")
    with pytest.raises(CommandError, match="not a line of this order"):
        run("dispatch", "B", "--lines", "OF-9")
    assert not Dispatch.objects.exists()


def test_cli_dispatch_csv(orders: dict[str, Order], tmp_path: Path):
    good = tmp_path / "good.csv"
    good.write_text("order_id,carrier,tracking_number\nA,DPD,1234567890123\n")
    bad = tmp_path / "bad.csv"
    bad.write_text("order_id,carrier,tracking_number\nB,DPD,1\nNOPE,DPD,2\n")

    with pytest.raises(CommandError, match=r"^Nothing was dispatched: 1 problem\.$"):
        run("dispatch-csv", str(bad))
    assert not Dispatch.objects.exists()
    assert run("dispatch-csv", str(good)) == "1 dispatch made.\n"


def test_api_shows_what_the_channel_said_in_the_callers_language(
    api: Client, orders: dict[str, Order]
):
    made = api.post(
        f"/api/orders/{orders['A'].pk}/dispatches",
        {"carrier": "DPD", "tracking_number": "1234567890123"},
        content_type="application/json",
    ).json()
    unknown = Message(allegro_texts.TRACKING_UNKNOWN_CARRIER, name="Kurier Zenek")
    Dispatch.objects.filter(pk=made["id"]).update(
        state=Dispatch.State.NEEDS_ACTION, channel_message=unknown
    )

    polish = api.get("/api/dispatches/needing-action", HTTP_ACCEPT_LANGUAGE="pl")
    english = api.get("/api/dispatches/needing-action", HTTP_ACCEPT_LANGUAGE="en")

    said = [(d["channel_message"], d["channel_message_code"]) for d in polish.json()]
    assert said == [
        (
            "Allegro nie zna przewoźnika „Kurier Zenek”. Popraw przewoźnika albo "
            "zezwól na wysłanie go jako innego przewoźnika.",
            "allegro.tracking_unknown_carrier",
        )
    ]
    assert english.json()[0]["channel_message"].startswith(
        "Allegro does not know the carrier “Kurier Zenek”."
    )


# ------------------------------------- a tracking number after a bulk dispatch


def bulk(client: Client, *orders: Order, **data: Any) -> Any:
    ids = [order.pk for order in orders]
    return client.post(
        reverse("orders_bulk_dispatch"), {"order": ids, "carrier": "DPD", **data}
    )


def test_csv_adds_the_number_to_a_dispatch_made_without_one(
    logged_in_client: Client, orders: dict[str, Order], mug: StockItem
):
    bulk(logged_in_client, orders["A"])
    before = stock.on_hand(mug, stock.default_location())

    response = upload(
        logged_in_client, "order_id,carrier,tracking_number\nA,DPD,1234567890123\n"
    )

    assert response.status_code == 302
    done = Dispatch.objects.get()  # no second dispatch
    assert (done.carrier_code, done.tracking_number, done.state) == (
        "DPD",
        "1234567890123",
        Dispatch.State.PENDING,
    )
    assert stock.on_hand(mug, stock.default_location()) == before  # not taken twice
    added = OrderEvent.objects.get(kind=OrderEvent.Kind.TRACKING)
    assert added.message == Message(
        texts.TRACKING_ADDED, carrier="DPD", number="1234567890123"
    )
    page = logged_in_client.get(reverse("orders")).content.decode()
    assert "1 tracking number added to an earlier dispatch." in page


def test_api_and_cli_add_the_number_to_the_same_lines_only(
    logged_in_client: Client, api: Client, orders: dict[str, Order]
):
    bulk(logged_in_client, orders["A"], orders["B"])
    url = f"/api/orders/{orders['A'].pk}/dispatches"

    added = api.post(
        url,
        {"carrier": "InPost", "tracking_number": "6" * 24},
        content_type="application/json",
    )
    again = api.post(
        url,
        {"carrier": "DPD", "tracking_number": "1234567890123"},
        content_type="application/json",
    )
    with pytest.raises(CommandError, match="left in one parcel with others"):
        run("dispatch", "B", "--carrier", "DPD", "--tracking", "1234567890123",
            "--lines", "OF-2")  # fmt: skip
    whole = run("dispatch", "B", "--carrier", "DPD", "--tracking", "1234567890123")

    assert added.status_code == 200
    assert added.json()["tracking_number"] == "6" * 24
    assert added.json()["state"] == "PENDING"
    # Now it has a number: a second one is refused, as before.
    assert again.status_code == 422
    assert "dispatched already" in again.json()["detail"]
    assert whole == (
        "Tracking number 1234567890123 added to the dispatch of order B. The "
        "tracking number waits in the outbox for the channel.\n"
    )
    numbers = sorted(Dispatch.objects.values_list("tracking_number", flat=True))
    assert numbers == ["1234567890123", "6" * 24]
    assert Dispatch.objects.count() == 2
