from __future__ import annotations

from django.urls import path

from hub.web.placeholder import placeholder

urlpatterns = [
    path("", placeholder, name="channels"),
]
