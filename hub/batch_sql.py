"""Many rows in one statement, on SQLite and PostgreSQL, without the ORM's
per-value SQL compiling (which was most of a page's saving time).

- ``insert_rows``: ``INSERT … <rows> RETURNING id, <key>``; the new ids are
  matched to the objects by a unique key, not by position.
- ``update_rows``: ``UPDATE t SET a = v.c1, … FROM <rows> AS v WHERE t.id =
  v.c0`` (SQLite from 3.33, there as ``WITH v AS (VALUES …)``). Django's
  ``bulk_update`` (one CASE per column) was measured slower than saving row by
  row.

<rows> is ``VALUES (…), (…)`` on SQLite and, on PostgreSQL, ``unnest`` of one
typed array per column: the driver binds parameters on the client, parsing and
quoting each one, which made one parameter per value slower there than the
saving itself. Values are prepared as Django's own statements would
(``pre_save``, then ``get_db_prep_save``; plain text, numbers and booleans go
as they are).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from datetime import UTC
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, models

POSTGRES_MAX_PARAMS = 30_000
# Field types whose Python value is what the database takes, as it is
# (exactly these types: a subclass may prepare its values).
PLAIN = {
    models.CharField, models.TextField, models.BooleanField, models.IntegerField,
    models.PositiveIntegerField, models.BigIntegerField, models.ForeignKey,
}  # fmt: skip


def insert_rows(
    model: type[models.Model],
    rows: Sequence[models.Model],
    key: Sequence[str] | None = None,
) -> None:
    """Insert ``rows`` (unsaved instances). With ``key`` — the attnames that tell
    the rows apart, e.g. a unique constraint's — their primary keys are set
    from what the database returns; without, they stay unset."""
    if not rows:
        return
    meta = model._meta
    fields: list[Any] = [f for f in meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    pk: Any = meta.pk
    keys: list[Any] = [meta.get_field(name) for name in key or ()]
    back = ", ".join(quote(f.column) for f in [pk, *keys])
    returning = f" RETURNING {back}" if key is not None else ""
    prepare = [_preparer(f, add=True) for f in fields]
    chunk = max(1, _max_params() // len(fields))
    for start in range(0, len(rows), chunk):
        part = rows[start : start + chunk]
        source, params = _source(fields, part, prepare)
        sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) {source}{returning}"
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            returned = cursor.fetchall() if key is not None else []
        by_key = {tuple(r[1:]): r[0] for r in returned}
        for row in part:
            if key is not None:
                row.pk = by_key[tuple(getattr(row, f.attname) for f in keys)]
            row._state.adding = False
            row._state.db = connection.alias


def update_rows(
    model: type[models.Model], columns: Sequence[str], rows: Sequence[models.Model]
) -> None:
    """Write ``columns`` (field names) of ``rows`` (saved instances) back."""
    if not rows or not columns:
        return
    meta = model._meta
    fields: list[Any] = [meta.get_field(name) for name in columns]
    pk: Any = meta.pk
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    names = ", ".join(f"c{i}" for i in range(len(fields) + 1))
    sets = ", ".join(
        f"{quote(field.column)} = v.c{i + 1}" for i, field in enumerate(fields)
    )
    prepare = [_key_of, *(_preparer(f, add=False) for f in fields)]
    chunk = max(1, _max_params() // (len(fields) + 1))
    for start in range(0, len(rows), chunk):
        part = rows[start : start + chunk]
        source, params = _source([pk, *fields], part, prepare)
        if connection.vendor == "postgresql":
            sql = f"UPDATE {table} SET {sets} FROM {source} AS v ({names})"
        else:
            sql = f"WITH v ({names}) AS ({source}) UPDATE {table} SET {sets} FROM v"
        sql += f" WHERE {table}.{quote(pk.column)} = v.c0"
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


def _key_of(row: models.Model) -> Any:
    return row.pk


def _source(
    fields: list[Any],
    rows: Sequence[models.Model],
    prepare: list[Callable[[models.Model], Any]],
) -> tuple[str, list[Any]]:
    """The rows as a table: ``VALUES (…), (…)`` on SQLite; on PostgreSQL
    ``unnest`` of one typed array per column (a few parameters instead of one
    per value, which the driver would otherwise parse and quote one by one)."""
    if connection.vendor == "postgresql":
        arrays = ", ".join(f"%s::{f.cast_db_type(connection)}[]" for f in fields)
        columns = [[p(row) for row in rows] for p in prepare]
        return f"(SELECT * FROM unnest({arrays}))", columns
    row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
    params = [p(row) for row in rows for p in prepare]
    return f"VALUES {', '.join([row_sql] * len(rows))}", params


def _preparer(field: Any, *, add: bool) -> Callable[[models.Model], Any]:
    attname = field.attname
    if type(field) in PLAIN:
        return lambda row: getattr(row, attname)
    database = connections[DEFAULT_DB_ALIAS]  # not the per-call proxy
    if _utc_text_datetimes(database, field):
        # What SQLite's adapt_datetimefield_value makes of an aware datetime.
        def as_text(row: models.Model) -> Any:
            value = field.pre_save(row, add)
            if value is None or value.tzinfo is None:
                return None if value is None else str(value)
            return str(value.astimezone(UTC).replace(tzinfo=None))

        return as_text

    def prepare(row: models.Model) -> Any:
        return field.get_db_prep_save(field.pre_save(row, add), database)

    return prepare


def _utc_text_datetimes(database: Any, field: Any) -> bool:
    return (
        type(field) is models.DateTimeField
        and database.vendor == "sqlite"
        and settings.USE_TZ
        and database.timezone_name == "UTC"
    )


def _max_params() -> int:
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        raw = connection.connection
        assert raw is not None
        return int(raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))
    return POSTGRES_MAX_PARAMS
