"""Who may manage channels: staff, or users given the "manage channels" permission.

A channel holds the Client Secret and the seller's tokens, and "Connect" POSTs the
secret to the channel's authorization URL, so editing a channel is not for every
user. Everyone logged in keeps inventory and orders.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

PERMISSION = "allegro.manage_channels"


def can_manage_channels(user: Any) -> bool:
    return bool(
        user.is_authenticated
        and user.is_active
        and (user.is_staff or user.has_perm(PERMISSION))
    )


def channel_manager_required(
    view: Callable[..., HttpResponse],
) -> Callable[..., HttpResponse]:
    """403 for a user who may not manage channels."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not can_manage_channels(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper
