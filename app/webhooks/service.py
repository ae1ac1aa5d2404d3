"""Webhook endpoints, secret rotation, delivery attempts and redelivery.

Plain functions over the caller's session; the caller commits. An organization only ever
reaches its own endpoints: every lookup takes its organization id.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, select

from app.db import utcnow
from app.events.catalogue import EVENT_TYPES
from app.events.models import Event
from app.webhooks import outbox
from app.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from app.webhooks.signing import new_secret
from app.webhooks.ssrf import check_webhook_url

# After a rotation the old secret keeps signing this long, so receivers can switch over.
ROTATION_OVERLAP = timedelta(hours=24)


def create_endpoint(
    session: Session,
    *,
    organization_id: int,
    url: str,
    event_types: list[str] | None,
    production: bool,
) -> WebhookEndpoint:
    """Raises UnsafeWebhookUrl (see app.webhooks.ssrf) or ValueError for an unknown type."""
    check_webhook_url(url, production=production)
    if event_types is not None:
        unknown = sorted(set(event_types) - set(EVENT_TYPES))
        if unknown:
            raise ValueError(f"unknown event types: {', '.join(unknown)}")
        event_types = sorted(set(event_types))
    endpoint = WebhookEndpoint(
        organization_id=organization_id, url=url, event_types=event_types, secret=new_secret()
    )
    session.add(endpoint)
    session.flush()
    return endpoint


def list_endpoints(session: Session, *, organization_id: int) -> list[WebhookEndpoint]:
    return list(
        session.exec(
            select(WebhookEndpoint)
            .where(
                WebhookEndpoint.organization_id == organization_id,
                WebhookEndpoint.deleted_at.is_(None),  # type: ignore[union-attr]
            )
            .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)  # type: ignore[arg-type]
        )
    )


def get_endpoint(
    session: Session, *, organization_id: int, endpoint_id: str
) -> WebhookEndpoint | None:
    """The organization's own endpoint, or None (also for another organization's)."""
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or endpoint.organization_id != organization_id:
        return None
    if endpoint.deleted_at is not None:
        return None
    return endpoint


def delete_endpoint(
    session: Session, *, endpoint: WebhookEndpoint, now: datetime | None = None
) -> None:
    """Deleted endpoints are kept (their attempts stay on record) but receive nothing more;
    deliveries still waiting for them are cancelled, on the organization's own say-so."""
    now = now or utcnow()
    endpoint.deleted_at = now
    session.add(endpoint)
    session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.endpoint_id == endpoint.id,  # type: ignore[arg-type]
            WebhookDelivery.status == "pending",  # type: ignore[arg-type]
        )
        .values(status="cancelled", last_error="the endpoint was deleted", lease_until=None)
        .execution_options(synchronize_session=False)
    )
    session.flush()


def _sent_again(now: datetime) -> dict[str, Any]:
    """A delivery queued again: due now, with a fresh retry schedule (same webhook-id)."""
    return {
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "lease_until": None,
        "dead_at": None,
        "last_error": None,
    }


def enable_endpoint(
    session: Session,
    *,
    endpoint: WebhookEndpoint,
    redeliver: bool = False,
    now: datetime | None = None,
) -> int:
    """Turn an endpoint a 410 Gone disabled back on, when the organization says it is back.
    With `redeliver`, the deliveries that died for it are queued again (same webhook-id, a
    fresh retry schedule). Returns how many were queued. The caller commits."""
    now = now or utcnow()
    endpoint.disabled_at = None
    endpoint.disabled_reason = None
    session.add(endpoint)
    queued = 0
    if redeliver:
        queued = session.execute(  # type: ignore[attr-defined]
            update(WebhookDelivery)
            .where(
                WebhookDelivery.endpoint_id == endpoint.id,  # type: ignore[arg-type]
                WebhookDelivery.status == "dead",  # type: ignore[arg-type]
            )
            .values(**_sent_again(now))
            .execution_options(synchronize_session=False)
        ).rowcount
    session.flush()
    if queued:
        outbox.wake_workers(session)
    return queued


def rotate_secret(
    session: Session, *, endpoint: WebhookEndpoint, now: datetime | None = None
) -> str:
    """A new secret; the old one keeps signing for 24 h (deliveries carry both signatures)."""
    now = now or utcnow()
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = now + ROTATION_OVERLAP
    endpoint.secret = new_secret()
    session.add(endpoint)
    session.flush()
    return endpoint.secret


def list_attempts(
    session: Session, *, endpoint: WebhookEndpoint, limit: int = 100
) -> list[WebhookAttempt]:
    return list(
        session.exec(
            select(WebhookAttempt)
            .where(WebhookAttempt.endpoint_id == endpoint.id)
            .order_by(WebhookAttempt.attempted_at.desc(), WebhookAttempt.id.desc())  # type: ignore[attr-defined,union-attr]
            .limit(limit)
        )
    )


def redeliver_event(
    session: Session,
    *,
    event_id: str,
    organization_id: int | None = None,
    now: datetime | None = None,
) -> int:
    """Send an event again to every live endpoint subscribed to it: dead and delivered
    deliveries are re-queued (same webhook-id, a fresh retry schedule), and endpoints added
    since the event get a delivery too. Returns how many were queued; 0 when the event is
    unknown (or not `organization_id`'s). The caller commits."""
    now = now or utcnow()
    event = session.get(Event, event_id)
    if event is None or (organization_id is not None and event.organization_id != organization_id):
        return 0
    existing = {
        d.endpoint_id: d
        for d in session.exec(select(WebhookDelivery).where(WebhookDelivery.event_id == event.id))
    }
    queued = 0
    for endpoint in outbox.live_endpoints(session, event.organization_id):
        if not outbox.subscribed_endpoint(endpoint, event.type):
            continue
        delivery = existing.get(endpoint.id)
        if delivery is None:
            delivery = WebhookDelivery(event_id=event.id, endpoint_id=endpoint.id)
        elif delivery.status == "pending":
            continue  # already on its way
        for name, value in _sent_again(now).items():
            setattr(delivery, name, value)
        session.add(delivery)
        queued += 1
    if queued:
        session.flush()
        outbox.wake_workers(session)
    return queued


def endpoint_out(endpoint: WebhookEndpoint, *, with_secret: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": endpoint.id,
        "url": endpoint.url,
        "event_types": endpoint.event_types,
        "created_at": endpoint.created_at.isoformat(),
        "disabled_at": endpoint.disabled_at.isoformat() if endpoint.disabled_at else None,
        "disabled_reason": endpoint.disabled_reason,
        "previous_secret_expires_at": endpoint.previous_secret_expires_at.isoformat()
        if endpoint.previous_secret and endpoint.previous_secret_expires_at
        else None,
    }
    if with_secret:
        out["secret"] = endpoint.secret
    return out


def attempt_out(attempt: WebhookAttempt) -> dict[str, Any]:
    return {
        "id": attempt.id,
        "event_id": attempt.event_id,
        "webhook_id": attempt.event_id,
        "attempted_at": attempt.attempted_at.isoformat(),
        "status_code": attempt.status_code,
        "duration_ms": attempt.duration_ms,
        "response": attempt.response_excerpt,
        "error": attempt.error,
        "delivered": attempt.status_code is not None and 200 <= attempt.status_code < 300,
    }
