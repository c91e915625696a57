"""Turning texts stored before message codes back into codes (for migrations).

A data migration lists the English templates it knows, as they were written:

    PATTERNS = [("order.paid", "Payment received.", None), ...]

``parse(text, PATTERNS)`` matches the whole text against each template
(``%(name)s`` = any text, ``%(name)d`` = a whole number) and returns the stored
form {"code", "params"}; ``convert`` may reshape the matched strings (or
return None: not ours). A text nothing matches is kept as a literal.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

Convert = Callable[[dict[str, str]], dict[str, Any] | None]
Pattern = tuple[str, str, Convert | None]

_PLACEHOLDER = re.compile(r"%\\\((\w+)\\\)([sd])")


def _regex(template: str) -> re.Pattern[str]:
    seen: set[str] = set()

    def group(match: re.Match[str]) -> str:
        name, kind = match.groups()
        if name in seen:  # the same parameter again: the same text again
            return f"(?P={name})"
        seen.add(name)
        return f"(?P<{name}>-?\\d+)" if kind == "d" else f"(?P<{name}>.+?)"

    return re.compile(_PLACEHOLDER.sub(group, re.escape(template)), re.DOTALL)


def parse(text: str, patterns: Sequence[Pattern]) -> dict[str, Any]:
    if not text:
        return {}
    for code, template, convert in patterns:
        match = _regex(template).fullmatch(text)
        if match is None:
            continue
        groups = match.groupdict()
        params: dict[str, Any] | None = (
            convert(groups)
            if convert
            else {
                k: int(v) if v.lstrip("-").isdigit() else v for k, v in groups.items()
            }
        )
        if params is None:
            continue
        return {"code": code, "params": params} if params else {"code": code}
    return {"text": text}


def migrate_column(
    model: Any, old: str, new: str, patterns: Sequence[Pattern], batch: int = 2000
) -> None:
    """Fill ``new`` (a JSON column) from ``old`` (text) for every row, in batches."""
    rows = model.objects.exclude(**{old: ""}).only("pk", old).order_by("pk")
    last = 0
    while True:
        chunk = list(rows.filter(pk__gt=last)[:batch])
        if not chunk:
            return
        for row in chunk:
            setattr(row, new, parse(getattr(row, old), patterns))
        model.objects.bulk_update(chunk, [new])
        last = chunk[-1].pk
