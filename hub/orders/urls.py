from __future__ import annotations

from django.urls import path

from hub.orders import views, views_dispatch

urlpatterns = [
    path("", views.order_list, name="orders"),
    path("export.csv", views.export_csv, name="orders_export"),
    path("<int:pk>/", views.order_detail, name="order_detail"),
    path("<int:pk>/lines/<int:line_id>/link/", views.link_line, name="order_link_line"),
    path("<int:pk>/dispatch/", views_dispatch.dispatch, name="order_dispatch"),
    path(
        "<int:pk>/dispatches/<int:dispatch_id>/correct/",
        views_dispatch.correct,
        name="dispatch_correct",
    ),
    path(
        "<int:pk>/dispatches/<int:dispatch_id>/resend/",
        views_dispatch.resend,
        name="dispatch_resend",
    ),
    path(
        "<int:pk>/dispatches/<int:dispatch_id>/handled/",
        views_dispatch.handled,
        name="dispatch_handled",
    ),
    path("dispatch/", views_dispatch.bulk_dispatch, name="orders_bulk_dispatch"),
    path(
        "dispatch-csv/", views_dispatch.dispatch_csv_upload, name="orders_dispatch_csv"
    ),
    path("needs-action/", views_dispatch.needs_action, name="orders_needs_action"),
]
