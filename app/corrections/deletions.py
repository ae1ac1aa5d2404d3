"""Deletion requests: the participant asks an organization to delete a holding that rests on
consent. Its own file because it shares no rule with corrections beyond the holding it is
about; the organization answers by acknowledging the deletion.requested event.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from app.corrections.models import DeletionRequest
from app.corrections.recipients import holding_payload
from app.corrections.record import OwnHolding
from app.db import utcnow
from app.events.models import Event
from app.events.service import record_for_holder_and_recipients
from app.organizations.models import Purpose


class DeletionNotAllowed(ValueError):
    """Only holdings whose purpose rests on consent can be asked to be deleted."""


def can_ask_to_delete(purpose: Purpose) -> bool:
    return purpose.basis == "consent"


def open_deletion_request(session: Session, *, holding_id: str) -> DeletionRequest | None:
    """The holding's deletion request still waiting for the organization's answer."""
    request = session.exec(
        select(DeletionRequest).where(DeletionRequest.open_key == holding_id)
    ).first()
    if request is None:
        return None
    event = session.get(Event, request.event_id) if request.event_id else None
    if event is not None and event.acked_at is not None:
        # Answered: it stops blocking a new request (the organization may have declined).
        request.open_key = None
        session.add(request)
        session.flush()
        return None
    return request


def request_deletion(
    session: Session, *, own: OwnHolding, base_url: str = "", now: datetime | None = None
) -> DeletionRequest:
    """Ask the organization to delete a holding that rests on consent. Asking again while a
    request waits for an answer returns that request."""
    if not can_ask_to_delete(own.purpose):
        raise DeletionNotAllowed(own.purpose.basis)
    existing = open_deletion_request(session, holding_id=own.holding.id)
    if existing is not None:
        return existing
    now = now or utcnow()
    request = DeletionRequest(
        holding_id=own.holding.id,
        enrollment_id=own.enrollment.id,
        field_key=own.holding.field_key,
        label=own.holding.label,
        open_key=own.holding.id,
        created_at=now,
    )
    session.add(request)
    event = record_for_holder_and_recipients(
        session,
        type="deletion.requested",
        enrollment=own.enrollment,
        holder=own.organization,
        data={
            "holding": holding_payload(own.holding, own.purpose),
            "deletion_request": {"id": request.id, "requested_at": now.isoformat()},
        },
        base_url=base_url,
        now=now,
    )
    request.event_id = event.id
    session.flush()
    return request
