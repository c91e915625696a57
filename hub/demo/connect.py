"""Connect the demo channel the way a seller does, with no token written by hand:

1. "Connect with Allegro" on the channel's settings page (the hub's own view,
   through the whole middleware stack, as the demo user): the hub checks the
   Client Secret with Allegro and redirects to Allegro's authorize page, with
   its state and PKCE challenge;
2. the emulator's authorize page over HTTP: the seller demo-seller presses
   "Approve"; Allegro redirects back with a code;
3. the hub's callback view checks the state and exchanges the code (with the
   PKCE verifier) for tokens over HTTP.

The browser is the only thing left out: its requests are made here, in process
for the hub and over HTTP for the emulator.
"""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import urlsplit

import httpx
from django import forms
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils.translation import gettext as _

from hub.allegro.errors import AllegroError
from hub.allegro.forms import ChannelForm
from hub.allegro.models import Channel

HIDDEN = re.compile(r'<input type="hidden" name="([^"]*)" value="([^"]*)">')


class ConnectFailed(AllegroError):
    """The consent round trip did not end with a connected channel."""


def form_data(channel: Channel) -> dict[str, Any]:
    """The channel's settings page as it is, ready to submit."""
    form = ChannelForm(instance=channel)
    data: dict[str, Any] = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if isinstance(field, forms.BooleanField):
            if value:
                data[name] = "on"
        elif value is not None:
            data[name] = value
    return data


def connect_through_consent(channel: Channel, username: str, hub_host: str) -> None:
    """Run "Connect with Allegro" for the channel as ``username``, approving on
    the emulator's consent page as the seller the page offers first."""
    browser = Client(HTTP_HOST=hub_host)
    browser.force_login(get_user_model().objects.get(username=username))
    config = reverse("channel_config", args=[channel.pk])
    started = browser.post(config, form_data(channel) | {"action": "connect"})
    consent = started.headers.get("Location", "")
    if started.status_code != 302 or not consent.startswith(channel.auth_url):
        raise ConnectFailed(_("The hub did not send the seller to Allegro's page."))
    with httpx.Client(timeout=10) as http:
        page = http.get(consent)
        fields = {
            html.unescape(name): html.unescape(value)
            for name, value in HIDDEN.findall(page.text)
        }
        approved = http.post(
            f"{channel.auth_url}/auth/oauth/authorize",
            data=fields | {"login": "demo-seller", "decision": "approve"},
        )
    back = urlsplit(approved.headers.get("Location", ""))
    if approved.status_code != 302 or "code=" not in back.query:
        raise ConnectFailed(_("Allegro's page did not approve the connection."))
    browser.get(f"{back.path}?{back.query}")
    channel.refresh_from_db()
    if not channel.is_connected:
        raise ConnectFailed(
            str(channel.last_error) or _("Allegro did not hand out tokens.")
        )
