"""One signed HTTP attempt to deliver a claim.

The request runs outside any transaction (a slow receiver must not hold database locks), with
a total timeout, without following redirects, to the address that passed the SSRF check.
Its own file because this is the only place the portal talks to a receiver: what is sent,
with which headers, and what counts as an answer. (How it is sent, over kept-alive
connections per endpoint: app/webhooks/connections.py.)
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from app.webhooks.claims import AttemptOutcome, Claim
from app.webhooks.connections import Answer, ConnectionFailed, EndpointConnections
from app.webhooks.retries import parse_retry_after
from app.webhooks.signing import webhook_headers
from app.webhooks.ssrf import Destination, UnsafeWebhookUrl, checked_destination

Clock = Callable[[], datetime]

RESPONSE_EXCERPT_BYTES = 4096
ERROR_MAX_CHARS = 500
USER_AGENT = "ConsentPortal-Webhooks/1"
REDIRECTS = frozenset({301, 302, 303, 307, 308})


async def attempt_delivery(
    connections: EndpointConnections,
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
            answer = await send_to(
                connections, claim.endpoint_id, destination, body=claim.body, headers=headers
            )
        status_code = answer.status_code
        retry_after = parse_retry_after(answer.headers.get("retry-after"), now=attempted_at)
        if status_code in REDIRECTS and "location" in answer.headers:
            error = f"redirects are not followed (to {answer.headers['location'][:200]!r})"
        # PostgreSQL text cannot hold NUL.
        excerpt = answer.excerpt.decode("utf-8", "replace").replace("\x00", "")
    except UnsafeWebhookUrl as exc:
        error = f"refused: {exc}"
    except TimeoutError:
        error = f"no complete answer within {timeout:g} s"
    except ConnectionFailed as exc:  # refused, reset, TLS, not HTTP, ...
        error = str(exc)
    except Exception as exc:  # a URL or header no HTTP message can carry, ...
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


async def send_to(
    connections: EndpointConnections,
    endpoint_id: str,
    destination: Destination,
    *,
    body: bytes,
    headers: dict[str, str],
) -> Answer:
    """POST to the destination; a pinned one keeps the endpoint's own name as Host, as TLS
    server name and for the certificate check."""
    return await connections.post(
        endpoint_id,
        destination.url,
        body=body,
        headers=headers,
        host_header=destination.host_header,
        server_name=destination.sni_hostname,
        excerpt_bytes=RESPONSE_EXCERPT_BYTES,
    )
