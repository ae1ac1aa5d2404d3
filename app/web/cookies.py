"""Cookies set from anywhere in a request (dependencies included) are added to whatever
response the endpoint returns; FastAPI would otherwise drop them for returned Responses."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

STATE_KEY = "pending_cookies"


def queue_cookie(
    state: dict,
    name: str,
    value: str,
    *,
    secure: bool,
    max_age: int | None = None,
    http_only: bool = True,
) -> None:
    parts = [f"{name}={value}", "Path=/", "SameSite=Lax"]
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    if http_only:
        parts.append("HttpOnly")
    if secure:
        parts.append("Secure")
    state.setdefault(STATE_KEY, []).append("; ".join(parts))


class PendingCookiesMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})

        async def send_with_cookies(message: Message) -> None:
            if message["type"] == "http.response.start" and state.get(STATE_KEY):
                cookies = [(b"set-cookie", c.encode()) for c in state[STATE_KEY]]
                message = {**message, "headers": [*message.get("headers", []), *cookies]}
            await send(message)

        await self.app(scope, receive, send_with_cookies)
