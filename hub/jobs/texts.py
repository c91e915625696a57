"""Message codes of the runner: why a run failed, stored as codes (hub.text) on
FlowRun.error and FlowState.last_error, translated when shown."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from hub.text.message import define

UNEXPECTED = define("jobs.unexpected", _("Unexpected error (%(kind)s): %(text)s"))
WORKER_LOST = define(
    "jobs.worker_lost", _("The worker running this stopped; another one took over.")
)
