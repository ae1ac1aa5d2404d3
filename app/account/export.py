"""Download my data: everything the portal holds about one participant, in one document.

The same document is the JSON file and the printable page, so the two can't disagree. Every
query is scoped to the participant's own enrollments: nothing of anyone else is in it.
Times stay `datetime` here; the JSON side writes them as ISO-8601, the page in the
participant's language.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, SQLModel, select

from app.concerns.models import Concern, ConcernReply
from app.consent.models import Consent
from app.context.service import own_notes
from app.corrections.models import Correction, DeletionRequest, Statement
from app.db import utcnow
from app.disclosures.models import Disclosure
from app.events.models import Event
from app.holdings.models import Holding, display_order
from app.organizations.models import Organization, Purpose
from app.participants import recovery
from app.participants.models import Enrollment, Participant
from app.participants.service import enrollments_of
from app.reports.service import counted_in
from app.security.models import WebSession
from app.staff.service import access_log_of
from app.stories.models import Story
from app.stories.service import story_payload

EXPORT_FORMAT = "consent-portal-export/1"


def _per_enrollment(
    session: Session, model: type[SQLModel], ids: list[str], *order: Any
) -> dict[str, list[Any]]:
    """Every row of `model` for these enrollments, grouped by enrollment, in `order`."""
    grouped: dict[str, list[Any]] = defaultdict(list)
    column = model.enrollment_id  # type: ignore[attr-defined]
    for row in session.exec(select(model).where(column.in_(ids)).order_by(*order)):
        grouped[row.enrollment_id].append(row)  # type: ignore[attr-defined]
    return grouped


@dataclass
class _Lookups:
    """Names for the ids the records point at."""

    organizations: dict[int, Organization]
    purposes: dict[int, Purpose]

    def slug(self, organization_id: int | None) -> str | None:
        o = self.organizations.get(organization_id or 0)
        return o.slug if o else None

    def name(self, organization_id: int | None) -> str | None:
        o = self.organizations.get(organization_id or 0)
        return o.name if o else None

    def purpose(self, purpose_id: int) -> dict[str, Any]:
        p = self.purposes.get(purpose_id)
        return {"key": p.key, "title": p.title, "basis": p.basis} if p else {"key": None}


def build_export(session: Session, *, participant: Participant) -> dict[str, Any]:
    pairs = enrollments_of(session, participant.id)
    ids = [e.id for e, _o in pairs]
    rows = {
        "holdings": _per_enrollment(session, Holding, ids),
        "disclosures": _per_enrollment(session, Disclosure, ids, Disclosure.disclosed_at),
        "consents": _per_enrollment(session, Consent, ids, Consent.created_at, Consent.id),
        "corrections": _per_enrollment(session, Correction, ids, Correction.created_at),
        "statements": _per_enrollment(session, Statement, ids, Statement.created_at),
        "deletions": _per_enrollment(session, DeletionRequest, ids, DeletionRequest.created_at),
        "events": _per_enrollment(session, Event, ids, Event.seq),
        "concerns": _per_enrollment(session, Concern, ids, Concern.created_at, Concern.id),
    }
    # The network administrators' replies, by concern (the organization's answer is the
    # acknowledgement of the concern's event, exported with the events).
    concern_ids = [c.id for cs in rows["concerns"].values() for c in cs]
    replies: dict[str, list[Any]] = defaultdict(list)
    for reply in session.exec(
        select(ConcernReply)
        .where(ConcernReply.concern_id.in_(concern_ids))  # type: ignore[attr-defined]
        .order_by(ConcernReply.created_at)  # type: ignore[arg-type]
    ):
        replies[reply.concern_id].append(reply)
    rows["concern_replies"] = replies
    # Organizations the records name: the participant's own, and those that received data.
    org_ids = {o.id or 0 for _e, o in pairs}
    org_ids |= {e.organization_id for es in rows["events"].values() for e in es}
    org_ids |= {d.recipient_organization_id or 0 for ds in rows["disclosures"].values() for d in ds}
    lookups = _Lookups(
        organizations={
            o.id or 0: o
            for o in session.exec(select(Organization).where(Organization.id.in_(org_ids)))  # type: ignore[union-attr]
        },
        purposes={
            p.id or 0: p
            for p in session.exec(
                select(Purpose).where(
                    Purpose.organization_id.in_([o.id for _e, o in pairs])  # type: ignore[attr-defined]
                )
            )
        },
    )
    return {
        "format": EXPORT_FORMAT,
        "generated_at": utcnow(),
        "account": {
            "id": participant.id,
            "username": participant.username,
            "preferred_language": participant.preferred_language,
            "created_at": participant.created_at,
            "pin_changed_at": participant.pin_changed_at,
        },
        "sessions": _sessions(session, participant),
        "staff_access": [
            {
                "at": entry.access.at,
                "action": entry.access.action,
                "staff_name": entry.staff.name,
                "organization": entry.organization.slug,
            }
            for entry in access_log_of(session, participant_id=participant.id)
        ],
        "own_context": _own_context(session, participant, pairs),
        "stories": [
            {**story_payload(s), "organization": lookups.slug(s.organization_id)}
            for stories in _per_enrollment(session, Story, ids, Story.created_at).values()
            for s in stories
        ],
        "organizations": [
            _organization(enrollment, organization, rows, lookups)
            for enrollment, organization in pairs
        ],
        # The report runs that counted them (app/reports), as each was published.
        "reports_counted": counted_in(session, enrollment_ids=ids),
    }


def _sessions(session: Session, participant: Participant) -> list[dict[str, Any]]:
    rows = session.exec(
        select(WebSession)
        .where(WebSession.participant_id == participant.id)
        .order_by(WebSession.created_at)  # type: ignore[arg-type]
    )
    return [
        {"started_at": s.created_at, "last_seen_at": s.last_seen_at, "ended_at": s.revoked_at}
        for s in rows
    ]


def _own_context(
    session: Session, participant: Participant, pairs: list[tuple[Enrollment, Organization]]
) -> list[dict[str, Any]]:
    slugs = {e.id: o.slug for e, o in pairs}
    # After a PIN reset, words that went to a sealed organization, or to none, could tell a
    # code's holder about the rest of the account: they wait until the account is opened.
    sealed = recovery.is_sealed(session, participant.id)
    return [
        {
            "id": n.id,
            "kind": n.kind,
            "text": n.text,
            "shared_with": [slugs[e] for e in n.shared_with if e in slugs],
            "created_at": n.created_at,
            "updated_at": n.updated_at,
        }
        for n in own_notes(session, participant_id=participant.id)
        if not sealed or (n.shared_with and all(e in slugs for e in n.shared_with))
    ]


def _organization(
    enrollment: Enrollment,
    organization: Organization,
    rows: dict[str, dict[str, list[Any]]],
    lookups: _Lookups,
) -> dict[str, Any]:
    eid = enrollment.id
    holdings: list[Holding] = sorted(rows["holdings"][eid], key=display_order)
    labels = {h.field_key: h.label for h in holdings}
    field_keys = {h.id: h.field_key for h in holdings}
    return {
        "organization": {"slug": organization.slug, "name": organization.name},
        "enrollment": {
            "participant_id": eid,
            "external_ref": enrollment.external_ref,
            "created_at": enrollment.created_at,
            "claimed_at": enrollment.claimed_at,
        },
        "holdings": [
            {
                "id": h.id,
                "field_key": h.field_key,
                "label": h.label,
                "category": h.category,
                "value": h.value,
                "purpose": lookups.purpose(h.purpose_id),
                "source": h.source,
                # As the organization gave them, when it gave them per language.
                "label_texts": h.label_texts,
                "source_texts": h.source_texts,
                "collected_at": h.collected_at,
                "retain_until": h.retain_until,
                "sensitive": h.sensitive,
                "updated_at": h.updated_at,
                "deleted_at": h.deleted_at,
            }
            for h in holdings
        ],
        "disclosures": [
            {
                "id": d.id,
                "recipient": {
                    "name": d.recipient_name,
                    "organization": lookups.slug(d.recipient_organization_id),
                },
                "purpose": lookups.purpose(d.purpose_id),
                "field_keys": d.field_keys,
                "labels": [labels.get(k, k) for k in d.field_keys],
                "disclosed_at": d.disclosed_at,
                "consent_state": d.consent_state,
                "flagged": d.flagged,
                "flag_reasons": d.flag_reasons,
            }
            for d in rows["disclosures"][eid]
        ],
        "consents": [
            {
                "id": c.id,
                "purpose": lookups.purpose(c.purpose_id),
                "state": c.state,
                "method": c.method,
                "recorded_by": c.recorded_by,
                "note": c.note,
                "created_at": c.created_at,
                "given_at": c.given_at,
                "withdrawn_at": c.withdrawn_at,
                "expires_at": c.expires_at,
                "notice_version": c.notice_version,
                "notice_language": c.notice_language,
                "notice_text": c.notice_text,
                "receipt": f"/consents/receipts/{c.id}",
            }
            for c in rows["consents"][eid]
        ],
        "corrections": [
            {
                "id": c.id,
                "field_key": c.field_key,
                "label": c.label,
                "current_value": c.current_value,
                "requested_value": c.requested_value,
                "reason": c.reason,
                "status": c.status,
                "requested_at": c.created_at,
                "due_by": c.due_by,
                "resolved_at": c.resolved_at,
                "resolution_reason": c.resolution_reason,
                "resolved_by": c.resolved_by,
                "corrected_value": c.corrected_value,
                "tell_recipients": c.tell_recipients,
            }
            for c in rows["corrections"][eid]
        ],
        "statements": [
            {
                "id": s.id,
                "field_key": field_keys.get(s.holding_id),
                "correction_id": s.correction_id,
                "text": s.text,
                "added_at": s.created_at,
            }
            for s in rows["statements"][eid]
        ],
        "deletion_requests": [
            {
                "id": d.id,
                "field_key": d.field_key,
                "label": d.label,
                "requested_at": d.created_at,
                "event_id": d.event_id,
            }
            for d in rows["deletions"][eid]
        ],
        "concerns": [
            {
                "id": c.id,
                "about": {"type": c.subject_type, "id": c.subject_id},
                "what_happened": c.text,
                "raised_at": c.created_at,
                "event_id": c.event_id,
                "replies": [
                    {"from": r.admin_name, "text": r.text, "at": r.created_at}
                    for r in rows["concern_replies"][c.id]
                ],
            }
            for c in rows["concerns"][eid]
        ],
        "events": [
            {
                "id": e.id,
                "type": e.type,
                "organization": lookups.slug(e.organization_id),
                "organization_name": lookups.name(e.organization_id),
                "role": e.role,
                "version": e.seq,
                "created_at": e.created_at,
                "ack_due_by": e.ack_due_by,
                "acknowledgement": (
                    {
                        "at": e.acked_at,
                        "outcome": e.ack_outcome,
                        "note": e.ack_note,
                        "by": e.acked_by,
                    }
                    if e.acked_at
                    else None
                ),
                "hash": e.hash,
                "data": e.data,
            }
            for e in rows["events"][eid]
        ],
    }


def json_default(value: Any) -> Any:
    """Dates and times as ISO-8601 in the JSON file."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")
