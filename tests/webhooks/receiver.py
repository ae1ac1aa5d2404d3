"""A real webhook receiver on loopback: a threaded http.server that records every request and
answers from a script (status, headers, body, delay), so tests see exactly what a
organization's server would see."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"
    delay: float = 0.0  # seconds to wait before answering (a slow or hanging receiver)


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]  # lower-cased names
    body: bytes
    started: float  # time.monotonic()
    ended: float

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]


class Receiver:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self._scripts: dict[str, deque[Reply]] = defaultdict(deque)
        self._defaults: dict[str, Reply] = {}
        self._lock = threading.Lock()
        self._in_flight: dict[str, int] = defaultdict(int)
        self.in_flight_total = 0
        # Requests that arrived while another request with the same webhook-id was in flight.
        self.overlaps: list[str] = []
        # Requests whose body stopped short (the sender was killed while sending): headers only.
        self.cut_off: list[dict[str, str]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def script(self, path: str, *replies: Reply) -> None:
        """Answer the next requests to `path` with `replies`, in order, then the default."""
        with self._lock:
            self._scripts[path].extend(replies)

    def always(self, path: str, reply: Reply) -> None:
        with self._lock:
            self._defaults[path] = reply

    def to(self, path: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.path == path]

    def wait_for(self, count: int, timeout: float = 10.0, path: str | None = None) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                got = len([r for r in self.received if path is None or r.path == path])
            if got >= count:
                return
            time.sleep(0.01)
        raise AssertionError(f"expected {count} requests, got {got}")

    def _next_reply(self, path: str) -> Reply:
        with self._lock:
            if self._scripts[path]:
                return self._scripts[path].popleft()
            return self._defaults.get(path, Reply())

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        def headers_of(handler: BaseHTTPRequestHandler) -> dict[str, str]:
            return {k.lower(): v for k, v in handler.headers.items()}

        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, like a real server

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                started = time.monotonic()
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length)
                if len(body) < length:
                    # The sender died mid-body: no receiver would take this as a delivery, and
                    # there is nothing to answer.
                    with receiver._lock:
                        receiver.cut_off.append(headers_of(self))
                    self.close_connection = True
                    return
                headers = headers_of(self)
                webhook_id = headers.get("webhook-id", "")
                with receiver._lock:
                    if receiver._in_flight[webhook_id]:
                        receiver.overlaps.append(webhook_id)
                    receiver._in_flight[webhook_id] += 1
                    receiver.in_flight_total += 1
                reply = receiver._next_reply(self.path)
                try:
                    if reply.delay:
                        time.sleep(reply.delay)
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("content-length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except OSError:
                    pass  # the sender gave up (timeout) or was killed
                finally:
                    with receiver._lock:
                        receiver._in_flight[webhook_id] -= 1
                        receiver.in_flight_total -= 1
                        receiver.received.append(
                            Received(self.path, headers, body, started, time.monotonic())
                        )

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler

    def start(self) -> Receiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
