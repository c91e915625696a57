"""The Emulator: state, routing and the single ``handle`` core.

Both transports (``httpx.MockTransport`` and the stdlib HTTP server) end up in
``Emulator.dispatch``; routing is by path only, so API, OAuth and control paths
are served under any host.
"""

from __future__ import annotations

import base64
import json
import random
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qs

import httpx

from allegro_emulator import (
    account,
    authpages,
    commands,
    control,
    form_index,
    oauth,
    offer_handlers,
    offers,
    orders,
    shipments,
)
from allegro_emulator.clock import Clock
from allegro_emulator.config import EmulatorConfig
from allegro_emulator.faults import Fault, RateLimiter, TimeoutFault, take_fault
from allegro_emulator.state import (
    AccessToken,
    AuthCode,
    CheckoutForm,
    Client,
    Command,
    DeviceCode,
    Offer,
    OfferEvent,
    OfferOperation,
    OrderEvent,
    RefreshToken,
    Seller,
)

if TYPE_CHECKING:
    from allegro_emulator.emulator import Emulator

from allegro_emulator.web import (
    MEDIA_TYPE,
    ApiError,
    AuthFailure,
    ControlError,
    Ctx,
    json_response,
)

Handler = Callable[["Emulator", Ctx], httpx.Response]

SECRET_FORM_FIELDS = {
    "client_secret",
    "code",
    "code_verifier",
    "refresh_token",
    "device_code",
    "access_token",
}

# Operations whose SPEC 401 response declares the vendor media type; the others
# declare application/json or no body at all (answered as application/json).
VENDOR_401 = {
    ("GET", "/me"),
    ("POST", "/sale/product-offers"),
    ("GET", "/sale/product-offers/{offerId}"),
    ("PATCH", "/sale/product-offers/{offerId}"),
    ("GET", "/sale/product-offers/{offerId}/parts"),
    ("GET", "/order/checkout-forms/{id}/shipments"),
    ("POST", "/order/checkout-forms/{id}/shipments"),
}


@dataclass
class Route:
    method: str
    template: str
    handler: Handler
    kind: str  # "api" | "auth" | "page" | "control"
    regex: re.Pattern[str]


def _compile(template: str) -> re.Pattern[str]:
    pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)
    return re.compile(f"^{pattern}$")


def _routes() -> list[Route]:
    table: list[tuple[str, str, Handler, str]] = []
    for module in (
        oauth,
        authpages,
        account,
        offer_handlers,
        commands,
        orders,
        shipments,
        control,
    ):
        table.extend(module.ROUTES)
    return [Route(m, t, h, k, _compile(t)) for m, t, h, k in table]


class EmulatorCore:
    """State, routing and the request handler; ``Emulator`` adds the control API.

    Thread-safe: one re-entrant lock around request handling and control calls.
    """

    def __init__(self, config: EmulatorConfig | None = None):
        self.config = config or EmulatorConfig()
        self.clock = Clock(self.config.start_time, realtime=self.config.realtime_clock)
        self.lock = threading.RLock()
        self.routes = _routes()
        self._reset_state()

    def _reset_state(self) -> None:
        self.rng = random.Random(self.config.seed)
        self.clients: dict[str, Client] = {}
        self.sellers: dict[str, Seller] = {}
        self.access_tokens: dict[str, AccessToken] = {}
        self.refresh_tokens: dict[str, RefreshToken] = {}
        self.auth_codes: dict[str, AuthCode] = {}
        self.device_codes: dict[str, DeviceCode] = {}
        self.offers: dict[str, Offer] = {}
        self.offer_operations: dict[str, OfferOperation] = {}
        self.checkout_forms: dict[str, CheckoutForm] = {}
        self.form_index = form_index.build(self.checkout_forms)
        self.order_events: list[OrderEvent] = []
        self.offer_events: list[OfferEvent] = []
        self.commands: dict[tuple[str, str], Command] = {}
        self.faults: list[Fault] = []
        self.request_log: list[dict[str, Any]] = []
        self.rate_limiter = RateLimiter()
        self.next_seller_id = 10_000_001
        self.next_offer_id = 17_000_000_001
        self.last_order_event_id = 0
        self.last_offer_event_id = 0
        self.next_fault_id = 1
        self.jwt_key = secrets.token_bytes(32)

    @property
    def emu(self) -> Emulator:
        """``self`` as the full ``Emulator`` (the only concrete subclass)."""
        return cast("Emulator", self)

    # ------------------------------------------------------------------ ids

    def new_uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def new_secret(self, nbytes: int = 24) -> str:
        return secrets.token_urlsafe(nbytes)

    def new_revision(self) -> str:
        return f"{self.rng.getrandbits(32):08x}"

    # ------------------------------------------------------------ transports

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def mock_transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        """The one core: httpx request in, httpx response out.

        A "timeout" fault raises ``httpx.ReadTimeout`` like a real client would.
        """
        result = self.dispatch(request)
        if isinstance(result, TimeoutFault):
            raise httpx.ReadTimeout(
                "emulated timeout (fault injection)", request=request
            )
        return result

    def dispatch(self, request: httpx.Request) -> httpx.Response | TimeoutFault:
        path = request.url.path
        is_control = path.startswith("/__control")
        fault = None
        if not is_control:
            with self.lock:
                fault = take_fault(self.faults, request.method, path)
        if fault is not None and fault.kind == "slow":
            time.sleep(fault.delay_seconds)  # outside the lock: others proceed
            fault = None
        body = request.read()
        with self.lock:
            ctx = Ctx(
                request=request,
                method=request.method.upper(),
                path=path,
                query=parse_qs(request.url.query.decode(), keep_blank_values=True),
                body=body,
            )
            if not is_control:
                self.tick()
            if fault is not None and fault.kind == "timeout":
                self._log(ctx, None, fault="timeout")
                return TimeoutFault(
                    fault.delay_seconds or self.config.timeout_fault_seconds
                )
            response = self._route(ctx, fault)
            response.headers["Trace-Id"] = uuid.uuid4().hex
            if not is_control:
                self._log(
                    ctx, response.status_code, fault=fault.kind if fault else None
                )
            return response

    def _route(self, ctx: Ctx, fault: Fault | None) -> httpx.Response:
        route, allowed = self._match(ctx)
        if route is not None:
            ctx.template = route.template
        if route is not None and route.kind == "control":
            return self._call(route, ctx)
        try:
            self._rate_limit(ctx, route)
            if fault is not None:
                raise ApiError(
                    int(fault.kind),
                    "TooManyRequests" if fault.kind == "429" else "InternalServerError",
                    f"Injected fault {fault.kind}",
                )
            if route is None:
                if allowed:
                    raise ApiError(
                        405, "MethodNotAllowed", "Request method not supported"
                    )
                raise ApiError(404, "NotFoundException", f"No resource at {ctx.path}")
            if route.kind == "api":
                self._check_media_type(ctx)
                oauth.authenticate(self.emu, ctx)
                self._shipments_limit(ctx, route)
        except ApiError as exc:
            return json_response(exc.status, exc.body(), media_type=exc.media_type)
        except AuthFailure as exc:
            return self._auth_error(exc, route)
        return self._call(route, ctx)

    def _call(self, route: Route, ctx: Ctx) -> httpx.Response:
        ctx.params = route.regex.match(ctx.path).groupdict()  # type: ignore[union-attr]
        try:
            return route.handler(self.emu, ctx)
        except ApiError as exc:
            return json_response(exc.status, exc.body(), media_type=exc.media_type)
        except AuthFailure as exc:
            return self._auth_error(exc, route)
        except ControlError as exc:
            return json_response(
                400, {"error": str(exc)}, media_type="application/json"
            )

    def _auth_error(self, exc: AuthFailure, route: Route | None) -> httpx.Response:
        """The ``AuthError`` body, with the media type the SPEC declares for the
        operation's 401 (``application/json`` where it declares none)."""
        key = (route.method, route.template) if route is not None else None
        return json_response(
            exc.status,
            {"error": exc.error, "error_description": exc.description},
            media_type=MEDIA_TYPE if key in VENDOR_401 else "application/json",
        )

    def _match(self, ctx: Ctx) -> tuple[Route | None, bool]:
        path_matched = False
        for route in self.routes:
            if route.regex.match(ctx.path):
                path_matched = True
                if route.method == ctx.method:
                    return route, True
        return None, path_matched

    def _check_media_type(self, ctx: Ctx) -> None:
        # api-notes §1: a missing/wrong Accept gives 406 NotAcceptableException.
        accept = ctx.header("accept") or ""
        if MEDIA_TYPE not in accept:
            raise ApiError(
                406,
                "NotAcceptableException",
                "Not acceptable representation requested. "
                "Please check 'Accept' request header",
            )
        if ctx.body and MEDIA_TYPE not in (ctx.header("content-type") or ""):
            # The status for a wrong Content-Type is not documented (unconfirmed).
            raise ApiError(
                415,
                "UnsupportedMediaTypeException",
                f"Content type not supported. Use '{MEDIA_TYPE}'",
            )

    def _rate_limit(self, ctx: Ctx, route: Route | None) -> None:
        limit = self.config.rate_limit_per_minute
        if limit is None or (route is not None and route.kind == "page"):
            return
        client_id = oauth.client_id_of(self.emu, ctx)
        if client_id is None:
            return
        ok = self.rate_limiter.check_global(
            client_id, self.clock.now(), limit, self.config.rate_limit_block_seconds
        )
        if not ok:
            raise ApiError(429, "TooManyRequests", "Too many requests")

    def _shipments_limit(self, ctx: Ctx, route: Route) -> None:
        limit = self.config.shipments_rate_per_second
        if limit is None or not route.template.startswith(
            ("/order/carriers", "/order/checkout-forms/{id}/shipments")
        ):
            return
        key = f"{ctx.client_id}:{ctx.seller.id if ctx.seller else '-'}"
        if not self.rate_limiter.check_per_second(key, self.clock.now(), limit):
            raise ApiError(429, "TooManyRequests", "Too many requests (50 req/s)")

    # --------------------------------------------------------------- logging

    def _log(self, ctx: Ctx, status: int | None, fault: str | None) -> None:
        headers = {}
        for name, value in ctx.request.headers.items():
            if name.lower() in ("authorization", "cookie"):
                scheme = value.split(" ", 1)[0] if " " in value else ""
                headers[name.lower()] = f"{scheme} <redacted>".strip()
            else:
                headers[name.lower()] = value
        json_body: Any = None
        form: dict[str, str] | None = None
        ctype = ctx.header("content-type") or ""
        if ctx.body and "json" in ctype:
            try:
                json_body = json.loads(ctx.body)
            except ValueError:
                json_body = None
        elif ctx.body and "form" in ctype:
            form = {
                k: ("<redacted>" if k in SECRET_FORM_FIELDS else v)
                for k, v in ctx.form().items()
            }
        query = {
            k: (["<redacted>"] * len(v) if k in SECRET_FORM_FIELDS else v)
            for k, v in ctx.query.items()
        }
        self.request_log.append(
            {
                "time": self.clock.now().isoformat(),
                "method": ctx.method,
                "path": ctx.path,
                "endpoint": f"{ctx.method} {ctx.template or ctx.path}",
                "query": query,
                "json": json_body,
                "form": form,
                "headers": headers,
                "status": status,
                "fault": fault,
                "client_id": ctx.client_id,
                "seller_id": ctx.seller.id if ctx.seller else None,
            }
        )
        overflow = len(self.request_log) - self.config.request_log_limit
        if overflow > 0:
            del self.request_log[:overflow]

    # ------------------------------------------------------------ time-based

    def tick(self) -> None:
        """Apply everything that became due on the emulated clock."""
        with self.lock:
            now = self.clock.now()
            commands.process_due(self.emu, now)
            offer_handlers.process_operations(self.emu, now)
            offers.tick(self.emu, now)
            orders.prune_events(self.emu, now)

    # ------------------------------------------------------------------ JWT

    def make_jwt(self, claims: dict[str, Any]) -> str:
        """Access tokens look like Allegro's JWTs (opaque to the hub)."""
        import hashlib
        import hmac

        def b64(data: bytes) -> str:
            return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

        header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        payload = b64(json.dumps(claims, separators=(",", ":")).encode())
        sig = hmac.new(self.jwt_key, f"{header}.{payload}".encode(), hashlib.sha256)
        return f"{header}.{payload}.{b64(sig.digest())}"
