"""The participant's pages: claim, log in and out, quick exit, the recovery code shown once.

The home page, and showing a sensitive value on it, are app/home/views.py."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from sqlalchemy.exc import IntegrityError

from app.db import SessionDep, utcnow
from app.i18n import gettext as _
from app.i18n import ngettext
from app.participants import recovery
from app.participants.service import (
    Claim,
    CodeAlreadyUsed,
    LockedOut,
    authenticate,
    claim_failed,
    claim_locked,
    create_account_by_claim,
    find_claim,
    link_enrollment,
    own_spent_code,
    reset_pin_by_claim,
    validate_new_pin,
    validate_username,
)
from app.security.devices import DEVICE_COOKIE, DEVICE_DAYS, device_token
from app.security.passwords import off_loop
from app.security.sessions import end_session, start_session
from app.web.cookies import queue_cookie
from app.web.deps import LANG_COOKIE, SESSION_COOKIE, WebContextDep, web_context
from app.web.forms import FormError, FormErrors, safe_next
from app.web.templating import is_htmx, render, time_tag

router = APIRouter(dependencies=[Depends(web_context)])

# Longest input we read from each field: more is never legitimate, and the slow hash should
# not be handed megabytes.
MAX_CODE, MAX_USERNAME, MAX_PIN = 40, 100, 40


def _cookies(request: Request) -> dict:
    return request.scope.setdefault("state", {})


def _sign_in(request: Request, db: SessionDep, ctx: WebContextDep, participant_id: str) -> None:
    if ctx.session_token:
        end_session(db, ctx.session_token)  # a fresh token at login: no session fixation
    token = start_session(db, kind="participant", participant_id=participant_id)
    queue_cookie(_cookies(request), SESSION_COOKIE, token, secure=ctx.settings.production)


def _sign_out(request: Request, db: SessionDep, ctx: WebContextDep) -> None:
    if ctx.session_token:
        end_session(db, ctx.session_token)
        db.commit()
    queue_cookie(_cookies(request), SESSION_COOKIE, "", secure=ctx.settings.production, max_age=0)


def _redirect(request: Request, url: str) -> Response:
    """A redirect after a form; for HTMX, a full-page navigation instead of a swap."""
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


def _collect(errors: FormErrors, *checks: Callable[[], object]) -> None:
    """Run every check, so the error summary lists every problem at once (GOV.UK)."""
    for check in checks:
        try:
            check()
        except FormError as exc:
            errors.add(exc.field, exc.message)


# --- claim ----------------------------------------------------------------------------------


def _client(request: Request) -> str:
    return request.client.host if request.client else ""


def _too_many_tries(request: Request, until: datetime) -> Response:
    """Claim pages refused to this client (or code) for a while: probing codes or usernames."""
    return render(
        request,
        "participants/claim_paused.html",
        {"until": until, "time": time_tag(until)},
        status_code=429,
    )


@router.get("/claim", response_class=HTMLResponse)
async def claim_start(request: Request) -> Response:
    return render(request, "participants/claim_code.html", {"errors": FormErrors(), "code": ""})


@router.post("/claim", response_class=HTMLResponse)
async def claim_code_entered(request: Request, db: SessionDep, code: str = Form("")) -> Response:
    code = code.strip()[:MAX_CODE]
    errors = FormErrors()
    if until := claim_locked(db, client=_client(request)):
        return _too_many_tries(request, until)
    if not code:
        errors.add("code", _("Enter the code the organization gave you."))
    elif find_claim(db, code) is None:
        if until := claim_failed(db, client=_client(request)):
            return _too_many_tries(request, until)
        errors.add(
            "code",
            _(
                "That code does not work. Check it, or ask the organization that gave it to you "
                "for a new one."
            ),
        )
    if errors:
        return render(
            request,
            "participants/claim_code.html",
            {"errors": errors, "code": code},
            status_code=400,
        )
    return RedirectResponse(f"/claim/{code}", status_code=303)


def _claim_mode(ctx: WebContextDep, claim: Claim | None, spent: bool = False) -> str:
    """What the claim page offers: create an account, add the organization to the signed-in
    account, open its sealed records (the owner, after a PIN reset with another code), choose
    a new PIN (the enrollment was claimed before), or nothing: a code that does not work names
    no organization ("invalid"), unless it was the signed-in participant's own ("spent")."""
    if claim is None:
        return "spent" if spent else "invalid"
    if claim.owner is not None:
        if ctx.participant is not None and ctx.participant.id == claim.owner.id:
            return "unseal" if claim.enrollment.sealed_at else "already_yours"
        return "reset_pin"
    return "add" if ctx.participant else "create"


def _claim_context(db: SessionDep, ctx: WebContextDep, claim: Claim | None, code: str) -> dict:
    spent = None
    if claim is None and ctx.participant is not None:
        spent = own_spent_code(db, code, participant_id=ctx.participant.id)
    return {
        "claim": claim,
        "code": code,
        "mode": _claim_mode(ctx, claim, spent is not None),
        "spent": spent,
        "errors": FormErrors(),
        "values": {},
    }


def _find_claim(request: Request, db: SessionDep, code: str) -> Claim | Response | None:
    """The claim, None for a code that doesn't work (counted), or the paused page."""
    client = _client(request)
    if until := claim_locked(db, client=client, code=code):
        return _too_many_tries(request, until)
    claim = find_claim(db, code)
    if claim is None and (until := claim_failed(db, client=client)):
        return _too_many_tries(request, until)
    return claim


@router.get("/claim/{code}", response_class=HTMLResponse)
async def claim_page(request: Request, code: str, ctx: WebContextDep, db: SessionDep) -> Response:
    claim = _find_claim(request, db, code[:MAX_CODE])
    if isinstance(claim, Response):
        return claim
    context = _claim_context(db, ctx, claim, code[:MAX_CODE])
    found = claim or context["spent"]
    return render(request, "participants/claim.html", context, status_code=200 if found else 404)


def set_device_cookie(request: Request, ctx: WebContextDep, participant_id: str) -> None:
    """This device signed in: the right PIN keeps working here while the username is locked."""
    queue_cookie(
        _cookies(request),
        DEVICE_COOKIE,
        device_token(ctx.settings.secret_key, participant_id),
        secure=ctx.settings.production,
        max_age=DEVICE_DAYS * 86400,
    )


@router.post("/claim/{code}", response_class=HTMLResponse)
async def claim_submit(
    request: Request,
    code: str,
    ctx: WebContextDep,
    db: SessionDep,
    username: str = Form(""),
    pin: str = Form(""),
    confirm_pin: str = Form(""),
) -> Response:
    claim = _find_claim(request, db, code[:MAX_CODE])
    if isinstance(claim, Response):
        return claim
    context = _claim_context(db, ctx, claim, code[:MAX_CODE])
    mode = context["mode"]
    if claim is None:
        return render(request, "participants/claim.html", context, status_code=404)
    if mode == "already_yours":
        return _redirect(request, f"/#org-{claim.organization.slug}")
    username, pin, confirm_pin = username[:MAX_USERNAME], pin[:MAX_PIN], confirm_pin[:MAX_PIN]
    errors: FormErrors = context["errors"]
    if mode == "create":
        _collect(
            errors,
            lambda: validate_username(db, username),
            lambda: validate_new_pin(pin, confirm_pin),
        )
    elif mode == "reset_pin":
        if not username.strip():
            errors.add("username", _("Enter your username."))
        _collect(errors, lambda: validate_new_pin(pin, confirm_pin))
    recovery_code = None
    if not errors:
        try:
            if mode == "create":
                participant, recovery_code = await off_loop(
                    create_account_by_claim,
                    db,
                    claim=claim,
                    username=username,
                    pin=pin,
                    confirm_pin=confirm_pin,
                    language=ctx.locale,
                )
                _sign_in(request, db, ctx, participant.id)
                set_device_cookie(request, ctx, participant.id)
            elif mode == "add" and ctx.participant is not None:
                link_enrollment(db, claim=claim, participant=ctx.participant)
            elif mode == "unseal" and ctx.participant is not None:
                link_enrollment(db, claim=claim, participant=ctx.participant)
                recovery.open_with_code(
                    db, participant=ctx.participant, enrollment=claim.enrollment
                )
            else:
                owner = await off_loop(
                    reset_pin_by_claim,
                    db,
                    claim=claim,
                    username=username,
                    pin=pin,
                    confirm_pin=confirm_pin,
                )
                _sign_in(request, db, ctx, owner.id)
                set_device_cookie(request, ctx, owner.id)
            db.commit()
        except CodeAlreadyUsed:
            # Sent twice at once (two tabs, or two people): the other request used the code.
            # The page before named its organization (the code worked then), so this one may.
            db.rollback()
            context["mode"] = "just_used"
            return render(request, "participants/claim.html", context, status_code=409)
        except FormError as exc:
            db.rollback()
            errors.add(exc.field, exc.message)
        except IntegrityError:
            # The same username chosen at the same moment in another request.
            db.rollback()
            errors.add("username", _("That username is taken. Choose another."))
    if errors:
        # A username that is taken or not the account's: counted, so a code can't be used
        # to find out which usernames exist.
        if errors.get("username") and (
            until := claim_failed(db, client=_client(request), code=code[:MAX_CODE])
        ):
            return _too_many_tries(request, until)
        context["values"] = {"username": username}  # answers are kept; PINs never are
        return render(request, "participants/claim.html", context, status_code=400)
    notice = {"reset_pin": "pin", "unseal": "opened"}.get(mode, "added")
    home = f"/?{notice}={claim.enrollment.id}#org-{claim.organization.slug}"
    if recovery_code is not None:
        # Shown in this answer only, never stored: a new account gets its recovery code here.
        return recovery_code_page(
            request, recovery_code, first=True, username=username.strip().lower(), next_url=home
        )
    return _redirect(request, home)


# --- the recovery code ----------------------------------------------------------------------


def recovery_code_page(
    request: Request, code: str, *, first: bool, username: str, next_url: str = "/"
) -> Response:
    """The recovery code, shown once (this response only; pages are never cached): to print
    or write down, with the username."""
    return render(
        request,
        "participants/recovery_code.html",
        {"recovery_code": code, "first": first, "username": username, "next_url": next_url},
    )


# --- log in, log out, quick exit ------------------------------------------------------------


def _locked_message(until: datetime, reason: str = "username") -> Markup:
    minutes = max(1, math.ceil((until - utcnow()).total_seconds() / 60))
    if reason == "client":
        text = _(
            "Too many wrong PINs were typed from here. For everyone's safety, logging in from "
            "this connection is paused until %(time)s (%(wait)s)."
        )
    elif reason == "overall":
        text = _(
            "Logging in is paused for a few minutes because of unusual activity. Try again "
            "at %(time)s (%(wait)s). A phone you have logged in with before still works."
        )
    else:  # the username's own lock, or a known device's
        text = _(
            "Too many wrong PINs. For your safety, logging in as this username is paused "
            "until %(time)s (%(wait)s)."
        )
    message = Markup.escape(text)
    wait = ngettext("in %(num)d minute", "in %(num)d minutes", minutes)
    return message % {"time": time_tag(until), "wait": wait}


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, ctx: WebContextDep) -> Response:
    if ctx.participant is not None:
        return RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    return render(
        request,
        "participants/login.html",
        {
            "errors": FormErrors(),
            "username": "",
            "next": safe_next(request.query_params.get("next")),
            "idle": ctx.idle_logged_out or request.query_params.get("idle") == "1",
        },
    )


@router.post("/login", response_class=HTMLResponse)
async def login_submit(
    request: Request,
    ctx: WebContextDep,
    db: SessionDep,
    username: str = Form(""),
    pin: str = Form(""),
    next: str = Form("/"),
) -> Response:
    username, pin = username[:MAX_USERNAME], pin[:MAX_PIN]
    errors = FormErrors()
    locked_until = None
    if not username.strip():
        errors.add("username", _("Enter your username."))
    if not pin:
        errors.add("pin", _("Enter your PIN."))
    if not errors:
        try:
            participant = await off_loop(
                authenticate,
                db,
                username=username,
                pin=pin,
                client=_client(request),
                device=request.cookies.get(DEVICE_COOKIE),
                secret_key=ctx.settings.secret_key,
            )
        except LockedOut as locked:
            locked_until = locked.until
            errors.add("pin", _locked_message(locked.until, locked.reason))
        else:
            if participant is None:
                errors.add("pin", _("The username or PIN is not right. Check them and try again."))
            else:
                _sign_in(request, db, ctx, participant.id)
                set_device_cookie(request, ctx, participant.id)
                db.commit()
                return _redirect(request, safe_next(next))
    return render(
        request,
        "participants/login.html",
        {
            "errors": errors,
            "username": username,
            "next": safe_next(next),
            "locked_until": locked_until,
        },
        status_code=429 if locked_until else 400,
    )


@router.post("/logout")
async def logout(request: Request, ctx: WebContextDep, db: SessionDep) -> Response:
    _sign_out(request, db, ctx)
    return _redirect(request, "/login?logged_out=1")


@router.get("/exit")
async def quick_exit(request: Request, ctx: WebContextDep, db: SessionDep) -> Response:
    """Quick exit: end the session and leave for a neutral site at once. A GET, so that it
    works as a plain link; the script replaces the history entry where it can."""
    _sign_out(request, db, ctx)
    # The language choice would say someone used the portal in this browser: forget it too.
    queue_cookie(_cookies(request), LANG_COOKIE, "", secure=ctx.settings.production, max_age=0)
    queue_cookie(_cookies(request), DEVICE_COOKIE, "", secure=ctx.settings.production, max_age=0)
    # And the browser is asked to forget the rest this site left behind: cached pages (which
    # Back could show again), cookies and storage.
    return RedirectResponse(
        ctx.settings.quick_exit_url,
        status_code=303,
        headers={"Clear-Site-Data": '"cache", "cookies", "storage"'},
    )
