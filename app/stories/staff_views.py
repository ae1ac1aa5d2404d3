"""Stories in the browser, for organizations without a developer: draft a story about a
participant, review it (with the deficit words it uses, as a prompt), edit it, and record
where it was published. The same service functions as the API, so the effects are the same.

And, for org admins, the list of deficit words per language (/staff/org/story-words).
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from app.db import SessionDep
from app.i18n import SUPPORTED_LOCALES
from app.orgadmin.deps import AdminDeskDep
from app.orgadmin.pages import org_admin_router, page
from app.organizations.models import Staff
from app.participants.models import Enrollment
from app.staff.deps import CurrentStaff, staff_organization
from app.staff.service import MAX_REF, find_record, log_access
from app.stories.models import MAX_STORY_TEXT, Story
from app.stories.service import (
    StoryConflict,
    deficit_words_in,
    draft_story,
    edit_story,
    is_publishable,
    organization_story,
    parse_words,
    publish_story,
    set_word_list,
    stories_of_enrollment,
    word_lists,
)
from app.web.deps import not_found, web_context
from app.web.forms import FormError, FormErrors
from app.web.templating import render

router = APIRouter(dependencies=[Depends(web_context)])
BASE = "/staff/participants/{external_ref}/stories"
_FORM_CUT = 4 * MAX_STORY_TEXT


def _own_record(db: Session, staff: Staff, external_ref: str) -> Enrollment:
    # Another organization's reference is as unknown as one that does not exist.
    if "\x00" in external_ref:
        raise not_found()
    enrollment = find_record(db, staff=staff, external_ref=external_ref[:MAX_REF])
    if enrollment is None:
        raise not_found()
    return enrollment


def _own_story(db: Session, staff: Staff, enrollment: Enrollment, story_id: str) -> Story:
    story = organization_story(db, organization_id=staff.organization_id, story_id=story_id)
    if story is None or story.enrollment_id != enrollment.id:
        raise not_found()
    return story


def _stories_url(enrollment: Enrollment) -> str:
    return f"/staff/participants/{quote(enrollment.external_ref, safe='')}/stories"


async def _posted(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: str(form.get(k) or "")[:_FORM_CUT] for k in ("title", "text", "use", "where")}


def _list_page(
    request: Request,
    db: Session,
    staff: Staff,
    enrollment: Enrollment,
    *,
    values: dict[str, str] | None = None,
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "stories/staff_list.html",
        {
            "staff": staff,
            "organization": staff_organization(staff, db),
            "enrollment": enrollment,
            "stories": stories_of_enrollment(db, enrollment_id=enrollment.id),
            "values": values or {},
            "errors": errors or FormErrors(),
        },
        status_code=status_code,
    )


@router.get(BASE, response_class=HTMLResponse)
async def stories_page(
    request: Request, external_ref: str, staff: CurrentStaff, db: SessionDep
) -> Response:
    enrollment = _own_record(db, staff, external_ref)
    log_access(db, staff=staff, enrollment=enrollment)
    db.commit()
    return _list_page(request, db, staff, enrollment)


@router.post(BASE, response_class=HTMLResponse)
async def new_story(
    request: Request, external_ref: str, staff: CurrentStaff, db: SessionDep
) -> Response:
    enrollment = _own_record(db, staff, external_ref)
    values = await _posted(request)
    try:
        story = draft_story(
            db,
            enrollment=enrollment,
            title=values["title"],
            text=values["text"],
            use={"en": values["use"]},
            drafted_by=staff.name,
        )
    except FormError as exc:
        db.rollback()
        errors = FormErrors()
        errors.add(exc.field, exc.message)
        return _list_page(
            request, db, staff, enrollment, values=values, errors=errors, status_code=400
        )
    db.commit()
    return RedirectResponse(f"{_stories_url(enrollment)}/{story.id}?saved=1", status_code=303)


def _review_page(
    request: Request,
    db: Session,
    staff: Staff,
    enrollment: Enrollment,
    story: Story,
    *,
    values: dict[str, str] | None = None,
    errors: FormErrors | None = None,
    notice: str = "",
    status_code: int = 200,
) -> Response:
    lists = word_lists(db, organization_id=story.organization_id)
    return render(
        request,
        "stories/staff_review.html",
        {
            "staff": staff,
            "organization": staff_organization(staff, db),
            "enrollment": enrollment,
            "story": story,
            "publishable": is_publishable(story),
            "deficit_words": deficit_words_in(f"{story.title}\n{story.text}", lists),
            # What was typed wins (kept on an error); the story's own words fill the rest.
            "values": {
                "title": story.title,
                "text": story.text,
                "use": story.use.get("en", ""),
                **(values or {}),
            },
            "errors": errors or FormErrors(),
            "notice": notice or request.query_params.get("saved", ""),
        },
        status_code=status_code,
    )


@router.get(BASE + "/{story_id}", response_class=HTMLResponse)
async def review_page(
    request: Request, external_ref: str, story_id: str, staff: CurrentStaff, db: SessionDep
) -> Response:
    enrollment = _own_record(db, staff, external_ref)
    story = _own_story(db, staff, enrollment, story_id)
    return _review_page(request, db, staff, enrollment, story)


@router.post(BASE + "/{story_id}", response_class=HTMLResponse)
async def edit(
    request: Request, external_ref: str, story_id: str, staff: CurrentStaff, db: SessionDep
) -> Response:
    enrollment = _own_record(db, staff, external_ref)
    story = _own_story(db, staff, enrollment, story_id)
    values = await _posted(request)
    try:
        edit_story(
            db,
            story=story,
            title=values["title"],
            text=values["text"],
            use={**story.use, "en": values["use"]},
        )
    except (FormError, StoryConflict) as exc:
        db.rollback()
        db.refresh(story)
        errors = FormErrors()
        if isinstance(exc, FormError):
            errors.add(exc.field, exc.message)
            return _review_page(
                request, db, staff, enrollment, story, values=values, errors=errors, status_code=400
            )
        return _review_page(request, db, staff, enrollment, story, notice="closed", status_code=409)
    db.commit()
    return RedirectResponse(f"{_stories_url(enrollment)}/{story.id}?saved=edited", status_code=303)


@router.post(BASE + "/{story_id}/publish", response_class=HTMLResponse)
async def publish(
    request: Request, external_ref: str, story_id: str, staff: CurrentStaff, db: SessionDep
) -> Response:
    enrollment = _own_record(db, staff, external_ref)
    story = _own_story(db, staff, enrollment, story_id)
    values = await _posted(request)
    try:
        publish_story(db, story=story, where=values["where"])
    except FormError as exc:
        db.rollback()
        db.refresh(story)
        errors = FormErrors()
        errors.add(exc.field, exc.message)
        return _review_page(
            request,
            db,
            staff,
            enrollment,
            story,
            values={"where": values["where"]},
            errors=errors,
            status_code=400,
        )
    except StoryConflict:
        db.rollback()
        db.refresh(story)
        return _review_page(
            request, db, staff, enrollment, story, notice="not_approved", status_code=409
        )
    db.commit()
    return RedirectResponse(
        f"{_stories_url(enrollment)}/{story.id}?saved=published#publish", status_code=303
    )


# --- the org admin's list of deficit words ---------------------------------------------------

admin_router = org_admin_router()


@admin_router.get("/story-words", response_class=HTMLResponse)
async def words_page(request: Request, desk: AdminDeskDep, db: SessionDep) -> Response:
    lists = word_lists(db, organization_id=desk.organization.id or 0)
    return page(
        request,
        "stories/words.html",
        desk,
        {
            "locales": SUPPORTED_LOCALES,
            "lists": lists,
            "saved": request.query_params.get("saved"),
        },
    )


@admin_router.post("/story-words")
async def words_save(request: Request, desk: AdminDeskDep, db: SessionDep) -> Response:
    form = await request.form()
    for locale in SUPPORTED_LOCALES:
        raw = form.get(f"words-{locale}")
        if isinstance(raw, str):
            set_word_list(
                db,
                organization_id=desk.organization.id or 0,
                locale=locale,
                words=parse_words(raw[:20000]),
            )
    db.commit()
    return RedirectResponse("/staff/org/story-words?saved=1", status_code=303)


router.include_router(admin_router)
