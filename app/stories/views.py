"""The participant's story page (/stories/{id}): the exact text, what it is for, who asks, and
the answer (Approve, Ask for changes, Decline; later Withdraw approval). Plain forms: they work
without JavaScript, and the confirmation shows next to what changed."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.db import SessionDep
from app.participants.deps import CurrentParticipant
from app.stories.models import MAX_CHANGE_REQUEST
from app.stories.service import StoryConflict, StoryTextChanged, decide, participant_story
from app.web.deps import not_found, web_context
from app.web.forms import FormError, FormErrors
from app.web.templating import render

router = APIRouter(dependencies=[Depends(web_context)])

# Far over the limit, so a huge paste still gets the "too long" error, never echoed in full.
_FORM_CUT = 20 * MAX_CHANGE_REQUEST


def _page(
    request: Request,
    found: tuple,
    *,
    values: dict | None = None,
    errors: FormErrors | None = None,
    notice: str | None = None,
    status: int = 200,
) -> Response:
    story, _enrollment, organization = found
    return render(
        request,
        "stories/page.html",
        {
            "story": story,
            "organization": organization,
            "values": values or {},
            "errors": errors or FormErrors(),
            "done": notice or request.query_params.get("done", ""),
        },
        status_code=status,
    )


@router.get("/stories/{story_id}", response_class=HTMLResponse)
async def story_page(
    request: Request, story_id: str, participant: CurrentParticipant, db: SessionDep
) -> Response:
    found = participant_story(db, participant_id=participant.id, story_id=story_id)
    if found is None:
        raise not_found()
    return _page(request, found)


@router.post("/stories/{story_id}", response_class=HTMLResponse)
async def story_answer(
    request: Request, story_id: str, participant: CurrentParticipant, db: SessionDep
) -> Response:
    found = participant_story(db, participant_id=participant.id, story_id=story_id)
    if found is None:
        raise not_found()
    story, enrollment, organization = found
    form = await request.form()
    decision = str(form.get("decision") or "")[:20]
    what_to_change = str(form.get("what_to_change") or "")[:_FORM_CUT]
    try:
        version = int(str(form.get("text_version") or "0")[:9])
    except ValueError:
        version = 0
    try:
        decide(
            db,
            story=story,
            enrollment=enrollment,
            organization=organization,
            decision=decision,
            text_version=version,
            what_to_change=what_to_change,
            base_url=request.app.state.settings.base_url,
        )
    except FormError as exc:
        db.rollback()
        errors = FormErrors()
        errors.add(exc.field, exc.message)
        values = {"what_to_change": what_to_change}
        return _page(request, found, values=values, errors=errors, status=400)
    except StoryTextChanged:
        db.rollback()
        db.refresh(story)
        return _page(request, found, notice="changed", status=409)
    except StoryConflict:
        db.rollback()
        db.refresh(story)
        return _page(request, found, notice="conflict", status=409)
    db.commit()
    return RedirectResponse(f"/stories/{story.id}?done={decision}#answer", status_code=303)
