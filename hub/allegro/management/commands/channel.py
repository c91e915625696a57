"""`allegro-hub channel …`: Allegro channels for scripted installs.

    channel add NAME --client-id ID --client-secret SECRET [--environment …]
                [--api-url URL --auth-url URL] [--refresh-token TOKEN]
    channel connect NAME      device flow in the terminal
    channel test NAME
    channel list
    channel show NAME         every option and its value
    channel set NAME OPTION VALUE

`add` goes through the same form as the config screen and `set` through the same
option rules (hub/allegro/options.py), so the CLI accepts exactly what the screen does.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from hub.allegro import auth, connection, options
from hub.allegro.errors import AllegroError
from hub.allegro.forms import ChannelForm
from hub.allegro.models import Channel
from hub.allegro.views_oauth import format_user_code


class Command(BaseCommand):
    help = "Add, connect, test, list and configure Allegro channels."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="add a channel")
        add.add_argument("name", help="the SubSource: the name on its orders")
        add.add_argument("--client-id", default="", help="empty = ALLEGRO_CLIENT_ID")
        add.add_argument("--client-secret", default="")
        add.add_argument("--client-secret-file", type=Path, help="read it from a file")
        add.add_argument(
            "--environment",
            default="production",
            choices=[c.value for c in Channel.Environment],
        )
        add.add_argument("--api-url", default="")
        add.add_argument("--auth-url", default="")
        add.add_argument(
            "--refresh-token", default="", help="connect with an existing token"
        )
        add.add_argument("--refresh-token-file", type=Path)
        for name in ("connect", "test", "show"):
            sub.add_parser(name).add_argument("name")
        sub.add_parser("list", help="list the channels and their health")
        set_ = sub.add_parser("set", help="set one option")
        set_.add_argument("name")
        set_.add_argument("option", help=", ".join(o.cli_name for o in options.OPTIONS))
        set_.add_argument("value")

    def handle(self, *args: Any, **opts: Any) -> None:
        action = opts["action"]
        if action == "add":
            self.add(opts)
        elif action == "list":
            self.list()
        elif action == "set":
            self.set(get_channel(opts["name"]), opts["option"], opts["value"])
        elif action == "show":
            self.show(get_channel(opts["name"]))
        elif action == "connect":
            self.connect(get_channel(opts["name"]))
        elif action == "test":
            self.test(get_channel(opts["name"]))

    def add(self, opts: dict[str, Any]) -> None:
        secret = read_secret(opts["client_secret"], opts["client_secret_file"])
        refresh_token = read_secret(opts["refresh_token"], opts["refresh_token_file"])
        data = {
            "name": opts["name"],
            "environment": opts["environment"],
            "api_url": opts["api_url"],
            "auth_url": opts["auth_url"],
            "client_id": opts["client_id"],
            "client_secret": secret,
            "enabled": "on",
            "sync_orders_from": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "relist_delay_minutes": "0",
        }
        form = ChannelForm(data)
        if not form.is_valid():
            raise CommandError(form_errors(form))
        channel = form.save()
        self.stdout.write(
            _("Added channel %(name)s (id %(id)s).")
            % {"name": channel.name, "id": channel.pk}
        )
        if not refresh_token:
            self.stdout.write(
                _(
                    "Next: allegro-hub channel connect %(name)s  (or Connect with "
                    "Allegro on Settings → Channel Integration)"
                )
                % {"name": channel.name}
            )
            return
        try:
            # Before the refresh token is spent: a wrong secret is named as such.
            auth.check_client_credentials(channel)
            auth.connect_with_refresh_token(channel, refresh_token)
        except AllegroError as exc:
            raise CommandError(
                _("The channel was added but not connected: %(why)s")
                % {"why": str(connection.explain(channel, exc))}
            ) from None
        self.report(connection.after_connect(channel))

    def list(self) -> None:
        channels = Channel.objects.prefetch_related("cursors")
        if not channels:
            self.stdout.write(_("No channels. Add one: allegro-hub channel add NAME …"))
            return
        for channel in channels:
            self.stdout.write(describe(channel))

    def show(self, channel: Channel) -> None:
        self.stdout.write(describe(channel))
        for option in options.OPTIONS:
            value = options.display_value(option, getattr(channel, option.name))
            self.stdout.write(f"  {option.cli_name:26} {value}")

    def set(self, channel: Channel, option_name: str, text: str) -> None:
        try:
            option = options.find_option(option_name)
            value = options.check_value(
                option,
                options.parse_value(option, text),
                getattr(channel, option.name),
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        values = options.option_values(channel) | {option.name: value}
        problems = options.combination_errors(values)
        if problems:
            raise CommandError(" ".join(problems.values()))
        setattr(channel, option.name, value)
        # Only this field: never write back tokens a refresh may have rotated.
        channel.save(update_fields=[option.name, "updated_at"])
        shown = options.display_value(option, value)
        self.stdout.write(f"{channel.name}: {option.cli_name} = {shown}")

    def connect(self, channel: Channel) -> None:
        """Device flow (api-notes §2.2): show the code, poll until it is decided."""
        try:
            auth.check_client_credentials(channel)
            device = auth.start_device_flow(channel)
        except AllegroError as exc:
            raise CommandError(str(connection.explain(channel, exc))) from None
        self.stdout.write(
            _("Open %(link)s signed in as the seller\nand allow access. Code: %(code)s")
            % {
                "link": device.verification_uri_complete,
                "code": format_user_code(device.user_code),
            }
        )
        interval = int(device.interval)
        deadline = time.monotonic() + int(device.expires_in)
        while time.monotonic() < deadline:
            time.sleep(interval)
            try:
                result = auth.poll_device_flow(channel, device.device_code)
            except AllegroError as exc:
                raise CommandError(str(connection.explain(channel, exc))) from None
            if result.status == "slow_down":
                interval *= 2  # Allegro's sample doubles it (api-notes §2.2)
            elif result.status == "connected":
                self.report(connection.after_connect(channel))
                return
            elif result.status == "denied":
                raise CommandError(_("Access was not allowed on Allegro."))
            elif result.status == "expired":
                break
            self.stdout.write(".", ending="")
            self.stdout.flush()
        raise CommandError(
            _("The code expired before access was allowed. Start again.")
        )

    def test(self, channel: Channel) -> None:
        self.report(connection.check_connection(channel))

    def report(self, outcome: connection.Outcome) -> None:
        if not outcome.ok:
            raise CommandError(outcome.text)
        self.stdout.write(self.style.SUCCESS(outcome.text))


def get_channel(name: str) -> Channel:
    try:
        return Channel.objects.get(name=name)
    except Channel.DoesNotExist:
        names = ", ".join(Channel.objects.values_list("name", flat=True)) or "-"
        raise CommandError(
            _("No channel called %(name)r. Channels: %(names)s")
            % {"name": name, "names": names}
        ) from None


def read_secret(value: str, path: Path | None) -> str:
    if path is None:
        return value.strip()
    try:
        return path.read_text().strip()
    except OSError as exc:
        raise CommandError(
            _("Cannot read %(path)s: %(why)s") % {"path": path, "why": exc.strerror}
        ) from None


def form_errors(form: ChannelForm) -> str:
    lines = []
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for error in errors:
            lines.append(f"{label}: {error}" if label else str(error))
    return "\n".join(lines)


def describe(channel: Channel) -> str:
    if channel.needs_reconnect:
        health = _("NEEDS RECONNECT")
    elif not channel.is_connected:
        health = _("not connected")
    else:
        health = _("error") if channel.failing else _("ok")
    account = channel.account_login or "-"
    line = (
        f"{channel.name}  [{channel.environment}]  account={account}  "
        f"marketplace={channel.marketplace_id or '-'}  "
        f"currency={channel.default_currency or '-'}  "
        f"enabled={'yes' if channel.enabled else 'no'}  health={health}"
    )
    if channel.last_error:
        line += "\n  " + _("last error: %(text)s") % {"text": channel.last_error}
    for cursor in channel.cursors.all():
        when = (
            cursor.last_success_at.isoformat() if cursor.last_success_at else _("never")
        )
        line += "\n  " + _("%(stream)s: last success %(when)s") % {
            "stream": cursor.stream,
            "when": when,
        }
        if cursor.last_error:
            line += f" — {cursor.last_error}"
    return line
