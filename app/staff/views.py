"""Staff pages: log in and out, the staff home (the organization's participants), a
participant's record (each view logged), claim cards; and the participant's own page of who
looked at their record.

Every page but the login form needs a staff session (`CurrentStaff`); a participant's or a
network admin's session never counts.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import select

from app import i18n
from app.consent.service import history as consent_history
from app.context.service import notes_shared_with
from app.corrections.models import Statement
from app.db import SessionDep, utcnow
from app.i18n import gettext as _
from app.i18n import lazy_gettext as _l
from app.organizations.models import Staff
from app.participants import recovery
from app.participants.deps import CurrentParticipant
from app.participants.models import Enrollment
from app.participants.service import CLAIM_CODE_VALID, claim_url, enrollments_of
from app.staff.deps import CurrentStaff, staff_organization
from app.staff.digest_views import router as digest_router
from app.staff.intake import client_language
from app.staff.intake import router as intake_router
from app.staff.qr import qr_svg
from app.staff.records_views import router as records_router
from app.staff.requests_views import router as requests_router
from app.staff.service import (
    MAX_REF,
    StaffLockedOut,
    access_log_of,
    authenticate_staff,
    consent_states,
    find_record,
    holdings_of,
    issue_claim_code_by_staff,
    log_access,
    participants_of,
)
from app.web.deps import WebContextDep, not_found, web_context
from app.web.login import email_password_login, email_password_login_page, sign_out
from app.web.templating import render

# No prefix: the participant's own "Who looked at your record" page (/access) lives here too.
router = APIRouter(dependencies=[Depends(web_context)])
router.include_router(intake_router)
router.include_router(requests_router)
router.include_router(records_router)
router.include_router(digest_router)


# --- log in and out --------------------------------------------------------------------------


@router.get("/staff/login", response_class=HTMLResponse)
async def login_page(request: Request, ctx: WebContextDep) -> Response:
    return email_password_login_page(
        request, ctx, kind="staff", template="staff/login.html", home="/staff"
    )


@router.post("/staff/login", response_class=HTMLResponse)
async def login_submit(
    request: Request,
    ctx: WebContextDep,
    db: SessionDep,
    email: str = Form(""),
    password: str = Form(""),
    next: str = Form("/staff"),
) -> Response:
    return await email_password_login(
        request,
        ctx,
        db,
        email=email,
        password=password,
        next=next,
        authenticate=authenticate_staff,
        locked_out=StaffLockedOut,
        kind="staff",
        account_id_field="staff_id",
        template="staff/login.html",
        home="/staff",
    )


@router.post("/staff/logout")
async def logout(
    request: Request, staff: CurrentStaff, ctx: WebContextDep, db: SessionDep
) -> Response:
    # CurrentStaff: a device in participant mode cannot log the staff member out (and leave
    # the client on a login page); the staff member takes the device back first.
    sign_out(request, ctx, db)
    return RedirectResponse("/staff/login?logged_out=1", status_code=303)


# --- the staff home --------------------------------------------------------------------------


@router.get("/staff", response_class=HTMLResponse)
async def home(request: Request, staff: CurrentStaff, db: SessionDep, q: str = "") -> Response:
    organization = staff_organization(staff, db)
    assert organization.id is not None
    search = q.strip()[:200]
    return render(
        request,
        "staff/home.html",
        {
            "staff": staff,
            "organization": organization,
            "search": search,
            "enrollments": participants_of(db, organization_id=organization.id, search=search),
        },
    )


# --- a participant's record ------------------------------------------------------------------


# The participant's consent history in words for staff (the participant's own pages say "You
# gave consent"; here the staff member reads about the participant).
STAFF_STATE_WORDS = {
    "requested": _l("Not decided yet"),
    "given": _l("Gave consent"),
    "refused": _l("Said no"),
    "withdrawn": _l("Withdrew consent"),
    "expired": _l("Consent expired"),
}
STAFF_METHOD_WORDS = {
    "self": _l("on their own, in the portal"),
    "assisted": _l("with help from a case manager"),
    "paper": _l("on a paper form"),
    "verbal": _l("out loud, recorded by staff"),
}
# The participant's own context (app/context), headed for staff.
STAFF_CONTEXT_WORDS = {
    "strength": _l("A strength"),
    "goal": _l("A goal"),
    "know": _l("What they want case managers to know"),
}


def staff_state_words(state: str) -> str:
    return str(STAFF_STATE_WORDS.get(state, state))


def staff_method_words(method: str) -> str:
    return str(STAFF_METHOD_WORDS.get(method, method))


def staff_context_words(kind: str) -> str:
    return str(STAFF_CONTEXT_WORDS.get(kind, kind))


def _record_or_404(db: SessionDep, staff: Staff, external_ref: str) -> Enrollment:
    if "\x00" in external_ref:  # no reference has one, and PostgreSQL can't compare it
        raise not_found()
    enrollment = find_record(db, staff=staff, external_ref=external_ref[:MAX_REF])
    if enrollment is None:
        raise not_found()
    return enrollment


@router.get("/staff/participants/{external_ref}", response_class=HTMLResponse)
async def record(
    request: Request, external_ref: str, staff: CurrentStaff, db: SessionDep
) -> Response:
    enrollment = _record_or_404(db, staff, external_ref)
    # Every look at a record is logged, and the participant sees it on /access.
    log_access(db, staff=staff, enrollment=enrollment)
    db.commit()
    consents = consent_states(db, enrollment=enrollment)
    # The participant's own words for this organization only: what they shared with this
    # enrollment (a withdrawn note is gone, an unshared one no longer names it), and their
    # statements of disagreement on this enrollment's holdings.
    statements: dict[str, list[Statement]] = {}
    for statement in db.exec(
        select(Statement)
        .where(Statement.enrollment_id == enrollment.id)
        .order_by(Statement.created_at)  # type: ignore[arg-type]
    ):
        statements.setdefault(statement.holding_id, []).append(statement)
    return render(
        request,
        "staff/record.html",
        {
            "staff": staff,
            "organization": staff_organization(staff, db),
            "enrollment": enrollment,
            "consents": consents,
            "consent_history": {
                item.purpose.id: consent_history(
                    db, enrollment_id=enrollment.id, purpose_id=item.purpose.id
                )
                for item in consents
                if item.purpose.id is not None
            },
            "holdings": holdings_of(db, enrollment=enrollment),
            "statements": statements,
            "shared_notes": notes_shared_with(db, enrollment=enrollment),
            "staff_state_words": staff_state_words,
            "staff_method_words": staff_method_words,
            "staff_context_words": staff_context_words,
        },
    )


@router.get("/staff/participants/{external_ref}/claim-card", response_class=HTMLResponse)
async def claim_card_page(
    request: Request, external_ref: str, staff: CurrentStaff, db: SessionDep
) -> Response:
    """Asks first: making a card issues a new code, and the previous code stops working."""
    enrollment = _record_or_404(db, staff, external_ref)
    return render(
        request,
        "staff/claim_card_confirm.html",
        {"staff": staff, "organization": staff_organization(staff, db), "enrollment": enrollment},
    )


@router.post("/staff/participants/{external_ref}/claim-card", response_class=HTMLResponse)
async def claim_card(
    request: Request, external_ref: str, staff: CurrentStaff, ctx: WebContextDep, db: SessionDep
) -> Response:
    """A fresh claim code, shown once as a printable card with its QR code. Nothing is kept in
    plain text: printing another card makes another code."""
    enrollment = _record_or_404(db, staff, external_ref)
    code = issue_claim_code_by_staff(db, staff=staff, enrollment=enrollment)
    db.commit()
    url = claim_url(ctx.settings.base_url, code)
    # The card prints in the client's language; the page around it stays the staff's.
    client = client_language(enrollment, ctx.locale)
    in_client_language = i18n.Translator(str(client["client_locale"])).wrap
    qr_title = in_client_language(lambda: _("QR code of the claim link"))()
    return render(
        request,
        "staff/claim_card.html",
        {
            "staff": staff,
            "organization": staff_organization(staff, db),
            "enrollment": enrollment,
            "code": code,
            "claim_url": url,
            "typed_url": f"{ctx.settings.base_url}/claim",
            "qr": qr_svg(url, title=qr_title),
            "expires_at": utcnow() + CLAIM_CODE_VALID,
            **client,
        },
    )


# --- the participant's side: who looked at their record --------------------------------------


@router.get("/access", response_class=HTMLResponse)
async def access_log(request: Request, participant: CurrentParticipant, db: SessionDep) -> Response:
    entries = access_log_of(db, participant_id=participant.id)
    open_organizations = [o for _e, o in enrollments_of(db, participant.id)]
    # After a PIN reset the one signed in may be a code's holder: an earlier reset or opening
    # with a now closed organization's code would name it. Those wait, as its records do,
    # until the account is opened again.
    open_ids = {o.id for o in open_organizations}
    recoveries = [
        (r, name)
        for r, name in recovery.history(db, participant.id)
        if r.organization_id is None or r.organization_id in open_ids
    ]
    # Whom to ask about a visit or a PIN reset, and how: each organization named on the page,
    # once.
    named = {e.organization.id for e in entries} | {
        r.organization_id for r, _name in recoveries if r.kind == "pin_reset"
    }
    organizations = [o for o in open_organizations if o.id in named]
    return render(
        request,
        "staff/access.html",
        {"entries": entries, "recoveries": recoveries, "organizations": organizations},
    )
