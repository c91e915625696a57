"""/metrics in Prometheus' format, read from the database at each scrape, so
every process (embedded runner or Celery workers anywhere) is counted."""

from __future__ import annotations

from collections.abc import Iterator

from django.utils import timezone
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from hub.jobs.models import FlowState


class FlowCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        labels = ["channel", "flow"]
        runs = CounterMetricFamily("hub_flow_runs", "Runs of a flow", labels=labels)
        failed = CounterMetricFamily(
            "hub_flow_failures", "Failed runs of a flow", labels=labels
        )
        lag = GaugeMetricFamily(
            "hub_flow_lag_seconds",
            "Seconds since the flow last succeeded (since the hub first saw it "
            "if never)",
            labels=labels,
        )
        running = GaugeMetricFamily(
            "hub_flow_running", "1 while a worker runs the flow", labels=labels
        )
        requests = CounterMetricFamily(
            "hub_allegro_requests", "Requests sent to Allegro", labels=labels
        )
        limited = CounterMetricFamily(
            "hub_allegro_rate_limited", "429 answers from Allegro", labels=labels
        )
        reconnect = GaugeMetricFamily(
            "hub_channel_needs_reconnect",
            "1 when Allegro refused the channel's tokens",
            labels=["channel"],
        )
        now = timezone.now()
        seen = set()
        for row in FlowState.objects.select_related("channel").order_by("pk"):
            key = [row.channel.name, row.flow]
            runs.add_metric(key, row.runs_total)
            failed.add_metric(key, row.failures_total)
            since = row.last_success_at or row.created_at
            lag.add_metric(key, (now - since).total_seconds())
            held = row.lease_until is not None and row.lease_until > now
            running.add_metric(key, 1 if held else 0)
            requests.add_metric(key, row.requests_total)
            limited.add_metric(key, row.rate_limited_total)
            if row.channel_id not in seen:
                seen.add(row.channel_id)
                reconnect.add_metric(
                    [row.channel.name], int(row.channel.needs_reconnect)
                )
        yield from (runs, failed, lag, running, requests, limited, reconnect)


def render() -> tuple[bytes, str]:
    registry = CollectorRegistry()
    registry.register(FlowCollector())
    return generate_latest(registry), CONTENT_TYPE_LATEST
