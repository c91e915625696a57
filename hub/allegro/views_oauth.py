"""Connect an Allegro account: authorization code + PKCE, or the device flow.

The hub never sees the seller's password (api-notes §2): the seller signs in on
Allegro's page. State, code verifier and device code stay in the session, never in
the page.
"""

from __future__ import annotations

import hmac
import time
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hub.allegro import auth, connection
from hub.allegro.errors import AllegroError
from hub.allegro.models import Channel
from hub.allegro.permissions import channel_manager_required
from hub.web import audit

OAUTH_SESSION_KEY = "allegro_oauth"
DEVICE_SESSION_KEY = "allegro_device"


def redirect_uri(request: HttpRequest) -> str:
    """Where Allegro sends the seller back; register exactly this in the app."""
    base = settings.PUBLIC_URL or request.build_absolute_uri("/").rstrip("/")
    return f"{base}{reverse('channel_oauth_callback')}"


def start_authorization(request: HttpRequest, channel: Channel) -> HttpResponse:
    """Send the seller to Allegro's consent page (api-notes §2.1).

    The code exchange (PKCE) never sends the Client Secret, so it is checked
    here first: a wrong one is caught before the seller signs in, not 12 h
    later at the first refresh (auth.check_client_credentials).
    """
    try:
        auth.check_client_credentials(channel)
    except AllegroError as exc:
        messages.error(request, connection.explain(channel, exc))
        return redirect("channel_config", pk=channel.pk)
    verifier, _challenge = auth.new_pkce_pair()
    state = auth.new_state()
    uri = redirect_uri(request)
    request.session[OAUTH_SESSION_KEY] = {
        "state": state,
        "code_verifier": verifier,
        "channel_id": channel.pk,
        "redirect_uri": uri,
    }
    return redirect(auth.authorization_url(channel, uri, state, verifier))


@channel_manager_required
def oauth_callback(request: HttpRequest) -> HttpResponse:
    """Allegro's redirect back: check state, then trade the code for tokens."""
    pending: dict[str, Any] | None = request.session.pop(OAUTH_SESSION_KEY, None)
    state = request.GET.get("state", "")
    # Bytes: compare_digest refuses non-ASCII text, and the state is anyone's input.
    if pending is None or not hmac.compare_digest(
        state.encode(), pending["state"].encode()
    ):
        # A forged or stale redirect: nothing is stored.
        messages.error(
            request,
            _(
                "This answer from Allegro does not belong to a connection started "
                "here (the state does not match). Nothing was changed; click "
                "“Connect with Allegro” again."
            ),
        )
        if pending is None:
            return redirect("channels")
        return redirect("channel_config", pk=pending["channel_id"])
    channel = get_object_or_404(Channel, pk=pending["channel_id"])
    error = request.GET.get("error")
    code = request.GET.get("code")
    if error or not code:
        if error == "access_denied":
            text = _("You did not allow access on Allegro, so nothing was connected.")
        else:
            text = _("Allegro did not connect the account (%(error)s).") % {
                "error": error or _("no code")
            }
        messages.error(request, text)
        return redirect("channel_config", pk=channel.pk)
    try:
        auth.exchange_code(
            channel, code, pending["redirect_uri"], pending["code_verifier"]
        )
    except AllegroError as exc:
        messages.error(request, connection.explain(channel, exc))
        return redirect("channel_config", pk=channel.pk)
    _finish(request, channel)
    return redirect("channel_config", pk=channel.pk)


def _finish(request: HttpRequest, channel: Channel) -> None:
    audit.record(request, channel, audit.CHANGE, "Connected the Allegro account.")
    show_outcome(request, connection.after_connect(channel))


def show_outcome(request: HttpRequest, outcome: connection.Outcome) -> None:
    """The answer of Connect or Test, as a message on the next page."""
    if outcome.ok:
        messages.success(request, outcome.text)
    else:
        messages.error(request, outcome.text)


def start_device(request: HttpRequest, channel: Channel) -> HttpResponse:
    """Ask Allegro for a device code and show the page that waits for it (§2.2)."""
    try:
        auth.check_client_credentials(channel)
        device = auth.start_device_flow(channel)
    except AllegroError as exc:
        messages.error(request, connection.explain(channel, exc))
        return redirect("channel_config", pk=channel.pk)
    request.session[DEVICE_SESSION_KEY] = {
        "channel_id": channel.pk,
        "device_code": device.device_code,
        "user_code": device.user_code,
        "verification_uri": device.verification_uri,
        "verification_uri_complete": device.verification_uri_complete,
        "interval": int(device.interval),
        "expires_at": time.time() + int(device.expires_in),
    }
    return redirect("channel_device", pk=channel.pk)


@channel_manager_required
def device_page(request: HttpRequest, pk: int) -> HttpResponse:
    channel = get_object_or_404(Channel, pk=pk)
    pending = request.session.get(DEVICE_SESSION_KEY)
    if not pending or pending["channel_id"] != channel.pk:
        messages.error(request, _("No connection with a code is in progress."))
        return redirect("channel_config", pk=channel.pk)
    context = {
        "channel": channel,
        "user_code": format_user_code(pending["user_code"]),
        "verification_uri": pending["verification_uri"],
        "verification_uri_complete": pending["verification_uri_complete"],
        "interval": pending["interval"],
        "minutes": max(1, round((pending["expires_at"] - time.time()) / 60)),
    }
    return render(request, "allegro/device.html", context)


@require_POST
@channel_manager_required
def device_poll(request: HttpRequest, pk: int) -> JsonResponse:
    """One poll of Allegro's token endpoint, called by the device page's script."""
    channel = get_object_or_404(Channel, pk=pk)
    pending = request.session.get(DEVICE_SESSION_KEY)
    if not pending or pending["channel_id"] != channel.pk:
        return _device_done(_("No connection with a code is in progress."))
    try:
        result = auth.poll_device_flow(channel, pending["device_code"])
    except AllegroError as exc:
        request.session.pop(DEVICE_SESSION_KEY, None)
        return _device_done(connection.explain(channel, exc))
    status = result.status
    if status in ("pending", "slow_down"):
        if status == "slow_down":
            # api-notes §2.2: polling too fast; Allegro's own sample doubles it.
            pending["interval"] = pending["interval"] * 2
            request.session.modified = True
        return JsonResponse(
            {
                "status": status,
                "interval": pending["interval"],
                "message": _("Waiting for you to allow access on Allegro…"),
            }
        )
    request.session.pop(DEVICE_SESSION_KEY, None)
    if status == "connected":
        _finish(request, channel)
        url = reverse("channel_config", args=[channel.pk])
        return JsonResponse({"status": status, "redirect": url})
    if status == "denied":
        return _device_done(
            _("You did not allow access on Allegro, so nothing was connected."), status
        )
    return _device_done(
        _("The code expired before access was allowed. Start again."), status
    )


def _device_done(message: str, status: str = "error") -> JsonResponse:
    return JsonResponse({"status": status, "done": True, "message": message})


def format_user_code(code: str) -> str:
    """Allegro's user code, shown as XXX XXX XXX (api-notes §2.2)."""
    # Case kept as Allegro sent it: whether its page ignores case is not documented.
    plain = code.replace(" ", "")
    return " ".join(plain[i : i + 3] for i in range(0, len(plain), 3))
