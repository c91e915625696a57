"""The Allegro channel: one Allegro account, its options, tokens and sync state."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hub import crypto
from hub.catalog.models import Location, StockItem
from hub.text.fields import MessageField

# Hosts from ../shared/allegro/api-notes.md §1.
ENVIRONMENT_URLS = {
    "production": ("https://api.allegro.pl", "https://allegro.pl"),
    "sandbox": (
        "https://api.allegro.pl.allegrosandbox.pl",
        "https://allegro.pl.allegrosandbox.pl",
    ),
}


class Channel(models.Model):
    class Environment(models.TextChoices):
        PRODUCTION = "production", _("Production (allegro.pl)")
        SANDBOX = "sandbox", _("Sandbox (allegrosandbox.pl)")
        CUSTOM = "custom", _("Custom URLs (e.g. the built-in emulator)")

    # The seed's SubSource: the name shown on this channel's orders.
    name = models.CharField(_("SubSource"), max_length=100, unique=True)
    environment = models.CharField(
        _("environment"),
        max_length=16,
        choices=Environment.choices,
        default=Environment.PRODUCTION,
    )
    api_url = models.URLField(_("API URL"), blank=True)
    auth_url = models.URLField(_("authorization URL"), blank=True)
    # Empty client id = the install-wide ALLEGRO_CLIENT_ID / ALLEGRO_CLIENT_SECRET.
    client_id = models.CharField(_("Client ID"), max_length=200, blank=True)
    client_secret_encrypted = models.TextField(blank=True)

    # Tokens, encrypted at rest. token_version moves on every refresh: the
    # compare-and-swap that makes a refresh single-flight across processes.
    access_token_encrypted = models.TextField(blank=True)
    refresh_token_encrypted = models.TextField(blank=True)
    access_token_expires_at = models.DateTimeField(null=True, blank=True)
    refresh_token_obtained_at = models.DateTimeField(null=True, blank=True)
    token_version = models.PositiveIntegerField(default=0)
    refresh_lease_until = models.DateTimeField(null=True, blank=True)

    # The connected account, as Allegro reports it.
    account_id = models.CharField(max_length=64, blank=True)
    account_login = models.CharField(_("account login"), max_length=100, blank=True)
    marketplace_id = models.CharField(_("marketplace"), max_length=32, blank=True)
    default_currency = models.CharField(_("Default Currency"), max_length=3, blank=True)

    # The seed's options (../shared/design/ARCHITECTURE.md §5).
    enabled = models.BooleanField(_("Enabled"), default=True)
    inventory_sync = models.BooleanField(_("Inventory Sync"), default=False)
    # None = sum of all locations. PROTECT: deleting the location must not quietly
    # switch this channel to the sum of all locations (an oversell).
    inventory_location = models.ForeignKey(
        Location,
        verbose_name=_("Inventory Update From Location"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # Where this channel's orders allocate stock; None = the default location.
    fulfilment_location = models.ForeignKey(
        Location,
        verbose_name=_("fulfilment location"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    submit_tracking = models.BooleanField(_("Submit Tracking Info"), default=False)
    # After Allegro accepts a tracking number of a fully dispatched order, set its
    # fulfilment status to this (e.g. SENT); empty = leave it alone.
    tracking_status = models.CharField(
        _("Order Status After Tracking"), max_length=32, blank=True
    )
    sync_orders_from = models.DateTimeField(
        _("Sync Orders From"), null=True, blank=True
    )
    relist_items = models.BooleanField(_("Relist Items"), default=False)
    end_listings = models.BooleanField(_("End Listings"), default=False)
    no_manual_confirmation = models.BooleanField(
        _("No Manual Confirmation"), default=False
    )
    # ISO 8601 (e.g. "P10D"); empty = until sold out (Allegro's null duration).
    relist_duration = models.CharField(
        _("Relist Listing Duration"), max_length=8, blank=True
    )
    # Auctions cannot run "until sold out" nor 20/30 days (api-notes §5.3), so a
    # relisted auction has its own duration; empty = the ended auction's duration.
    relist_auction_duration = models.CharField(
        _("Relist Auction Duration"), max_length=8, blank=True
    )
    relist_delay_minutes = models.PositiveIntegerField(
        _("Relist Listing Delay"), default=0
    )
    end_auctions = models.BooleanField(_("End Auctions"), default=False)
    end_auctions_with_bids = models.BooleanField(
        _("End Auctions With Bids"), default=False
    )
    link_by_title = models.BooleanField(
        _("Link Order Item To Stock Item By Title"), default=False
    )

    # Health, shown on the channel list.
    needs_reconnect = models.BooleanField(default=False)
    last_error = MessageField()  # hub.text.message: shown in the reader's language
    last_error_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        # Staff may always; give this to a user who should without being staff.
        permissions = [
            ("manage_channels", "Can add, edit, connect and delete channels"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_auctions_with_bids=False) | Q(end_auctions=True),
                name="bids_need_end_auctions",
            ),
            # One Allegro account in two channels would import every order twice.
            models.UniqueConstraint(
                fields=["environment", "api_url", "account_id"],
                condition=~Q(account_id=""),
                name="one_channel_per_account",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def client_secret(self) -> str:
        return crypto.decrypt(self.client_secret_encrypted)

    @client_secret.setter
    def client_secret(self, value: str) -> None:
        self.client_secret_encrypted = crypto.encrypt(value)

    @property
    def access_token(self) -> str:
        return crypto.decrypt(self.access_token_encrypted)

    @property
    def refresh_token(self) -> str:
        return crypto.decrypt(self.refresh_token_encrypted)

    @property
    def is_connected(self) -> bool:
        return bool(self.refresh_token_encrypted)

    @property
    def failing(self) -> bool:
        """Some flow's last run failed: the channel's own error or a stream's
        (prefetch ``cursors`` for a list of channels)."""
        return bool(self.last_error) or any(c.last_error for c in self.cursors.all())

    def urls(self) -> tuple[str, str]:
        """(REST API base URL, OAuth base URL) for this channel's environment."""
        if self.environment == self.Environment.CUSTOM:
            return self.api_url.rstrip("/"), (self.auth_url or self.api_url).rstrip("/")
        return ENVIRONMENT_URLS[self.environment]


# What the channel list calls each stream; a stream not named here shows as is.
STREAM_LABELS = {
    "order_events": _("Orders"),
    "order_backfill": _("Older orders"),
    "order_covered_from": _("Orders imported from"),
    "offer_events": _("Listings"),
    "offer_reconcile": _("Listings (full check)"),
    "stock_changes": _("Stock to Allegro"),
    "carriers": _("Carrier list"),
}


class SyncCursor(models.Model):
    """Where a channel's stream (e.g. order events) got to, and how it last went.

    value moves in the same transaction as the rows it covers, never before.
    """

    channel = models.ForeignKey(
        Channel, on_delete=models.CASCADE, related_name="cursors"
    )
    stream = models.CharField(max_length=32)
    value = models.CharField(max_length=256, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = MessageField()  # hub.text.message: shown in the reader's language
    last_error_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "stream"], name="one_cursor_per_stream"
            )
        ]

    @property
    def label(self) -> str:
        return str(STREAM_LABELS.get(self.stream, self.stream))


class Listing(models.Model):
    """An Allegro offer of a channel, as last known, and its link to stock."""

    class Format(models.TextChoices):
        BUY_NOW = "BUY_NOW", _("Buy now")
        AUCTION = "AUCTION", _("Auction")
        ADVERTISEMENT = "ADVERTISEMENT", _("Advertisement")

    class LinkMethod(models.TextChoices):
        NONE = "", _("not linked")
        AUTO = "AUTO", _("external id = SKU")
        # Linked or unlinked by hand: the automatic link never overrides it.
        MANUAL = "MANUAL", _("by hand")

    class PushState(models.TextChoices):
        NONE = "", _("never pushed")
        PENDING = "PENDING", _("waiting for Allegro")
        DONE = "DONE", _("confirmed")
        FAILED = "FAILED", _("failed")

    channel = models.ForeignKey(
        Channel, on_delete=models.CASCADE, related_name="listings"
    )
    offer_id = models.CharField(max_length=64)
    title = models.CharField(max_length=255, blank=True)
    external_id = models.CharField(max_length=100, blank=True, db_index=True)
    format = models.CharField(
        max_length=16, choices=Format.choices, default=Format.BUY_NOW
    )
    # INACTIVE/ACTIVE/ACTIVATING/ENDED as Allegro says, or ARCHIVED once Allegro
    # no longer lists the offer (archived 60 days after ending, api-notes §7).
    status = models.CharField(max_length=16, blank=True)
    marketplace_id = models.CharField(max_length=32, blank=True)
    stock_item = models.ForeignKey(
        StockItem,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="listings",
    )
    link_method = models.CharField(
        max_length=8, choices=LinkMethod.choices, blank=True, default=""
    )
    # What we believe Allegro shows as stock.available for this offer.
    known_quantity = models.IntegerField(null=True, blank=True)
    # When Allegro's quantity last went down without a push of ours (a sale, or a
    # hand edit): no push raises it again before the orders flow has caught up.
    quantity_dropped_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.CharField(max_length=32, blank=True)
    bidders = models.PositiveIntegerField(default=0)

    # Inventory push: the hub's target (available of the linked item) as last
    # computed, and how the last push went.
    target = models.IntegerField(null=True, blank=True)
    push_state = models.CharField(
        max_length=8, choices=PushState.choices, blank=True, default=""
    )
    push_command = models.ForeignKey(
        "RemoteCommand",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    push_value = models.IntegerField(null=True, blank=True)
    push_message = MessageField()  # hub.text.message, shown in the reader's language
    pushed_at = models.DateTimeField(null=True, blank=True)

    # Lifecycle (ARCHITECTURE.md §4): ended at zero stock by the hub, or sold out
    # on Allegro (endedBy EMPTY_STOCK), and waiting for stock to come back within
    # 60 days of the end. Struck off = never relisted automatically.
    relist_pending_since = models.DateTimeField(null=True, blank=True)
    relist_struck_off = models.BooleanField(default=False)
    # An ended auction is relisted as a new offer (api-notes §7): the new
    # listing points at the one it was listed from and inherits its stock link.
    relisted_from = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="relisted_as",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "offer_id"], name="one_listing_per_offer"
            )
        ]
        indexes = [
            models.Index(fields=["channel", "stock_item"], name="listing_channel_item"),
            models.Index(fields=["channel", "title", "id"], name="listing_title_page"),
        ]

    def __str__(self) -> str:
        return f"{self.offer_id} {self.title}"

    @property
    def out_of_stock_live(self) -> bool:
        """Nothing left to sell, yet the offer still sells: the lifecycle ends it."""
        return (
            self.stock_item_id is not None
            and self.target is not None
            and self.target < 1
            and self.status in ("ACTIVE", "ACTIVATING")
        )


class RemoteCommand(models.Model):
    """The outbox: one write to Allegro (a batch command), stored before it is sent.

    command_id is fixed at creation and sent on every retry, so Allegro applies
    the command once whatever crashes (a reused id answers 409, and the client
    reads that command back: api-notes §6). Done only when Allegro's task report
    accounts for every offer; ``results`` holds each offer's outcome.
    """

    class Kind(models.TextChoices):
        QUANTITY = "quantity", _("quantity change")
        PUBLICATION = "publication", _("publication change")
        MODIFICATION = "modification", _("duration change")
        # The lifecycle's own quantity commands (before a relist): a kind of their
        # own, so the inventory push never reads or resends them as its own.
        RELIST_QUANTITY = "relist_quantity", _("quantity change before a relist")

    class State(models.TextChoices):
        NEW = "NEW", _("stored, not yet accepted")
        SENT = "SENT", _("accepted, waiting for the report")
        DONE = "DONE", _("report read")
        FAILED = "FAILED", _("refused")

    channel = models.ForeignKey(
        Channel, on_delete=models.CASCADE, related_name="commands"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    command_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # What the command does, e.g. {"changeType": "FIXED", "value": 5} or
    # {"action": "END"}; the offers it applies to are in offer_ids.
    payload = models.JSONField(default=dict)
    offer_ids = models.JSONField(default=list)
    state = models.CharField(max_length=8, choices=State.choices, default=State.NEW)
    attempts = models.PositiveIntegerField(default=0)
    last_error = MessageField()  # hub.text.message
    # offer id → {"status": "SUCCESS"|"FAIL", "message": "..."}
    results = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["channel", "state"], name="command_channel_state")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.command_id} ({self.state})"


class ListingEvent(models.Model):
    """One entry of a listing's timeline, kept long after Allegro's 24 h journal."""

    class Kind(models.TextChoices):
        IMPORTED = "IMPORTED", _("Imported")
        CHANGED = "CHANGED", _("Changed on Allegro")
        LINKED = "LINKED", _("Linked")
        UNLINKED = "UNLINKED", _("Unlinked")
        DECIDED = "DECIDED", _("Push decided")
        SENT = "SENT", _("Sent")
        CONFIRMED = "CONFIRMED", _("Confirmed by Allegro")
        FAILED = "FAILED", _("Refused by Allegro")
        OUT_OF_STOCK = "OUT_OF_STOCK", _("Out of stock but live")
        PLANNED = "PLANNED", _("Planned")
        APPROVED = "APPROVED", _("Approved")
        REJECTED = "REJECTED", _("Rejected")
        WITHDRAWN = "WITHDRAWN", _("Plan withdrawn")
        PENDING_RELIST = "PENDING_RELIST", _("Pending relist")
        LEFT_PENDING = "LEFT_PENDING", _("Left pending relist")
        STRUCK_OFF = "STRUCK_OFF", _("Struck off")
        RESTORED = "RESTORED", _("Restored")
        RELISTED = "RELISTED", _("Relisted")

    listing = models.ForeignKey(
        Listing, on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    message = MessageField()  # hub.text.message, shown in the reader's language
    command = models.ForeignKey(
        RemoteCommand,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["listing", "created_at"], name="listing_event_time")
        ]


class PendingAction(models.Model):
    """A planned end or relist: waits for confirmation (unless No Manual
    Confirmation), then is carried out step by step through the outbox."""

    class Kind(models.TextChoices):
        END = "END", _("End")
        RELIST = "RELIST", _("Relist")
        RELIST_NEW = "RELIST_NEW", _("Relist as a new offer")

    class State(models.TextChoices):
        WAITING = "WAITING", _("waiting for confirmation")
        APPROVED = "APPROVED", _("approved")
        RUNNING = "RUNNING", _("sent to Allegro")
        DONE = "DONE", _("done")
        FAILED = "FAILED", _("refused by Allegro")
        REJECTED = "REJECTED", _("rejected")
        WITHDRAWN = "WITHDRAWN", _("withdrawn")

    class Step(models.TextChoices):
        NONE = "", _("not started")
        END = "END", _("ending")
        QUANTITY = "QUANTITY", _("setting the quantity")
        DURATION = "DURATION", _("setting the duration")
        ACTIVATE = "ACTIVATE", _("activating")
        CREATE = "CREATE", _("creating the new offer")

    OPEN_STATES = (State.WAITING, State.APPROVED, State.RUNNING)

    channel = models.ForeignKey(
        Channel, on_delete=models.CASCADE, related_name="pending_actions"
    )
    listing = models.ForeignKey(
        Listing, on_delete=models.CASCADE, related_name="actions"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    state = models.CharField(
        max_length=16, choices=State.choices, default=State.WAITING
    )
    # lifecycle_plan's reason code and the numbers its text shows.
    reason = models.CharField(max_length=32)
    details = models.JSONField(default=dict, blank=True)
    quantity = models.IntegerField(null=True, blank=True)
    duration = models.CharField(max_length=8, blank=True)  # "" = unlimited/same
    step = models.CharField(max_length=16, choices=Step.choices, blank=True)
    command = models.ForeignKey(
        RemoteCommand,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    attempted_at = models.DateTimeField(null=True, blank=True)
    new_offer_id = models.CharField(max_length=64, blank=True)
    message = MessageField()  # hub.text.message: why it failed or was withdrawn
    # A rejected (or refused) plan is not proposed again while it holds; once it stops
    # holding (stock came back, the listing changed) a new one may be.
    lapsed = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # At most one plan in the works per listing: never two ENDs.
            models.UniqueConstraint(
                fields=["listing"],
                condition=Q(state__in=["WAITING", "APPROVED", "RUNNING"]),
                name="one_open_action_per_listing",
            )
        ]
        indexes = [
            models.Index(fields=["channel", "state"], name="action_channel_state")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.listing_id} ({self.state})"

    def reason_text(self) -> str:
        from hub.allegro.sync.lifecycle_plan import Plan, describe

        return describe(Plan(self.kind, self.reason, self.details))


class FormReadFailure(models.Model):
    """A checkout form Allegro failed to answer for (5xx, timeout) on consecutive
    passes. After a few in a row the form is set aside (an import problem) so the
    rest of the channel's orders come in; a good read ends the row."""

    channel = models.ForeignKey(
        Channel, on_delete=models.CASCADE, related_name="form_failures"
    )
    form_id = models.CharField(max_length=100)
    failures = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "form_id"], name="one_failure_row_per_form"
            )
        ]
