"""The participant's own context pages: what they want their record to say about them
(strengths, goals, things to know), and which of their organizations may see each one."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from app.context.models import CONTEXT_KINDS, MAX_CONTEXT_TEXT, ContextNote
from app.context.service import own_note, own_notes, save_note, withdraw_note
from app.db import SessionDep
from app.i18n import lazy_gettext as _l
from app.participants.deps import OpenParticipant
from app.participants.models import Participant
from app.participants.service import enrollments_of
from app.web.deps import not_found, web_context
from app.web.forms import FormError, FormErrors
from app.web.templating import render

router = APIRouter(dependencies=[Depends(web_context)])

KIND_WORDS = {
    "strength": _l("A strength"),
    "goal": _l("A goal"),
    "know": _l("Something I want case managers to know"),
}
# Far over the limit, so a huge paste still gets the "too long" error, never echoed in full.
_FORM_CUT = 20 * MAX_CONTEXT_TEXT


def _note_or_404(db: Session, participant: Participant, note_id: str) -> ContextNote:
    note = own_note(db, participant_id=participant.id, note_id=note_id[:40])
    if note is None:
        raise not_found()
    return note


def _form(
    request: Request,
    db: Session,
    participant: Participant,
    note: ContextNote | None,
    values: dict,
    errors: FormErrors,
    status: int = 200,
) -> Response:
    return render(
        request,
        "context/form.html",
        {
            "note": note,
            "values": values,
            "errors": errors,
            "kinds": [(k, KIND_WORDS[k]) for k in CONTEXT_KINDS],
            "organizations": enrollments_of(db, participant.id),
        },
        status_code=status,
    )


@router.get("/context", response_class=HTMLResponse)
async def context_list(request: Request, participant: OpenParticipant, db: SessionDep) -> Response:
    names = {e.id: o.name for e, o in enrollments_of(db, participant.id)}
    return render(
        request,
        "context/list.html",
        {
            "notes": own_notes(db, participant_id=participant.id),
            "names": names,
            "kind_words": KIND_WORDS,
        },
    )


async def _posted(request: Request) -> dict:
    form = await request.form()
    return {
        "kind": str(form.get("kind") or "")[:40],
        "text": str(form.get("text") or "")[:_FORM_CUT],
        "shared_with": [str(v)[:40] for v in form.getlist("shared_with")][:100],
    }


@router.get("/context/new", response_class=HTMLResponse)
async def new_form(request: Request, participant: OpenParticipant, db: SessionDep) -> Response:
    return _form(request, db, participant, None, {"shared_with": []}, FormErrors())


async def _save(
    request: Request, db: SessionDep, participant: Participant, note: ContextNote | None
) -> Response:
    """Create (note None) or change a note from the posted form; errors keep the answers."""
    values = await _posted(request)
    try:
        note = save_note(
            db,
            participant=participant,
            note=note,
            base_url=request.app.state.settings.base_url,
            **values,
        )
    except FormError as exc:
        db.rollback()
        errors = FormErrors()
        errors.add(exc.field, exc.message)
        return _form(request, db, participant, note, values, errors, 400)
    db.commit()
    return RedirectResponse(f"/context?saved={note.id}#note-{note.id}", status_code=303)


@router.post("/context/new", response_class=HTMLResponse)
async def new_send(request: Request, participant: OpenParticipant, db: SessionDep) -> Response:
    return await _save(request, db, participant, None)


@router.get("/context/{note_id}/edit", response_class=HTMLResponse)
async def edit_form(
    request: Request, note_id: str, participant: OpenParticipant, db: SessionDep
) -> Response:
    note = _note_or_404(db, participant, note_id)
    values = {"kind": note.kind, "text": note.text, "shared_with": note.shared_with}
    return _form(request, db, participant, note, values, FormErrors())


@router.post("/context/{note_id}/edit", response_class=HTMLResponse)
async def edit_send(
    request: Request, note_id: str, participant: OpenParticipant, db: SessionDep
) -> Response:
    return await _save(request, db, participant, _note_or_404(db, participant, note_id))


@router.get("/context/{note_id}/withdraw", response_class=HTMLResponse)
async def withdraw_page(
    request: Request, note_id: str, participant: OpenParticipant, db: SessionDep
) -> Response:
    note = _note_or_404(db, participant, note_id)
    names = {e.id: o.name for e, o in enrollments_of(db, participant.id)}
    return render(
        request,
        "context/withdraw.html",
        {"note": note, "names": names, "kind_words": KIND_WORDS},
    )


@router.post("/context/{note_id}/withdraw")
async def withdraw_send(
    request: Request, note_id: str, participant: OpenParticipant, db: SessionDep
) -> Response:
    note = own_note(db, participant_id=participant.id, note_id=note_id[:40])
    if note is not None:  # already withdrawn (the form sent twice): nothing more to do
        withdraw_note(
            db, participant=participant, note=note, base_url=request.app.state.settings.base_url
        )
        db.commit()
    return RedirectResponse("/context?withdrawn=1", status_code=303)
