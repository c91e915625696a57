"""Orders set aside: a channel offered them, the hub could not use them.

One bad order must not stop every later one (the channel's sync records it here
and moves on), nor be lost: it stays here, with the reason in plain words, and
the channel retries it on every pass until it imports (then its row goes).

Call these inside the channel's transaction, together with its cursor move, so a
problem is recorded exactly when the page that met it is committed.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from hub.orders.models import ImportProblem
from hub.text.message import Message

RETRY_FIRST = timedelta(minutes=5)  # the first pause of a back-off retry …
RETRY_MAX = timedelta(hours=6)  # … doubled up to this


def record_problems(
    source: str,
    account: str,
    sub_source: str,
    reasons: Mapping[str, Message] | Mapping[str, str],
    *,
    backoff: Collection[str] = (),
) -> None:
    """Upsert one row per order id → reason; a known one counts another attempt.

    The ids in ``backoff`` (the channel kept failing to answer for them) are not
    retried before a pause that doubles with every attempt; the others are
    retried on every pass.
    """
    now = timezone.now()
    # One fixed order for the row locks, so overlapping passes never deadlock.
    for external_id in sorted(reasons):
        key = {"source": source, "account": account, "external_id": external_id}
        changes = {
            "reason": reasons[external_id],
            "sub_source": sub_source,
            "last_seen_at": now,
            "retry_at": None,
        }
        if not ImportProblem.objects.filter(**key).update(
            attempts=F("attempts") + 1, **changes
        ):
            try:
                with transaction.atomic():
                    ImportProblem.objects.create(first_seen_at=now, **key, **changes)
            except IntegrityError:
                # Recorded meanwhile by another pass: count this attempt on its row.
                ImportProblem.objects.filter(**key).update(
                    attempts=F("attempts") + 1, **changes
                )
        if external_id in backoff:
            attempts = ImportProblem.objects.get(**key).attempts
            ImportProblem.objects.filter(**key).update(
                retry_at=now + retry_delay(attempts)
            )


def retry_delay(attempts: int) -> timedelta:
    """The pause after the ``attempts``-th failure: doubling, within bounds."""
    return min(RETRY_FIRST * 2 ** max(attempts - 1, 0), RETRY_MAX)


def resolve_problems(source: str, account: str, external_ids: Iterable[str]) -> int:
    """These orders imported: their problems are over. Returns how many went."""
    ids = list(external_ids)
    problems = ImportProblem.objects.filter(source=source, account=account)
    # Most passes find none: a look at the account's problems (its index)
    # costs less than a statement naming each of a page's orders.
    if not ids or not problems.exists():
        return 0
    deleted, _by_model = problems.filter(external_id__in=ids).delete()
    return deleted


def open_problems(source: str, account: str) -> list[ImportProblem]:
    return list(ImportProblem.objects.filter(source=source, account=account))
