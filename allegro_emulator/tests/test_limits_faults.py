from __future__ import annotations

import time

import httpx
import pytest

from allegro_emulator import ControlError

from .conftest import CLIENT_ID, World, basic


def test_global_rate_limit_blocks_client_for_60s(world_factory) -> None:
    w = world_factory(rate_limit_per_minute=5)
    for _ in range(5):
        assert w.api.get("/me").status_code == 200
    blocked = w.api.get("/me")
    assert blocked.status_code == 429
    assert blocked.json()["errors"][0]["code"] == "TooManyRequests"
    w.emu.clock.advance(seconds=59)
    assert w.api.get("/me").status_code == 429
    # token endpoint counts against the same client id
    resp = w.raw.post(
        "/auth/oauth/token", data={"grant_type": "client_credentials"},
        headers={"Authorization": basic()},
    )  # fmt: skip
    assert resp.status_code == 429
    w.emu.clock.advance(seconds=1)
    assert w.api.get("/me").status_code == 200


def test_rate_limit_is_per_client(world_factory) -> None:
    w = world_factory(rate_limit_per_minute=2)
    w.emu.register_client("other", "secret")
    other = w.client_for(str(w.emu.issue_tokens("other", w.seller_id)["access_token"]))
    for _ in range(3):
        w.api.get("/me")
    assert w.api.get("/me").status_code == 429
    assert other.get("/me").status_code == 200


def test_sliding_window_lets_requests_through_after_a_minute(world_factory) -> None:
    w = world_factory(rate_limit_per_minute=3)
    for _ in range(3):
        assert w.api.get("/me").status_code == 200
        w.emu.clock.advance(seconds=30)
    assert w.api.get("/me").status_code == 200  # oldest request left the window


@pytest.mark.parametrize("kind", ["500", "503", "429"])
def test_status_faults_are_one_shot_and_do_not_process(world: World, kind: str) -> None:
    oid = world.emu.add_offer(world.seller_id, "A", quantity=3)
    world.emu.add_fault(r"^/sale/product-offers/", kind, method="PATCH")
    url = f"/sale/product-offers/{oid}"
    headers = {"Content-Type": "application/vnd.allegro.public.v1+json"}
    first = world.api.patch(url, json={"stock": {"available": 1}}, headers=headers)
    assert first.status_code == int(kind)
    assert "errors" in first.json()
    assert world.emu.offer(oid)["stock"]["available"] == 3
    assert world.api.get(url).status_code == 200  # GET not matched
    second = world.api.patch(url, json={"stock": {"available": 1}}, headers=headers)
    assert second.status_code == 200
    log = [r for r in world.emu.requests if r["method"] == "PATCH"]
    assert [r["status"] for r in log] == [int(kind), 200]
    assert [r["fault"] for r in log] == [kind, None]


def test_fault_count_skip_and_unlimited(world: World) -> None:
    fid = world.emu.add_fault("/me", "503", count=None, skip=1)
    assert world.api.get("/me").status_code == 200
    assert world.api.get("/me").status_code == 503
    assert world.api.get("/me").status_code == 503
    world.emu.remove_fault(fid)
    assert world.api.get("/me").status_code == 200
    with pytest.raises(ControlError):
        world.emu.add_fault("/me", "418")


def test_timeout_fault_raises_read_timeout(world: World) -> None:
    world.emu.add_fault("/order/events", "timeout")
    with pytest.raises(httpx.ReadTimeout):
        world.api.get("/order/events")
    assert world.api.get("/order/events").status_code == 200
    assert [r["status"] for r in world.emu.requests] == [None, 200]


def test_slow_fault_delays_then_answers(world: World) -> None:
    world.emu.add_fault("/me", "slow", delay_seconds=0.2)
    start = time.monotonic()
    assert world.api.get("/me").status_code == 200
    assert time.monotonic() - start >= 0.2


def test_request_log_and_counts(world: World) -> None:
    oid = world.emu.add_offer(world.seller_id, "A", quantity=3)
    world.api.get(f"/sale/product-offers/{oid}")
    world.api.get(f"/sale/product-offers/{oid}", params={"x": "1"})
    world.api.get("/sale/offers", params={"external.id": ["A", "B"]})
    world.raw.post(
        "/auth/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": "super-secret-value"},
        headers={"Authorization": basic()},
    )
    assert world.emu.count("GET", "/sale/product-offers/{offerId}") == 2
    assert world.emu.count("GET", r"/sale/product-offers/\d+") == 2
    assert world.emu.count(None, "/sale/offers") == 1
    assert world.emu.count("POST", "/sale/offers") == 0
    assert world.emu.counts() == {
        "GET /sale/product-offers/{offerId}": 2,
        "GET /sale/offers": 1,
        "POST /auth/oauth/token": 1,
    }
    log = world.emu.requests
    assert log[2]["query"] == {"external.id": ["A", "B"]}
    assert log[0]["headers"]["authorization"] == "Bearer <redacted>"
    assert log[0]["client_id"] == CLIENT_ID
    assert log[0]["seller_id"] == world.seller_id
    token_call = log[3]
    assert token_call["form"] == {
        "grant_type": "refresh_token",
        "refresh_token": "<redacted>",
    }
    text = repr(log)
    assert "super-secret-value" not in text
    assert str(world.tokens["access_token"]) not in text
    world.emu.clear_requests()
    assert world.emu.requests == []


def test_json_body_logged(world: World) -> None:
    oid = world.emu.add_offer(world.seller_id, "A", quantity=3)
    world.api.patch(
        f"/sale/product-offers/{oid}",
        json={"stock": {"available": 2}},
        headers={"Content-Type": "application/vnd.allegro.public.v1+json"},
    )
    assert world.emu.requests[-1]["json"] == {"stock": {"available": 2}}


def test_unknown_path_404_and_wrong_method_405(world: World) -> None:
    assert world.api.get("/nope").status_code == 404
    assert world.api.delete("/me").status_code == 405


def test_request_log_is_capped(world_factory) -> None:
    w = world_factory(request_log_limit=3)
    for _ in range(5):
        w.api.get("/me")
    assert len(w.emu.requests) == 3


def test_control_paths_are_not_logged_or_faulted(world: World) -> None:
    world.emu.add_fault("/__control", "500", count=None)
    resp = world.raw.get("/__control/clock")
    assert resp.status_code == 200
    assert resp.json() == {"result": "2026-03-02T10:00:00+00:00"}
    assert world.emu.requests == []
