"""The participant's own context: add, edit, withdraw; each change goes by event to the
organizations the participant chose, and only to them.

- context.shared: to each chosen organization when a note is added, when its words change,
  and when an organization is newly chosen.
- context.withdrawn: to each organization that may no longer see it (the note was withdrawn,
  or the organization was unticked).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from app.context.models import CONTEXT_KINDS, MAX_CONTEXT_TEXT, ContextNote
from app.db import utcnow
from app.events.service import record_event
from app.i18n import format_number
from app.i18n import gettext as _
from app.organizations.models import Organization
from app.participants.form_text import clean_text
from app.participants.models import Enrollment, Participant
from app.participants.service import enrollments_of
from app.web.forms import FormError


def own_notes(session: Session, *, participant_id: str) -> list[ContextNote]:
    return list(
        session.exec(
            select(ContextNote)
            .where(ContextNote.participant_id == participant_id)
            .order_by(ContextNote.created_at, ContextNote.id)  # type: ignore[arg-type]
        )
    )


def own_note(session: Session, *, participant_id: str, note_id: str) -> ContextNote | None:
    return session.exec(
        select(ContextNote).where(
            ContextNote.id == note_id, ContextNote.participant_id == participant_id
        )
    ).first()


def _checked(kind: str, text: str) -> tuple[str, str]:
    if kind not in CONTEXT_KINDS:
        raise FormError("kind", _("Choose what it is: a strength, a goal, or something to know."))
    text = clean_text(text)
    if not text:
        raise FormError("text", _("Write it in your own words."))
    if len(text) > MAX_CONTEXT_TEXT:
        raise FormError(
            "text",
            _(
                "This is too long. Keep it under %(limit)s characters (it has %(count)s).",
                limit=format_number(MAX_CONTEXT_TEXT),
                count=format_number(len(text)),
            ),
        )
    return kind, text


def _context_payload(note: ContextNote) -> dict[str, Any]:
    return {
        "id": note.id,
        "kind": note.kind,
        "text": note.text,
        "updated_at": note.updated_at.isoformat(),
    }


def _tell(
    session: Session,
    *,
    type: str,
    note: ContextNote,
    pairs: dict[str, tuple[Enrollment, Organization]],
    enrollment_ids: list[str],
    base_url: str,
    now: datetime,
) -> None:
    for enrollment_id in enrollment_ids:
        enrollment, organization = pairs[enrollment_id]
        payload = _context_payload(note) if type == "context.shared" else {"id": note.id}
        record_event(
            session,
            enrollment_id=enrollment.id,
            organization_id=organization.id or 0,
            type=type,
            data={
                "organization": organization.slug,
                "participant": {"external_ref": enrollment.external_ref},
                "context": payload,
            },
            base_url=base_url,
            now=now,
        )


def save_note(
    session: Session,
    *,
    participant: Participant,
    note: ContextNote | None,
    kind: str,
    text: str,
    shared_with: list[str],
    base_url: str = "",
    now: datetime | None = None,
) -> ContextNote:
    """Add a note (note=None) or change one. `shared_with` holds enrollment ids; any that is
    not one of the participant's own is ignored."""
    kind, text = _checked(kind, text)
    pairs = {e.id: (e, o) for e, o in enrollments_of(session, participant.id)}
    chosen = [eid for eid in pairs if eid in set(shared_with)]  # in the organizations' order
    if note is None:
        # The same words sent twice (a double tap) are one note, not two.
        note = next(
            (
                n
                for n in own_notes(session, participant_id=participant.id)
                if n.kind == kind and n.text == text
            ),
            None,
        )
    now = now or utcnow()
    before = list(note.shared_with) if note else []
    words_changed = note is None or note.kind != kind or note.text != text
    if note is None:
        note = ContextNote(participant_id=participant.id, kind=kind, text=text, created_at=now)
    note.kind, note.text, note.shared_with, note.updated_at = kind, text, chosen, now
    session.add(note)
    session.flush()
    told = chosen if words_changed else [eid for eid in chosen if eid not in before]
    _tell(
        session,
        type="context.shared",
        note=note,
        pairs=pairs,
        enrollment_ids=told,
        base_url=base_url,
        now=now,
    )
    _tell(
        session,
        type="context.withdrawn",
        note=note,
        pairs=pairs,
        enrollment_ids=[eid for eid in before if eid not in chosen and eid in pairs],
        base_url=base_url,
        now=now,
    )
    return note


def withdraw_note(
    session: Session,
    *,
    participant: Participant,
    note: ContextNote,
    base_url: str = "",
    now: datetime | None = None,
) -> None:
    """Take a note back: every organization that could see it is told, and it is deleted."""
    pairs = {e.id: (e, o) for e, o in enrollments_of(session, participant.id)}
    _tell(
        session,
        type="context.withdrawn",
        note=note,
        pairs=pairs,
        enrollment_ids=[eid for eid in note.shared_with if eid in pairs],
        base_url=base_url,
        now=now or utcnow(),
    )
    session.delete(note)
    session.flush()


def notes_shared_with(session: Session, *, enrollment: Enrollment) -> list[ContextNote]:
    """What the participant chose to show this organization."""
    if enrollment.participant_id is None:
        return []
    return [
        n
        for n in own_notes(session, participant_id=enrollment.participant_id)
        if enrollment.id in n.shared_with
    ]
