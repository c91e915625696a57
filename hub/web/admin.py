"""Admin pages staff read without extra permissions: the audit record (who did
what to channels and API tokens) and django-axes' failed logins and lockouts.

Every staff user may see them, and lift a lockout by deleting its attempt record;
nobody edits the record itself.
"""

from __future__ import annotations

from typing import Any

from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin, AccessLogAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.http import HttpRequest


def is_staff(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_active and user.is_staff)


class StaffMayRead:
    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_staff(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_staff(request)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(LogEntry)
class AuditAdmin(StaffMayRead, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = [
        "action_time",
        "user",
        "content_type",
        "object_repr",
        "action_flag",
        "change_message",
    ]
    list_filter = ["action_flag", "content_type"]
    search_fields = ["object_repr", "change_message", "user__username"]
    date_hierarchy = "action_time"


class LockoutAdmin(StaffMayRead, AccessAttemptAdmin):
    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_staff(request)  # deleting the attempts lifts the lockout


class LoginLogAdmin(StaffMayRead, AccessLogAdmin):
    pass


class FailedLoginAdmin(StaffMayRead, AccessFailureLogAdmin):
    pass


for model, model_admin in (
    (AccessAttempt, LockoutAdmin),
    (AccessLog, LoginLogAdmin),
    (AccessFailureLog, FailedLoginAdmin),
):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, model_admin)
