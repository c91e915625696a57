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
    ``AuthError`` for 401 (api-notes §2.4) and ``ErrorsHolder`` otherwise (§10)."""
    op = spec["paths"][path][method.lower()]
    responses = op["responses"]
    if str(status) not in responses:
        raise AssertionError(f"{method} {path}: status {status} not in the spec")
    resp = _deref(spec, responses[str(status)])
    content = resp.get("content") or {}
    media = content.get(MEDIA) or content.get("application/json")
    if media and "schema" in media:
        return media["schema"]
    if status == 401:
        return {"$ref": "#/components/schemas/AuthError"}
    return {"$ref": "#/components/schemas/ErrorsHolder"}


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
