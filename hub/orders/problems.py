"""Orders set aside: a channel offered them, the hub could not use them.

One bad order must not stop every later one (the channel's sync records it here
and moves on), nor be lost: it stays here, with the reason in plain words, and
the channel retries it on every pass until it imports (then its row goes).

Call these inside the channel's transaction, together with its cursor move, so a
problem is recorded exactly when the page that met it is committed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from hub.orders.models import ImportProblem
from hub.text.message import Message


def record_problems(
    source: str,
    account: str,
    sub_source: str,
    reasons: Mapping[str, Message] | Mapping[str, str],
) -> None:
    """Upsert one row per order id → reason; a known one counts another attempt."""
    now = timezone.now()
    for external_id, reason in reasons.items():
        key = {"source": source, "account": account, "external_id": external_id}
        changes = {"reason": reason, "sub_source": sub_source, "last_seen_at": now}
        if ImportProblem.objects.filter(**key).update(
            attempts=F("attempts") + 1, **changes
        ):
            continue
        try:
            with transaction.atomic():
                ImportProblem.objects.create(first_seen_at=now, **key, **changes)
        except IntegrityError:
            # Recorded meanwhile by another pass: count this attempt on its row.
            ImportProblem.objects.filter(**key).update(
                attempts=F("attempts") + 1, **changes
            )


def resolve_problems(source: str, account: str, external_ids: Iterable[str]) -> int:
    """These orders imported: their problems are over. Returns how many went."""
    ids = list(external_ids)
    if not ids:
        return 0
    deleted, _by_model = ImportProblem.objects.filter(
        source=source, account=account, external_id__in=ids
    ).delete()
    return deleted


def open_problems(source: str, account: str) -> list[ImportProblem]:
    return list(ImportProblem.objects.filter(source=source, account=account))
