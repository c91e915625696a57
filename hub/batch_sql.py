"""Many rows in one statement, on SQLite and PostgreSQL, without the ORM's
per-value SQL compiling (which was most of a page's saving time).

- ``insert_rows``: ``INSERT … <rows> RETURNING id, <key>``; the new ids are
  matched to the objects by a unique key, not by position.
- ``insert_values``: the same from plain tuples of values, for rows that need
  no model instance (a history line, a stock change).
- ``update_rows``: ``UPDATE t SET a = v.c1, … FROM <rows> AS v WHERE t.id =
  v.c0`` (SQLite from 3.33, there as ``WITH v AS (VALUES …)``). Django's
  ``bulk_update`` (one CASE per column) was measured slower than saving row by
  row.

<rows> is ``VALUES (…), (…)`` on SQLite and, on PostgreSQL, one JSON document
of the rows taken apart by the server: the driver binds parameters on the
client, parsing and quoting each one (even an array's items, one by one in
Python), which made one parameter per value slower there than the saving
itself. Values are prepared as Django's own statements would (``pre_save``,
then ``get_db_prep_save``; plain text, numbers and booleans go as they are).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.utils import timezone
from psycopg.types.json import Jsonb

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
    prepare = [_preparer(f, add=True) for f in fields]
    values = [[p(row) for p in prepare] for row in rows]
    ids = _insert(model, fields, values, key)
    for i, row in enumerate(rows):
        if ids is not None:
            row.pk = ids[i]
        row._state.adding = False
        row._state.db = connection.alias


def insert_values(
    model: type[models.Model],
    names: Sequence[str],
    rows: Sequence[Sequence[Any]],
    key: Sequence[str] | None = None,
) -> list[int]:
    """Insert ``rows`` given as tuples of the named fields' values (attnames, in
    ``names``' order), without building a model instance per row. Fields not
    named take their default, one value for the whole call (auto_now and
    auto_now_add: now). With ``key`` (names among ``names`` that tell the rows
    apart), returns the new primary keys in the rows' order."""
    if not rows:
        return []
    meta = model._meta
    named: list[Any] = [meta.get_field(name) for name in names]
    rest: list[Any] = [
        f for f in meta.concrete_fields if not f.primary_key and f not in named
    ]
    if key is not None and not set(key) <= set(names):
        raise ValueError(f"key {key} must be among the named fields {names}")
    if any(len(row) != len(names) for row in rows):
        raise ValueError(f"every row must have a value for each of {names}")
    defaults = [_prepare_value(f, _default(f)) for f in rest]
    prepare = [_value_preparer(f) for f in named]
    if any(prepare):
        values = [
            [v if p is None else p(v) for p, v in zip(prepare, row, strict=True)]
            + defaults
            for row in rows
        ]
    else:
        values = [[*row, *defaults] for row in rows]
    return _insert(model, [*named, *rest], values, key) or []


def _prepare_value(field: Any, value: Any) -> Any:
    prepare = _value_preparer(field)
    return value if prepare is None else prepare(value)


def _default(field: Any) -> Any:
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return timezone.now()
    return field.get_default()


def _insert(
    model: type[models.Model],
    fields: list[Any],
    values: list[list[Any]],
    key: Sequence[str] | None,
) -> list[int] | None:
    """INSERT the prepared rows; with ``key``, their new ids in order."""
    meta = model._meta
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    pk: Any = meta.pk
    keys: list[Any] = [meta.get_field(name) for name in key or ()]
    at = [fields.index(f) for f in keys]
    back = ", ".join(quote(f.column) for f in [pk, *keys])
    returning = f" RETURNING {back}" if key is not None else ""
    ids: list[int] = []
    chunk = max(1, _max_params() // len(fields))
    for start in range(0, len(values), chunk):
        part = values[start : start + chunk]
        source, params = _source(fields, part)
        sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) {source}{returning}"
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            returned = cursor.fetchall() if key is not None else []
        if key is not None:
            by_key = {tuple(r[1:]): r[0] for r in returned}
            if len(by_key) != len(part):
                raise ValueError(f"{key} does not tell the rows apart")
            ids.extend(by_key[tuple(row[i] for i in at)] for row in part)
    return ids if key is not None else None


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
        part = [[p(row) for p in prepare] for row in rows[start : start + chunk]]
        source, params = _source([pk, *fields], part)
        if connection.vendor == "postgresql":
            sql = f"UPDATE {table} SET {sets} FROM {source} AS v ({names})"
        else:
            sql = f"WITH v ({names}) AS ({source}) UPDATE {table} SET {sets} FROM v"
        sql += f" WHERE {table}.{quote(pk.column)} = v.c0"
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


def _key_of(row: models.Model) -> Any:
    return row.pk


def _source(fields: list[Any], rows: list[list[Any]]) -> tuple[str, list[Any]]:
    """Prepared rows as a table: ``VALUES (…), (…)`` on SQLite; on PostgreSQL
    one JSON array of the rows, taken apart by the server (one parameter
    instead of one per value, which the driver would parse and quote one by
    one: with Django's client-side binding, even typed arrays are escaped value
    by value in Python, which cost more than the insert itself)."""
    if connection.vendor == "postgresql":
        columns = ", ".join(_json_column(i, f) for i, f in enumerate(fields))
        rows_json = json.dumps(rows, default=_json_value, ensure_ascii=False)
        source = f"(SELECT {columns} FROM jsonb_array_elements(%s::jsonb) AS r)"
        return source, [rows_json]
    row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
    params = [value for row in rows for value in row]
    return f"VALUES {', '.join([row_sql] * len(rows))}", params


def _json_column(index: int, field: Any) -> str:
    """Column ``index`` of a JSON row as the field's type. A JSON column keeps
    its JSON; its JSON null is SQL NULL, as Django stores None."""
    kind = field.cast_db_type(connection)
    if kind in ("jsonb", "json"):
        return f"NULLIF(r -> {index}, 'null'::jsonb)"
    if kind.startswith("varchar"):
        # Not varchar(n): an explicit cast would cut a long value silently;
        # assigned to the column, it is refused, as Django's own insert is.
        kind = "text"
    return f"(r ->> {index})::{kind}"


def _json_value(value: Any) -> Any:
    """A JSON column's value wrapped by Django for the driver (a field with
    its own encoder), as plain JSON. Anything else json.dumps cannot write is
    refused, as Django's own save refuses it."""
    if isinstance(value, Jsonb):
        return json.loads((value.dumps or json.dumps)(value.obj))
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _json_text(value: Any) -> str | None:
    """A JSON column's value as SQLite stores it (Django: json.dumps; None is
    SQL NULL)."""
    return None if value is None else json.dumps(value)


def _json_scalar(value: Any) -> Any:
    """A column's prepared value as the JSON text PostgreSQL reads it back from."""
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, date | time):  # datetime too: with its UTC offset
        return value.isoformat()
    return value


def _preparer(field: Any, *, add: bool) -> Callable[[models.Model], Any]:
    """Instance → the field's database value, as Django's own save would."""
    attname = field.attname
    if type(field) in PLAIN:
        return lambda row: getattr(row, attname)
    prepare = _value_preparer(field)
    assert prepare is not None
    return lambda row: prepare(field.pre_save(row, add))


def _value_preparer(field: Any) -> Callable[[Any], Any] | None:
    """Value → the field's database value; None when it goes as it is."""
    if type(field) in PLAIN:
        return None
    database = connections[DEFAULT_DB_ALIAS]  # not the per-call proxy
    postgres = database.vendor == "postgresql"
    if isinstance(field, models.JSONField):
        # to_python: what the field's descriptor would make of the value (a
        # MessageField's None is an empty message, as on an instance).
        if field.encoder is None:
            if postgres:
                # The plain JSON value: on PostgreSQL the rows go as one JSON
                # document (_source), not as a driver's wrapper per value.
                return lambda value: field.get_prep_value(field.to_python(value))
            if database.vendor == "sqlite":
                # What SQLite's adapt_json_value writes, without the layers
                # of calls in between (one JSON value per order field and
                # history line made them a tenth of the saving).
                return lambda value: _json_text(
                    field.get_prep_value(field.to_python(value))
                )
        return lambda value: field.get_db_prep_save(field.to_python(value), database)
    if _utc_text_datetimes(database, field):
        return _utc_text
    if postgres:
        return lambda value: _json_scalar(field.get_db_prep_save(value, database))
    return lambda value: field.get_db_prep_save(value, database)


def _utc_text(value: datetime | None) -> str | None:
    """What SQLite's adapt_datetimefield_value makes of a datetime (the
    connection's time zone is UTC)."""
    if value is None:
        return None
    if value.tzinfo is None:  # as DateTimeField takes it: in TIME_ZONE
        value = timezone.make_aware(value, timezone.get_default_timezone())
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return str(value.replace(tzinfo=None))


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
