"""The Allegro channel config screen (the seed's "Integration" screen)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from hub.allegro import options, texts
from hub.allegro.models import Channel
from hub.text.message import Message

CONNECTION_FIELDS = ("environment", "api_url", "auth_url", "client_id")
# Where the Client Secret and tokens are sent: a change drops them.
SERVER_FIELDS = ("environment", "api_url", "auth_url")


class ChannelForm(forms.ModelForm):
    # Write-only: the stored secret is never rendered back; blank keeps it.
    client_secret = forms.CharField(
        label=_("Client Secret"),
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_("Leave empty to keep the stored secret."),
    )

    api_url = forms.URLField(
        label=_("API URL"),
        required=False,
        assume_scheme="https",
        help_text=_("Only for custom URLs, e.g. http://127.0.0.1:8765."),
    )
    auth_url = forms.URLField(
        label=_("Authorization URL"),
        required=False,
        assume_scheme="https",
        help_text=_("Only for custom URLs; empty = same as the API URL."),
    )

    class Meta:
        model = Channel
        fields = ["name", "environment", "api_url", "auth_url", "client_id"]
        fields += options.OPTION_NAMES
        help_texts = {
            "name": _(
                "The SubSource: the name this channel's orders show, e.g. "
                "MyAllegroChannel."
            ),
            "client_id": _(
                "From your application at apps.developer.allegro.pl. Leave empty to "
                "use the install-wide ALLEGRO_CLIENT_ID."
            ),
        }

    # Set by clean(): the form points the channel at another server
    # (SERVER_FIELDS), so the stored secret must not follow it there.
    server_changed = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for option in options.OPTIONS:
            self.fields[option.name] = options.form_field(option)
        # Built per screen: named in the reader's language, and a code stored
        # before the list existed stays selectable.
        currency = self.fields["default_currency"]
        assert isinstance(currency, forms.ChoiceField)
        currency.choices = options.currency_choices(self.instance.default_currency)
        if not self.instance.client_secret_encrypted:
            # Nothing stored yet, so "leave empty to keep it" would only confuse.
            self.fields["client_secret"].help_text = _(
                "From your application at apps.developer.allegro.pl. Once saved, it "
                "is never shown again."
            )
        # The seed: "Set by Linnworks" — now, unless the seller moves it back.
        # A datetime, not text: Save compares it with what comes back to tell
        # whether the seller changed anything.
        start = self.instance.sync_orders_from or timezone.now()
        self.initial["sync_orders_from"] = timezone.localtime(start).replace(
            second=0, microsecond=0
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for option in options.OPTIONS:
            if option.name not in data:
                continue  # the field's own check already failed
            try:
                data[option.name] = options.check_value(
                    option, data[option.name], getattr(self.instance, option.name)
                )
            except ValidationError as exc:
                self.add_error(option.name, exc)
        for name, message in options.combination_errors(data).items():
            if name in data:
                self.add_error(name, message)
        self._check_connection(data)
        return data

    def _check_connection(self, data: dict[str, Any]) -> None:
        if data.get("environment") == Channel.Environment.CUSTOM:
            if not data.get("api_url"):
                self.add_error(
                    "api_url", gettext("Custom URLs need the API URL of the server.")
                )
        else:
            data["api_url"] = data["auth_url"] = ""
        client_id = data.get("client_id", "")
        secret = data.get("client_secret", "")
        self.server_changed = self.instance.pk is not None and any(
            (data.get(name) or "") != (getattr(self.instance, name) or "")
            for name in SERVER_FIELDS
        )
        if not client_id:
            if secret:
                self.add_error(
                    "client_id", gettext("Enter the Client ID this secret belongs to.")
                )
            elif not settings.ALLEGRO_CLIENT_ID:
                self.add_error(
                    "client_id",
                    gettext(
                        "Enter the Client ID of your Allegro application (no "
                        "install-wide ALLEGRO_CLIENT_ID is set)."
                    ),
                )
        elif not secret and (
            not self.instance.client_secret_encrypted
            or client_id != self.instance.client_id
        ):
            self.add_error(
                "client_secret", gettext("Enter the Client Secret for this Client ID.")
            )
        elif not secret and self.server_changed:
            # The stored secret was typed for the old server; "Connect" would POST
            # it to the new one.
            self.add_error(
                "client_secret",
                gettext(
                    "Enter the Client Secret again: the stored one is only sent to "
                    "the server it was entered for."
                ),
            )

    def connection_changed(self) -> bool:
        """Whether the tokens the channel holds belong to another app or server."""
        return self.instance.pk is not None and any(
            name in self.changed_data for name in CONNECTION_FIELDS
        )

    def save(self, commit: bool = True) -> Channel:
        channel: Channel = super().save(commit=False)
        secret = self.cleaned_data.get("client_secret")
        if secret:
            channel.client_secret = secret
        elif not channel.client_id or self.server_changed:
            channel.client_secret_encrypted = ""
        if not commit:
            return channel
        if channel.pk is None:
            channel.save()
            return channel
        # Only the fields this form edits: a token refresh may have saved a new
        # token pair since the page was loaded, and writing the old pair back would
        # lose the rotated refresh token (api-notes §2.4).
        fields = [*self.Meta.fields, "client_secret_encrypted", "updated_at"]
        if self.connection_changed() and channel.is_connected:
            disconnect(channel)
            fields += DISCONNECT_FIELDS
        if {"environment", "api_url"} & set(self.changed_data):
            # Another Allegro (sandbox vs production): its accounts are others.
            channel.account_id = channel.account_login = channel.marketplace_id = ""
            fields += ["account_id", "account_login", "marketplace_id"]
        channel.save(update_fields=fields)
        if "token_version" in fields:
            channel.refresh_from_db(fields=["token_version"])
        return channel


DISCONNECT_FIELDS = [
    "access_token_encrypted",
    "refresh_token_encrypted",
    "access_token_expires_at",
    "token_version",
    "needs_reconnect",
    "last_error",
    "last_error_at",
]


def disconnect(channel: Channel) -> None:
    """Forget the tokens: they belong to the old application or server."""
    channel.access_token_encrypted = channel.refresh_token_encrypted = ""
    channel.access_token_expires_at = None
    # A refresh in flight compares token_version before it writes: make it lose.
    # F(), not += 1: two saves at once must both bump it (connection.py does too).
    channel.token_version = F("token_version") + 1
    channel.needs_reconnect = True
    channel.last_error = Message(texts.SETTINGS_CHANGED)
    channel.last_error_at = timezone.now()
