"""One signed HTTP attempt to deliver a claim, and the per-endpoint HTTP clients.

The request runs outside any transaction (a slow receiver must not hold database locks), with
a total timeout, without following redirects, to the address that passed the SSRF check.
Its own file because this is the only place the portal talks to a receiver: what is sent,
with which headers, and what counts as an answer.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timedelta

import httpx

from app.webhooks.claims import AttemptOutcome, Claim
from app.webhooks.retries import parse_retry_after
from app.webhooks.signing import webhook_headers
from app.webhooks.ssrf import Destination, UnsafeWebhookUrl, checked_destination

Clock = Callable[[], datetime]

RESPONSE_EXCERPT_BYTES = 4096
ERROR_MAX_CHARS = 500
USER_AGENT = "ConsentPortal-Webhooks/1"


async def attempt_delivery(
    client: httpx.AsyncClient,
    claim: Claim,
    *,
    clock: Clock,
    timeout: float,
    production: bool,
) -> AttemptOutcome:
    attempted_at = clock()
    started = time.monotonic()
    headers = webhook_headers(
        claim.secrets,
        msg_id=claim.event_id,  # the event id: the same on every retry, for deduplication
        timestamp=int(attempted_at.timestamp()),  # fresh per attempt
        body=claim.body,
    )
    headers["user-agent"] = USER_AGENT
    status_code: int | None = None
    excerpt: str | None = None
    error: str | None = None
    retry_after: timedelta | None = None
    try:
        async with asyncio.timeout(timeout):
            # Checked again (DNS may have changed since the endpoint was registered), and in
            # production sent to the very address that passed the check.
            destination = await checked_destination(claim.url, production=production)
            async with send_to(client, destination, body=claim.body, headers=headers) as response:
                status_code = response.status_code
                retry_after = parse_retry_after(
                    response.headers.get("retry-after"), now=attempted_at
                )
                if response.is_redirect:
                    location = response.headers.get("location", "")
                    error = f"redirects are not followed (to {location[:200]!r})"
                excerpt = await _read_excerpt(response)
    except UnsafeWebhookUrl as exc:
        error = f"refused: {exc}"
    except TimeoutError:
        error = f"no complete answer within {timeout:g} s"
    except Exception as exc:  # connection refused, TLS, a URL httpx cannot use, ...
        error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return AttemptOutcome(
        claim=claim,
        attempted_at=attempted_at,
        finished_at=clock(),
        status_code=status_code,
        duration_ms=round((time.monotonic() - started) * 1000),
        response_excerpt=excerpt,
        error=error[:ERROR_MAX_CHARS] if error else None,
        retry_after=retry_after,
    )


def send_to(
    client: httpx.AsyncClient, destination: Destination, *, body: bytes, headers: dict[str, str]
) -> AbstractAsyncContextManager[httpx.Response]:
    """POST to the destination; a pinned one keeps the endpoint's own name as Host, as TLS
    server name and for the certificate check."""
    extensions = {}
    if destination.host_header:
        headers = {**headers, "host": destination.host_header}
    if destination.sni_hostname:
        extensions["sni_hostname"] = destination.sni_hostname
    return client.stream(
        "POST",
        destination.url,
        content=body,
        headers=headers,
        follow_redirects=False,
        extensions=extensions,
    )


async def _read_excerpt(response: httpx.Response) -> str:
    """The first 4 KB of the answer, enough to debug; the rest is never downloaded."""
    received = bytearray()
    async for chunk in response.aiter_bytes():
        received.extend(chunk)
        if len(received) >= RESPONSE_EXCERPT_BYTES:
            break
    # PostgreSQL text cannot hold NUL.
    return received[:RESPONSE_EXCERPT_BYTES].decode("utf-8", "replace").replace("\x00", "")


class EndpointClients:
    """An HTTP client (a connection pool) per endpoint. httpcore checks every pooled
    connection on each request, so several small pools are much cheaper than one big one,
    and one endpoint's connections never crowd out another's. They share one TLS context:
    building one loads the CA bundle (about 0.1 s), which per endpoint held up the first
    delivery to each of them."""

    def __init__(self, *, timeout: float, max_connections: int) -> None:
        self.timeout = timeout
        self.max_connections = max_connections
        self._clients: dict[str, httpx.AsyncClient] = {}
        self._tls: ssl.SSLContext | None = None

    def for_endpoint(self, endpoint_id: str) -> httpx.AsyncClient:
        client = self._clients.get(endpoint_id)
        if client is None:
            if self._tls is None:
                self._tls = httpx.create_ssl_context(trust_env=False)
            client = self._clients[endpoint_id] = httpx.AsyncClient(
                verify=self._tls,
                timeout=httpx.Timeout(self.timeout),
                follow_redirects=False,
                # Proxies from the environment would route loopback receivers elsewhere.
                trust_env=False,
                limits=httpx.Limits(
                    max_connections=self.max_connections,
                    max_keepalive_connections=self.max_connections,
                ),
            )
        return client

    async def __aenter__(self) -> EndpointClients:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()
