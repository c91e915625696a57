"""Stored messages: a code and its parameters, translated when shown.

A text written to the database in the writer's language stays in that language for
ever; a Polish seller then reads English history. So nothing stores words: a row
stores a ``Message`` — a code from the registry plus plain parameters — and the
words are made when the message is shown, in the reader's language.

Writers (any app):

    # hub/<app>/texts.py, loaded at start-up (hub.text's AppConfig.ready):
    from django.utils.translation import gettext_lazy as _, ngettext_lazy
    from hub.text.message import define
    PAID = define("order.paid", _("Payment received."))
    IMPORTED = define("order.imported", ngettext_lazy(
        "Imported: %(status)s, %(lines)d line, %(total)s.",
        "Imported: %(status)s, %(lines)d lines, %(total)s.", "lines"))

    # anywhere:
    Message(PAID)
    Message(IMPORTED, status=status(raw), lines=2, total=money("49.00", "PLN"))
    Message.literal(text_from_allegro)        # words we cannot translate

and store it in a ``MessageField`` (JSON ``{"code": ..., "params": {...}}``).
Reading the field gives a ``Message``; ``str(message)`` renders it in the active
language (templates just write ``{{ row.field }}``). An empty message is falsy.
A plain str assigned to the field is kept as a literal (rows written before the
codes existed, or a writer not yet switched).

Parameters are JSON values: str, int, or a tagged value made by ``money()``
(formatted with Babel for the reader's locale), ``status()`` (a channel status
shown as words, raw code kept), ``when()`` (a moment, in the reader's time
format), ``labels()`` (names from the registry,
joined) or another ``Message`` (nested, e.g. an Allegro error inside a
sync failure). Unknown codes and bad parameters render as the stored literal or
the code itself: showing a message never fails.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.utils.functional import Promise

log = logging.getLogger(__name__)

# code → lazily translated template (gettext_lazy / ngettext_lazy)
REGISTRY: dict[str, Promise | str] = {}
# tag → renderer of a tagged parameter {"$": tag, ...}; see register_param
PARAM_RENDERERS: dict[str, Callable[[Mapping[str, Any]], str]] = {}


def define(code: str, template: Promise | str) -> str:
    """Register a code once; returns the code (so ``X = define(...)``)."""
    if code in REGISTRY and REGISTRY[code] is not template:
        raise ValueError(f"message code {code!r} defined twice")
    REGISTRY[code] = template
    return code


def register_param(tag: str, render: Callable[[Mapping[str, Any]], str]) -> None:
    PARAM_RENDERERS[tag] = render


class Message:
    """A code with parameters (or a literal text); renders when shown."""

    __slots__ = ("code", "params", "text")

    def __init__(self, code: str = "", /, **params: Any) -> None:
        self.code = code
        self.params: dict[str, Any] = {k: _jsonable(v) for k, v in params.items()}
        self.text = ""

    @classmethod
    def literal(cls, text: str) -> Message:
        message = cls()
        message.text = str(text)
        return message

    @classmethod
    def coerce(cls, value: Any) -> Message:
        """A Message from what a field may hold: Message, str, JSON dict, None."""
        if isinstance(value, Message):
            return value
        if value is None or value == "":
            return cls()
        if isinstance(value, Mapping):
            return cls.from_json(value)
        return cls.literal(str(value))

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Message:
        message = cls()
        message.code = str(data.get("code") or "")
        params = data.get("params")
        message.params = dict(params) if isinstance(params, Mapping) else {}
        message.text = str(data.get("text") or "")
        return message

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.code:
            data["code"] = self.code
            if self.params:
                data["params"] = self.params
        if self.text:
            data["text"] = self.text
        return data

    def __bool__(self) -> bool:
        return bool(self.code or self.text)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Message):
            return self.to_json() == other.to_json()
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.code, self.text))

    def __repr__(self) -> str:
        return f"Message({self.to_json()!r})"

    def __str__(self) -> str:
        return render(self)


def render(message: Message) -> str:
    if not message.code:
        return message.text
    template = REGISTRY.get(message.code)
    if template is None:
        log.warning("unknown message code %s", message.code)
        return message.text or message.code
    params = {name: render_param(value) for name, value in message.params.items()}
    try:
        # lazy ngettext picks its plural form from params here
        return str(template % params)
    except (KeyError, TypeError, ValueError):
        log.warning("message %s: parameters do not fit", message.code)
        return message.text or message.code


def render_param(value: Any) -> Any:
    """A stored parameter as it goes into the template (numbers stay numbers)."""
    if isinstance(value, Mapping):
        if "$" in value:
            renderer = PARAM_RENDERERS.get(str(value["$"]))
            return renderer(value) if renderer else str(value.get("raw", ""))
        return render(Message.from_json(value))
    if isinstance(value, list):
        return ", ".join(str(render_param(item)) for item in value)
    return value


def _jsonable(value: Any) -> Any:
    if isinstance(value, Message):
        return value.to_json()
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Promise):
        return str(value)
    return value


# ------------------------------------------------------------ tagged parameters


def money(amount: Decimal | str | int, currency: str) -> dict[str, str]:
    """An amount shown in the reader's locale ("2 469,12 zł" / "PLN 2,469.12")."""
    return {"$": "money", "amount": str(amount), "currency": currency}


def status(raw: str) -> dict[str, str]:
    """A channel's status code, shown as words (hub.web.formats)."""
    return {"$": "status", "raw": raw}


def when(moment: datetime | str) -> dict[str, str]:
    """A moment shown in the reader's time format (hub.text.formats)."""
    text = moment if isinstance(moment, str) else moment.isoformat()
    return {"$": "when", "at": text}


def sentences(*messages: Message) -> dict[str, Any]:
    """Whole messages shown one after another, e.g. everything one change did:
    "Status … → …. Payment received." (each message keeps its own words)."""
    return {"$": "sentences", "items": [message.to_json() for message in messages]}


def _sentences_param(value: Mapping[str, Any]) -> str:
    items = value.get("items")
    if not isinstance(items, list):
        return ""
    return " ".join(render(Message.coerce(item)) for item in items)


register_param("sentences", _sentences_param)


def labels(*codes: str) -> list[dict[str, str]]:
    """Names from the registry (e.g. changed fields), joined with commas."""
    return [{"code": code} for code in codes]
