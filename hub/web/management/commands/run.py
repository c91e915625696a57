"""`allegro-hub run`: the hub in one process — migrations, a WSGI server and the
embedded runner (hub/jobs/runner.py) that runs every sync flow on schedule.

Waitress is a production WSGI server (threads, no reloader, no debug pages);
static files are served by WhiteNoise from the same process, so there is nothing
else to set up. SIGTERM stops it like Ctrl+C: the runner lets running flows stop
at their next page, then the server closes.
"""

from __future__ import annotations

import signal
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _
from waitress.server import BaseWSGIServer, MultiSocketServer, create_server

from hub.jobs.runner import Runner


def make_server(
    host: str, port: int, threads: int
) -> BaseWSGIServer | MultiSocketServer:
    from hub.wsgi import application  # built after migrations, not at import

    return create_server(application, host=host, port=port, threads=threads)


class Command(BaseCommand):
    help = "Apply migrations and serve the hub (default http://127.0.0.1:8000/)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000, help="0 = any free port")
        parser.add_argument("--threads", type=int, default=8)
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="serve the web UI only; flows run elsewhere (allegro-hub worker)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        runner = None if options["no_worker"] else Runner()
        run(self, options["host"], options["port"], options["threads"], runner)


def stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    """`kill` stops the hub like Ctrl+C does."""
    raise KeyboardInterrupt


def run(
    command: BaseCommand,
    host: str,
    port: int,
    threads: int,
    runner: Runner | None = None,
) -> None:
    call_command("migrate", interactive=False, verbosity=0)
    server = make_server(host, port, threads)
    port = getattr(server, "effective_port", port)
    command.stdout.write(
        _("allegro-hub is running on http://%(host)s:%(port)s/ (Ctrl+C stops it)")
        % {"host": host, "port": port}
    )
    hint = allowed_hosts_hint(host, settings.ALLOWED_HOSTS)
    if hint:
        command.stderr.write(hint)
    command.stdout.flush()
    previous = signal.signal(signal.SIGTERM, stop_on_sigterm)
    try:
        if runner is not None:
            runner.start()
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        if runner is not None:
            runner.stop()
        server.close()
        signal.signal(signal.SIGTERM, previous)


LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def allowed_hosts_hint(host: str, allowed: list[str]) -> str:
    """Listening beyond this machine: Django answers "Bad Request (400)" to any
    address not in HUB_ALLOWED_HOSTS, which tells a seller nothing; say it now."""
    if host in LOOPBACK or "*" in allowed:
        return ""
    return _(
        "Listening on %(host)s: open the hub only at addresses listed in "
        "HUB_ALLOWED_HOSTS (now: %(allowed)s), or the browser shows “Bad Request "
        "(400)”. Example: HUB_ALLOWED_HOSTS=192.168.1.10,hub.local"
    ) % {"host": host, "allowed": ", ".join(allowed) or "-"}
