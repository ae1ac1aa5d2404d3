"""A fast webhook receiver for the webhook benchmarks: a bare ASGI app under uvicorn, run in
its own process so it never competes with the sender for the GIL.

POST any path → 204; a path under /delay/MS/ answers after MS milliseconds, to play a receiver
that takes its time (one process serves both kinds, so each organization needs one process).
It remembers, per delivery (the path, which is the endpoint, and the webhook-id header, which
is the event), when each request arrived and when its answer was sent (time.time()), and when
each webhook-id and each participant first arrived.

GET /stats → {"count": n, "deliveries": d}; GET /stats/full adds "arrivals" (webhook-id →
first arrival), "by_ref" (participant external_ref → first arrival) and "visits" ("path
webhook-id" → [[arrived, answered], ...]); DELETE /stats forgets everything (between runs).

    .venv/bin/python bench/webhook_receiver.py PORT
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
from itertools import pairwise
from pathlib import Path
from typing import Any

import httpx

count = 0
arrivals: dict[str, float] = {}  # webhook-id → first arrival
by_ref: dict[str, float] = {}  # participant external_ref → first arrival
visits: dict[str, list[list[float]]] = {}  # "path webhook-id" → [[arrived, answered], ...]


async def _answer_json(send: Any, payload: dict[str, Any]) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": json.dumps(payload).encode()})


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
        payload: dict[str, Any] = {"count": count, "deliveries": len(visits)}
        if scope["path"] == "/stats/full":
            payload |= {"arrivals": arrivals, "by_ref": by_ref, "visits": visits}
        await _answer_json(send, payload)
        return
    if scope["method"] == "DELETE":
        count = 0
        arrivals.clear()
        by_ref.clear()
        visits.clear()
        await _answer_json(send, {"count": 0})
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
    visit = [now, now]
    visits.setdefault(f"{scope['path']} {webhook_id}", []).append(visit)
    if scope["path"].startswith("/delay/"):
        await asyncio.sleep(float(scope["path"].split("/")[2]) / 1000)
    visit[1] = time.time()  # just before the answer leaves: the sender still waits until here
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def overlapping(visits_: dict[str, list[list[float]]]) -> int:
    """Deliveries that were being received twice at the same time (one request arrived
    before another for the same delivery had been answered)."""
    overlaps = 0
    for spans in visits_.values():
        ordered = sorted(spans)
        overlaps += any(later[0] < earlier[1] for earlier, later in pairwise(ordered))
    return overlaps


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

    def stats(self, *, full: bool = False) -> dict[str, Any]:
        path = "/stats/full" if full else "/stats"
        return httpx.get(self.url(path), timeout=30, trust_env=False).json()

    def reset(self) -> None:
        httpx.delete(self.url("/stats"), timeout=10, trust_env=False).raise_for_status()

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
