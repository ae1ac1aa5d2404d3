"""The data collection plan's pages: the plan (/staff/org/plan), its data-justice review
(/staff/org/review) and the purpose editor (new, create, edit, save).

Saving a purpose goes through the API's own `upsert_purpose` (the form checks what
`PurposeIn` checks, app/orgadmin/forms.py), so the browser and the API can't disagree.
Purposes are looked up by the admin's organization: another organization's are not found.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from app.db import SessionDep
from app.i18n import gettext as _
from app.orgadmin import service
from app.orgadmin.deps import AdminDesk, AdminDeskDep
from app.orgadmin.forms import KNOWN_CATEGORIES, PurposeForm, editor_languages
from app.orgadmin.pages import org_admin_router, page
from app.orgadmin.review import PlanReview
from app.organizations.service import (
    UnknownOrganization,
    find_purpose,
    get_organization,
    list_purposes,
    upsert_purpose,
)
from app.web.deps import not_found
from app.web.forms import FormErrors

router = org_admin_router()


@router.get("/plan", response_class=HTMLResponse)
async def plan(request: Request, desk: AdminDeskDep, db: SessionDep) -> Response:
    organization = desk.organization
    assert organization.id is not None
    review = service.review_organization_plan(db, organization=organization)
    return page(
        request,
        "orgadmin/plan.html",
        desk,
        {
            "purposes": list_purposes(db, organization_id=organization.id),
            "flag_counts": {p.key: len(p.flags) for p in review.purposes},
            "saved": request.query_params.get("saved", "")[:64],
        },
    )


@router.get("/review", response_class=HTMLResponse)
async def review(request: Request, desk: AdminDeskDep, db: SessionDep) -> Response:
    return page(
        request,
        "orgadmin/review.html",
        desk,
        {"review": service.review_organization_plan(db, organization=desk.organization)},
    )


def _editor(
    request: Request,
    desk: AdminDesk,
    form: PurposeForm,
    *,
    new: bool,
    review: PlanReview | None = None,
    errors: FormErrors | None = None,
) -> HTMLResponse:
    flags = []
    if review is not None:
        flags = next((p.flags for p in review.purposes if p.key == form.key), [])
    return page(
        request,
        "orgadmin/purpose.html",
        desk,
        {
            "form": form,
            "new": new,
            "flags": flags,
            "errors": errors or FormErrors(),
            "known_categories": KNOWN_CATEGORIES,
        },
        status_code=400 if errors else 200,
    )


@router.get("/new-purpose", response_class=HTMLResponse)
async def new_purpose(request: Request, desk: AdminDeskDep, db: SessionDep) -> Response:
    spoken = service.participant_languages(db, organization=desk.organization)
    languages = editor_languages(None, spoken)
    return _editor(request, desk, PurposeForm(languages=languages), new=True)


@router.post("/new-purpose", response_class=HTMLResponse)
async def create_purpose(request: Request, desk: AdminDeskDep, db: SessionDep) -> Response:
    spoken = service.participant_languages(db, organization=desk.organization)
    languages = editor_languages(None, spoken)
    form = PurposeForm.from_form(await request.form(), languages)
    return _save(request, db, desk, form, new=True)


@router.get("/plan/{purpose_key}", response_class=HTMLResponse)
async def edit_purpose(
    purpose_key: str, request: Request, desk: AdminDeskDep, db: SessionDep
) -> Response:
    organization = desk.organization
    purpose = find_purpose(db, organization_id=organization.id or 0, key=purpose_key[:64])
    if purpose is None:
        raise not_found()
    languages = editor_languages(
        purpose, service.participant_languages(db, organization=organization)
    )
    return _editor(
        request,
        desk,
        PurposeForm.from_purpose(purpose, languages),
        new=False,
        review=service.review_organization_plan(db, organization=organization),
    )


@router.post("/plan/{purpose_key}", response_class=HTMLResponse)
async def save_purpose(
    purpose_key: str, request: Request, desk: AdminDeskDep, db: SessionDep
) -> Response:
    organization = desk.organization
    purpose = find_purpose(db, organization_id=organization.id or 0, key=purpose_key[:64])
    if purpose is None:
        raise not_found()
    languages = editor_languages(
        purpose, service.participant_languages(db, organization=organization)
    )
    form = PurposeForm.from_form(await request.form(), languages, key=purpose.key)
    return _save(request, db, desk, form, new=False)


def _save(
    request: Request,
    db: Session,
    desk: AdminDesk,
    form: PurposeForm,
    *,
    new: bool,
) -> Response:
    organization = desk.organization
    data, errors = form.validate(new=new)
    if new and not errors and find_purpose(db, organization_id=organization.id or 0, key=form.key):
        errors.add("key", _("A purpose with this key exists already; choose another key."))
    if data is not None and not errors:
        try:
            upsert_purpose(db, organization=organization, key=form.key, data=data)
        except UnknownOrganization:
            db.rollback()
            for index, row in enumerate(form.recipients):
                if row["organization"] and get_organization(db, row["organization"]) is None:
                    errors.add(
                        f"recipient-{index}-organization",
                        _("There is no network organization with this slug."),
                    )
        else:
            db.commit()
            return RedirectResponse(f"/staff/org/plan?saved={form.key}", status_code=303)
    return _editor(request, desk, form, new=new, errors=errors)
