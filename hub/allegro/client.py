"""AllegroClient: the one seam between the hub and Allegro's REST API.

One method per endpoint the hub uses, each returning pydantic models from
``schemas.py`` or raising an ``errors.AllegroError`` subclass; never ``None``
for an error. Tests swap only the httpx transport (the emulator).

Requests, retries and parsing live in ``http.py`` (HttpSession). Writes are
safe to retry: batch commands carry the caller's command id (api-notes §6; a
retry reuses it), PATCH sets absolute values, and POSTs without an idempotency
key (shipments, new offers) are retried only when Allegro provably did not
process them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import httpx
from django.conf import settings
from django.utils.translation import gettext as _

from hub.allegro import pagination, schemas
from hub.allegro.errors import (
    InvalidRequest,
    PermanentError,
    retry_after_seconds,
)
from hub.allegro.http import USER_AGENT, HttpSession, iso, parse

if TYPE_CHECKING:
    from hub.allegro.models import Channel

log = logging.getLogger(__name__)

__all__ = ["USER_AGENT", "AllegroClient", "client_for_channel"]

MAX_OFFERS_PER_COMMAND = 1000  # api-notes §6
MAX_EXTERNAL_IDS = 100  # api-notes §5.1: external.id filter takes at most 100
CHECKOUT_FORMS_CAP = 10_000  # api-notes §3.1: offset + limit ≤ 10 000
# api-notes §1: some operations accept only en-US (SPEC enum of Accept-Language).
ONLY_EN_US = {"Accept-Language": "en-US"}
# The languages Allegro answers in (SPEC enum of Accept-Language, api-notes §1),
# by the hub's language code; any other language gets en-US.
ALLEGRO_LANGUAGES = {
    "pl": "pl-PL",
    "cs": "cs-CZ",
    "sk": "sk-SK",
    "hu": "hu-HU",
    "uk": "uk-UA",
    "en": "en-US",
}


def allegro_language(language_code: str) -> str:
    """Allegro's Accept-Language for the hub's language ("pl", "pl-pl" → pl-PL)."""
    base = language_code.replace("_", "-").split("-")[0].lower()
    return ALLEGRO_LANGUAGES.get(base, "en-US")


def _offer_criteria(offer_ids: Sequence[str]) -> list[dict[str, Any]]:
    if not offer_ids:
        raise InvalidRequest("a command needs at least one offer")
    if len(offer_ids) > MAX_OFFERS_PER_COMMAND:
        raise InvalidRequest(
            f"a command takes at most {MAX_OFFERS_PER_COMMAND} offers, "
            f"got {len(offer_ids)}"
        )
    offers = [{"id": str(offer_id)} for offer_id in offer_ids]
    return [{"type": "CONTAINS_OFFERS", "offers": offers}]


class AllegroClient(HttpSession):
    """Typed access to the Allegro endpoints the hub uses."""

    checkout_forms_cap = CHECKOUT_FORMS_CAP

    # -------------------------------------------------------------- account

    def me(self) -> schemas.Me:
        """The connected seller: id, login, base marketplace."""
        # Reference: https://developer.allegro.pl/documentation#operation/meGET
        return self._get(schemas.Me, "/me")

    def marketplaces(self) -> list[schemas.Marketplace]:
        """Marketplaces with their base currencies."""
        # Reference: https://developer.allegro.pl/documentation#operation/marketplacesGET
        return self._get(schemas.MarketplaceList, "/marketplaces").marketplaces

    def carriers(self) -> list[schemas.Carrier]:
        """Carrier ids accepted for tracking numbers."""
        # Reference: https://developer.allegro.pl/documentation#operation/getOrdersCarriersUsingGET
        return self._get(schemas.CarrierList, "/order/carriers").carriers

    # --------------------------------------------------------------- offers

    def list_offers(
        self,
        *,
        offset: int = 0,
        limit: int = 1000,
        offer_ids: Sequence[str] | None = None,
        external_ids: Sequence[str] | None = None,
        statuses: Sequence[str] | None = None,
        formats: Sequence[str] | None = None,
        name: str | None = None,
    ) -> schemas.OfferList:
        """One page of the seller's offers (limit ≤ 1000)."""
        # Reference: https://developer.allegro.pl/documentation#operation/searchOffersUsingGET
        if external_ids is not None and len(external_ids) > MAX_EXTERNAL_IDS:
            raise InvalidRequest(
                f"at most {MAX_EXTERNAL_IDS} external ids per offer search"
            )
        return self._get(
            schemas.OfferList,
            "/sale/offers",
            {
                "offset": offset,
                "limit": limit,
                "offer.id": list(offer_ids) if offer_ids else None,
                "external.id": list(external_ids) if external_ids else None,
                "publication.status": list(statuses) if statuses else None,
                "sellingMode.format": list(formats) if formats else None,
                "name": name,
            },
        )

    def iter_offers(self, **filters: Any) -> Iterator[schemas.OfferListItem]:
        """Every offer matching the filters, 1 000 per request, streamed."""
        return pagination.iter_offers(self, **filters)

    def get_product_offer(self, offer_id: str) -> schemas.ProductOffer:
        """The full offer."""
        # Reference: https://developer.allegro.pl/documentation#operation/getProductOffer
        return self._get(schemas.ProductOffer, f"/sale/product-offers/{offer_id}")

    def get_offer_parts(self, offer_id: str) -> schemas.OfferParts:
        """Stock and price only: lighter and "more reliable" (api-notes §5.2)."""
        # Reference: https://developer.allegro.pl/documentation#operation/getPartialProductOffer
        return self._get(
            schemas.OfferParts,
            f"/sale/product-offers/{offer_id}/parts",
            {"include": ["stock", "price"]},
        )

    def patch_product_offer(
        self, offer_id: str, body: dict[str, Any]
    ) -> schemas.ProductOfferChange:
        """Change only the fields in ``body``; 202 means Allegro finishes it later."""
        # Reference: https://developer.allegro.pl/documentation#operation/editProductOffers
        response = self._send("PATCH", f"/sale/product-offers/{offer_id}", body=body)
        return self._offer_change(response)

    def create_product_offer(self, body: dict[str, Any]) -> schemas.ProductOfferChange:
        """Create an offer (relisting an auction makes a new one, api-notes §7)."""
        # Reference: https://developer.allegro.pl/documentation#operation/createProductOffers
        response = self._send(
            "POST", "/sale/product-offers", body=body, idempotent=False
        )
        return self._offer_change(response)

    def get_offer_copy(self, offer_id: str) -> schemas.OfferCopy:
        """An offer's fields as a new offer would copy them (relisting an auction)."""
        # Reference: https://developer.allegro.pl/documentation#operation/getProductOffer
        return self._get(schemas.OfferCopy, f"/sale/product-offers/{offer_id}")

    def create_offer_from(
        self,
        source: schemas.OfferCopy,
        *,
        quantity: int,
        duration: str | None,
        starting_at: datetime | None = None,
    ) -> schemas.ProductOfferChange:
        """List SOURCE again as a new, active offer (a new offer id).

        An ended auction cannot be reactivated (api-notes §7), so it is listed
        anew from its own fields; ``starting_at`` schedules the start.
        """
        if quantity < 1:
            raise InvalidRequest(_("a new offer needs a quantity of 1 or more"))
        stock: dict[str, Any] = {"available": quantity}
        if source.unit:
            stock["unit"] = source.unit
        publication: dict[str, Any] = {"status": "ACTIVE", "duration": duration}
        if starting_at is not None:
            publication["startingAt"] = iso(starting_at)
        body = {**source.body, "stock": stock, "publication": publication}
        return self.create_product_offer(body)

    def _offer_change(self, response: httpx.Response) -> schemas.ProductOfferChange:
        if response.status_code == 202:
            return schemas.ProductOfferChange(
                accepted=True,
                offer=parse(schemas.ProductOffer, response)
                if response.content
                else None,
                operation_url=response.headers.get("Location"),
                retry_after=retry_after_seconds(response.headers.get("Retry-After")),
            )
        offer = parse(schemas.ProductOffer, response)
        return schemas.ProductOfferChange(accepted=False, offer=offer)

    def get_product_offer_operation(
        self, operation_url: str
    ) -> schemas.ProductOfferOperation:
        """Whether a 202-accepted PATCH/POST of an offer has finished."""
        # Reference: https://developer.allegro.pl/documentation#operation/getProductOfferProcessingStatus
        # 202 while pending (with Retry-After), 303 when done (api-notes §5.2).
        response = self._send("GET", operation_url)
        if response.status_code == 202:
            retry_after = retry_after_seconds(response.headers.get("Retry-After"))
            return schemas.ProductOfferOperation(done=False, retry_after=retry_after)
        return schemas.ProductOfferOperation(
            done=True, offer_url=response.headers.get("Location")
        )

    def offer_events(
        self,
        *,
        from_event: str | None = None,
        limit: int = 1000,
        types: Sequence[str] | None = None,
    ) -> list[schemas.OfferEvent]:
        """Offer changes after ``from_event``; only the last 24 h exist."""
        # Reference: https://developer.allegro.pl/documentation#operation/getOfferEvents
        return self._get(
            schemas.OfferEventList,
            "/sale/offer-events",
            {
                "from": from_event,
                "limit": limit,
                "type": list(types) if types else None,
            },
            headers=ONLY_EN_US,
        ).offer_events

    # -------------------------------------------------------------- commands

    def put_quantity_command(
        self,
        command_id: str,
        offer_ids: Sequence[str],
        *,
        value: int,
        change_type: str = "FIXED",
    ) -> schemas.CommandReport:
        """Set (FIXED) or change (GAIN) the stock of up to 1 000 offers."""
        # Reference: https://developer.allegro.pl/documentation#operation/quantityModificationCommandUsingPUT
        if change_type not in ("FIXED", "GAIN"):
            raise InvalidRequest(f"unknown quantity change type {change_type!r}")
        if change_type == "FIXED" and value < 1:
            # api-notes §6.2: Allegro rejects 0 here; ending is the lifecycle's job.
            raise InvalidRequest(
                _(
                    "cannot set quantity %(value)d with a quantity command; "
                    "Allegro only accepts 1 or more (end the offer instead)"
                )
                % {"value": value}
            )
        body = {
            "modification": {"changeType": change_type, "value": value},
            "offerCriteria": _offer_criteria(offer_ids),
        }
        return self._put_command(
            "offer-quantity-change-commands", command_id, body, offer_ids
        )

    def get_quantity_command(self, command_id: str) -> schemas.CommandReport:
        """A quantity command's summary."""
        # Reference: https://developer.allegro.pl/documentation#operation/getQuantityModificationCommandStatusUsingGET
        return self._command_report("offer-quantity-change-commands", command_id)

    def get_quantity_command_tasks(self, command_id: str) -> list[schemas.CommandTask]:
        """Every offer's outcome of a quantity command."""
        # Reference: https://developer.allegro.pl/documentation#operation/getQuantityModificationCommandTasksStatusesUsingGET
        return self._command_tasks("offer-quantity-change-commands", command_id)

    def put_publication_command(
        self,
        command_id: str,
        offer_ids: Sequence[str],
        *,
        action: str,
        scheduled_for: datetime | None = None,
    ) -> schemas.CommandReport:
        """ACTIVATE (optionally scheduled) or END up to 1 000 offers."""
        # Reference: https://developer.allegro.pl/documentation#operation/changePublicationStatusUsingPUT
        if action not in ("ACTIVATE", "END"):
            raise InvalidRequest(f"unknown publication action {action!r}")
        publication: dict[str, Any] = {"action": action}
        if scheduled_for is not None:
            # api-notes §6.3: scheduledFor applies to ACTIVATE only.
            publication["scheduledFor"] = iso(scheduled_for)
        body = {"publication": publication, "offerCriteria": _offer_criteria(offer_ids)}
        return self._put_command(
            "offer-publication-commands", command_id, body, offer_ids
        )

    def get_publication_command(self, command_id: str) -> schemas.CommandReport:
        """A publication command's summary."""
        # Reference: https://developer.allegro.pl/documentation#operation/getPublicationReportUsingGET
        return self._command_report("offer-publication-commands", command_id)

    def get_publication_command_tasks(
        self, command_id: str
    ) -> list[schemas.CommandTask]:
        """Every offer's outcome of a publication command."""
        # Reference: https://developer.allegro.pl/documentation#operation/getPublicationTasksUsingGET
        return self._command_tasks("offer-publication-commands", command_id)

    def put_duration_command(
        self, command_id: str, offer_ids: Sequence[str], *, duration: str | None
    ) -> schemas.CommandReport:
        """Set the duration of up to 1 000 offers; None = until sold out."""
        # Reference: https://developer.allegro.pl/documentation#operation/modificationCommandUsingPUT
        # api-notes §5.3: duration or durationUnlimited: true, never both. An
        # ENDED Buy Now offer takes any duration, an ended auction none.
        publication: dict[str, Any] = (
            {"duration": duration} if duration else {"durationUnlimited": True}
        )
        body = {
            "modification": {"publication": publication},
            "offerCriteria": _offer_criteria(offer_ids),
        }
        return self._put_command(
            "offer-modification-commands", command_id, body, offer_ids
        )

    def get_modification_command(self, command_id: str) -> schemas.CommandReport:
        """A modification (duration) command's summary."""
        # Reference: https://developer.allegro.pl/documentation#operation/getGeneralReportUsingGET
        return self._command_report("offer-modification-commands", command_id)

    def get_modification_command_tasks(
        self, command_id: str
    ) -> list[schemas.CommandTask]:
        """Every offer's outcome of a modification (duration) command."""
        # Reference: https://developer.allegro.pl/documentation#operation/getTasksUsingGET
        return self._command_tasks("offer-modification-commands", command_id)

    def _put_command(
        self, kind: str, command_id: str, body: dict[str, Any], offer_ids: Sequence[str]
    ) -> schemas.CommandReport:
        path = f"/sale/{kind}/{command_id}"
        try:
            return parse(schemas.CommandReport, self._send("PUT", path, body=body))
        except PermanentError as exc:
            if exc.status != 409:
                raise
            # A command id is used once (api-notes §6) and ours is fixed per
            # logical command and reused on every retry, so 409 means an earlier
            # attempt of this same command reached Allegro and only its answer
            # was lost (timeout, crash). Read that command back instead of
            # failing; if its offers are not the ones we sent, the id was reused
            # for a different command — a bug we must not hide.
            report = self._command_report(kind, command_id)
            seen = {task.offer_id for task in self._command_tasks(kind, command_id)}
            if seen - {str(offer_id) for offer_id in offer_ids}:
                raise PermanentError(
                    f"command id {command_id} was already used for other offers",
                    status=409,
                    trace_id=exc.trace_id,
                    errors=exc.errors,
                ) from None
            log.info(
                "Command %s already accepted by Allegro; reading it back", command_id
            )
            return report

    def _command_report(self, kind: str, command_id: str) -> schemas.CommandReport:
        return self._get(schemas.CommandReport, f"/sale/{kind}/{command_id}")

    def _command_tasks(self, kind: str, command_id: str) -> list[schemas.CommandTask]:
        # offset is capped at 999 (api-notes §6); a command has at most 1 000 tasks.
        tasks: list[schemas.CommandTask] = []
        while True:
            page = self._get(
                schemas.TaskReport,
                f"/sale/{kind}/{command_id}/tasks",
                {"limit": 1000, "offset": len(tasks)},
            )
            tasks.extend(page.tasks)
            if len(page.tasks) < 1000 or len(tasks) > 999:
                return tasks

    # ---------------------------------------------------------------- orders

    def order_events(
        self,
        *,
        from_event: str | None = None,
        limit: int = 1000,
        types: Sequence[str] | None = None,
    ) -> list[schemas.OrderEvent]:
        """Order events after ``from_event``, oldest first (last 60 days)."""
        # Reference: https://developer.allegro.pl/documentation#operation/getOrderEventsUsingGET
        return self._get(
            schemas.OrderEventList,
            "/order/events",
            {
                "from": from_event,
                "limit": limit,
                "type": list(types) if types else None,
            },
        ).events

    def iter_order_events(
        self, from_event: str | None = None
    ) -> Iterator[schemas.OrderEvent]:
        """Every event after ``from_event``, 1 000 per request, streamed."""
        return pagination.iter_order_events(self, from_event)

    def order_event_stats(self) -> schemas.OrderEventStats:
        """The latest event id: where a new cursor starts (api-notes §3.3)."""
        # Reference: https://developer.allegro.pl/documentation#operation/getOrderEventsStatisticsUsingGET
        return self._get(schemas.OrderEventStats, "/order/event-stats")

    def list_checkout_forms(
        self,
        *,
        offset: int = 0,
        limit: int = 100,
        bought_from: datetime | None = None,
        bought_to: datetime | None = None,
        updated_from: datetime | None = None,
        updated_to: datetime | None = None,
        status: str | None = None,
        sort: str | None = None,
    ) -> schemas.CheckoutFormList:
        """One page of orders (limit ≤ 100; offset + limit ≤ 10 000)."""
        # Reference: https://developer.allegro.pl/documentation#operation/getListOfOrdersUsingGET
        if offset + limit > self.checkout_forms_cap:
            raise InvalidRequest(
                f"offset + limit may not pass {self.checkout_forms_cap} for orders"
            )
        return self._get(
            schemas.CheckoutFormList,
            "/order/checkout-forms",
            {
                "offset": offset,
                "limit": limit,
                "status": status,
                "sort": sort,
                "lineItems.boughtAt.gte": iso(bought_from) if bought_from else None,
                "lineItems.boughtAt.lte": (
                    iso(bought_to, round_up=True) if bought_to else None
                ),
                "updatedAt.gte": iso(updated_from) if updated_from else None,
                "updatedAt.lte": iso(updated_to, round_up=True) if updated_to else None,
            },
            lenient=schemas.CheckoutFormList.set_apart,
        )

    def iter_checkout_forms(
        self, bought_from: datetime, bought_to: datetime, **filters: Any
    ) -> Iterator[schemas.CheckoutForm | schemas.UnreadableForm]:
        """Every order bought in [from, to], streamed, in windows under the cap
        (with the id of each form the hub cannot read, to set it aside)."""
        return pagination.iter_checkout_forms(self, bought_from, bought_to, filters)

    def get_checkout_form(self, form_id: str) -> schemas.CheckoutForm:
        """One order, as it is now."""
        # Reference: https://developer.allegro.pl/documentation#operation/getOrdersDetailsUsingGET
        return self._get(schemas.CheckoutForm, f"/order/checkout-forms/{form_id}")

    def set_fulfillment_status(
        self, form_id: str, status: str, *, revision: str | None = None
    ) -> None:
        """Set the seller's status (e.g. PROCESSING, SENT); revision guards races."""
        # Reference: https://developer.allegro.pl/documentation#operation/setOrderFulfillmentUsingPUT
        params = {"checkoutForm.revision": revision} if revision else None
        self._send(
            "PUT",
            f"/order/checkout-forms/{form_id}/fulfillment",
            params=params,
            body={"status": status},
            headers=ONLY_EN_US,
        )

    def list_shipments(self, form_id: str) -> list[schemas.Shipment]:
        """Tracking numbers already on an order (from any source)."""
        # Reference: https://developer.allegro.pl/documentation#operation/getOrderShipmentsUsingGET
        path = f"/order/checkout-forms/{form_id}/shipments"
        return self._get(schemas.ShipmentList, path).shipments

    def create_shipment(
        self,
        form_id: str,
        *,
        carrier_id: str,
        waybill: str,
        carrier_name: str | None = None,
        line_item_ids: Sequence[str] | None = None,
    ) -> schemas.Shipment:
        """Add a tracking number; no line items = the whole order (api-notes §4.1)."""
        # Reference: https://developer.allegro.pl/documentation#operation/createOrderShipmentsUsingPOST
        waybill = waybill.strip()
        if not waybill or len(waybill) > 64:
            raise InvalidRequest(_("a tracking number must have 1 to 64 characters"))
        body: dict[str, Any] = {"carrierId": carrier_id, "waybill": waybill}
        if carrier_name:
            if len(carrier_name) > 30:
                raise InvalidRequest(_("a carrier name may have at most 30 characters"))
            body["carrierName"] = carrier_name
        if line_item_ids:
            body["lineItems"] = [{"id": item_id} for item_id in line_item_ids]
        path = f"/order/checkout-forms/{form_id}/shipments"
        # No idempotency key exists here: retried only when surely not processed;
        # callers check list_shipments for the waybill before sending again.
        response = self._send("POST", path, body=body, idempotent=False)
        return parse(schemas.Shipment, response)


def client_for_channel(
    channel: Channel,
    *,
    transport: httpx.BaseTransport | None = None,
    **options: Any,
) -> AllegroClient:
    """A client for one channel: its tokens, its environment, its Client ID's budget.

    ``options`` go to AllegroClient (e.g. ``sleep``/``jitter`` in tests, ``language``).
    """
    from hub.allegro.auth import ChannelAuth, effective_credentials
    from hub.allegro.limiter import default_limiter

    api_url = channel.urls()[0]
    client_id = effective_credentials(channel)[0]
    options.setdefault("limiter", default_limiter())
    options.setdefault("timeout", settings.ALLEGRO_HTTP_TIMEOUT)
    # Allegro's own words (userMessage of a refusal) in the install's language.
    options.setdefault("language", allegro_language(settings.LANGUAGE_CODE))
    return AllegroClient(
        api_url,
        auth=ChannelAuth(channel, transport=transport),
        transport=transport,
        limiter_key=client_id,
        **options,
    )
