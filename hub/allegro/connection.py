"""Test a channel's connection, read its account, and say what went wrong.

Shared by the config screen and `allegro-hub channel`. Writes go through
``Channel.objects.filter(pk=…).update(…)`` so they never write back a token pair
that a concurrent refresh has rotated (api-notes §2.4).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from hub.allegro import auth, texts
from hub.allegro.client import client_for_channel
from hub.allegro.errors import AllegroError, AuthRevoked, TransientError
from hub.allegro.models import Channel
from hub.allegro.schemas import Marketplace, Me
from hub.text.message import Message


@dataclass(frozen=True)
class Outcome:
    ok: bool
    text: str


def check_connection(
    channel: Channel, transport: httpx.BaseTransport | None = None
) -> Outcome:
    """The seed's Test: the application's Client ID and Secret, then `GET /me`
    with the stored tokens (refreshed if needed).

    The secret is checked on its own (one client_credentials request) because
    nothing else in Test or a PKCE Connect sends it (auth.check_client_credentials).
    """
    if not channel.is_connected:
        text = _("Not connected yet: click “Connect with Allegro” first.")
        if channel.needs_reconnect:
            text = str(reconnect_text())
        return Outcome(False, text)
    try:
        auth.check_client_credentials(channel, transport=transport)
    except AllegroError as exc:
        why = explain(channel, exc)
        record_failure(channel, why, needs_reconnect=False)
        return Outcome(False, str(why))
    return after_connect(channel, transport)


def after_connect(
    channel: Channel, transport: httpx.BaseTransport | None = None
) -> Outcome:
    """Read the account behind the tokens, check it may be here, and store it."""
    try:
        me, currency = read_account(channel, transport)
    except AllegroError as exc:
        why = explain(channel, exc)
        record_failure(channel, why, needs_reconnect=isinstance(exc, AuthRevoked))
        return Outcome(False, str(why))
    problem = account_problem(channel, me)
    if not problem and not store_account(channel, me, currency):
        # Lost a race: another channel took the account since we checked.
        problem = account_problem(channel, me) or Message(texts.ACCOUNT_TAKEN_MEANWHILE)
    if problem:
        forget_tokens(channel, problem)
        return Outcome(False, str(problem))
    return Outcome(
        True,
        _("OK — connected as %(login)s on %(marketplace)s")
        % {"login": me.login, "marketplace": me.marketplace_id or "?"},
    )


def read_account(
    channel: Channel, transport: httpx.BaseTransport | None
) -> tuple[Me, str]:
    """`GET /me`, and the marketplace's currency when Default Currency is empty."""
    # One attempt: someone is waiting at the screen, and the answer (even
    # "cannot reach") is more useful now than after a minute of retries.
    with client_for_channel(channel, transport=transport, max_attempts=1) as client:
        me = client.me()
        currency = ""
        if not channel.default_currency and me.marketplace_id:
            currency = marketplace_currency(client.marketplaces(), me.marketplace_id)
    return me, currency


def marketplace_currency(marketplaces: list[Marketplace], marketplace_id: str) -> str:
    """The base currency of MARKETPLACE_ID in `GET /marketplaces`, or ""."""
    for item in marketplaces:
        if item.id == marketplace_id:
            return item.currency or ""
    return ""


def fill_default_currency(channel: Channel) -> None:
    """Default Currency empty at save time: take the marketplace's, if reachable.

    Save succeeds either way; a failure is recorded on the channel's health.
    """
    after_connect(channel)


def account_problem(channel: Channel, me: Me) -> Message:
    """Why the account behind new tokens cannot belong to this channel (or an
    empty, falsy Message)."""
    if channel.account_id and channel.account_id != me.id:
        return Message(
            texts.OTHER_ACCOUNT,
            login=me.login,
            old=channel.account_login or channel.account_id,
        )
    # The same account in two channels would download every order twice.
    twin = (
        Channel.objects.filter(
            account_id=me.id, environment=channel.environment, api_url=channel.api_url
        )
        .exclude(pk=channel.pk)
        .first()
    )
    if twin is not None:
        return Message(texts.ACCOUNT_CONNECTED, login=me.login, other=twin.name)
    return Message()


def store_account(channel: Channel, me: Me, currency: str = "") -> bool:
    """Record the account on the channel; False if another channel holds it."""
    fields: dict[str, object] = {
        "account_id": me.id,
        "account_login": me.login,
        "marketplace_id": me.marketplace_id or "",
        "needs_reconnect": False,
        "last_error": "",
        "last_error_at": None,
    }
    try:
        with transaction.atomic():
            Channel.objects.filter(pk=channel.pk).update(**fields)
    except IntegrityError:  # one_channel_per_account
        return False
    if currency:
        # Only if still empty: the seller may have typed one meanwhile.
        Channel.objects.filter(pk=channel.pk, default_currency="").update(
            default_currency=currency
        )
        fields["default_currency"] = currency
    for name, value in fields.items():
        setattr(channel, name, value)
    return True


def record_failure(channel: Channel, text: Message, *, needs_reconnect: bool) -> None:
    fields: dict[str, object] = {"last_error": text, "last_error_at": timezone.now()}
    if needs_reconnect:
        fields["needs_reconnect"] = True
    Channel.objects.filter(pk=channel.pk).update(**fields)
    for name, value in fields.items():
        setattr(channel, name, value)


def forget_tokens(channel: Channel, text: Message) -> None:
    """Drop tokens that belong to the wrong account."""
    fields: dict[str, object] = {
        "access_token_encrypted": "",
        "refresh_token_encrypted": "",
        "access_token_expires_at": None,
        "token_version": F("token_version") + 1,
        "needs_reconnect": True,
        "last_error": text,
        "last_error_at": timezone.now(),
    }
    Channel.objects.filter(pk=channel.pk).update(**fields)
    channel.refresh_from_db()


def reconnect_text() -> Message:
    return Message(texts.RECONNECT)


def explain(channel: Channel, exc: AllegroError) -> Message:
    """Allegro's error in plain words, with what to do about it."""
    if isinstance(exc, auth.InvalidClient) or exc.has_code("invalid_client"):
        return auth.invalid_client_text()
    if isinstance(exc, AuthRevoked):
        return reconnect_text()
    if isinstance(exc, TransientError) and exc.status is None:
        api_url, auth_url = channel.urls()
        hosts = sorted({urlsplit(api_url).netloc, urlsplit(auth_url).netloc})
        return Message(texts.CANNOT_REACH, host=" / ".join(hosts))
    return exc.user_message()
