"""Where a seller sees an order on Allegro: the marketplace's own domain
(allegro.pl / .cz / .sk / .hu, api-notes §1), or the sandbox's.

The seller's order page path ("moje-allegro/sprzedaz/zamowienia/<checkout form
id>") is what Allegro's sales panel uses for allegro.pl; it is not in the API
documentation (unconfirmed for the other marketplaces).
"""

from __future__ import annotations

from hub.allegro.models import Channel
from hub.orders import links
from hub.orders.models import Order

SOURCE = "allegro"
DOMAINS = {
    "allegro-pl": "allegro.pl",
    "allegro-cz": "allegro.cz",
    "allegro-sk": "allegro.sk",
    "allegro-hu": "allegro.hu",
}
SANDBOX = "allegro.pl.allegrosandbox.pl"
ORDER_PATH = "/moje-allegro/sprzedaz/zamowienia/"


def site_of(channel: Channel) -> str:
    """The seller-facing site of the channel's account, or "" (custom URLs)."""
    if channel.environment == Channel.Environment.SANDBOX:
        return SANDBOX
    if channel.environment == Channel.Environment.PRODUCTION:
        return DOMAINS.get(channel.marketplace_id, "allegro.pl")
    return ""


def order_links(orders: list[Order]) -> dict[int, str]:
    ids = {int(o.account) for o in orders if o.account.isdigit()}
    sites = {
        str(channel.pk): site_of(channel)
        for channel in Channel.objects.filter(pk__in=ids).only(
            "pk", "environment", "marketplace_id"
        )
    }
    return {
        order.pk: f"https://{sites[order.account]}{ORDER_PATH}{order.external_id}"
        for order in orders
        if sites.get(order.account)
    }


links.register(SOURCE, order_links)
