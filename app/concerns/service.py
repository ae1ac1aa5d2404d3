"""Raising a concern, replying to it, and what each side is shown.

A concern is about something the participant can see is wrong: a disclosure flagged as made
without their consent, or a correction the organization did not answer by its due date. It is
sent to the organization as a `concern.raised` event (a request to answer, by webhook, pull
feed and in the browser) in the same transaction, and shown to the network administrators
until both they and the organization have answered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import exists, or_
from sqlmodel import Session, col, select

from app.concerns.models import (
    CONCERN_SUBJECTS,
    MAX_CONCERN_TEXT,
    MAX_REPLY_TEXT,
    Concern,
    ConcernReply,
)
from app.corrections.models import Correction
from app.corrections.service import is_overdue
from app.db import utcnow
from app.disclosures.models import Disclosure
from app.events.catalogue import ACTION_EVENT_TYPES
from app.events.models import Event
from app.events.service import is_overdue_event, record_event
from app.holdings.models import Holding
from app.i18n import gettext as _
from app.organizations.models import NetworkAdmin, Organization
from app.participants.form_text import checked_text
from app.participants.models import Enrollment
from app.participants.service import open_to

ADMIN_LIST_LIMIT = 200
# Requests a participant may raise a concern about once overdue (corrections have their own).
REQUEST_TYPES = tuple(
    sorted(ACTION_EVENT_TYPES - {"concern.raised", "correction.requested", "data.corrected"})
)


# What a concern can be about, and the collection its page sits under: a participant raises
# one at /disclosures/{id}/concern, /corrections/{id}/concern or /requests/{event id}/concern.
SUBJECT_PATHS = {"disclosure": "disclosures", "correction": "corrections", "request": "requests"}


def concern_path(subject_type: str, subject_id: str) -> str:
    return f"/{SUBJECT_PATHS[subject_type]}/{subject_id}/concern"


@dataclass
class ConcernSubject:
    """What a concern is about, as one participant may see it."""

    type: str  # "disclosure" or "correction"
    id: str
    enrollment: Enrollment
    organization: Organization
    disclosure: Disclosure | None = None
    correction: Correction | None = None
    request: Event | None = None
    holding: Holding | None = None  # the corrected holding, whose label the page shows

    @property
    def may_raise(self) -> bool:
        """Only while something is wrong: the disclosure is flagged, the correction or the
        request overdue."""
        if self.disclosure is not None:
            return bool(self.disclosure.flagged)
        if self.request is not None:
            return is_overdue_event(self.request)
        return self.correction is not None and is_overdue(self.correction)

    def payload(self) -> dict[str, str]:
        """What the organization is told the concern is about."""
        if self.disclosure is not None:
            return {
                "type": "disclosure",
                "id": self.disclosure.id,
                "recipient": self.disclosure.recipient_name,
                "disclosed_at": self.disclosure.disclosed_at.isoformat(),
            }
        if self.request is not None:
            assert self.request.ack_due_by is not None
            return {
                "type": "request",
                "id": self.request.id,
                "event_type": self.request.type,
                "due_by": self.request.ack_due_by.isoformat(),
            }
        assert self.correction is not None
        return {
            "type": "correction",
            "id": self.correction.id,
            "label": self.correction.label,
            "due_by": self.correction.due_by.isoformat(),
        }


def own_subject(
    session: Session, *, participant_id: str, subject_type: str, subject_id: str
) -> ConcernSubject | None:
    """The participant's own disclosure or correction; anyone else's is None."""
    subject_id = subject_id[:40]
    if subject_type == "disclosure":
        row = session.exec(
            select(Disclosure, Enrollment, Organization)
            .join(Enrollment, col(Enrollment.id) == Disclosure.enrollment_id)
            .join(Organization, col(Organization.id) == Enrollment.organization_id)
            .where(col(Disclosure.id) == subject_id, open_to(participant_id))
        ).first()
        if row is None:
            return None
        disclosure, enrollment, organization = row
        return ConcernSubject(
            "disclosure", disclosure.id, enrollment, organization, disclosure=disclosure
        )
    if subject_type == "correction":
        found = session.exec(
            select(Correction, Enrollment, Organization, Holding)
            .join(Enrollment, col(Enrollment.id) == Correction.enrollment_id)
            .join(Organization, col(Organization.id) == Enrollment.organization_id)
            .join(Holding, col(Holding.id) == Correction.holding_id)
            .where(col(Correction.id) == subject_id, open_to(participant_id))
        ).first()
        if found is None:
            return None
        correction, enrollment, organization, holding = found
        return ConcernSubject(
            "correction",
            correction.id,
            enrollment,
            organization,
            correction=correction,
            holding=holding,
        )
    if subject_type == "request":
        # The holder's own requests only: a recipient's event is about another organization's
        # enrollment (the participant raises it with the holder). Corrections have their own
        # page, and a concern is not itself a subject.
        request = session.exec(
            select(Event, Enrollment, Organization)
            .join(Enrollment, col(Enrollment.id) == Event.enrollment_id)
            .join(Organization, col(Organization.id) == Enrollment.organization_id)
            .where(
                col(Event.id) == subject_id,
                col(Event.role) == "holder",
                col(Event.type).in_(REQUEST_TYPES),
                open_to(participant_id),
            )
        ).first()
        if request is None:
            return None
        event, enrollment, organization = request
        return ConcernSubject("request", event.id, enrollment, organization, request=event)
    return None


class ConcernNotAllowed(ValueError):
    """Nothing is wrong with the subject (any more): no concern can be raised about it."""


def raise_concern(
    session: Session,
    *,
    subject: ConcernSubject,
    text: str,
    base_url: str = "",
    now: datetime | None = None,
) -> Concern:
    """Store the concern and record its `concern.raised` event to the organization, in the
    caller's transaction. Raises FormError on bad text, ConcernNotAllowed when nothing is
    wrong with the subject."""
    assert subject.type in CONCERN_SUBJECTS
    text = checked_text(
        "what_happened",
        text,
        limit=MAX_CONCERN_TEXT,
        empty_message=_("Write what happened."),
    )
    if not subject.may_raise:
        raise ConcernNotAllowed(subject.id)
    now = now or utcnow()
    assert subject.organization.id is not None
    concern = Concern(
        enrollment_id=subject.enrollment.id,
        organization_id=subject.organization.id,
        subject_type=subject.type,
        subject_id=subject.id,
        text=text,
        created_at=now,
    )
    session.add(concern)
    session.flush()
    event = record_event(
        session,
        enrollment_id=subject.enrollment.id,
        organization_id=subject.organization.id,
        type="concern.raised",
        data={
            "organization": subject.organization.slug,
            "participant": {"external_ref": subject.enrollment.external_ref},
            "concern": {
                "id": concern.id,
                "text": text,
                "raised_at": now.isoformat(),
                "about": subject.payload(),
            },
        },
        base_url=base_url,
        now=now,
    )
    concern.event_id = event.id
    session.add(concern)
    return concern


# --- what is shown -------------------------------------------------------------------------


@dataclass
class ConcernView:
    concern: Concern
    organization: Organization
    event: Event | None
    replies: list[ConcernReply] = field(default_factory=list)

    @property
    def organization_answered(self) -> bool:
        return self.event is not None and self.event.acked_at is not None

    @property
    def open(self) -> bool:
        """Open until the network has replied and the organization has answered."""
        return not (self.replies and self.organization_answered)


def _views(session: Session, rows: list[tuple[Concern, Organization]]) -> list[ConcernView]:
    if not rows:
        return []
    event_ids = [c.event_id for c, _o in rows if c.event_id]
    events = {e.id: e for e in session.exec(select(Event).where(col(Event.id).in_(event_ids)))}
    replies: dict[str, list[ConcernReply]] = {}
    for reply in session.exec(
        select(ConcernReply)
        .where(col(ConcernReply.concern_id).in_([c.id for c, _o in rows]))
        .order_by(col(ConcernReply.created_at), col(ConcernReply.id))
    ):
        replies.setdefault(reply.concern_id, []).append(reply)
    return [ConcernView(c, o, events.get(c.event_id or ""), replies.get(c.id, [])) for c, o in rows]


def concerns_about(session: Session, *, subject: ConcernSubject) -> list[ConcernView]:
    """The participant's concerns about one subject, oldest first, with every answer."""
    rows = session.exec(
        select(Concern, Organization)
        .join(Organization, col(Organization.id) == Concern.organization_id)
        .where(
            col(Concern.enrollment_id) == subject.enrollment.id,
            col(Concern.subject_type) == subject.type,
            col(Concern.subject_id) == subject.id,
        )
        .order_by(col(Concern.created_at), col(Concern.id))
    ).all()
    return _views(session, [(c, o) for c, o in rows])


def concern_for_admin(session: Session, concern_id: str) -> ConcernView | None:
    row = session.exec(
        select(Concern, Organization)
        .join(Organization, col(Organization.id) == Concern.organization_id)
        .where(col(Concern.id) == concern_id[:40])
    ).first()
    if row is None:
        return None
    return _views(session, [(row[0], row[1])])[0]


def open_concerns(session: Session) -> list[ConcernView]:
    """Every open concern for the network administrators, oldest first."""
    replied = exists().where(col(ConcernReply.concern_id) == col(Concern.id))
    rows = session.exec(
        select(Concern, Organization)
        .join(Organization, col(Organization.id) == Concern.organization_id)
        .outerjoin(Event, col(Event.id) == Concern.event_id)
        .where(or_(col(Event.acked_at).is_(None), ~replied))
        .order_by(col(Concern.created_at), col(Concern.id))
        .limit(ADMIN_LIST_LIMIT)
    ).all()
    return _views(session, [(c, o) for c, o in rows])


def reply_to_concern(
    session: Session,
    *,
    concern: Concern,
    admin: NetworkAdmin,
    text: str,
    now: datetime | None = None,
) -> ConcernReply:
    """A network administrator's reply; the participant is shown it with the admin's name."""
    text = checked_text("reply", text, limit=MAX_REPLY_TEXT, empty_message=_("Write your reply."))
    reply = ConcernReply(
        concern_id=concern.id,
        admin_id=admin.id,
        admin_name=admin.email,
        text=text,
        created_at=now or utcnow(),
    )
    session.add(reply)
    session.flush()
    return reply
