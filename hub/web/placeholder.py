from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def placeholder(request: HttpRequest) -> HttpResponse:
    return render(
        request, "web/dashboard.html", {"item_count": 0, "open_order_count": 0}
    )
