"""`allegro-hub sync NAME [--only orders,…]`: one pass of a channel's sync flows.

Prints what each flow did. Exits non-zero when a flow fails (the error, in plain
words, goes to stderr and to the channel's health on the channel list). The
flows are those of hub/jobs/registry.py; each run is recorded like the
runner's, and a flow the runner is running at that moment is not run twice.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from hub.allegro.models import Channel
from hub.jobs.execute import run_flows_now
from hub.jobs.models import FlowRun
from hub.jobs.registry import FLOWS, Flow, flow_names, get_flow


class Command(BaseCommand):
    help = "Run one pass of a channel's sync flows and print what they did."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="the channel's name (SubSource)")
        parser.add_argument(
            "--only",
            default="",
            help="comma-separated flows to run (default: all): "
            + ", ".join(flow_names()),
        )
        parser.add_argument("--quiet", action="store_true", help="no progress lines")

    def handle(self, *args: object, **options: object) -> None:
        name = str(options["name"])
        channel = Channel.objects.filter(name=name).first()
        if channel is None:
            raise CommandError(_("No channel named %(name)s.") % {"name": repr(name)})
        flows = self.chosen_flows(str(options["only"]))

        def progress(text: str) -> None:
            if not options["quiet"]:
                self.stdout.write(f"  {text}")

        failed = []
        for flow in flows:
            self.stdout.write(f"{channel.name} · {flow.name}:")
            [(_flow, run)] = run_flows_now(channel, [flow], progress=progress)
            if run is None:
                self.stdout.write(
                    f"{channel.name} · {flow.name}: "
                    + _("already running in another process; not started twice.")
                )
            elif run.outcome == FlowRun.Outcome.OK:
                self.stdout.write(f"{channel.name} · {flow.name}: {run.summary}")
            else:
                self.stderr.write(f"{channel.name} · {flow.name}: {run.error}")
                failed.append(flow.name)
        if failed:
            raise CommandError(_("Failed: %(flows)s.") % {"flows": ", ".join(failed)})

    def chosen_flows(self, only: str) -> list[Flow]:
        if not only:
            return list(FLOWS)
        chosen = [flow.strip() for flow in only.split(",") if flow.strip()]
        unknown = [flow for flow in chosen if flow not in flow_names()]
        if unknown or not chosen:
            raise CommandError(
                _("Unknown flow(s): %(unknown)s; choose from %(known)s.")
                % {
                    "unknown": ", ".join(unknown) or "-",
                    "known": ", ".join(flow_names()),
                }
            )
        return [get_flow(flow) for flow in chosen]
