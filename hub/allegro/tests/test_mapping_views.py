"""The inventory mapping screen: filters, search, keyset pages, link / unlink."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from hub.allegro.models import Channel, Listing, ListingEvent
from hub.catalog.models import StockItem

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(db: None) -> Channel:
    return Channel.objects.create(name="Shop", inventory_sync=False)


def add(channel: Channel, n: int, **fields: object) -> Listing:
    fields.setdefault("title", f"Offer {n}")
    return Listing.objects.create(channel=channel, offer_id=str(1000 + n), **fields)


def url(channel: Channel) -> str:
    return f"/settings/channels/{channel.pk}/listings/"


def shown(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [listing.offer_id for listing in response.context["listings"]]


def test_filters_and_search(logged_in_client: Client, shop: Channel) -> None:
    mug = StockItem.objects.create(sku="MUG", title="Mug")
    add(shop, 1)  # unlinked
    add(shop, 2, stock_item=mug, status="ACTIVE", known_quantity=3, target=5)
    add(shop, 3, stock_item=mug, status="ACTIVE", known_quantity=5, target=5)
    add(shop, 4, stock_item=mug, status="ACTIVE", known_quantity=5, target=0)
    add(shop, 5, stock_item=mug, status="ENDED", push_state="FAILED")
    add(shop, 6, title="Red kettle", external_id="KET-1")

    def ids(**query: str) -> list[str]:
        return shown(logged_in_client.get(url(shop), query))

    assert ids() == ["1001", "1002", "1003", "1004", "1005", "1006"]
    assert ids(show="unlinked") == ["1001", "1006"]
    assert ids(show="out_of_sync") == ["1002"]
    assert ids(show="out_of_stock") == ["1004"]
    assert ids(show="failed") == ["1005"]
    assert ids(show="ended") == ["1005"]
    assert ids(q="kettle") == ["1006"]
    assert ids(q="KET-1") == ["1006"]
    assert ids(q="1003") == ["1003"]
    page = logged_in_client.get(url(shop)).content.decode()
    assert "Inventory Sync is off for this channel: nothing is sent" in page


def test_the_count_says_how_many_match_and_an_empty_result_says_why(
    logged_in_client: Client, shop: Channel
) -> None:
    add(shop, 1, title="Red kettle")
    add(shop, 2, title="Blue mug")
    add(shop, 3, title="Red mug")

    def page(**query: str) -> str:
        return logged_in_client.get(url(shop), query).content.decode()

    assert "3 listings in all" in page()
    assert "2 of 3 listings match" in page(q="red")
    assert "1 of 3 listings matches" in page(q="blue")
    nothing = page(q="green")
    assert "0 of 3 listings match" in nothing
    assert "No listings match this search or filter." in nothing
    assert "allegro-hub sync" not in nothing  # the listings were read already
    Listing.objects.all().delete()
    empty = page()
    assert "No listings read from Allegro yet." in empty
    assert "--only listings" in empty


def test_keyset_pages_cost_the_same_queries_anywhere(
    logged_in_client: Client, shop: Channel
) -> None:
    Listing.objects.bulk_create(
        Listing(channel=shop, offer_id=str(n), title=f"t{n}") for n in range(250)
    )
    first = logged_in_client.get(url(shop))
    assert len(shown(first)) == 100
    second = logged_in_client.get(url(shop) + first.context["next_url"])
    third = logged_in_client.get(url(shop) + second.context["next_url"])
    assert len(shown(third)) == 50
    assert third.context["next_url"] == ""
    back = logged_in_client.get(url(shop) + third.context["previous_url"])
    assert shown(back) == shown(second)
    with CaptureQueriesContext(connection) as first_queries:
        logged_in_client.get(url(shop))
    with CaptureQueriesContext(connection) as later_queries:
        logged_in_client.get(url(shop) + second.context["next_url"])
    assert len(later_queries) == len(first_queries)
    assert not any("OFFSET" in q["sql"].upper() for q in later_queries.captured_queries)


def test_link_unlink_and_back_to_automatic(
    logged_in_client: Client, shop: Channel
) -> None:
    mug = StockItem.objects.create(sku="MUG", title="Mug")
    cup = StockItem.objects.create(sku="CUP", title="Cup")
    listing = add(shop, 1, external_id="MUG")
    link_url = f"{url(shop)}{listing.pk}/link/"

    logged_in_client.post(link_url, {"action": "link", "sku": "CUP"})
    listing.refresh_from_db()
    assert (listing.stock_item, listing.link_method) == (cup, "MANUAL")

    bad = logged_in_client.post(link_url, {"sku": "NOPE"}, follow=True)
    assert "No stock item with SKU “NOPE”; nothing was changed." in bad.content.decode()
    listing.refresh_from_db()
    assert listing.stock_item == cup

    logged_in_client.post(link_url, {"action": "unlink"})
    listing.refresh_from_db()
    assert (listing.stock_item, listing.link_method) == (None, "MANUAL")
    logged_in_client.post(f"{url(shop)}auto-link/")
    listing.refresh_from_db()
    assert listing.stock_item is None  # a hand-made unlink stays

    logged_in_client.post(link_url, {"action": "auto"})
    listing.refresh_from_db()
    assert (listing.stock_item, listing.link_method) == (mug, "AUTO")
    kinds = list(
        ListingEvent.objects.filter(listing=listing).values_list("kind", flat=True)
    )
    assert kinds == ["LINKED", "UNLINKED", "LINKED"]
    detail = logged_in_client.get(f"{url(shop)}{listing.pk}/").content.decode()
    assert "Linked by hand to CUP (alice)." in detail


def test_link_ignores_the_case_of_the_sku_and_keeps_a_refused_one(
    logged_in_client: Client, shop: Channel
) -> None:
    item = StockItem.objects.create(sku="DEMO-390", title="Kubek")
    StockItem.objects.create(sku="demo-39", title="Talerz")  # exact, lower case
    listing, other = add(shop, 1), add(shop, 2)
    link_url = f"{url(shop)}{listing.pk}/link/"

    refused = logged_in_client.post(link_url, {"sku": "demo-3900"}, follow=True)
    page = refused.content.decode()
    again = logged_in_client.get(url(shop)).content.decode()
    linked = logged_in_client.post(link_url, {"sku": " demo-390 "}, follow=True)
    exact = logged_in_client.post(
        f"{url(shop)}{other.pk}/link/", {"sku": "demo-39"}, follow=True
    )

    assert "No stock item with SKU “demo-3900”; nothing was changed." in page
    assert page.count('value="demo-3900"') == 1  # in this listing's box only
    assert 'value="demo-3900"' not in again  # shown once, not for ever
    assert "Linked offer 1001 to DEMO-390." in linked.content.decode()
    assert "Linked offer 1002 to demo-39." in exact.content.decode()
    listing.refresh_from_db()
    other.refresh_from_db()
    assert (listing.stock_item, listing.link_method) == (item, "MANUAL")
    assert other.stock_item is not None
    assert other.stock_item.sku == "demo-39"


def test_redirect_goes_back_only_to_this_screen(
    logged_in_client: Client, shop: Channel
) -> None:
    listing = add(shop, 1)
    link_url = f"{url(shop)}{listing.pk}/link/"
    evil = logged_in_client.post(
        link_url, {"action": "unlink", "next": "https://evil.example/"}
    )
    assert evil["Location"] == url(shop)
    kept = logged_in_client.post(
        link_url, {"action": "unlink", "next": url(shop) + "?show=unlinked"}
    )
    assert kept["Location"] == url(shop) + "?show=unlinked"


def test_listings_cli_lists_and_filters(shop: Channel) -> None:
    mug = StockItem.objects.create(sku="MUG", title="Mug")
    add(shop, 1)
    add(shop, 2, stock_item=mug, status="ACTIVE", known_quantity=3, target=5)
    out = StringIO()
    call_command("listings", "list", "Shop", "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert [
        (r["offer_id"], r["sku"], r["allegro_quantity"], r["target"]) for r in data
    ] == [
        ("1001", None, None, None),
        ("1002", "MUG", 3, 5),
    ]
    out = StringIO()
    call_command("listings", "list", "Shop", "--show", "unlinked", stdout=out)
    assert out.getvalue().split()[0] == "1001"
    assert "1002" not in out.getvalue()
    with pytest.raises(CommandError, match="No channel named 'Nope'"):
        call_command("listings", "list", "Nope", stdout=StringIO())
