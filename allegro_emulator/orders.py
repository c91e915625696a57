"""Orders: checkout forms, the order event journal and the buyer-side actions
that drive them (api-notes §3)."""

from __future__ import annotations

import bisect
import heapq
import itertools
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import httpx

from allegro_emulator import form_index
from allegro_emulator import offers as offers_mod
from allegro_emulator.state import CheckoutForm, LineItem, Offer, OrderEvent, Sale
from allegro_emulator.web import (
    UUID_RE,
    ApiError,
    ControlError,
    Ctx,
    check_enum,
    empty_response,
    int_param,
    iso,
    json_response,
    money,
    money_str,
    parse_dt,
)

if TYPE_CHECKING:
    from allegro_emulator.core import Handler
    from allegro_emulator.emulator import Emulator

STATUSES = ("BOUGHT", "FILLED_IN", "READY_FOR_PROCESSING", "CANCELLED")
# SPEC getOrderEventsUsingGET `type` (its description omits BUYER_MODIFIED; the
# enum has it, api-notes §3.3).
EVENT_TYPES = (
    "BOUGHT", "FILLED_IN", "READY_FOR_PROCESSING", "BUYER_CANCELLED",
    "FULFILLMENT_STATUS_CHANGED", "AUTO_CANCELLED", "BUYER_MODIFIED",
)  # fmt: skip

FULFILLMENT_STATUSES = (
    "NEW", "PROCESSING", "READY_FOR_SHIPMENT", "READY_FOR_PICKUP", "SENT",
    "PICKED_UP", "CANCELLED", "SUSPENDED", "RETURNED",
)  # fmt: skip
# Polish surnames ending in -ski/-cki agree with the person's gender (Kowalski,
# Kowalska); others (Nowak) do not change. First names carry no diacritics
# because buyer logins are made from them.
FEMALE_FIRST_NAMES = ["Anna", "Katarzyna", "Magdalena", "Ewa", "Agnieszka", "Joanna"]
MALE_FIRST_NAMES = ["Piotr", "Tomasz", "Marek", "Jan", "Krzysztof", "Andrzej"]
SURNAMES = [  # (male, female)
    ("Nowak", "Nowak"),
    ("Kowalski", "Kowalska"),
    ("Wiśniewski", "Wiśniewska"),
    ("Wójcik", "Wójcik"),
    ("Kamiński", "Kamińska"),
    ("Lewandowski", "Lewandowska"),
    ("Zieliński", "Zielińska"),
    ("Szymański", "Szymańska"),
]
CITIES = [("Warszawa", "00-001"), ("Kraków", "30-001"), ("Poznań", "60-001")]
DELIVERY_METHODS = [
    ("2488f7b7-5d1c-4d65-b85c-4cbcf253fd93", "Allegro Paczkomaty InPost", "15.99"),
    ("b20ef9e1-faa2-4f25-9032-adcfe23ea7c9", "Allegro Kurier DPD", "17.99"),
]


# ------------------------------------------------------------------ buyers


def make_buyer(emu: Emulator, login: str | None = None) -> dict[str, Any]:
    rng = emu.rng
    female = rng.random() < 0.5
    first = rng.choice(FEMALE_FIRST_NAMES if female else MALE_FIRST_NAMES)
    last = rng.choice(SURNAMES)[1 if female else 0]
    city, post = rng.choice(CITIES)
    login = login or f"{first.lower()}_{rng.randint(100, 999)}"
    return {
        "id": str(rng.randint(10_000_000, 99_999_999)),
        # Allegro relays e-mail through a masked address (api-notes §3.2).
        "email": f"{rng.getrandbits(40):010x}+{login}@allegromail.pl",
        "login": login,
        "firstName": first,
        "lastName": last,
        "guest": False,
        "phoneNumber": f"+48 600 {rng.randint(100, 999)} {rng.randint(100, 999)}",
        "preferences": {"language": "pl-PL"},
        "address": {
            "street": f"ul. Testowa {rng.randint(1, 99)}",
            "city": city,
            "postCode": post,
            "countryCode": "PL",
        },
    }


def normalise_buyer(
    emu: Emulator, buyer: dict[str, Any] | str | None
) -> dict[str, Any]:
    if isinstance(buyer, str):
        return make_buyer(emu, buyer)
    base = make_buyer(emu, (buyer or {}).get("login"))
    base.update(buyer or {})
    return base


# ------------------------------------------------------------ serialisation


def _line_item(li: LineItem) -> dict[str, Any]:
    offer: dict[str, Any] = {"id": li.offer_id, "name": li.offer_name}
    if li.external_id:
        offer["external"] = {"id": li.external_id}
    return {
        "id": li.id,
        "offer": offer,
        "quantity": li.quantity,
        "originalPrice": money(li.original_price, li.currency),
        "price": money(li.price, li.currency),
        "boughtAt": iso(li.bought_at),
    }


def _items_total(cf: CheckoutForm) -> Decimal:
    return sum((Decimal(li.price) * li.quantity for li in cf.line_items), Decimal(0))


def _lines_sent(cf: CheckoutForm) -> str:
    sent = {i for s in cf.shipments for i in s.line_item_ids}
    if not sent:
        return "NONE"
    return "ALL" if all(li.id in sent for li in cf.line_items) else "SOME"


def checkout_form_json(cf: CheckoutForm) -> dict[str, Any]:
    """``CheckoutForm``. The delivery address is only shown from
    READY_FOR_PROCESSING on (ORD-TUT, api-notes §3.2)."""
    buyer = {k: v for k, v in cf.buyer.items()}
    delivery: dict[str, Any] = {"smart": False, "calculatedNumberOfPackages": 1}
    if cf.delivery:  # chosen when the buyer fills in the form (not in BOUGHT)
        delivery["method"] = {
            "id": cf.delivery.get("method_id"),
            "name": cf.delivery.get("method_name"),
        }
        delivery["cost"] = money(cf.delivery_cost, cf.currency)
    if cf.status == "READY_FOR_PROCESSING" or (
        cf.status == "CANCELLED" and cf.paid_at is not None
    ):
        addr = cf.buyer.get("address", {})
        delivery["address"] = {
            "firstName": cf.buyer.get("firstName", ""),
            "lastName": cf.buyer.get("lastName", ""),
            "street": addr.get("street", ""),
            "city": addr.get("city", ""),
            "zipCode": addr.get("postCode", ""),
            "countryCode": addr.get("countryCode", "PL"),
            "phoneNumber": cf.buyer.get("phoneNumber", ""),
        }
    # SPEC CheckoutFormSummary: "Total to pay including additional services and
    # delivery", so whenever the form shows a delivery cost, the total has it.
    total = _items_total(cf) + (Decimal(cf.delivery_cost) if cf.delivery else 0)
    payment: dict[str, Any] = {
        "id": cf.payment_id,
        "type": cf.payment_type,
        "provider": cf.payment_provider,
    }
    if cf.paid_at is not None:
        payment["finishedAt"] = iso(cf.paid_at)
        payment["paidAmount"] = money(str(total), cf.currency)
    body: dict[str, Any] = {
        "id": cf.id,
        "buyer": buyer,
        "payment": payment,
        "status": cf.status,
        "fulfillment": {
            "status": cf.fulfillment_status,
            "shipmentSummary": {"lineItemsSent": _lines_sent(cf)},
            "provider": {"id": "SELLER"},
        },
        "delivery": delivery,
        "invoice": {"required": False},
        "lineItems": [_line_item(li) for li in cf.line_items],
        "surcharges": [],
        "note": {"text": ""},
        "marketplace": {"id": cf.marketplace},
        "summary": {"totalToPay": money(str(total), cf.currency)},
        "updatedAt": iso(cf.updated_at),
        "revision": cf.revision,
    }
    if cf.message_to_seller:
        body["messageToSeller"] = cf.message_to_seller
    return body


# ------------------------------------------------------------------ events


def emit_order_event(emu: Emulator, cf: CheckoutForm, type_: str) -> OrderEvent:
    now = emu.clock.now()
    # Ids look like microsecond timestamps (api-notes §3.3) and strictly increase;
    # clients must still treat them as opaque strings.
    emu.last_order_event_id = max(
        emu.last_order_event_id + 1, int(now.timestamp() * 1e6)
    )
    buyer_ref: dict[str, Any] = {
        k: cf.buyer[k] for k in ("id", "email", "login", "guest") if k in cf.buyer
    }
    if "preferences" in cf.buyer:
        buyer_ref["preferences"] = cf.buyer["preferences"]
    items = [_line_item(li) for li in cf.line_items]
    event = OrderEvent(
        id=emu.last_order_event_id,
        seller_id=cf.seller_id,
        type=type_,
        occurred_at=now,
        checkout_form_id=cf.id,
        order={
            "seller": {"id": cf.seller_id},
            "buyer": buyer_ref,
            "lineItems": items,
            "checkoutForm": {"id": cf.id, "revision": cf.revision},
            "marketplace": {"id": cf.marketplace},
        },
    )
    emu.order_events.append(event)
    return event


def event_json(e: OrderEvent) -> dict[str, Any]:
    return {
        "id": str(e.id),
        "type": e.type,
        "occurredAt": iso(e.occurred_at),
        "order": e.order,
    }


def prune_events(emu: Emulator, now: datetime) -> None:
    cutoff = now - timedelta(days=emu.config.order_event_retention_days)
    if emu.order_events and emu.order_events[0].occurred_at <= cutoff:
        emu.order_events = [e for e in emu.order_events if e.occurred_at > cutoff]


def touch(emu: Emulator, cf: CheckoutForm) -> None:
    # The one place a form's updated_at changes: the list's index follows it.
    old = cf.updated_at
    cf.updated_at = emu.clock.now()
    cf.revision = emu.new_revision()
    form_index.move(emu, cf, old)


# ----------------------------------------------------------- buyer actions


def new_line_item(
    emu: Emulator, offer: Offer, quantity: int, unit_price: str
) -> LineItem:
    return LineItem(
        id=emu.new_uuid(),
        offer_id=offer.id,
        offer_name=offer.name,
        external_id=offer.external_id,
        quantity=quantity,
        price=unit_price,
        original_price=unit_price,
        currency=offer.currency,
        bought_at=emu.clock.now(),
    )


def purchase(
    emu: Emulator,
    offer: Offer,
    quantity: int = 1,
    buyer: dict[str, Any] | str | None = None,
    price: str | None = None,
    message: str | None = None,
) -> CheckoutForm:
    if quantity < 1:
        raise ControlError("quantity must be >= 1")
    auction_sale = price is not None
    if not auction_sale:
        if offer.status != "ACTIVE":
            raise ControlError(f"offer {offer.id} is not ACTIVE ({offer.status})")
        if offer.format != "BUY_NOW":
            raise ControlError(f"offer {offer.id} is an {offer.format}; use bid()")
        if offer.stock < quantity:
            raise ControlError(f"offer {offer.id} has only {offer.stock} in stock")
    now = emu.clock.now()
    seller = emu.sellers[offer.seller_id]
    unit_price = money_str(price if price is not None else offer.price)
    cf = CheckoutForm(
        id=emu.new_uuid(),
        seller_id=offer.seller_id,
        buyer=normalise_buyer(emu, buyer),
        status="BOUGHT",
        line_items=[new_line_item(emu, offer, quantity, unit_price)],
        marketplace=seller.marketplace,
        currency=offer.currency,
        created_at=now,
        updated_at=now,
        revision=emu.new_revision(),
        payment_id=emu.new_uuid(),
        message_to_seller=message,
    )
    emu.checkout_forms[cf.id] = cf
    form_index.add(emu, cf)
    offer.stock -= quantity
    offer.sales.append(Sale(at=now, quantity=quantity))
    offer.updated_at = now
    if offer.status == "ACTIVE":
        offers_mod.emit_offer_event(emu, offer, "OFFER_STOCK_CHANGED")
    if offer.stock == 0 and offer.status == "ACTIVE":
        # §5.3: selling the last unit ends a BUY_NOW offer (EMPTY_STOCK).
        offers_mod.end_offer(emu, offer, "EMPTY_STOCK")
    emit_order_event(emu, cf, "BOUGHT")
    return cf


def sell_auction(emu: Emulator, offer: Offer) -> CheckoutForm:
    """An auction that ends with bids is bought by the top bidder (§8)."""
    top = max(offer.bids, key=lambda b: (Decimal(b.amount), -b.placed_at.timestamp()))
    return purchase(emu, offer, 1, dict(top.buyer), price=top.amount)


def fill_in(emu: Emulator, cf: CheckoutForm) -> None:
    if cf.status != "BOUGHT":
        raise ControlError(f"checkout form {cf.id} is {cf.status}, not BOUGHT")
    # api-notes §3.2: BOUGHT = the buyer has not filled in the checkout form
    # yet, so the delivery method (and its cost) is chosen only now.
    if not cf.delivery:
        method_id, method_name, cost = emu.rng.choice(DELIVERY_METHODS)
        cf.delivery = {"method_id": method_id, "method_name": method_name}
        cf.delivery_cost = cost
    cf.status = "FILLED_IN"
    touch(emu, cf)
    emit_order_event(emu, cf, "FILLED_IN")


def pay(emu: Emulator, cf: CheckoutForm) -> None:
    if cf.status == "BOUGHT":
        fill_in(emu, cf)
    if cf.status != "FILLED_IN":
        raise ControlError(f"checkout form {cf.id} is {cf.status}, cannot pay")
    cf.status = "READY_FOR_PROCESSING"
    cf.paid_at = emu.clock.now()
    touch(emu, cf)
    emit_order_event(emu, cf, "READY_FOR_PROCESSING")


def cancel(emu: Emulator, cf: CheckoutForm, auto: bool = False) -> None:
    # Stock is not returned to the offer: Allegro does not document it.
    if cf.status == "CANCELLED":
        raise ControlError(f"checkout form {cf.id} is already CANCELLED")
    cf.status = "CANCELLED"
    touch(emu, cf)
    emit_order_event(emu, cf, "AUTO_CANCELLED" if auto else "BUYER_CANCELLED")


def modify(
    emu: Emulator,
    cf: CheckoutForm,
    quantities: dict[str, int] | None = None,
    add: dict[str, int] | None = None,
) -> None:
    """The buyer edits an unpaid order (BUYER_MODIFIED, api-notes §3.3): new
    quantities per line item id (0 drops the line) and new lines per offer id.
    Offer stock is not adjusted."""
    if cf.status not in ("BOUGHT", "FILLED_IN"):
        raise ControlError(f"checkout form {cf.id} is {cf.status}, cannot modify")
    quantities, add = quantities or {}, add or {}
    known = {li.id for li in cf.line_items}
    if not set(quantities) <= known or min([*quantities.values(), 0]) < 0:
        raise ControlError(f"bad line quantities for checkout form {cf.id}")
    for li in cf.line_items:
        li.quantity = quantities.get(li.id, li.quantity)
    for offer_id, quantity in add.items():
        offer = emu.offers.get(offer_id)
        if offer is None or quantity < 1:
            raise ControlError(f"cannot add offer {offer_id} x {quantity}")
        cf.line_items.append(
            new_line_item(emu, offer, quantity, money_str(offer.price))
        )
    cf.line_items = [li for li in cf.line_items if li.quantity > 0]
    if not cf.line_items:
        raise ControlError("a checkout form keeps at least one line; cancel it")
    touch(emu, cf)
    emit_order_event(emu, cf, "BUYER_MODIFIED")


# ----------------------------------------------------------------- handlers


def get_cf(emu: Emulator, ctx: Ctx) -> CheckoutForm:
    cf_id = ctx.params["id"]
    if not UUID_RE.match(cf_id):
        raise ApiError(
            422, "VALIDATION_ERROR", "Checkout form id must be a UUID", path="id"
        )
    cf = emu.checkout_forms.get(cf_id)
    if cf is None or cf.seller_id != ctx.seller_id:
        raise ApiError(404, "NOT_FOUND", f"Checkout form {cf_id} not found")
    return cf


def list_checkout_forms(emu: Emulator, ctx: Ctx) -> httpx.Response:
    offset = int_param(ctx, "offset", 0, 0, 10**9)
    limit = int_param(ctx, "limit", 100, 1, 100)
    cap = emu.config.checkout_forms_max_window
    if offset + limit > cap:
        # api-notes §3.1: the message Allegro returns for the 10 000 cap.
        raise ApiError(
            422,
            "VALIDATION_ERROR",
            f"Offset and limit parameters exceed maximal result size of {cap} items",
        )
    now = emu.clock.now()
    bounds: dict[str, tuple[datetime, datetime]] = {}  # attribute → [low, high]
    for name, attr in (
        ("lineItems.boughtAt", "created_at"),
        ("updatedAt", "updated_at"),
    ):
        gte, lte = ctx.q(f"{name}.gte"), ctx.q(f"{name}.lte")
        low = (
            parse_dt(gte, f"{name}.gte", status=400, offset_required=True)
            if gte
            else datetime.min.replace(tzinfo=now.tzinfo)
        )
        high = (
            parse_dt(lte, f"{name}.lte", status=400, offset_required=True)
            if lte
            else datetime.max.replace(tzinfo=now.tzinfo)
        )
        if gte or lte:
            bounds[attr] = (low, high)
    getters: dict[str, Callable[[CheckoutForm], Any]] = {
        "status": lambda cf: cf.status,
        "fulfillment.status": lambda cf: cf.fulfillment_status,
        "fulfillment.provider.id": lambda cf: "SELLER",
        "fulfillment.shipmentSummary.lineItemsSent": _lines_sent,
        "payment.id": lambda cf: cf.payment_id,
        "delivery.method.id": lambda cf: cf.delivery.get("method_id"),
        "buyer.login": lambda cf: cf.buyer.get("login"),
        "marketplace.id": lambda cf: cf.marketplace,
    }
    allowed = {"status": STATUSES, "fulfillment.status": FULFILLMENT_STATUSES}
    filters: list[tuple[Callable[[CheckoutForm], Any], list[str]]] = []
    for name, getter in getters.items():
        wanted = ctx.qlist(name)
        if name in allowed:
            check_enum(name, wanted, allowed[name], 400)
        if wanted:
            filters.append((getter, wanted))
    sort = ctx.q("sort") or "-lineItems.boughtAt"
    keys = {"lineItems.boughtAt": "created_at", "updatedAt": "updated_at"}
    if sort.lstrip("-") not in keys:
        raise ApiError(400, "VALIDATION_ERROR", f"Invalid sort: {sort}", path="sort")
    attr = keys[sort.lstrip("-")]
    page: list[CheckoutForm] = []
    total = 0
    if not ctx.q("surcharges.id"):
        page, total = _select(
            emu, ctx.seller_id, now, bounds, filters,
            attr, sort.startswith("-"), offset, limit,
        )  # fmt: skip
    body = {
        "checkoutForms": [checkout_form_json(cf) for cf in page],
        "count": len(page),
        "totalCount": total,
    }
    return json_response(200, body)


def _select(
    emu: Emulator,
    seller_id: str,
    now: datetime,
    bounds: dict[str, tuple[datetime, datetime]],
    filters: list[tuple[Callable[[CheckoutForm], Any], list[str]]],
    attr: str,
    descending: bool,
    offset: int,
    limit: int,
) -> tuple[list[CheckoutForm], int]:
    """The page of the seller's listed forms within the bounds that pass the
    filters, sorted by attr (ties by id), and how many there are in all.

    form_index keeps each seller's forms sorted by both sort attributes. With
    no filter but a range of the sort attribute (what the hub asks), the page
    is a slice of that order: two bisections, however many forms the seller
    has. Otherwise the forms in the narrowest bounded range are filtered and
    partly sorted.
    """
    everything = (
        datetime.min.replace(tzinfo=now.tzinfo),
        datetime.max.replace(tzinfo=now.tzinfo),
    )
    index = form_index.current(emu)
    if (
        not filters
        and set(bounds) <= {attr}
        # A form lag_list hides would have to be counted out of the slice.
        and not form_index.hidden(emu, index, seller_id, now)
    ):
        keys, lo, hi = index.span(seller_id, attr, *bounds.get(attr, everything))
        if descending:
            chosen = keys[max(lo, hi - offset - limit) : max(lo, hi - offset)][::-1]
        else:
            chosen = keys[lo + offset : min(hi, lo + offset + limit)]
        return [emu.checkout_forms[cf_id] for _, cf_id in chosen], hi - lo
    spans = [index.span(seller_id, a, low, high) for a, (low, high) in bounds.items()]
    keys, lo, hi = min(
        spans or [index.span(seller_id, attr, *everything)],
        key=lambda span: span[2] - span[1],
    )
    found = []
    for _, cf_id in keys[lo:hi]:
        cf = emu.checkout_forms[cf_id]
        if cf.hidden_from_list_until is not None and cf.hidden_from_list_until > now:
            continue
        if all(low <= getattr(cf, a) <= high for a, (low, high) in bounds.items()):
            if all(getter(cf) in wanted for getter, wanted in filters):
                found.append(cf)
    # Only the first offset + limit in order are needed: a partial sort keeps a
    # page cheap when thousands of forms match (the hub pages through them).
    order = heapq.nlargest if descending else heapq.nsmallest
    first = order(offset + limit, found, key=lambda cf: (getattr(cf, attr), cf.id))
    return first[offset : offset + limit], len(found)


def get_checkout_form(emu: Emulator, ctx: Ctx) -> httpx.Response:
    return json_response(200, checkout_form_json(get_cf(emu, ctx)))


def list_events(emu: Emulator, ctx: Ctx) -> httpx.Response:
    limit = int_param(ctx, "limit", 100, 1, 1000)
    raw_from = ctx.q("from")
    after = 0
    if raw_from:
        try:
            after = int(raw_from)
        except ValueError as exc:
            raise ApiError(
                422, "VALIDATION_ERROR", "Invalid 'from' event id", path="from"
            ) from exc
    types = set(ctx.qlist("type"))
    check_enum("type", list(types), EVENT_TYPES, 422)
    # Oldest first, strictly after `from` (api-notes §3.3). A `from` older than
    # the retention window simply yields the oldest events still kept.
    # The journal is kept in id order: start after `from` by bisection and stop
    # at `limit`, so a page costs the same at the end of a long journal.
    start = bisect.bisect_right(emu.order_events, after, key=lambda e: e.id)
    wanted = (
        e
        for e in itertools.islice(emu.order_events, start, None)
        if e.seller_id == ctx.seller_id and (not types or e.type in types)
    )
    events = list(itertools.islice(wanted, limit))
    return json_response(200, {"events": [event_json(e) for e in events]})


def event_stats(emu: Emulator, ctx: Ctx) -> httpx.Response:
    mine = [e for e in emu.order_events if e.seller_id == ctx.seller_id]
    if not mine:
        return json_response(200, {})
    latest = max(mine, key=lambda e: e.id)
    return json_response(
        200,
        {"latestEvent": {"id": str(latest.id), "occurredAt": iso(latest.occurred_at)}},
    )


def put_fulfillment(emu: Emulator, ctx: Ctx) -> httpx.Response:
    cf = get_cf(emu, ctx)
    data = ctx.json()
    status = data.get("status") if isinstance(data, dict) else None
    if status not in FULFILLMENT_STATUSES or status == "RETURNED":
        # SPEC: RETURNED cannot be set by the seller (422).
        raise ApiError(
            422, "VALIDATION_ERROR", f"Status not allowed: {status}", path="status"
        )
    revision = ctx.q("checkoutForm.revision")
    if revision is not None and revision != cf.revision:
        raise ApiError(409, "CONFLICT", "Checkout form revision is outdated")
    if status != cf.fulfillment_status:
        set_fulfillment(emu, cf, status)
    return empty_response(204)


def set_fulfillment(emu: Emulator, cf: CheckoutForm, status: str) -> None:
    cf.fulfillment_status = status
    touch(emu, cf)
    emit_order_event(emu, cf, "FULFILLMENT_STATUS_CHANGED")


ROUTES: list[tuple[str, str, Handler, str]] = [
    ("GET", "/order/checkout-forms", list_checkout_forms, "api"),
    ("GET", "/order/checkout-forms/{id}", get_checkout_form, "api"),
    ("PUT", "/order/checkout-forms/{id}/fulfillment", put_fulfillment, "api"),
    ("GET", "/order/events", list_events, "api"),
    ("GET", "/order/event-stats", event_stats, "api"),
]
