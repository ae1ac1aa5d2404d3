"""The participant's pages: claim, log in and out, quick exit, home, show a sensitive value."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import select

from app.db import SessionDep
from app.holdings.models import Holding
from app.i18n import format_datetime
from app.i18n import gettext as _
from app.organizations.models import Purpose
from app.participants.home import build_home
from app.participants.models import Enrollment
from app.participants.service import (
    Claim,
    FormError,
    LockedOut,
    authenticate,
    create_account_by_claim,
    find_claim,
    link_enrollment,
    reset_pin_by_claim,
)
from app.security.sessions import end_session, start_session
from app.web.cookies import queue_cookie
from app.web.deps import SESSION_COOKIE, CurrentParticipant, WebContextDep, web_context
from app.web.forms import FormErrors, safe_next
from app.web.templating import is_htmx, render

router = APIRouter(dependencies=[Depends(web_context)])


def _sign_in(request: Request, db: SessionDep, ctx: WebContextDep, participant_id: str) -> None:
    if ctx.session_token:
        end_session(db, ctx.session_token)  # a fresh token at login: no session fixation
    token = start_session(db, kind="participant", participant_id=participant_id)
    queue_cookie(
        request.scope.setdefault("state", {}),
        SESSION_COOKIE,
        token,
        secure=ctx.settings.production,
    )


# --- home -----------------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, participant: CurrentParticipant, db: SessionDep) -> Response:
    page = build_home(db, participant.id)
    shown = request.query_params.get("show")
    return render(request, "participants/home.html", {"page": page, "shown": shown})


@router.get("/holdings/{holding_id}/value", response_class=HTMLResponse)
async def show_value(
    request: Request, holding_id: str, participant: CurrentParticipant, db: SessionDep
) -> Response:
    """Reveal a sensitive value: an HTMX swap, or without JavaScript the home page with the
    value shown in place."""
    row = db.exec(
        select(Holding, Purpose)
        .join(Enrollment, Enrollment.id == Holding.enrollment_id)  # type: ignore[arg-type]
        .join(Purpose, Purpose.id == Holding.purpose_id)  # type: ignore[arg-type]
        .where(Holding.id == holding_id, Enrollment.participant_id == participant.id)
    ).first()
    if row is None:
        raise HTTPException(status_code=404)
    holding, _purpose = row
    if not is_htmx(request):
        return RedirectResponse(f"/?show={holding.id}#holding-{holding.id}", status_code=303)
    return render(request, "participants/home.html", {"holding": holding}, block="revealed_value")


# --- claim ----------------------------------------------------------------------------------


@router.get("/claim", response_class=HTMLResponse)
async def claim_start(request: Request) -> Response:
    return render(request, "participants/claim_code.html", {"errors": FormErrors(), "code": ""})


@router.post("/claim", response_class=HTMLResponse)
async def claim_code_entered(request: Request, db: SessionDep, code: str = Form("")) -> Response:
    errors = FormErrors()
    if not code.strip():
        errors.add("code", _("Enter the code the organization gave you."))
    elif find_claim(db, code[:40]) is None:
        errors.add(
            "code", _("That code does not work. Check it, or ask the organization for a new one.")
        )
    if errors:
        return render(
            request,
            "participants/claim_code.html",
            {"errors": errors, "code": code[:40]},
            status_code=400,
        )
    return RedirectResponse(f"/claim/{code.strip()[:40]}", status_code=303)


def _claim_page(
    request: Request, ctx: WebContextDep, claim: Claim | None, code: str, **extra: object
) -> dict:
    mode = "invalid"
    if claim is not None:
        if claim.owner is not None:
            mode = (
                "already_yours"
                if ctx.participant and ctx.participant.id == claim.owner.id
                else "reset_pin"
            )
        else:
            mode = "add" if ctx.participant else "create"
    return {
        "claim": claim,
        "code": code,
        "mode": mode,
        "errors": FormErrors(),
        "values": {},
        **extra,
    }


@router.get("/claim/{code}", response_class=HTMLResponse)
async def claim_page(request: Request, code: str, ctx: WebContextDep, db: SessionDep) -> Response:
    claim = find_claim(db, code[:40])
    context = _claim_page(request, ctx, claim, code[:40])
    return render(request, "participants/claim.html", context, status_code=200 if claim else 404)


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
    claim = find_claim(db, code[:40])
    context = _claim_page(request, ctx, claim, code[:40])
    mode = context["mode"]
    if claim is None:
        return render(request, "participants/claim.html", context, status_code=404)
    try:
        if mode == "create":
            participant = create_account_by_claim(
                db,
                claim=claim,
                username=username[:100],
                pin=pin[:40],
                confirm_pin=confirm_pin[:40],
                language=ctx.locale,
            )
            _sign_in(request, db, ctx, participant.id)
        elif mode == "add" and ctx.participant is not None:
            link_enrollment(db, claim=claim, participant=ctx.participant)
        elif mode == "reset_pin":
            owner = reset_pin_by_claim(db, claim=claim, pin=pin[:40], confirm_pin=confirm_pin[:40])
            _sign_in(request, db, ctx, owner.id)
        else:
            return RedirectResponse("/", status_code=303)
    except FormError as exc:
        db.rollback()
        context["errors"].add(exc.field, exc.message)
        context["values"] = {"username": username[:100]}
        return render(request, "participants/claim.html", context, status_code=400)
    db.commit()
    return RedirectResponse(
        f"/?added={claim.enrollment.id}#org-{claim.organization.slug}", status_code=303
    )


# --- log in, log out, quick exit ------------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, ctx: WebContextDep) -> Response:
    if ctx.participant is not None:
        return RedirectResponse("/", status_code=303)
    return render(
        request,
        "participants/login.html",
        {
            "errors": FormErrors(),
            "username": "",
            "next": safe_next(request.query_params.get("next")),
            "idle": ctx.idle_logged_out,
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
    errors = FormErrors()
    locked_until = None
    if not username.strip():
        errors.add("username", _("Enter your username."))
    if not pin:
        errors.add("pin", _("Enter your PIN."))
    if not errors:
        try:
            participant = authenticate(db, username=username[:100], pin=pin[:40])
        except LockedOut as locked:
            participant = None
            locked_until = locked.until
            errors.add(
                "pin",
                _(
                    "Too many wrong PINs. For your safety, logging in as this username is paused "
                    "until %(time)s.",
                    time=format_datetime(locked.until, "short"),
                ),
            )
        else:
            if participant is None:
                errors.add("pin", _("The username or PIN is not right. Check them and try again."))
        if participant is not None:
            _sign_in(request, db, ctx, participant.id)
            db.commit()
            return RedirectResponse(safe_next(next), status_code=303)
    return render(
        request,
        "participants/login.html",
        {
            "errors": errors,
            "username": username[:100],
            "next": safe_next(next),
            "locked_until": locked_until,
        },
        status_code=429 if locked_until else 400,
    )


@router.post("/logout")
async def logout(request: Request, ctx: WebContextDep, db: SessionDep) -> Response:
    if ctx.session_token:
        end_session(db, ctx.session_token)
        db.commit()
    queue_cookie(
        request.scope.setdefault("state", {}),
        SESSION_COOKIE,
        "",
        secure=ctx.settings.production,
        max_age=0,
    )
    return RedirectResponse("/login?logged_out=1", status_code=303)


@router.get("/exit")
async def quick_exit(request: Request, ctx: WebContextDep, db: SessionDep) -> Response:
    """Quick exit: end the session and leave for a neutral site at once. A GET, so that it
    works as a plain link; the script replaces the history entry where it can."""
    if ctx.session_token:
        end_session(db, ctx.session_token)
        db.commit()
    queue_cookie(
        request.scope.setdefault("state", {}),
        SESSION_COOKIE,
        "",
        secure=ctx.settings.production,
        max_age=0,
    )
    return RedirectResponse(ctx.settings.quick_exit_url, status_code=303)
