"""Corrections: a participant asks for a holding to say something else; the organization
accepts or denies it by a due date.

Every change here records its ledger events in the caller's transaction, so the change and
what organizations are told about it commit together or not at all.

Who is told what:
- correction.requested: the organization that holds the data.
- data.corrected: the holder ("role": "holder") and every network organization that a
  disclosure of the holding named as its recipient ("role": "recipient"). Recipients outside
  the network (a county, a funder) cannot be told by the portal: the holder's data.corrected
  lists them under `tell_recipients`, and the participant sees them until the holder
  acknowledges that it told them.

Statements of disagreement are in statements.py, deletion requests in deletions.py, and what
the participant's pages read about each holding in record.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from app.corrections.models import (
    CORRECTION_DUE_DAYS,
    MAX_EXPLANATION,
    MAX_REQUESTED_VALUE,
    Correction,
    CorrectionConflict,
)
from app.corrections.recipients import holding_payload, network_recipients, other_recipients
from app.corrections.record import OwnHolding
from app.corrections.statements import statements_about
from app.db import utcnow
from app.events.service import record_for_holder_and_recipients
from app.holdings.models import Holding
from app.i18n import gettext as _
from app.organizations.models import Organization, Purpose
from app.participants.form_text import checked_text
from app.participants.models import Enrollment
from app.web.forms import FormError

# --- a correction as organizations are told it -------------------------------------------------


def correction_payload(correction: Correction) -> dict[str, Any]:
    return {
        "id": correction.id,
        "field_key": correction.field_key,
        "label": correction.label,
        "current_value": correction.current_value,
        "requested_value": correction.requested_value,
        "reason": correction.reason,
        "due_by": correction.due_by.isoformat(),
        "status": correction.status,
        "requested_at": correction.created_at.isoformat(),
        "resolved_at": correction.resolved_at.isoformat() if correction.resolved_at else None,
        "resolution_reason": correction.resolution_reason,
        "corrected_value": correction.corrected_value,
    }


# --- corrections ---------------------------------------------------------------------------------


def open_correction(session: Session, *, holding_id: str) -> Correction | None:
    return session.exec(select(Correction).where(Correction.open_key == holding_id)).first()


def request_correction(
    session: Session,
    *,
    own: OwnHolding,
    requested_value: str,
    reason: str,
    base_url: str = "",
    now: datetime | None = None,
) -> Correction:
    """The participant asks for a holding to say something else. A holding has one open
    correction at a time: asking again while one is open returns that one (a form sent twice
    makes one correction)."""
    requested_value = checked_text(
        "requested_value",
        requested_value,
        limit=MAX_REQUESTED_VALUE,
        empty_message=_("Enter what it should say."),
    )
    reason = checked_text(
        "reason",
        reason,
        limit=MAX_EXPLANATION,
        empty_message=_("Say why it should change, so the organization can check."),
    )
    existing = open_correction(session, holding_id=own.holding.id)
    if existing is not None:
        return existing
    if requested_value == (own.holding.value or ""):
        raise FormError("requested_value", _("That is what it says now. Enter what it should say."))
    now = now or utcnow()
    correction = Correction(
        holding_id=own.holding.id,
        enrollment_id=own.enrollment.id,
        field_key=own.holding.field_key,
        label=own.holding.label,
        current_value=own.holding.value,
        requested_value=requested_value,
        reason=reason,
        due_by=now + timedelta(days=CORRECTION_DUE_DAYS),
        open_key=own.holding.id,
        created_at=now,
    )
    session.add(correction)
    event = record_for_holder_and_recipients(
        session,
        type="correction.requested",
        enrollment=own.enrollment,
        holder=own.organization,
        data={
            "holding": holding_payload(own.holding, own.purpose),
            "correction": correction_payload(correction),
            "statements": statements_about(
                session, enrollment_id=own.enrollment.id, holding_id=own.holding.id
            ),
        },
        base_url=base_url,
        ack_days=CORRECTION_DUE_DAYS,
        now=now,
    )
    correction.requested_event_id = event.id
    session.flush()
    return correction


def organization_correction(
    session: Session, *, organization: Organization, correction_id: str, lock: bool = False
) -> Correction | None:
    """The organization's own correction; another organization's is simply not found. With
    `lock`, two answers sent at once are taken one after the other (on PostgreSQL)."""
    query = (
        select(Correction)
        .join(Enrollment, Enrollment.id == Correction.enrollment_id)  # type: ignore[arg-type]
        .where(Correction.id == correction_id, Enrollment.organization_id == organization.id)
    )
    if lock:
        query = query.with_for_update(of=Correction)  # type: ignore[arg-type]
    return session.exec(query).first()


def corrections_of_organization(
    session: Session, *, organization: Organization, status: str | None = None
) -> list[tuple[Correction, Enrollment]]:
    query = (
        select(Correction, Enrollment)
        .join(Enrollment, Enrollment.id == Correction.enrollment_id)  # type: ignore[arg-type]
        .where(Enrollment.organization_id == organization.id)
    )
    if status is not None:
        query = query.where(Correction.status == status)
    return [(c, e) for c, e in session.exec(query.order_by(Correction.created_at))]  # type: ignore[arg-type]


def resolve_correction(
    session: Session,
    *,
    correction: Correction,
    organization: Organization,
    outcome: str,
    value: str | None,
    reason: str | None,
    base_url: str = "",
    now: datetime | None = None,
    by: str | None = None,
) -> Correction:
    """The organization accepts (the holding changes and everyone who received it is told) or
    denies (the participant sees the reason and may add a statement). Sending the same answer
    again changes nothing; a different answer to an answered correction is a conflict. `by`
    names the staff member who answered in the browser (the participant sees it)."""
    if outcome not in ("accepted", "denied"):
        raise ValueError("outcome must be 'accepted' or 'denied'")
    if correction.status != "requested":
        if correction.status == outcome:
            return correction
        raise CorrectionConflict(f"this correction was already {correction.status}")
    if outcome == "denied" and not reason:
        raise ValueError("a denial needs a reason: the participant is shown it")
    holding = session.get(Holding, correction.holding_id)
    enrollment = session.get(Enrollment, correction.enrollment_id)
    assert holding is not None and enrollment is not None
    if holding.deleted_at is not None:
        raise CorrectionConflict("the holding was deleted; there is nothing left to correct")
    purpose = session.get(Purpose, holding.purpose_id)
    assert purpose is not None
    now = now or utcnow()
    correction.status = outcome
    correction.resolved_at = now
    correction.resolution_reason = reason
    correction.resolved_by = by
    correction.open_key = None
    if outcome == "accepted":
        new_value = value if value is not None else correction.requested_value
        old_value = holding.value
        holding.value = new_value
        holding.updated_at = now
        session.add(holding)
        correction.corrected_value = new_value
        correction.tell_recipients = other_recipients(session, holding=holding)
        event = record_for_holder_and_recipients(
            session,
            type="data.corrected",
            enrollment=enrollment,
            holder=organization,
            recipients=network_recipients(session, holding=holding, enrollment=enrollment),
            data={
                "holding": {
                    **holding_payload(holding, purpose),
                    "old_value": old_value,
                    "new_value": new_value,
                    "corrected_at": now.isoformat(),
                },
                "correction": {"id": correction.id, "reason": reason},
                "statements": statements_about(
                    session, enrollment_id=enrollment.id, holding_id=holding.id
                ),
            },
            # Only the holder can tell recipients outside the network; its acknowledgement
            # says it did.
            holder_extra={
                "tell_recipients": [{"name": name} for name in correction.tell_recipients]
            },
            base_url=base_url,
            now=now,
        )
        correction.corrected_event_id = event.id
    session.add(correction)
    session.flush()
    return correction


def overdue_corrections(session: Session, *, now: datetime | None = None) -> list[Correction]:
    """Corrections past their due date with no answer: shown to the participant and the
    network's administrators."""
    return list(
        session.exec(
            select(Correction)
            .where(Correction.status == "requested", Correction.due_by < (now or utcnow()))  # type: ignore[operator]
            .order_by(Correction.due_by)  # type: ignore[arg-type]
        )
    )


def is_overdue(correction: Correction, now: datetime | None = None) -> bool:
    return correction.status == "requested" and correction.due_by < (now or utcnow())
