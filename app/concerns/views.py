"""Concerns in the browser: the participant's concern page (raise one, see every answer) on a
flagged disclosure, an overdue correction or an unanswered request. The network
administrators' replies are their own pages (app/admin/concerns.py)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from app.concerns.models import MAX_CONCERN_TEXT, MAX_REPLY_TEXT
from app.concerns.service import (
    SUBJECT_PATHS,
    ConcernNotAllowed,
    ConcernSubject,
    ConcernView,
    concern_path,
    concerns_about,
    own_subject,
    raise_concern,
)
from app.db import SessionDep
from app.events.catalogue import EVENT_WORDS
from app.participants.deps import CurrentParticipant
from app.participants.models import Participant
from app.web.deps import not_found, web_context
from app.web.forms import FormError, FormErrors
from app.web.templating import render

router = APIRouter(dependencies=[Depends(web_context)])

# Cut long pastes before checking: still "too long", but never echoed back in megabytes.
_FORM_CUT = 20 * max(MAX_CONCERN_TEXT, MAX_REPLY_TEXT)


def _subject_or_404(
    db: Session, participant: Participant, subject_type: str, subject_id: str
) -> tuple[ConcernSubject, list[ConcernView]]:
    subject = own_subject(
        db, participant_id=participant.id, subject_type=subject_type, subject_id=subject_id
    )
    if subject is None:
        raise not_found()
    concerns = concerns_about(db, subject=subject)
    # Nothing wrong and nothing raised: there is no concern page to show.
    if not subject.may_raise and not concerns:
        raise not_found()
    return subject, concerns


def _page(
    request: Request,
    subject: ConcernSubject,
    concerns: list[ConcernView],
    *,
    errors: FormErrors | None = None,
    text: str = "",
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "concerns/page.html",
        {
            "subject": subject,
            "concerns": concerns,
            "errors": errors or FormErrors(),
            "text": text,
            "action": concern_path(subject.type, subject.id),
            "max_length": MAX_CONCERN_TEXT,
            "event_words": EVENT_WORDS,
        },
        status_code=status_code,
    )


async def _show(
    request: Request, subject_type: str, subject_id: str, participant: Participant, db: Session
) -> Response:
    subject, concerns = _subject_or_404(db, participant, subject_type, subject_id)
    return _page(request, subject, concerns)


async def _raise(
    request: Request,
    subject_type: str,
    subject_id: str,
    participant: Participant,
    db: Session,
    what_happened: str,
) -> Response:
    subject, concerns = _subject_or_404(db, participant, subject_type, subject_id)
    text = what_happened[:_FORM_CUT]
    try:
        concern = raise_concern(
            db, subject=subject, text=text, base_url=request.app.state.settings.base_url
        )
    except FormError as exc:
        db.rollback()
        errors = FormErrors()
        errors.add(exc.field, exc.message)
        return _page(request, subject, concerns, errors=errors, text=text, status_code=400)
    except ConcernNotAllowed:
        db.rollback()
        return RedirectResponse(concern_path(subject.type, subject.id), status_code=303)
    db.commit()
    return RedirectResponse(
        f"{concern_path(subject.type, subject.id)}?raised={concern.id}#concern-{concern.id}",
        status_code=303,
    )


def _concern_routes(subject_type: str) -> None:
    """The concern page about one kind of subject: GET shows it, POST raises a concern."""
    path = concern_path(subject_type, "{subject_id}")

    @router.get(path, response_class=HTMLResponse, name=f"{subject_type}_concern")
    async def show(
        request: Request, subject_id: str, participant: CurrentParticipant, db: SessionDep
    ) -> Response:
        return await _show(request, subject_type, subject_id, participant, db)

    @router.post(path, response_class=HTMLResponse, name=f"{subject_type}_concern_raise")
    async def raise_one(
        request: Request,
        subject_id: str,
        participant: CurrentParticipant,
        db: SessionDep,
        what_happened: str = Form(""),
    ) -> Response:
        return await _raise(request, subject_type, subject_id, participant, db, what_happened)


for _subject_type in SUBJECT_PATHS:
    _concern_routes(_subject_type)
