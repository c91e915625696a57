from __future__ import annotations

from django.urls import path

from hub.catalog import views

urlpatterns = [
    path("", views.inventory, name="inventory"),
    path("new/", views.item_create, name="inventory_item_create"),
    path("<int:pk>/edit/", views.item_edit, name="inventory_item_edit"),
    path("locations/", views.locations, name="inventory_locations"),
    path(
        "locations/<int:pk>/", views.location_rename, name="inventory_location_rename"
    ),
    path(
        "locations/<int:pk>/delete/",
        views.location_delete,
        name="inventory_location_delete",
    ),
    path("import/", views.import_csv, name="inventory_import"),
    path("export.csv", views.export_csv, name="inventory_export"),
]
