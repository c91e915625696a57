from __future__ import annotations

from django.urls import path

from hub.jobs import views

urlpatterns = [
    path("channels/<int:pk>/sync-now/", views.sync_now, name="sync_now"),
    path("healthz", views.healthz, name="healthz"),
    path("metrics", views.prometheus, name="metrics"),
]
