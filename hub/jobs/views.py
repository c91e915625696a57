""" "Sync now", the load balancer's health check and Prometheus metrics."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import redirect_to_login
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hub.allegro.models import Channel
from hub.jobs import metrics, schedule
from hub.jobs.registry import FLOWS


@require_POST
def sync_now(request: HttpRequest, pk: int) -> HttpResponse:
    """Run every flow of this channel as soon as a worker is free."""
    channel = get_object_or_404(Channel, pk=pk)
    if not schedule.runnable_channels().filter(pk=pk).exists():
        messages.error(
            request,
            _("%(name)s cannot sync: it is disabled or not connected.")
            % {"name": channel.name},
        )
    else:
        for flow in FLOWS:
            if flow.applies(channel):
                schedule.request_run(channel.pk, flow.name)
        messages.success(
            request,
            _("%(name)s syncs now; the dashboard shows when it is done.")
            % {"name": channel.name},
        )
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}):
        back = ""
    return redirect(back or "dashboard")


@login_not_required
def healthz(request: HttpRequest) -> HttpResponse:
    """200 while the hub can reach its database; 503 otherwise. Says nothing else."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        return JsonResponse({"status": "unavailable"}, status=503)
    return JsonResponse({"status": "ok"})


@login_not_required
def prometheus(request: HttpRequest) -> HttpResponse:
    """Prometheus metrics: for a logged-in user, or with HUB_METRICS_TOKEN as a
    bearer token (what a scraper sends)."""
    token = settings.HUB_METRICS_TOKEN
    sent = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    allowed = request.user.is_authenticated or (
        bool(token) and secrets.compare_digest(sent.encode(), token.encode())
    )
    if not allowed:
        return redirect_to_login(request.get_full_path())
    body, content_type = metrics.render()
    return HttpResponse(body, content_type=content_type)
