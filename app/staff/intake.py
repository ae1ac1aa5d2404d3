"""Assisted intake: a case manager walks a client through consent on a phone or tablet, in the
client's language, one question per page (GOV.UK question pages: a back link, Continue,
"Step N of M").

  1. the organization's reference for the person (optional: the portal can make one)
  2. the client's preferred language (or Prefer not to say)     → the enrollment is created
  3… one page per purpose that rests on consent: the notice, then Give consent, Don't give
     consent or Decide later (nothing is recorded; the client decides on their own phone)
  M. how the client gets into their account: a claim card with a QR code

From the consent steps on, the case manager can hand the device to the client
("participant mode"): staff controls and other clients' data are hidden, and only the staff
password takes the device back.

Two languages: the client's screens (the notices and the decision, the answers, the claim card)
are in the client's language (`client_` and the other `client_…` helpers in the templates,
marked with their own `lang`), while the case manager's menus, steps and buttons stay in the
case manager's own (`_`). A handed-over device shows the client's language throughout.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app import i18n
from app.consent.notice import build_notice
from app.consent.service import decide
from app.db import SessionDep
from app.i18n import format_datetime
from app.i18n import gettext as _
from app.organizations.models import Organization, Purpose, Staff
from app.participants.models import Enrollment
from app.participants.refs import MAX_REF, InvalidRef, Problem, validate_external_ref
from app.participants.service import DuplicateRef, find_enrollment
from app.security.passwords import off_loop
from app.staff.deps import CurrentStaff, InParticipantMode, handover_of, signed_in_staff
from app.staff.models import Handover
from app.staff.service import (
    INTAKE_ANSWERS,
    StaffLockedOut,
    WrongPassword,
    consent_purposes,
    consent_states,
    hand_over,
    own_enrollment,
    staff_organization,
    start_intake,
    take_back,
)
from app.web import labels
from app.web.deps import WebContextDep, not_found, web_context
from app.web.forms import FormErrors
from app.web.templating import localized, render

router = APIRouter(prefix="/staff", dependencies=[Depends(web_context)])

# Steps before the consent pages (reference, language) and after them (the claim card).
STEPS_BEFORE, STEPS_AFTER = 2, 1


@dataclass
class Intake:
    """One client's intake as seen by whoever holds the device."""

    staff: Staff
    organization: Organization
    enrollment: Enrollment
    purposes: list[Purpose]
    handover: Handover | None
    # The client's language (their preferred one, else the case manager's) and the page's:
    # the case manager's own, but the client's once the device is handed over.
    client_locale: str
    locale: str

    @property
    def participant_mode(self) -> bool:
        return self.handover is not None

    @property
    def total_steps(self) -> int:
        return STEPS_BEFORE + len(self.purposes) + STEPS_AFTER

    def url(self, step: int | str) -> str:
        return f"/staff/intake/{self.enrollment.id}/{step}"

    def consent_url(self, number: int) -> str:
        return self.url(f"consent/{number}")


def client_locale_of(enrollment: Enrollment, staff_locale: str) -> str:
    """The language the client chose at intake; with none (Prefer not to say), the case
    manager's, as before."""
    chosen = enrollment.preferred_language
    return chosen if chosen in i18n.SUPPORTED_LOCALES else staff_locale


def client_language(enrollment: Enrollment, staff_locale: str) -> dict[str, object]:
    """What a template needs to show the client's part of a staff page in the client's
    language: `client_` (and `client_ngettext`, labels, dates) beside the staff's own `_`."""
    client = i18n.Translator(client_locale_of(enrollment, staff_locale))
    return {
        "client_locale": client.locale,
        "client_": client.gettext,
        "client_ngettext": client.ngettext,
        "client_state_words": client.wrap(labels.state_words),
        "client_language_name": client.wrap(i18n.language_name),
        "client_localized": client.wrap(localized),
        "client_format_date": client.wrap(i18n.format_date),
    }


async def require_intake(
    request: Request, enrollment_id: str, ctx: WebContextDep, db: SessionDep
) -> Intake:
    """The staff member's own organization's enrollment (else 404). On a handed-over device
    only the handed-over client's intake is reachable."""
    staff = signed_in_staff(request, ctx, db)
    handover = handover_of(ctx, db)
    if handover is not None and handover.enrollment_id != enrollment_id:
        raise InParticipantMode(handover)
    enrollment = own_enrollment(db, staff=staff, enrollment_id=enrollment_id[:40])
    if enrollment is None:
        raise not_found()
    client_locale = client_locale_of(enrollment, ctx.locale)
    locale = ctx.locale
    if handover is not None:
        # The client holds the device: every word on it is theirs (no staff menus are shown).
        locale = client_locale
        i18n.set_locale(locale)
        request.state.locale = locale
    return Intake(
        staff=staff,
        organization=staff_organization(staff, db),
        enrollment=enrollment,
        purposes=consent_purposes(db, organization_id=enrollment.organization_id),
        handover=handover,
        client_locale=client_locale,
        locale=locale,
    )


CurrentIntake = Annotated[Intake, Depends(require_intake)]


def _page(intake: Intake, **extra: object) -> dict[str, object]:
    return {
        "staff": intake.staff,
        "organization": intake.organization,
        "intake": intake,
        "participant_mode": intake.participant_mode,
        "locale": intake.locale,
        **client_language(intake.enrollment, intake.locale),
        **extra,
    }


# --- step 1: the reference -------------------------------------------------------------------


def _total_steps(staff: Staff, db: SessionDep) -> int:
    return (
        STEPS_BEFORE
        + len(consent_purposes(db, organization_id=staff.organization_id))
        + STEPS_AFTER
    )


@router.get("/intake", response_class=HTMLResponse)
async def reference_page(request: Request, staff: CurrentStaff, db: SessionDep) -> Response:
    return render(
        request,
        "staff/intake_reference.html",
        {
            "staff": staff,
            "organization": staff_organization(staff, db),
            "errors": FormErrors(),
            "external_ref": request.query_params.get("ref", "")[:MAX_REF],
            "total_steps": _total_steps(staff, db),
        },
    )


def _invalid_ref_message(problem: Problem) -> str:
    if problem == "too_long":
        return _("Use %(num)d characters or fewer.", num=MAX_REF)
    if problem == "path":
        return _("The reference can't have a slash (/) in it, or be only dots.")
    return _("The reference can't have hidden characters in it, such as tabs or line breaks.")


def _reference_error(external_ref: str, staff: Staff, db: SessionDep) -> FormErrors:
    """What is wrong with the reference the case manager typed (empty is fine: the portal
    makes one). The rule is the API's own (app/participants/refs.py)."""
    errors = FormErrors()
    if external_ref:
        try:
            validate_external_ref(external_ref)
        except InvalidRef as exc:
            errors.add("external_ref", _invalid_ref_message(exc.problem))
            return errors
    if external_ref and find_enrollment(
        db, organization_id=staff.organization_id, external_ref=external_ref
    ):
        errors.add(
            "external_ref",
            _("Someone is already enrolled with this reference. Use another, or leave it empty."),
        )
    return errors


def _reference_again(
    request: Request, staff: Staff, db: SessionDep, external_ref: str, errors: FormErrors
) -> Response:
    return render(
        request,
        "staff/intake_reference.html",
        {
            "staff": staff,
            "organization": staff_organization(staff, db),
            "errors": errors,
            "external_ref": external_ref[:MAX_REF],
            "total_steps": _total_steps(staff, db),
        },
        status_code=400,
    )


@router.post("/intake", response_class=HTMLResponse)
async def reference_submit(
    request: Request, staff: CurrentStaff, db: SessionDep, external_ref: str = Form("")
) -> Response:
    external_ref = external_ref.strip()
    errors = _reference_error(external_ref, staff, db)
    if errors:
        return _reference_again(request, staff, db, external_ref, errors)
    return RedirectResponse(f"/staff/intake/language?ref={quote(external_ref)}", status_code=303)


# --- step 2: the language, then the enrollment -------------------------------------------------


@router.get("/intake/language", response_class=HTMLResponse)
async def language_page(request: Request, staff: CurrentStaff, db: SessionDep) -> Response:
    return render(
        request,
        "staff/intake_language.html",
        {
            "staff": staff,
            "organization": staff_organization(staff, db),
            "external_ref": request.query_params.get("ref", "")[:MAX_REF],
            "total_steps": _total_steps(staff, db),
        },
    )


@router.post("/intake/language")
async def language_submit(
    request: Request,
    staff: CurrentStaff,
    db: SessionDep,
    external_ref: str = Form(""),
    language: str = Form(""),
) -> Response:
    external_ref = external_ref.strip()
    errors = _reference_error(external_ref, staff, db)
    if errors:
        return _reference_again(request, staff, db, external_ref, errors)
    # "none" is Prefer not to say: nothing is stored, and the client's screens are in the case
    # manager's language.
    chosen = language if language in i18n.SUPPORTED_LOCALES else None
    try:
        enrollment = start_intake(
            db, staff=staff, external_ref=external_ref, preferred_language=chosen
        )
        db.commit()
    except DuplicateRef:  # enrolled by someone else between the two steps
        db.rollback()
        return _reference_again(
            request, staff, db, external_ref, _reference_error(external_ref, staff, db)
        )
    # The pages stay in the case manager's language: only the client's screens follow the
    # client's (the enrollment's preferred language), so the menus never switch.
    return RedirectResponse(f"/staff/intake/{enrollment.id}/start", status_code=303)


@router.get("/intake/{enrollment_id}/start")
async def first_question(intake: CurrentIntake) -> Response:
    target = intake.consent_url(1) if intake.purposes else intake.url("finish")
    return RedirectResponse(target, status_code=303)


# --- steps 3…: one purpose per page ----------------------------------------------------------


def _purpose_at(intake: Intake, number: int) -> Purpose:
    if not 1 <= number <= len(intake.purposes):
        raise not_found()
    return intake.purposes[number - 1]


@router.get("/intake/{enrollment_id}/consent/{number}", response_class=HTMLResponse)
async def consent_step(
    request: Request, number: int, intake: CurrentIntake, db: SessionDep
) -> Response:
    purpose = _purpose_at(intake, number)
    states = {s.purpose.id: s for s in consent_states(db, enrollment=intake.enrollment)}
    return render(
        request,
        "staff/intake_consent.html",
        _page(
            intake,
            number=number,
            step=STEPS_BEFORE + number,
            purpose=purpose,
            notice=build_notice(purpose, intake.organization, intake.client_locale),
            current=states[purpose.id],
            back_url=intake.consent_url(number - 1) if number > 1 else None,
        ),
    )


@router.post("/intake/{enrollment_id}/consent/{number}")
async def consent_answer(
    request: Request,
    number: int,
    intake: CurrentIntake,
    ctx: WebContextDep,
    db: SessionDep,
    decision: str = Form(""),
) -> Response:
    purpose = _purpose_at(intake, number)
    if decision not in INTAKE_ANSWERS:
        # Only a hand-made request gets here: the page offers the three buttons.
        return RedirectResponse(intake.consent_url(number), status_code=303)
    if decision != "later":
        # Going back and answering again changes the answer (a given consent is withdrawn);
        # the same answer again changes nothing.
        decide(
            db,
            enrollment=intake.enrollment,
            organization=intake.organization,
            purpose=purpose,
            state=decision,
            method="assisted",
            notice=build_notice(purpose, intake.organization, intake.client_locale),
            recorded_by=intake.staff.name,
            assisted_by_staff_id=intake.staff.id,
            base_url=ctx.settings.base_url,
        )
        db.commit()
    more = number < len(intake.purposes)
    return RedirectResponse(
        intake.consent_url(number + 1) if more else intake.url("finish"), status_code=303
    )


# --- the last step ---------------------------------------------------------------------------


@router.get("/intake/{enrollment_id}/finish", response_class=HTMLResponse)
async def finish(request: Request, intake: CurrentIntake, db: SessionDep) -> Response:
    return render(
        request,
        "staff/intake_finish.html",
        _page(
            intake,
            step=intake.total_steps,
            states=consent_states(db, enrollment=intake.enrollment),
            back_url=intake.consent_url(len(intake.purposes)) if intake.purposes else None,
            errors=FormErrors(),
        ),
    )


# --- handing the device over and taking it back ----------------------------------------------


@router.post("/intake/{enrollment_id}/handover")
async def start_participant_mode(
    request: Request,
    intake: CurrentIntake,
    ctx: WebContextDep,
    db: SessionDep,
    step: int = Form(1),
) -> Response:
    if ctx.web_session is None:  # signed_in_staff saw a session; this is for the type checker
        raise not_found()
    hand_over(db, web_session=ctx.web_session, staff=intake.staff, enrollment=intake.enrollment)
    db.commit()
    target = intake.consent_url(step) if 1 <= step <= len(intake.purposes) else intake.url("finish")
    return RedirectResponse(target, status_code=303)


@router.get("/handover", response_class=HTMLResponse)
async def handover_page(request: Request, ctx: WebContextDep, db: SessionDep) -> Response:
    """Where a handed-over device lands when it asks for a staff page."""
    signed_in_staff(request, ctx, db)  # anyone else logs in first
    handover = handover_of(ctx, db)
    if handover is None:
        return RedirectResponse("/staff", status_code=303)
    return RedirectResponse(f"/staff/intake/{handover.enrollment_id}/finish", status_code=303)


@router.post("/intake/{enrollment_id}/take-back", response_class=HTMLResponse)
async def end_participant_mode(
    request: Request, intake: CurrentIntake, db: SessionDep, password: str = Form("")
) -> Response:
    if intake.handover is None:
        return RedirectResponse(intake.url("finish"), status_code=303)
    errors = FormErrors()
    try:
        await off_loop(
            take_back, db, handover=intake.handover, staff=intake.staff, password=password[:200]
        )
        db.commit()
        return RedirectResponse(intake.url("finish") + "?back=1", status_code=303)
    except StaffLockedOut as locked:
        errors.add(
            "password",
            _(
                "Too many wrong passwords. Taking the device back is paused until %(time)s.",
                time=format_datetime(locked.until, "short"),
            ),
        )
    except WrongPassword:
        errors.add("password", _("That is not the password of %(name)s.", name=intake.staff.name))
    return render(
        request,
        "staff/intake_finish.html",
        _page(
            intake,
            step=intake.total_steps,
            states=consent_states(db, enrollment=intake.enrollment),
            back_url=intake.consent_url(len(intake.purposes)) if intake.purposes else None,
            errors=errors,
        ),
        status_code=400,
    )
