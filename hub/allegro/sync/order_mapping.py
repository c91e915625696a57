"""An Allegro checkout form → the hub's Order and OrderLine fields. Pure: no I/O.

Shapes follow api-notes §3.2 (SPEC ``CheckoutForm``); the schema already turned
Allegro's camelCase into attributes.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hub.allegro import schemas, texts
from hub.orders.importing import IncomingLine, IncomingOrder
from hub.text.message import Message

# Allegro's checkout-form status (api-notes §3.2). CANCELLED is final.
CANCELLED = "CANCELLED"


class UnusableForm(ValueError):
    """A checkout form we cannot turn into an order; nothing is imported."""

    def __init__(self, reason: Message) -> None:
        super().__init__(str(reason))
        self.reason = reason  # stored on the import problem, shown translated


def map_checkout_form(
    form: schemas.CheckoutForm, sub_source: str, default_currency: str
) -> IncomingOrder:
    if not form.line_items:
        raise UnusableForm(Message(texts.FORM_NO_LINES, id=form.id))
    currency = _currency(form) or default_currency
    lines = [_line(item, currency) for item in form.line_items]
    delivery = form.delivery or schemas.Delivery()
    payment = form.payment
    delivery_cost = delivery.cost.amount if delivery.cost else Decimal(0)
    if form.total_to_pay is not None:
        total = form.total_to_pay.amount
    else:
        total = sum((li.unit_price * li.quantity for li in lines), delivery_cost)
    bought = [li.bought_at for li in form.line_items if li.bought_at is not None]
    fields: dict[str, Any] = {
        "sub_source": sub_source,
        "channel_status": form.status,
        "fulfillment_status": (form.fulfillment.status or "")
        if form.fulfillment
        else "",
        # Paid = the payment finished (a cash-on-delivery order is ready to ship
        # but not paid until the courier collects).
        "paid": bool(payment and payment.finished_at),
        "buyer_login": form.buyer.login,
        "buyer_email": form.buyer.email,
        "buyer_name": _buyer_name(form.buyer),
        "buyer_phone": form.buyer.phone_number or "",
        "delivery_method": (delivery.method.name or "") if delivery.method else "",
        "delivery_address": _plain(delivery.address),
        "pickup_point": _plain(delivery.pickup_point),
        "payment": _payment(payment),
        "invoice_required": bool(form.invoice and form.invoice.required),
        "invoice": _plain(form.invoice.address) if form.invoice else {},
        "message_to_seller": form.message_to_seller or "",
        "total": total,
        "delivery_cost": delivery_cost,
        "currency": currency,
        "channel_updated_at": form.updated_at,
        "revision": form.revision or "",
        "marketplace": form.marketplace_id or "",
        "delivery_method_id": (delivery.method.id or "") if delivery.method else "",
        "buyer_id": form.buyer.id,
        "buyer_guest": form.buyer.guest,
        "note": form.note or "",
        "surcharges": [_payment(surcharge) for surcharge in form.surcharges],
        "lines_sent": lines_sent(form.fulfillment),
    }
    if bought:
        fields["bought_at"] = min(bought)
    return IncomingOrder(
        external_id=form.id,
        cancelled=form.status == CANCELLED,
        fields=fields,
        lines=lines,
        occurred_at=form.updated_at,
    )


def _currency(form: schemas.CheckoutForm) -> str:
    if form.total_to_pay is not None:
        return form.total_to_pay.currency
    for item in form.line_items:
        return item.price.currency
    return ""


def _line(item: schemas.LineItem, currency: str) -> IncomingLine:
    if item.quantity <= 0:
        raise UnusableForm(Message(texts.LINE_QUANTITY, id=item.id, qty=item.quantity))
    return IncomingLine(
        external_id=item.id,
        offer_id=item.offer.id,
        title=item.offer.name[:255],
        sku=(item.offer.external_id or "")[:100],
        quantity=item.quantity,
        unit_price=item.price.amount,
        currency=item.price.currency or currency,
        original_unit_price=(
            item.original_price.amount if item.original_price is not None else None
        ),
        bought_at=item.bought_at,
    )


def lines_sent(fulfillment: schemas.Fulfillment | None) -> str:
    summary = fulfillment.shipment_summary if fulfillment else None
    return (summary.line_items_sent or "") if summary else ""


def _buyer_name(buyer: schemas.Buyer) -> str:
    person = " ".join(p for p in (buyer.first_name, buyer.last_name) if p)
    if buyer.company_name:
        return f"{buyer.company_name} ({person})" if person else buyer.company_name
    return person or buyer.login


def _payment(payment: schemas.Payment | None) -> dict[str, Any]:
    if payment is None:
        return {}
    result: dict[str, Any] = {
        "id": payment.id,
        "type": payment.type or "",
        "provider": payment.provider or "",
        "finished_at": payment.finished_at.isoformat() if payment.finished_at else None,
    }
    if payment.paid_amount is not None:
        result["paid_amount"] = str(payment.paid_amount.amount)
        result["paid_currency"] = payment.paid_amount.currency
    return result


def _plain(value: schemas.Schema | None) -> dict[str, Any]:
    """A nested schema as a JSON-ready dict of the fields Allegro filled in."""
    if value is None:
        return {}
    return value.model_dump(mode="json", exclude_none=True)
