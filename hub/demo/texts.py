"""Message codes of the demo (hub.text.message), translated when shown."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from hub.text.message import define

DELIVERY = define("demo.delivery", _("Delivery (the demo's story)"))
