"""The UI in Polish: pages, lazy labels and the compiled catalogue."""

from __future__ import annotations

import ast
import gettext
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
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


# --- The catalogue: every string translated, and the committed .mo up to date ---

PLACEHOLDER = re.compile(r"%\(\w+\)[sdrif]|%[sdrif]")


@dataclass
class Entry:
    line: int
    flags: set[str] = field(default_factory=set)
    msgid: str = ""
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)


def unquote(text: str) -> str:
    return ast.literal_eval(text)


def read_po(path: Path) -> list[Entry]:
    """The active (not obsolete) entries of a .po file, header excluded.

    Entries are separated by blank lines, as makemessages (msgmerge) writes them.
    """
    entries: list[Entry] = []
    number = 1
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        entry = Entry(line=number + (block[:1] == "\n"))
        number += block.count("\n") + 2
        target: tuple[str, int] | None = None
        for line in (line.strip() for line in block.splitlines()):
            if line.startswith("#,"):
                entry.flags |= {flag.strip() for flag in line[2:].split(",")}
            elif line.startswith("#"):
                continue  # comments, references and obsolete (#~) entries
            elif line.startswith("msgctxt "):
                entry.msgctxt = unquote(line[8:])
                target = None
            elif line.startswith("msgid_plural "):
                entry.msgid_plural = unquote(line[13:])
                target = ("msgid_plural", 0)
            elif line.startswith("msgid "):
                entry.msgid = unquote(line[6:])
                target = ("msgid", 0)
            elif line.startswith("msgstr["):
                index = int(line[7 : line.index("]")])
                entry.msgstr[index] = unquote(line[line.index("]") + 2 :])
                target = ("msgstr", index)
            elif line.startswith("msgstr "):
                entry.msgstr[0] = unquote(line[7:])
                target = ("msgstr", 0)
            elif line.startswith('"') and target is not None:
                kind, index = target
                if kind == "msgid":
                    entry.msgid += unquote(line)
                elif kind == "msgid_plural":
                    entry.msgid_plural = (entry.msgid_plural or "") + unquote(line)
                else:
                    entry.msgstr[index] += unquote(line)
        if entry.msgid:  # the header has an empty msgid
            entries.append(entry)
    return entries


def test_polish_catalogue_is_complete() -> None:
    entries = read_po(LOCALE_DIR / "django.po")
    assert len(entries) > 100
    problems = []
    for entry in entries:
        where = f"django.po:{entry.line} {entry.msgid!r}"
        if "fuzzy" in entry.flags:
            problems.append(f"{where}: fuzzy")
        forms = 3 if entry.msgid_plural is not None else 1
        for index in range(forms):
            text = entry.msgstr.get(index, "")
            if not text:
                problems.append(f"{where}: msgstr[{index}] empty")
                continue
            source = entry.msgid_plural if index and entry.msgid_plural else entry.msgid
            if "python-format" in entry.flags and sorted(
                set(PLACEHOLDER.findall(source))
            ) != sorted(set(PLACEHOLDER.findall(text))):
                problems.append(f"{where}: placeholders differ in msgstr[{index}]")
    assert not problems, (
        "Untranslated or fuzzy Polish strings; run makemessages, translate them "
        "in hub/locale/pl/LC_MESSAGES/django.po, then compilemessages:\n"
        + "\n".join(problems)
    )


def test_polish_header_has_three_plural_forms() -> None:
    header = (LOCALE_DIR / "django.po").read_text(encoding="utf-8")
    assert '"Language: pl\\n"' in header
    assert "charset=UTF-8" in header
    assert "Plural-Forms: nplurals=3;" in header


def test_compiled_catalogue_matches_po() -> None:
    with (LOCALE_DIR / "django.mo").open("rb") as mo:
        compiled = gettext.GNUTranslations(mo)
    stale = []
    for entry in read_po(LOCALE_DIR / "django.po"):
        if "fuzzy" in entry.flags:
            continue
        if entry.msgctxt is not None:
            if compiled.pgettext(entry.msgctxt, entry.msgid) != entry.msgstr.get(0):
                stale.append(entry.msgid)
        elif entry.msgid_plural is None:
            if compiled.gettext(entry.msgid) != entry.msgstr.get(0):
                stale.append(entry.msgid)
        elif compiled.ngettext(entry.msgid, entry.msgid_plural, 5) != entry.msgstr.get(
            2
        ):
            stale.append(entry.msgid)
    assert not stale, (
        "django.mo is older than django.po; run compilemessages from hub/: "
        + "; ".join(map(repr, stale[:10]))
    )
