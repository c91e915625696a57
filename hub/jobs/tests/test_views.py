"""Sync now, /healthz, /metrics, JSON logs."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from hub.allegro.models import Channel
from hub.jobs import schedule
from hub.jobs.models import FlowState
from hub.jobs.registry import get_flow
from hub.logs import JsonFormatter

pytestmark = pytest.mark.django_db


def test_sync_now_makes_every_flow_of_the_channel_due(
    logged_in_client: Client, channel: Channel
):
    later = timezone.now() + timedelta(hours=1)
    FlowState.objects.create(channel=channel, flow="orders", due_at=later)

    response = logged_in_client.post(reverse("sync_now", args=[channel.pk]))

    assert response.status_code == 302
    assert response.headers["location"] == reverse("dashboard")
    row = FlowState.objects.get(channel=channel, flow="orders")
    assert row.due_at <= timezone.now()
    assert row.trigger == schedule.REQUEST
    page = logged_in_client.get(reverse("dashboard")).content.decode()
    assert "syncs now; the dashboard shows when it is done." in page


def test_sync_now_of_a_channel_that_cannot_sync_changes_nothing(
    logged_in_client: Client, channel: Channel
):
    Channel.objects.filter(pk=channel.pk).update(needs_reconnect=True)

    logged_in_client.post(reverse("sync_now", args=[channel.pk]))

    assert not FlowState.objects.exists()
    page = logged_in_client.get(reverse("dashboard")).content.decode()
    assert "cannot sync: it is disabled or not connected." in page


def test_sync_now_is_a_post_and_goes_back_only_to_this_site(
    logged_in_client: Client, channel: Channel
):
    url = reverse("sync_now", args=[channel.pk])
    assert logged_in_client.get(url).status_code == 405
    response = logged_in_client.post(url, {"next": "https://evil.example/"})
    assert response.headers["location"] == reverse("dashboard")
    response = logged_in_client.post(url, {"next": "/orders/"})
    assert response.headers["location"] == "/orders/"


def test_healthz_needs_no_login_and_says_only_ok(client: Client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_metrics_for_a_login_or_the_scraper_token(
    logged_in_client: Client, channel: Channel, settings
):
    client = Client()  # not logged in
    now = timezone.now()
    schedule.ensure_states([get_flow("orders")], now)
    FlowState.objects.update(
        runs_total=7, failures_total=2, requests_total=40, rate_limited_total=1
    )

    assert client.get("/metrics").status_code == 302  # to the login page
    settings.HUB_METRICS_TOKEN = "scrape-me"
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 302
    scraped = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-me")
    page = logged_in_client.get("/metrics")

    assert scraped.status_code == page.status_code == 200
    text = scraped.content.decode()
    labels = f'channel="{channel.name}",flow="orders"'
    assert f"hub_flow_runs_total{{{labels}}} 7.0" in text
    assert f"hub_flow_failures_total{{{labels}}} 2.0" in text
    assert f"hub_allegro_requests_total{{{labels}}} 40.0" in text
    assert f"hub_allegro_rate_limited_total{{{labels}}} 1.0" in text
    assert f"hub_flow_running{{{labels}}} 0.0" in text
    assert f'hub_channel_needs_reconnect{{channel="{channel.name}"}} 0.0' in text
    assert f"hub_flow_lag_seconds{{{labels}}}" in text


def test_json_log_lines():
    record = logging.LogRecord(
        "hub.jobs", logging.INFO, "x", 1, "ran %s", ("ok",), None
    )

    line = json.loads(JsonFormatter().format(record))

    assert line["level"] == "INFO"
    assert line["logger"] == "hub.jobs"
    assert line["message"] == "ran ok"
