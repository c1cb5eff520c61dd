"""A metrics service for the secrets tests: an HTTP server on this machine that records
each POST (headers and body), so a test can check what a step sent with its secrets."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

__all__ = ["Received", "metrics_service"]


class Received(BaseHTTPRequestHandler):
    requests: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:  # the name http.server calls
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.requests.append({"headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
        self.send_response(202)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        pass


@contextmanager
def metrics_service() -> Iterator[str]:
    """The service's report URL while it runs; ``Received.requests`` holds what it got."""
    Received.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Received)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1/reports"
    finally:
        server.shutdown()
        server.server_close()
