"""MessageField: a model field holding a hub.text.message.Message as JSON."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models.query_utils import DeferredAttribute

from hub.text.message import Message


def empty_message() -> Message:
    return Message()


class _MessageAttribute(DeferredAttribute):
    """Whatever is assigned (Message, str, dict, None) is held as a Message."""

    def __set__(self, instance: Any, value: Any) -> None:
        instance.__dict__[self.field.attname] = Message.coerce(value)


class MessageField(models.JSONField):
    """Stores ``{"code": ..., "params": {...}}`` (or ``{"text": ...}`` for a
    literal, ``{}`` for none); always reads back as a Message."""

    descriptor_class = _MessageAttribute

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("default", empty_message)
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Message:
        return Message.coerce(super().from_db_value(value, expression, connection))

    def to_python(self, value: Any) -> Message:
        return Message.coerce(value)

    def get_prep_value(self, value: Any) -> Any:
        if hasattr(value, "resolve_expression"):
            return value  # F(), Value(), …: the database's business
        return super().get_prep_value(Message.coerce(value).to_json())

    def value_to_string(self, obj: Any) -> Any:
        return Message.coerce(self.value_from_object(obj)).to_json()
