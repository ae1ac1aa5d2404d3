"""The participant's account pages: change the PIN or the username, download my data (JSON
and a printable page), and close my account."""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.exc import IntegrityError

from app.account.closure import close_account
from app.account.export import build_export, json_default
from app.context.views import KIND_WORDS
from app.db import SessionDep, utcnow
from app.events.catalogue import EVENT_WORDS
from app.i18n import format_datetime
from app.i18n import gettext as _
from app.i18n import lazy_gettext as _l
from app.participants import recovery
from app.participants.deps import CurrentParticipant, OpenParticipant
from app.participants.models import Participant
from app.participants.service import (
    LockedOut,
    UsernameTaken,
    authenticate,
    change_pin,
    change_username,
    claim_failed,
    claim_locked,
    enrollments_of,
    username_format,
    validate_new_pin,
)
from app.participants.views import MAX_PIN, MAX_USERNAME, recovery_code_page
from app.reports.service import runs_for_participant
from app.security.passwords import off_loop
from app.security.sessions import start_session
from app.web.cookies import queue_cookie
from app.web.deps import SESSION_COOKIE, WebContextDep, web_context
from app.web.forms import FormError, FormErrors
from app.web.templating import render

router = APIRouter(dependencies=[Depends(web_context)])

CORRECTION_WORDS = {
    "requested": _l("Waiting for an answer"),
    "accepted": _l("Accepted"),
    "denied": _l("Not accepted"),
}


@router.get("/account", response_class=HTMLResponse)
async def account_page(request: Request, participant: CurrentParticipant) -> Response:
    changed = request.query_params.get("changed")
    return render(
        request,
        "account/index.html",
        {"changed": changed if changed in ("pin", "username") else None},
    )


async def _confirm_pin(
    db: SessionDep,
    participant: Participant,
    pin: str,
    errors: FormErrors,
    *,
    field: str,
    empty: str,
) -> bool:
    """The participant's PIN, checked as logging in checks it: a wrong one counts towards the
    same lockout, and while the username is locked even the right one is refused. Adds the
    error to `errors` (under `field`) and returns False when it is not confirmed."""
    if not pin:
        errors.add(field, empty)
        return False
    try:
        confirmed = await off_loop(
            authenticate, db, username=participant.username, pin=pin[:MAX_PIN]
        )
    except LockedOut as locked:
        errors.add(
            field,
            _(
                "Too many wrong PINs. For your safety, this is paused until %(time)s.",
                time=format_datetime(locked.until, "short"),
            ),
        )
        return False
    if confirmed is None:
        errors.add(field, _("That PIN is not right. Check it and try again."))
        return False
    return True


def _client(request: Request) -> str:
    return request.client.host if request.client else ""


# --- change my PIN ---------------------------------------------------------------------------


@router.get("/account/pin", response_class=HTMLResponse)
async def pin_page(request: Request, participant: CurrentParticipant) -> Response:
    return render(request, "account/pin.html", {"errors": FormErrors()})


@router.post("/account/pin", response_class=HTMLResponse)
async def pin_send(
    request: Request,
    participant: CurrentParticipant,
    ctx: WebContextDep,
    db: SessionDep,
    current_pin: str = Form(""),
    pin: str = Form(""),
    confirm_pin: str = Form(""),
) -> Response:
    """A new PIN, confirmed with the current one (with the lockout of logging in). Every
    other browser signed in to the account is logged out; this one gets a fresh session."""
    current_pin, pin, confirm_pin = current_pin[:MAX_PIN], pin[:MAX_PIN], confirm_pin[:MAX_PIN]
    errors = FormErrors()
    confirmed = await _confirm_pin(
        db, participant, current_pin, errors, field="current_pin", empty=_("Enter your PIN now.")
    )
    try:
        validate_new_pin(pin, confirm_pin)
    except FormError as exc:
        errors.add(exc.field, exc.message)
    else:
        if confirmed and pin == current_pin:
            errors.add("pin", _("That is your PIN now. Choose a new one."))
    if errors:
        db.commit()  # a wrong current PIN counts towards the lockout
        return render(request, "account/pin.html", {"errors": errors}, status_code=400)
    db.commit()  # the lockout's count cleared, before the slow hash
    await off_loop(change_pin, db, participant=participant, pin=pin)
    token = start_session(db, kind="participant", participant_id=participant.id)
    db.commit()
    queue_cookie(
        request.scope.setdefault("state", {}),
        SESSION_COOKIE,
        token,
        secure=ctx.settings.production,
    )
    return RedirectResponse("/account?changed=pin", status_code=303)


# --- change my username ----------------------------------------------------------------------


@router.get("/account/username", response_class=HTMLResponse)
async def username_page(request: Request, participant: OpenParticipant) -> Response:
    return render(request, "account/username.html", {"errors": FormErrors(), "username": ""})


@router.post("/account/username", response_class=HTMLResponse)
async def username_send(
    request: Request,
    participant: OpenParticipant,
    db: SessionDep,
    username: str = Form(""),
    current_pin: str = Form(""),
) -> Response:
    """A new username, with the rules of claiming, confirmed with the PIN. Only while no
    records are sealed (OpenParticipant): after a PIN reset, a code's holder must not rename
    the account, or its owner could not reset the PIN again with the username they know.

    Whether a username is taken is said only after the right PIN, and a taken one counts
    against this client as on the claim page, so usernames can't be probed at speed."""
    username = username[:MAX_USERNAME]
    errors = FormErrors()
    status = 400
    until = claim_locked(db, client=_client(request))
    if until:
        errors.add(
            "username",
            _(
                "Too many tries. For your safety, this is paused until %(time)s.",
                time=format_datetime(until, "short"),
            ),
        )
        status = 429
    else:
        try:
            username_format(username)
        except FormError as exc:
            errors.add(exc.field, exc.message)
        confirmed = await _confirm_pin(
            db,
            participant,
            current_pin,
            errors,
            field="current_pin",
            empty=_("Enter your PIN to confirm."),
        )
        if confirmed and not errors:
            db.commit()  # the lockout's count cleared, whatever the username turns out to be
            try:
                change_username(db, participant=participant, username=username)
                db.commit()
            except FormError as exc:
                db.rollback()
                errors.add(exc.field, exc.message)
                if isinstance(exc, UsernameTaken) and claim_failed(db, client=_client(request)):
                    status = 429
            except IntegrityError:
                # The same username chosen at the same moment in another request.
                db.rollback()
                errors.add("username", UsernameTaken().message)
    if errors:
        db.commit()  # a wrong PIN counts towards the lockout
        context = {"errors": errors, "username": username.strip().lower()}
        return render(request, "account/username.html", context, status_code=status)
    return RedirectResponse("/account?changed=username", status_code=303)


@router.get("/download")
async def download(participant: CurrentParticipant, db: SessionDep) -> Response:
    """Everything the portal holds about the participant, as one JSON file."""
    document = build_export(db, participant=participant)
    body = json.dumps(document, default=json_default, ensure_ascii=False, indent=2)
    filename = f"consent-portal-{utcnow():%Y-%m-%d}.json"
    return Response(
        body,
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            # A shared phone should not keep a copy in its cache.
            "Cache-Control": "no-store",
        },
    )


@router.get("/download/print", response_class=HTMLResponse)
async def download_print(
    request: Request, participant: CurrentParticipant, db: SessionDep
) -> Response:
    """The same document as a page to read or print, in the participant's language."""
    response = render(
        request,
        "account/print.html",
        {
            "export": build_export(db, participant=participant),
            # The report runs that counted them, as Reports and stories lists them.
            "counted": [
                seen
                for seen in runs_for_participant(db, participant_id=participant.id)
                if seen.counted
            ],
            "event_words": EVENT_WORDS,
            "correction_words": CORRECTION_WORDS,
            "kind_words": KIND_WORDS,
        },
    )
    response.headers["Cache-Control"] = "no-store"
    return response


# --- close my account ------------------------------------------------------------------------


def _close_page(
    request: Request, db: SessionDep, participant: Participant, errors: FormErrors, status: int
) -> Response:
    """The organizations keep their own records: the page names each, and how to reach it, for
    a participant who wants those deleted too (OpenParticipant: none of them is sealed)."""
    organizations = [o for _e, o in enrollments_of(db, participant.id)]
    context = {"errors": errors, "organizations": organizations}
    return render(request, "account/close.html", context, status_code=status)


@router.get("/account/close", response_class=HTMLResponse)
async def close_page(request: Request, participant: OpenParticipant, db: SessionDep) -> Response:
    return _close_page(request, db, participant, FormErrors(), 200)


@router.post("/account/close", response_class=HTMLResponse)
async def close_send(
    request: Request,
    participant: OpenParticipant,
    ctx: WebContextDep,
    db: SessionDep,
    pin: str = Form(""),
) -> Response:
    """Closing can't be undone, and a phone may be shared: the PIN confirms it is the
    participant (with the same lockout as logging in)."""
    errors = FormErrors()
    await _confirm_pin(
        db, participant, pin, errors, field="pin", empty=_("Enter your PIN to confirm.")
    )
    if errors:
        db.commit()  # the failed try counts towards the lockout
        return _close_page(request, db, participant, errors, 400)
    close_account(db, participant=participant, base_url=ctx.settings.base_url)
    db.commit()
    queue_cookie(
        request.scope.setdefault("state", {}),
        SESSION_COOKIE,
        "",
        secure=ctx.settings.production,
        max_age=0,
    )
    return RedirectResponse("/account/closed", status_code=303)


@router.get("/account/closed", response_class=HTMLResponse)
async def closed_page(request: Request) -> Response:
    return render(request, "account/closed.html", {})


# --- recovery code: reopen sealed records after a PIN reset ----------------------------------


@router.get("/account/recovery", response_class=HTMLResponse)
async def recovery_page(
    request: Request, participant: CurrentParticipant, db: SessionDep
) -> Response:
    return render(
        request,
        "account/recovery.html",
        {
            "errors": FormErrors(),
            "sealed": recovery.reset_notice_due(db, participant.id) is not None
            or recovery.is_sealed(db, participant.id),
            "has_code": participant.recovery_code_hash is not None,
        },
    )


@router.post("/account/recovery", response_class=HTMLResponse)
async def recovery_send(
    request: Request,
    participant: CurrentParticipant,
    db: SessionDep,
    recovery_code: str = Form(""),
) -> Response:
    """The recovery code opens every sealed organization; a new one replaces it."""
    errors = FormErrors()
    if not recovery_code.strip():
        errors.add("recovery_code", _("Enter your recovery code."))
    else:
        try:
            new_code = recovery.open_with_recovery_code(
                db, participant=participant, code=recovery_code[:64]
            )
        except recovery.RecoveryRefused as refused:
            db.rollback()
            message = refused.message
            if refused.until:
                message = _(
                    "Too many wrong recovery codes. For your safety, this is paused until "
                    "%(time)s.",
                    time=format_datetime(refused.until, "short"),
                )
            errors.add("recovery_code", message)
        else:
            db.commit()
            return recovery_code_page(request, new_code, first=False, username=participant.username)
    context = {"errors": errors, "sealed": True, "has_code": participant.recovery_code_hash}
    return render(request, "account/recovery.html", context, status_code=400)


@router.post("/account/recovery-code", response_class=HTMLResponse)
async def new_recovery_code(
    request: Request, participant: OpenParticipant, db: SessionDep
) -> Response:
    """A new recovery code (the old one stops working): only while nothing is sealed, or a
    code's holder could make one and open the rest of the account."""
    code = recovery.give_recovery_code(db, participant)
    recovery.log(db, participant.id, "recovery_code_made")
    db.commit()
    return recovery_code_page(request, code, first=False, username=participant.username)
