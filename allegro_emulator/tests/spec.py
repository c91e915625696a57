"""Loading ``shared/allegro/openapi.yaml`` and validating responses against it."""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SPEC = REPO_ROOT / ".." / "shared" / "allegro" / "openapi.yaml"
MEDIA = "application/vnd.allegro.public.v1+json"


def spec_path() -> Path:
    return Path(os.environ.get("ALLEGRO_OPENAPI_SPEC") or DEFAULT_SPEC)


@functools.cache
def load_spec() -> dict[str, Any]:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with spec_path().open(encoding="utf-8") as fh:
        return yaml.load(fh, Loader=loader)  # noqa: S506 - safe loader


def _deref(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        parts = node["$ref"].lstrip("#/").split("/")
        target: Any = spec
        for part in parts:
            target = target[part]
        node = target
    return node


def response_schema(
    spec: dict[str, Any], path: str, method: str, status: int
) -> dict[str, Any]:
    """The spec's schema for one response. Where the spec documents a status
    without a body schema (many 4xx), fall back to the documented error shapes:
    ``ErrorsHolder`` (api-notes §10). A 401 is always ``AuthError`` (§2.4,
    §10), also on the few operations whose spec entry names ``ErrorsHolder``."""
    op = spec["paths"][path][method.lower()]
    responses = op["responses"]
    if str(status) not in responses:
        raise AssertionError(f"{method} {path}: status {status} not in the spec")
    if status == 401:
        return {"$ref": "#/components/schemas/AuthError"}
    resp = _deref(spec, responses[str(status)])
    content = resp.get("content") or {}
    media = content.get(MEDIA) or content.get("application/json")
    if media and "schema" in media:
        return media["schema"]
    return {"$ref": "#/components/schemas/ErrorsHolder"}


def response_media_types(
    spec: dict[str, Any], path: str, method: str, status: int
) -> list[str]:
    """The media types the spec declares for one response (often none)."""
    op = spec["paths"][path][method.lower()]
    resp = _deref(spec, op["responses"][str(status)])
    return sorted(resp.get("content") or {})


def validate(instance: Any, schema: dict[str, Any]) -> None:
    from openapi_schema_validator import OAS30ReadValidator, oas30_format_checker

    spec = load_spec()
    root = {"components": spec["components"], "allOf": [schema]}
    validator = OAS30ReadValidator(root, format_checker=oas30_format_checker)
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.path))
    if errors:
        msgs = [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]
        raise AssertionError("schema violations:\n" + "\n".join(msgs))


def component(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def undeclared_keys(instance: Any, schema: dict[str, Any]) -> list[str]:
    """Paths of object keys in ``instance`` that the schema does not declare.

    The spec's schemas rarely list ``required`` fields, so a misspelt or invented
    field (``externalId`` for ``external.id``) passes plain validation; the hub
    would then read a field Allegro never sends. Every branch of ``allOf``/
    ``oneOf``/``anyOf`` and the discriminator's mapping counts as declared;
    objects with ``additionalProperties`` or no ``properties`` at all are open.
    """
    spec = load_spec()
    found: list[str] = []
    _walk(spec, instance, [schema], "", found)
    return found


def _branches(
    spec: dict[str, Any], schemas: list[dict[str, Any]], instance: Any
) -> list[dict[str, Any]]:
    """Every schema that applies to ``instance``, compositions flattened."""
    out: list[dict[str, Any]] = []
    todo = list(schemas)
    seen: set[int] = set()
    while todo:
        node = _deref(spec, todo.pop())
        if id(node) in seen:
            continue
        seen.add(id(node))
        out.append(node)
        for key in ("allOf", "oneOf", "anyOf"):
            todo.extend(node.get(key, []))
        mapping = (node.get("discriminator") or {}).get("mapping") or {}
        name = (node.get("discriminator") or {}).get("propertyName")
        if isinstance(instance, dict) and instance.get(name) in mapping:
            todo.append({"$ref": mapping[instance[name]]})
    return out


def _walk(
    spec: dict[str, Any],
    instance: Any,
    schemas: list[dict[str, Any]],
    path: str,
    found: list[str],
) -> None:
    nodes = _branches(spec, schemas, instance)
    if isinstance(instance, list):
        items = [n["items"] for n in nodes if isinstance(n.get("items"), dict)]
        for index, item in enumerate(instance):
            _walk(spec, item, items, f"{path}[{index}]", found)
        return
    if not isinstance(instance, dict):
        return
    props: dict[str, list[dict[str, Any]]] = {}
    for node in nodes:
        for key, sub in (node.get("properties") or {}).items():
            props.setdefault(key, []).append(sub)
    is_open = not props or any(n.get("additionalProperties") for n in nodes)
    for key, value in instance.items():
        if key in props:
            _walk(spec, value, props[key], f"{path}.{key}", found)
        elif not is_open:
            found.append(f"{path}.{key}".lstrip("."))
