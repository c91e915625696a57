"""The Celery application of `allegro-hub worker` and `allegro-hub beat`.

Configured from Django's settings (``CELERY_*``). The broker is
``CELERY_BROKER_URL`` (Redis or RabbitMQ), else ``REDIS_URL``.
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")

app = Celery("hub")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["hub.jobs"])
