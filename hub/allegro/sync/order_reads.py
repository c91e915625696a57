"""Reading checkout forms by id, so that no single form can stop a channel.

Allegro's answer for each form decides what happens to it:

- the form: imported with its page;
- 404: not (any more) this seller's order: skipped and counted;
- a response the hub cannot read: set aside at once (an import problem), retried
  on every pass;
- 5xx or a timeout (after the client's own retries): counted on the form
  (FormReadFailure, committed at once) and the pass stops, so the page is read
  again later — until the same form has failed FAILURES_BEFORE_SET_ASIDE passes in
  a row. Then it is set aside like an unusable form, the rest of its page is
  imported, and it is retried with growing pauses (problems.record_problems).

A 429 is not the form's fault: it stops the pass and counts nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from hub.allegro import schemas
from hub.allegro.client import AllegroClient
from hub.allegro.errors import MalformedResponse, NotFound, RateLimited, TransientError
from hub.allegro.models import Channel, FormReadFailure

log = logging.getLogger(__name__)

FAILURES_BEFORE_SET_ASIDE = 5  # passes in a row


@dataclass
class FormReads:
    forms: list[schemas.CheckoutForm] = field(default_factory=list)
    unreadable: dict[str, str] = field(default_factory=dict)  # id → reason
    failing: dict[str, str] = field(default_factory=dict)  # id → reason (back-off)
    missing: list[str] = field(default_factory=list)  # 404


class Strikes:
    """The channel's forms whose reads failed on earlier passes (loaded once)."""

    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self.known = set(
            FormReadFailure.objects.filter(channel=channel).values_list(
                "form_id", flat=True
            )
        )

    def add(self, form_id: str, error: TransientError) -> int:
        """Count one more failed pass for the form, at once; returns how many."""
        key = {"channel": self.channel, "form_id": form_id}
        changes = {"failures": F("failures") + 1, "last_error": str(error)}
        with transaction.atomic():
            if not FormReadFailure.objects.filter(**key).update(**changes):
                try:
                    with transaction.atomic():
                        FormReadFailure.objects.create(
                            **key, failures=1, last_error=str(error)
                        )
                except IntegrityError:  # counted meanwhile by an overlapping pass
                    FormReadFailure.objects.filter(**key).update(**changes)
        self.known.add(form_id)
        return FormReadFailure.objects.get(**key).failures

    def clear(self, reads: FormReads) -> None:
        """The forms Allegro answered for: their run of failures ends (a form set
        aside for failing keeps its count). Call inside the transaction that
        saves them."""
        form_ids = [form.id for form in reads.forms] + list(reads.unreadable)
        form_ids += reads.missing
        ended = [form_id for form_id in form_ids if form_id in self.known]
        if ended:
            FormReadFailure.objects.filter(
                channel=self.channel, form_id__in=ended
            ).delete()
            self.known.difference_update(ended)


def read_forms(
    client: AllegroClient,
    form_ids: list[str],
    strikes: Strikes,
    *,
    set_aside_already: bool = False,
) -> FormReads:
    """Read each form; raises the TransientError of a form that has not failed
    often enough yet to be set aside (a form set aside already never raises)."""
    reads = FormReads()
    for form_id in form_ids:
        try:
            reads.forms.append(client.get_checkout_form(form_id))
        except NotFound:
            # Not (any more) this seller's order: nothing to import. Logged and
            # counted, so the journal does not stall on it forever.
            log.warning("checkout form %s not found; skipped", form_id)
            reads.missing.append(form_id)
        except MalformedResponse as exc:
            # One order Allegro describes in a way we cannot read must not hold
            # up every later one: it is set aside and read again on every pass.
            log.warning("checkout form %s unreadable; set aside: %s", form_id, exc)
            reads.unreadable[form_id] = exc.user_text()
        except RateLimited:
            raise
        except TransientError as exc:
            failures = strikes.add(form_id, exc)
            if failures < FAILURES_BEFORE_SET_ASIDE and not set_aside_already:
                raise
            log.warning("checkout form %s keeps failing; set aside: %s", form_id, exc)
            reads.failing[form_id] = _(
                "Allegro kept failing to answer for this order, so it was set aside "
                "and is retried with growing pauses. Last answer: %(text)s"
            ) % {"text": exc.user_text()}
    return reads


def unreadable_in_list(form: schemas.UnreadableForm) -> str:
    """The reason for a form of a list page the hub cannot read."""
    return MalformedResponse(
        f"GET /order/checkout-forms: unexpected CheckoutForm ({form.problems})"
    ).user_text()


def due(retry_at: datetime | None, now: datetime) -> bool:
    return retry_at is None or retry_at <= now
