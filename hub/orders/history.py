"""Writing an order's history: one call, a code and its parameters.

    from hub.orders import texts
    from hub.orders.history import history
    history(order, OrderEvent.Kind.PAID, texts.PAID, actor=actor.ALLEGRO)
    history(order, OrderEvent.Kind.DISPATCHED, texts.DISPATCHED_TRACKED,
            actor=actor.of_request(request), carrier="DPD", number="123")

``message`` is a code (with its parameters as keywords) or a ready Message.
The line is stored as a code (hub.orders.texts, or any app's texts.py) plus
parameters and shown in the reader's language; ``actor`` says who did it
(hub.text.actor). See hub.text.message for codes and parameters.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from hub.orders.models import Order, OrderEvent
from hub.text.message import Message


def history(
    order: Order, kind: str, message: str | Message, **options: Any
) -> OrderEvent:
    """Record one line of the order's history (options: actor, occurred_at,
    source_event, and the message's parameters when ``message`` is a code)."""
    entry = history_entry(order, kind, message, **options)
    entry.save()
    return entry


def history_entry(
    order: Order,
    kind: str,
    message: str | Message,
    *,
    actor: str = "",
    occurred_at: datetime | None = None,
    source_event: str = "",
    **params: Any,
) -> OrderEvent:
    """The same line, not saved yet (to save many at once: bulk_create)."""
    return OrderEvent(
        order=order,
        kind=kind,
        message=message if isinstance(message, Message) else Message(message, **params),
        actor=actor[:100],
        occurred_at=occurred_at or timezone.now(),
        source_event=source_event[:255],
    )
