"""Pydantic models of the Allegro responses the hub reads; camelCase lives only here.

Only the fields we use are declared; unknown fields are ignored (Allegro adds
fields over time: "More fields may appear in the future", api-notes §2.1). A
response missing a required field fails validation, and the client turns that
into ``MalformedResponse`` instead of passing garbage on.

A few nested Allegro objects are flattened on the way in (e.g. ``external.id``
→ ``external_id``) so the rest of the hub reads plain attributes: by ``nested``
fields in the order models (read in bulk, so kept free of Python hooks), by a
"before" hook elsewhere. Field names and shapes follow the SPEC
(``../shared/allegro/openapi.yaml``): CheckoutForm, CheckoutFormLineItem,
OrderEventsList, OrderEventStats, GeneralReport, TaskReport, OfferListingDto,
MeResponse, MarketplaceItem, SalePartialProductOfferResponse,
CheckoutFormAddWaybillCreated.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import (
    AliasPath,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel


class Schema(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        extra="ignore",
        frozen=True,
    )


def dig(data: Any, *keys: str) -> Any:
    """data[k1][k2]… or None when any level is missing or null."""
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def nested(*path: str) -> Any:
    """A field read from a nested Allegro object (``Field(None,
    validation_alias=AliasPath(...))``): None when any level is missing or null.

    Pydantic follows the path itself, so the model needs no "before" hook that
    copies the body, and keeps validating raw JSON in Rust (http.parse)."""
    return Field(None, validation_alias=AliasPath(*path))


def _flatten(data: Any, **paths: tuple[str, ...]) -> Any:
    """Copy nested values to flat field names (only where the flat one is absent)."""
    if not isinstance(data, dict):
        return data
    data = dict(data)
    for name, path in paths.items():
        if name not in data:
            data[name] = dig(data, *path)
    return data


class Money(Schema):
    """SPEC ``Price``: amount is a decimal string (api-notes §3.2)."""

    amount: Decimal
    currency: str


# --------------------------------------------------------------- account


class Me(Schema):
    id: str
    login: str
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    marketplace_id: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _flat(cls, data: Any) -> Any:
        return _flatten(data, marketplace_id=("baseMarketplace", "id"))


class Marketplace(Schema):
    id: str
    currency: str | None = None  # currencies.base.code
    additional_currencies: list[str] = []

    @model_validator(mode="before")
    @classmethod
    def _flat(cls, data: Any) -> Any:
        data = _flatten(data, currency=("currencies", "base", "code"))
        if isinstance(data, dict) and "additional_currencies" not in data:
            extra = dig(data, "currencies", "additional") or []
            data["additional_currencies"] = [
                c["code"] for c in extra if isinstance(c, dict) and c.get("code")
            ]
        return data


class MarketplaceList(Schema):
    marketplaces: list[Marketplace]


class Carrier(Schema):
    id: str
    name: str = ""


class CarrierList(Schema):
    carriers: list[Carrier]


# ---------------------------------------------------------------- offers


class OfferListItem(Schema):
    """One row of ``GET /sale/offers`` (SPEC ``OfferListingDto``)."""

    id: str
    name: str = ""
    external_id: str | None = None
    format: str | None = None  # sellingMode.format: BUY_NOW / AUCTION / ADVERTISEMENT
    price: Money | None = None
    status: str | None = None  # publication.status: INACTIVE/ACTIVE/ACTIVATING/ENDED
    available: int | None = None  # stock.available
    sold: int | None = None  # stock.sold (last 30 days)
    bidders_count: int | None = None  # saleInfo.biddersCount (auctions)
    started_at: datetime | None = None
    ending_at: datetime | None = None
    # The list has endedAt but no endedBy (SPEC OfferListingDto.publication);
    # why an offer ended is only in GET /sale/product-offers/{id}.
    ended_at: datetime | None = None
    marketplace_id: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _flat(cls, data: Any) -> Any:
        return _flatten(
            data,
            external_id=("external", "id"),
            format=("sellingMode", "format"),
            price=("sellingMode", "price"),
            status=("publication", "status"),
            available=("stock", "available"),
            sold=("stock", "sold"),
            bidders_count=("saleInfo", "biddersCount"),
            started_at=("publication", "startedAt"),
            ending_at=("publication", "endingAt"),
            ended_at=("publication", "endedAt"),
            marketplace_id=("publication", "marketplaces", "base", "id"),
        )


class OfferList(Schema):
    offers: list[OfferListItem]
    count: int = 0
    total_count: int = 0


class ProductOffer(Schema):
    """``GET /sale/product-offers/{id}`` (SPEC ``SaleProductOfferResponseV1``)."""

    id: str
    name: str = ""
    external_id: str | None = None
    format: str | None = None
    price: Money | None = None
    starting_price: Money | None = None
    available: int | None = None
    status: str | None = None
    duration: str | None = None  # ISO 8601; None = until sold out (api-notes §5.3)
    # endedBy but no endedAt here (SPEC SaleProductOfferResponseV1.publication);
    # the end time is in GET /sale/offers (OfferListItem.ended_at).
    ended_by: str | None = None
    marketplace_id: str | None = None
    category_id: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _flat(cls, data: Any) -> Any:
        return _flatten(
            data,
            external_id=("external", "id"),
            format=("sellingMode", "format"),
            price=("sellingMode", "price"),
            starting_price=("sellingMode", "startingPrice"),
            available=("stock", "available"),
            status=("publication", "status"),
            duration=("publication", "duration"),
            ended_by=("publication", "endedBy"),
            marketplace_id=("publication", "marketplaces", "base", "id"),
            category_id=("category", "id"),
        )


# Top-level fields of SaleProductOfferRequestV1 that a new offer copies from the
# old one's SaleProductOfferResponseV1; stock and publication are set afresh and
# read-only parts (id, validation, createdAt, …) are left out.
COPIED_OFFER_FIELDS = (
    "productSet", "b2b", "attachments", "fundraisingCampaign", "additionalServices",
    "compatibilityList", "delivery", "additionalMarketplaces", "language", "category",
    "name", "parameters", "afterSalesServices", "sizeTable", "contact", "discounts",
    "payments", "sellingMode", "location", "images", "description", "external",
    "taxSettings", "messageToSellerSettings",
)  # fmt: skip


class OfferCopy(Schema):
    """What a new offer is built from when an ended auction is listed again
    (an auction cannot be reactivated, api-notes §7). ``body`` holds the copied
    request fields in Allegro's own shape, to be sent back unchanged."""

    id: str
    format: str | None = None
    duration: str | None = None
    unit: str | None = None
    body: dict[str, Any]

    @model_validator(mode="before")
    @classmethod
    def _copy(cls, data: Any) -> Any:
        if not isinstance(data, dict) or "body" in data:
            return data
        return {
            "id": data.get("id"),
            "format": dig(data, "sellingMode", "format"),
            "duration": dig(data, "publication", "duration"),
            "unit": dig(data, "stock", "unit"),
            "body": {
                k: data[k] for k in COPIED_OFFER_FIELDS if data.get(k) is not None
            },
        }


class ProductOfferChange(Schema):
    """PATCH result: 200 with the offer, or 202 accepted and processed later.

    On 202 Allegro gives ``Location`` (an operation to poll) and ``Retry-After``
    (api-notes §5.2); ``offer`` is then None.
    """

    accepted: bool
    offer: ProductOffer | None = None
    operation_url: str | None = None
    retry_after: float | None = None


class ProductOfferOperation(Schema):
    """Where an accepted (202) offer change stands: poll again or done."""

    done: bool
    retry_after: float | None = None
    offer_url: str | None = None


class OfferParts(Schema):
    """``GET /sale/product-offers/{id}/parts`` (``SalePartialProductOfferResponse``)."""

    id: str
    available: int | None = None
    price: Money | None = None

    @model_validator(mode="before")
    @classmethod
    def _flat(cls, data: Any) -> Any:
        return _flatten(
            data, available=("stock", "available"), price=("sellingMode", "price")
        )


class OfferEvent(Schema):
    """``GET /sale/offer-events`` item; only the last 24 h exist (api-notes §5.4)."""

    id: str
    type: str
    occurred_at: datetime
    offer_id: str
    external_id: str | None = None
    ended_by: str | None = None  # OFFER_ENDED only

    @model_validator(mode="before")
    @classmethod
    def _flat(cls, data: Any) -> Any:
        return _flatten(
            data,
            offer_id=("offer", "id"),
            external_id=("offer", "external", "id"),
            ended_by=("offer", "publication", "endedBy"),
        )


class OfferEventList(Schema):
    offer_events: list[OfferEvent]


# -------------------------------------------------------------- commands


class TaskCount(Schema):
    total: int = 0
    success: int = 0
    failed: int = 0


class CommandReport(Schema):
    """SPEC ``GeneralReport``: a batch command's summary (api-notes §6)."""

    id: str
    created_at: datetime | None = None
    completed_at: datetime | None = None
    task_count: TaskCount = TaskCount()

    @property
    def is_complete(self) -> bool:
        # No command-level status exists (api-notes §6): done = completedAt set,
        # or every task accounted for.
        counts = self.task_count
        return self.completed_at is not None or (
            counts.total > 0 and counts.success + counts.failed >= counts.total
        )


class ErrorItem(Schema):
    """SPEC ``Error`` inside a task report."""

    code: str = ""
    message: str = ""
    user_message: str | None = None
    path: str | None = None


class CommandTask(Schema):
    """SPEC ``CommandTask``: one offer's outcome; status NEW / SUCCESS / FAIL."""

    offer_id: str
    status: str
    field: str | None = None
    message: str | None = None
    errors: list[ErrorItem] = []

    @model_validator(mode="before")
    @classmethod
    def _flat(cls, data: Any) -> Any:
        data = _flatten(data, offer_id=("offer", "id"))
        if isinstance(data, dict) and data.get("errors") is None:
            data["errors"] = []
        return data


class TaskReport(Schema):
    tasks: list[CommandTask]


# ---------------------------------------------------------------- orders


class OrderEvent(Schema):
    """SPEC ``OrderEvent``; treat only as "checkout form X changed" (api-notes §3.3)."""

    id: str
    type: str
    occurred_at: datetime
    checkout_form_id: str | None = nested("order", "checkoutForm", "id")
    revision: str | None = nested("order", "checkoutForm", "revision")
    marketplace_id: str | None = nested("order", "marketplace", "id")


class OrderEventList(Schema):
    events: list[OrderEvent]


class OrderEventStats(Schema):
    """SPEC ``OrderEventStats``: the latest event id, where a cursor starts."""

    latest_event_id: str | None = None
    occurred_at: datetime | None = None

    @model_validator(mode="before")
    @classmethod
    def _flat(cls, data: Any) -> Any:
        return _flatten(
            data,
            latest_event_id=("latestEvent", "id"),
            occurred_at=("latestEvent", "occurredAt"),
        )


class BuyerAddress(Schema):
    street: str | None = None
    city: str | None = None
    post_code: str | None = None
    country_code: str | None = None


class Buyer(Schema):
    id: str
    email: str = ""
    login: str = ""
    first_name: str | None = None
    last_name: str | None = None
    company_name: str | None = None
    guest: bool = False
    phone_number: str | None = None
    address: BuyerAddress | None = None


class Payment(Schema):
    """SPEC ``CheckoutFormPaymentReference`` (also each of ``surcharges[]``)."""

    id: str
    type: str | None = None
    provider: str | None = None
    finished_at: datetime | None = None
    paid_amount: Money | None = None


class ShipmentSummary(Schema):
    line_items_sent: str | None = None  # NONE / SOME / ALL


class Fulfillment(Schema):
    status: str | None = None
    shipment_summary: ShipmentSummary | None = None
    provider_id: str | None = nested("provider", "id")  # SELLER / ALLEGRO


class PostalAddress(Schema):
    """The address part shared by pickup points and invoices."""

    street: str | None = None
    city: str | None = None
    zip_code: str | None = None
    country_code: str | None = None


class Address(Schema):
    """Delivery address. Not a PostalAddress subclass on purpose: the order page
    prints these fields in declaration order, names first."""

    first_name: str | None = None
    last_name: str | None = None
    company_name: str | None = None
    street: str | None = None
    city: str | None = None
    zip_code: str | None = None
    country_code: str | None = None
    phone_number: str | None = None


class DeliveryMethod(Schema):
    id: str | None = None
    name: str | None = None


class PickupPoint(Schema):
    id: str | None = None
    name: str | None = None
    description: str | None = None
    address: PostalAddress | None = None


class Delivery(Schema):
    address: Address | None = None
    method: DeliveryMethod | None = None
    pickup_point: PickupPoint | None = None
    cost: Money | None = None
    smart: bool | None = None
    calculated_number_of_packages: int | None = None


class CompanyId(Schema):
    type: str | None = None
    value: str | None = None


class InvoiceCompany(Schema):
    name: str | None = None
    tax_id: str | None = None
    ids: list[CompanyId] = []
    vat_payer_status: str | None = None


class NaturalPerson(Schema):
    first_name: str | None = None
    last_name: str | None = None


class InvoiceAddress(PostalAddress):
    company: InvoiceCompany | None = None
    natural_person: NaturalPerson | None = None


class Invoice(Schema):
    required: bool = False
    address: InvoiceAddress | None = None


class LineItemOffer(Schema):
    id: str
    name: str = ""
    # The seller's signature = our SKU (api-notes §5.1).
    external_id: str | None = nested("external", "id")


class LineItem(Schema):
    """SPEC ``CheckoutFormLineItem``; ``id`` is needed for shipments."""

    id: str
    offer: LineItemOffer
    quantity: int
    price: Money
    original_price: Money | None = None
    bought_at: datetime | None = None


class CheckoutForm(Schema):
    """SPEC ``CheckoutForm``: one order, as the hub imports it (api-notes §3.2)."""

    id: str
    status: str  # BOUGHT / FILLED_IN / READY_FOR_PROCESSING / CANCELLED
    buyer: Buyer
    payment: Payment | None = None
    fulfillment: Fulfillment | None = None
    delivery: Delivery | None = None
    invoice: Invoice | None = None
    line_items: list[LineItem]
    surcharges: list[Payment] = []
    note: str | None = None  # note.text
    message_to_seller: str | None = None
    marketplace_id: str | None = nested("marketplace", "id")
    total_to_pay: Money | None = nested("summary", "totalToPay")
    updated_at: datetime | None = None
    revision: str | None = None

    # Field validators, not a model one: a model "before" hook would turn the
    # whole JSON body into Python dicts first (http.parse validates the raw JSON).
    @field_validator("note", mode="before")
    @classmethod
    def _note_text(cls, value: Any) -> Any:
        return value.get("text") if isinstance(value, dict) else value

    @field_validator("surcharges", mode="before")
    @classmethod
    def _no_surcharges(cls, value: Any) -> Any:
        return [] if value is None else value


class UnreadableForm(Schema):
    """A form of a list page the hub cannot read: its id and what is wrong."""

    id: str
    problems: str


class CheckoutFormList(Schema):
    """One page of ``GET /order/checkout-forms``. Validated as such, every form
    must be readable; ``set_apart`` reads a page with a bad form in it."""

    checkout_forms: list[CheckoutForm]
    unreadable: list[UnreadableForm] = []
    count: int = 0
    total_count: int = 0

    @field_validator("unreadable", mode="before")
    @classmethod
    def _not_from_allegro(cls, value: Any) -> Any:
        return []  # ours, filled by set_apart: a field of that name in a body is not

    @classmethod
    def set_apart(cls, data: Any) -> CheckoutFormList:
        """The page with each form validated on its own: one that does not
        validate is kept apart in ``unreadable`` (its id and why), so one bad
        order does not make the whole page unreadable. ValidationError when a
        bad form has no id (nothing to set it aside by) or the page itself is
        wrong."""
        forms = dig(data, "checkoutForms")
        if not isinstance(forms, list):
            return cls.model_validate(data)
        good: list[CheckoutForm] = []
        bad: list[UnreadableForm] = []
        for raw in forms:
            try:
                good.append(CheckoutForm.model_validate(raw))
            except ValidationError as exc:
                form_id = dig(raw, "id")
                if not isinstance(form_id, str) or not form_id:
                    raise  # nothing to set aside by: the page is unreadable
                bad.append(UnreadableForm(id=form_id, problems=describe(exc)))
        page = cls.model_validate({**data, "checkoutForms": good})
        return page.model_copy(update={"unreadable": bad})


def describe(exc: ValidationError) -> str:
    """Field paths and reasons only: input values stay out of messages and logs."""
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or '(body)'}: {e['msg']}"
        for e in exc.errors(include_input=False, include_url=False)[:5]
    )


class Shipment(Schema):
    """SPEC ``CheckoutFormAddWaybillCreated`` / an item of the shipments list."""

    id: str
    waybill: str
    carrier_id: str
    carrier_name: str | None = None
    line_item_ids: list[str] = Field(default_factory=list)
    created_at: datetime | None = None

    @model_validator(mode="before")
    @classmethod
    def _flat(cls, data: Any) -> Any:
        if isinstance(data, dict) and "line_item_ids" not in data:
            data = dict(data)
            items = data.get("lineItems") or []
            data["line_item_ids"] = [
                i["id"] for i in items if isinstance(i, dict) and i.get("id")
            ]
        return data


class ShipmentList(Schema):
    shipments: list[Shipment]


# ----------------------------------------------------------------- OAuth
# OAuth bodies are snake_case already (api-notes §2); tokens are SecretStr so
# they never show in a repr, a log line or a traceback.


class TokenResponse(Schema):
    access_token: SecretStr
    refresh_token: SecretStr | None = None
    expires_in: int
    token_type: str = "bearer"
    scope: str = ""


class DeviceCode(Schema):
    """``POST /auth/oauth/device`` (api-notes §2.2); numbers may come as strings."""

    user_code: str
    device_code: str = Field(repr=False)  # a credential until used: keep out of logs
    verification_uri: str
    verification_uri_complete: str = ""
    interval: int = 5
    expires_in: int = 3600
