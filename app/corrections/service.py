"""Corrections, statements of disagreement and deletion requests.

Every change here records its ledger events in the caller's transaction (`record_event`), so
the change and what organizations are told about it commit together or not at all.

Who is told what:
- correction.requested, deletion.requested: the organization that holds the data.
- data.corrected, statement.added: the holder ("role": "holder") and every network
  organization that a disclosure of the holding named as its recipient ("role": "recipient").
  Recipients outside the network (a county, a funder) cannot be told by the portal: the
  holder's data.corrected lists them under `tell_recipients`, and the participant sees them
  until the holder acknowledges that it told them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, select

# The consent domain owns the rule for a recipient's own reference (only an enrollment the
# participant claimed there themselves); corrections follow the same rule.
from app.corrections.models import (
    CORRECTION_DUE_DAYS,
    MAX_EXPLANATION,
    MAX_REQUESTED_VALUE,
    Correction,
    DeletionRequest,
    Statement,
)
from app.corrections.statements import statements_about
from app.db import utcnow
from app.disclosures.models import Disclosure
from app.events.models import Event
from app.events.service import record_for_holder_and_recipients
from app.holdings.models import Holding
from app.i18n import gettext as _
from app.organizations.models import Organization, Purpose
from app.participants.form_text import checked_text
from app.participants.models import Enrollment
from app.participants.service import FormError, open_to


class CorrectionConflict(ValueError):
    """The request does not fit the correction's state (already answered another way, the
    holding was deleted meanwhile, ...)."""


class DeletionNotAllowed(ValueError):
    """Only holdings whose purpose rests on consent can be asked to be deleted."""


# --- finding the participant's own records ---------------------------------------------------


@dataclass
class OwnHolding:
    holding: Holding
    purpose: Purpose
    enrollment: Enrollment
    organization: Organization


def own_holding(session: Session, *, participant_id: str, holding_id: str) -> OwnHolding | None:
    """One of the participant's current holdings; another person's is simply not found."""
    row = session.exec(
        select(Holding, Purpose, Enrollment, Organization)
        .join(Purpose, Purpose.id == Holding.purpose_id)  # type: ignore[arg-type]
        .join(Enrollment, Enrollment.id == Holding.enrollment_id)  # type: ignore[arg-type]
        .join(Organization, Organization.id == Enrollment.organization_id)  # type: ignore[arg-type]
        .where(
            Holding.id == holding_id,
            open_to(participant_id),
            Holding.deleted_at.is_(None),  # type: ignore[union-attr]
        )
    ).first()
    return OwnHolding(*row) if row else None


@dataclass
class OwnCorrection:
    correction: Correction
    holding: Holding
    enrollment: Enrollment
    organization: Organization
    statement: Statement | None


def own_correction(
    session: Session, *, participant_id: str, correction_id: str
) -> OwnCorrection | None:
    row = session.exec(
        select(Correction, Holding, Enrollment, Organization)
        .join(Holding, Holding.id == Correction.holding_id)  # type: ignore[arg-type]
        .join(Enrollment, Enrollment.id == Correction.enrollment_id)  # type: ignore[arg-type]
        .join(Organization, Organization.id == Enrollment.organization_id)  # type: ignore[arg-type]
        .where(Correction.id == correction_id, open_to(participant_id))
    ).first()
    if row is None:
        return None
    statement = session.exec(
        select(Statement).where(Statement.correction_id == correction_id)
    ).first()
    return OwnCorrection(*row, statement=statement)


# --- what organizations are told ---------------------------------------------------------------


def holding_payload(holding: Holding, purpose: Purpose) -> dict[str, Any]:
    return {
        "field_key": holding.field_key,
        "label": holding.label,
        "category": holding.category,
        "purpose": purpose.key,
    }


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


def _disclosures_of_holding(session: Session, holding: Holding) -> list[Disclosure]:
    # field_keys is a JSON list: filtered here rather than with dialect-specific JSON operators.
    disclosures = session.exec(
        select(Disclosure)
        .where(Disclosure.enrollment_id == holding.enrollment_id)
        .order_by(Disclosure.disclosed_at)  # type: ignore[arg-type]
    )
    return [d for d in disclosures if holding.field_key in d.field_keys]


def network_recipients(
    session: Session, *, holding: Holding, enrollment: Enrollment
) -> list[Organization]:
    """Network organizations a disclosure of this holding named as its recipient."""
    ids = {
        d.recipient_organization_id
        for d in _disclosures_of_holding(session, holding)
        if d.recipient_organization_id and d.recipient_organization_id != enrollment.organization_id
    }
    if not ids:
        return []
    return list(
        session.exec(
            select(Organization)
            .where(Organization.id.in_(ids))  # type: ignore[union-attr]
            .order_by(Organization.slug)  # type: ignore[arg-type]
        )
    )


def other_recipients(session: Session, *, holding: Holding) -> list[str]:
    """Recipients outside the network (a county, a funder): only the holder can tell them."""
    names: list[str] = []
    for d in _disclosures_of_holding(session, holding):
        if d.recipient_organization_id is None and d.recipient_name not in names:
            names.append(d.recipient_name)
    return names


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


# --- statements of disagreement ------------------------------------------------------------------


def add_statement(
    session: Session,
    *,
    own: OwnCorrection,
    text: str,
    base_url: str = "",
    now: datetime | None = None,
) -> Statement:
    """Attach the participant's statement of disagreement to the holding of a denied
    correction, and send it to the holder and every network recipient."""
    if own.correction.status != "denied":
        raise CorrectionConflict("a statement answers a denied correction")
    if own.statement is not None:
        return own.statement  # the form sent twice adds nothing
    if own.holding.deleted_at is not None:
        raise CorrectionConflict("the holding was deleted")
    text = checked_text(
        "statement",
        text,
        limit=MAX_EXPLANATION,
        empty_message=_("Write your statement: say what you disagree with, and why."),
    )
    now = now or utcnow()
    statement = Statement(
        holding_id=own.holding.id,
        enrollment_id=own.enrollment.id,
        correction_id=own.correction.id,
        text=text,
        created_at=now,
    )
    session.add(statement)
    session.flush()
    purpose = session.get(Purpose, own.holding.purpose_id)
    assert purpose is not None
    record_for_holder_and_recipients(
        session,
        type="statement.added",
        enrollment=own.enrollment,
        holder=own.organization,
        recipients=network_recipients(session, holding=own.holding, enrollment=own.enrollment),
        data={
            "holding": {**holding_payload(own.holding, purpose), "value": own.holding.value},
            "statement": {
                "id": statement.id,
                "text": statement.text,
                "added_at": now.isoformat(),
                "correction_id": own.correction.id,
            },
            "statements": statements_about(
                session, enrollment_id=own.enrollment.id, holding_id=own.holding.id
            ),
        },
        base_url=base_url,
        now=now,
    )
    own.statement = statement
    return statement


# --- deletion requests ---------------------------------------------------------------------------


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


# --- what the participant sees on each holding ---------------------------------------------------


@dataclass
class HoldingRecord:
    """Corrections, statements and deletion requests of one holding, for the home page."""

    corrections: list[Correction] = field(default_factory=list)  # newest first
    statements: dict[str, Statement] = field(default_factory=dict)  # by correction id
    deletion: DeletionRequest | None = None  # the latest
    events: dict[str, Event] = field(default_factory=dict)  # the holder's events, by id

    @property
    def open_correction(self) -> Correction | None:
        return next((c for c in self.corrections if c.status == "requested"), None)

    @property
    def last_answer(self) -> Correction | None:
        return next((c for c in self.corrections if c.status != "requested"), None)

    def statement_for(self, correction: Correction) -> Statement | None:
        return self.statements.get(correction.id)

    def still_to_tell(self, correction: Correction) -> list[str]:
        """Recipients outside the network the organization has not yet confirmed telling."""
        event = self.events.get(correction.corrected_event_id or "")
        if event is not None and event.acked_at is not None:
            return []
        return correction.tell_recipients

    @property
    def deletion_event(self) -> Event | None:
        return self.events.get(self.deletion.event_id or "") if self.deletion else None

    @property
    def deletion_waiting(self) -> bool:
        """A deletion request the organization has not answered yet."""
        event = self.deletion_event
        return self.deletion is not None and (event is None or event.acked_at is None)


def is_overdue(correction: Correction, now: datetime | None = None) -> bool:
    return correction.status == "requested" and correction.due_by < (now or utcnow())


def holding_records(session: Session, *, enrollment_ids: list[str]) -> dict[str, HoldingRecord]:
    """Per holding id, in three queries for all of the participant's enrollments."""
    records: dict[str, HoldingRecord] = {}
    if not enrollment_ids:
        return records
    corrections = session.exec(
        select(Correction)
        .where(Correction.enrollment_id.in_(enrollment_ids))  # type: ignore[attr-defined]
        .order_by(Correction.created_at.desc(), Correction.id.desc())  # type: ignore[attr-defined]
    ).all()
    for c in corrections:
        records.setdefault(c.holding_id, HoldingRecord()).corrections.append(c)
    for s in session.exec(
        select(Statement).where(Statement.enrollment_id.in_(enrollment_ids))  # type: ignore[attr-defined]
    ):
        records.setdefault(s.holding_id, HoldingRecord()).statements[s.correction_id] = s
    deletions = session.exec(
        select(DeletionRequest)
        .where(DeletionRequest.enrollment_id.in_(enrollment_ids))  # type: ignore[attr-defined]
        .order_by(DeletionRequest.created_at)  # type: ignore[arg-type]
    ).all()
    for d in deletions:
        records.setdefault(d.holding_id, HoldingRecord()).deletion = d
    event_ids = [c.corrected_event_id for c in corrections if c.corrected_event_id]
    event_ids += [d.event_id for d in deletions if d.event_id]
    if event_ids:
        events = {
            e.id: e
            for e in session.exec(select(Event).where(Event.id.in_(event_ids)))  # type: ignore[attr-defined]
        }
        for record in records.values():
            wanted = [c.corrected_event_id for c in record.corrections]
            wanted.append(record.deletion.event_id if record.deletion else None)
            record.events = {i: events[i] for i in wanted if i and i in events}
    return records
