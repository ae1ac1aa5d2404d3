"""The delivery worker: takes due deliveries from the outbox and POSTs them, signed.

How a delivery moves:
1. Claim: one short transaction sets `lease_until` on due pending rows. On PostgreSQL the rows
   are picked with `FOR UPDATE SKIP LOCKED`, so several workers never claim the same row; on
   SQLite the single UPDATE statement is atomic because SQLite has one writer at a time. The
   lease outlasts the request timeout, so no other worker takes the row while this one waits.
2. Attempt: the HTTP request runs outside any transaction (a slow receiver must not hold
   database locks), with a total timeout, without following redirects.
3. Record: one transaction logs the attempt and moves the row on: delivered, retried later,
   or dead after the last retry. The update only applies while this worker still holds the
   lease; a worker killed at any point simply leaves a lease that runs out, and the row is
   sent again (at least once, always with the same webhook-id).

The worker sleeps until a commit queues deliveries (an in-process hook, and PostgreSQL's
LISTEN/NOTIFY across processes) or a short poll comes round, runs consent expiry about
once a minute, signs a ledger checkpoint when one is due (app/events/checkpoints.py), and
every few minutes emails the staff digests that are due (app/staff/digest.py) on a task of
its own, so a slow or dead mail server never holds up deliveries.
Time comes from `clock`, so tests walk the retry schedule without sleeping.

While the database is unreachable (a restart, a failover) every step fails: the worker logs
it once, backs off (up to MAX_BACKOFF_SECONDS), and carries on by itself when the database is
back. Outcomes it could not record meanwhile are kept and written then, so what was delivered
is not sent again; leases cover everything else (tests/faults/test_db_restart.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from sqlalchemy import bindparam, case, func, insert, or_, select, text, update
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, col

import app.models  # noqa: F401 - every table, and the outbox listeners
from app.config import Settings
from app.db import database_unavailable, make_engine, utcnow
from app.events.models import Event
from app.events.service import envelope_bytes, event_envelope
from app.webhooks import outbox
from app.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from app.webhooks.signing import live_secrets, webhook_headers
from app.webhooks.ssrf import Destination, UnsafeWebhookUrl, checked_destination

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

# After the first attempt fails, retry after these delays (each ±20%); after the last retry
# the delivery is dead-lettered.
RETRY_SCHEDULE = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=14),
    timedelta(hours=20),
    timedelta(hours=24),
)
MAX_ATTEMPTS = len(RETRY_SCHEDULE) + 1
# Requests in flight to one endpoint at most (PORTAL_WEBHOOK_PER_ENDPOINT): a small
# nonprofit's receiver (Python's http.server listens with a queue of 5) is never flooded,
# and the other connections stay free for every other organization.
DEFAULT_PER_ENDPOINT = 4
JITTER = 0.2  # spreads retries out so that a receiver coming back is not hit all at once
MAX_RETRY_AFTER = timedelta(hours=24)
RESPONSE_EXCERPT_BYTES = 4096
ERROR_MAX_CHARS = 500
EXPIRY_EVERY_SECONDS = 60.0
CHECKPOINT_CHECK_SECONDS = 60.0  # how often to look whether a ledger checkpoint is due
DIGEST_CHECK_SECONDS = 300.0  # how often to look for staff digests due (and retry failures)
STOP_GRACE_SECONDS = 5.0  # on shutdown, how long in-flight requests may finish
MAX_BACKOFF_SECONDS = 5.0  # the longest wait between tries while the database is unreachable
EXPIRY_LOCK_KEY = 727_001  # PostgreSQL advisory lock: one worker at a time expires consents
USER_AGENT = "ConsentPortal-Webhooks/1"


@dataclass(frozen=True)
class Claim:
    """A delivery this worker holds the lease on, with everything needed to send it."""

    delivery_id: int
    lease_until: datetime
    event_id: str
    endpoint_id: str
    url: str
    secrets: tuple[str, ...]
    body: bytes
    attempts: int  # attempts recorded before this one


@dataclass(frozen=True)
class AttemptOutcome:
    claim: Claim
    attempted_at: datetime
    finished_at: datetime
    status_code: int | None
    duration_ms: int
    response_excerpt: str | None
    error: str | None
    retry_after: timedelta | None

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


# --- the schedule --------------------------------------------------------------------------


def retry_delay(
    attempts_made: int, *, retry_after: timedelta | None, rng: random.Random
) -> timedelta:
    """How long to wait after the `attempts_made`-th failed attempt. A receiver's Retry-After
    replaces the schedule (within 1 s to 24 h); the attempt still counts toward the limit."""
    if retry_after is not None:
        return min(max(retry_after, timedelta(seconds=1)), MAX_RETRY_AFTER)
    base = RETRY_SCHEDULE[attempts_made - 1]
    return base * rng.uniform(1 - JITTER, 1 + JITTER)


def parse_retry_after(value: str | None, *, now: datetime) -> timedelta | None:
    """Retry-After is either seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(when - now, timedelta(0))


# --- claim and record (short transactions) -------------------------------------------------


def claim_due(
    session: Session,
    *,
    now: datetime,
    lease_seconds: float,
    limit: int,
    per_endpoint: int = DEFAULT_PER_ENDPOINT,
    busy: Mapping[str, int] | None = None,
) -> list[Claim]:
    """Lease up to `limit` due deliveries to this worker and load what sending them needs.

    Fair across endpoints: at most `per_endpoint` requests in flight to any one receiver (less
    what this worker already has in flight there, `busy`), taken in turn from each endpoint
    (the oldest of every endpoint, then the second oldest...). One organization's burst then
    never fills every connection while another's withdrawal waits, and a small receiver is
    never sent more at once than its listen queue holds."""
    lease_until = now + timedelta(seconds=lease_seconds)
    unleased = or_(
        col(WebhookDelivery.lease_until).is_(None),
        col(WebhookDelivery.lease_until) < now,
    )
    ready = (
        select(
            col(WebhookDelivery.id).label("id"),
            func.row_number()
            .over(
                partition_by=col(WebhookDelivery.endpoint_id),
                order_by=(col(WebhookDelivery.next_attempt_at), col(WebhookDelivery.id)),
            )
            .label("turn"),
            col(WebhookDelivery.endpoint_id).label("endpoint_id"),
        )
        .join(WebhookEndpoint, col(WebhookEndpoint.id) == col(WebhookDelivery.endpoint_id))
        .where(
            col(WebhookDelivery.status) == "pending",
            col(WebhookDelivery.next_attempt_at) <= now,
            unleased,
            col(WebhookEndpoint.disabled_at).is_(None),
            col(WebhookEndpoint.deleted_at).is_(None),
        )
        .subquery("ready")
    )
    # How many more each endpoint may take now: a few endpoints are busy, the rest get all.
    room = {endpoint: per_endpoint - n for endpoint, n in (busy or {}).items() if n > 0}
    allowed: Any = (
        case(room, value=ready.c.endpoint_id, else_=per_endpoint) if room else per_endpoint
    )
    due = (
        select(col(WebhookDelivery.id))
        .join(ready, ready.c.id == col(WebhookDelivery.id))
        .where(ready.c.turn <= allowed)
        .order_by(ready.c.turn, col(WebhookDelivery.next_attempt_at), col(WebhookDelivery.id))
        .limit(limit)
        # PostgreSQL: rows another worker is claiming right now are skipped, not waited for.
        # A CTE, because PostgreSQL runs it exactly once.
        .with_for_update(skip_locked=True, of=WebhookDelivery.__table__)  # type: ignore[attr-defined]
        .cte("due")
    )
    claimed_ids = list(
        session.scalars(
            update(WebhookDelivery)
            .where(
                col(WebhookDelivery.id).in_(select(due.c.id)),
                # Checked again on the row itself, should two claims ever meet.
                col(WebhookDelivery.status) == "pending",
                unleased,
            )
            .values(lease_until=lease_until)
            .returning(col(WebhookDelivery.id))
            .execution_options(synchronize_session=False)
        )
    )
    if not claimed_ids:
        session.commit()
        return []
    rows = session.exec(
        select(WebhookDelivery, Event, WebhookEndpoint)  # type: ignore[call-overload]
        .join(Event, col(Event.id) == col(WebhookDelivery.event_id))
        .join(WebhookEndpoint, col(WebhookEndpoint.id) == col(WebhookDelivery.endpoint_id))
        .where(col(WebhookDelivery.id).in_(claimed_ids))
        .order_by(col(WebhookDelivery.next_attempt_at), col(WebhookDelivery.id))
    ).all()
    claims = [
        Claim(
            delivery_id=delivery.id,
            lease_until=lease_until,
            event_id=event.id,
            endpoint_id=endpoint.id,
            url=endpoint.url,
            secrets=tuple(live_secrets(endpoint, now)),
            body=envelope_bytes(event_envelope(event)),
            attempts=delivery.attempts,
        )
        for delivery, event, endpoint in rows
    ]
    session.commit()
    return claims


def record_outcomes(
    session: Session, outcomes: list[AttemptOutcome], *, rng: random.Random
) -> None:
    """Log every attempt and move each delivery on, in one transaction (a few statements,
    each run once for the whole batch: this is the worker's busiest write)."""
    if not outcomes:
        return
    endpoint_ids = {o.claim.endpoint_id for o in outcomes}
    endpoints = {
        e.id: e
        for e in session.scalars(
            select(WebhookEndpoint).where(WebhookEndpoint.id.in_(endpoint_ids))  # type: ignore[attr-defined]
        )
    }
    states = []
    gone: dict[str, datetime] = {}
    for outcome in outcomes:
        endpoint = endpoints.get(outcome.claim.endpoint_id)
        if outcome.status_code == 410 and endpoint is not None and endpoint.disabled_at is None:
            _disable_endpoint(endpoint, now=outcome.finished_at)
            gone[endpoint.id] = outcome.finished_at
        states.append(_next_state(outcome, endpoint, rng=rng))
    session.execute(
        insert(WebhookAttempt),
        [
            {
                "delivery_id": o.claim.delivery_id,
                "endpoint_id": o.claim.endpoint_id,
                "event_id": o.claim.event_id,
                "attempted_at": o.attempted_at,
                "status_code": o.status_code,
                "duration_ms": o.duration_ms,
                "response_excerpt": o.response_excerpt,
                "error": o.error,
            }
            for o in outcomes
        ],
    )
    table = WebhookDelivery.__table__  # type: ignore[attr-defined]
    session.connection().execute(
        update(table)
        .where(
            table.c.id == bindparam("b_id"),
            # Only while the lease is still ours: if it ran out and another worker took the
            # row over, that worker records its own result.
            table.c.lease_until == bindparam("b_lease"),
        )
        .values({column: bindparam(column) for column in _STATE_COLUMNS}),
        [
            {"b_id": o.claim.delivery_id, "b_lease": o.claim.lease_until, **state}
            for o, state in zip(outcomes, states, strict=True)
        ],
    )
    for outcome, state in zip(outcomes, states, strict=True):
        if state["status"] == "dead":
            log.warning(
                "event %s to endpoint %s dead-lettered after %d attempts (%s)",
                outcome.claim.event_id,
                outcome.claim.endpoint_id,
                state["attempts"],
                state["last_error"] or f"HTTP {state['last_status_code']}",
            )
    for endpoint_id, now in gone.items():
        log.warning("endpoint %s answered 410 Gone and was disabled", endpoint_id)
        session.add(endpoints[endpoint_id])
        # Deliveries still waiting for it are dead-lettered, not dropped: the network admin
        # sees them and can redeliver.
        session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.endpoint_id == endpoint_id,  # type: ignore[arg-type]
                WebhookDelivery.status == "pending",  # type: ignore[arg-type]
            )
            .values(status="dead", dead_at=now, lease_until=None, last_error="endpoint disabled")
            .execution_options(synchronize_session=False)
        )
    session.commit()


_STATE_COLUMNS = (
    "status",
    "attempts",
    "next_attempt_at",
    "lease_until",
    "last_status_code",
    "last_error",
    "delivered_at",
    "dead_at",
)


def _next_state(
    outcome: AttemptOutcome, endpoint: WebhookEndpoint | None, *, rng: random.Random
) -> dict[str, Any]:
    """Every column of _STATE_COLUMNS, so that one statement updates the whole batch."""
    attempts = outcome.claim.attempts + 1
    now = outcome.finished_at
    state: dict[str, Any] = {
        "status": "pending",
        "attempts": attempts,
        "next_attempt_at": now,
        "lease_until": None,
        "last_status_code": outcome.status_code,
        "last_error": outcome.error,
        "delivered_at": None,
        "dead_at": None,
    }
    if outcome.delivered:
        return state | {"status": "delivered", "delivered_at": now, "last_error": None}
    if endpoint is None or endpoint.deleted_at is not None:
        return state | {"status": "cancelled", "last_error": "the endpoint was deleted"}
    if outcome.status_code == 410:
        return state | {"status": "dead", "dead_at": now, "last_error": "410 Gone: disabled"}
    if endpoint.disabled_at is not None or attempts >= MAX_ATTEMPTS:
        return state | {"status": "dead", "dead_at": now}
    delay = retry_delay(attempts, retry_after=outcome.retry_after, rng=rng)
    return state | {"next_attempt_at": now + delay}


def _disable_endpoint(endpoint: WebhookEndpoint, *, now: datetime) -> None:
    """410 Gone: the receiver says the endpoint is gone for good."""
    endpoint.disabled_at = now
    endpoint.disabled_reason = "the endpoint answered 410 Gone"


def release_leases(session: Session, claims: list[Claim]) -> None:
    """Hand unfinished claims back at shutdown, so another worker sends them at once."""
    for claim in claims:
        session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id == claim.delivery_id,  # type: ignore[arg-type]
                WebhookDelivery.lease_until == claim.lease_until,  # type: ignore[arg-type]
            )
            .values(lease_until=None)
            .execution_options(synchronize_session=False)
        )
    session.commit()


# --- one attempt (no transaction open) -----------------------------------------------------


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


# --- the worker ----------------------------------------------------------------------------


class EndpointClients:
    """An HTTP client (a connection pool) per endpoint. httpcore checks every pooled
    connection on each request, so several small pools are much cheaper than one big one,
    and one endpoint's connections never crowd out another's."""

    def __init__(self, *, timeout: float, max_connections: int) -> None:
        self.timeout = timeout
        self.max_connections = max_connections
        self._clients: dict[str, httpx.AsyncClient] = {}

    def for_endpoint(self, endpoint_id: str) -> httpx.AsyncClient:
        client = self._clients.get(endpoint_id)
        if client is None:
            client = self._clients[endpoint_id] = httpx.AsyncClient(
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


class Backoff:
    """Database steps while the database is unreachable (a restart, a failover): the wait
    between tries doubles from `first` up to MAX_BACKOFF_SECONDS, the outage is logged once
    when it starts and once when it ends, not at every try. Anything else that fails is a bug
    and logged with its traceback every time."""

    def __init__(self, what: str, first: float) -> None:
        self.what = what
        self.first = first
        self.failures = 0
        self._since = 0.0

    def failed(self, exc: BaseException) -> float:
        """Log as needed; returns how long to wait before the next try."""
        self.failures += 1
        if not database_unavailable(exc):
            log.error("webhook worker: %s failed; retrying", self.what, exc_info=exc)
        elif self.failures == 1:
            self._since = time.monotonic()
            first_line = (str(exc).strip().splitlines() or [""])[0][:200]
            log.warning(
                "webhook worker: %s: the database is unavailable (%s: %s); retrying",
                self.what,
                type(exc).__name__,
                first_line,
            )
        return min(self.first * 2 ** min(self.failures - 1, 16), MAX_BACKOFF_SECONDS)

    def succeeded(self) -> None:
        if self.failures:
            log.info(
                "webhook worker: %s works again after %.1f s (%d tries failed)",
                self.what,
                time.monotonic() - self._since,
                self.failures,
            )
            self.failures = 0


class DeliveryWorker:
    """Delivers the outbox with up to `concurrency` requests in flight."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        *,
        clock: Clock = utcnow,
        rng: random.Random | None = None,
        concurrency: int | None = None,
        per_endpoint: int | None = None,
        timeout: float | None = None,
        lease_seconds: float | None = None,
        poll_seconds: float | None = None,
        expire_consents: bool = True,
        make_checkpoints: bool = True,
        send_digests: bool = True,
        digest_check_seconds: float = DIGEST_CHECK_SECONDS,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.clock = clock
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not security
        self.concurrency = concurrency or settings.webhook_concurrency
        self.per_endpoint = per_endpoint or settings.webhook_per_endpoint
        self.timeout = timeout if timeout is not None else settings.webhook_timeout_seconds
        self.lease_seconds = (
            lease_seconds if lease_seconds is not None else settings.webhook_lease_seconds
        )
        if self.lease_seconds <= self.timeout:
            raise ValueError("the lease must outlast the request timeout")
        self.poll_seconds = poll_seconds or settings.webhook_poll_seconds
        self.expire_consents = expire_consents
        self.make_checkpoints = make_checkpoints
        self.send_digests = send_digests
        self.digest_check_seconds = digest_check_seconds
        self._digest_task: asyncio.Future[int] | None = None
        self.postgresql = engine.dialect.name == "postgresql"
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._stopping = False
        self._to_record: asyncio.Event | None = None
        self._drained = False
        self._in_flight: dict[asyncio.Task[AttemptOutcome], Claim] = {}
        self._finished: list[AttemptOutcome] = []
        self._abandoned: list[Claim] = []
        self._claim_backoff = Backoff("claiming deliveries", self.poll_seconds)
        self._record_backoff = Backoff("recording outcomes", self.poll_seconds)

    # Database work runs in a thread so that requests in flight keep moving meanwhile.
    def _claim(self, limit: int, busy: Mapping[str, int] | None = None) -> list[Claim]:
        with Session(self.engine, expire_on_commit=False) as session:
            return claim_due(
                session,
                now=self.clock(),
                lease_seconds=self.lease_seconds,
                limit=limit,
                per_endpoint=self.per_endpoint,
                busy=busy,
            )

    def _busy(self) -> dict[str, int]:
        """Requests this worker has in flight, per endpoint."""
        return dict(Counter(claim.endpoint_id for claim in self._in_flight.values()))

    def _record(self, outcomes: list[AttemptOutcome]) -> None:
        with Session(self.engine, expire_on_commit=False) as session:
            record_outcomes(session, outcomes, rng=self.rng)

    def _release(self, claims: list[Claim]) -> None:
        with Session(self.engine, expire_on_commit=False) as session:
            release_leases(session, claims)

    def expire_consents_now(self) -> int:
        """Record consent.expired for consents past their expiry (and queue the webhooks)."""
        from app.consent.service import expire_due

        with Session(self.engine, expire_on_commit=False) as session:
            if self.postgresql:
                got_lock = session.execute(
                    text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": EXPIRY_LOCK_KEY}
                ).scalar()
                if not got_lock:
                    return 0  # another worker is doing it right now
            count = expire_due(session, base_url=self.settings.base_url, now=self.clock())
            session.commit()
            return count

    def checkpoint_if_due(self) -> bool:
        """Sign a ledger checkpoint when PORTAL_LEDGER_CHECKPOINT_MINUTES have passed."""
        from app.events.checkpoints import make_checkpoint_if_due

        with Session(self.engine, expire_on_commit=False) as session:
            made = make_checkpoint_if_due(session, self.clock(), settings=self.settings)
            session.commit()
            return made is not None

    def digest_if_due(self) -> int:
        """Email the staff digests that are due; returns how many went out. Never raises: a
        mail server that is down (or a bug here) is logged and tried again next time, as
        nothing was marked sent."""
        from app.staff.digest import send_due_digests

        try:
            return send_due_digests(self.engine, self.settings, now=self.clock())
        except Exception as exc:
            if isinstance(exc, OSError) or type(exc).__module__ == "smtplib":
                log.warning("staff digests not sent, trying again later: %s", exc)
            else:
                log.exception("staff digests failed, trying again later")
            return 0

    def _start_digest_if_idle(self) -> None:
        # Not awaited by the loop: sending may take a mail server's timeout per try.
        if self._digest_task is None or self._digest_task.done():
            self._digest_task = asyncio.ensure_future(asyncio.to_thread(self.digest_if_due))

    def _clients(self) -> EndpointClients:
        return EndpointClients(timeout=self.timeout, max_connections=self.per_endpoint)

    async def _attempt(self, clients: EndpointClients, claim: Claim) -> AttemptOutcome:
        return await attempt_delivery(
            clients.for_endpoint(claim.endpoint_id),
            claim,
            clock=self.clock,
            timeout=self.timeout,
            production=self.settings.production,
        )

    async def run_once(self, *, limit: int | None = None) -> int:
        """Claim what is due now, deliver it, record the outcomes; returns how many were
        attempted. For tests and benchmarks: the real path, one batch at a time."""
        claims = await asyncio.to_thread(self._claim, limit or self.concurrency)
        if not claims:
            return 0
        async with self._clients() as clients:
            outcomes = await asyncio.gather(*(self._attempt(clients, c) for c in claims))
        await asyncio.to_thread(self._record, list(outcomes))
        return len(claims)

    def run_once_sync(self, *, limit: int | None = None) -> int:
        return asyncio.run(self.run_once(limit=limit))

    # --- running until stopped -----------------------------------------------------------

    def request_stop(self) -> None:
        """Stop claiming, let requests in flight finish (briefly), record, return from run()."""
        self._stopping = True
        if self._wake is not None:
            self._wake.set()

    def request_stop_threadsafe(self) -> None:
        if self._loop is not None and not self._loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                self._loop.call_soon_threadsafe(self.request_stop)

    def _wake_threadsafe(self) -> None:
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(wake.set)

    def _on_done(self, task: asyncio.Task[AttemptOutcome]) -> None:
        claim = self._in_flight.pop(task)
        if task.cancelled():
            self._abandoned.append(claim)
        elif task.exception() is not None:
            log.error(
                "delivery %s failed unexpectedly", claim.delivery_id, exc_info=task.exception()
            )
            self._abandoned.append(claim)
        else:
            self._finished.append(task.result())
        assert self._wake is not None and self._to_record is not None
        self._wake.set()  # a slot is free
        self._to_record.set()

    async def _flush_finished(self) -> None:
        outcomes: list[AttemptOutcome] = []
        try:
            if self._finished:
                outcomes, self._finished = self._finished, []
                await asyncio.to_thread(self._record, outcomes)
                outcomes = []
            if self._abandoned:
                claims, self._abandoned = self._abandoned, []
                await asyncio.to_thread(self._release, claims)
            self._record_backoff.succeeded()
        except Exception as exc:
            delay = self._record_backoff.failed(exc)
            if outcomes and database_unavailable(exc) and not self._drained:
                # Kept and written once the database is back, so that what was delivered is
                # not sent again. (Recording only applies while the lease is still this
                # worker's; if it ran out meanwhile, the row was, or will be, sent again.)
                self._finished[:0] = outcomes
                assert self._to_record is not None
                self._to_record.set()
            # Otherwise not lost either: the leases run out and the deliveries are sent again.
            await asyncio.sleep(delay)

    async def _record_continuously(self) -> None:
        """Outcomes are written while the claims and the requests go on, so that neither
        waits for the other's transaction."""
        assert self._to_record is not None
        while True:
            await self._to_record.wait()
            self._to_record.clear()
            await self._flush_finished()
            if self._drained:
                return

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._to_record = asyncio.Event()
        self._drained = False
        unsubscribe = outbox.subscribe(self._wake_threadsafe)
        listener = asyncio.create_task(self._listen()) if self.postgresql else None
        recorder = asyncio.create_task(self._record_continuously())
        # With NOTIFY waking us, polling is only a safety net (and catches retries coming due).
        poll = max(self.poll_seconds, 1.0) if self.postgresql else self.poll_seconds
        next_expiry = self._loop.time() if self.expire_consents else float("inf")
        next_checkpoint = self._loop.time() if self.make_checkpoints else float("inf")
        digests = self.send_digests and bool(self.settings.smtp_url)
        next_digest = self._loop.time() if digests else float("inf")
        try:
            async with self._clients() as clients:
                while not self._stopping:
                    self._wake.clear()
                    try:
                        if self._loop.time() >= next_expiry:
                            next_expiry = self._loop.time() + EXPIRY_EVERY_SECONDS
                            await asyncio.to_thread(self.expire_consents_now)
                        if self._loop.time() >= next_checkpoint:
                            next_checkpoint = self._loop.time() + CHECKPOINT_CHECK_SECONDS
                            await asyncio.to_thread(self.checkpoint_if_due)
                        if self._loop.time() >= next_digest:
                            next_digest = self._loop.time() + self.digest_check_seconds
                            self._start_digest_if_idle()
                        free = self.concurrency - len(self._in_flight)
                        if free > 0:
                            claimed = await asyncio.to_thread(self._claim, free, self._busy())
                            for claim in claimed:
                                task = asyncio.create_task(self._attempt(clients, claim))
                                self._in_flight[task] = claim
                                task.add_done_callback(self._on_done)
                    except Exception as exc:
                        # The database may be restarting: leases keep everything safe. Back
                        # off, and try again sooner when woken (a commit, NOTIFY, a stop).
                        delay = self._claim_backoff.failed(exc)
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(self._wake.wait(), timeout=delay)
                        continue
                    self._claim_backoff.succeeded()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), timeout=poll)
                await self._drain()
                if self._digest_task is not None:
                    # Its thread cannot be cancelled; it ends by the mail server's timeout.
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(
                            asyncio.shield(self._digest_task), timeout=STOP_GRACE_SECONDS
                        )
        finally:
            self._drained = True
            self._to_record.set()
            await recorder
            unsubscribe()
            if listener is not None:
                listener.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await listener

    async def _drain(self) -> None:
        """On stop: give requests in flight a moment to finish, hand back the rest."""
        if self._in_flight:
            _, pending = await asyncio.wait(
                list(self._in_flight), timeout=min(STOP_GRACE_SECONDS, self.timeout)
            )
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending)

    async def _listen(self) -> None:
        """PostgreSQL LISTEN: wake as soon as another process commits new deliveries."""
        import psycopg

        conninfo = make_url(self.engine.url).set(drivername="postgresql")
        dsn = conninfo.render_as_string(hide_password=False)
        backoff = Backoff("LISTEN (polling meanwhile)", self.poll_seconds * 4)
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    dsn, autocommit=True, connect_timeout=5
                ) as conn:
                    await conn.execute(f"LISTEN {outbox.NOTIFY_CHANNEL}")
                    backoff.succeeded()
                    assert self._wake is not None
                    self._wake.set()  # what was committed while not listening
                    async for _ in conn.notifies():
                        self._wake.set()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                await asyncio.sleep(backoff.failed(exc))


# --- how the worker is started -------------------------------------------------------------


class InProcessWorker:
    """The worker on its own thread and event loop inside the web server's process, so its
    database calls never stall the server's loop."""

    def __init__(self, worker: DeliveryWorker) -> None:
        self.worker = worker
        self._thread = threading.Thread(target=self._run, name="webhook-worker", daemon=True)
        self._started = threading.Event()

    def _run(self) -> None:
        async def main() -> None:
            task = asyncio.create_task(self.worker.run())
            await asyncio.sleep(0)  # let run() set up its loop and wake-up hooks
            self._started.set()
            await task

        try:
            asyncio.run(main())
        except Exception:
            log.exception("the in-process webhook worker stopped with an error")
        finally:
            self._started.set()

    async def start(self) -> None:
        self._thread.start()
        await asyncio.to_thread(self._started.wait, 10)

    async def stop(self) -> None:
        self.worker.request_stop_threadsafe()
        await asyncio.to_thread(self._thread.join, self.worker.timeout + 10)


async def start_in_process_worker(app: Any) -> InProcessWorker:
    worker = DeliveryWorker(app.state.engine, app.state.settings)
    handle = InProcessWorker(worker)
    await handle.start()
    return handle


def run_worker_forever(settings: Settings) -> None:
    """`consent-portal worker`: deliver until SIGTERM or SIGINT, then stop cleanly."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    engine = make_engine(settings.database_url)
    worker = DeliveryWorker(engine, settings)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, worker.request_stop)
        log.info("webhook worker started (%s)", engine.dialect.name)
        await worker.run()
        log.info("webhook worker stopped")

    try:
        asyncio.run(main())
    finally:
        engine.dispose()
