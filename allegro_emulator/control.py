"""The control API over HTTP: ``/__control/<name>`` maps onto the Python
control methods of ``Emulator`` (JSON keyword arguments in, ``{"result": ...}``
out)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import httpx

from allegro_emulator.state import to_dict
from allegro_emulator.web import ControlError, Ctx, json_response

if TYPE_CHECKING:
    from allegro_emulator.core import Handler
    from allegro_emulator.emulator import Emulator

# ------------------------------------------------------------------- HTTP

# Control calls available as POST /__control/<name> with JSON keyword arguments.
POST_ACTIONS = {
    "register_client", "add_seller", "issue_tokens", "revoke_tokens", "authorize",
    "approve_device", "deny_device", "add_offer", "end_offer", "purchase", "fill_in",
    "pay", "cancel", "modify", "bid", "ship_with_allegro", "lag_list",
    "process_commands",
    "add_fault", "remove_fault",
    "clear_faults", "inject_duplicate_events", "inject_out_of_order",
    "clear_requests", "reset", "seed", "advance",
}  # fmt: skip
GET_ACTIONS = {"dump", "counts", "requests", "clock", "offer", "checkout_form"}


def control_post(emu: Emulator, ctx: Ctx) -> httpx.Response:
    action = ctx.params["action"]
    if action not in POST_ACTIONS:
        return json_response(
            404,
            {"error": f"unknown control action {action}"},
            media_type="application/json",
        )
    kwargs = ctx.json() if ctx.body else {}
    if not isinstance(kwargs, dict):
        raise ControlError("body must be a JSON object of keyword arguments")
    if action == "seed":
        kwargs = {"data": kwargs}
    if action == "advance" and "set" in kwargs:
        emu.clock.set(datetime.fromisoformat(kwargs["set"]))
        emu.tick()
        return json_response(
            200, {"result": emu.clock.now().isoformat()}, media_type="application/json"
        )
    try:
        result = getattr(emu, action)(**kwargs)
    except TypeError as exc:
        raise ControlError(str(exc)) from exc
    return json_response(
        200, {"result": to_dict(result)}, media_type="application/json"
    )


def control_get(emu: Emulator, ctx: Ctx) -> httpx.Response:
    action = ctx.params["action"]
    if action not in GET_ACTIONS:
        return json_response(
            404,
            {"error": f"unknown control action {action}"},
            media_type="application/json",
        )
    if action == "clock":
        result: Any = emu.clock.now().isoformat()
    elif action == "requests":
        result = emu.requests
    elif action in ("offer", "checkout_form"):
        result = getattr(emu, action)(ctx.q("id") or "")
    else:
        result = getattr(emu, action)()
    return json_response(200, {"result": result}, media_type="application/json")


ROUTES: list[tuple[str, str, Handler, str]] = [
    ("POST", "/__control/{action}", control_post, "control"),
    ("GET", "/__control/{action}", control_get, "control"),
]
