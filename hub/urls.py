from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from hub.api.api import api

urlpatterns = [
    path("", include("hub.web.urls")),
    path("", include("hub.jobs.urls")),
    path("inventory/", include("hub.catalog.urls")),
    path("orders/", include("hub.orders.urls")),
    path("settings/channels/", include("hub.allegro.urls")),
    path("api/", api.urls),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
]
