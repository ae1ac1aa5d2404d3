"""Security headers on every response, and a cap on request bodies (pure ASGI: cheap).

Every response means error pages too: the 500 and 503 pages are made inside this middleware
(app/main.py's ServerErrorPages), not by Starlette's handler outside it."""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send


def content_security_policy(style_source: str) -> str:
    """No inline script anywhere: HTMX is configured by a <meta> tag, our own JS is a file. The
    one inline style is our stylesheet, allowed by its hash alone: app/main.py passes it in
    (app/web/stylesheet.py says why), so security knows nothing of the web pages."""
    return (
        f"default-src 'none'; script-src 'self'; style-src 'self' {style_source}; "
        "img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
        "base-uri 'none'"
    )


class SecurityHeadersMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        production: bool,
        style_source: str,
        max_body_bytes: int = 1_048_576,
        large_bodies: dict[str, int] | None = None,
    ) -> None:
        self.app = app
        self.production = production
        self.csp = content_security_policy(style_source).encode()
        self.default_max_body_bytes = max_body_bytes
        # A few routes take a bigger body (a spreadsheet upload); every other keeps the cap.
        self.large_bodies = large_bodies or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        headers = dict(scope["headers"])
        max_body_bytes = self.large_bodies.get(path, self.default_max_body_bytes)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {
                    **message,
                    "headers": [*message.get("headers", []), *self._extra(path, message)],
                }
            await send(message)

        length = headers.get(b"content-length")
        if length is not None and not length.isdigit():
            await _error(send_with_headers, 400, "invalid Content-Length header")
            return
        if length is not None and int(length) > max_body_bytes:
            await _error(send_with_headers, 413, _TOO_LARGE)
            return

        # A body sent without a length (chunked) is counted as it arrives. Past the cap, the
        # 413 goes out at once and the app is told the client left, so it stops reading; what
        # it answers after that is dropped. (Raising here would reach FastAPI, which turns any
        # error while reading the body into a 400.)
        received = 0
        too_large = False
        response_started = False

        async def capped_receive() -> Message:
            nonlocal received, too_large
            if too_large:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_body_bytes:
                    too_large = True
                    if not response_started:
                        await _error(send_with_headers, 413, _TOO_LARGE)
                    return {"type": "http.disconnect"}
            return message

        async def send_unless_refused(message: Message) -> None:
            nonlocal response_started
            if too_large:
                return
            if message["type"] == "http.response.start":
                response_started = True
            await send_with_headers(message)

        await self.app(scope, capped_receive, send_unless_refused)

    def _extra(self, path: str, message: Message) -> list[tuple[bytes, bytes]]:
        extra = [
            (b"content-security-policy", self.csp),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
            (b"x-frame-options", b"DENY"),
            (b"cross-origin-opener-policy", b"same-origin"),
            (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
        ]
        if self.production:
            extra.append((b"strict-transport-security", b"max-age=63072000; includeSubDomains"))
        if path.startswith("/static/") and message.get("status", 200) < 400:
            # Only a file that was found: a 404 cached for a year would outlive the fix.
            extra.append((b"cache-control", b"public, max-age=31536000, immutable"))
        elif not any(k.lower() == b"cache-control" for k, _v in message.get("headers", [])):
            # Pages about a person must not linger in a shared device's cache.
            extra.append((b"cache-control", b"no-store"))
        return extra


_TOO_LARGE = "request body too large"


async def _error(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers: list[Any] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
