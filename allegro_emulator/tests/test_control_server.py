from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from allegro_emulator import MEDIA_TYPE, Emulator, EmulatorConfig
from allegro_emulator.__main__ import build_parser, main
from allegro_emulator.server import start_background

from .conftest import START, World

PKG = Path(__file__).resolve().parents[1]


def test_real_http_server_serves_api_oauth_and_control() -> None:
    emu = Emulator(EmulatorConfig(start_time=START))
    base, stop = start_background(emu)
    try:
        with httpx.Client(base_url=base, timeout=5) as c:
            r = c.post(
                "/__control/register_client",
                json={"client_id": "c", "client_secret": "s"},
            )
            assert r.json() == {"result": "c"}
            sid = c.post("/__control/add_seller", json={"login": "s1"}).json()["result"]
            tok = c.post(
                "/__control/issue_tokens", json={"client_id": "c", "seller_id": sid}
            ).json()["result"]
            headers = {
                "Accept": MEDIA_TYPE,
                "Authorization": f"Bearer {tok['access_token']}",
            }
            me = c.get("/me", headers=headers)
            assert me.status_code == 200
            assert me.json()["login"] == "s1"
            assert "Trace-Id" in me.headers
            oid = c.post(
                "/__control/add_offer",
                json={"seller_id": sid, "name": "A", "quantity": 2, "external_id": "X"},
            ).json()["result"]
            cf = c.post("/__control/purchase", json={"offer_id": oid}).json()["result"]
            c.post("/__control/pay", json={"cf_id": cf})
            events = c.get("/order/events", headers=headers).json()["events"]
            assert [e["type"] for e in events] == [
                "BOUGHT",
                "FILLED_IN",
                "READY_FOR_PROCESSING",
            ]
            bad = c.post("/__control/pay", json={"cf_id": "nope"})
            assert bad.status_code == 400
            assert "unknown checkout form" in bad.json()["error"]
            counts = c.get("/__control/counts").json()["result"]
            assert counts == {"GET /me": 1, "GET /order/events": 1}
            moved = c.post("/__control/advance", json={"seconds": 43199}).json()[
                "result"
            ]
            assert moved.startswith("2026-03-02T21:59:59")
            assert c.get("/me", headers=headers).status_code == 401
            page = c.get("/auth/oauth/authorize", params={"client_id": "zzz"})
            assert page.status_code == 400
    finally:
        stop()


def test_timeout_fault_over_http_drops_connection() -> None:
    emu = Emulator(EmulatorConfig(start_time=START))
    base, stop = start_background(emu)
    try:
        emu.add_fault("/me", "timeout", delay_seconds=0.5)
        with httpx.Client(base_url=base, timeout=0.2) as c:
            try:
                c.get("/me")
                raise AssertionError("expected a timeout")
            except httpx.ReadTimeout:
                pass
    finally:
        stop()


def test_seed_and_dump_round_trip(world: World) -> None:
    oid = world.emu.add_offer(world.seller_id, "A", quantity=5, external_id="S1")
    cf = world.emu.purchase(oid, 2)
    world.emu.pay(cf)
    world.emu.bid(
        world.emu.add_offer(world.seller_id, "Auk", format="AUCTION"), "10", "b"
    )
    dumped = world.emu.dump()
    json.dumps(dumped)  # JSON-able
    clone = Emulator()
    clone.seed(json.loads(json.dumps(dumped)))
    assert clone.dump() == dumped
    # tokens survive, so the same client keeps working against the clone
    c = httpx.Client(
        transport=clone.transport,
        base_url="http://x",
        headers={
            "Accept": MEDIA_TYPE,
            "Authorization": f"Bearer {world.tokens['access_token']}",
        },
    )
    assert (
        c.get(f"/order/checkout-forms/{cf}").json()["status"] == "READY_FOR_PROCESSING"
    )


def test_demo_seed_file() -> None:
    emu = Emulator()
    created = emu.seed(json.loads((PKG / "demo_seed.json").read_text()))
    assert created["clients"] == ["demo-client"]
    assert created["sellers"] == {"demo-seller": "50000001"}
    assert sorted(created["offers"]) == [f"DEMO-{i:03d}" for i in range(1, 11)]
    assert created["offers"]["DEMO-001"] == "17000000001"
    formats = {o.format for o in emu.offers.values()}
    assert "AUCTION" in formats
    tok = emu.issue_tokens("demo-client", "demo-seller")
    assert tok["access_token"]


def test_cli_parser_and_module_runs_without_django() -> None:
    args = build_parser().parse_args(["--port", "9999", "--seed", "x.json", "--buyers"])
    assert (args.port, str(args.seed), args.buyers) == (9999, "x.json", True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "allegro_emulator", "--port", str(port), "--demo"],
        cwd=PKG.parent,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/__control/clock", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, (
                    proc.stderr.read() if proc.stderr else ""
                )
                time.sleep(0.1)
        assert r.status_code == 200
        dump = httpx.get(f"http://127.0.0.1:{port}/__control/dump", timeout=5).json()[
            "result"
        ]
        assert len(dump["offers"]) == 10
    finally:
        proc.terminate()
        proc.wait(timeout=5)


def test_package_never_imports_hub_or_django() -> None:
    code = (
        "import sys, allegro_emulator, allegro_emulator.server, "
        "allegro_emulator.buyers, allegro_emulator.__main__; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('hub', 'django')]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=PKG.parent, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    sources = "".join(p.read_text() for p in PKG.glob("*.py"))
    assert "import hub" not in sources
    assert "from hub" not in sources


def test_http_control_reads_and_errors(world: World) -> None:
    oid = world.emu.add_offer(world.seller_id, "A", quantity=2)
    cf = world.emu.purchase(oid)
    got = world.raw.get("/__control/offer", params={"id": oid}).json()["result"]
    assert got["stock"]["available"] == 1
    form = world.raw.get("/__control/checkout_form", params={"id": cf}).json()["result"]
    assert form["status"] == "BOUGHT"
    assert world.raw.post("/__control/nope", json={}).status_code == 404
    bad_args = world.raw.post("/__control/purchase", json={"offer": oid})
    assert bad_args.status_code == 400
    fault = world.raw.post(
        "/__control/add_fault", json={"path_regex": "/me", "kind": "503"}
    )
    assert fault.json() == {"result": 1}
    assert world.api.get("/me").status_code == 503
    moved = world.raw.post(
        "/__control/advance", json={"set": "2026-04-01T00:00:00+00:00"}
    )
    assert moved.json()["result"] == "2026-04-01T00:00:00+00:00"


def test_seed_offer_defaults_to_the_only_seller() -> None:
    emu = Emulator()
    created = emu.seed(
        {
            "sellers": [{"login": "only"}],
            "offers": [{"name": "A", "external_id": "E1", "quantity": 3}],
        }
    )
    offer = emu.offer(created["offers"]["E1"])
    assert offer["stock"]["available"] == 3
    assert emu.offers[created["offers"]["E1"]].seller_id == created["sellers"]["only"]


def test_concurrent_requests_over_http_are_consistent() -> None:
    import threading

    emu = Emulator(EmulatorConfig(start_time=START))
    emu.register_client("c", "s")
    sid = emu.add_seller("s1")
    token = emu.issue_tokens("c", sid)["access_token"]
    oid = emu.add_offer(sid, "A", quantity=1000)
    base, stop = start_background(emu)
    errors: list[str] = []
    headers = {
        "Accept": MEDIA_TYPE,
        "Authorization": f"Bearer {token}",
        "Content-Type": MEDIA_TYPE,
    }

    def worker(n: int) -> None:
        with httpx.Client(base_url=base, headers=headers, timeout=10) as c:
            for i in range(10):
                r = c.patch(
                    f"/sale/product-offers/{oid}",
                    json={"stock": {"available": 500 + n * 10 + i}},
                )
                if r.status_code != 200:
                    errors.append(r.text)
                emu.purchase(oid, 1)

    try:
        threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        stop()
    assert errors == []
    assert len(emu.checkout_forms) == 80
    assert emu.count("PATCH", "/sale/product-offers/{offerId}") == 80
    ids = [e.id for e in emu.order_events]
    assert ids == sorted(ids)
    assert len(set(ids)) == 80


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "No such file"),
        ("{not json", "Expecting property name"),
        (
            '{"sellers": [{"login": "s"}], "offers": [{"name": "X", "colour": 1}]}',
            "colour",
        ),
        ('{"offers": [{"name": "X"}]}', "offer without 'seller'"),
    ],
)
def test_cli_bad_seed_file_is_a_clear_error_not_a_traceback(
    tmp_path, capsys, content: str | None, reason: str
) -> None:
    seed = tmp_path / "seed.json"
    if content is not None:
        seed.write_text(content, encoding="utf-8")

    with pytest.raises(SystemExit) as exited:
        main(["--port", "0", "--seed", str(seed)])

    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert f"cannot load seed file {seed}" in err
    assert reason in err
    assert "Traceback" not in err


def test_cli_port_in_use_is_a_clear_error(capsys) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        with pytest.raises(SystemExit) as exited:
            main(["--port", str(port)])

    assert exited.value.code == 2
    assert "Address already in use" in capsys.readouterr().err


def test_reloaded_dump_goes_on_with_the_id_generator_never_repeating_ids() -> None:
    original = Emulator(EmulatorConfig(start_time=START, seed=5))
    original.add_seller("s")
    oid = original.add_offer("s", "A", quantity=100)
    for _ in range(3):
        original.pay(original.purchase(oid))
    old_forms = list(original.checkout_forms.values())
    old_ids = {cf.id for cf in old_forms} | {cf.payment_id for cf in old_forms}
    old_ids |= {li.id for cf in old_forms for li in cf.line_items}
    old_revisions = {cf.revision for cf in old_forms}
    dumped = json.loads(json.dumps(original.dump()))

    reloaded = Emulator(EmulatorConfig(start_time=START, seed=5))  # same seed
    reloaded.seed(dumped)
    new_cf_id = reloaded.purchase(oid)
    new_cf = reloaded.checkout_forms[new_cf_id]

    assert len(old_ids) == 9
    assert len(reloaded.checkout_forms) == 4
    assert {new_cf_id, new_cf.payment_id, new_cf.line_items[0].id}.isdisjoint(old_ids)
    assert new_cf.revision not in old_revisions
    # It goes on exactly where the dumped emulator stopped.
    assert original.purchase(oid) == new_cf_id
    assert reloaded.dump()["rng"] == original.dump()["rng"]


def test_dump_without_the_id_generator_does_not_repeat_ids() -> None:
    """A dump written before the generator was saved: ids go on elsewhere."""
    original = Emulator(EmulatorConfig(start_time=START, seed=5))
    original.add_seller("s")
    oid = original.add_offer("s", "A", quantity=100)
    old = {original.purchase(oid) for _ in range(3)}
    dumped = original.dump()
    del dumped["rng"]

    reloaded = Emulator(EmulatorConfig(start_time=START, seed=5))
    reloaded.seed(dumped)
    new = {reloaded.purchase(oid) for _ in range(3)}

    assert len(new) == 3
    assert not new & old
    fresh = Emulator(EmulatorConfig(start_time=START, seed=5))  # what reuse was
    fresh.add_seller("s")
    fresh.add_offer("s", "A", quantity=100)
    assert {fresh.purchase(oid) for _ in range(3)} == old
