"""How numbers, money and times look to the reader: one form per language.

Money goes through Babel (CLDR data), so each locale gets its own form: Polish
"2 469,12 zł", English "PLN 2,469.12". Times are shown in the hub's time zone,
in one pattern per language, everywhere (pages, history, CSV names excluded).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import get_language

# Django language code → Babel locale
LOCALES = {"pl": "pl_PL", "en": "en_GB"}
DATETIME_PATTERNS = {"pl": "dd.MM.yyyy, HH:mm", "en": "d MMM yyyy, HH:mm"}
DATE_PATTERNS = {"pl": "dd.MM.yyyy", "en": "d MMM yyyy"}


def _language() -> str:
    language = (get_language() or "en").split("-")[0]
    return language if language in LOCALES else "en"


def locale_name() -> str:
    return LOCALES[_language()]


def format_money(amount: Decimal | str | int | float | None, currency: str) -> str:
    """The amount with the currency's symbol, in the reader's locale."""
    if amount is None or amount == "":
        return ""
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        return f"{amount} {currency}".strip()
    locale = locale_name()
    if not currency:
        return format_decimal(value, format="#,##0.00", locale=locale)
    return format_currency(value, currency, locale=locale)


def format_when(value: datetime | None) -> str:
    """A moment in the hub's time zone, the language's one pattern."""
    if value is None:
        return ""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    pattern = DATETIME_PATTERNS[_language()]
    return format_datetime(value, pattern, locale=locale_name())


def format_day(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return format_date(value, DATE_PATTERNS[_language()], locale=locale_name())


def money_param(value: Mapping[str, Any]) -> str:
    return format_money(value.get("amount"), str(value.get("currency") or ""))


def when_param(value: Mapping[str, Any]) -> str:
    raw = str(value.get("at") or "")
    try:
        moment = parse_datetime(raw)
    except ValueError:
        moment = None
    return format_when(moment) if moment else raw
