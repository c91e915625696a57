"""The UI in Polish: pages, lazy labels and the compiled catalogue."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import translation

from hub.catalog.models import StockItem

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def back_to_english() -> Iterator[None]:
    # A Polish request leaves Polish active in this thread; without this, tests
    # run later (e.g. the run command's English hint) would see Polish.
    yield
    translation.activate(settings.LANGUAGE_CODE)


LOCALE_DIR = Path(settings.BASE_DIR) / "locale" / "pl" / "LC_MESSAGES"


def polish(client: Client, url: str) -> str:
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="pl")
    assert response.status_code == 200, url
    assert response.headers["Content-Language"] == "pl"
    return response.content.decode()


def test_dashboard_in_polish(logged_in_client: Client) -> None:
    StockItem.objects.create(sku="A-1", title="Kubek")
    html = polish(logged_in_client, "/")
    assert '<html lang="pl">' in html
    for text in ("Pulpit", "Magazyn", "Zamówienia", "Ustawienia", "Wyloguj"):
        assert text in html
    # Polish plural forms: 1 → form 0, 0 → form 2.
    assert "produkt w magazynie" in html
    assert "otwartych zamówień" in html
    assert "Dashboard" not in html
    assert "Log out" not in html
    # The switcher names each language in that language.
    assert 'lang="en">English</option>' in html
    assert 'lang="pl" selected>Polski</option>' in html


def test_dashboard_plural_few(logged_in_client: Client) -> None:
    for n in range(3):
        StockItem.objects.create(sku=f"A-{n}", title="Kubek")
    assert "produkty w magazynie" in polish(logged_in_client, "/")


def test_english_stays_default(logged_in_client: Client) -> None:
    html = logged_in_client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Dashboard" in html
    assert "Pulpit" not in html


def test_language_cookie_switches_to_polish(logged_in_client: Client) -> None:
    logged_in_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "pl"
    html = logged_in_client.get("/inventory/").content.decode()
    assert "Nowy produkt" in html
    assert "Lokalizacje" in html
    assert "Brak produktów w magazynie" in html


def test_language_switcher_sets_polish(logged_in_client: Client) -> None:
    response = logged_in_client.post(
        "/i18n/setlang/", {"language": "pl", "next": "/orders/"}
    )
    assert response.status_code == 302
    html = logged_in_client.get("/orders/").content.decode()
    assert "Brak pasujących zamówień." in html
    assert "Filtruj" in html


@pytest.mark.parametrize(
    ("url", "text"),
    [
        ("/settings/channels/", "Integracje kanałów sprzedaży"),
        ("/settings/channels/add/", "Dodaj kanał sprzedaży"),
        ("/settings/channels/add/allegro/", "Połącz z Allegro"),
        ("/settings/api-tokens/", "Tokeny API"),
        ("/inventory/new/", "Stan magazynowy"),
        ("/inventory/locations/", "Nowa lokalizacja"),
        ("/inventory/import/", "Import stanów magazynowych z pliku CSV"),
    ],
)
def test_other_pages_in_polish(logged_in_client: Client, url: str, text: str) -> None:
    assert text in polish(logged_in_client, url)


def test_login_page_in_polish(client: Client) -> None:
    html = polish(client, "/login/")
    assert "Zaloguj się" in html
    assert "Hasło" in html


def test_lazy_labels_and_messages_in_polish() -> None:
    from hub.allegro import options
    from hub.orders.models import Order

    with translation.override("pl"):
        assert str(Order.Status.OPEN.label) == "Otwarte"
        assert str(options.OPTIONS_BY_NAME["relist_items"].label) == "Wznawiaj oferty"
        with pytest.raises(ValidationError) as caught:
            options.parse_value(options.OPTIONS_BY_NAME["enabled"], "maybe")
        assert "tak" in caught.value.messages[0]
        # Django's own Polish catalogue still works next to ours.
        required = translation.gettext("This field is required.")
        assert required == "To pole jest wymagane."
