"""Real HTTP transport: a stdlib ``ThreadingHTTPServer`` adapting to the core."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from allegro_emulator.emulator import Emulator
from allegro_emulator.faults import TimeoutFault

log = logging.getLogger(__name__)
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}


def make_handler(emu: Emulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "AllegroEmulator/1.0"
        # Headers and body are written separately; with Nagle on, keep-alive
        # clients wait ~40 ms (delayed ACK) for every response.
        disable_nagle_algorithm = True

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            host = self.headers.get("Host") or "localhost"
            request = httpx.Request(
                self.command,
                f"http://{host}{self.path}",
                headers=[(k, v) for k, v in self.headers.items() if k.lower() != "host"]
                + [("host", host)],
                content=body,
            )
            result = emu.dispatch(request)
            if isinstance(result, TimeoutFault):
                # Hold the connection, then drop it without answering.
                time.sleep(result.delay_seconds)
                self.close_connection = True
                return
            content = result.read()
            self.send_response(result.status_code)
            for raw_name, raw_value in result.headers.raw:
                name = raw_name.decode("latin-1")
                if name.lower() not in HOP_BY_HOP:
                    self.send_header(name, raw_value.decode("latin-1"))
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            # Paths only (no headers), so no tokens reach the log.
            log.debug("%s %s", self.address_string(), format % args)

    return Handler


def make_server(
    emu: Emulator, host: str = "127.0.0.1", port: int = 0
) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer((host, port), make_handler(emu))
    server.daemon_threads = True
    return server


def serve(emu: Emulator, host: str = "127.0.0.1", port: int = 8765) -> None:
    """Serve until interrupted."""
    server = make_server(emu, host, port)
    try:
        server.serve_forever()
    finally:
        server.server_close()


def start_background(
    emu: Emulator, host: str = "127.0.0.1", port: int = 0
) -> tuple[str, Callable[[], None]]:
    """Start a server thread; return ``(base_url, stop)``."""
    server = make_server(emu, host, port)
    thread = threading.Thread(
        target=server.serve_forever, name="allegro-emulator", daemon=True
    )
    thread.start()
    bound_host, bound_port = (
        str(server.server_address[0]),
        int(server.server_address[1]),
    )

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return f"http://{bound_host}:{bound_port}", stop
