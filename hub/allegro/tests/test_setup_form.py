"""The config screen's form: every option's rule, secrets, connection fields."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django import forms
from django.db.models import ProtectedError
from django.utils import timezone, translation

from hub.allegro.forms import ChannelForm
from hub.allegro.models import Channel
from hub.catalog.models import Location

pytestmark = pytest.mark.django_db


def valid_data(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "MyAllegroChannel",
        "environment": "production",
        "client_id": "app-id",
        "client_secret": "app-secret",
        "enabled": "on",
        "sync_orders_from": "2026-11-01T08:00",
        "relist_delay_minutes": "0",
        "relist_duration": "",
        "relist_auction_duration": "",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def errors_of(data: dict[str, Any], instance: Channel | None = None) -> dict[str, Any]:
    form = ChannelForm(data, instance=instance)
    form.is_valid()
    return dict(form.errors)


def test_valid_form_saves_every_option():
    location = Location.objects.create(name="Magazyn B")
    data = valid_data(
        inventory_sync="on",
        inventory_location=str(location.pk),
        submit_tracking="on",
        relist_items="on",
        end_listings="on",
        no_manual_confirmation="on",
        relist_duration="P10D",
        relist_auction_duration="P3D",
        relist_delay_minutes="15",
        end_auctions="on",
        end_auctions_with_bids="on",
        link_by_title="on",
        default_currency="CZK",
    )
    form = ChannelForm(data)
    assert form.is_valid(), form.errors

    channel = form.save()

    channel.refresh_from_db()
    assert channel.name == "MyAllegroChannel"
    assert channel.client_secret == "app-secret"
    assert channel.enabled
    assert channel.inventory_sync
    assert channel.submit_tracking
    assert channel.inventory_location == location
    assert channel.relist_items
    assert channel.end_listings
    assert channel.no_manual_confirmation
    assert channel.link_by_title
    assert channel.end_auctions
    assert channel.end_auctions_with_bids
    assert channel.relist_duration == "P10D"
    assert channel.relist_auction_duration == "P3D"
    assert channel.relist_delay_minutes == 15
    assert channel.default_currency == "CZK"
    assert timezone.localtime(channel.sync_orders_from).strftime("%H:%M") == "08:00"


def test_until_sold_out_is_stored_as_no_duration():
    form = ChannelForm(valid_data(relist_duration=""))
    assert form.is_valid(), form.errors
    assert form.save().relist_duration == ""


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("relist_duration", "P1D"),  # auctions only
        ("relist_duration", "P14D"),
        ("relist_auction_duration", "P30D"),  # Buy Now only
        ("relist_delay_minutes", "-1"),
        ("relist_delay_minutes", "43201"),
        ("relist_delay_minutes", "soon"),
        ("default_currency", "złoty"),
        ("default_currency", "P1"),
        ("sync_orders_from", "yesterday"),
        ("inventory_location", "999"),
    ],
)
def test_nonsense_is_refused_on_its_field(field: str, value: str):
    errors = errors_of(valid_data(**{field: value}))

    assert list(errors) == [field]
    assert not Channel.objects.exists()


def test_duration_error_names_what_allegro_allows():
    errors = errors_of(valid_data(relist_duration="P14D"))
    message = errors["relist_duration"][0]
    assert "P14D" in message or "valid choice" in message


def test_delay_below_zero_says_the_range():
    errors = errors_of(valid_data(relist_delay_minutes="-5"))
    assert errors["relist_delay_minutes"] == [
        "Enter a delay between 0 and 43200 minutes."
    ]


def test_end_auctions_with_bids_needs_end_auctions():
    errors = errors_of(valid_data(end_listings="on", end_auctions_with_bids="on"))
    assert list(errors) == ["end_auctions_with_bids"]
    assert "needs End Auctions" in errors["end_auctions_with_bids"][0]


def test_end_auctions_needs_end_listings():
    errors = errors_of(valid_data(end_auctions="on"))
    assert list(errors) == ["end_auctions"]


def test_sync_orders_from_in_the_future_is_refused():
    later = timezone.localtime() + timedelta(days=2)
    errors = errors_of(valid_data(sync_orders_from=later.strftime("%Y-%m-%dT%H:%M")))
    assert list(errors) == ["sync_orders_from"]


def test_sync_orders_from_is_required_and_defaults_to_now():
    assert list(errors_of(valid_data(sync_orders_from=""))) == ["sync_orders_from"]
    shown = str(ChannelForm()["sync_orders_from"])
    assert f'value="{timezone.localtime().strftime("%Y-%m-%dT%H:%M")}"' in shown


def test_subsource_must_be_unique():
    ChannelForm(valid_data()).save()
    errors = errors_of(valid_data(client_id="other"))
    assert list(errors) == ["name"]
    assert Channel.objects.count() == 1


def test_custom_environment_needs_the_api_url():
    errors = errors_of(valid_data(environment="custom"))
    assert list(errors) == ["api_url"]


def test_production_ignores_custom_urls():
    form = ChannelForm(valid_data(api_url="http://evil.example", auth_url=""))
    assert form.is_valid(), form.errors
    channel = form.save()
    assert channel.api_url == ""
    assert channel.urls() == ("https://api.allegro.pl", "https://allegro.pl")


def test_client_id_without_secret_is_refused(settings):
    settings.ALLEGRO_CLIENT_ID = ""
    assert list(errors_of(valid_data(client_secret=""))) == ["client_secret"]
    assert list(errors_of(valid_data(client_id="", client_secret=""))) == ["client_id"]
    assert list(errors_of(valid_data(client_id=""))) == ["client_id"]


def test_install_wide_credentials_need_no_client_id(settings):
    settings.ALLEGRO_CLIENT_ID = "install-id"
    form = ChannelForm(valid_data(client_id="", client_secret=""))
    assert form.is_valid(), form.errors
    channel = form.save()
    assert channel.client_id == ""
    assert channel.client_secret_encrypted == ""


def test_blank_secret_keeps_the_stored_one():
    channel = ChannelForm(valid_data()).save()
    form = ChannelForm(valid_data(client_secret="", name="Renamed"), instance=channel)
    assert form.is_valid(), form.errors
    form.save()
    channel.refresh_from_db()
    assert channel.name == "Renamed"
    assert channel.client_secret == "app-secret"


def test_new_client_id_needs_its_secret():
    channel = ChannelForm(valid_data()).save()
    errors = errors_of(valid_data(client_id="other-app", client_secret=""), channel)
    assert list(errors) == ["client_secret"]


def test_changing_the_client_id_drops_the_tokens():
    channel = ChannelForm(valid_data()).save()
    Channel.objects.filter(pk=channel.pk).update(
        refresh_token_encrypted="x", access_token_encrypted="y"
    )
    channel.refresh_from_db()
    form = ChannelForm(
        valid_data(client_id="other", client_secret="s2"), instance=channel
    )
    assert form.is_valid(), form.errors

    form.save()

    channel.refresh_from_db()
    assert not channel.is_connected
    assert channel.needs_reconnect
    assert channel.token_version == 1


def test_saving_options_never_writes_back_old_tokens():
    # given a page loaded before a token refresh rotated the pair
    channel = ChannelForm(valid_data()).save()
    Channel.objects.filter(pk=channel.pk).update(refresh_token_encrypted="old")
    stale = Channel.objects.get(pk=channel.pk)
    Channel.objects.filter(pk=channel.pk).update(
        refresh_token_encrypted="rotated", token_version=5
    )
    # when the form is saved on the stale instance
    form = ChannelForm(
        valid_data(client_secret="", inventory_sync="on"), instance=stale
    )
    assert form.is_valid(), form.errors
    form.save()
    # then the rotated pair survives
    channel.refresh_from_db()
    assert channel.refresh_token_encrypted == "rotated"
    assert channel.token_version == 5
    assert channel.inventory_sync


def test_secret_is_never_rendered_back():
    channel = ChannelForm(valid_data(client_secret="very-secret-value")).save()
    html = ChannelForm(instance=channel).as_p()
    assert "very-secret-value" not in html
    assert channel.client_secret_encrypted not in html


def test_bound_form_with_errors_does_not_echo_the_secret():
    form = ChannelForm(valid_data(client_secret="typed-secret", end_auctions="on"))
    assert not form.is_valid()
    assert "typed-secret" not in form.as_p()


def test_saving_the_screen_again_keeps_sync_orders_from():
    channel = ChannelForm(valid_data()).save()
    Channel.objects.filter(pk=channel.pk).update(
        sync_orders_from=timezone.now().replace(second=0, microsecond=0)
    )
    channel.refresh_from_db()
    before = channel.sync_orders_from
    shown = ChannelForm(instance=channel)["sync_orders_from"].value()

    form = ChannelForm(
        valid_data(client_secret="", sync_orders_from=shown), instance=channel
    )
    assert form.is_valid(), form.errors
    form.save()

    channel.refresh_from_db()
    assert channel.sync_orders_from == before


def test_the_inventory_location_of_a_channel_cannot_be_deleted():
    # Falling back to "all locations" would push more stock than the seller has.
    location = Location.objects.create(name="Magazyn B")
    ChannelForm(valid_data(inventory_location=str(location.pk))).save()

    with pytest.raises(ProtectedError):
        location.delete()

    assert Channel.objects.get().inventory_location == location


def connected(channel: Channel) -> Channel:
    Channel.objects.filter(pk=channel.pk).update(
        refresh_token_encrypted="r", access_token_encrypted="a"
    )
    channel.refresh_from_db()
    return channel


@pytest.mark.parametrize(
    "changes",
    [
        {"environment": "sandbox"},
        {"environment": "custom", "api_url": "https://elsewhere.example"},
    ],
)
def test_another_server_needs_the_secret_again(changes: dict[str, str]) -> None:
    # A secret is only ever sent to the server it was typed for.
    channel = connected(ChannelForm(valid_data()).save())

    errors = errors_of(valid_data(client_secret="", **changes), channel)

    assert list(errors) == ["client_secret"]
    assert "only sent to the server it was entered for" in errors["client_secret"][0]
    channel.refresh_from_db()
    assert channel.environment == "production"
    assert channel.client_secret == "app-secret"
    assert channel.is_connected


def test_a_new_authorization_url_drops_secret_and_tokens_unless_retyped() -> None:
    custom = valid_data(environment="custom", api_url="https://api.example")
    channel = connected(ChannelForm(custom).save())
    moved = {**custom, "auth_url": "https://attacker.example", "client_secret": ""}
    assert list(errors_of(moved, channel)) == ["client_secret"]
    channel.refresh_from_db()  # as the next request would load it

    form = ChannelForm({**moved, "client_secret": "typed-for-it"}, instance=channel)
    assert form.is_valid(), form.errors
    form.save()

    channel.refresh_from_db()
    assert channel.auth_url == "https://attacker.example"
    assert channel.client_secret == "typed-for-it"
    assert not channel.is_connected
    assert channel.access_token_encrypted == ""


def test_install_wide_credentials_stored_secret_is_dropped_on_a_new_server(
    settings: Any,
) -> None:
    settings.ALLEGRO_CLIENT_ID = "install-app"
    channel = connected(ChannelForm(valid_data()).save())
    form = ChannelForm(
        valid_data(client_id="", client_secret="", environment="sandbox"),
        instance=channel,
    )
    assert form.is_valid(), form.errors
    form.save()
    channel.refresh_from_db()
    assert channel.client_secret_encrypted == ""
    assert not channel.is_connected


def test_unchanged_server_keeps_the_secret() -> None:
    channel = connected(ChannelForm(valid_data()).save())
    form = ChannelForm(valid_data(client_secret="", name="Renamed"), instance=channel)
    assert form.is_valid(), form.errors
    form.save()
    channel.refresh_from_db()
    assert channel.client_secret == "app-secret"
    assert channel.is_connected


def test_disconnect_bumps_token_version_past_a_refresh_saved_meanwhile() -> None:
    # The page was loaded at token_version 0; a refresh then saved version 5. The
    # disconnect must still move past it, or that refresh's writer would win.
    channel = connected(ChannelForm(valid_data()).save())
    stale = Channel.objects.get(pk=channel.pk)
    Channel.objects.filter(pk=channel.pk).update(token_version=5)
    form = ChannelForm(
        valid_data(client_id="other", client_secret="s2"), instance=stale
    )
    assert form.is_valid(), form.errors

    saved = form.save()

    channel.refresh_from_db()
    assert channel.token_version == 6
    assert saved.token_version == 6
    assert not channel.is_connected


def currency_choices(form: ChannelForm) -> list[tuple[str, str]]:
    field = form.fields["default_currency"]
    assert isinstance(field, forms.ChoiceField)
    choices: list[tuple[str, str]] = list(field.choices)  # type: ignore[arg-type]
    return [(str(code), str(label)) for code, label in choices]


def test_default_currency_is_a_choice_of_the_marketplaces_currencies():
    codes = [code for code, _label in currency_choices(ChannelForm())]
    assert codes == ["", "PLN", "CZK", "EUR", "HUF"]
    with translation.override("pl"):
        labels = dict(currency_choices(ChannelForm()))
    assert labels["PLN"] == "PLN — złoty polski"
    assert labels[""] == "Waluta serwisu"
    assert list(errors_of(valid_data(default_currency="USD"))) == ["default_currency"]


def test_a_currency_stored_before_the_list_keeps_working():
    """Any three letters were allowed before: such a channel still saves, and
    its code is on offer on its own screen only."""
    old = Channel.objects.create(name="Old", client_id="app-id", default_currency="USD")
    form = ChannelForm(valid_data(name="Old", default_currency="USD"), instance=old)
    assert "USD" in [code for code, _label in currency_choices(form)]
    assert form.is_valid(), form.errors
    assert form.save().default_currency == "USD"
    new = valid_data(name="New", default_currency="USD")
    assert list(errors_of(new)) == ["default_currency"]
