"""Stored messages: codes rendered in the reader's language, old texts migrated."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.utils import translation

from hub.allegro import texts as allegro_texts
from hub.orders import texts
from hub.orders.history import history
from hub.orders.models import ImportProblem, Order, OrderEvent
from hub.text import actor
from hub.text.formats import format_day, format_money, format_when
from hub.text.legacy import parse
from hub.text.message import Message, labels, money, sentences, status, when

NBSP = "\u00a0"


def test_a_message_renders_in_the_active_language():
    message = Message(
        texts.IMPORTED,
        status=status("READY_FOR_PROCESSING"),
        lines=2,
        total=money(Decimal("2469.12"), "PLN"),
    )
    with translation.override("en"):
        assert str(message) == "Imported: Ready for processing, 2 lines, PLN2,469.12."
    with translation.override("pl"):
        assert str(message) == (
            "Zaimportowano: Gotowe do realizacji, 2 pozycje, razem "
            f"2{NBSP}469,12{NBSP}zł."
        )


def test_nested_messages_and_label_lists_render_too():
    error = Message(
        allegro_texts.WITH_TRACE,
        text=Message(allegro_texts.REFUSED, text="Oferta nie istnieje"),
        trace="abc",
    )
    changed = Message(texts.FIELDS_CHANGED, fields=labels("order.field.buyer_phone"))
    with translation.override("en"):
        assert str(error) == (
            "Allegro refused the request: Oferta nie istnieje (Allegro Trace-Id: abc)"
        )
        assert str(changed) == "Changed: buyer phone."
    with translation.override("pl"):
        assert str(changed) == "Zmieniono: telefon kupującego."


def test_several_findings_of_one_change_read_as_sentences_in_each_language():
    message = Message(
        texts.SEVERAL_CHANGES,
        changes=sentences(Message(texts.PAID), Message(texts.LINES_CHANGED)),
    )
    stored = Message.from_json(message.to_json())  # as read back from a row
    with translation.override("en"):
        assert str(stored) == "Payment received. Order lines changed."
    with translation.override("pl"):
        assert str(stored) == "Otrzymano płatność. Zmieniły się pozycje zamówienia."
    broken = Message(texts.SEVERAL_CHANGES, changes={"$": "sentences", "items": 3})
    assert str(broken) == ""


def test_unknown_codes_and_bad_parameters_never_break_a_page():
    assert str(Message("no.such.code")) == "no.such.code"
    assert str(Message(texts.NO_SKU_MATCH)) == "line.no_sku_match"  # sku missing
    assert str(Message.literal("kept as written")) == "kept as written"
    assert not Message()
    assert Message.coerce("") == Message()
    assert Message.coerce({"code": texts.PAID}) == Message(texts.PAID)


@pytest.mark.django_db
def test_message_field_round_trip_and_plain_strings_become_literals():
    order = Order.objects.create(source="allegro", account="1", external_id="o1")
    event = history(
        order, OrderEvent.Kind.PAID, texts.PAID, actor=actor.ALLEGRO, source_event="x"
    )
    stored = OrderEvent.objects.get(pk=event.pk)
    assert stored.message == Message(texts.PAID)
    assert stored.actor_name == "Allegro"
    problem = ImportProblem.objects.create(
        source="allegro", account="1", external_id="f1", reason="Quantity 0."
    )
    assert ImportProblem.objects.get(pk=problem.pk).reason == Message.literal(
        "Quantity 0."
    )
    ImportProblem.objects.filter(pk=problem.pk).update(reason="")
    assert not ImportProblem.objects.get(pk=problem.pk).reason


def test_actors_in_words():
    with translation.override("pl"):
        assert actor.describe("user:ania") == "ania"
        assert actor.describe("token:ERP") == "token API „ERP”"
        assert actor.describe("cli") == "wiersz poleceń"
        assert actor.describe("allegro") == "Allegro"
        assert actor.describe("") == ""


def test_money_in_each_locale():
    with translation.override("pl"):
        assert format_money(Decimal("2469.12"), "PLN") == f"2{NBSP}469,12{NBSP}zł"
        assert format_money("49", "CZK") == f"49,00{NBSP}CZK"
        assert format_money(None, "PLN") == ""
    with translation.override("en"):
        assert format_money(Decimal("2469.12"), "PLN") == "PLN2,469.12"
        assert format_money("5.5", "EUR") == "€5.50"


def test_one_local_time_format_per_language(settings):
    settings.TIME_ZONE = "Europe/Warsaw"
    moment = datetime(2026, 11, 30, 20, 5, tzinfo=UTC)  # 21:05 in Warsaw
    with translation.override("pl"):
        assert format_when(moment) == "30.11.2026, 21:05"
        assert format_day(moment) == "30.11.2026"
    with translation.override("en"):
        assert format_when(moment) == "30 Nov 2026, 21:05"
        assert format_when(None) == ""


def test_old_english_texts_map_to_codes_and_the_rest_stays_literal():
    from importlib import import_module

    migration = import_module("hub.orders.migrations.0005_stored_messages")
    imported = parse(
        "Imported: BOUGHT, 1 line(s), 49.00 PLN. 1 line(s) not linked to stock.",
        migration.HISTORY,
    )
    assert imported == {
        "code": "order.imported_unlinked",
        "params": {
            "status": {"$": "status", "raw": "BOUGHT"},
            "lines": 1,
            "total": {"$": "money", "amount": "49.00", "currency": "PLN"},
            "unlinked": 1,
        },
    }
    assert parse("Changed: buyer phone, total.", migration.HISTORY) == {
        "code": "order.fields_changed",
        "params": {
            "fields": [
                {"code": "order.field.buyer_phone"},
                {"code": "order.field.total"},
            ]
        },
    }
    assert parse("Payment received.", migration.HISTORY) == {"code": "order.paid"}
    assert parse("Changed: colour.", migration.HISTORY) == {"text": "Changed: colour."}
    assert parse("Zapłacono.", migration.HISTORY) == {"text": "Zapłacono."}
    problem = parse(
        "Allegro sent a response the hub cannot read (GET /x: bad). Nothing was "
        "changed; if this keeps happening, report it with the Trace-Id. "
        "(Allegro Trace-Id: t-1)",
        migration.PROBLEMS,
    )
    assert problem == {
        "code": "allegro.with_trace",
        "params": {
            "text": {"code": "allegro.malformed", "params": {"what": "GET /x: bad"}},
            "trace": "t-1",
        },
    }


def test_a_parameter_used_twice_in_an_old_text_must_be_the_same_text():
    from importlib import import_module

    allegro = import_module("hub.allegro.migrations.0008_stored_messages")
    text = (
        "These tokens are for the Allegro account anna, but this channel belongs "
        "to shop. Sign in as shop, or add a new channel for anna. The new tokens "
        "were not kept."
    )
    assert parse(text, allegro.PATTERNS) == {
        "code": "allegro.other_account",
        "params": {"login": "anna", "old": "shop"},
    }
    odd = text.replace("Sign in as shop", "Sign in as bob")
    assert parse(odd, allegro.PATTERNS) == {"text": odd}


def test_a_moment_and_a_list_of_messages_as_parameters(settings):
    """when(): a moment in the reader's time format, not the writer's; a list
    of messages: each in the reader's language, joined."""
    settings.TIME_ZONE = "Europe/Warsaw"
    moment = datetime(2026, 12, 30, 9, 0, tzinfo=UTC)
    message = Message(allegro_texts.SENT_ACTIVATE_AT, when=when(moment))
    assert message.to_json()["params"] == {
        "when": {"$": "when", "at": "2026-12-30T09:00:00+00:00"}
    }
    with translation.override("pl"):
        assert str(message) == "Wysłano: aktywuj o 30.12.2026, 10:00."
    with translation.override("en"):
        assert str(message) == "Sent: activate at 30 Dec 2026, 10:00."
    changed = Message(
        allegro_texts.CHANGED,
        changes=[
            Message(allegro_texts.STATUS_CHANGED, old="ACTIVE", new="ENDED"),
            Message(allegro_texts.QUANTITY_CHANGED, old=5, new=3),
        ],
    )
    assert Message.coerce(changed.to_json()) == changed  # stored as plain JSON
    with translation.override("pl"):
        assert str(changed).startswith("status ACTIVE → ENDED, ")


def test_listing_statuses_in_words_with_the_raw_status_as_tooltip():
    from hub.web.templatetags.hub_formats import listing_status

    with translation.override("pl"):
        html = listing_status("ENDED")
    assert html == ('<span class="status status-ended" title="ENDED">Zakończona</span>')
    assert listing_status("SOMETHING_NEW").endswith(">SOMETHING_NEW</span>")
    assert listing_status("") == "—"
