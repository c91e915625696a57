"""Every page fits a 390 px phone: no sideways scrolling, the menu opens."""

from __future__ import annotations

from typing import Any

import pytest

from hub.allegro.models import Channel, Listing
from hub.api.models import ApiToken
from hub.catalog import stock
from hub.catalog.models import Location, StockItem
from hub.orders import texts
from hub.orders.dispatching import DispatchRequest, dispatch_order
from hub.orders.importing import save_orders
from hub.orders.models import Dispatch, ImportProblem, Order
from hub.orders.tests.conftest import make_account, make_line, make_order
from hub.text.message import Message

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
LONG = "Zestaw kubków ceramicznych z podstawką i łyżeczkami, kolor niebieski " * 2


def pages(live_server: Any) -> list[str]:
    location = stock.default_location()
    item = StockItem.objects.create(sku="MUG-1-WITH-A-RATHER-LONG-SKU", title=LONG)
    stock.set_on_hand(item, location, 7)
    save_orders(
        make_account(location),
        [
            make_order(
                "29f5bbd0-7f3c-11ef-8c5a-0242ac120002",
                lines=[make_line(title=LONG, sku=""), make_line("L-2")],
                buyer_login="a_very_long_buyer_login_name",
            )
        ],
    )
    ImportProblem.objects.create(
        source="test", account="1", external_id="d2a7c1e0-7f3c-11ef-8c5a-0242ac1200ff",
        reason="Line item 6f25e2a2-5a92-4187-99c7-8df48f4ff31e has quantity 0.",
    )  # fmt: skip
    channel = Channel.objects.create(
        name="Allegro shop with a long name", marketplace_id="allegro-pl"
    )
    listing = Listing.objects.create(
        channel=channel, offer_id="17001234567", title=LONG, stock_item=item,
        status="ACTIVE", known_quantity=7,
    )  # fmt: skip
    shelf = Location.objects.create(name="Regał B, półka górna, przy oknie")
    order = Order.objects.get()
    # A dispatch the buyer cancelled after (state, message, buttons), and a line
    # still to dispatch: both the dispatch and the correction forms are shown.
    first = order.lines.order_by("id").first()
    assert first is not None
    done = dispatch_order(
        order,
        DispatchRequest("DPD", "1234567890123", line_ids=[first.pk],
                        without_stock=True, confirm_unpaid=True),
    )  # fmt: skip
    Dispatch.objects.filter(pk=done.pk).update(
        state=Dispatch.State.REFUSED,
        channel_message=Message(texts.CANCELLED_AFTER_DISPATCH_ACTION),
    )
    return [
        "/",
        "/inventory/",
        "/inventory/new/",
        f"/inventory/{item.pk}/",
        f"/inventory/{item.pk}/edit/",
        "/inventory/locations/",
        f"/inventory/locations/{shelf.pk}/",
        f"/inventory/locations/{shelf.pk}/delete/",
        f"/inventory/locations/{location.pk}/delete/",
        "/inventory/import/",
        "/orders/",
        f"/orders/{order.pk}/",
        "/orders/needs-action/",
        "/settings/",
        "/settings/channels/",
        "/settings/channels/add/",
        "/settings/channels/add/allegro/",
        f"/settings/channels/{channel.pk}/",
        f"/settings/channels/{channel.pk}/delete/",
        f"/settings/channels/{channel.pk}/listings/",
        f"/settings/channels/{channel.pk}/listings/{listing.pk}/",
        f"/settings/channels/{channel.pk}/lifecycle/",
        "/settings/api-tokens/",
        "/no-such-page/",
    ]


def overflow(page: Any) -> int:
    root = "document.documentElement"
    return int(page.evaluate(f"{root}.scrollWidth - {root}.clientWidth"))


def big_csv(tmp_path: Any) -> str:
    path = tmp_path / "big.csv"
    rows = [f"BIG-{n:05d};{LONG[:60]};{n % 5}" for n in range(8000)]
    path.write_text("sku;title;on_hand\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return str(path)


# Pages whose tables become cards at phone width: none scrolls inside itself.
CARD_TABLES = ("/orders/{order}/", "/orders/needs-action/", "/settings/api-tokens/")


def wide_tables(page: Any) -> list[str]:
    """Tables whose content is wider than the viewport (or than themselves)."""
    return list(
        page.evaluate(
            """() => [...document.querySelectorAll('table')]
              .filter(t => t.scrollWidth > t.clientWidth
                        || t.getBoundingClientRect().right > window.innerWidth)
              .map(t => t.className || 'table')"""
        )
    )


def test_every_page_fits_a_phone(
    live_server: Any, browser: Any, django_user_model: Any, tmp_path: Any
) -> None:
    urls = pages(live_server)
    context = browser.new_context(viewport=PHONE, locale="pl-PL")
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/login/")
        assert overflow(page) == 0, "/login/"
        django_user_model.objects.create_user(
            username="phone", password="phone-pass-1", is_staff=True, is_superuser=True
        )
        page.fill("#id_username", "phone")
        page.fill("#id_password", "phone-pass-1")
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")
        user = django_user_model.objects.get(username="phone")
        ApiToken.issue(user, "ERP feed from the warehouse system, nightly")
        too_wide = {}
        for url in urls:
            page.goto(live_server.url + url)
            if overflow(page) > 0:
                too_wide[url] = overflow(page)
        assert too_wide == {}

        order = Order.objects.get()
        scrolling = {}
        for url in CARD_TABLES:
            page.goto(live_server.url + url.format(order=order.pk))
            assert page.locator("table").count() >= 1
            if wide_tables(page):
                scrolling[url] = wide_tables(page)
        assert scrolling == {}
        page.goto(f"{live_server.url}/orders/{order.pk}/")
        assert page.locator(".dispatches td[data-label]").first.is_visible()

        # A large CSV import's streamed progress page, and its outcome, fit too.
        page.goto(f"{live_server.url}/inventory/import/")
        page.set_input_files("#id_file", big_csv(tmp_path))
        page.click("form.card button[type=submit]")
        page.wait_for_selector("#import-done", timeout=120_000)
        assert overflow(page) == 0

        # The menu is folded away, and opens to show every link and Log out.
        page.goto(f"{live_server.url}/orders/")
        links = page.locator("nav a")
        assert links.count() == 6
        assert not any(links.nth(n).is_visible() for n in range(6))
        page.click("#nav-button")
        assert all(links.nth(n).is_visible() for n in range(6))
        assert page.is_visible("header .user button[type=submit]")  # Log out
        assert page.is_visible("header select[name=language]")
        assert overflow(page) == 0
    finally:
        context.close()
