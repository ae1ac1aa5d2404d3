"""Leases and claims: which due deliveries a worker takes, and what it writes afterwards.

How a delivery moves through a worker:
1. Claim (`claim_due`): one short transaction sets `lease_until` on due pending rows. On
   PostgreSQL the rows are picked with `FOR UPDATE SKIP LOCKED`, so several workers never
   claim the same row; on SQLite the single UPDATE statement is atomic because SQLite has one
   writer at a time. The lease outlasts the request timeout, so no other worker takes the row
   while this one waits. Claims take turns across endpoints (at most a few in flight to each).
2. Attempt: the HTTP request, outside any transaction (app/webhooks/attempts.py).
3. Record (`record_outcomes`): one transaction logs the attempt and moves the row on:
   delivered, retried later, or dead after the last retry. The update only applies while this
   worker still holds the lease; a worker killed at any point simply leaves a lease that runs
   out, and the row is sent again (at least once, always with the same webhook-id).

Its own file because these are the only statements that move a delivery's state: every rule
about who sends what, and when, is read here.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, insert, or_, select, update
from sqlmodel import Session, col

from app.events.models import Event
from app.events.service import envelope_bytes, event_envelope
from app.webhooks import LOG_NAME
from app.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from app.webhooks.retries import MAX_ATTEMPTS, retry_delay
from app.webhooks.signing import live_secrets

log = logging.getLogger(LOG_NAME)

# Requests in flight to one endpoint at most (PORTAL_WEBHOOK_PER_ENDPOINT): a small
# nonprofit's receiver (Python's http.server listens with a queue of 5) is never flooded,
# and the other connections stay free for every other organization.
DEFAULT_PER_ENDPOINT = 4


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
    never sent more at once than its listen queue holds.

    Each step reads only the rows it takes, through the index on (endpoint, status, due time):
    which endpoints have something due (one probe each), then each endpoint's oldest few. So
    a claim costs the same with a backlog of 50 or of 50,000."""
    busy = busy or {}
    due = _due_now(now)
    waiting = _endpoints_waiting(session, due)
    turns = _take_turns(waiting, per_endpoint=per_endpoint, busy=busy, limit=limit)
    picked: list[int] = []
    for endpoint_id, count in turns.items():
        picked += session.scalars(
            select(WebhookDelivery.__table__.c.id)  # type: ignore[attr-defined]
            .where(col(WebhookDelivery.endpoint_id) == endpoint_id, *due)
            .order_by(col(WebhookDelivery.next_attempt_at), col(WebhookDelivery.id))
            .limit(count)
            # PostgreSQL: rows another worker is claiming right now are skipped, not waited
            # for (and stay locked by this transaction until the lease is written).
            .with_for_update(skip_locked=True)
        ).all()
    if not picked:
        session.commit()
        return []
    lease_until = now + timedelta(seconds=lease_seconds)
    claimed_ids: set[int] = set(
        session.scalars(
            update(WebhookDelivery)
            # Checked again on the row itself, should two claims ever meet (SQLite).
            .where(col(WebhookDelivery.id).in_(picked), *due)
            .values(lease_until=lease_until)
            .returning(WebhookDelivery.__table__.c.id)  # type: ignore[attr-defined]
            .execution_options(synchronize_session=False)
        )
    )
    claims = _load_claims(session, claimed_ids, lease_until=lease_until, now=now)
    session.commit()
    return claims


def _due_now(now: datetime) -> tuple[Any, ...]:
    """A delivery that is waiting, due, and not leased by a worker (or its lease ran out)."""
    return (
        col(WebhookDelivery.status) == "pending",
        col(WebhookDelivery.next_attempt_at) <= now,
        or_(col(WebhookDelivery.lease_until).is_(None), col(WebhookDelivery.lease_until) < now),
    )


def _endpoints_waiting(session: Session, due: tuple[Any, ...]) -> list[str]:
    """Live endpoints with something due, the one waiting longest first."""
    oldest = (
        select(col(WebhookDelivery.next_attempt_at))
        .where(col(WebhookDelivery.endpoint_id) == col(WebhookEndpoint.id), *due)
        .order_by(col(WebhookDelivery.next_attempt_at))
        .limit(1)
        .scalar_subquery()
    )
    rows = session.execute(
        select(col(WebhookEndpoint.id), oldest.label("oldest")).where(
            col(WebhookEndpoint.disabled_at).is_(None),
            col(WebhookEndpoint.deleted_at).is_(None),
        )
    ).all()
    return [endpoint_id for oldest_due, endpoint_id in sorted((o, e) for e, o in rows if o)]


def _take_turns(
    waiting: list[str], *, per_endpoint: int, busy: Mapping[str, int], limit: int
) -> dict[str, int]:
    """How many each endpoint may take now: the next one always goes to the endpoint with
    the fewest in flight (the one waiting longest among equals), up to `per_endpoint` each
    and `limit` in all. So an endpoint that has been busy for a while does not keep more
    slots than one whose backlog just arrived."""
    level = {e: busy.get(e, 0) for e in waiting}
    turns: dict[str, int] = {}
    taken = 0
    for turn in range(1, per_endpoint + 1):
        for endpoint_id in waiting:
            if taken >= limit:
                return turns
            if level[endpoint_id] < turn:
                level[endpoint_id] += 1
                turns[endpoint_id] = turns.get(endpoint_id, 0) + 1
                taken += 1
    return turns


def _load_claims(
    session: Session, delivery_ids: set[int], *, lease_until: datetime, now: datetime
) -> list[Claim]:
    """What sending needs, each event's body built once (a fan-out sends one event to many
    endpoints), each endpoint read once."""
    if not delivery_ids:
        return []
    rows = session.execute(
        select(
            col(WebhookDelivery.id),
            col(WebhookDelivery.event_id),
            col(WebhookDelivery.endpoint_id),
            col(WebhookDelivery.attempts),
        )
        .where(col(WebhookDelivery.id).in_(delivery_ids))
        .order_by(col(WebhookDelivery.next_attempt_at), col(WebhookDelivery.id))
    ).all()
    events = session.scalars(select(Event).where(col(Event.id).in_({r[1] for r in rows})))
    bodies = {event.id: envelope_bytes(event_envelope(event)) for event in events}
    endpoints = {
        endpoint.id: endpoint
        for endpoint in session.scalars(
            select(WebhookEndpoint).where(col(WebhookEndpoint.id).in_({r[2] for r in rows}))
        )
    }
    return [
        Claim(
            delivery_id=delivery_id,
            lease_until=lease_until,
            event_id=event_id,
            endpoint_id=endpoint_id,
            url=endpoints[endpoint_id].url,
            secrets=tuple(live_secrets(endpoints[endpoint_id], now)),
            body=bodies[event_id],
            attempts=attempts,
        )
        for delivery_id, event_id, endpoint_id, attempts in rows
    ]


def record_outcomes(
    session: Session, outcomes: list[AttemptOutcome], *, rng: random.Random
) -> None:
    """Log every attempt and move each delivery on, in one transaction (a few statements,
    each run once for the whole batch: this is the worker's busiest write)."""
    if not outcomes:
        return
    # The endpoint matters only for what was not delivered (retry, dead, 410 Gone).
    endpoint_ids = {o.claim.endpoint_id for o in outcomes if not o.delivered}
    endpoints = (
        {
            e.id: e
            for e in session.scalars(
                select(WebhookEndpoint).where(col(WebhookEndpoint.id).in_(endpoint_ids))
            )
        }
        if endpoint_ids
        else {}
    )
    states = []
    gone: dict[str, datetime] = {}
    for outcome in outcomes:
        endpoint = endpoints.get(outcome.claim.endpoint_id)
        if outcome.status_code == 410 and endpoint is not None and endpoint.disabled_at is None:
            _disable_endpoint(endpoint, now=outcome.finished_at)
            gone[endpoint.id] = outcome.finished_at
        states.append(_next_state(outcome, endpoint, rng=rng))
    session.connection().execute(
        insert(WebhookAttempt.__table__),  # type: ignore[attr-defined]
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
