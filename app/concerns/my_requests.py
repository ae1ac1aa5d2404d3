"""My requests: every correction, deletion request, statement of disagreement and concern the
participant sent, across all their open enrollments, and where each stands.

Only reads. Here in concerns, the lowest package that sees all four kinds (concerns sit above
corrections). Whether something is overdue is decided by the same rules as everywhere else:
`is_overdue` for a correction (its `due_by`), `is_overdue_event` for a request answered by an
acknowledgement (its event's `ack_due_by`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from app.concerns.models import Concern, ConcernReply
from app.concerns.service import concern_path
from app.corrections.models import Correction, DeletionRequest, Statement
from app.corrections.service import is_overdue
from app.db import utcnow
from app.disclosures.models import Disclosure
from app.events.models import Event
from app.events.service import is_overdue_event
from app.holdings.models import Holding, label_text
from app.organizations.models import Organization
from app.participants.service import enrollments_of

KINDS = ("correction", "deletion", "statement", "concern")
# What needs attention first: overdue, then waiting, then answered.
STANDINGS = ("overdue", "waiting", "answered")


@dataclass
class MyRequest:
    """One request as its sender sees it."""

    kind: str  # one of KINDS
    id: str
    organization: Organization
    about: str  # the holding's label; for a concern, what it is about (see `about_kind`)
    sent_at: datetime
    standing: str  # one of STANDINGS
    due_by: datetime | None = None
    # The answer: accepted / denied (a correction), done / declined (anything else).
    outcome: str | None = None
    answered_at: datetime | None = None
    answered_by: str | None = None
    reason: str | None = None  # a denial's reason, or the organization's note
    link: str | None = None  # its own page
    concern_link: str | None = None  # where to raise a concern, while it is overdue
    statement_link: str | None = None  # where to add a statement, after a denial
    about_kind: str = "holding"  # for a concern: "disclosure", "correction" or "request"
    # The language `about` is in when it is not the page's (a label not yet translated).
    about_language: str | None = None
    replies: int = 0  # a concern's replies from the network administrators


def _ack_standing(event: Event | None, now: datetime) -> str:
    if event is not None and event.acked_at is not None:
        return "answered"
    if event is not None and is_overdue_event(event, now):
        return "overdue"
    return "waiting"


def _ack_answer(item: MyRequest, event: Event | None) -> None:
    if event is None:
        return
    item.due_by = event.ack_due_by
    if event.acked_at is not None:
        item.outcome = event.ack_outcome
        item.answered_at = event.acked_at
        item.answered_by = event.acked_by
        item.reason = event.ack_note


def _acknowledged(
    kind: str,
    request_id: str,
    organization: Organization,
    holding: Holding,
    sent_at: datetime,
    event: Event | None,
    now: datetime,
) -> MyRequest:
    """A deletion request or a statement about `holding`: waiting, overdue (a concern may be
    raised about its event) or answered, as its event's acknowledgement says."""
    label, language = label_text(holding)  # in the page's language, as the home page shows it
    item = MyRequest(
        kind,
        request_id,
        organization,
        label,
        sent_at,
        _ack_standing(event, now),
        link=f"/#holding-{holding.id}",
        about_language=language,
    )
    _ack_answer(item, event)
    if item.standing == "overdue" and event is not None:
        item.concern_link = f"/requests/{event.id}/concern"
    return item


def my_requests(
    session: Session, participant_id: str, *, now: datetime | None = None
) -> list[MyRequest]:
    """The participant's own requests in their open enrollments (sealed ones stay out):
    overdue first, then waiting, then answered; newest first within each."""
    now = now or utcnow()
    pairs = enrollments_of(session, participant_id)
    orgs = {e.id: o for e, o in pairs}
    ids = list(orgs)
    if not ids:
        return []
    items: list[MyRequest] = []

    deletions = session.exec(
        select(DeletionRequest, Holding)
        .join(Holding, col(Holding.id) == DeletionRequest.holding_id)
        .where(col(DeletionRequest.enrollment_id).in_(ids))
    ).all()
    statements = session.exec(
        select(Statement, Holding)
        .join(Holding, col(Holding.id) == Statement.holding_id)
        .where(col(Statement.enrollment_id).in_(ids))
    ).all()
    concerns = session.exec(select(Concern).where(col(Concern.enrollment_id).in_(ids))).all()

    event_ids = [d.event_id for d, _h in deletions if d.event_id]
    event_ids += [c.event_id for c in concerns if c.event_id]
    events = {e.id: e for e in session.exec(select(Event).where(col(Event.id).in_(event_ids)))}
    # A statement names no event; its holder's statement.added event names the statement.
    statement_events: dict[str, Event] = {}
    if statements:
        for e in session.exec(
            select(Event).where(
                col(Event.enrollment_id).in_([s.enrollment_id for s, _h in statements]),
                col(Event.type) == "statement.added",
                col(Event.role) == "holder",
            )
        ):
            statement_id = (e.data.get("statement") or {}).get("id")
            if statement_id:
                statement_events[statement_id] = e

    stated = {s.correction_id for s, _h in statements}
    corrections = session.exec(
        select(Correction, Holding)
        .join(Holding, col(Holding.id) == Correction.holding_id)
        .where(col(Correction.enrollment_id).in_(ids))
    ).all()
    for c, corrected in corrections:
        label, language = label_text(corrected)  # in the page's language, as the home page
        item = MyRequest(
            "correction",
            c.id,
            orgs[c.enrollment_id],
            label,
            c.created_at,
            "answered"
            if c.status != "requested"
            else ("overdue" if is_overdue(c, now) else "waiting"),
            due_by=c.due_by,
            link=f"/#holding-{c.holding_id}",
            about_language=language,
        )
        if c.status != "requested":
            item.outcome = c.status
            item.answered_at = c.resolved_at
            item.answered_by = c.resolved_by
            item.reason = c.resolution_reason
            if c.status == "denied" and c.id not in stated and corrected.deleted_at is None:
                item.statement_link = f"/corrections/{c.id}/statement"
        elif item.standing == "overdue":
            item.concern_link = f"/corrections/{c.id}/concern"
        items.append(item)

    # A deletion request and a statement are answered alike: by acknowledging their event.
    for d, holding in deletions:
        event = events.get(d.event_id or "")
        items.append(
            _acknowledged(
                "deletion",
                d.id,
                orgs[d.enrollment_id],
                holding,
                d.created_at,
                event,
                now,
            )
        )
    for s, holding in statements:
        event = statement_events.get(s.id)
        items.append(
            _acknowledged(
                "statement",
                s.id,
                orgs[s.enrollment_id],
                holding,
                s.created_at,
                event,
                now,
            )
        )

    if concerns:
        items += _concerns(session, list(concerns), orgs, events, now)

    items.sort(key=lambda i: (i.sent_at, i.id), reverse=True)
    items.sort(key=lambda i: STANDINGS.index(i.standing))
    return items


def _concerns(
    session: Session,
    rows: list[Concern],
    orgs: dict[str, Organization],
    events: dict[str, Event],
    now: datetime,
) -> list[MyRequest]:
    by_type: dict[str, list[str]] = {}
    for c in rows:
        by_type.setdefault(c.subject_type, []).append(c.subject_id)
    about: dict[tuple[str, str], str] = {}
    languages: dict[tuple[str, str], str | None] = {}  # a label's language, when not the page's
    ids = list(orgs)
    for correction_id, holding in session.exec(
        select(Correction.id, Holding)
        .join(Holding, col(Holding.id) == Correction.holding_id)
        .where(
            col(Correction.id).in_(by_type.get("correction", [])),
            col(Correction.enrollment_id).in_(ids),
        )
    ):
        about[("correction", correction_id)], languages[("correction", correction_id)] = label_text(
            holding
        )
    for disclosure_id, recipient in session.exec(
        select(Disclosure.id, Disclosure.recipient_name).where(
            col(Disclosure.id).in_(by_type.get("disclosure", [])),
            col(Disclosure.enrollment_id).in_(ids),
        )
    ):
        about[("disclosure", disclosure_id)] = recipient
    for event_id, event_type in session.exec(
        select(Event.id, Event.type).where(
            col(Event.id).in_(by_type.get("request", [])), col(Event.enrollment_id).in_(ids)
        )
    ):
        about[("request", event_id)] = event_type
    replies: dict[str, int] = {}
    for concern_id in session.exec(
        select(ConcernReply.concern_id).where(
            col(ConcernReply.concern_id).in_([c.id for c in rows])
        )
    ):
        replies[concern_id] = replies.get(concern_id, 0) + 1

    items = []
    for c in rows:
        event = events.get(c.event_id or "")
        item = MyRequest(
            "concern",
            c.id,
            orgs[c.enrollment_id],
            about.get((c.subject_type, c.subject_id), ""),
            c.created_at,
            _ack_standing(event, now),
            link=f"{concern_path(c.subject_type, c.subject_id)}#concern-{c.id}",
            about_kind=c.subject_type,
            about_language=languages.get((c.subject_type, c.subject_id)),
            replies=replies.get(c.id, 0),
        )
        _ack_answer(item, event)
        items.append(item)
    return items


def by_standing(items: list[MyRequest]) -> list[tuple[str, list[MyRequest]]]:
    """The groups that have something, in the order of STANDINGS."""
    return [
        (s, [i for i in items if i.standing == s])
        for s in STANDINGS
        if any(i.standing == s for i in items)
    ]
