"""Requests to answer: every event of the organization that asks it to act, answered in place.

The answers call the same service functions as the API (`POST /api/v1/corrections/{id}/
resolution` and `POST /api/v1/events/{id}/ack`), so the effects and events are the same; the
only difference is `by`, the staff member's name, which the participant is shown.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from app.corrections.models import MAX_REQUESTED_VALUE, CorrectionConflict
from app.corrections.service import organization_correction, resolve_correction
from app.db import SessionDep, utcnow
from app.events.models import Event
from app.events.service import AlreadyAcknowledged, acknowledge_event
from app.i18n import gettext as _
from app.organizations.models import Organization, Staff
from app.participants.models import Enrollment
from app.staff.deps import CurrentStaff, staff_organization
from app.staff.requests import RequestToAnswer, answered_by, request_of, requests_to_answer
from app.staff.service import log_access
from app.web.deps import not_found, web_context
from app.web.templating import render

router = APIRouter(dependencies=[Depends(web_context)])

MAX_NOTE = 2000  # as the API's note and reason (app/events/api.py, app/schemas.py)
ANSWERS = ("accept", "deny", "done", "decline")


@router.get("/staff/requests", response_class=HTMLResponse)
async def requests_page(request: Request, staff: CurrentStaff, db: SessionDep) -> Response:
    organization = staff_organization(staff, db)
    assert organization.id is not None
    now = utcnow()
    return render(
        request,
        "staff/requests.html",
        {
            "staff": staff,
            "organization": organization,
            "section": "requests",
            "items": requests_to_answer(db, organization_id=organization.id, now=now),
            "now": now,
            "answered": request.query_params.get("answered"),
        },
    )


def _own_request(db: Session, staff: Staff, event_id: str) -> RequestToAnswer:
    # Another organization's event is as unknown as one that does not exist.
    item = request_of(db, organization_id=staff.organization_id, event_id=event_id)
    if item is None:
        raise not_found()
    return item


def _page(
    request: Request,
    staff: Staff,
    organization: Organization,
    item: RequestToAnswer,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    conflict: str | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "staff/request.html",
        {
            "staff": staff,
            "organization": organization,
            "section": "requests",
            "item": item,
            "now": utcnow(),
            "errors": errors or {},
            "values": values or {},
            "conflict": conflict,
        },
        status_code=status_code,
    )


@router.get("/staff/requests/{event_id}", response_class=HTMLResponse)
async def request_page(
    request: Request, event_id: str, staff: CurrentStaff, db: SessionDep
) -> Response:
    item = _own_request(db, staff, event_id)
    return _page(request, staff, staff_organization(staff, db), item)


def _checked(
    fields: dict[str, str], name: str, *, required: str | None, limit: int
) -> tuple[str | None, str | None]:
    """(value, error) of one field: trimmed, empty as None, too long or missing an error."""
    value = fields.get(name, "").strip()
    if len(value) > limit:
        return None, _("Keep it under %(n)s characters.", n=limit)
    if not value:
        return None, required
    return value, None


@router.post("/staff/requests/{event_id}", response_class=HTMLResponse)
async def answer(
    request: Request,
    event_id: str,
    staff: CurrentStaff,
    db: SessionDep,
    answer: str = Form(""),
    value: str = Form(""),
    note: str = Form(""),
    reason: str = Form(""),
) -> Response:
    organization = staff_organization(staff, db)
    item = _own_request(db, staff, event_id)
    if answer not in ANSWERS or (answer in ("accept", "deny")) != item.is_correction:
        return _page(request, staff, organization, item, status_code=422)
    fields = {"value": value, "note": note, "reason": reason}
    # Lock what is answered, so two tabs (or the API at the same moment) record one answer.
    if item.is_correction:
        assert item.correction is not None
        db.expire(item.correction)  # read again once locked: the other answer may be in
        correction = organization_correction(
            db, organization=organization, correction_id=item.correction.id, lock=True
        )
        assert correction is not None
        item.correction = correction
    else:
        locked = db.get(Event, item.event.id, with_for_update=True, populate_existing=True)
        assert locked is not None
        item.event = locked
    if item.answered:
        return _already_answered(request, staff, organization, item)

    errors: dict[str, str] = {}
    checked: dict[str, Any] = {}
    if answer == "accept":
        checked["value"], error = _checked(
            fields, "value", required=None, limit=MAX_REQUESTED_VALUE
        )
        if error:
            errors["accept_value"] = error
        checked["note"], error = _checked(fields, "note", required=None, limit=MAX_NOTE)
        if error:
            errors["accept_note"] = error
    else:
        name = "note" if answer == "done" else "reason"
        needed = None if answer == "done" else _("Give the reason: the participant is shown it.")
        checked[name], error = _checked(fields, name, required=needed, limit=MAX_NOTE)
        if error:
            errors[f"{answer}_{name}"] = error
    if errors:
        return _page(
            request,
            staff,
            organization,
            item,
            errors=errors,
            values={f"{answer}_{k}": v for k, v in fields.items()},
            status_code=422,
        )

    by = answered_by(staff)
    try:
        if item.correction is not None and answer in ("accept", "deny"):
            resolve_correction(
                db,
                correction=item.correction,
                organization=organization,
                outcome="accepted" if answer == "accept" else "denied",
                # An empty New value keeps the participant's request, as the API's default.
                value=checked.get("value") if answer == "accept" else None,
                reason=checked.get("note") if answer == "accept" else checked.get("reason"),
                base_url=request.app.state.settings.base_url,
                by=by,
            )
        else:
            acknowledge_event(
                db,
                event=item.event,
                outcome="done" if answer == "done" else "declined",
                note=checked.get("note") if answer == "done" else checked.get("reason"),
                by=by,
            )
    except (CorrectionConflict, AlreadyAcknowledged) as exc:
        db.rollback()
        item = _own_request(db, staff, event_id)
        return _already_answered(request, staff, organization, item, str(exc))
    # A recipient's staff answer about another organization's enrollment: that record's
    # access list names its own organization's staff only.
    if item.event.role == "holder":
        enrollment = db.get(Enrollment, item.event.enrollment_id)
        if enrollment is not None:
            log_access(db, staff=staff, enrollment=enrollment, action="answered_request")
    db.commit()
    return RedirectResponse(f"/staff/requests?answered={item.event.id}", status_code=303)


def _already_answered(
    request: Request,
    staff: Staff,
    organization: Organization,
    item: RequestToAnswer,
    detail: str | None = None,
) -> Response:
    """A second tab, or the API first: the first answer stands, and the page shows it."""
    if item.answered:
        message = _("This request was already answered. The first answer stands; it is below.")
    else:  # e.g. the holding was deleted before the correction could be accepted
        message = _("This request can not be answered this way any more.")
        if detail:
            message = f"{message} ({detail})"
    return _page(request, staff, organization, item, conflict=message, status_code=409)
