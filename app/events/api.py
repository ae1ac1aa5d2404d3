"""The event feed (pull, instead of or beside webhooks), acknowledgements, the ledger's
checkpoints. Redelivery is the webhooks' own (app/webhooks/api.py)."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict
from sqlmodel import Session, col, select

from app.db import SessionDep
from app.events.checkpoints import checkpoint_out, public_key_out, recent_checkpoints
from app.events.models import Event
from app.events.service import (
    AlreadyAcknowledged,
    acknowledge_event,
    event_envelope,
    organization_event,
)
from app.organizations.deps import CurrentOrganization
from app.schemas import text

router = APIRouter(prefix="/events", tags=["events"])
ledger_router = APIRouter(prefix="/ledger", tags=["ledger"])

AckNote = text(2000)
MAX_POSITION = 2**63 - 1  # Event.feed_position is a BIGINT


class Cursor:
    """Where a reader is in the feed: the feed position of the last event it saw (app/events/
    feed.py). Opaque to clients: base64url of "p:<position>". Cursors of the earlier form,
    "<ISO time>|<event id>", still work: they stand for that event's position."""

    @staticmethod
    def encode(event: Event) -> str:
        return base64.urlsafe_b64encode(f"p:{event.feed_position}".encode()).decode().rstrip("=")

    @staticmethod
    def decode(cursor: str, db: Session, organization_id: int) -> int:
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
            if raw.startswith("p:") and raw[2:].isdigit():
                position = int(raw[2:])
                # A position is a BIGINT: a bigger number was never handed out, and the
                # database could not even compare it.
                if position > MAX_POSITION:
                    raise ValueError(position)
                return position
            at, event_id = raw.split("|", 1)
            datetime.fromisoformat(at)
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise HTTPException(status_code=422, detail="not a cursor from this feed") from None
        seen = db.get(Event, event_id[:40])
        if seen is None or seen.organization_id != organization_id or seen.feed_position is None:
            raise HTTPException(status_code=422, detail="not a cursor from this feed")
        return seen.feed_position


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
    event = organization_event(db, organization_id=organization_id, event_id=event_id)
    if event is None:
        raise HTTPException(status_code=404, detail="no such event")
    return event


@router.get("")
async def feed(
    organization: CurrentOrganization,
    db: SessionDep,
    after: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    """Your events in the order they were committed, oldest first. Pass `next` back as
    `after` to read on; when nothing new has happened, `next` stays where it was. An event
    shows here as soon as it is committed, and never behind a cursor already handed out."""
    position = Cursor.decode(after, db, organization.id or 0) if after else 0
    events = list(
        db.exec(
            select(Event)
            .where(
                col(Event.organization_id) == organization.id,
                col(Event.feed_position) > position,
            )
            .order_by(col(Event.feed_position))
            .limit(limit)
        )
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


@ledger_router.get("/checkpoints")
async def checkpoints(
    organization: CurrentOrganization,
    db: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 24,
    before: Annotated[int | None, Query(ge=1)] = None,
) -> dict[str, Any]:
    """The ledger's signed checkpoints, newest first (`before=ID` reads older ones). Each is
    the Merkle root over every participant's chain head at `created_at`, signed with Ed25519
    (`public_key`); it reveals nothing about any participant. Keep them: the portal's
    operator can prove with `consent-portal ledger verify --checkpoint` that no chain lost
    an event since. The signature covers the canonical JSON (sorted keys, no spaces) of every
    field but `signature`."""
    return {
        "checkpoints": [
            checkpoint_out(c) for c in recent_checkpoints(db, limit=limit, before=before)
        ]
    }


@ledger_router.get("/public-key")
async def public_key(request: Request, organization: CurrentOrganization) -> dict[str, str]:
    """The Ed25519 key the checkpoints are signed with: raw, base64; and as PEM."""
    return public_key_out(request.app.state.settings)
