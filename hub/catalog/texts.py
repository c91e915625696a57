"""Message codes of the catalogue: why an item's stock changed (its history).

Stored as codes (hub.text.message) on StockChange.reason, translated when shown;
who made the change is StockChange.actor (hub.text.actor).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from hub.text.message import define

EDITED = define("stock.edited", _("Edited on the item's page"))
SET = define("stock.set", _("Set on the command line"))
CSV_IMPORT = define("stock.csv_import", _("CSV import"))
API = define("stock.api", _("REST API"))
DEMO = define("stock.demo", _("Demo set-up"))
ORDER = define("stock.order", _("Order %(order)s"))
