"""Staff record what they hold: add, edit and delete holdings, record a disclosure.

Each form saves through the same service functions as the API (`PUT`/`DELETE
/api/v1/participants/{ref}/holdings/{field_key}`, `POST .../disclosures`), so the effects are
the same and the participant sees it the same way. Both staff roles may do this.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session, select

from app.db import SessionDep
from app.disclosures.service import DisclosureError, check_disclosure, record_disclosure
from app.holdings.models import Holding
from app.holdings.schemas import default_text
from app.holdings.service import UnknownPurpose, delete_holding, holdings_of, upsert_holding
from app.i18n import gettext as _
from app.organizations.models import Purpose, Staff
from app.participants.models import Enrollment
from app.staff.deps import CurrentStaff, staff_organization
from app.staff.records import (
    OTHER_LANGUAGES,
    disclosure_from_form,
    flag_reason_words,
    form_texts,
    holding_from_form,
    new_field_key,
    plan_categories,
    plan_purposes,
)
from app.staff.service import MAX_REF, find_record, log_access
from app.web.deps import not_found, web_context
from app.web.templating import render

router = APIRouter(dependencies=[Depends(web_context)])

BASE = "/staff/participants/{external_ref}"


def _own_record(db: Session, staff: Staff, external_ref: str) -> Enrollment:
    # As app/staff/views.py _record_or_404 (importing it would be circular): another
    # organization's reference is as unknown as one that does not exist.
    if "\x00" in external_ref:
        raise not_found()
    enrollment = find_record(db, staff=staff, external_ref=external_ref[:MAX_REF])
    if enrollment is None:
        raise not_found()
    return enrollment


def _own_holding(db: Session, enrollment: Enrollment, field_key: str) -> Holding:
    holding = db.exec(
        select(Holding).where(
            Holding.enrollment_id == enrollment.id,
            Holding.field_key == field_key,
            Holding.deleted_at.is_(None),  # type: ignore[union-attr]
        )
    ).first()
    if holding is None:
        raise not_found()
    return holding


def _record_url(enrollment: Enrollment, saved: str) -> str:
    return f"/staff/participants/{quote(enrollment.external_ref, safe='')}?saved={saved}"


async def _fields(request: Request) -> tuple[dict[str, str], list[str]]:
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    keys = [v for v in form.getlist("field_keys") if isinstance(v, str)]
    return fields, keys


# --- holdings --------------------------------------------------------------------------------


def _holding_form(
    request: Request,
    db: Session,
    staff: Staff,
    enrollment: Enrollment,
    *,
    holding: Holding | None,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    purposes = plan_purposes(db, enrollment.organization_id)
    return render(
        request,
        "staff/holding_form.html",
        {
            "staff": staff,
            "organization": staff_organization(staff, db),
            "enrollment": enrollment,
            "holding": holding,
            "purposes": purposes,
            "categories": plan_categories(purposes),
            "other_languages": OTHER_LANGUAGES,
            "values": values,
            "errors": errors or {},
        },
        status_code=status_code,
    )


def _values_of(db: Session, holding: Holding) -> dict[str, str]:
    purpose = db.get(Purpose, holding.purpose_id)
    return {
        **form_texts("label", holding.label, holding.label_texts),
        **form_texts("source", holding.source, holding.source_texts),
        "category": holding.category,
        "value": holding.value or "",
        "purpose": purpose.key if purpose else "",
        "sensitive": "1" if holding.sensitive else "",
    }


def _save_holding(
    db: Session,
    staff: Staff,
    enrollment: Enrollment,
    field_key: str | None,
    fields: dict[str, str],
) -> tuple[bool, dict[str, str]]:
    purposes = plan_purposes(db, enrollment.organization_id)
    data, errors = holding_from_form(fields, purposes)
    if data is None:
        return False, errors
    key = field_key or new_field_key(db, enrollment, default_text(data.label))
    try:
        upsert_holding(db, enrollment=enrollment, field_key=key, data=data)
    except UnknownPurpose:  # the plan changed since the check
        db.rollback()
        return False, {"purpose": _("Choose a purpose from your data collection plan.")}
    log_access(db, staff=staff, enrollment=enrollment, action="changed_data")
    db.commit()
    return True, {}


@router.get(BASE + "/holdings/new", response_class=HTMLResponse)
async def new_holding_page(
    request: Request, external_ref: str, staff: CurrentStaff, db: SessionDep
) -> Response:
    enrollment = _own_record(db, staff, external_ref)
    return _holding_form(request, db, staff, enrollment, holding=None, values={})


@router.post(BASE + "/holdings/new", response_class=HTMLResponse)
async def add_holding(
    request: Request, external_ref: str, staff: CurrentStaff, db: SessionDep
) -> Response:
    enrollment = _own_record(db, staff, external_ref)
    return await _submit_holding(request, db, staff, enrollment, None)


@router.get(BASE + "/holdings/{field_key}/edit", response_class=HTMLResponse)
async def edit_holding_page(
    request: Request, external_ref: str, field_key: str, staff: CurrentStaff, db: SessionDep
) -> Response:
    enrollment = _own_record(db, staff, external_ref)
    holding = _own_holding(db, enrollment, field_key)
    return _holding_form(
        request, db, staff, enrollment, holding=holding, values=_values_of(db, holding)
    )


@router.post(BASE + "/holdings/{field_key}/edit", response_class=HTMLResponse)
async def edit_holding(
    request: Request, external_ref: str, field_key: str, staff: CurrentStaff, db: SessionDep
) -> Response:
    enrollment = _own_record(db, staff, external_ref)
    holding = _own_holding(db, enrollment, field_key)
    return await _submit_holding(request, db, staff, enrollment, holding)


async def _submit_holding(
    request: Request,
    db: Session,
    staff: Staff,
    enrollment: Enrollment,
    holding: Holding | None,
) -> Response:
    """A new holding (`holding` None) or an edit of one: saved and back to the record, or the
    form again with its errors and the answers kept."""
    fields, _keys = await _fields(request)
    saved, errors = _save_holding(
        db, staff, enrollment, holding.field_key if holding else None, fields
    )
    if not saved:
        return _holding_form(
            request,
            db,
            staff,
            enrollment,
            holding=holding,
            values=fields,
            errors=errors,
            status_code=422,
        )
    notice = "updated" if holding else "added"
    return RedirectResponse(_record_url(enrollment, notice), status_code=303)


@router.get(BASE + "/holdings/{field_key}/delete", response_class=HTMLResponse)
async def delete_holding_page(
    request: Request, external_ref: str, field_key: str, staff: CurrentStaff, db: SessionDep
) -> Response:
    enrollment = _own_record(db, staff, external_ref)
    holding = _own_holding(db, enrollment, field_key)
    return render(
        request,
        "staff/holding_delete.html",
        {
            "staff": staff,
            "organization": staff_organization(staff, db),
            "enrollment": enrollment,
            "holding": holding,
        },
    )


@router.post(BASE + "/holdings/{field_key}/delete")
async def remove_holding(
    external_ref: str, field_key: str, staff: CurrentStaff, db: SessionDep
) -> Response:
    enrollment = _own_record(db, staff, external_ref)
    if not delete_holding(db, enrollment=enrollment, field_key=field_key):
        raise not_found()
    log_access(db, staff=staff, enrollment=enrollment, action="changed_data")
    db.commit()
    return RedirectResponse(_record_url(enrollment, "deleted"), status_code=303)


# --- disclosures -----------------------------------------------------------------------------


def _disclosure_form(
    request: Request,
    db: Session,
    staff: Staff,
    enrollment: Enrollment,
    *,
    values: dict[str, str],
    chosen: list[str],
    errors: dict[str, str] | None = None,
    warnings: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    context: dict[str, Any] = {
        "staff": staff,
        "organization": staff_organization(staff, db),
        "enrollment": enrollment,
        "purposes": plan_purposes(db, enrollment.organization_id),
        "holdings": holdings_of(db, enrollment.id),
        "values": values,
        "chosen": set(chosen),
        "errors": errors or {},
        "warnings": warnings or [],
    }
    return render(request, "staff/disclosure_form.html", context, status_code=status_code)


@router.get(BASE + "/disclosures/new", response_class=HTMLResponse)
async def new_disclosure_page(
    request: Request, external_ref: str, staff: CurrentStaff, db: SessionDep
) -> Response:
    enrollment = _own_record(db, staff, external_ref)
    return _disclosure_form(request, db, staff, enrollment, values={}, chosen=[])


@router.post(BASE + "/disclosures/new", response_class=HTMLResponse)
async def add_disclosure(
    request: Request, external_ref: str, staff: CurrentStaff, db: SessionDep
) -> Response:
    enrollment = _own_record(db, staff, external_ref)
    fields, keys = await _fields(request)
    held = {h.field_key for h in holdings_of(db, enrollment.id)}
    data, errors = disclosure_from_form(
        fields, keys, plan_purposes(db, enrollment.organization_id), held
    )
    if data is not None:
        try:
            check = check_disclosure(db, enrollment=enrollment, data=data)
        except DisclosureError as exc:
            data, errors = None, {"form": str(exc)}
    if data is None:
        return _disclosure_form(
            request,
            db,
            staff,
            enrollment,
            values=fields,
            chosen=keys,
            errors=errors,
            status_code=422,
        )
    # Told before saving: a flagged disclosure is still recorded (the truth is kept), but
    # only once the staff member has read why it will be flagged and confirmed.
    if check.flagged and fields.get("confirm") != "1":
        return _disclosure_form(
            request,
            db,
            staff,
            enrollment,
            values=fields,
            chosen=keys,
            warnings=flag_reason_words(check.reasons),
        )
    disclosure = record_disclosure(db, enrollment=enrollment, data=data)
    log_access(db, staff=staff, enrollment=enrollment, action="recorded_disclosure")
    db.commit()
    saved = "disclosure_flagged" if disclosure.flagged else "disclosure"
    return RedirectResponse(_record_url(enrollment, saved), status_code=303)
