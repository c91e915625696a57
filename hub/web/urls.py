from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from hub.api import views as api_views
from hub.web import item_page, views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="web/login.html"),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Under inventory/ (catalog's URLs), served here: it joins orders and listings.
    path("inventory/<int:pk>/", item_page.item_page, name="inventory_item"),
    path("settings/", views.settings_index, name="settings"),
    path("settings/api-tokens/", api_views.tokens, name="api_tokens"),
    path(
        "settings/api-tokens/<int:pk>/revoke/",
        api_views.revoke_token,
        name="api_token_revoke",
    ),
]
