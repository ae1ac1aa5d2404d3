"""A fast webhook receiver for the webhook benchmarks: a bare ASGI app under uvicorn, run in
its own process so it never competes with the sender for the GIL.

POST any path → 204, and remembers when each webhook-id first arrived (time.time()) and
which participant it was about. GET /stats → {"count": n, "arrivals": {...}, "by_ref": {...}}.

    .venv/bin/python bench/webhook_receiver.py PORT
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

count = 0
arrivals: dict[str, float] = {}  # webhook-id → first arrival
by_ref: dict[str, float] = {}  # participant external_ref → first arrival


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    global count
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    if scope["method"] == "GET":
        payload = json.dumps({"count": count, "arrivals": arrivals, "by_ref": by_ref}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": payload})
        return
    now = time.time()
    count += 1
    headers = dict(scope["headers"])
    webhook_id = headers.get(b"webhook-id", b"").decode()
    arrivals.setdefault(webhook_id, now)
    try:
        ref = json.loads(body)["data"]["participant"]["external_ref"]
    except (ValueError, KeyError, TypeError):
        ref = None
    if ref:
        by_ref.setdefault(ref, now)
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ReceiverProcess:
    """Start the receiver in a subprocess and read its figures."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                self.stats()
                return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError("the receiver did not start")

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stats(self) -> dict[str, Any]:
        return httpx.get(self.url("/stats"), timeout=10, trust_env=False).json()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(
        app,
        host="127.0.0.1",
        port=int(sys.argv[1]),
        log_level="warning",
        access_log=False,
        backlog=4096,
    )
