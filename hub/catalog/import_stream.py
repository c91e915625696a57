"""A long CSV import in the browser: the page streams its own progress.

A file of a few hundred thousand rows takes tens of seconds to check and save (in
one transaction). Rather than a blank wait, the answer is the import page itself,
sent in pieces as the import goes: the top of the page with a progress bar, a short
script per step that moves the bar, then the outcome (the summary, or the file's
problems) and the rest of the page. The import runs in the request, as a small one
does (hub.catalog.rows.applying yields between statements): no job table, no
polling, no second process. A browser that goes away closes the stream, and the
transaction rolls back.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Generator, Iterator

from django.http import HttpRequest, StreamingHttpResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, override
from django.utils.translation import gettext as _

from hub.catalog import csvio
from hub.catalog.progress import STEP_NAMES, Step, percent
from hub.catalog.rows import ApplyResult, RowsInvalid

log = logging.getLogger(__name__)

# Files from this size on stream their progress; smaller ones (a few thousand
# rows, a second or two) redirect to the inventory as before.
STREAM_FROM_BYTES = 200_000
# At most this often a step is sent (each is a few dozen bytes).
EVERY_SECONDS = 0.25
MARK = "<!-- import outcome -->"
SHOWN_ERRORS = 100


def stream_import(
    request: HttpRequest, data: bytes, file_name: str, actor: str
) -> StreamingHttpResponse:
    page = render_to_string(
        "catalog/import_running.html",
        {"file_name": file_name, "mark": mark_safe(MARK)},
        request=request,
    )
    head, tail = page.split(MARK)
    language = get_language()
    response = StreamingHttpResponse(
        _pieces(head, tail, data, actor, language),
        content_type="text/html; charset=utf-8",
    )
    # Proxies (nginx) would otherwise hold the pieces back until the end.
    response["X-Accel-Buffering"] = "no"
    response["Cache-Control"] = "no-store"
    return response


def _pieces(
    head: str, tail: str, data: bytes, actor: str, language: str
) -> Iterator[str]:
    with override(language):
        yield head
        yield from progress_and_outcome(data, actor)
        yield tail


def progress_and_outcome(data: bytes, actor: str) -> Generator[str, None, None]:
    """The page's middle: a script per step, then the outcome's HTML."""
    steps = csvio.importing(data, actor)
    try:
        yield from _run(steps)
    finally:
        # A browser gone mid-way closes the stream: end the import's transaction
        # now (rolled back), not whenever the generator is collected.
        steps.close()


def _run(steps: Generator[Step, None, ApplyResult]) -> Iterator[str]:
    sent = 0.0
    try:
        while True:
            try:
                step, done, total = next(steps)
            except StopIteration as finished:
                result = finished.value
                break
            if time.monotonic() - sent >= EVERY_SECONDS or done == total:
                sent = time.monotonic()
                yield _script(percent(step, done, total), _step_text(step, done, total))
    except RowsInvalid as exc:
        yield _script(100, _("Nothing was imported."))
        yield render_to_string(
            "catalog/_import_errors.html",
            {
                "errors": exc.errors[:SHOWN_ERRORS],
                "error_count": len(exc.errors),
                "hidden_error_count": max(0, len(exc.errors) - SHOWN_ERRORS),
            },
        )
        yield _again()
        return
    except Exception:
        log.exception("CSV import failed")
        yield _script(100, _("Nothing was imported."))
        yield format_html(
            '<div class="card" id="import-failed"><p class="bad">{}</p></div>',
            _(
                "The import stopped on an unexpected error and nothing was changed. "
                "The hub's log has the details."
            ),
        )
        yield _again()
        return
    yield _script(100, _("Done."))
    yield format_html(
        '<div class="card" id="import-done"><p class="ok"><strong>{}</strong></p>'
        '<p><a class="button primary" href="{}">{}</a></p></div>',
        result.summary(),
        reverse("inventory"),
        _("Go to the inventory"),
    )


def _step_text(step: str, done: int, total: int) -> str:
    return _("%(step)s: %(done)s of %(total)s") % {
        "step": str(STEP_NAMES[step]).capitalize(),
        "done": done,
        "total": total,
    }


def _script(number: int, text: str) -> str:
    # json.dumps of a str is a JS string literal; "</" is escaped so a text can
    # never end the script element.
    literal = json.dumps(text).replace("</", "<\\/")
    return f"<script>importStep({number}, {literal});</script>\n"


def _again() -> str:
    return format_html(
        '<p><a href="{}">{}</a></p>', reverse("inventory_import"), _("Import a file")
    )
