"""Closing an account.

Every organization the participant is enrolled with receives `participant.closed`; then the
portal erases what it holds about the person: holdings (values included), disclosures,
consents, corrections, statements, deletion requests, their own context, stories (each
approved one withdrawn first: story.withdrawn asks to take it down), claim codes, the
log of staff who opened their record, and sessions (so every signed-in phone is signed out).
The account row stays only as a tombstone (no username, no PIN) so the ledger's enrollments
still point somewhere.

The ledger keeps its events, minimized: each event's `data` (where the values were) is blanked
while its `data_digest` and `hash` stay, so the chain still proves what happened and when
(verify_chain skips the data check for blanked events). The new `participant.closed` events
keep their data, which holds no values: the organization needs it to act.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlmodel import Session, select

from app.consent.models import Consent
from app.context.models import ContextNote
from app.corrections.models import Correction, DeletionRequest, Statement
from app.db import utcnow
from app.disclosures.models import Disclosure
from app.events.models import Event
from app.events.service import record_event
from app.holdings.models import Holding
from app.participants.models import ClaimCode, Participant
from app.participants.service import LOGIN_SCOPE, enrollments_of
from app.security import throttle
from app.security.models import WebSession
from app.staff.models import StaffAccess
from app.stories.models import Story
from app.stories.service import withdraw_for_closure


def close_account(
    session: Session, *, participant: Participant, base_url: str = "", now: datetime | None = None
) -> list[Event]:
    """Close the account in the caller's transaction; returns the participant.closed events."""
    now = now or utcnow()
    pairs = enrollments_of(session, participant.id, sealed_too=True)
    ids = [e.id for e, _o in pairs]

    for event in session.exec(select(Event).where(Event.enrollment_id.in_(ids))):  # type: ignore[attr-defined]
        event.data = {}
        event.ack_note = None
        session.add(event)

    # Approved stories are withdrawn first, so each organization is asked to take them
    # down (after the blanking above: these events must keep what identifies the story).
    withdraw_for_closure(session, pairs=pairs, base_url=base_url, now=now)
    session.exec(delete(Story).where(Story.enrollment_id.in_(ids)))  # type: ignore[call-overload,attr-defined]

    # Children before parents: statements and corrections point at holdings.
    for model in (
        Statement,
        Correction,
        DeletionRequest,
        Disclosure,
        Consent,
        Holding,
        ClaimCode,
        StaffAccess,  # the log of staff who opened the record: it names the person too
    ):
        session.exec(delete(model).where(model.enrollment_id.in_(ids)))  # type: ignore[call-overload,attr-defined]
    session.exec(delete(ContextNote).where(ContextNote.participant_id == participant.id))  # type: ignore[call-overload,arg-type]

    closed = [
        record_event(
            session,
            enrollment_id=enrollment.id,
            organization_id=organization.id or 0,
            type="participant.closed",
            data={
                "organization": organization.slug,
                "participant": {"external_ref": enrollment.external_ref},
                "closed_at": now.isoformat(),
            },
            base_url=base_url,
            now=now,
        )
        for enrollment, organization in pairs
    ]

    for enrollment, _organization in pairs:
        enrollment.preferred_language = None
        session.add(enrollment)
    # Sessions end (every signed-in phone is signed out) and their records go with the rest.
    session.exec(delete(WebSession).where(WebSession.participant_id == participant.id))  # type: ignore[call-overload,arg-type]
    throttle.clear(session, LOGIN_SCOPE, participant.username)
    # A tombstone: nothing to log in with, nothing that names the person.
    participant.username = f"closed-{participant.id.split('_', 1)[-1]}"[:40]
    participant.pin_hash = "!"
    participant.preferred_language = None
    participant.closed_at = now
    session.add(participant)
    session.flush()
    return closed
