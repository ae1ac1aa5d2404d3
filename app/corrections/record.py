"""The participant's record: which holdings and corrections are theirs, and what each holding
shows of its corrections, statements and deletion requests.

Only reads. The home page, the record pages and the correction, statement and deletion forms
all start here; kept apart from the writes so that reading a record pulls in none of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session, select

from app.corrections.models import Correction, DeletionRequest, Statement
from app.events.models import Event
from app.holdings.models import Holding
from app.organizations.models import Organization, Purpose
from app.participants.models import Enrollment
from app.participants.service import open_to

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
    # A statement answers a refused correction: with no correction there is none to read.
    statements = (
        session.exec(
            select(Statement).where(Statement.enrollment_id.in_(enrollment_ids))  # type: ignore[attr-defined]
        ).all()
        if corrections
        else []
    )
    for s in statements:
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
