"""Channel and cursor health (last_error) becomes a code + parameters
(hub.text.message), translated when shown. Known English texts map to their
codes; anything else is kept as a literal text."""

from django.db import migrations

import hub.text.fields
from hub.text.legacy import migrate_column, parse


def _same(groups):
    return dict(groups)


ERRORS = [
    ("allegro.error", "Allegro returned an error: %(text)s", _same),
    (
        "allegro.transient",
        "Allegro could not be reached or had a temporary problem (%(what)s). "
        "The hub will try again automatically.",
        _same,
    ),
    (
        "allegro.transient",
        "Allegro could not be reached or had a temporary problem (%(what)s). "
        "This is usually temporary: try again in a few minutes.",
        _same,
    ),
    (
        "allegro.rate_limited",
        "Allegro asked us to slow down (too many requests). Wait "
        "%(seconds)d seconds, then try again.",
        None,
    ),
    (
        "allegro.rate_limited",
        "Allegro asked us to slow down (too many requests). The hub waits "
        "%(seconds)d seconds and tries again automatically.",
        None,
    ),
    (
        "allegro.token_rate_limited",
        "Allegro refused a new access token for this account for now (too "
        "many tokens generated). The hub tries again at the next sync.",
        None,
    ),
    (
        "allegro.auth_revoked",
        "Allegro no longer accepts this channel's authorisation (the seller "
        "may have unlinked the application, changed the password, or the "
        "tokens expired). Open Settings → Channel Integration and connect "
        "the account again.",
        None,
    ),
    ("allegro.refused", "Allegro refused the request: %(text)s", _same),
    (
        "allegro.not_found",
        "Allegro says this does not exist (any more): %(text)s. Ended offers "
        "are archived by Allegro 60 days after they end.",
        _same,
    ),
    (
        "allegro.malformed",
        "Allegro sent a response the hub cannot read (%(what)s). Nothing was "
        "changed; if this keeps happening, report it with the Trace-Id.",
        _same,
    ),
    ("allegro.not_sent", "Not sent to Allegro: %(text)s", _same),
    (
        "allegro.refresh_rejected",
        "Allegro rejected the refresh token; reconnect the channel",
        None,
    ),
    (
        "allegro.access_refused",
        "Allegro refused the channel's access even after a token refresh; "
        "reconnect the channel",
        None,
    ),
    (
        "allegro.reconnect",
        "Allegro no longer accepts this connection (access was withdrawn, the "
        "password changed, or the tokens expired): click “Connect with Allegro” "
        "again.",
        None,
    ),
    (
        "allegro.invalid_client",
        "Allegro does not accept this Client ID and Secret: check them in the "
        "application settings at apps.developer.allegro.pl",
        None,
    ),
    (
        "allegro.cannot_reach",
        "Cannot reach %(host)s: check the API URL and the network connection.",
        _same,
    ),
    (
        "allegro.other_account",
        "These tokens are for the Allegro account %(login)s, but this channel "
        "belongs to %(old)s. Sign in as %(old)s, or add a new channel for "
        "%(login)s. The new tokens were not kept.",
        _same,
    ),
    (
        "allegro.account_connected",
        "The Allegro account %(login)s is already connected as channel "
        "%(other)s. One account can be connected only once. The new tokens "
        "were not kept.",
        _same,
    ),
    (
        "allegro.account_taken_meanwhile",
        "Another channel took this Allegro account meanwhile; the new tokens "
        "were not kept.",
        None,
    ),
    (
        "allegro.database_trouble",
        "The hub's database could not save this pass (%(what)s). Nothing "
        "half-done was kept; the next sync tries again.",
        _same,
    ),
    (
        "allegro.settings_changed",
        "The environment or Client ID changed: connect the account again.",
        None,
    ),
]


def _with_trace(groups):
    inner = parse(groups["text"], ERRORS)
    if "code" not in inner:
        return None
    return {"text": inner, "trace": groups["trace"]}


PATTERNS = [
    ("allegro.with_trace", "%(text)s (Allegro Trace-Id: %(trace)s)", _with_trace),
    *ERRORS,
]


def forwards(apps, schema_editor):
    for name in ("Channel", "SyncCursor"):
        migrate_column(apps.get_model("allegro", name), "last_error", "error_new", PATTERNS)


class Migration(migrations.Migration):
    dependencies = [
        ("allegro", "0007_lifecycle"),
    ]

    operations = [
        migrations.AddField(
            model_name="channel",
            name="error_new",
            field=hub.text.fields.MessageField(blank=True, default=hub.text.fields.empty_message),
        ),
        migrations.AddField(
            model_name="synccursor",
            name="error_new",
            field=hub.text.fields.MessageField(blank=True, default=hub.text.fields.empty_message),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop, elidable=True),
        migrations.RemoveField(model_name="channel", name="last_error"),
        migrations.RemoveField(model_name="synccursor", name="last_error"),
        migrations.RenameField(model_name="channel", old_name="error_new", new_name="last_error"),
        migrations.RenameField(
            model_name="synccursor", old_name="error_new", new_name="last_error"
        ),
    ]
