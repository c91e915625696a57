"""Stock: where things are (Location), what they are (StockItem), how many
(StockLevel) and how many are promised (Allocation).

The available-quantity rule lives in catalog/stock.py, nowhere else.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from hub.text.actor import describe
from hub.text.fields import MessageField


class Location(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    is_default = models.BooleanField(_("default location"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-is_default", "name"]
        constraints = [
            # At most one default location.
            models.UniqueConstraint(
                fields=["is_default"],
                condition=Q(is_default=True),
                name="one_default_location",
            ),
            # "Shelf A" and "shelf a" are one place. Lower() folds ASCII on SQLite,
            # every letter on PostgreSQL.
            models.UniqueConstraint(
                Lower("name"),
                name="location_name_unique_any_case",
                violation_error_message=_("A location with this name exists already."),
            ),
        ]

    def __str__(self) -> str:
        # The default location keeps its stored name ("Default", what CSV files
        # and the CLI use) but is shown in the reader's language.
        if self.is_default and self.name == "Default":
            return str(pgettext_lazy("location", "Default"))
        return self.name


class StockItem(models.Model):
    # 100 characters: Allegro's external.id (the seller's "signature") is at most 100.
    sku = models.CharField(_("SKU"), max_length=100, unique=True)
    title = models.CharField(_("title"), max_length=255)
    ean = models.CharField(_("EAN"), max_length=14, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sku"]
        constraints = [
            # Sellers type SKUs both ways: "demo-001" is DEMO-001. (The plain
            # unique on sku stays: the CSV import's upsert conflicts on it.)
            models.UniqueConstraint(
                Lower("sku"),
                name="sku_unique_any_case",
                violation_error_message=_(
                    "A stock item with this SKU exists already (in any case)."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sku} — {self.title}"


class StockLevel(models.Model):
    # Indexed by one_level_per_location (item, location).
    item = models.ForeignKey(
        StockItem, on_delete=models.CASCADE, related_name="levels", db_index=False
    )
    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, related_name="levels"
    )
    on_hand = models.PositiveIntegerField(_("on hand"), default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["item", "location"], name="one_level_per_location"
            ),
            models.CheckConstraint(
                condition=Q(on_hand__gte=0), name="on_hand_not_negative"
            ),
        ]


class Allocation(models.Model):
    """Stock promised to someone (e.g. an order line), keyed by an opaque reference."""

    item = models.ForeignKey(
        StockItem, on_delete=models.PROTECT, related_name="allocations"
    )
    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, related_name="allocations"
    )
    quantity = models.PositiveIntegerField()
    # Unique (one_allocation_per_reference): allocating the same reference twice
    # changes nothing. A constraint rather than unique=True, which on PostgreSQL
    # adds a second (LIKE) index no query uses, costing every order line.
    reference = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="allocation_positive"
            ),
            models.UniqueConstraint(
                fields=["reference"], name="one_allocation_per_reference"
            ),
        ]


class StockChange(models.Model):
    """One change of an item's stock at a location: the item's stock history.

    Written by hub.catalog.stock in the same transaction as the change, so other
    apps (the channel's inventory push, the item page) learn that an item changed
    without catalog knowing about them. ``on_hand_before``/``on_hand_after`` are None
    when only the allocation moved; None before means the level did not exist.
    """

    # Indexed by stock_change_item_time (item, created_at).
    item = models.ForeignKey(
        StockItem, on_delete=models.CASCADE, related_name="stock_changes",
        db_index=False,
    )  # fmt: skip
    location = models.ForeignKey(
        Location, on_delete=models.CASCADE, related_name="stock_changes"
    )
    on_hand_before = models.IntegerField(null=True, blank=True)
    on_hand_after = models.IntegerField(null=True, blank=True)
    # Units promised (+) or no longer promised (−) by this change.
    allocated_delta = models.IntegerField(default=0)
    # Why (a hub.text message: "CSV import", "Order 1234…"), shown in the
    # reader's language, and who: "user:alice", "token:ERP", "cli" (hub.text.actor).
    reason = MessageField()
    actor = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["item", "created_at"], name="stock_change_item_time"),
            models.Index(fields=["created_at"], name="stock_change_time"),
        ]

    @property
    def actor_name(self) -> str:
        return describe(self.actor)

    def __str__(self) -> str:
        change = f"{self.on_hand_before}→{self.on_hand_after}"
        return (
            f"{self.item_id}@{self.location_id}: {change} ({self.allocated_delta:+d})"
        )
