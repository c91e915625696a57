"""Tunable emulator behaviour. Defaults follow api-notes.md; tests shrink them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass
class EmulatorConfig:
    # Clock: frozen by default (tests move it explicitly); the HTTP server runs it
    # in realtime mode so tokens and events age naturally during a demo.
    start_time: datetime | None = None
    realtime_clock: bool = False
    seed: int = 0  # seeds the id generator (uuids, offer ids) for reproducibility

    # OAuth lifetimes (api-notes §2.1, §2.2, §2.4).
    access_token_ttl: int = 43199
    refresh_token_ttl: int = 90 * 24 * 3600
    refresh_grace_seconds: int = 60
    auth_code_ttl: int = 10
    device_code_ttl: int = 3600
    device_interval: int = 5

    # Batch commands (api-notes §6) are processed once this much emulated time has
    # passed since the PUT, at the start of the next request (or on
    # ``Emulator.process_commands()``). 0 = processed before the next request.
    command_delay_seconds: float = 0.0
    max_offers_per_command: int = 1000

    # PATCH /sale/product-offers answers 200 (None) or, when set, 202 + Location
    # and applies the change this many seconds later (SPEC; api-notes §5.2).
    patch_async_seconds: float | None = None

    # Limits (api-notes §9). None disables a limit.
    rate_limit_per_minute: int | None = 9000
    rate_limit_block_seconds: int = 60
    shipments_rate_per_second: int | None = 50

    # Retention / archiving (api-notes §3.3, §5.4, §7).
    order_event_retention_days: int = 60
    offer_event_retention_hours: int = 24
    archive_after_days: int = 60
    checkout_forms_max_window: int = 10000

    # Shipments (api-notes §4.1): how many distinct orders may share one waybill
    # before 409. The real number is not published.
    waybill_max_orders: int = 5

    # Oldest request-log entries are dropped beyond this many (long demo runs).
    request_log_limit: int = 100_000

    # "timeout" faults on the real HTTP server: hold the connection this long,
    # then drop it without a response.
    timeout_fault_seconds: float = 30.0
