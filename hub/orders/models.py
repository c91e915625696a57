"""Channel-agnostic orders. Filled by a channel's order sync (e.g. hub.allegro),
they promise stock only through hub.catalog.stock.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hub.catalog.models import Location, StockItem
from hub.text.actor import describe
from hub.text.fields import MessageField


class Order(models.Model):
    class Status(models.TextChoices):
        OPEN = "OPEN", _("Open")
        CANCELLED = "CANCELLED", _("Cancelled")
        DISPATCHED = "DISPATCHED", _("Dispatched")

    # Where the order came from: source ("allegro"), the account within the source
    # (the channel's id as text) and the id the source gives it. Plain values, so
    # orders never depends on a channel app.
    source = models.CharField(max_length=32)
    account = models.CharField(max_length=64)
    external_id = models.CharField(max_length=100)
    sub_source = models.CharField(_("sub-source"), max_length=100, blank=True)

    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.OPEN
    )
    paid = models.BooleanField(_("paid"), default=False)
    channel_status = models.CharField(_("channel status"), max_length=32, blank=True)
    fulfillment_status = models.CharField(max_length=32, blank=True)

    buyer_login = models.CharField(max_length=100, blank=True)
    buyer_email = models.CharField(max_length=255, blank=True)
    buyer_name = models.CharField(max_length=255, blank=True)
    buyer_phone = models.CharField(max_length=50, blank=True)
    delivery_method = models.CharField(max_length=255, blank=True)
    delivery_address = models.JSONField(default=dict, blank=True)
    pickup_point = models.JSONField(default=dict, blank=True)
    payment = models.JSONField(default=dict, blank=True)
    invoice_required = models.BooleanField(default=False)
    invoice = models.JSONField(default=dict, blank=True)
    message_to_seller = models.TextField(blank=True)
    total = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    delivery_cost = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    currency = models.CharField(max_length=3, blank=True)
    # What the channel knows besides (Allegro: marketplace.id, delivery.method.id,
    # buyer.id / guest, the seller's note, surcharges = extra payments the buyer
    # made later, fulfillment.shipmentSummary.lineItemsSent).
    marketplace = models.CharField(_("marketplace"), max_length=32, blank=True)
    delivery_method_id = models.CharField(max_length=64, blank=True)
    buyer_id = models.CharField(max_length=64, blank=True)
    buyer_guest = models.BooleanField(default=False)
    note = models.TextField(_("note"), blank=True)
    surcharges = models.JSONField(default=list, blank=True)
    lines_sent = models.CharField(max_length=8, blank=True)  # NONE / SOME / ALL

    # Where the stock for this order is allocated from.
    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, null=True, blank=True
    )
    # Never null: the orders list pages by (bought_at, id) and NULLs sort differently
    # on SQLite and PostgreSQL.
    # No index of its own: order_list (-bought_at, -id) serves every read by
    # bought_at, and each index costs every insert and update.
    bought_at = models.DateTimeField(default=timezone.now)
    # Kept in step with the lines on every write, so "orders with unlinked lines"
    # is an indexed filter, not a join over all lines.
    has_unlinked_lines = models.BooleanField(default=False)
    channel_updated_at = models.DateTimeField(null=True, blank=True)
    revision = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)  # indexed by order_changes

    class Meta:
        ordering = ["-bought_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "account", "external_id"],
                name="one_order_per_source_id",
            )
        ]
        indexes = [
            models.Index(fields=["source", "account", "-bought_at"]),
            # The orders list's pages, alone and under each filter.
            models.Index(fields=["-bought_at", "-id"], name="order_list"),
            models.Index(
                fields=["status", "-bought_at", "-id"], name="order_list_status"
            ),
            models.Index(
                fields=["sub_source", "-bought_at", "-id"], name="order_list_channel"
            ),
            models.Index(
                fields=["has_unlinked_lines", "-bought_at", "-id"],
                name="order_list_unlinked",
            ),
            # The list sorted by total (highest or lowest first).
            models.Index(fields=["-total", "-id"], name="order_list_total"),
            # The API's "changed since" feed.
            models.Index(fields=["updated_at", "id"], name="order_changes"),
        ]

    def __str__(self) -> str:
        return f"{self.sub_source or self.source} {self.external_id}"

    @property
    def surcharges_total(self) -> Decimal:
        """What the buyer paid on top, later (Allegro's surcharges)."""
        return sum(
            (Decimal(str(s.get("paid_amount") or 0)) for s in self.surcharges),
            Decimal(0),
        )


def line_reference(line_id: int) -> str:
    """What an order line's units are promised under (its Allocation's reference)."""
    return f"order-line:{line_id}"


class OrderLine(models.Model):
    class LinkMethod(models.TextChoices):
        NONE = "", _("Not linked")
        LISTING = "LISTING", _("Listing link")
        SKU = "SKU", _("External id = SKU")
        TITLE = "TITLE", _("Title")
        MANUAL = "MANUAL", _("Linked by hand")

    # Indexed by one_line_per_id (order, external_id), which serves every read
    # by order: a second index of its own would only cost every insert.
    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="lines", db_index=False
    )
    external_id = models.CharField(max_length=100)  # the channel's line item id
    offer_id = models.CharField(max_length=64, blank=True)
    title = models.CharField(max_length=255)
    sku = models.CharField(_("external id"), max_length=100, blank=True)
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    # The price before a discount (Allegro: originalPrice), when there was one.
    original_unit_price = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True
    )
    currency = models.CharField(max_length=3, blank=True)
    bought_at = models.DateTimeField(null=True, blank=True)
    stock_item = models.ForeignKey(
        StockItem,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="order_lines",
    )
    link_method = models.CharField(
        max_length=16, choices=LinkMethod.choices, default=LinkMethod.NONE, blank=True
    )
    # Why the line is not linked (no match, ambiguous title, …), shown to the seller
    # in their language (hub.orders.texts).
    unlinked_reason = MessageField()
    # The dispatch that took this line out; null = not dispatched yet.
    dispatch = models.ForeignKey(
        "Dispatch",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="lines",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["order", "external_id"], name="one_line_per_id"
            ),
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="line_quantity_positive"
            ),
        ]

    @property
    def allocation_reference(self) -> str:
        return line_reference(self.pk)

    @property
    def discount(self) -> Decimal:
        """The line's discount in all: (original − price) × quantity, or 0."""
        if self.original_unit_price is None:
            return Decimal(0)
        return max(self.original_unit_price - self.unit_price, Decimal(0)) * (
            self.quantity
        )


class OrderEvent(models.Model):
    """One entry of an order's history: what happened, when, and what caused it.

    Channel-agnostic: source_event is the channel's own reference (e.g. the
    Allegro journal event ids that made us re-read the order), as plain text.
    """

    class Kind(models.TextChoices):
        IMPORTED = "IMPORTED", _("Imported")
        STATUS = "STATUS", _("Channel status changed")
        PAID = "PAID", _("Paid")
        CHANGED = "CHANGED", _("Changed on the channel")
        CANCELLED = "CANCELLED", _("Cancelled")
        LINKED = "LINKED", _("Line linked to stock")
        DISPATCHED = "DISPATCHED", _("Dispatched")
        TRACKING = "TRACKING", _("Tracking number")

    # Indexed by (order, created_at) below, which serves every read by order.
    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="events", db_index=False
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # A code and parameters (hub.orders.history), shown in the reader's language.
    message = MessageField()
    # Who did it: "user:NAME", "token:NAME", "cli", "allegro" (hub.text.actor).
    actor = models.CharField(max_length=100, blank=True)
    # When it happened at the source (e.g. Allegro's occurredAt), else when we saw it.
    occurred_at = models.DateTimeField(default=timezone.now)
    source_event = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["order", "created_at"])]

    @property
    def actor_name(self) -> str:
        return describe(self.actor)


class Dispatch(models.Model):
    """Lines of an order left the warehouse, with the carrier and tracking number.

    Also the outbox record of the tracking number's trip to the channel: stored
    before anything is sent, pushed by the channel's tracking flow, done only
    when the channel confirms it (ARCHITECTURE.md §4 "Tracking").
    """

    class State(models.TextChoices):
        NOT_SENT = "NOT_SENT", _("Nothing to send")
        PENDING = "PENDING", _("Waiting to be sent")
        SENT = "SENT", _("Sent, waiting for the channel's answer")
        ACCEPTED = "ACCEPTED", _("Accepted by the channel")
        REFUSED = "REFUSED", _("Refused by the channel")
        NEEDS_ACTION = "NEEDS_ACTION", _("Needs action")

    # What the tracking flow still has to push.
    OUTBOX_STATES = (State.PENDING, State.SENT)
    # What the seller has to look at.
    ATTENTION_STATES = (State.REFUSED, State.NEEDS_ACTION)

    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="dispatches"
    )
    # The carrier as the seller named it, and the channel's carrier id it maps
    # to ("" = not mapped yet: the channel's carrier list was not known).
    carrier = models.CharField(_("carrier"), max_length=100, blank=True)
    carrier_code = models.CharField(max_length=64, blank=True)
    # The seller allowed sending an unknown carrier as the channel's "other
    # carrier" with this name.
    other_carrier = models.BooleanField(default=False)
    tracking_number = models.CharField(_("tracking number"), max_length=100, blank=True)
    # The seller dispatched unlinked lines, knowingly taking no stock for them.
    without_stock = models.BooleanField(default=False)
    # The seller confirmed dispatching an unpaid (not cash-on-delivery) order.
    confirmed_unpaid = models.BooleanField(default=False)
    dispatched_at = models.DateTimeField(default=timezone.now)

    state = models.CharField(
        max_length=16, choices=State.choices, default=State.NOT_SENT
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    # The channel's id for the shipment once it confirmed it.
    shipment_id = models.CharField(max_length=64, blank=True)
    # The channel's last answer about this dispatch (or why it needs action),
    # shown to the seller in their language (hub.orders.texts, hub.allegro.texts).
    channel_message = MessageField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["dispatched_at", "id"]
        indexes = [
            # The tracking flow's outbox scan, and the "needs action" list.
            models.Index(fields=["state", "next_attempt_at"], name="dispatch_outbox"),
        ]

    @property
    def needs_attention(self) -> bool:
        return self.state in self.ATTENTION_STATES

    @property
    def can_be_corrected(self) -> bool:
        """Carrier and number can change until the channel has accepted them."""
        return not self.shipment_id and self.state != self.State.SENT


class Carrier(models.Model):
    """A carrier a channel accepts for tracking numbers (e.g. Allegro's
    /order/carriers), kept by the channel app; orders read it to map the names
    sellers type to the channel's carrier ids."""

    source = models.CharField(max_length=32)
    account = models.CharField(max_length=64)
    code = models.CharField(max_length=64)
    name = models.CharField(max_length=100)
    # Other names sellers use for it, normalised, separated by "|".
    aliases = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "account", "code"], name="one_carrier_per_code"
            )
        ]

    def __str__(self) -> str:
        return self.name or self.code


class ImportProblem(models.Model):
    """An order the channel offered but the hub could not use (no lines, a
    quantity of 0, a response it could not read, …): set aside so later orders
    still come in, retried on every pass, shown to the seller until it imports.

    Channel-agnostic like Order: (source, account, external_id) name the order.
    """

    source = models.CharField(max_length=32)
    account = models.CharField(max_length=64)
    external_id = models.CharField(max_length=100)
    sub_source = models.CharField(_("sub-source"), max_length=100, blank=True)
    reason = MessageField(_("reason"))
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=1)
    # Not retried before this (a form Allegro kept failing to answer for is retried
    # with growing pauses); null: retried on every pass.
    retry_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["first_seen_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "account", "external_id"],
                name="one_problem_per_order",
            )
        ]

    def __str__(self) -> str:
        return f"{self.sub_source or self.source} {self.external_id}: {self.reason}"
