"""A real HTTP receiver for webhook tests: `http.server` on a free loopback port, in a thread,
that records each request and answers with the statuses it is told to."""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return orjson.loads(self.body)


@dataclass
class Receiver:
    url: str
    requests: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)  # answered in turn; then `status`
    status: int = 204
    headers: dict[str, str] = field(default_factory=dict)  # sent with every answer
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self) -> int:
        with self.lock:
            return self.statuses.pop(0) if self.statuses else self.status

    def events(self, ok_only: bool = True) -> list[dict[str, Any]]:
        """The events of every POST (answered 2xx only, with ``ok_only``), in order."""
        found: list[dict[str, Any]] = []
        for request in self.requests:
            if ok_only and not request.headers.get("x-answered", "").startswith("2"):
                continue
            found.extend(request.json["events"])
        return found


def verify(secret: str, request: Received, max_age: float = 300) -> bool:
    """What docs/webhooks.md tells a receiver to do, written here independently of Accord."""
    timestamp = request.headers["x-accord-timestamp"]
    if abs(time.time() - int(timestamp)) > max_age:
        return False
    expected = hmac.new(
        secret.encode(), timestamp.encode() + b"." + request.body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest("sha256=" + expected, request.headers["x-accord-signature"])


@contextmanager
def receiving() -> Iterator[Receiver]:
    receiver = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            status = receiver.answer()
            headers = {name.lower(): value for name, value in self.headers.items()}
            headers["x-answered"] = str(status)
            with receiver.lock:
                receiver.requests.append(Received(self.path, headers, body))
            self.send_response(status)
            for name, value in receiver.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, name="webhook-receiver", daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
