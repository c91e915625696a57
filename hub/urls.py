from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

from hub.api.api import api
from hub.web.views import favicon

urlpatterns = [
    path("", include("hub.web.urls")),
    path("", include("hub.jobs.urls")),
    path("inventory/", include("hub.catalog.urls")),
    path("orders/", include("hub.orders.urls")),
    path("settings/channels/", include("hub.allegro.urls")),
    path("api/", api.urls),
    path("admin/", admin.site.urls),
    # The language switch works before logging in too (the login page has it).
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    # Pages without the base template (API docs, admin) ask browsers' default.
    path("favicon.ico", favicon),
]
