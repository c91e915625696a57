"""``python -m allegro_emulator --port N [--seed FILE] [--buyers]``.

``main(argv)`` is also what ``allegro-hub emulator`` calls.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from allegro_emulator.buyers import BuyerConfig, BuyerSimulator
from allegro_emulator.config import EmulatorConfig
from allegro_emulator.emulator import Emulator
from allegro_emulator.server import make_server

DEMO_SEED = Path(__file__).with_name("demo_seed.json")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="allegro_emulator", description="Run the Allegro API emulator over HTTP."
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--seed", type=Path, help="seed JSON file (see README)")
    p.add_argument("--demo", action="store_true", help=f"load {DEMO_SEED.name}")
    p.add_argument("--buyers", action="store_true", help="run the buyer simulator")
    p.add_argument("--buyers-interval", type=float, default=5.0)
    p.add_argument("--buyers-seed", type=int, default=1)
    p.add_argument(
        "--rate-limit", type=int, default=9000, help="requests/min per client"
    )
    p.add_argument("--command-delay", type=float, default=2.0, help="seconds")
    p.add_argument(
        "--patch-async",
        type=float,
        default=None,
        metavar="SECONDS",
        help="answer PATCH product-offers with 202 and apply it SECONDS later",
    )
    p.add_argument("-v", "--verbose", action="store_true")
    return p


def load_seed(emu: Emulator, path: Path) -> None:
    """Seed from a file; any problem with it is a ValueError naming the file."""
    try:
        emu.seed(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"cannot load seed file {path}: {exc}") from None


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(name)s %(message)s",
    )
    config = EmulatorConfig(
        realtime_clock=True,
        rate_limit_per_minute=args.rate_limit,
        command_delay_seconds=args.command_delay,
        patch_async_seconds=args.patch_async,
    )
    emu = Emulator(config)
    seed_file = args.seed or (DEMO_SEED if args.demo else None)
    try:
        if seed_file is not None:
            load_seed(emu, seed_file)
        server = make_server(emu, args.host, args.port)
    except (OSError, ValueError) as exc:
        parser.exit(2, f"{parser.prog}: error: {exc}\n")
    sim = None
    if args.buyers:
        sim = BuyerSimulator(
            emu,
            BuyerConfig(seed=args.buyers_seed, interval_seconds=args.buyers_interval),
        )
        sim.start()
    print(
        f"Allegro emulator on http://{args.host}:{server.server_address[1]} "
        f"({len(emu.offers)} offers, buyers={'on' if sim else 'off'})",
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        if sim is not None:
            sim.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
