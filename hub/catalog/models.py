"""Stock: where things are (Location), what they are (StockItem), how many
(StockLevel) and how many are promised (Allocation).

The available-quantity rule lives in catalog/stock.py, nowhere else.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


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
            )
        ]

    def __str__(self) -> str:
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

    def __str__(self) -> str:
        return f"{self.sku} — {self.title}"


class StockLevel(models.Model):
    item = models.ForeignKey(StockItem, on_delete=models.CASCADE, related_name="levels")
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
    # Unique: allocating the same reference twice changes nothing.
    reference = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="allocation_positive"
            ),
        ]
