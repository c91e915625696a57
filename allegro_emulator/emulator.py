"""The public ``Emulator``: the core plus the Python control API used by tests
and the demo to seed state, act as buyers, inject faults and read the log."""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from allegro_emulator import (
    authpages,
    commands,
    form_index,
    oauth,
    offers,
    orders,
    shipments,
)
from allegro_emulator.core import EmulatorCore
from allegro_emulator.faults import FAULT_KINDS, Fault
from allegro_emulator.state import (
    AccessToken,
    AuthCode,
    Bid,
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
    from_dict,
    to_dict,
)
from allegro_emulator.web import ControlError, money_str

DUMP_FORMAT = "allegro-emulator-dump/1"


class Emulator(EmulatorCore):
    """All Allegro state in memory, the request handler (``handle``) and the
    Python control API (see README). Thread-safe: control calls take the lock."""

    # ------------------------------------------------------------- accounts

    def register_client(
        self,
        client_id: str,
        client_secret: str,
        redirect_uris: list[str] | None = None,
        name: str = "",
    ) -> str:
        with self.lock:
            self.clients[client_id] = Client(
                client_id, client_secret, redirect_uris or [], name
            )
            return client_id

    def add_seller(
        self,
        login: str,
        marketplace: str = "allegro-pl",
        id: str | None = None,  # noqa: A002 - mirrors the seed/JSON field
        **extra: Any,
    ) -> str:
        with self.lock:
            if any(s.login == login for s in self.sellers.values()):
                raise ControlError(f"seller login {login!r} already exists")
            if id is None:
                id = str(self.next_seller_id)
                self.next_seller_id += 1
            self.sellers[id] = Seller(
                id=id, login=login, marketplace=marketplace, **extra
            )
            return id

    def seller_id_for_login(self, login: str, create: bool = False) -> str:
        with self.lock:
            for seller in self.sellers.values():
                if seller.login == login:
                    return seller.id
            if not create:
                raise ControlError(f"unknown seller login {login!r}")
            return self.add_seller(login)

    def _seller(self, seller: str) -> str:
        """Accept a seller id or login."""
        if seller in self.sellers:
            return seller
        return self.seller_id_for_login(seller)

    # ---------------------------------------------------------------- oauth

    def issue_tokens(
        self, client_id: str, seller_id: str, scope: str | None = None
    ) -> dict[str, Any]:
        """Test shortcut: a token pair as if the seller had authorised the client."""
        with self.lock:
            if client_id not in self.clients:
                raise ControlError(f"unknown client {client_id!r}")
            return oauth.issue_tokens(self, client_id, self._seller(seller_id), scope)

    def revoke_tokens(self, seller_id: str) -> int:
        with self.lock:
            return oauth.revoke_tokens(self, self._seller(seller_id))

    def authorize(
        self,
        client_id: str,
        seller_id: str,
        redirect_uri: str,
        code_challenge: str | None = None,
        scope: str | None = None,
    ) -> str:
        """Shortcut for the consent page: returns an authorization code."""
        with self.lock:
            client = self.clients.get(client_id)
            if client is None or not authpages.redirect_uri_allowed(
                client.redirect_uris, redirect_uri
            ):
                raise ControlError("unknown client or redirect_uri not registered")
            return authpages.create_auth_code(
                self,
                client_id,
                redirect_uri,
                self._seller(seller_id),
                scope,
                code_challenge,
                "S256" if code_challenge else None,
            )

    def approve_device(self, user_code: str, seller_id: str) -> None:
        with self.lock:
            dev = oauth.find_device(self, user_code)
            dev.seller_id = self._seller(seller_id)
            dev.status = "approved"

    def deny_device(self, user_code: str) -> None:
        with self.lock:
            oauth.find_device(self, user_code).status = "denied"

    # --------------------------------------------------------------- offers

    def create_offer(
        self,
        seller_id: str,
        name: str,
        external_id: str | None = None,
        quantity: int = 1,
        price: str | int | float = "10.00",
        currency: str = "PLN",
        format: str = "BUY_NOW",  # noqa: A002 - Allegro's field name
        status: str = "ACTIVE",
        duration: str | None = None,
        category_id: str = "257931",
        id: str | None = None,  # noqa: A002
        ended_at: datetime | str | None = None,
        ended_by: str | None = None,
    ) -> Offer:
        with self.lock:
            seller_id = self._seller(seller_id)
            if format not in ("BUY_NOW", "AUCTION", "ADVERTISEMENT"):
                raise ControlError(f"invalid format {format!r}")
            if status not in ("INACTIVE", "ACTIVE", "ENDED"):
                raise ControlError(f"invalid status {status!r}")
            if format == "AUCTION" and duration is None:
                duration = "P7D"
            now = self.clock.now()
            if id is None:
                id = str(self.next_offer_id)
                self.next_offer_id += 1
            amount = money_str(price)
            offer = Offer(
                id=id,
                seller_id=seller_id,
                name=name,
                format=format,
                price=amount,
                currency=currency,
                stock=quantity,
                status="INACTIVE",
                created_at=now,
                updated_at=now,
                external_id=external_id,
                category_id=category_id,
                marketplace=self.sellers[seller_id].marketplace,
                starting_price=amount if format == "AUCTION" else None,
                duration=duration,
            )
            self.offers[id] = offer
            if status == "ACTIVE":
                if quantity < 1:
                    raise ControlError("an ACTIVE offer needs quantity >= 1")
                offer.status = "ACTIVE"
                offer.started_at = now
                delta = offers.duration_delta(duration)
                offer.ending_at = now + delta if delta else None
            elif status == "ENDED":
                offer.status = "ENDED"
                ended = ended_at or now
                if isinstance(ended, str):
                    ended = datetime.fromisoformat(ended)
                offer.ended_at = ended
                offer.ended_by = ended_by or "USER"
            return offer

    def add_offer(self, seller_id: str, name: str, **kwargs: Any) -> str:
        """Create an offer directly (no events); returns the offer id."""
        return self.create_offer(seller_id, name, **kwargs).id

    def offer(self, offer_id: str) -> dict[str, Any]:
        """The offer as ``GET /sale/product-offers/{id}`` would show it (plus
        emulator-only fields ``archived`` and ``bids``)."""
        with self.lock:
            o = self._offer(offer_id)
            body = offers.product_offer(self, o)
            body["archived"] = o.archived
            body["bids"] = to_dict(o.bids)
            return body

    def _offer(self, offer_id: str) -> Offer:
        o = self.offers.get(str(offer_id))
        if o is None:
            raise ControlError(f"unknown offer {offer_id!r}")
        return o

    def end_offer(self, offer_id: str, ended_by: str = "USER") -> None:
        with self.lock:
            offers.end_offer(self, self._offer(offer_id), ended_by)

    # ---------------------------------------------------------------- buyers

    def purchase(
        self,
        offer_id: str,
        quantity: int = 1,
        buyer: dict[str, Any] | str | None = None,
        message: str | None = None,
    ) -> str:
        """A buyer clicks "Kup teraz": checkout form in BOUGHT; returns its id."""
        with self.lock:
            offer = self._offer(offer_id)
            return orders.purchase(self, offer, quantity, buyer, message=message).id

    def _cf(self, cf_id: str) -> CheckoutForm:
        cf = self.checkout_forms.get(cf_id)
        if cf is None:
            raise ControlError(f"unknown checkout form {cf_id!r}")
        return cf

    def fill_in(self, cf_id: str) -> None:
        with self.lock:
            orders.fill_in(self, self._cf(cf_id))

    def pay(self, cf_id: str) -> None:
        """BOUGHT/FILLED_IN → READY_FOR_PROCESSING (fills in first if needed)."""
        with self.lock:
            orders.pay(self, self._cf(cf_id))

    def modify(
        self,
        cf_id: str,
        quantities: dict[str, int] | None = None,
        add: dict[str, int] | None = None,
    ) -> None:
        """BUYER_MODIFIED: new quantities per line item id (0 drops the line),
        new lines per offer id."""
        with self.lock:
            orders.modify(self, self._cf(cf_id), quantities, add)

    def cancel(self, cf_id: str, auto: bool = False) -> None:
        with self.lock:
            orders.cancel(self, self._cf(cf_id), auto=auto)

    def bid(
        self,
        offer_id: str,
        amount: str | int | float,
        buyer: dict[str, Any] | str | None = None,
    ) -> None:
        with self.lock:
            offer = self._offer(offer_id)
            if offer.format != "AUCTION" or offer.status != "ACTIVE":
                raise ControlError(f"offer {offer_id} is not an active auction")
            value = Decimal(money_str(amount))
            floor = Decimal(offers.current_price(offer))
            if (offer.bids and value <= floor) or value < floor:
                raise ControlError(f"bid {value} too low (current {floor})")
            offer.bids.append(
                Bid(orders.normalise_buyer(self, buyer), str(value), self.clock.now())
            )
            offers.emit_offer_event(self, offer, "OFFER_BID_PLACED")

    def ship_with_allegro(self, cf_id: str, waybill: str) -> str:
        """The seller sent the parcel with "Wysyłam z Allegro": Allegro adds the
        waybill to the order itself (api-notes §4.1). Returns the shipment id."""
        with self.lock:
            return shipments.ship_with_allegro(self, self._cf(cf_id), waybill).id

    def lag_list(self, cf_id: str, seconds: float) -> None:
        """Allegro's list lags behind its events at times: leave this form out
        of ``GET /order/checkout-forms`` for ``seconds`` of emulated time (by id
        and in events it stays as it is)."""
        with self.lock:
            cf = self._cf(cf_id)
            cf.hidden_from_list_until = self.clock.now() + timedelta(seconds=seconds)
            form_index.lag(self, cf)

    def checkout_form(self, cf_id: str) -> dict[str, Any]:
        with self.lock:
            return orders.checkout_form_json(self._cf(cf_id))

    # ------------------------------------------------------------- commands

    def process_commands(self) -> int:
        """Complete every pending command now, regardless of the delay."""
        with self.lock:
            return commands.process_due(self, self.clock.now(), force=True)

    # --------------------------------------------------------------- faults

    def add_fault(
        self,
        path_regex: str,
        kind: str,
        count: int | None = 1,
        method: str | None = None,
        delay_seconds: float = 0.0,
        skip: int = 0,
    ) -> int:
        """Make matching requests fail. ``kind``: "500", "502", "503", "504",
        "429", "timeout" or "slow" (answers normally after ``delay_seconds``)."""
        if kind not in FAULT_KINDS:
            raise ControlError(f"unknown fault kind {kind!r}; use one of {FAULT_KINDS}")
        re.compile(path_regex)
        with self.lock:
            fault = Fault(
                self.next_fault_id, path_regex, kind, count, method, delay_seconds, skip
            )
            self.next_fault_id += 1
            self.faults.append(fault)
            return fault.id

    def remove_fault(self, fault_id: int) -> None:
        with self.lock:
            self.faults = [f for f in self.faults if f.id != fault_id]

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()

    def inject_duplicate_events(
        self, count: int = 1, checkout_form_id: str | None = None
    ) -> list[str]:
        """Re-append the last ``count`` order events (optionally of one checkout
        form) under new ids, as in #1133 (duplicates with different ids)."""
        with self.lock:
            pool = [
                e
                for e in self.order_events
                if checkout_form_id is None or e.checkout_form_id == checkout_form_id
            ][-count:]
            new_ids = []
            for e in pool:
                self.last_order_event_id += 1
                dup = OrderEvent(
                    self.last_order_event_id,
                    e.seller_id,
                    e.type,
                    e.occurred_at,
                    e.checkout_form_id,
                    dict(e.order),
                )
                self.order_events.append(dup)
                new_ids.append(str(dup.id))
            return new_ids

    def inject_out_of_order(self, count: int = 2) -> None:
        """Reverse the payloads of the last ``count`` order events while keeping
        their ids increasing: a later state (e.g. READY_FOR_PROCESSING) is then
        served before an earlier one (ORD-TUT: events can arrive out of order)."""
        with self.lock:
            tail = self.order_events[-count:]
            ids = [e.id for e in tail]
            for e, new_id in zip(reversed(tail), ids, strict=True):
                e.id = new_id
            self.order_events[-count:] = list(reversed(tail))

    # ---------------------------------------------------------- request log

    @property
    def requests(self) -> list[dict[str, Any]]:
        """The request log (newest last): method, path, endpoint, query, json,
        form, headers (secrets redacted), status, fault, client_id, seller_id."""
        with self.lock:
            return [dict(r) for r in self.request_log]

    def count(self, method: str | None = None, path_pattern: str = ".*") -> int:
        """Requests whose method matches (None/"*" = any) and whose path fully
        matches ``path_pattern`` (a regex) or whose route template equals it."""
        with self.lock:
            rx = re.compile(path_pattern)
            n = 0
            for r in self.request_log:
                if method not in (None, "*") and r["method"] != method.upper():
                    continue
                template = r["endpoint"].split(" ", 1)[1]
                if template == path_pattern or rx.fullmatch(r["path"]):
                    n += 1
            return n

    def counts(self) -> dict[str, int]:
        """Per-endpoint counts keyed like ``"GET /sale/product-offers/{offerId}"``."""
        with self.lock:
            out: dict[str, int] = {}
            for r in self.request_log:
                out[r["endpoint"]] = out.get(r["endpoint"], 0) + 1
            return out

    def clear_requests(self) -> None:
        with self.lock:
            self.request_log.clear()

    # ----------------------------------------------------------------- clock

    def advance(self, seconds: float = 0, **kwargs: float) -> str:
        """Move the clock forward and apply whatever became due."""
        self.clock.advance(seconds, **kwargs)
        self.tick()
        return self.clock.now().isoformat()

    # ------------------------------------------------------------ seed/dump

    def reset(self) -> None:
        with self.lock:
            self._reset_state()

    def seed(self, data: dict[str, Any]) -> dict[str, Any]:
        """Load a seed file (README) or a ``dump()``; returns ids created."""
        with self.lock:
            if data.get("format") == DUMP_FORMAT:
                self._restore(data)
                return {}
            created: dict[str, Any] = {"clients": [], "sellers": {}, "offers": {}}
            for c in data.get("clients", []):
                created["clients"].append(self.register_client(**c))
            for s in data.get("sellers", []):
                s = dict(s)
                login = s.pop("login")
                created["sellers"][login] = self.add_seller(login, **s)
            for o in data.get("offers", []):
                o = dict(o)
                seller = o.pop("seller", None) or o.pop("seller_id", None)
                if seller is None:
                    if len(self.sellers) != 1:
                        raise ControlError(
                            "offer without 'seller' needs exactly one seller"
                        )
                    seller = next(iter(self.sellers))
                oid = self.add_offer(self._seller(seller), o.pop("name"), **o)
                created["offers"][o.get("external_id") or oid] = oid
            return created

    def dump(self) -> dict[str, Any]:
        """Full state as JSON-able data; ``seed(dump())`` restores it."""
        with self.lock:
            return {
                "format": DUMP_FORMAT,
                "clock": self.clock.now().isoformat(),
                "clients": to_dict(list(self.clients.values())),
                "sellers": to_dict(list(self.sellers.values())),
                "offers": to_dict(list(self.offers.values())),
                "checkout_forms": to_dict(list(self.checkout_forms.values())),
                "order_events": to_dict(self.order_events),
                "offer_events": to_dict(self.offer_events),
                "commands": to_dict(list(self.commands.values())),
                "offer_operations": to_dict(list(self.offer_operations.values())),
                "access_tokens": to_dict(list(self.access_tokens.values())),
                "refresh_tokens": to_dict(list(self.refresh_tokens.values())),
                "auth_codes": to_dict(list(self.auth_codes.values())),
                "device_codes": to_dict(list(self.device_codes.values())),
                "counters": {
                    "next_seller_id": self.next_seller_id,
                    "next_offer_id": self.next_offer_id,
                    "last_order_event_id": self.last_order_event_id,
                    "last_offer_event_id": self.last_offer_event_id,
                },
                # The id generator (checkout forms, line items, revisions...):
                # a reloaded state goes on with it instead of repeating ids.
                "rng": rng_to_json(self.rng.getstate()),
            }

    def _restore(self, data: dict[str, Any]) -> None:
        self._reset_state()
        self.clock.set(datetime.fromisoformat(data["clock"]))

        def load(cls: type, key: str) -> list[Any]:
            return [from_dict(cls, x) for x in data.get(key, [])]

        self.clients = {c.client_id: c for c in load(Client, "clients")}
        self.sellers = {s.id: s for s in load(Seller, "sellers")}
        self.offers = {o.id: o for o in load(Offer, "offers")}
        self.checkout_forms = {c.id: c for c in load(CheckoutForm, "checkout_forms")}
        self.form_index = form_index.build(self.checkout_forms)
        self.order_events = load(OrderEvent, "order_events")
        self.offer_events = load(OfferEvent, "offer_events")
        self.commands = {(c.kind, c.id): c for c in load(Command, "commands")}
        self.offer_operations = {
            o.id: o for o in load(OfferOperation, "offer_operations")
        }
        self.access_tokens = {t.token: t for t in load(AccessToken, "access_tokens")}
        self.refresh_tokens = {t.token: t for t in load(RefreshToken, "refresh_tokens")}
        self.auth_codes = {c.code: c for c in load(AuthCode, "auth_codes")}
        self.device_codes = {d.device_code: d for d in load(DeviceCode, "device_codes")}
        for key, value in data.get("counters", {}).items():
            setattr(self, key, value)
        if "rng" in data:
            self.rng.setstate(rng_from_json(data["rng"]))
        else:
            # A dump from before the generator was saved: the seed would hand
            # out its earlier ids again, so go on from an unpredictable point.
            self.rng.seed(secrets.randbits(128))


def rng_to_json(state: tuple[Any, ...]) -> dict[str, Any]:
    """``random.Random.getstate()`` as JSON: (version, 625 ints, gauss_next)."""
    version, internal, gauss_next = state
    return {"version": version, "state": list(internal), "gauss_next": gauss_next}


def rng_from_json(data: dict[str, Any]) -> tuple[Any, ...]:
    return (data["version"], tuple(data["state"]), data["gauss_next"])
