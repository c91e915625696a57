"""The audit record: who did what to a channel or an API token, and when.

Django's admin log (LogEntry) is the record, so staff read it under Admin → Log
entries next to everything done in the admin itself. Messages name fields and
actions, never values: a secret typed into a form must not end up here.
"""

from __future__ import annotations

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.db import models
from django.http import HttpRequest

__all__ = ["ADDITION", "CHANGE", "DELETION", "record"]


def record(request: HttpRequest, obj: models.Model, action: int, message: str) -> None:
    """Record one action of the logged-in user on OBJ (ADDITION/CHANGE/DELETION)."""
    user_id = request.user.pk
    assert user_id is not None  # every page needs a login
    queryset = type(obj)._default_manager.filter(pk=obj.pk)
    LogEntry.objects.log_actions(
        user_id, queryset, action, change_message=message, single_object=True
    )
