from __future__ import annotations

from django.urls import path

from hub.allegro import views_lifecycle, views_mapping, views_oauth, views_setup

urlpatterns = [
    path("", views_setup.channel_list, name="channels"),
    path("add/", views_setup.channel_add, name="channel_add"),
    path("add/allegro/", views_setup.channel_new, name="channel_new"),
    path("<int:pk>/", views_setup.channel_config, name="channel_config"),
    path("<int:pk>/delete/", views_setup.channel_delete, name="channel_delete"),
    path("<int:pk>/device/", views_oauth.device_page, name="channel_device"),
    path(
        "<int:pk>/lifecycle/",
        views_lifecycle.lifecycle_page,
        name="channel_lifecycle",
    ),
    path(
        "<int:pk>/lifecycle/decide/",
        views_lifecycle.lifecycle_decide,
        name="channel_lifecycle_decide",
    ),
    path(
        "<int:pk>/lifecycle/strike/<int:listing_pk>/",
        views_lifecycle.lifecycle_strike,
        name="channel_lifecycle_strike",
    ),
    path("<int:pk>/device/poll/", views_oauth.device_poll, name="channel_device_poll"),
    path("<int:pk>/listings/", views_mapping.mapping, name="channel_mapping"),
    path(
        "<int:pk>/listings/auto-link/",
        views_mapping.auto_link,
        name="channel_auto_link",
    ),
    path(
        "<int:pk>/listings/<int:listing_id>/",
        views_mapping.listing_detail,
        name="channel_listing",
    ),
    path(
        "<int:pk>/listings/<int:listing_id>/link/",
        views_mapping.link,
        name="channel_listing_link",
    ),
    path("oauth/callback/", views_oauth.oauth_callback, name="channel_oauth_callback"),
]
