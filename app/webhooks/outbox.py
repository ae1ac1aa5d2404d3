"""The outbox: a delivery row for every event × endpoint, in the event's own transaction.

Domains only record events (app.events.service.record_event). A `before_flush` listener on
every SQLAlchemy session turns each new Event into WebhookDelivery rows for the live
endpoints of the event's organization, so the change, its event and its deliveries commit
together or not at all: no event without its deliveries, no delivery of an event that was
rolled back.

When a transaction that added deliveries commits, the delivery workers are told at once:
in this process through `subscribe` (an after_commit hook), in other processes on PostgreSQL
through NOTIFY, which PostgreSQL itself only sends when the transaction commits.

Importing this module registers the listeners; app.models imports it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.events.models import Event
from app.webhooks.models import WebhookDelivery, WebhookEndpoint

log = logging.getLogger(__name__)

NOTIFY_CHANNEL = "webhook_outbox"
_WAKE = "webhooks.wake_workers"  # session.info key: this transaction queued deliveries
_NOTIFIED = "webhooks.notified"  # session.info key: NOTIFY already sent in this transaction

_subscribers: list[Callable[[], None]] = []
_subscribers_lock = threading.Lock()


def subscribe(callback: Callable[[], None]) -> Callable[[], None]:
    """Call `callback` (from the committing thread) after every commit that queued deliveries.
    Returns a function that unsubscribes."""
    with _subscribers_lock:
        _subscribers.append(callback)

    def unsubscribe() -> None:
        with _subscribers_lock:
            if callback in _subscribers:
                _subscribers.remove(callback)

    return unsubscribe


def subscribed_endpoint(endpoint: WebhookEndpoint, event_type: str) -> bool:
    return endpoint.event_types is None or event_type in endpoint.event_types


def live_endpoints(session: Session, organization_id: int) -> list[WebhookEndpoint]:
    return list(
        session.scalars(
            select(WebhookEndpoint).where(
                WebhookEndpoint.organization_id == organization_id,  # type: ignore[arg-type]
                WebhookEndpoint.disabled_at.is_(None),  # type: ignore[union-attr]
                WebhookEndpoint.deleted_at.is_(None),  # type: ignore[union-attr]
            )
        )
    )


def wake_workers(session: Session) -> None:
    """Mark the session's transaction as one that queued deliveries (services that re-queue
    rows call this; new events are marked by the flush listener)."""
    session.info[_WAKE] = True
    _notify_other_processes(session)


def _notify_other_processes(session: Session) -> None:
    if session.info.get(_NOTIFIED):
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        # Transactional: PostgreSQL sends it on commit, and drops it on rollback.
        connection.exec_driver_sql(f"NOTIFY {NOTIFY_CHANNEL}")
        session.info[_NOTIFIED] = True


@sa_event.listens_for(Session, "before_flush")
def _queue_deliveries(session: Session, _flush_context: Any, _instances: Any) -> None:
    new_events = [obj for obj in session.new if isinstance(obj, Event)]
    if not new_events:
        return
    endpoints_by_org: dict[int, list[WebhookEndpoint]] = {}
    queued = 0
    for event in new_events:
        if event.organization_id not in endpoints_by_org:
            endpoints_by_org[event.organization_id] = live_endpoints(session, event.organization_id)
        for endpoint in endpoints_by_org[event.organization_id]:
            if subscribed_endpoint(endpoint, event.type):
                session.add(
                    WebhookDelivery(
                        event_id=event.id,
                        endpoint_id=endpoint.id,
                        next_attempt_at=event.created_at,
                    )
                )
                queued += 1
    if queued:
        session.info[_WAKE] = True


@sa_event.listens_for(Session, "after_flush")
def _notify_after_flush(session: Session, _flush_context: Any) -> None:
    if session.info.get(_WAKE):
        _notify_other_processes(session)


@sa_event.listens_for(Session, "after_commit")
def _wake_after_commit(session: Session) -> None:
    session.info.pop(_NOTIFIED, None)
    if not session.info.pop(_WAKE, False):
        return
    with _subscribers_lock:
        callbacks = list(_subscribers)
    for callback in callbacks:
        try:
            callback()
        except Exception:  # a worker that went away must not break the caller's commit
            log.exception("webhook worker wake-up failed")


@sa_event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_WAKE, None)
    session.info.pop(_NOTIFIED, None)
