from __future__ import annotations

from django.urls import path

from hub.orders import views

urlpatterns = [
    path("", views.order_list, name="orders"),
    path("export.csv", views.export_csv, name="orders_export"),
    path("<int:pk>/", views.order_detail, name="order_detail"),
    path("<int:pk>/lines/<int:line_id>/link/", views.link_line, name="order_link_line"),
    path("<int:pk>/dispatch/", views.dispatch, name="order_dispatch"),
]
