"""The event feed (pull, instead of or beside webhooks), acknowledgements, redelivery."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, ConfigDict
from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from app.db import SessionDep, utcnow
from app.events.models import Event
from app.events.service import AlreadyAcknowledged, acknowledge_event, event_envelope
from app.organizations.deps import CurrentOrganization
from app.schemas import text
from app.webhooks.service import redeliver_event

router = APIRouter(prefix="/events", tags=["events"])

# The feed only shows events at least this old. An event's time is set before its
# transaction commits, so a slow commit could otherwise appear behind a cursor that has
# already moved past it, and be skipped for good.
SETTLE = timedelta(seconds=1)

AckNote = text(2000)


class Cursor:
    """Where a reader is in the feed: the (created_at, id) of the last event it saw.
    Opaque to clients: base64url of "<ISO time>|<event id>"."""

    @staticmethod
    def encode(event: Event) -> str:
        raw = f"{event.created_at.isoformat()}|{event.id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @staticmethod
    def decode(cursor: str) -> tuple[datetime, str]:
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
            at, event_id = raw.split("|", 1)
            when = datetime.fromisoformat(at)
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise HTTPException(status_code=422, detail="not a cursor from this feed") from None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return when, event_id


def event_out(event: Event) -> dict[str, Any]:
    """The webhook body, plus the event's id and its acknowledgement (if any)."""
    return {
        "id": event.id,
        **event_envelope(event),
        "ack_due_by": event.ack_due_by.isoformat() if event.ack_due_by else None,
        "ack": {
            "outcome": event.ack_outcome,
            "note": event.ack_note,
            "acked_at": event.acked_at.isoformat(),
        }
        if event.acked_at
        else None,
    }


def _own_event(db: Session, organization_id: int, event_id: str) -> Event:
    event = db.get(Event, event_id)
    if event is None or event.organization_id != organization_id:
        raise HTTPException(status_code=404, detail="no such event")
    return event


@router.get("")
async def feed(
    organization: CurrentOrganization,
    db: SessionDep,
    after: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    """Your events in order, oldest first. Pass `next` back as `after` to read on; when
    nothing new has happened, `next` stays where it was."""
    query = select(Event).where(
        Event.organization_id == organization.id,
        Event.created_at <= utcnow() - SETTLE,  # type: ignore[operator]
    )
    if after:
        at, event_id = Cursor.decode(after)
        query = query.where(
            or_(
                col(Event.created_at) > at,
                and_(col(Event.created_at) == at, col(Event.id) > event_id),
            )
        )
    events = list(
        db.exec(query.order_by(Event.created_at, Event.id).limit(limit))  # type: ignore[arg-type]
    )
    return {
        "events": [event_out(e) for e in events],
        "next": Cursor.encode(events[-1]) if events else after,
    }


@router.get("/{event_id}")
async def get_event(
    event_id: str, organization: CurrentOrganization, db: SessionDep
) -> dict[str, Any]:
    return event_out(_own_event(db, organization.id or 0, event_id))


class AckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: Literal["done", "declined"]
    note: AckNote | None = None  # type: ignore[valid-type]


@router.post("/{event_id}/ack")
async def acknowledge(
    event_id: str, body: AckIn, organization: CurrentOrganization, db: SessionDep
) -> dict[str, Any]:
    """Confirm you acted on the event (`done`) or decided not to (`declined`, say why in
    `note`); the participant is shown your answer. Sending the same outcome again is a
    harmless 200; a different outcome after the first is a 409."""
    event = _own_event(db, organization.id or 0, event_id)
    try:
        acknowledge_event(db, event=event, outcome=body.outcome, note=body.note)
    except AlreadyAcknowledged as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from None
    db.commit()
    return event_out(event)


@router.post("/{event_id}/redeliver", status_code=202)
async def redeliver(
    event_id: str, organization: CurrentOrganization, db: SessionDep
) -> dict[str, Any]:
    """Send the event to your endpoints again (same webhook-id, so you can deduplicate)."""
    event = _own_event(db, organization.id or 0, event_id)
    queued = redeliver_event(db, event_id=event.id, organization_id=organization.id)
    db.commit()
    return {"event_id": event.id, "queued": queued}
